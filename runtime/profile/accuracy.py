"""Perplexity and next-token accuracy of a bundle on given text."""
from __future__ import annotations

import numpy as np

from ..model import Model


def accuracy(model: Model, text: str, window: int = 128, max_windows: int = 32) -> dict:
    ids = model.tokenizer.encode(text).ids
    if len(ids) < 2:
        raise ValueError("profile_accuracy needs at least two tokens of text")
    window = min(window, model.context_limit or window, len(ids))
    nll, hits, n = 0.0, 0, 0
    for start in range(0, len(ids) - 1, window)[:max_windows]:
        chunk = ids[start:start + window + 1]
        if len(chunk) < 2:
            break
        logits, _ = model.prefill(chunk[:-1], model.new_state())
        z = logits[0] - logits[0].max(-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        target = np.asarray(chunk[1:])
        nll -= float(logp[np.arange(len(target)), target].sum())
        hits += int((logits[0].argmax(-1) == target).sum())
        n += len(target)
    return {"accuracy": hits / n, "perplexity": float(np.exp(nll / n)), "tokens": n}
