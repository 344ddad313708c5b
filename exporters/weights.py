"""The bundle's torch-free weights: matrices as int8 with one symmetric scale per row.

Rows are output channels of every Linear and the embedding's token rows, which are
also the tied head's output channels: one scale per row serves both uses.
"""
from __future__ import annotations

import numpy as np
import torch.nn as nn

from spikelite.runtime.tensorfile import dump_tensors


def quantize_rows(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 ``q`` and float32 ``scale`` with ``w ≈ q * scale[:, None]`` (round half to even, as onnxruntime)."""
    amax = np.abs(w).max(axis=tuple(range(1, w.ndim)))
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale.reshape(-1, *([1] * (w.ndim - 1)))), -127, 127).astype(np.int8)
    return q, scale


def weights_file(model: nn.Module, int8: bool) -> bytes:
    tensors: dict[str, np.ndarray] = {}
    for name, t in model.state_dict().items():
        a = t.detach().float().cpu().numpy()
        if int8 and a.ndim == 2:
            tensors[name], tensors[f"{name}.scale"] = quantize_rows(a)
        else:
            tensors[name] = a
    return dump_tensors(tensors, {"format": "spikelite", "precision": "int8-per-row" if int8 else "fp32"})
