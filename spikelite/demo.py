"""The main job end to end on an embedded default, with nothing downloaded.

tiny tokenizer -> tiny GPT-2 teacher pre-trained on the built-in corpus -> goose student
distilled from it -> text streamed from the student.
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
    from spikelite.runtime.textstream import TextStreamer
    from spikelite.sdk import load_student
    from spikelite.sdk.data import synthetic_corpus
    from spikelite.sdk.distill import DistillConfig, distill
    from spikelite.sdk.pretrain import pretrain_teacher
    from spikelite.sdk.sample import sample_tokens

    out = Path(output_dir)
    texts = synthetic_corpus()
    tokenizer = train_demo_tokenizer(texts)
    echo(f"[1/3] pre-training a tiny GPT-2 teacher on the built-in corpus ({teacher_steps} steps)")
    teacher = pretrain_teacher(out / "teacher", tokenizer, texts, n_layer=2, n_embd=128, n_head=4, max_length=64,
                               num_steps=teacher_steps, batch_size=16, lr=2e-3, device="cpu", progress=progress)
    echo(f"      teacher: {teacher.params:,} params, held-out ppl {teacher.val_ppl:.2f}")
    echo(f"[2/3] distilling a goose student from it ({student_steps} steps)")
    result = distill(DistillConfig(teacher_model=str(teacher.directory), output_dir=str(out / "student"),
                                   num_steps=student_steps, batch_size=16, max_length=64, lr=3e-3,
                                   eval_interval=max(1, student_steps // 4), alpha=0.5, device="cpu",
                                   student_config={"d_model": 128, "n_layers": 2}, progress=progress))
    s = result.summary
    echo(f"      student: {s['student']['params']:,} params, held-out ppl {result.student_ppl:.2f} "
         f"(teacher {result.teacher_ppl:.2f}), spike density {s['spikes']['density']:.2f}")
    echo(f"[3/3] streaming from the student: {prompt!r}")
    ckpt = load_student(result.checkpoint_dir)
    prompt_ids = ckpt.tokenizer.encode(prompt).ids
    streamer = TextStreamer(ckpt.tokenizer, prompt_ids)
    write = write or (lambda t: print(t, end="", flush=True))
    write(prompt)
    pieces = [prompt]
    eos = ckpt.tokenizer.token_to_id("<|endoftext|>")
    for token in sample_tokens(ckpt.model, prompt_ids, max_new_tokens, temperature=0.8, top_k=20, seed=0,
                               stop_ids=(eos,) if eos is not None else ()):
        delta = streamer.push(token)
        pieces.append(delta)
        write(delta)
    tail = streamer.flush()
    pieces.append(tail)
    write(tail + "\n")
    return DemoResult(output_dir=out, teacher_ppl=result.teacher_ppl, student_ppl=result.student_ppl,
                      text="".join(pieces))
