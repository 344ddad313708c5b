"""Energy per token estimated from spike counts measured while the model reads real text.

An operation driven by a spike input is an accumulate (AC); one driven by a dense input is a
multiply-accumulate (MAC). energy = MACs · E_MAC + ACs · E_AC, compared with the *dense twin*:
the same network with every spike site replaced by its dense activation (all MACs, no LIF
updates). Default energies: Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm —
fp32 MAC 4.6 pJ (3.7 mult + 0.9 add), fp32 AC 0.9 pJ; int8 MAC 0.23 pJ (0.2 + 0.03), int8 AC
0.03 pJ. Memory traffic is not counted (it dominates on real hardware; see perf/README.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..model import Model, load
from .text import prompt_ids

ENERGY_PJ = {"fp32": {"mac": 4.6, "ac": 0.9}, "int8": {"mac": 0.23, "ac": 0.03}}


@dataclass
class SpikeCounter:
    """numpy twin of the sdk's SpikeStats: spikes, sites and synaptic ops per site."""

    sites: dict[str, list[int]] = field(default_factory=dict)  # name -> [sites, spikes, synaptic_ops]

    def __call__(self, name: str, counts: np.ndarray, fan_out: int, timesteps: int = 1) -> None:
        spikes = int(np.count_nonzero(counts)) if timesteps == 1 else int(counts.sum())
        row = self.sites.setdefault(name, [0, 0, 0])
        row[0] += counts.size * timesteps
        row[1] += spikes
        row[2] += spikes * fan_out

    def density(self, name: str) -> float:
        sites, spikes, _ = self.sites[name]
        return spikes / sites if sites else 0.0


def _goose_ops(cfg: dict, c: SpikeCounter, tokens: int, vocab: int) -> list[dict]:
    d, f = cfg["d_model"], cfg["d_model"] * cfg["ffn_expand"]
    rows = []
    for i in range(cfg["n_layers"]):
        k_nnz = c.sites[f"layer{i}.k"][1] / tokens
        rows += [
            {"layer": i, "op": "k/v/r/out projections", "snn_mac": 4 * d * d, "snn_ac": 0, "dense_mac": 4 * d * d},
            {"layer": i, "op": "k·v (spike-driven)", "snn_mac": 0, "snn_ac": k_nnz, "dense_mac": d},
            {"layer": i, "op": "decay recurrence", "snn_mac": d, "snn_ac": 0, "dense_mac": d},
            {"layer": i, "op": "FFN", "snn_mac": 2 * d * f, "snn_ac": 0, "dense_mac": 2 * d * f},
        ]
    return rows + [{"layer": "head", "op": "tied head", "snn_mac": vocab * d, "snn_ac": 0, "dense_mac": vocab * d}]


def _spikformer_ops(cfg: dict, c: SpikeCounter, tokens: int, vocab: int, keys: float) -> list[dict]:
    d, f, t = cfg["d_model"], cfg["d_model"] * cfg["ffn_expand"], cfg["timesteps"]
    rows = []
    for i in range(cfg["n_layers"]):
        rows += [
            {"layer": i, "op": "q/k/v/o projections", "snn_mac": 4 * d * d, "snn_ac": 0, "dense_mac": 4 * d * d},
            {"layer": i, "op": "LIF membrane updates", "snn_mac": t * (2 * d + f), "snn_ac": 0, "dense_mac": 0},
            {"layer": i, "op": "q·kᵀ (spike-driven)", "snn_mac": 0,
             "snn_ac": c.sites[f"layer{i}.q"][2] / tokens, "dense_mac": d * keys},
            {"layer": i, "op": "attention·v", "snn_mac": d * keys, "snn_ac": 0, "dense_mac": d * keys},
            {"layer": i, "op": "FFN w1", "snn_mac": d * f, "snn_ac": 0, "dense_mac": d * f},
            {"layer": i, "op": "FFN w2 (spike-driven)", "snn_mac": 0,
             "snn_ac": c.sites[f"layer{i}.ffn"][2] / tokens, "dense_mac": f * d},
        ]
    return rows + [{"layer": "head", "op": "tied head", "snn_mac": vocab * d, "snn_ac": 0, "dense_mac": vocab * d}]


def energy(model: Model | str | Path, tokens: int = 256, text: str | None = None, precision: str = "int8",
           energy_pj: dict | None = None) -> dict:
    """Per-layer operation counts and µJ/token from spikes measured on ``tokens`` tokens of text."""
    if not isinstance(model, Model):
        model = load(model, backend="numpy")
    if model.backend_name != "numpy":
        model = load(model.bundle.path, backend="numpy", verify=False)
    table = {**ENERGY_PJ[precision], **(energy_pj or {})}
    cfg = model.manifest.model_config
    limit = model.context_limit or tokens
    ids = prompt_ids(model.tokenizer, min(tokens, limit), text)
    counter = SpikeCounter()
    model.backend.spike_recorder = counter
    try:
        model.prefill(ids, model.new_state())
    finally:
        model.backend.spike_recorder = None
    n = len(ids)
    if model.manifest.model_type == "goose":
        rows = _goose_ops(cfg, counter, n, model.manifest.vocab_size)
    else:
        rows = _spikformer_ops(cfg, counter, n, model.manifest.vocab_size, keys=(n + 1) / 2)
    for r in rows:
        r["snn_uj"] = (r["snn_mac"] * table["mac"] + r["snn_ac"] * table["ac"]) * 1e-6
        r["dense_uj"] = r["dense_mac"] * table["mac"] * 1e-6
    snn, dense = sum(r["snn_uj"] for r in rows), sum(r["dense_uj"] for r in rows)
    spikes = sum(s[1] for s in counter.sites.values())
    sites = sum(s[0] for s in counter.sites.values())
    return {
        "model": model.manifest.name, "model_type": model.manifest.model_type, "tokens": n, "precision": precision,
        "energy_pj": table, "rows": rows, "snn_uj_per_token": snn, "dense_uj_per_token": dense,
        "dense_over_snn": dense / snn if snn else None, "spike_density": spikes / sites if sites else 0.0,
        "site_density": {k: counter.density(k) for k in counter.sites},
    }


def plot_energy(report: dict, path: str | Path) -> Path:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("--plot needs matplotlib: pip install matplotlib") from None
    layers = list(dict.fromkeys(str(r["layer"]) for r in report["rows"]))
    snn = [sum(r["snn_uj"] for r in report["rows"] if str(r["layer"]) == lay) for lay in layers]
    dense = [sum(r["dense_uj"] for r in report["rows"] if str(r["layer"]) == lay) for lay in layers]
    x = np.arange(len(layers))
    fig, ax = plt.subplots(figsize=(max(5, len(layers) * 1.1), 3.6))
    ax.bar(x - 0.2, snn, 0.4, label="spiking")
    ax.bar(x + 0.2, dense, 0.4, label="dense twin")
    ax.set_xticks(x, [f"layer {lay}" if lay != "head" else "head" for lay in layers])
    ax.set(ylabel="µJ / token", title=f"compute energy per token ({report['precision']}): "
                                      f"dense/spiking = {report['dense_over_snn']:.2f}×")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
