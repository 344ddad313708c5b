"""INT8 graphs through onnxruntime's own quantizer (static QDQ or dynamic), and the recipe record.

Static: per-channel symmetric int8 weights, uint8 activations calibrated (MinMax) on
real text. uint8 (U8S8) is what onnxruntime's CPU kernels fuse into QLinearMatMul; with
int8 activations every weight DequantizeLinear stayed unfused (decode 5.9 ms vs 1.9 ms a
token on the 16M goose, measured). The tied head is the exception: per-tensor int8 of the final LayerNorm's
output (a few outlier channels) cost 10 points of top-1 agreement on the demo student
(88.9% -> 99.0% when the head alone keeps float activations), so the head gets
weight-only int8 instead (onnxruntime's MatMulNBits, 8 bits, blocks of 32). Activations that live on an exact grid -- spike rates ``k/T`` or ternary
spikes -- are found by scanning the calibration run and get their exact scale
(``1/T``, zero point 0) instead of a calibrated one, so INT8 loses nothing there.
"""
from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static
from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

METHODS = ("int8-static", "int8-dynamic", "none")
WEIGHT_OPS = ["MatMul", "Gemm", "Gather"]
_MAX_GRID = 16


class _Feeds(CalibrationDataReader):
    def __init__(self, feeds: list[dict[str, np.ndarray]]):
        self._it = iter(feeds)

    def get_next(self):
        return next(self._it, None)


def _activation_inputs(model: onnx.ModelProto) -> list[str]:
    weights = {i.name for i in model.graph.initializer}
    return sorted({n.input[0] for n in model.graph.node
                   if n.op_type in ("MatMul", "Gemm") and n.input[0] not in weights})


def grid_tensors(model_path: Path, feeds: list[dict[str, np.ndarray]]) -> dict[str, int]:
    """Activation inputs of matmuls whose calibration values all lie on ``{k/T : 0 <= k <= T}``; name -> T."""
    model = onnx.load(str(model_path))
    names = [n for n in _activation_inputs(model) if n not in {o.name for o in model.graph.output}]
    model.graph.output.extend(onnx.ValueInfoProto(name=n) for n in names)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    candidates = {n: set(range(1, _MAX_GRID + 1)) for n in names}
    for feed in feeds:
        values = dict(zip(names, session.run(names, feed)))
        for n, v in values.items():
            if not candidates[n]:
                continue
            if np.abs(v).max(initial=0) > 1 or v.min(initial=0) < 0:  # uint8 activations: [0, 1] grids only
                candidates[n] = set()
                continue
            candidates[n] = {t for t in candidates[n] if np.allclose(v * t, np.rint(v * t), atol=1e-5, rtol=0)}
    return {n: min(ts) for n, ts in candidates.items() if ts}


def head_nodes(model: onnx.ModelProto, vocab_size: int) -> list[str]:
    """MatMul nodes whose weight has ``vocab_size`` output columns: the (tied) head."""
    shapes = {i.name: list(i.dims) for i in model.graph.initializer}
    return [n.name for n in model.graph.node
            if n.op_type == "MatMul" and shapes.get(n.input[1], [None])[-1] == vocab_size]


def _weight_only_int8(path: Path, nodes: list[str]) -> None:
    # accuracy_level 4 (int8 compute inside the kernel): without it onnxruntime 1.32 has no fast
    # 8-bit kernel and the GPT-2-vocabulary head took 70 ms a token instead of 1 ms (measured).
    algo = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, bits=8, accuracy_level=4,
                                        op_types_to_quantize=("MatMul",))
    q = MatMulNBitsQuantizer(onnx.load(str(path)), bits=8, block_size=32, is_symmetric=True, accuracy_level=4,
                             nodes_to_include=nodes, op_types_to_quantize=("MatMul",), algo_config=algo)
    q.process()
    model = q.model.model
    for opset in model.opset_import:  # MatMulNBits is a com.microsoft op: the default domain stays at 17
        if opset.domain in ("", "ai.onnx"):
            opset.version = 17
    onnx.save(model, str(path))


def quantize_graph(src: Path, dst: Path, method: str, calibration: list[dict[str, np.ndarray]] | None = None,
                   exclude_ops: Iterable[str] = (), vocab_size: int | None = None) -> dict:
    """Write the INT8 version of ``src`` to ``dst``; returns what was done, for the manifest."""
    exclude_ops = sorted(set(exclude_ops))
    model = onnx.load(str(src))
    head = head_nodes(model, vocab_size) if vocab_size and "MatMul" not in exclude_ops else []
    excluded_nodes = [n.name for n in model.graph.node if n.op_type in exclude_ops] + head
    ops = [o for o in WEIGHT_OPS if o not in exclude_ops]
    recipe = {"method": method, "weights": "int8 symmetric per-channel", "op_types": ops,
              "excluded_op_types": exclude_ops, "excluded_nodes": len(excluded_nodes)}
    logging.getLogger().setLevel(logging.ERROR)
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.ERROR)
    with contextlib.redirect_stdout(io.StringIO()), tempfile.TemporaryDirectory() as tmp:
        if method == "int8-dynamic":
            quantize_dynamic(src, dst, op_types_to_quantize=ops, per_channel=True, weight_type=QuantType.QInt8,
                             nodes_to_exclude=excluded_nodes)
            recipe["activations"] = "uint8 per-tensor, range computed per call (DynamicQuantizeLinear)"
        elif method == "int8-static":
            if not calibration:
                raise ValueError("int8-static needs calibration feeds")
            grids = grid_tensors(src, calibration)
            overrides = {n: [{"scale": np.array(1.0 / t, np.float32), "zero_point": np.array(0, np.uint8)}]
                         for n, t in grids.items()}
            quantize_static(src, dst, _Feeds(calibration), quant_format=QuantFormat.QDQ, op_types_to_quantize=ops,
                            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            nodes_to_exclude=excluded_nodes, calibration_cache_path=Path(tmp) / "calibration",
                            extra_options={"TensorQuantOverrides": overrides, "ActivationSymmetric": False})
            recipe["activations"] = "uint8 per-tensor, MinMax-calibrated"
            recipe["calibration_samples"] = len(calibration)
            recipe["exact_grid_activations"] = {n: f"1/{t}" for n, t in sorted(grids.items())}
        else:
            raise ValueError(f"unknown quantization {method!r}; choose one of {METHODS}")
        if head:
            _weight_only_int8(dst, head)
            recipe["head"] = "weight-only int8 (MatMulNBits, symmetric, blocks of 32), float activations"
    return recipe
