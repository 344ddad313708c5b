"""Backends run a bundle's prefill and decode; each is one small class behind one protocol.

A backend registers a factory under its name; ``auto`` takes the first that is
installed, in order of speed. Adding one (the TFLite backend) touches nothing else.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Callable

from ..errors import BackendUnavailable
from .base import Backend, DecodeState

# name -> (module that must be importable, "a|b" for either, "module:Class" of the backend)
_REGISTRY: dict[str, tuple[str, str]] = {
    "onnxruntime": ("onnxruntime", "spikelite.runtime.backends.ort_backend:OrtBackend"),
    "numpy": ("numpy", "spikelite.runtime.backends.numpy_backend:NumpyBackend"),
    "tflite": ("ai_edge_litert|tflite_runtime", "spikelite.runtime.backends.tflite_backend:TfliteBackend"),
}
AUTO_ORDER = ["tflite", "onnxruntime", "numpy"]  # measured fastest first (perf/README.md)


def register(name: str, requires: str, target: str, auto_rank: int | None = None) -> None:
    """Make ``target`` ("module:Class") loadable as backend ``name`` when ``requires`` imports."""
    _REGISTRY[name] = (requires, target)
    if auto_rank is not None and name not in AUTO_ORDER:
        AUTO_ORDER.insert(auto_rank, name)


def _installed(requires: str) -> bool:
    return any(importlib.util.find_spec(m) is not None for m in requires.split("|"))


def available() -> list[str]:
    return [n for n, (req, _) in _REGISTRY.items() if _installed(req)]


def backend_class(name: str, usable: Callable[[str], bool] = lambda n: True) -> type:
    """The backend class for ``name``; ``auto`` picks the fastest installed one that ``usable`` accepts."""
    if name == "auto":
        for candidate in AUTO_ORDER:
            if candidate in available() and usable(candidate):
                return backend_class(candidate)
        raise BackendUnavailable("no backend can run this bundle; pip install onnxruntime (or use backend='numpy')")
    if name not in _REGISTRY:
        raise BackendUnavailable(f"unknown backend {name!r}; choose one of: auto, {', '.join(_REGISTRY)}")
    requires, target = _REGISTRY[name]
    if not _installed(requires):
        needs = " or ".join(requires.split("|"))
        raise BackendUnavailable(f"backend {name!r} needs the {needs} package; pip install {requires.split('|')[0]}")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


__all__ = ["AUTO_ORDER", "Backend", "DecodeState", "available", "backend_class", "register"]
