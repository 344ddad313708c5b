"""``verify_bundle``: every byte against the manifest, and optionally parity against the checkpoint."""
from __future__ import annotations

from pathlib import Path

from spikelite.runtime.backends.ort_backend import OrtBackend
from spikelite.runtime.bundle import open_bundle
from spikelite.sdk.checkpoint import load_student

from .calibration import calibration_text, split_windows
from .errors import ParityError
from .parity import measure_parity


def verify_bundle(bundle_path: str | Path, against: str | Path | None = None, min_top1: float = 0.99,
                  max_ppl_delta: float = 0.02, text: str | Path | None = None, windows: int = 16) -> dict:
    """Check sha256 and schema (raises ``BundleError``); with ``against``, recompute parity on held-out
    text and raise :class:`ParityError` when top-1 agreement (on positions where the float model is
    decided, see :mod:`.parity`) < ``min_top1`` or |ppl Δ| > ``max_ppl_delta``."""
    bundle = open_bundle(bundle_path, verify=True)
    report = {"bundle": str(bundle.path), "files": dict.fromkeys(bundle.manifest.files, "ok"), "schema": "ok"}
    if against is None:
        return report
    ckpt = load_student(against)
    if ckpt.tokenizer is None:
        raise ParityError(f"{against}: the checkpoint has no tokenizer.json to encode held-out text with")
    body, source = calibration_text(Path(against), text)
    length = bundle.manifest.quantization.get("window_tokens", 128)
    _, held = split_windows(ckpt.tokenizer.encode(body).ids, length, windows)
    backends = {"onnx": OrtBackend}
    if "decode_tflite" in bundle.manifest.graphs:
        from spikelite.runtime.backends.tflite_backend import TfliteBackend

        backends["tflite"] = TfliteBackend
    report["parity"], failures = {}, []
    for fmt, cls in backends.items():
        parity = measure_parity(cls(bundle), ckpt.model, held)
        parity["text"] = source
        report["parity"][fmt] = parity
        if parity["top1_agreement_decided"] < min_top1:
            failures.append(f"{fmt}: top-1 agreement where the float model is decided "
                            f"{parity['top1_agreement_decided']:.2%} < {min_top1:.2%}")
        if abs(parity["ppl_rel_delta"]) > max_ppl_delta:
            failures.append(f"{fmt}: |ppl delta| {abs(parity['ppl_rel_delta']):.2%} > {max_ppl_delta:.2%}")
    report["passed"] = not failures
    if failures:
        err = ParityError(f"{bundle_path}: parity below thresholds ({'; '.join(failures)}); re-export with "
                          "--quantize int8-static and more calibration text, or exclude ops with --exclude-ops")
        err.report = report
        raise err
    return report
