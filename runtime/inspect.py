"""A bundle's summary for people (``spikelite inspect``) and for machines (``--json``)."""
from __future__ import annotations

from pathlib import Path

from .bundle import open_bundle


def describe(path: str | Path, verify: bool = False) -> dict:
    """Model, files and sizes, quantization, graph I/O and parity figures of a bundle."""
    bundle = open_bundle(path, verify=verify)
    m = bundle.manifest
    try:
        return {
            "path": str(bundle.path), "name": m.name, "format_version": m.format_version, "created": m.created,
            "model": {"type": m.model_type, "vocab_size": m.vocab_size, "config": m.model_config},
            "context": {"limit": m.context_limit, "policy": m.context_policy},
            "files": m.files, "total_bytes": sum(f["bytes"] for f in m.files.values()),
            "quantization": m.quantization,
            "graphs": {k: g.as_dict() for k, g in m.graphs.items()},
            "state": [s.as_dict() for s in m.state],
            "tokenizer": m.tokenizer, "special_tokens": m.special_tokens,
            "parity": m.parity, "versions": m.versions, "verified": verify,
        }
    finally:
        bundle.close()


def _shape(t: dict) -> str:
    return f"{t['name']}[{', '.join(map(str, t['shape']))}] {t['dtype']}"


def render(info: dict) -> str:
    """The readable form of :func:`describe`."""
    lines = [f"{info['name']}  ({info['path']}, bundle format {info['format_version']}, created {info['created']})",
             f"model      {info['model']['type']}, vocab {info['model']['vocab_size']}, "
             + ", ".join(f"{k}={v}" for k, v in info["model"]["config"].items() if k != "vocab_size"),
             f"context    {info['context']['limit'] or 'unbounded'} ({info['context']['policy']})",
             f"quantized  {info['quantization'].get('method')} (calibration: "
             f"{info['quantization'].get('calibration_text')})", "files"]
    for name, f in info["files"].items():
        lines.append(f"  {name:<22} {f['bytes'] / 1e6:9.3f} MB  sha256 {f['sha256'][:12]}")
    lines.append(f"  {'total':<22} {info['total_bytes'] / 1e6:9.3f} MB")
    for key, g in info["graphs"].items():
        lines.append(f"graph {key} ({g['file']}, {g['precision']})")
        lines.append("  in:  " + ", ".join(_shape(t) for t in g["inputs"]))
        lines.append("  out: " + ", ".join(_shape(t) for t in g["outputs"]))
    for fmt, p in info["parity"].items():
        lines.append(f"parity ({fmt}) on {p.get('positions')} positions of {p.get('text')}")
        lines.append(f"  top-1 agreement {p['top1_agreement']:.2%} ({p['top1_agreement_decided']:.2%} where the float "
                     f"model is decided; {p['near_tie_fraction']:.0%} near-ties), "
                     f"decode top-1 {p['decode_top1_agreement']:.2%}, "
                     f"ppl {p['ppl_float']:.3f} -> {p['ppl_bundle']:.3f} ({p['ppl_rel_delta']:+.2%}), "
                     f"max logit error {p['max_logit_error']:.3g}")
    return "\n".join(lines)
