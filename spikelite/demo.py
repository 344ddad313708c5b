"""The main job end to end on an embedded default, with nothing downloaded.

tiny tokenizer -> tiny GPT-2 teacher pre-trained on the built-in corpus -> goose student
distilled from it -> INT8 bundle -> text streamed from the bundle by the torch-free runtime
-> latency and energy profile.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class DemoResult:
    output_dir: Path
    teacher_ppl: float
    student_ppl: float
    text: str
    bundle: Path
    parity: dict


def train_demo_tokenizer(texts: list[str], vocab_size: int = 512):
    """A byte-level BPE (GPT-2 style) trained on ``texts`` in well under a second."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    return tok


def run_demo(output_dir: str | Path = "artifacts/demo", teacher_steps: int = 300, student_steps: int = 300,
             prompt: str = "The smart glasses", max_new_tokens: int = 40, progress: bool = True,
             echo: Callable[[str], None] = print, write: Callable[[str], None] | None = None) -> DemoResult:
    from spikelite.exporters import export_bundle
    from spikelite.runtime import load
    from spikelite.runtime.profile import energy, latency
    from spikelite.sdk.data import synthetic_corpus
    from spikelite.sdk.distill import DistillConfig, distill
    from spikelite.sdk.pretrain import pretrain_teacher

    out = Path(output_dir)
    texts = synthetic_corpus()
    tokenizer = train_demo_tokenizer(texts)
    echo(f"[1/5] pre-training a tiny GPT-2 teacher on the built-in corpus ({teacher_steps} steps)")
    teacher = pretrain_teacher(out / "teacher", tokenizer, texts, n_layer=2, n_embd=128, n_head=4, max_length=64,
                               num_steps=teacher_steps, batch_size=16, lr=2e-3, device="cpu", progress=progress)
    echo(f"      teacher: {teacher.params:,} params, held-out ppl {teacher.val_ppl:.2f}")
    echo(f"[2/5] distilling a goose student from it ({student_steps} steps)")
    result = distill(DistillConfig(teacher_model=str(teacher.directory), output_dir=str(out / "student"),
                                   num_steps=student_steps, batch_size=16, max_length=64, lr=3e-3,
                                   eval_interval=max(1, student_steps // 4), alpha=0.5, device="cpu",
                                   student_config={"d_model": 128, "n_layers": 2}, progress=progress))
    s = result.summary
    echo(f"      student: {s['student']['params']:,} params, held-out ppl {result.student_ppl:.2f} "
         f"(teacher {result.teacher_ppl:.2f}), spike density {s['spikes']['density']:.2f}")
    echo("[3/5] exporting an INT8 bundle (static QDQ, calibrated on held-out text)")
    bundle = export_bundle(result.checkpoint_dir, out / "bundle")
    model = load(bundle)
    parity = model.manifest.parity["onnx"]
    echo(f"      {bundle} (+ .spkl): top-1 agreement with the float student {parity['top1_agreement']:.1%}, "
         f"ppl {parity['ppl_float']:.3f} -> {parity['ppl_bundle']:.3f}")
    echo(f"[4/5] streaming from the bundle ({model.backend_name} backend): {prompt!r}")
    write = write or (lambda t: print(t, end="", flush=True))
    write(prompt)
    turn = model.turn(prompt, max_new_tokens=max_new_tokens, temperature=0.8, top_k=20, seed=0)
    for delta in turn:
        write(delta)
    r = turn.result(len(turn.new_ids))
    write("\n")
    echo(f"      {r.tokens} tokens at {r.tokens_per_s:.0f} tokens/s, first token after {r.ttft_s * 1e3:.1f} ms")
    echo("[5/5] profiling the bundle on this machine")
    lat = latency(model, prompt_tokens=32, new_tokens=64, runs=3)
    en = energy(bundle, tokens=64)
    echo(f"      decode {lat['decode_tokens_per_s']:,.0f} tokens/s (p50 {lat['decode']['p50_ms']:.2f} ms, "
         f"p95 {lat['decode']['p95_ms']:.2f} ms), first token {lat['ttft']['p50_ms']:.1f} ms, "
         f"peak RSS {lat['peak_rss_mb']:.0f} MB on {lat['device']['cpu']}")
    echo(f"      compute energy {en['snn_uj_per_token']:.3f} µJ/token (int8, 45 nm), dense twin "
         f"{en['dense_over_snn']:.2f}x that; details: spikelite profile latency|power|energy {bundle}")
    return DemoResult(output_dir=out, teacher_ppl=result.teacher_ppl, student_ppl=result.student_ppl,
                      text=prompt + r.text, bundle=bundle, parity=parity)
