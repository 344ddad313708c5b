"""``prefill.tflite`` and ``decode.tflite`` through Google's PyTorch -> LiteRT path (``litert-torch``).

TFLite graphs have static shapes, so the prefill graph takes a fixed chunk of
``PREFILL_CHUNK`` tokens (the runtime feeds longer prompts chunk by chunk and the rest
token by token: exact for a recurrent state), and only students whose decode state has a
fixed shape (goose) convert; a growing KV cache stays ONNX-only. Token inputs are int32.

Recipes (measured on the test goose, 200 teacher-forced tokens against PyTorch):
``int8-dynamic`` (dynamic-range int8 weights, float activations): top-1 96.5%,
0.022 ms/token, 195 kB decode graph; ``int8-static`` (PT2E full int8, calibrated):
top-1 95.5%, 0.069 ms/token, 339 kB, and its state tensors become int8 with scales the app
must apply. Default: ``int8-dynamic``.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from spikelite.runtime.manifest import GraphSpec, TensorSpec

from .errors import ExportError
from .onnx_config import DecodeGraph, OnnxExportConfig, PrefillGraph

PREFILL_CHUNK = 32
METHODS = ("int8-dynamic", "int8-static", "none")
_NP = {np.dtype(np.float32): "float32", np.dtype(np.int32): "int32", np.dtype(np.int8): "int8",
       np.dtype(np.int64): "int64", np.dtype(np.uint8): "uint8"}


def _quiet():
    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
    logging.disable(logging.WARNING)
    stack.callback(logging.disable, logging.NOTSET)
    return stack


def _convert(module: nn.Module, args: tuple, method: str, calibration: list[tuple]) -> object:
    import litert_torch

    if method == "none":
        return litert_torch.convert(module, args)
    if method == "int8-dynamic":
        from litert_torch.generative.quantize import quant_recipes

        return litert_torch.convert(module, args, quant_config=quant_recipes.full_dynamic_recipe())
    from litert_torch.quantize import pt2e_quantizer
    from litert_torch.quantize.quant_config import QuantConfig
    from torchao.quantization.pt2e import quantize_pt2e

    quantizer = pt2e_quantizer.PT2EQuantizer().set_global(
        pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False))
    exported = quantize_pt2e.prepare_pt2e(torch.export.export(module, args).module(), quantizer)
    with torch.no_grad():
        for sample in calibration:
            exported(*sample)
    exported = quantize_pt2e.convert_pt2e(exported, fold_quantize=False)
    return litert_torch.convert(exported, args, quant_config=QuantConfig(pt2e_quantizer=quantizer))


def _specs(path: Path) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...], dict]:
    """The graph's real tensor names, shapes, dtypes and (for int8 tensors) the scales an app applies."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path))
    scales = {}

    def spec(d):
        if d["dtype"] in (np.int8, np.uint8) and d["quantization"][0]:
            scales[d["name"]] = {"scale": float(d["quantization"][0]), "zero_point": int(d["quantization"][1])}
        return TensorSpec(d["name"], _NP[np.dtype(d["dtype"])], tuple(int(s) for s in d["shape"]))

    return (tuple(spec(d) for d in it.get_input_details()), tuple(spec(d) for d in it.get_output_details()), scales)


def export_tflite_graphs(model: nn.Module, cfg: OnnxExportConfig, out_dir: Path, method: str,
                         calibration_windows: list[list[int]]) -> tuple[dict[str, GraphSpec], dict]:
    """Write prefill.tflite and decode.tflite; returns their manifest entries and the recipe."""
    if method not in METHODS:
        raise ExportError(f"unknown TFLite quantization {method!r}; choose one of {', '.join(METHODS)}")
    if any("past" in s.shape for s in cfg.state):
        raise ExportError(f"{model.model_type}: its KV cache grows with the context and TFLite graphs need static "
                          "shapes; export --format onnx for this student")
    if any(importlib.util.find_spec(m) is None for m in ("litert_torch", "ai_edge_litert")):
        raise ExportError("--format tflite needs the [tflite] extra: pip install 'spikelite[tflite]'")
    model = model.float().eval()
    state = tuple(torch.zeros(s.concrete_shape(batch=1, past=0)) for s in cfg.state)
    calib_prefill, calib_decode = [], []
    with torch.no_grad():
        for w in calibration_windows[:4]:
            s = model.init_state(1)
            for t in w[:64]:
                calib_decode.append((torch.tensor([t]), *s))
                _, s = model.step(torch.tensor([t]), s)
            if len(w) >= PREFILL_CHUNK:
                calib_prefill.append((torch.tensor([w[:PREFILL_CHUNK]]), *model.init_state(1)))
    graphs = {}
    with _quiet():
        for name, module, args, calib in (
                ("prefill", PrefillGraph(model), (torch.zeros(1, PREFILL_CHUNK, dtype=torch.long), *state),
                 calib_prefill),
                ("decode", DecodeGraph(model), (torch.zeros(1, dtype=torch.long), *state), calib_decode)):
            path = out_dir / f"{name}.tflite"
            _convert(module, args, method, calib).export(str(path))
            inputs, outputs, scales = _specs(path)
            graphs[f"{name}_tflite"] = (GraphSpec(path.name, "tflite", "fp32" if method == "none" else method,
                                                  inputs, outputs), scales)
    recipe = {"method": method, "prefill_chunk": PREFILL_CHUNK, "converter": "litert-torch",
              "io_order": {"prefill": ["input_ids", *(s.name for s in cfg.state)],
                           "decode": ["token", *(s.name for s in cfg.state)],
                           "outputs": ["logits", *(f"{s.name}_out" for s in cfg.state)]},
              "input_scales": {k: sc for k, (_, sc) in graphs.items() if sc}}
    return {k: g for k, (g, _) in graphs.items()}, recipe
