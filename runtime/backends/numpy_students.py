"""The students' inference math in numpy, mirroring ``spikelite.sdk.models`` line for line.

Same state layout and names as the exported graphs (goose: ``shift``/``wkv`` [L,B,D];
spikformer: ``kv`` [L,2,B,H,P,Dh]), so states move freely between backends. A parity
test pins each function to its torch twin. ``rec(name, spike_counts, fan_out, timesteps)``, when given,
counts spikes the way ``spikelite.sdk.models.SpikeStats`` does, for the energy profiler.
"""
from __future__ import annotations

import numpy as np

from .numpy_ops import layer_norm, lif_rates, linear, log_sigmoid, sigmoid, silu, ternary_spike


def goose_forward(p: dict, cfg: dict, ids: np.ndarray, state: dict[str, np.ndarray], rec=None):
    """ids [B,T] -> logits [B,T,V] and the next state; T=1 is the decode step."""
    shift, wkv = state["shift"], state["wkv"]
    x = p["embed.weight"][ids]
    new_shift, new_wkv = np.empty_like(shift), np.empty_like(wkv)
    for i in range(cfg["n_layers"]):
        pre = f"layers.{i}.rec"
        xn = layer_norm(x, p, f"{pre}.ln")
        prev = np.concatenate([shift[i][:, None], xn[:, :-1]], axis=1)
        mk, mv, mr = (p[f"{pre}.time_mix_{c}"] for c in "kvr")
        k = ternary_spike(linear(xn * mk + prev * (1 - mk), p, f"{pre}.key_proj"), cfg["spike_alpha"])
        v = ternary_spike(linear(xn * mv + prev * (1 - mv), p, f"{pre}.value_proj"), cfg["spike_alpha"])
        r = sigmoid(linear(xn * mr + prev * (1 - mr), p, f"{pre}.receptance_proj"))
        if rec is not None:
            rec(f"layer{i}.k", k, 1)
            rec(f"layer{i}.v", v, 1)
        decay = np.exp(log_sigmoid(p[f"{pre}.decay_weight"])).astype(np.float32)
        kv = k * v
        s = np.empty_like(kv)
        acc = wkv[i]
        for t in range(kv.shape[1]):  # O(B·D) per token; the matmuls above ran for all tokens at once
            acc = decay * acc + kv[:, t]
            s[:, t] = acc
        if cfg.get("wkv_norm"):
            s_out = layer_norm(s, p, f"{pre}.ln_x")
        else:
            s_out = s
        x = x + r * linear(s_out, p, f"{pre}.output_proj")
        f = f"layers.{i}.ffn"
        x = x + linear(silu(linear(layer_norm(x, p, f"{f}.ln"), p, f"{f}.w1")), p, f"{f}.w2")
        new_shift[i] = xn[:, -1]
        new_wkv[i] = acc
    return layer_norm(x, p, "ln_out") @ p["embed.weight"].T, {"shift": new_shift, "wkv": new_wkv}


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def spikformer_forward(p: dict, cfg: dict, ids: np.ndarray, state: dict[str, np.ndarray], rec=None):
    cache = state["kv"]
    B, T = ids.shape
    L, _, _, H, past, Dh = cache.shape
    pos = np.minimum(np.arange(past, past + T), cfg["max_seq_len"] - 1)
    x = p["embed.weight"][ids] + p["pos_embed.weight"][pos]
    keep = np.tril(np.ones((T, past + T), dtype=bool), k=past)
    lif = (cfg["timesteps"], cfg["beta"], cfg["threshold"])

    def heads(t):
        return t.reshape(B, T, H, Dh).transpose(0, 2, 1, 3)

    new_cache = np.empty((L, 2, B, H, past + T, Dh), np.float32)
    for i in range(L):
        b = f"layers.{i}"
        xn = layer_norm(x, p, f"{b}.ln1")
        q = heads(lif_rates(linear(xn, p, f"{b}.q_proj"), *lif))
        if rec is not None:  # a rate k/T is k spikes over the T timesteps
            rec(f"layer{i}.q", q * lif[0], past + T, lif[0])
        k = np.concatenate([cache[i, 0], heads(lif_rates(linear(xn, p, f"{b}.k_proj"), *lif))], axis=2)
        v = np.concatenate([cache[i, 1], heads(linear(xn, p, f"{b}.v_proj"))], axis=2)
        scores = np.where(keep, q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(Dh)), -np.inf)
        att = (_softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(B, T, H * Dh)
        x = x + linear(att, p, f"{b}.o_proj")
        h = lif_rates(linear(layer_norm(x, p, f"{b}.ln2"), p, f"{b}.w1"), *lif)
        if rec is not None:
            rec(f"layer{i}.ffn", h * lif[0], cfg["d_model"], lif[0])
        x = x + linear(h, p, f"{b}.w2")
        new_cache[i, 0], new_cache[i, 1] = k, v
    return layer_norm(x, p, "ln_out") @ p["embed.weight"].T, {"kv": new_cache}


STUDENTS = {"goose": goose_forward, "spikformer": spikformer_forward}
