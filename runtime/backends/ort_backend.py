"""The onnxruntime backend: the bundle's prefill and decode graphs.

Where the decode state has a fixed shape (goose), outputs are bound to buffers the
state owns and swapped with its inputs each step, so the per-token path allocates
nothing. A growing KV cache (spikformer) lets onnxruntime allocate the new cache.
"""
from __future__ import annotations

import numpy as np
import onnxruntime as ort

from ..bundle import Bundle
from ..errors import BackendUnavailable
from .base import DecodeState

_LEVELS = {"disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL, "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
           "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED, "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}


class OrtBackend:
    name = "onnxruntime"

    def __init__(self, bundle: Bundle, threads: int | None = None, graph_optimization: str = "all",
                 graph_suffix: str = ""):
        m = bundle.manifest
        if graph_optimization not in _LEVELS:
            raise BackendUnavailable(f"graph_optimization {graph_optimization!r} is not one of {sorted(_LEVELS)}")
        options = ort.SessionOptions()
        options.graph_optimization_level = _LEVELS[graph_optimization]
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.manifest = m
        self.graphs = {k: m.graphs[f"{k}{graph_suffix}"] for k in ("prefill", "decode")}
        try:
            self._prefill = ort.InferenceSession(bundle.read(self.graphs["prefill"].file), options,
                                                 providers=["CPUExecutionProvider"])
            self._decode = ort.InferenceSession(bundle.read(self.graphs["decode"].file), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises untyped errors for graphs it cannot load
            raise BackendUnavailable(f"{bundle.path}: onnxruntime {ort.__version__} cannot load the graphs ({e}); "
                                     "upgrade onnxruntime or re-export the bundle") from None
        self._state_names = [s.name for s in m.state]
        self._fixed = all("past" not in s.shape for s in m.state)
        self.vocab_size = m.vocab_size

    def init_state(self, batch: int = 1) -> DecodeState:
        return DecodeState({s.name: np.zeros(s.concrete_shape(batch=batch, past=0), np.float32) for s in self.manifest.state})

    def prefill(self, input_ids: np.ndarray, state: DecodeState) -> tuple[np.ndarray, DecodeState]:
        feeds = {"input_ids": np.ascontiguousarray(input_ids, dtype=np.int64), **state.tensors}
        logits, *new = self._prefill.run(None, feeds)
        return logits, DecodeState(dict(zip(self._state_names, new)), state.length + input_ids.shape[1])

    def decode(self, token: np.ndarray, state: DecodeState) -> tuple[np.ndarray, DecodeState]:
        token = np.ascontiguousarray(token, dtype=np.int64)
        if not self._fixed:
            logits, *new = self._decode.run(None, {"token": token, **state.tensors})
            return logits, DecodeState(dict(zip(self._state_names, new)), state.length + 1)
        spare = state.spare
        if not spare:
            spare.update({n: np.empty_like(t) for n, t in state.tensors.items()})
            spare["logits"] = np.empty((token.shape[0], self.vocab_size), np.float32)
        binding = self._decode.io_binding()
        binding.bind_cpu_input("token", token)
        for n, t in state.tensors.items():
            binding.bind_cpu_input(n, t)
        for n in ("logits", *self._state_names):
            out = spare[n]
            binding.bind_output(n if n == "logits" else f"{n}_out", "cpu", 0, np.float32, list(out.shape),
                                out.ctypes.data)
        self._decode.run_with_iobinding(binding)
        # the old inputs become next step's output buffers; logits stay valid until the next decode
        new_spare = {n: state.tensors[n] for n in self._state_names}
        new_spare["logits"] = spare["logits"]
        return spare["logits"], DecodeState({n: spare[n] for n in self._state_names}, state.length + 1, new_spare)
