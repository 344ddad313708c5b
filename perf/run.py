"""The performance suite: every way to run the same student, side by side in one process.

Rows, each at 1 thread and at all cores, same 128-token WikiText-2 prompt, 128 greedy tokens:
PyTorch eager fp32 (the seeds' path), the numpy backend, onnxruntime fp32 / INT8-static /
INT8-dynamic, TFLite INT8 (LiteRT), and llama.cpp (llama-cpp-python) running a same-size Llama at Q8_0 as the
outside anchor. Then a roofline for this CPU: per-token MACs against measured fp32 and int8
GEMM peaks, per-token weight bytes against measured memory bandwidth, and each row's share.

    pip install -c constraints.txt -e ".[perf]"        # builds llama-cpp-python from its sdist
    python perf/run.py --out artifacts/perf [--checkpoint DIR] [--gguf FILE]

Without --checkpoint it builds a goose of the acceptance size (d256 × 4 layers, GPT-2
vocabulary, 16.0M parameters) with random weights: speed does not depend on training.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def goose_checkpoint(out: Path) -> Path:
    from tokenizers import Tokenizer

    from spikelite.sdk import build_student, save_student

    if (out / "metadata.json").is_file():
        return out
    tok = Tokenizer.from_file(str(DATA / "gpt2-tokenizer" / "tokenizer.json"))
    model = build_student("goose", vocab_size=tok.get_vocab_size(), d_model=256, n_layers=4).eval()
    heldout = (DATA / "wikitext-2" / "valid.txt").read_text(encoding="utf-8")[:200_000]
    return save_student(model, out, tokenizer=tok, heldout_text=heldout)


def timed_decode(prefill, decode, prompt: list[int], new_tokens: int, runs: int) -> dict:
    """prefill(ids) -> last logits; decode(token) -> logits. Median over ``runs`` after one warm-up."""
    ttfts, rates = [], []
    for r in range(runs + 1):
        t0 = time.perf_counter()
        token = int(np.argmax(prefill(prompt)))
        ttft = time.perf_counter() - t0
        t1 = time.perf_counter()
        for _ in range(new_tokens - 1):
            token = int(np.argmax(decode(token)))
        if r:
            ttfts.append(ttft)
            rates.append((new_tokens - 1) / (time.perf_counter() - t1))
    return {"ttft_ms": statistics.median(ttfts) * 1e3, "tokens_per_s": statistics.median(rates),
            "spread": [min(rates), max(rates)]}


def torch_row(ckpt: Path, threads: int):
    import torch

    from spikelite.sdk import load_student

    torch.set_num_threads(threads)
    model = load_student(ckpt).model.float().eval()
    holder = {}

    def prefill(ids):
        with torch.no_grad():
            logits, holder["s"] = model.prefill(torch.tensor([ids]))
        return logits[0, -1].numpy()

    def decode(tok):
        with torch.no_grad():
            logits, holder["s"] = model.step(torch.tensor([tok]), holder["s"])
        return logits[0].numpy()

    return prefill, decode


def bundle_row(bundle: Path, backend: str, threads: int):
    from spikelite.runtime import load

    model = load(bundle, backend=backend, threads=threads)
    holder = {}

    def prefill(ids):
        logits, holder["s"] = model.prefill(ids, model.new_state())
        return logits[0, -1]

    def decode(tok):
        logits, holder["s"] = model.decode(tok, holder["s"])
        return logits[0]

    return prefill, decode


def llama_row(gguf: Path, threads: int):
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_threads=threads, n_threads_batch=threads, n_ctx=1024, n_batch=256,
                logits_all=False, verbose=False)

    def prefill(ids):
        llm.reset()
        llm.eval(ids)
        return np.asarray(llm.scores[llm.n_tokens - 1])

    def decode(tok):
        llm.eval([tok])
        return np.asarray(llm.scores[llm.n_tokens - 1])

    return prefill, decode


def gemm_peaks(threads: int) -> dict:
    """Measured fp32 (numpy BLAS) and int8 (onnxruntime MatMulInteger) multiply-accumulates per second."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    n = 1024
    a, b = np.random.rand(n, n).astype(np.float32), np.random.rand(n, n).astype(np.float32)
    a @ b
    t = time.perf_counter()
    reps = 10
    for _ in range(reps):
        a @ b
    fp32 = reps * n**3 / (time.perf_counter() - t)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "b"], ["c"])], "mmi",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [n, n]),
         helper.make_tensor_value_info("b", TensorProto.INT8, [n, n])],
        [helper.make_tensor_value_info("c", TensorProto.INT32, [n, n])])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    s = ort.InferenceSession(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString(),
                             options)
    feeds = {"a": np.random.randint(0, 255, (n, n), dtype=np.uint8), "b": np.random.randint(-127, 127, (n, n),
                                                                                            dtype=np.int8)}
    s.run(None, feeds)
    t = time.perf_counter()
    for _ in range(reps):
        s.run(None, feeds)
    return {"fp32_macs_per_s": fp32, "int8_macs_per_s": reps * n**3 / (time.perf_counter() - t)}


def bandwidth_bytes_per_s() -> float:
    src = np.ones(64 * 2**20, dtype=np.float32)  # 256 MiB
    dst = np.empty_like(src)
    np.copyto(dst, src)
    t = time.perf_counter()
    for _ in range(5):
        np.copyto(dst, src)
    return 5 * 2 * src.nbytes / (time.perf_counter() - t)  # read + write


def goose_cost(cfg: dict, vocab: int) -> dict:
    d, f, layers = cfg["d_model"], cfg["d_model"] * cfg["ffn_expand"], cfg["n_layers"]
    macs = layers * (4 * d * d + 2 * d * f) + vocab * d
    params = vocab * d + layers * (4 * d * d + 2 * d * f)
    return {"macs_per_token": macs, "fp32_bytes": 4 * params, "int8_bytes": params}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="artifacts/perf")
    p.add_argument("--checkpoint")
    p.add_argument("--gguf", help="the llama.cpp anchor (perf/llama_anchor.py makes it)")
    p.add_argument("--prompt-tokens", type=int, default=128)
    p.add_argument("--new-tokens", type=int, default=128)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    out = Path(args.out)
    from threadpoolctl import threadpool_limits
    from tokenizers import Tokenizer

    from spikelite.exporters import export_bundle
    from spikelite.runtime import open_bundle

    ckpt = Path(args.checkpoint) if args.checkpoint else goose_checkpoint(out / "goose")
    bundles = {}
    for q in ("none", "int8-static", "int8-dynamic"):
        target = out / f"bundle-{q}"
        bundles[q] = target if (target / "manifest.json").is_file() else export_bundle(ckpt, target, quantize=q,
                                                                                        spkl=False)
    target = out / "bundle-tflite"
    if not (target / "manifest.json").is_file():
        t = time.perf_counter()
        export_bundle(ckpt, target, formats=("onnx", "tflite"), quantize="int8-dynamic", spkl=False)
        print(f"TFLite export: {time.perf_counter() - t:.0f} s", flush=True)
    bundles["tflite"] = target
    manifest = open_bundle(bundles["int8-static"]).manifest
    tok = Tokenizer.from_file(str(bundles["none"] / "tokenizer.json"))
    text = (DATA / "wikitext-2" / "valid.txt").read_text(encoding="utf-8")[:20_000]
    prompt = tok.encode(text).ids[: args.prompt_tokens]
    cores = os.cpu_count() or 1
    rows = []
    makers = [("PyTorch eager fp32", "fp32", lambda t: torch_row(ckpt, t)),
              ("numpy backend (int8 weights)", "fp32", lambda t: bundle_row(bundles["int8-static"], "numpy", t)),
              ("onnxruntime fp32", "fp32", lambda t: bundle_row(bundles["none"], "onnxruntime", t)),
              ("onnxruntime INT8-static", "int8", lambda t: bundle_row(bundles["int8-static"], "onnxruntime", t)),
              ("onnxruntime INT8-dynamic", "int8", lambda t: bundle_row(bundles["int8-dynamic"], "onnxruntime", t)),
              ("TFLite INT8 (dynamic-range, XNNPACK)", "int8", lambda t: bundle_row(bundles["tflite"], "tflite", t))]
    if args.gguf:
        makers.append(("llama.cpp Q8_0 (same-size Llama)", "int8", lambda t: llama_row(Path(args.gguf), t)))
    for threads in sorted({1, cores}):
        for name, precision, make in makers:
            with threadpool_limits(limits=threads):
                before = rss_mb()
                prefill, decode = make(threads)
                r = timed_decode(prefill, decode, prompt, args.new_tokens, args.runs)
                r.update(name=name, precision=precision, threads=threads, rss_growth_mb=rss_mb() - before)
                rows.append(r)
                print(f"{name:<34} threads {threads:>2}: {r['tokens_per_s']:9.1f} tok/s, TTFT {r['ttft_ms']:7.2f} ms",
                      flush=True)
    with threadpool_limits(limits=cores):
        peaks = {t: gemm_peaks(t) for t in sorted({1, cores})}
    bw = bandwidth_bytes_per_s()
    cost = goose_cost(manifest.model_config, manifest.vocab_size)
    for r in rows:
        peak = peaks[r["threads"]][f"{r['precision']}_macs_per_s"]
        weight_bytes = cost[f"{r['precision']}_bytes"]
        r["bound_tokens_per_s"] = min(peak / cost["macs_per_token"], bw / weight_bytes)
        r["bound_kind"] = "compute" if peak / cost["macs_per_token"] < bw / weight_bytes else "memory"
        r["fraction_of_bound"] = r["tokens_per_s"] / r["bound_tokens_per_s"]
        anchor = next((a for a in rows if a["name"].startswith("llama.cpp") and a["threads"] == r["threads"]), None)
        r["vs_llama_cpp"] = r["tokens_per_s"] / anchor["tokens_per_s"] if anchor else None
        torch_eager = next(a for a in rows if a["name"].startswith("PyTorch") and a["threads"] == r["threads"])
        r["vs_pytorch"] = r["tokens_per_s"] / torch_eager["tokens_per_s"]
    sizes = {k: {f: v["bytes"] for f, v in open_bundle(b).manifest.files.items()} for k, b in bundles.items()}
    result = {"rows": rows, "bundle_file_bytes": sizes, "gemm_peaks": peaks, "bandwidth_bytes_per_s": bw, "cost": cost,
              "prompt_tokens": len(prompt), "new_tokens": args.new_tokens, "runs": args.runs,
              "device": __import__("spikelite.runtime.profile", fromlist=["device_info"]).device_info()}
    out.mkdir(parents=True, exist_ok=True)
    (out / "perf.json").write_text(json.dumps(result, indent=2, default=str))
    print(f"\nroofline: {cost['macs_per_token'] / 1e6:.1f}M MACs/token; weights {cost['fp32_bytes'] / 1e6:.0f} MB fp32, "
          f"{cost['int8_bytes'] / 1e6:.0f} MB int8; memory {bw / 1e9:.1f} GB/s; GEMM peaks " + ", ".join(
              f"{t} thr: fp32 {v['fp32_macs_per_s'] / 1e9:.1f} / int8 {v['int8_macs_per_s'] / 1e9:.1f} GMAC/s"
              for t, v in peaks.items()))
    print("\n| row | threads | decode tok/s | TTFT ms | RSS growth MB | × PyTorch | × llama.cpp | bound tok/s | "
          "% of bound |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        vs = f"{r['vs_llama_cpp']:.2f}" if r["vs_llama_cpp"] else "–"
        print(f"| {r['name']} | {r['threads']} | {r['tokens_per_s']:.1f} | {r['ttft_ms']:.1f} | "
              f"{r['rss_growth_mb']:.0f} | {r['vs_pytorch']:.2f} | {vs} | {r['bound_tokens_per_s']:.0f} "
              f"({r['bound_kind']}) | {r['fraction_of_bound']:.0%} |")


if __name__ == "__main__":
    main()
