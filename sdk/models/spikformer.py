"""spikformer: the LIF spiking transformer of seed 001, in one file.

Queries, keys and the FFN's hidden layer are LIF spike trains over ``timesteps``
per token; each spike site passes on its firing rate (spike count / timesteps), so
attention scores and the FFN's second matmul are driven by spikes alone. Values and
the residual stream stay dense. Decoding carries a KV cache; positions past
``max_seq_len`` are clamped to the last one, as in seed 003.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .spikes import SpikeRecorder, lif_spikes


@dataclass
class SpikformerConfig:
    vocab_size: int = 50257
    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 4
    ffn_expand: int = 4
    timesteps: int = 4
    beta: float = 0.9
    threshold: float = 1.0
    surrogate_k: float = 10.0
    max_seq_len: int = 256


SpikformerState = tuple[torch.Tensor]  # (kv [L, 2, B, H, T, Dh],)


class SpikformerBlock(nn.Module):
    def __init__(self, cfg: SpikformerConfig):
        super().__init__()
        d = cfg.d_model
        self.cfg = cfg
        self.ln1 = nn.LayerNorm(d)
        self.q_proj = nn.Linear(d, d)
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.o_proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.w1 = nn.Linear(d, d * cfg.ffn_expand)
        self.w2 = nn.Linear(d * cfg.ffn_expand, d)

    def rates(self, current: torch.Tensor) -> torch.Tensor:
        c = self.cfg
        return lif_spikes(current, c.timesteps, c.beta, c.threshold, c.surrogate_k)


class Spikformer(SpikeRecorder, nn.Module):
    model_type = "spikformer"

    def __init__(self, cfg: SpikformerConfig):
        super().__init__()
        if cfg.d_model % cfg.n_heads:
            raise ValueError(f"d_model ({cfg.d_model}) must be divisible by n_heads ({cfg.n_heads})")
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_embed = nn.Embedding(cfg.max_seq_len, cfg.d_model)
        self.layers = nn.ModuleList(SpikformerBlock(cfg) for _ in range(cfg.n_layers))
        self.ln_out = nn.LayerNorm(cfg.d_model)
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.pos_embed.weight, std=0.02)

    @property
    def head_dim(self) -> int:
        return self.cfg.d_model // self.cfg.n_heads

    def init_state(self, batch: int) -> SpikformerState:
        c = self.cfg
        w = self.embed.weight
        return (torch.zeros(c.n_layers, 2, batch, c.n_heads, 0, self.head_dim, device=w.device, dtype=w.dtype),)

    def head(self, h: torch.Tensor) -> torch.Tensor:
        return F.linear(self.ln_out(h), self.embed.weight)

    def hidden(self, input_ids: torch.Tensor, state: SpikformerState | None = None):
        """Final hidden states [B,T,D] and the KV cache extended by this sequence."""
        c = self.cfg
        B, T = input_ids.shape
        (cache,) = state if state is not None else self.init_state(B)
        past = cache.shape[-2]
        pos = torch.arange(past, past + T, device=input_ids.device).clamp(max=c.max_seq_len - 1)
        x = self.embed(input_ids) + self.pos_embed(pos)
        keep = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(diagonal=past)
        new_cache = []
        for i, blk in enumerate(self.layers):
            xn = blk.ln1(x)
            q_trains = blk.rates(blk.q_proj(xn))
            k_trains = blk.rates(blk.k_proj(xn))
            self._record(f"layer{i}.q", q_trains, past + T)
            self._record(f"layer{i}.k", k_trains, T)
            q = self._heads(q_trains.mean(0))
            k = self._heads(k_trains.mean(0))
            v = self._heads(blk.v_proj(xn))
            k = torch.cat([cache[i, 0], k], dim=-2)
            v = torch.cat([cache[i, 1], v], dim=-2)
            att = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
            x = x + blk.o_proj(att.transpose(1, 2).reshape(B, T, c.d_model))
            h_trains = blk.rates(blk.w1(blk.ln2(x)))
            self._record(f"layer{i}.ffn", h_trains, c.d_model)
            x = x + blk.w2(h_trains.mean(0))
            new_cache.append(torch.stack([k, v]))
        self._count_tokens(B * T)
        return x, (torch.stack(new_cache),)

    def _heads(self, t: torch.Tensor) -> torch.Tensor:
        B, T, _ = t.shape
        return t.view(B, T, self.cfg.n_heads, self.head_dim).transpose(1, 2)

    def prefill(self, input_ids: torch.Tensor, state: SpikformerState | None = None):
        h, state = self.hidden(input_ids, state)
        return self.head(h), state

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.prefill(input_ids)[0]

    def step(self, token: torch.Tensor, state: SpikformerState):
        """One token per sequence: token [B] -> logits [B,V] and the extended cache."""
        logits, state = self.prefill(token[:, None], state)
        return logits[:, 0], state
