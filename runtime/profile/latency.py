"""Latency: load time, time to first token, per-token decode latency and its percentiles.

Decoding is greedy (argmax) so every run does the same work; the first ``warmup`` runs
are discarded; rates are medians over runs with their spread.
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from ..model import Model, load
from .device import device_info
from .stats import peak_rss_mb, summarize_ms
from .text import prompt_ids


def _as_model(model: Model | str | Path, backend: str, threads: int | None) -> tuple[Model, float | None]:
    if isinstance(model, Model):
        return model, None
    t = time.perf_counter()
    m = load(model, backend=backend, threads=threads)
    return m, time.perf_counter() - t


def decode_run(model: Model, prompt: list[int], new_tokens: int) -> tuple[float, float, list[float]]:
    """One greedy run: (prefill seconds, time to first token, per-token decode seconds)."""
    t0 = time.perf_counter()
    logits, state = model.prefill(prompt, model.new_state())
    prefill_s = time.perf_counter() - t0
    token = int(np.argmax(logits[0, -1]))
    ttft = time.perf_counter() - t0
    steps = []
    for _ in range(new_tokens - 1):
        t = time.perf_counter()
        logits, state = model.decode(token, state)
        token = int(np.argmax(logits[0]))
        steps.append(time.perf_counter() - t)
    return prefill_s, ttft, steps


def latency(model: Model | str | Path, prompt_tokens: int = 128, new_tokens: int = 128, runs: int = 5,
            warmup: int = 1, threads: int | None = None, backend: str = "auto", text: str | None = None) -> dict:
    model, load_s = _as_model(model, backend, threads)
    if prompt_tokens < 1 or new_tokens < 2 or runs < 1 or warmup < 0:
        raise ValueError("need prompt_tokens >= 1, new_tokens >= 2, runs >= 1, warmup >= 0")
    prompt = prompt_ids(model.tokenizer, prompt_tokens, text)
    for _ in range(warmup):
        decode_run(model, prompt, new_tokens)
    prefills, ttfts, steps, rates, last = [], [], [], [], []
    for _ in range(runs):
        p, f, s = decode_run(model, prompt, new_tokens)
        prefills.append(p)
        ttfts.append(f)
        steps.extend(s)
        rates.append(len(s) / sum(s))
        last = s
    return {
        "backend": model.backend_name, "threads": threads, "prompt_tokens": prompt_tokens, "new_tokens": new_tokens,
        "runs": runs, "warmup": warmup, "load_s": load_s,
        "ttft": summarize_ms(ttfts), "decode": summarize_ms(steps),
        "prefill_tokens_per_s": prompt_tokens / statistics.median(prefills),
        "decode_tokens_per_s": statistics.median(rates),
        "decode_tokens_per_s_spread": [min(rates), max(rates)],
        "peak_rss_mb": peak_rss_mb(), "bundle_bytes": sum(f["bytes"] for f in model.manifest.files.values()),
        "model": model.manifest.name, "model_type": model.manifest.model_type, "device": device_info(),
        "last_run_ms": [s * 1e3 for s in last],
    }


def plot_latency(report: dict, path: str | Path) -> Path:
    """Per-token latency over the last run and the histogram over all runs."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("--plot needs matplotlib: pip install matplotlib") from None
    ms = report["last_run_ms"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.6))
    a.plot(range(1, len(ms) + 1), ms, lw=1)
    a.axhline(report["decode"]["p50_ms"], ls="--", c="gray", label=f"p50 {report['decode']['p50_ms']:.2f} ms")
    a.set(xlabel="generated token", ylabel="ms", title=f"decode latency ({report['backend']})")
    a.legend()
    b.hist(ms, bins=40)
    b.axvline(report["decode"]["p95_ms"], ls="--", c="red", label=f"p95 {report['decode']['p95_ms']:.2f} ms")
    b.set(xlabel="ms per token", ylabel="tokens", title="histogram")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
