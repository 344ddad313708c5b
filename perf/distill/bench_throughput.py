"""Training tokens/s: SpikeLite's distill() against seed 002's loop, same GPU, model size and data, one run.

The seed loop is re-implemented faithfully below (StudentSpikingGoose with its cumsum
recurrence and position table, fp16 autocast + GradScaler, per-step .item() logging,
pure T²·KL loss). SpikeLite runs with alpha=0 so both optimise the same objective.

    python perf/distill/bench_throughput.py --teacher-model DIR --dataset-path FILE [--steps 60]
"""
from __future__ import annotations

import argparse
import json
import math
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from spikelite.sdk.data import make_windows, read_text_file
from spikelite.sdk.distill import DistillConfig, distill
from spikelite.sdk.teacher import load_teacher


def seed_ternary_spike(x, alpha):
    threshold = (alpha * x.abs().mean(dim=-1, keepdim=True)).clamp(min=0.01, max=10.0)
    spikes = torch.zeros_like(x)
    spikes = torch.where(x > threshold, torch.ones_like(x), spikes)
    spikes = torch.where(x < -threshold, -torch.ones_like(x), spikes)
    return x + (spikes - x).detach()


class SeedRecurrentLayer(nn.Module):
    def __init__(self, d, layer_idx, n_layers):
        super().__init__()
        self.ln = nn.LayerNorm(d)
        ratio = layer_idx / max(n_layers - 1, 1)
        self.time_mix_k = nn.Parameter(torch.ones(d) * (1 - ratio))
        self.time_mix_v = nn.Parameter(torch.ones(d) * (1 - ratio))
        self.time_mix_r = nn.Parameter(torch.ones(d) * (1 - ratio))
        self.decay_weight = nn.Parameter(torch.zeros(d) - 0.5)
        self.key_proj = nn.Linear(d, d, bias=False)
        self.value_proj = nn.Linear(d, d, bias=False)
        self.receptance_proj = nn.Linear(d, d, bias=False)
        self.output_proj = nn.Linear(d, d, bias=False)
        self.spike_alpha = nn.Parameter(torch.tensor(1.0))
        self.register_buffer("running_k_density", torch.tensor(0.0))
        self.register_buffer("running_v_density", torch.tensor(0.0))
        for m in (self.key_proj, self.value_proj, self.receptance_proj, self.output_proj):
            nn.init.normal_(m.weight, std=0.1 / math.sqrt(d))

    def forward(self, x):
        B, T, D = x.shape
        xn = self.ln(x)
        prev = F.pad(xn[:, :-1, :], (0, 0, 1, 0))
        xk = xn * self.time_mix_k + prev * (1 - self.time_mix_k)
        xv = xn * self.time_mix_v + prev * (1 - self.time_mix_v)
        xr = xn * self.time_mix_r + prev * (1 - self.time_mix_r)
        k = seed_ternary_spike(self.key_proj(xk), self.spike_alpha)
        v = seed_ternary_spike(self.value_proj(xv), self.spike_alpha)
        r = torch.sigmoid(self.receptance_proj(xr))
        kv = k * v
        decay = torch.sigmoid(self.decay_weight)
        t_idx = torch.arange(T, device=x.device, dtype=x.dtype)
        decay_powers = decay.unsqueeze(0) ** t_idx.unsqueeze(1)
        s = torch.cumsum(kv / (decay_powers.unsqueeze(0) + 1e-8), dim=1) * decay_powers.unsqueeze(0)
        if self.training:
            with torch.no_grad():
                self.running_k_density = 0.99 * self.running_k_density + 0.01 * (k != 0).float().mean()
                self.running_v_density = 0.99 * self.running_v_density + 0.01 * (v != 0).float().mean()
        return x + r * self.output_proj(s)


class SeedFFN(nn.Module):
    def __init__(self, d, expand=4):
        super().__init__()
        self.ln = nn.LayerNorm(d)
        self.w1 = nn.Linear(d, d * expand, bias=False)
        self.w2 = nn.Linear(d * expand, d, bias=False)

    def forward(self, x):
        return x + self.w2(F.silu(self.w1(self.ln(x))))


class SeedGoose(nn.Module):
    def __init__(self, vocab, d, n_layers, max_seq_len):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos_embed = nn.Embedding(max_seq_len, d)
        self.layers = nn.ModuleList(
            nn.ModuleDict({"rec": SeedRecurrentLayer(d, i, n_layers), "ffn": SeedFFN(d)}) for i in range(n_layers))
        self.ln_out = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.embed.weight
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.pos_embed.weight, std=0.02)

    def forward(self, ids):
        pos = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        x = self.embed(ids) + self.pos_embed(pos)
        for layer in self.layers:
            x = layer["ffn"](layer["rec"](x))
        return self.head(self.ln_out(x))

    def avg_density(self):
        return sum(l["rec"].running_k_density.item() + l["rec"].running_v_density.item() for l in self.layers) / (
            2 * len(self.layers))


def seed_loop_tokens_per_s(teacher, windows, args, device) -> float:
    student = SeedGoose(teacher.vocab_size, args.d_model, args.n_layers, args.max_length).to(device)
    opt = torch.optim.AdamW(student.parameters(), lr=3e-4, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps)
    scaler = torch.amp.GradScaler("cuda")
    gen = torch.Generator().manual_seed(0)
    t0 = None
    for step in range(args.steps):
        if step == args.warmup:
            torch.cuda.synchronize()
            t0 = time.perf_counter()
        ids = windows[torch.randint(len(windows), (args.batch_size,), generator=gen)].to(device, non_blocking=True)
        with torch.autocast("cuda", dtype=torch.float16):
            with torch.no_grad():
                t_logits = teacher.model(ids).logits
            student.train()
            s_logits = student(ids)
            T = 2.0
            loss = F.kl_div(F.log_softmax(s_logits / T, -1).view(-1, s_logits.size(-1)),
                            F.softmax(t_logits / T, -1).view(-1, t_logits.size(-1)), reduction="batchmean") * T**2
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        gn = torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        if not torch.isfinite(gn):
            opt.zero_grad(set_to_none=True)
            scaler.update()
            continue
        scaler.step(opt)
        scaler.update()
        sched.step()
        loss.item(), student.avg_density()  # the seed logs both every step
    torch.cuda.synchronize()
    return (args.steps - args.warmup) * args.batch_size * args.max_length / (time.perf_counter() - t0)


def model_fwd_bwd_ms(model, vocab, args, device, autocast_dtype, reps=30) -> float:
    """Student forward + backward alone (no teacher, no optimizer): isolates the model's cost."""
    ids = torch.randint(0, vocab, (args.batch_size, args.max_length), device=device)
    for i in range(reps + 5):
        if i == 5:
            torch.cuda.synchronize()
            t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=autocast_dtype):
            model(ids).float().logsumexp(-1).mean().backward()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / reps * 1e3


def spikelite_tokens_per_s(args, compile: bool = False) -> float:
    marks = {}

    def on_step(step):
        if step in (args.warmup, args.steps):
            torch.cuda.synchronize()
            marks[step] = time.perf_counter()

    with tempfile.TemporaryDirectory() as out:
        distill(DistillConfig(teacher_model=args.teacher_model, dataset_path=args.dataset_path, output_dir=out,
                              num_steps=args.steps, batch_size=args.batch_size, max_length=args.max_length,
                              eval_interval=10**9, eval_batches=1, alpha=0.0, lr=3e-4, progress=False,
                              compile=compile,
                              student_config={"d_model": args.d_model, "n_layers": args.n_layers}), on_step=on_step)
    return (args.steps - args.warmup) * args.batch_size * args.max_length / (marks[args.steps] - marks[args.warmup])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--teacher-model", required=True)
    p.add_argument("--dataset-path", required=True)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--n-layers", type=int, default=4)
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args()
    device = torch.device("cuda")
    teacher = load_teacher(args.teacher_model, device)
    windows = make_windows(read_text_file(args.dataset_path), teacher.tokenizer, args.max_length,
                           eos_id=teacher.eos_id).train
    from spikelite.sdk.models import build_student

    seed_model = SeedGoose(teacher.vocab_size, args.d_model, args.n_layers, args.max_length).to(device)
    our_model = build_student("goose", vocab_size=teacher.vocab_size, d_model=args.d_model,
                              n_layers=args.n_layers).to(device)
    model_ms = {"seed002_fp16": model_fwd_bwd_ms(seed_model, teacher.vocab_size, args, device, torch.float16),
                "spikelite_bf16": model_fwd_bwd_ms(our_model, teacher.vocab_size, args, device, torch.bfloat16)}
    seed = seed_loop_tokens_per_s(teacher, windows, args, device)
    ours = spikelite_tokens_per_s(args)
    try:
        ours_compiled = spikelite_tokens_per_s(args, compile=True)
    except Exception as e:  # report, do not hide, a compile failure
        ours_compiled = f"failed: {type(e).__name__}: {str(e)[:200]}"
    row = {"student_fwd_bwd_ms": model_ms, "spikelite_compiled_tokens_per_s": ours_compiled,"device": torch.cuda.get_device_name(), "batch_size": args.batch_size, "max_length": args.max_length,
           "d_model": args.d_model, "n_layers": args.n_layers, "timed_steps": args.steps - args.warmup,
           "seed002_tokens_per_s": seed, "spikelite_tokens_per_s": ours, "speedup": ours / seed}
    print(json.dumps(row, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(row, f, indent=2)


if __name__ == "__main__":
    main()
