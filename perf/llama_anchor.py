"""The outside anchor: a Llama-architecture model of the goose's parameter count, as GGUF Q8_0.

Built from scratch (random weights: speed does not depend on them) with the real GPT-2
tokenizer, saved as a Hugging Face model, then converted by llama.cpp's own
``convert_hf_to_gguf.py --outtype q8_0`` (shipped inside the llama-cpp-python sdist; it
imports ``sentencepiece`` even for a BPE tokenizer, hence the ``[perf]`` extra lists it).

    python perf/llama_anchor.py OUT_DIR --sdist llama_cpp_python-0.3.36.tar.gz
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GPT2 = ROOT / ".." / "shared" / "data" / "gpt2-tokenizer" / "tokenizer.json"


def build_llama(out: Path, hidden: int = 256, layers: int = 4, heads: int = 4, intermediate: int = 704) -> int:
    """Save a Llama (tied embeddings, SwiGLU 704 = goose-sized layers) with the GPT-2 tokenizer; returns params."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(tokenizer_file=str(GPT2), bos_token="<|endoftext|>", eos_token="<|endoftext|>")
    cfg = LlamaConfig(vocab_size=tok.vocab_size, hidden_size=hidden, intermediate_size=intermediate,
                      num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                      max_position_embeddings=2048, tie_word_embeddings=True,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return sum(p.numel() for p in model.parameters())


def convert(hf_dir: Path, gguf: Path, sdist: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if any(
            part in m.name for part in ("/vendor/llama.cpp/convert_hf_to_gguf.py", "/vendor/llama.cpp/gguf-py/",
                                        "/vendor/llama.cpp/conversion/"))]
        tar.extractall(tmp, members=members, filter="data")
        src = next(Path(tmp).glob("*/vendor/llama.cpp"))
        env = {**os.environ, "PYTHONPATH": f"{src / 'gguf-py'}:{os.environ.get('PYTHONPATH', '')}"}
        subprocess.run([sys.executable, str(src / "convert_hf_to_gguf.py"), str(hf_dir), "--outfile", str(gguf),
                        "--outtype", "q8_0"], check=True, env=env, capture_output=True, text=True)
    return gguf


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--sdist", required=True, help="llama-cpp-python sdist (.tar.gz) holding llama.cpp's converter")
    args = p.parse_args()
    out = Path(args.out)
    params = build_llama(out / "hf")
    gguf = convert(out / "hf", out / "llama-q8_0.gguf", Path(args.sdist))
    print(f"{gguf}: Llama {params:,} params, Q8_0, {gguf.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
