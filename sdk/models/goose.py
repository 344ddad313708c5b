"""goose: the ternary-spiking RWKV-style student of seed 002, in one file.

Each layer is a time-mix block (token shift, ternary-spiking key and value, sigmoid
receptance, a per-channel exponential-decay linear recurrence) followed by a SiLU FFN.
The embedding and the head are tied. Decoding carries O(1) state per layer: the last
normalised input (for the token shift) and the recurrence accumulator.

Unlike the seed there is no learned position table: the recurrence and the token
shift carry order, and a table would cap the context a stream can run for.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .spikes import SpikeRecorder, ternary_spike


@dataclass
class GooseConfig:
    vocab_size: int = 50257
    d_model: int = 256
    n_layers: int = 4
    ffn_expand: int = 4
    spike_alpha: float = 1.0
    # Training window; decoding runs past it (the state does not grow).
    max_seq_len: int = 256
    scan_chunk: int = 64
    # LayerNorm on the recurrence output before output_proj (RWKV's ln_x); keeps the
    # accumulator's growth with context out of the residual stream.
    wkv_norm: bool = False


GooseState = tuple[torch.Tensor, torch.Tensor]  # (shift [L,B,D], wkv [L,B,D])


def decay_scan(x: torch.Tensor, log_decay: torch.Tensor, state: torch.Tensor, chunk: int) -> torch.Tensor:
    """``S_t = w * S_{t-1} + x_t`` for every t at once, starting from ``state``.

    The seed's ``cumsum(x / w^t) * w^t`` overflows once ``w^-t`` leaves float range
    (about 100 tokens in fp32). Here every power of ``w`` has a non-negative exponent:
    the sequence is cut into chunks, each chunk is a lower-triangular decay matmul,
    and the chunk carries are combined by a second, smaller one. The scan runs in at
    least fp32 whatever the input dtype. x: [B,T,D]; log_decay: [D]; state: [B,D]. Returns [B,T,D].
    """
    with torch.autocast(device_type=x.device.type, enabled=False):  # autocast would run the matmuls in bf16
        return _decay_scan(x, log_decay, state, chunk)


def _decay_scan(x: torch.Tensor, log_decay: torch.Tensor, state: torch.Tensor, chunk: int) -> torch.Tensor:
    B, T, D = x.shape
    dtype = x.dtype
    work = torch.promote_types(dtype, torch.float32)
    x = x.to(work)
    log_w = log_decay.to(work)
    pad = (-T) % chunk
    n_chunks = (T + pad) // chunk
    xc = F.pad(x, (0, 0, 0, pad)).view(B, n_chunks, chunk, D)

    i = torch.arange(chunk, device=x.device, dtype=work)
    lag = i[:, None] - i[None, :]
    intra_w = torch.exp(lag.clamp(min=0)[..., None] * log_w) * (lag >= 0)[..., None]
    intra = torch.einsum("ijd,bnjd->bnid", intra_w, xc)

    n = torch.arange(n_chunks, device=x.device, dtype=work)
    chunk_lag = n[:, None] - n[None, :] - 1
    inter_w = torch.exp(chunk_lag.clamp(min=0)[..., None] * (chunk * log_w)) * (chunk_lag >= 0)[..., None]
    carry = torch.einsum("nmd,bmd->bnd", inter_w, intra[:, :, -1])
    carry = carry + torch.exp(n[:, None] * (chunk * log_w)) * state.to(work)[:, None]

    s = intra + torch.exp((i + 1)[:, None] * log_w) * carry[:, :, None]
    return s.reshape(B, n_chunks * chunk, D)[:, :T].to(dtype)


class GooseTimeMix(nn.Module):
    def __init__(self, cfg: GooseConfig, layer_idx: int):
        super().__init__()
        d = cfg.d_model
        self.cfg = cfg
        self.ln = nn.LayerNorm(d)
        ratio = layer_idx / max(cfg.n_layers - 1, 1)
        self.time_mix_k = nn.Parameter(torch.full((d,), 1.0 - ratio))
        self.time_mix_v = nn.Parameter(torch.full((d,), 1.0 - ratio))
        self.time_mix_r = nn.Parameter(torch.full((d,), 1.0 - ratio))
        self.decay_weight = nn.Parameter(torch.full((d,), -0.5))
        self.key_proj = nn.Linear(d, d, bias=False)
        self.value_proj = nn.Linear(d, d, bias=False)
        self.receptance_proj = nn.Linear(d, d, bias=False)
        self.output_proj = nn.Linear(d, d, bias=False)
        self.ln_x = nn.LayerNorm(d) if cfg.wkv_norm else nn.Identity()
        for m in (self.key_proj, self.value_proj, self.receptance_proj, self.output_proj):
            nn.init.normal_(m.weight, std=0.1 / math.sqrt(d))

    def mix(self, xn: torch.Tensor, prev: torch.Tensor):
        """Token shift, spikes and receptance; shared by the parallel and the step form."""
        xk = xn * self.time_mix_k + prev * (1 - self.time_mix_k)
        xv = xn * self.time_mix_v + prev * (1 - self.time_mix_v)
        xr = xn * self.time_mix_r + prev * (1 - self.time_mix_r)
        k = ternary_spike(self.key_proj(xk), self.cfg.spike_alpha)
        v = ternary_spike(self.value_proj(xv), self.cfg.spike_alpha)
        r = torch.sigmoid(self.receptance_proj(xr))
        return k, v, r

    def log_decay(self) -> torch.Tensor:
        return F.logsigmoid(self.decay_weight)


class GooseFFN(nn.Module):
    def __init__(self, cfg: GooseConfig):
        super().__init__()
        self.ln = nn.LayerNorm(cfg.d_model)
        self.w1 = nn.Linear(cfg.d_model, cfg.d_model * cfg.ffn_expand, bias=False)
        self.w2 = nn.Linear(cfg.d_model * cfg.ffn_expand, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.w2(F.silu(self.w1(self.ln(x))))


class GooseBlock(nn.Module):
    def __init__(self, cfg: GooseConfig, layer_idx: int):
        super().__init__()
        self.rec = GooseTimeMix(cfg, layer_idx)
        self.ffn = GooseFFN(cfg)


class Goose(SpikeRecorder, nn.Module):
    model_type = "goose"

    def __init__(self, cfg: GooseConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.layers = nn.ModuleList(GooseBlock(cfg, i) for i in range(cfg.n_layers))
        self.ln_out = nn.LayerNorm(cfg.d_model)
        nn.init.normal_(self.embed.weight, std=0.02)

    def init_state(self, batch: int) -> GooseState:
        shape = (self.cfg.n_layers, batch, self.cfg.d_model)
        w = self.embed.weight
        return torch.zeros(shape, device=w.device, dtype=w.dtype), torch.zeros(shape, device=w.device, dtype=w.dtype)

    def head(self, h: torch.Tensor) -> torch.Tensor:
        return F.linear(self.ln_out(h), self.embed.weight)

    def hidden(self, input_ids: torch.Tensor, state: GooseState | None = None) -> tuple[torch.Tensor, GooseState]:
        """Final hidden states [B,T,D] for a whole sequence, and the state after its last token."""
        B, T = input_ids.shape
        shift, wkv = state if state is not None else self.init_state(B)
        x = self.embed(input_ids)
        new_shift, new_wkv = [], []
        for i, layer in enumerate(self.layers):
            rec = layer.rec
            xn = rec.ln(x)
            prev = torch.cat([shift[i].unsqueeze(1).to(xn.dtype), xn[:, :-1]], dim=1)
            k, v, r = rec.mix(xn, prev)
            self._record(f"layer{i}.k", k, 1)
            self._record(f"layer{i}.v", v, 1)
            s = decay_scan(k * v, rec.log_decay(), wkv[i], self.cfg.scan_chunk)
            x = x + r * rec.output_proj(rec.ln_x(s))
            x = layer.ffn(x)
            new_shift.append(xn[:, -1])
            new_wkv.append(s[:, -1].to(wkv.dtype))
        self._count_tokens(B * T)
        return x, (torch.stack(new_shift), torch.stack(new_wkv))

    def prefill(self, input_ids: torch.Tensor, state: GooseState | None = None) -> tuple[torch.Tensor, GooseState]:
        h, state = self.hidden(input_ids, state)
        return self.head(h), state

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.prefill(input_ids)[0]

    def step(self, token: torch.Tensor, state: GooseState) -> tuple[torch.Tensor, GooseState]:
        """One token per sequence: token [B] -> logits [B,V] and the next state."""
        shift, wkv = state
        x = self.embed(token)
        new_shift, new_wkv = [], []
        for i, layer in enumerate(self.layers):
            rec = layer.rec
            xn = rec.ln(x)
            k, v, r = rec.mix(xn, shift[i])
            self._record(f"layer{i}.k", k, 1)
            self._record(f"layer{i}.v", v, 1)
            s = torch.exp(rec.log_decay()) * wkv[i] + k * v
            x = x + r * rec.output_proj(rec.ln_x(s))
            x = layer.ffn(x)
            new_shift.append(xn)
            new_wkv.append(s)
        self._count_tokens(token.shape[0])
        return self.head(x), (torch.stack(new_shift), torch.stack(new_wkv))
