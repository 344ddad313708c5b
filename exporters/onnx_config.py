"""One export config per student architecture, in the manner of Optimum's ``OnnxConfig``.

It names and shapes every graph input and output once; the exporter traces with it,
the manifest records it, and the runtime builds its feeds from the manifest alone.
A state tensor ``NAME`` enters a graph as ``NAME`` and leaves it as ``NAME_out``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from spikelite.runtime.manifest import TensorSpec

from .errors import ExportError


@dataclass(frozen=True)
class OnnxExportConfig:
    model_type: str
    state: tuple[TensorSpec, ...]  # shapes use the axes "batch" and, for caches, "past"
    grown_state: tuple[str, ...] = ()  # state whose "past" axis grows by the tokens fed
    context_policy: str = "unbounded-recurrent"  # O(1) state: decoding never runs out of context

    def state_out(self, spec: TensorSpec, grown_axis: str) -> TensorSpec:
        shape = tuple(grown_axis if d == "past" and spec.name in self.grown_state else d for d in spec.shape)
        return TensorSpec(f"{spec.name}_out", spec.dtype, shape)

    def _io(self, first: TensorSpec, logits: TensorSpec, grown_axis: str):
        return (first, *self.state), (logits, *(self.state_out(s, grown_axis) for s in self.state))

    def prefill_io(self, vocab: int) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
        return self._io(TensorSpec("input_ids", "int64", ("batch", "seq")),
                        TensorSpec("logits", "float32", ("batch", "seq", vocab)), "past_plus_seq")

    def decode_io(self, vocab: int) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
        return self._io(TensorSpec("token", "int64", ("batch",)),
                        TensorSpec("logits", "float32", ("batch", vocab)), "past_plus_one")


def export_config(model: nn.Module) -> OnnxExportConfig:
    c = model.cfg
    if model.model_type == "goose":
        shape = (c.n_layers, "batch", c.d_model)
        return OnnxExportConfig("goose", (TensorSpec("shift", "float32", shape), TensorSpec("wkv", "float32", shape)))
    if model.model_type == "spikformer":
        kv = TensorSpec("kv", "float32", (c.n_layers, 2, "batch", c.n_heads, "past", c.d_model // c.n_heads))
        return OnnxExportConfig("spikformer", (kv,), grown_state=("kv",), context_policy="sliding-window")
    raise ExportError(f"no ONNX export config for student {model.model_type!r}; add one to "
                      "spikelite/exporters/onnx_config.py beside goose and spikformer")


class PrefillGraph(nn.Module):
    """``(input_ids, *state) -> (logits, *state_out)``: the prompt in parallel, state carried in."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids, *state):
        logits, new_state = self.model.prefill(input_ids, tuple(state))
        return (logits, *new_state)


class DecodeGraph(nn.Module):
    """``(token, *state) -> (logits, *state_out)``: one token per sequence."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, token, *state):
        logits, new_state = self.model.step(token, tuple(state))
        return (logits, *new_state)


def example_state(cfg: OnnxExportConfig, batch: int, past: int) -> tuple[torch.Tensor, ...]:
    """Random state tensors for tracing; a non-zero ``past`` keeps that axis dynamic."""
    g = torch.Generator().manual_seed(0)
    return tuple(torch.randn(s.concrete_shape(batch=batch, past=past), generator=g) * 0.1 for s in cfg.state)
