"""distill(): teacher -> spiking student, with validation, best-checkpoint keeping and resume."""
from __future__ import annotations

import math
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn
from tqdm.auto import tqdm

from ..checkpoint import StudentCheckpoint, count_params, load_student, save_student
from ..data import load_texts, make_windows, read_text_file
from ..errors import TokenizerMismatch
from ..models import build_student
from ..teacher import Teacher, load_teacher
from .config import DistillConfig
from .loss import distillation_loss
from .report import write_report
from .schedule import warmup_cosine
from .resume import TrainerState, load_trainer_state, save_trainer_state


@dataclass
class DistillResult:
    checkpoint_dir: Path
    summary: dict
    student_ppl: float
    teacher_ppl: float
    steps: int
    skipped_steps: int
    history: dict = field(repr=False, default_factory=dict)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        from .config import ConfigError

        raise ConfigError("--device cuda was asked for but no CUDA device is visible; use --device cpu or auto")
    return torch.device(name)


def _ppl(loss: float) -> float:
    return math.exp(min(loss, 30.0))


@torch.no_grad()
def evaluate(forward, windows: torch.Tensor, batch_size: int, device: torch.device, autocast) -> float:
    """Mean next-token cross-entropy of ``forward(ids) -> logits`` over ``windows``."""
    total, count = 0.0, 0
    for i in range(0, len(windows), batch_size):
        ids = windows[i:i + batch_size].to(device)
        with autocast():
            logits = forward(ids)
        loss = nn.functional.cross_entropy(logits[:, :-1].float().flatten(0, 1), ids[:, 1:].flatten(), reduction="sum")
        total += loss.item()
        count += ids[:, 1:].numel()
    return total / count


def _student_knobs(cfg: DistillConfig, vocab_size: int) -> dict:
    return {"max_seq_len": cfg.max_length, **cfg.student_config, "vocab_size": vocab_size}


def _check_vocab(teacher: Teacher) -> None:
    if teacher.tokenizer.get_vocab_size() > teacher.vocab_size:
        raise TokenizerMismatch(
            f"teacher {teacher.name}: its tokenizer has {teacher.tokenizer.get_vocab_size()} tokens but the model "
            f"predicts {teacher.vocab_size}; use the tokenizer the teacher was trained with"
        )


def distill(cfg: DistillConfig, on_step: Callable[[int], None] | None = None) -> DistillResult:
    """Run the distillation ``cfg`` describes; ``on_step(step)`` is called after every optimizer step.

    Ctrl-C (or any KeyboardInterrupt, e.g. from ``on_step``) saves OUTPUT_DIR/resume first,
    so ``resume=True`` continues exactly where the run stopped.
    """
    out = Path(cfg.output_dir)
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    teacher = load_teacher(cfg.teacher_model, device)
    _check_vocab(teacher)

    texts = load_texts(cfg.dataset, cfg.dataset_path)
    val_texts = read_text_file(cfg.val_dataset_path) if cfg.val_dataset_path else None
    windows = make_windows(texts, teacher.tokenizer, cfg.max_length, eos_id=teacher.eos_id, val_texts=val_texts)
    val = windows.val[: cfg.eval_batches * cfg.batch_size]

    resume_dir = out / "resume"
    state = load_trainer_state(resume_dir, device) if cfg.resume and resume_dir.is_dir() else None
    if state is not None:
        student = state.checkpoint.model.to(device).train()
        if state.checkpoint.metadata["vocab_size"] != teacher.vocab_size:
            raise TokenizerMismatch(
                f"{resume_dir}: the student predicts {state.checkpoint.metadata['vocab_size']} tokens but teacher "
                f"{teacher.name} has {teacher.vocab_size}; resume with the teacher the run started with"
            )
    else:
        student = build_student(cfg.student, **_student_knobs(cfg, teacher.vocab_size)).to(device).train()

    projection = nn.Linear(student.cfg.d_model, teacher.hidden_size, bias=False).to(device) if cfg.gamma > 0 else None
    params = list(student.parameters()) + (list(projection.parameters()) if projection is not None else [])
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.95))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(cfg.warmup, cfg.num_steps, cfg.min_lr_ratio))
    sampler = torch.Generator().manual_seed(cfg.seed)
    history = {"step": [], "loss": [], "ce": [], "kd": [], "eval_step": [], "val_ppl": [], "density": []}
    step, skipped, best_val = 0, 0, float("inf")
    if state is not None:
        opt.load_state_dict(state.optimizer)
        sched.load_state_dict(state.scheduler)
        if projection is not None and state.projection is not None:
            projection.load_state_dict(state.projection)
        sampler.set_state(state.sampler)
        step, skipped, best_val, history = state.step, state.skipped, state.best_val, state.history

    use_bf16 = device.type == "cuda"
    # spike counting syncs and breaks graphs: log steps run the eager module
    fast_hidden = torch.compile(student.hidden) if cfg.compile else student.hidden

    def autocast():
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16)

    teacher_val = evaluate(lambda ids: teacher.model(input_ids=ids).logits, val, cfg.batch_size, device, autocast)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def save_resume() -> None:
        save_trainer_state(resume_dir, TrainerState(
            checkpoint=StudentCheckpoint(student, {}, teacher.tokenizer, resume_dir), optimizer=opt.state_dict(),
            scheduler=sched.state_dict(), projection=projection.state_dict() if projection is not None else None,
            sampler=sampler.get_state(), step=step, skipped=skipped, best_val=best_val, history=history))

    def save_best(val_loss: float) -> None:
        save_student(student, out, tokenizer=teacher.tokenizer, heldout_text=windows.val_text,
                     tokenizer_name=teacher.name, steps=step, avg_loss=history["loss"][-1] if history["loss"] else None,
                     val_ppl=_ppl(val_loss), teacher_val_ppl=_ppl(teacher_val), config=cfg.to_dict(),
                     training_config={k: getattr(cfg, k) for k in ("num_steps", "batch_size", "grad_accum_steps",
                                      "teacher_model", "lr", "temperature", "alpha", "gamma", "dataset",
                                      "max_length")})

    out.mkdir(parents=True, exist_ok=True)
    cfg.save(out / "distill_config.json")
    tokens_per_step = cfg.batch_size * cfg.grad_accum_steps * cfg.max_length
    start_step, t0 = step, time.perf_counter()
    bar = tqdm(total=cfg.num_steps, initial=step, desc="distilling", disable=not cfg.progress, dynamic_ncols=True,
               mininterval=0.1 if sys.stderr.isatty() else 15)
    try:
        while step < cfg.num_steps:
            if cfg.max_minutes is not None and time.perf_counter() - t0 > 60 * cfg.max_minutes:
                break
            log_now = (step + 1) % cfg.log_interval == 0
            opt.zero_grad(set_to_none=True)
            parts_sum = {"loss": 0.0, "ce": 0.0, "kd": 0.0}
            density = None
            for _ in range(cfg.grad_accum_steps):
                idx = torch.randint(len(windows.train), (cfg.batch_size,), generator=sampler)
                ids = windows.train[idx].to(device, non_blocking=True)
                with autocast():
                    t_logits, t_hidden = teacher.logits_and_hidden(ids, projection is not None)
                    if log_now:
                        with student.recording_spikes() as stats:
                            hidden, _ = student.hidden(ids)
                        density = stats.density
                    else:
                        hidden, _ = fast_hidden(ids)
                    s_logits = student.head(hidden)
                    parts = distillation_loss(s_logits, t_logits, ids, cfg.alpha, cfg.temperature, cfg.gamma,
                                              projection(hidden) if projection is not None else None, t_hidden)
                (parts.total / cfg.grad_accum_steps).backward()
                for key, value in (("loss", parts.total), ("ce", parts.ce), ("kd", parts.kd)):
                    parts_sum[key] += value.detach() / cfg.grad_accum_steps
            grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            if torch.isfinite(grad_norm):
                opt.step()
            else:
                skipped += 1
            sched.step()
            step += 1
            bar.update(1)
            if on_step is not None:
                on_step(step)
            last = step == cfg.num_steps or (
                cfg.max_minutes is not None and time.perf_counter() - t0 > 60 * cfg.max_minutes)
            if log_now or last:
                values = {k: float(v) for k, v in parts_sum.items()}
                history["step"].append(step)
                for k in ("loss", "ce", "kd"):
                    history[k].append(values[k])
                if density is not None:
                    history["density"].append(density)
                bar.set_postfix(loss=f"{values['loss']:.3f}", ppl=f"{_ppl(values['ce']):.1f}",
                                spikes=f"{density:.2f}" if density is not None else "-", skipped=skipped)
            if step % cfg.eval_interval == 0 or last:
                student.eval()
                val_loss = evaluate(student, val, cfg.batch_size, device, autocast)
                student.train()
                history["eval_step"].append(step)
                history["val_ppl"].append(_ppl(val_loss))
                if val_loss < best_val:
                    best_val = val_loss
                    save_best(val_loss)
                save_resume()
    except KeyboardInterrupt:
        save_resume()
        bar.close()
        raise
    bar.close()
    elapsed = time.perf_counter() - t0

    best = load_student(out, map_location=device)
    summary = _summary(cfg, teacher, best, val, device, autocast, history, elapsed,
                       (step - start_step) * tokens_per_step, skipped, teacher_val)
    write_report(out, summary)
    return DistillResult(checkpoint_dir=out, summary=summary, student_ppl=summary["student"]["val_ppl"],
                         teacher_ppl=summary["teacher"]["val_ppl"], steps=step, skipped_steps=skipped,
                         history=history)


def _summary(cfg, teacher, best, val, device, autocast, history, elapsed, tokens, skipped, teacher_val) -> dict:
    student = best.model
    with student.recording_spikes() as stats:
        student_val = evaluate(student, val, cfg.batch_size, device, autocast)
    teacher_params = sum(p.numel() for p in teacher.model.parameters())
    student_params = count_params(student)
    if device.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated(device) / 2**20
        peak_kind = "cuda_allocated"
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_kind = "process_rss"
    return {
        "teacher": {"name": teacher.name, "params": teacher_params, "val_ppl": _ppl(teacher_val)},
        "student": {"model_type": student.model_type, "params": student_params, "val_ppl": _ppl(student_val),
                    "best_step": best.metadata.get("steps"), "config": best.metadata["student_config"]},
        "ppl_ratio": _ppl(student_val) / _ppl(teacher_val),
        "compression_ratio": teacher_params / student_params,
        "spikes": stats.as_dict(),
        "throughput_tokens_per_s": tokens / elapsed if elapsed > 0 else 0.0,
        "wall_time_s": elapsed,
        "peak_memory_mb": peak_mb,
        "peak_memory_kind": peak_kind,
        "device": str(device) if device.type != "cuda" else torch.cuda.get_device_name(device),
        "steps": history["step"][-1] if history["step"] else 0,
        "skipped_steps": skipped,
        "validation_windows": len(val),
        "curves": history,
        "config": cfg.to_dict(),
    }

