"""Pre-train a GPT-2-style teacher from scratch with plain next-token cross-entropy.

For when no pretrained teacher can be had (offline machines, the demo): the result is
a normal Hugging Face directory that ``--teacher-model`` loads like any other.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .checkpoint import as_tokenizer
from .data import make_windows
from .distill.schedule import warmup_cosine
from .distill.trainer import evaluate, resolve_device
from .teacher import make_tiny_gpt2


@dataclass
class PretrainResult:
    directory: Path
    params: int
    val_ppl: float
    tokens_per_s: float
    wall_time_s: float


def pretrain_teacher(output_dir: str | Path, tokenizer, texts: list[str], val_texts: list[str] | None = None,
                     n_layer: int = 4, n_embd: int = 256, n_head: int = 4, max_length: int = 128,
                     num_steps: int = 500, batch_size: int = 16, lr: float = 1e-3, device: str = "auto",
                     seed: int = 0, progress: bool = True) -> PretrainResult:
    tok = as_tokenizer(tokenizer)
    dev = resolve_device(device)
    output_dir = Path(output_dir)
    make_tiny_gpt2(tok, output_dir, n_layer=n_layer, n_embd=n_embd, n_head=n_head, n_positions=max_length, seed=seed)
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(output_dir).to(dev).train()
    windows = make_windows(texts, tok, max_length, eos_id=tok.token_to_id("<|endoftext|>"), val_texts=val_texts)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.1, betas=(0.9, 0.95))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(min(100, num_steps // 10), num_steps, 0.1))
    gen = torch.Generator().manual_seed(seed)

    def autocast():
        return torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda")

    t0 = time.perf_counter()
    for _ in tqdm(range(num_steps), desc="pre-training teacher", disable=not progress, dynamic_ncols=True):
        ids = windows.train[torch.randint(len(windows.train), (batch_size,), generator=gen)].to(dev)
        with autocast():
            loss = model(input_ids=ids, labels=ids).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    elapsed = time.perf_counter() - t0
    model.eval()
    val_loss = evaluate(lambda ids: model(input_ids=ids).logits, windows.val[:64], batch_size, dev, autocast)
    model.save_pretrained(output_dir)
    return PretrainResult(directory=output_dir, params=sum(p.numel() for p in model.parameters()),
                          val_ppl=math.exp(min(val_loss, 30)), tokens_per_s=num_steps * batch_size * max_length / elapsed,
                          wall_time_s=elapsed)
