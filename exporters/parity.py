"""How far a bundle's outputs are from its float model, measured on held-out text.

Prefill figures compare logits position by position on whole windows (top-1 agreement,
perplexity of both and its relative change, max logit error); the decode figure feeds
the same tokens one at a time through the decode graph and the float ``step``.

Raw top-1 agreement is dominated by near-ties in small students: where the float model's
two best tokens are within ``DECIDED_MARGIN`` of probability, any rounding picks either
(measured: 23-29 % of positions on the test students, where even weight-only int8 agrees
on only 98 %). ``top1_agreement_decided`` counts the positions where the float model has
a preference; thresholds apply to it, and both figures are reported.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from spikelite.runtime.backends.base import Backend

DECIDED_MARGIN = 0.05


def _top2_margin(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(-1, keepdims=True))
    top2 = np.sort(z / z.sum(-1, keepdims=True), -1)[..., -2:]
    return top2[..., 1] - top2[..., 0]


def _nll(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return -np.take_along_axis(logp, targets[..., None], -1)[..., 0]


def measure_parity(backend: Backend, model: nn.Module, windows: list[list[int]], decode_tokens: int = 64) -> dict:
    model = model.float().eval()
    agree = total = decided = decided_agree = 0
    nll_ref, nll_got, max_err = [], [], 0.0
    for ids in windows:
        x = np.asarray([ids], np.int64)
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        got, _ = backend.prefill(x, backend.init_state(1))
        same = ref.argmax(-1) == got.argmax(-1)
        clear = _top2_margin(ref) >= DECIDED_MARGIN
        agree += int(same.sum())
        decided += int(clear.sum())
        decided_agree += int((same & clear).sum())
        total += ref.shape[1]
        nll_ref.append(_nll(ref[0, :-1], x[0, 1:]))
        nll_got.append(_nll(got[0, :-1], x[0, 1:]))
        max_err = max(max_err, float(np.abs(ref - got).max()))
    ppl_ref = float(np.exp(np.concatenate(nll_ref).mean()))
    ppl_got = float(np.exp(np.concatenate(nll_got).mean()))

    tokens = [t for w in windows for t in w][:decode_tokens]
    state, ref_state = backend.init_state(1), model.init_state(1)
    decode_agree = 0
    with torch.no_grad():
        for t in tokens:
            got, state = backend.decode(np.asarray([t], np.int64), state)
            ref, ref_state = model.step(torch.tensor([t]), ref_state)
            decode_agree += int(got.argmax(-1)[0] == ref.argmax(-1)[0])
    return {
        "windows": len(windows), "positions": total,
        "top1_agreement": agree / total,
        "top1_agreement_decided": decided_agree / max(decided, 1), "decided_margin": DECIDED_MARGIN,
        "near_tie_fraction": 1 - decided / total,
        "ppl_float": ppl_ref, "ppl_bundle": ppl_got, "ppl_rel_delta": (ppl_got - ppl_ref) / ppl_ref,
        "max_logit_error": max_err,
        "decode_tokens": len(tokens), "decode_top1_agreement": decode_agree / max(len(tokens), 1),
    }
