"""The bundle manifest: the one contract between the exporter and the runtime.

Both sides go through :func:`parse_manifest`: the exporter validates what it writes,
the runtime validates what it reads. A newer ``format_version`` is refused with the
fix (upgrade), an older one is read as long as this module still understands it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import BundleFormatError

FORMAT = "spikelite-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DTYPES = ("float32", "int64", "int32", "int8", "uint8", "string")


@dataclass(frozen=True)
class TensorSpec:
    """One graph input or output; a shape entry is a fixed size or the name of a dynamic axis."""

    name: str
    dtype: str
    shape: tuple[int | str, ...]

    def as_dict(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}

    def concrete_shape(self, **axes: int) -> tuple[int, ...]:
        return tuple(axes[d] if isinstance(d, str) else d for d in self.shape)


@dataclass(frozen=True)
class GraphSpec:
    file: str
    format: str  # "onnx" or "tflite"
    precision: str  # "fp32", "int8-static", "int8-dynamic"
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    def as_dict(self) -> dict:
        return {"file": self.file, "format": self.format, "precision": self.precision,
                "inputs": [t.as_dict() for t in self.inputs], "outputs": [t.as_dict() for t in self.outputs]}


@dataclass(frozen=True)
class BundleManifest:
    name: str
    model_type: str
    model_config: dict[str, Any]
    vocab_size: int
    context_limit: int | None  # None: the recurrent state does not grow, decoding runs unbounded
    context_policy: str
    special_tokens: dict[str, int]
    tokenizer: dict[str, str]
    graphs: dict[str, GraphSpec]  # "prefill", "decode", later "prefill_tflite", ...
    state: tuple[TensorSpec, ...]  # decode state carried between calls, in graph input order
    weights: dict[str, Any]
    quantization: dict[str, Any]
    files: dict[str, dict[str, Any]]  # name -> {"sha256", "bytes"}
    parity: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""
    format_version: int = FORMAT_VERSION

    def as_dict(self) -> dict:
        return {
            "format": FORMAT, "format_version": self.format_version, "name": self.name, "created": self.created,
            "model": {"type": self.model_type, "config": self.model_config, "vocab_size": self.vocab_size},
            "context": {"limit": self.context_limit, "policy": self.context_policy},
            "special_tokens": self.special_tokens, "tokenizer": self.tokenizer,
            "graphs": {k: g.as_dict() for k, g in self.graphs.items()},
            "state": [t.as_dict() for t in self.state],
            "weights": self.weights, "quantization": self.quantization, "parity": self.parity,
            "files": self.files, "versions": self.versions,
        }


def _get(d: dict, key: str, kind, where: str, optional: bool = False):
    if key not in d or d[key] is None:
        if optional:
            return None
        raise BundleFormatError(f"{MANIFEST}: {where}{key!r} is missing; re-export the bundle with spikelite export")
    value = d[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise BundleFormatError(f"{MANIFEST}: {where}{key!r} should be {name}, got {type(value).__name__}; "
                                "re-export the bundle with spikelite export")
    return value


def _tensor(d: Any, where: str) -> TensorSpec:
    if not isinstance(d, dict):
        raise BundleFormatError(f"{MANIFEST}: {where} should be an object; re-export the bundle")
    dtype = _get(d, "dtype", str, where)
    if dtype not in DTYPES:
        raise BundleFormatError(f"{MANIFEST}: {where} dtype {dtype!r} is not one of {DTYPES}")
    shape = _get(d, "shape", list, where)
    if not all(isinstance(s, (int, str)) and not isinstance(s, bool) for s in shape):
        raise BundleFormatError(f"{MANIFEST}: {where} shape entries must be sizes or axis names")
    return TensorSpec(_get(d, "name", str, where), dtype, tuple(shape))


def _graph(name: str, d: Any) -> GraphSpec:
    where = f"graphs.{name}."
    if not isinstance(d, dict):
        raise BundleFormatError(f"{MANIFEST}: graphs.{name} should be an object; re-export the bundle")
    return GraphSpec(
        file=_get(d, "file", str, where), format=_get(d, "format", str, where),
        precision=_get(d, "precision", str, where),
        inputs=tuple(_tensor(t, f"{where}inputs[{i}]") for i, t in enumerate(_get(d, "inputs", list, where))),
        outputs=tuple(_tensor(t, f"{where}outputs[{i}]") for i, t in enumerate(_get(d, "outputs", list, where))),
    )


def parse_manifest(d: Any) -> BundleManifest:
    """A validated :class:`BundleManifest`, or :class:`BundleFormatError` naming the field and the fix."""
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise BundleFormatError(f"{MANIFEST}: not a SpikeLite bundle manifest (format must be {FORMAT!r})")
    version = _get(d, "format_version", int, "")
    if version > FORMAT_VERSION:
        raise BundleFormatError(f"{MANIFEST}: bundle format {version} is newer than this runtime reads "
                                f"({FORMAT_VERSION}); upgrade spikelite (pip install -U spikelite)")
    model = _get(d, "model", dict, "")
    context = _get(d, "context", dict, "")
    graphs = _get(d, "graphs", dict, "")
    for required in ("prefill", "decode"):
        if required not in graphs:
            raise BundleFormatError(f"{MANIFEST}: graphs.{required} is missing; re-export the bundle")
    files = _get(d, "files", dict, "")
    for fname, info in files.items():
        _get(info if isinstance(info, dict) else {}, "sha256", str, f"files[{fname!r}].")
        _get(info, "bytes", int, f"files[{fname!r}].")
    manifest = BundleManifest(
        name=_get(d, "name", str, ""),
        model_type=_get(model, "type", str, "model."),
        model_config=_get(model, "config", dict, "model."),
        vocab_size=_get(model, "vocab_size", int, "model."),
        context_limit=_get(context, "limit", int, "context.", optional=True),
        context_policy=_get(context, "policy", str, "context."),
        special_tokens=_get(d, "special_tokens", dict, ""),
        tokenizer=_get(d, "tokenizer", dict, ""),
        graphs={k: _graph(k, g) for k, g in graphs.items()},
        state=tuple(_tensor(t, f"state[{i}]") for i, t in enumerate(_get(d, "state", list, ""))),
        weights=_get(d, "weights", dict, ""),
        quantization=_get(d, "quantization", dict, ""),
        files=files,
        parity=_get(d, "parity", dict, "", optional=True) or {},
        versions=_get(d, "versions", dict, "", optional=True) or {},
        created=_get(d, "created", str, "", optional=True) or "",
        format_version=version,
    )
    referenced = [g.file for g in manifest.graphs.values()] + [manifest.tokenizer.get("file", ""),
                                                               manifest.weights.get("file", "")]
    missing = [f for f in referenced if f and f not in files]
    if missing:
        raise BundleFormatError(f"{MANIFEST}: {missing} are used but not listed in files; re-export the bundle")
    return manifest
