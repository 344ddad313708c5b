"""Token windows for calibration and parity, and the feeds each graph is calibrated on.

Text comes from ``--calibration-data``, else the held-out text saved with the checkpoint,
else the built-in prompts. Its first half calibrates, its second half measures parity,
so the parity figures are not taken on the calibration text itself.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from spikelite.sdk.checkpoint import HELDOUT
from spikelite.sdk.data import DatasetError, read_text_file, synthetic_corpus

from .errors import ExportError
from .onnx_config import OnnxExportConfig


def calibration_text(checkpoint_dir: Path, calibration_data: str | Path | None) -> tuple[str, str]:
    """The text and where it came from."""
    if calibration_data is not None:
        try:
            return "\n".join(read_text_file(calibration_data)), str(calibration_data)
        except DatasetError as e:
            raise ExportError(f"--calibration-data: {e}") from None
    heldout = Path(checkpoint_dir) / HELDOUT
    if heldout.is_file() and heldout.stat().st_size > 0:
        return heldout.read_text(encoding="utf-8"), f"checkpoint {HELDOUT}"
    return "\n".join(synthetic_corpus()), "built-in prompts"


def token_windows(ids: list[int], length: int, count: int) -> list[list[int]]:
    if len(ids) < 2:
        raise ExportError("the calibration text is shorter than two tokens; pass --calibration-data with real text")
    length = min(length, len(ids))
    starts = range(0, len(ids) - length + 1, length)
    return [ids[s:s + length] for s in starts][:count]


def split_windows(ids: list[int], length: int, count: int) -> tuple[list[list[int]], list[list[int]]]:
    half = len(ids) // 2
    if half < 2:
        return token_windows(ids, length, count), token_windows(ids, length, count)
    return token_windows(ids[:half], length, count), token_windows(ids[half:], length, count)


def prefill_feeds(cfg: OnnxExportConfig, model: nn.Module, windows: list[list[int]]) -> list[dict[str, np.ndarray]]:
    feeds = []
    for w in windows:
        state = model.init_state(1)
        feeds.append({"input_ids": np.asarray([w], np.int64),
                      **{s.name: t.numpy() for s, t in zip(cfg.state, state)}})
    return feeds


def decode_feeds(cfg: OnnxExportConfig, model: nn.Module, windows: list[list[int]], steps: int) -> list[dict]:
    """Inputs the decode graph sees in real use: each token with the state the float model carries to it."""
    feeds = []
    with torch.no_grad():
        for w in windows:
            state = model.init_state(1)
            for t in w[:steps]:
                feeds.append({"token": np.asarray([t], np.int64),
                              **{s.name: x.numpy().copy() for s, x in zip(cfg.state, state)}})
                _, state = model.step(torch.tensor([t]), state)
    return feeds
