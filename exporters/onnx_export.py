"""Trace a student into its fp32 ``prefill`` and ``decode`` ONNX graphs (opset 17).

The TorchScript-based exporter is used on purpose: it keeps the goose's chunked
scan dynamic in the sequence length, where ``torch.export`` specialises it.
"""
from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import onnx
import torch
import torch.nn as nn

from spikelite.runtime.manifest import TensorSpec

from .onnx_config import DecodeGraph, OnnxExportConfig, PrefillGraph, example_state

OPSET = 17


def _dynamic_axes(specs: tuple[TensorSpec, ...]) -> dict[str, dict[int, str]]:
    return {s.name: {i: d for i, d in enumerate(s.shape) if isinstance(d, str)} for s in specs}


def _export(module: nn.Module, args: tuple, inputs, outputs, path: Path) -> None:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, args, str(path), input_names=[s.name for s in inputs], output_names=[s.name for s in outputs],
            dynamic_axes=_dynamic_axes(inputs + outputs), opset_version=OPSET, dynamo=False, do_constant_folding=True,
        )
    onnx.checker.check_model(str(path), full_check=True)


def export_onnx_graphs(model: nn.Module, cfg: OnnxExportConfig, out_dir: Path) -> dict[str, Path]:
    """Write ``prefill.onnx`` and ``decode.onnx`` (fp32) into ``out_dir``; returns their paths."""
    model = model.float().eval()
    vocab = model.cfg.vocab_size
    paths = {"prefill": out_dir / "prefill.onnx", "decode": out_dir / "decode.onnx"}
    with torch.no_grad():
        ids = torch.randint(0, vocab, (2, 5), generator=torch.Generator().manual_seed(0))
        _export(PrefillGraph(model), (ids, *example_state(cfg, 2, 3)), *cfg.prefill_io(vocab), paths["prefill"])
        _export(DecodeGraph(model), (ids[:, 0], *example_state(cfg, 2, 3)), *cfg.decode_io(vocab), paths["decode"])
    return paths


def export_forward_onnx(model: nn.Module, path: Path) -> Path:
    """Seed 000's single graph: ``input_ids [batch, seq] -> logits [batch, seq, vocab]``, fp32, no state."""
    model = model.float().eval()
    vocab = model.cfg.vocab_size
    inputs = (TensorSpec("input_ids", "int64", ("batch", "seq")),)
    outputs = (TensorSpec("logits", "float32", ("batch", "seq", vocab)),)
    with torch.no_grad():
        _export(model, (torch.randint(0, vocab, (2, 5), generator=torch.Generator().manual_seed(0)),),
                inputs, outputs, Path(path))
    return Path(path)
