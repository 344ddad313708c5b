"""The LiteRT backend: the bundle's ``prefill.tflite`` and ``decode.tflite``.

Uses ``ai_edge_litert`` and falls back to ``tflite_runtime`` (older Raspberry Pi images).
Tensors are allocated once per interpreter; each call copies inputs into them. A prompt
runs through the fixed-size prefill graph chunk by chunk, and what is left token by token
(exact: the goose state is recurrent). Interpreters are not thread-safe, so each is used
under its own lock; batch size is 1.
"""
from __future__ import annotations

import threading

import numpy as np

from ..bundle import Bundle
from ..errors import BackendUnavailable
from .base import DecodeState


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise BackendUnavailable("backend 'tflite' needs ai-edge-litert (pip install ai-edge-litert) or "
                                     "tflite-runtime") from None
    return Interpreter


class _Graph:
    def __init__(self, cls, content: bytes, threads: int | None):
        self.it = cls(model_content=content, num_threads=threads or None)
        self.it.allocate_tensors()
        self.inputs = self.it.get_input_details()
        self.outputs = self.it.get_output_details()
        self.lock = threading.Lock()

    def _put(self, d, x: np.ndarray) -> None:
        if d["dtype"] in (np.int8, np.uint8) and d["quantization"][0]:
            scale, zero = d["quantization"]
            info = np.iinfo(d["dtype"])
            x = np.clip(np.rint(x / scale) + zero, info.min, info.max)
        self.it.set_tensor(d["index"], np.ascontiguousarray(x, dtype=d["dtype"]))

    def _get(self, d) -> np.ndarray:
        x = self.it.get_tensor(d["index"])
        if d["dtype"] in (np.int8, np.uint8) and d["quantization"][0]:
            scale, zero = d["quantization"]
            return (x.astype(np.float32) - zero) * scale
        return x

    def run(self, *args: np.ndarray) -> list[np.ndarray]:
        with self.lock:
            for d, x in zip(self.inputs, args):
                self._put(d, x)
            self.it.invoke()
            return [self._get(d) for d in self.outputs]


class TfliteBackend:
    name = "tflite"

    def __init__(self, bundle: Bundle, threads: int | None = None, **_):
        m = bundle.manifest
        if "decode_tflite" not in m.graphs or "prefill_tflite" not in m.graphs:
            raise BackendUnavailable(f"{bundle.path} has no TFLite graphs; re-export it with "
                                     "`spikelite export CHECKPOINT --format onnx,tflite`")
        cls = _interpreter_class()
        self.manifest = m
        self._prefill = _Graph(cls, bundle.read(m.graphs["prefill_tflite"].file), threads)
        self._decode = _Graph(cls, bundle.read(m.graphs["decode_tflite"].file), threads)
        self.chunk = m.quantization.get("tflite", {}).get("prefill_chunk") or m.graphs["prefill_tflite"].inputs[0].shape[1]
        self._names = [s.name for s in m.state]

    def init_state(self, batch: int = 1) -> DecodeState:
        if batch != 1:
            raise BackendUnavailable("the tflite backend runs batch 1; use backend='onnxruntime' for batches")
        return DecodeState({s.name: np.zeros(s.concrete_shape(batch=1, past=0), np.float32) for s in self.manifest.state})

    def _step(self, graph: _Graph, ids: np.ndarray, state: DecodeState) -> tuple[np.ndarray, DecodeState]:
        logits, *new = graph.run(ids.astype(np.int32), *(state.tensors[n] for n in self._names))
        return logits, DecodeState(dict(zip(self._names, new)), state.length + ids.size)

    def prefill(self, input_ids: np.ndarray, state: DecodeState) -> tuple[np.ndarray, DecodeState]:
        ids = np.asarray(input_ids, np.int64)
        if ids.shape[0] != 1:
            raise BackendUnavailable("the tflite backend runs batch 1; use backend='onnxruntime' for batches")
        pieces, t = [], 0
        while ids.shape[1] - t >= self.chunk:
            logits, state = self._step(self._prefill, ids[:, t:t + self.chunk], state)
            pieces.append(logits)
            t += self.chunk
        for i in range(t, ids.shape[1]):
            logits, state = self._step(self._decode, ids[:, i], state)
            pieces.append(logits[:, None])
        return np.concatenate(pieces, axis=1), state

    def decode(self, token: np.ndarray, state: DecodeState) -> tuple[np.ndarray, DecodeState]:
        return self._step(self._decode, np.asarray(token, np.int64), state)
