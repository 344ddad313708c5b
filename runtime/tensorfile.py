"""safetensors files with numpy alone: the bundle's weights, readable where torch is absent.

The format is an 8-byte little-endian header length, a JSON header, then raw
little-endian tensor bytes. Reading maps the file and returns zero-copy views.
"""
from __future__ import annotations

import json
import mmap
import struct
from pathlib import Path

import numpy as np

from .errors import BundleIntegrityError

_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
           "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}


def dump_tensors(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    header: dict = {"__metadata__": metadata} if metadata else {}
    chunks, offset = [], 0
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _CODES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((-len(head)) % 8)  # keeps every tensor 8-byte aligned for zero-copy views
    return struct.pack("<Q", len(head)) + head + b"".join(chunks)


def parse_tensors(buffer, source: str = "weights") -> dict[str, np.ndarray]:
    """Views into ``buffer`` (bytes or a memory map); ``source`` names the file in errors."""
    try:
        (n,) = struct.unpack_from("<Q", buffer, 0)
        header = json.loads(bytes(buffer[8:8 + n]))
        base = 8 + n
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            start, end = info["data_offsets"]
            dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
            if base + end > len(buffer):
                raise ValueError(f"tensor {name!r} runs past the end of the file")
            out[name] = np.frombuffer(buffer, dtype=dtype, count=(end - start) // dtype.itemsize,
                                      offset=base + start).reshape(info["shape"])
        return out
    except (struct.error, ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise BundleIntegrityError(f"{source}: not a readable safetensors file ({e}); re-export the bundle") from None


def load_tensors(path: str | Path) -> dict[str, np.ndarray]:
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    return parse_tensors(mapped, str(path))
