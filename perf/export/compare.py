"""fp32 vs INT8-static vs INT8-dynamic bundles of one checkpoint, side by side in one run.

Usage: python perf/export/compare.py CHECKPOINT OUT_DIR [--text FILE]
Prints a markdown table (file sizes, top-1 agreement, ppl delta, export wall time) and
writes OUT_DIR/export_table.json. Parity is measured on held-out text the calibration
never saw (see spikelite.exporters.calibration).
"""
import argparse
import json
import time
from pathlib import Path

from spikelite.exporters import export_bundle
from spikelite.runtime import open_bundle


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("out")
    p.add_argument("--text", help="calibration text (default: the checkpoint's held-out text)")
    args = p.parse_args()
    rows = []
    for method in ("none", "int8-static", "int8-dynamic"):
        t = time.perf_counter()
        bundle = export_bundle(args.checkpoint, Path(args.out) / method, quantize=method,
                               calibration_data=args.text, spkl=False)
        wall = time.perf_counter() - t
        m = open_bundle(bundle).manifest
        sizes = {k: v["bytes"] for k, v in m.files.items()}
        rows.append({"method": method, "export_s": round(wall, 1), "sizes": sizes,
                     "graphs_mb": (sizes["prefill.onnx"] + sizes["decode.onnx"]) / 1e6,
                     "weights_mb": sizes["weights.safetensors"] / 1e6, "parity": m.parity["onnx"]})
    base = rows[0]["graphs_mb"]
    print("| bundle | prefill+decode MB | ratio | weights MB | top-1 | top-1 decided | ppl float -> bundle (Δ) | "
          "decode top-1 | export s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        q = r["parity"]
        print(f"| {r['method']} | {r['graphs_mb']:.1f} | {r['graphs_mb'] / base:.2f} | {r['weights_mb']:.1f} | "
              f"{q['top1_agreement']:.2%} | {q['top1_agreement_decided']:.2%} | {q['ppl_float']:.2f} -> "
              f"{q['ppl_bundle']:.2f} ({q['ppl_rel_delta']:+.2%}) | {q['decode_top1_agreement']:.2%} | "
              f"{r['export_s']} |")
    (Path(args.out) / "export_table.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
