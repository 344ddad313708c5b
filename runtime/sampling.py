"""Next-token choice from logits: greedy, temperature, top-k, top-p, repetition penalty."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from .errors import GenerationError


_GREEDY_BELOW = 1e-5


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.8  # 0 (or below 1e-5) means greedy
    top_k: int | None = 40
    top_p: float | None = 0.95
    repetition_penalty: float = 1.0
    seed: int | None = None

    def __post_init__(self):
        if not np.isfinite(self.temperature) or self.temperature < 0:
            raise GenerationError(f"temperature must be >= 0 (0 = greedy), got {self.temperature}")
        if self.top_k is not None and self.top_k < 1:
            raise GenerationError(f"top_k must be >= 1 or None, got {self.top_k}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise GenerationError(f"top_p must be in (0, 1], got {self.top_p}")
        if not self.repetition_penalty > 0:
            raise GenerationError(f"repetition_penalty must be > 0 (1 = off), got {self.repetition_penalty}")


def choose(logits: np.ndarray, p: SamplingParams, rng: np.random.Generator, seen: Collection[int] = ()) -> int:
    """One token id from ``logits [V]``; ``seen`` (distinct ids so far) feeds the repetition penalty (CTRL's rule)."""
    z = logits.astype(np.float64, copy=True)
    if p.repetition_penalty != 1.0:
        ids = np.fromiter(seen, dtype=np.int64, count=len(seen))
        if ids.size:
            z[ids] = np.where(z[ids] > 0, z[ids] / p.repetition_penalty, z[ids] * p.repetition_penalty)
    if p.temperature < _GREEDY_BELOW:  # dividing by a subnormal temperature overflows to inf - inf
        return int(np.argmax(z))
    z /= p.temperature
    if p.top_k is not None and p.top_k < z.size:
        cut = np.partition(z, -p.top_k)[-p.top_k]
        z[z < cut] = -np.inf
    probs = np.exp(z - z.max())
    probs /= probs.sum()
    if p.top_p is not None and p.top_p < 1:
        order = np.argsort(-probs, kind="stable")
        cum = np.cumsum(probs[order])
        keep = order[: int(np.searchsorted(cum, p.top_p)) + 1]
        mask = np.zeros_like(probs)
        mask[keep] = probs[keep]
        probs = mask / mask.sum()
    return int(rng.choice(probs.size, p=probs))
