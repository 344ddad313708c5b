"""``export_bundle``: a trained checkpoint becomes a self-contained, verifiable bundle.

Directory layout (and the same members, stored uncompressed, in ``NAME.spkl``)::

    manifest.json        the contract with the runtime (spikelite.runtime.manifest)
    prefill.onnx         input_ids [batch, seq] + state -> logits + state
    decode.onnx          token [batch] + state -> logits [batch, vocab] + state
    weights.safetensors  int8 per-row weights for the numpy backend (no pickle)
    tokenizer.json       Hugging Face tokenizer
    tokenizer.onnx       text -> ids (onnxruntime-extensions ops)
    detokenizer.onnx     ids -> text

Everything is staged in a temporary directory and renamed into place at the end, so
an interrupted export leaves no bundle behind.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
import time
import zipfile
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import onnx
import onnxruntime
import torch

from spikelite import __version__
from spikelite.atomic import atomic_dir
from spikelite.runtime.backends.ort_backend import OrtBackend
from spikelite.runtime.bundle import SUFFIX, open_bundle
from spikelite.runtime.manifest import MANIFEST, BundleManifest, GraphSpec, parse_manifest
from spikelite.sdk.checkpoint import load_student

from . import tokenizer_graphs as tg
from .calibration import calibration_text, decode_feeds, prefill_feeds, split_windows
from .errors import ExportError
from .onnx_config import export_config
from .onnx_export import export_onnx_graphs
from .parity import measure_parity
from .quantize import METHODS, quantize_graph
from .weights import weights_file

FORMATS = ("onnx", "tflite")


def _versions() -> dict[str, str]:
    v = {"spikelite": __version__, "torch": torch.__version__, "onnx": onnx.__version__,
         "onnxruntime": onnxruntime.__version__, "python": platform.python_version()}
    try:
        import onnxruntime_extensions

        v["onnxruntime_extensions"] = onnxruntime_extensions.__version__
    except ImportError:
        pass
    return v


def _special_tokens(tokenizer) -> dict[str, int]:
    specials = {t.content: i for i, t in tokenizer.get_added_tokens_decoder().items() if t.special}
    out = dict(specials)
    for name in ("<|endoftext|>", "</s>", "<eos>"):
        if name in specials:
            out["eos"] = specials[name]
            break
    return out


def _file_table(directory: Path) -> dict[str, dict]:
    return {p.name: {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "bytes": p.stat().st_size}
            for p in sorted(directory.iterdir()) if p.name != MANIFEST}


def write_spkl(bundle_dir: Path, target: Path) -> Path:
    """The bundle as one uncompressed zip, manifest first; written atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as z:
            z.write(bundle_dir / MANIFEST, MANIFEST)
            for p in sorted(bundle_dir.iterdir()):
                if p.name != MANIFEST:
                    z.write(p, p.name)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def export_bundle(checkpoint_dir: str | Path, out: str | Path, formats: tuple[str, ...] = ("onnx",),
                  quantize: str = "int8-static", calibration_data: str | Path | None = None, name: str | None = None,
                  exclude_ops: tuple[str, ...] = (), window: int = 128, calibration_windows: int = 16,
                  tokenizer_graphs: bool = True, spkl: bool = True, tflite_quantize: str = "int8-dynamic") -> Path:
    """Export ``checkpoint_dir`` to the bundle directory ``out`` (and ``out.spkl``); returns ``out``.

    ``quantize``: "int8-static" (QDQ, calibrated), "int8-dynamic" or "none" (fp32 graphs).
    ``exclude_ops``: ONNX op types kept in float (e.g. "Gather" keeps the embedding fp32).
    ``formats``: "onnx" always; "tflite" adds prefill.tflite/decode.tflite quantized by
    ``tflite_quantize`` ("int8-dynamic", "int8-static" or "none"; needs the [tflite] extra).
    """
    started = time.perf_counter()
    if quantize not in METHODS:
        raise ExportError(f"unknown quantization {quantize!r}; choose one of {', '.join(METHODS)}")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or "onnx" not in formats:
        raise ExportError(f"formats {list(formats)}: choose from {', '.join(FORMATS)} and always include onnx "
                          "(the runtime's reference backends run it), e.g. --format onnx,tflite")
    ckpt = load_student(checkpoint_dir)
    if ckpt.tokenizer is None:
        raise ExportError(f"{checkpoint_dir}: the checkpoint has no tokenizer.json; re-save it with "
                          "save_student(model, dir, tokenizer=...) so the bundle can tokenize")
    model = ckpt.model.float().eval()
    out = Path(out)
    name = name or out.name.removesuffix(SUFFIX)
    cfg = export_config(model)
    text, text_source = calibration_text(Path(checkpoint_dir), calibration_data)
    ids = ckpt.tokenizer.encode(text).ids
    length = min(window, model.cfg.max_seq_len)
    calib, held = split_windows(ids, length, calibration_windows)

    directory_target = out.with_suffix("") if out.suffix == SUFFIX else out
    with tempfile.TemporaryDirectory() as scratch, atomic_dir(directory_target) as stage:
        fp32 = export_onnx_graphs(model, cfg, Path(scratch))
        recipes = {}
        for graph, feeds in (("prefill", lambda: prefill_feeds(cfg, model, calib)),
                             ("decode", lambda: decode_feeds(cfg, model, calib[:4], 64))):
            target = stage / f"{graph}.onnx"
            if quantize == "none":
                target.write_bytes(fp32[graph].read_bytes())
            else:
                recipes[graph] = quantize_graph(fp32[graph], target, quantize,
                                                feeds() if quantize == "int8-static" else None, exclude_ops,
                                                vocab_size=model.cfg.vocab_size)
            onnx.checker.check_model(str(target))
        (stage / "weights.safetensors").write_bytes(weights_file(model, int8=quantize != "none"))
        tok_json = ckpt.tokenizer.to_str()
        (stage / "tokenizer.json").write_text(tok_json, encoding="utf-8")
        tokenizer_entry = {"file": "tokenizer.json", "type": "huggingface-tokenizers"}
        if tokenizer_graphs and tg.supports(tok_json):
            encoder, decoder = tg.tokenizer_graphs(tok_json)
            onnx.save(encoder, str(stage / "tokenizer.onnx"))
            onnx.save(decoder, str(stage / "detokenizer.onnx"))
            tokenizer_entry |= {"encoder_graph": "tokenizer.onnx", "decoder_graph": "detokenizer.onnx",
                                "graph_ops": "onnxruntime-extensions (ai.onnx.contrib GPT2Tokenizer, BpeDecoder)"}
        tflite_graphs, tflite_recipe = {}, None
        if "tflite" in formats:
            from .tflite_export import export_tflite_graphs

            tflite_graphs, tflite_recipe = export_tflite_graphs(model, cfg, stage, tflite_quantize, calib)
        precision = "fp32" if quantize == "none" else quantize
        prefill_io, decode_io = cfg.prefill_io(model.cfg.vocab_size), cfg.decode_io(model.cfg.vocab_size)
        manifest = BundleManifest(
            name=name, model_type=model.model_type, model_config=asdict(model.cfg),
            vocab_size=model.cfg.vocab_size,
            context_limit=model.cfg.max_seq_len if cfg.context_policy == "sliding-window" else None,
            context_policy=cfg.context_policy, special_tokens=_special_tokens(ckpt.tokenizer),
            tokenizer=tokenizer_entry,
            graphs={"prefill": GraphSpec("prefill.onnx", "onnx", precision, *prefill_io),
                    "decode": GraphSpec("decode.onnx", "onnx", precision, *decode_io), **tflite_graphs},
            state=cfg.state,
            weights={"file": "weights.safetensors", "precision": "int8-per-row" if quantize != "none" else "fp32"},
            quantization={"method": quantize, "calibration_text": text_source,
                          "calibration_windows": len(calib), "window_tokens": length, "graphs": recipes,
                          **({"tflite": tflite_recipe} if tflite_recipe else {})},
            files=_file_table(stage), versions=_versions(),
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        _write_manifest(stage, manifest)
        parity = {"onnx": measure_parity(OrtBackend(open_bundle(stage)), model, held)}
        if tflite_graphs:
            from spikelite.runtime.backends.tflite_backend import TfliteBackend

            parity["tflite"] = measure_parity(TfliteBackend(open_bundle(stage)), model, held)
        for p in parity.values():
            p["text"] = f"{text_source} (second half; the first half calibrates)"
        manifest = BundleManifest(**{**manifest.__dict__, "parity": parity,
                                     "quantization": {**manifest.quantization,
                                                      "export_seconds": round(time.perf_counter() - started, 2)}})
        _write_manifest(stage, manifest)
    if spkl:
        write_spkl(directory_target, directory_target.with_name(directory_target.name + SUFFIX))
    return directory_target


def _write_manifest(stage: Path, manifest: BundleManifest) -> None:
    data = manifest.as_dict()
    parse_manifest(data)  # the exporter holds itself to the schema the runtime reads
    (stage / MANIFEST).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
