"""The pure-numpy backend: the student run from the bundle's INT8 weights with numpy alone.

It is the reference the graph backends are checked against, and the fallback where no
onnxruntime wheel exists. Weights are dequantized once at load (per-row scales).
"""
from __future__ import annotations

import numpy as np

from ..bundle import Bundle
from ..errors import BackendUnavailable
from ..tensorfile import load_tensors, parse_tensors
from .base import DecodeState
from .numpy_ops import dequantize
from .numpy_students import STUDENTS


class NumpyBackend:
    name = "numpy"

    def __init__(self, bundle: Bundle, threads: int | None = None, **_):
        m = bundle.manifest
        if m.model_type not in STUDENTS:
            raise BackendUnavailable(f"the numpy backend has no {m.model_type!r} student; use backend='onnxruntime'")
        file = m.weights["file"]
        disk = bundle.file_path(file)
        raw = load_tensors(disk) if disk is not None else parse_tensors(bundle.read(file), file)
        self.params = dequantize(raw)
        self.config = m.model_config
        self.manifest = m
        self._forward = STUDENTS[m.model_type]
        self.spike_recorder = None  # a callable (name, spikes, fan_out); set by the energy profiler

    def init_state(self, batch: int = 1) -> DecodeState:
        return DecodeState({s.name: np.zeros(s.concrete_shape(batch=batch, past=0), np.float32)
                            for s in self.manifest.state})

    def prefill(self, input_ids: np.ndarray, state: DecodeState) -> tuple[np.ndarray, DecodeState]:
        logits, new = self._forward(self.params, self.config, np.asarray(input_ids, np.int64), state.tensors,
                                    self.spike_recorder)
        return logits.astype(np.float32, copy=False), DecodeState(new, state.length + input_ids.shape[1])

    def decode(self, token: np.ndarray, state: DecodeState) -> tuple[np.ndarray, DecodeState]:
        logits, new = self._forward(self.params, self.config, np.asarray(token, np.int64)[:, None],
                                    state.tensors, self.spike_recorder)
        return logits[:, 0].astype(np.float32, copy=False), DecodeState(new, state.length + 1)
