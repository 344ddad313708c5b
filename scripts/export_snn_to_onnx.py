#!/usr/bin/env python3
"""Seed-000 compatible exporter: ``--model-path --metadata-path --output-path``.

Writes seed 000's single ``input_ids -> logits`` graph at OUTPUT_PATH and, beside it,
the full INT8 bundle (``bundle/`` and ``bundle.spkl``) that ``spikelite.runtime`` loads.
New code should call ``spikelite export`` (or ``spikelite.exporters.export_bundle``).
"""
import argparse
import sys
from pathlib import Path

from spikelite.errors import SpikeLiteError


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-path", required=True, help="student.safetensors (or legacy student.pt)")
    p.add_argument("--metadata-path", help="metadata.json (default: beside the weights)")
    p.add_argument("--output-path", required=True, help="where student.onnx goes")
    p.add_argument("--no-bundle", action="store_true", help="write only the single graph")
    args = p.parse_args(argv)
    ckpt = Path(args.model_path).parent
    try:
        if args.metadata_path and Path(args.metadata_path).resolve() != (ckpt / "metadata.json").resolve():
            raise SpikeLiteError(f"{args.metadata_path}: metadata must sit beside the weights in {ckpt}; "
                                 "copy it there as metadata.json")
        from spikelite.exporters import export_bundle
        from spikelite.exporters.onnx_export import export_forward_onnx
        from spikelite.sdk import load_student

        out = Path(args.output_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        export_forward_onnx(load_student(ckpt).model, out)
        print(f"wrote {out}")
        if not args.no_bundle:
            bundle = export_bundle(ckpt, out.parent / "bundle")
            print(f"wrote {bundle} and {bundle}.spkl")
    except SpikeLiteError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
