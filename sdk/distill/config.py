"""DistillConfig: every knob of a distillation run, saved beside its output as JSON."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SpikeLiteError
from ..models import STUDENTS


class ConfigError(SpikeLiteError):
    """A distillation setting is out of range or inconsistent."""


@dataclass
class DistillConfig:
    teacher_model: str
    dataset: str = "synthetic"
    dataset_path: str | None = None
    val_dataset_path: str | None = None
    output_dir: str = "artifacts/snn_student"
    student: str = "goose"
    student_config: dict = field(default_factory=dict)
    num_steps: int = 1000
    batch_size: int = 8
    grad_accum_steps: int = 1
    max_length: int = 128
    log_interval: int = 5
    eval_interval: int = 100
    eval_batches: int = 20
    lr: float = 5e-4
    min_lr_ratio: float = 0.1
    warmup_steps: int | None = None
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    temperature: float = 2.0
    alpha: float = 0.5
    gamma: float = 0.0
    device: str = "auto"
    seed: int = 0
    max_minutes: float | None = None
    compile: bool = False
    resume: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        checks = [
            (self.num_steps >= 1, f"--num-steps must be at least 1, got {self.num_steps}"),
            (self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}"),
            (self.grad_accum_steps >= 1, f"--grad-accum-steps must be at least 1, got {self.grad_accum_steps}"),
            (self.max_length >= 2, f"--max-length must be at least 2, got {self.max_length}"),
            (self.log_interval >= 1, f"--log-interval must be at least 1, got {self.log_interval}"),
            (self.eval_interval >= 1, f"--eval-interval must be at least 1, got {self.eval_interval}"),
            (self.lr > 0, f"--lr must be positive, got {self.lr}"),
            (self.temperature > 0, f"--temperature must be positive, got {self.temperature}"),
            (0.0 <= self.alpha <= 1.0, f"--alpha must be in [0, 1], got {self.alpha}"),
            (self.max_minutes is None or self.max_minutes > 0,
             f"--max-minutes must be positive, got {self.max_minutes}"),
            (self.gamma >= 0.0, f"--gamma must be >= 0, got {self.gamma}"),
            (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:"),
             f"--device must be auto, cpu or cuda, got {self.device!r}"),
            (self.student in STUDENTS, f"--student must be one of {', '.join(STUDENTS)}, got {self.student!r}"),
            (bool(self.teacher_model), "--teacher-model is required: a Hugging Face causal-LM id or local path"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    @property
    def warmup(self) -> int:
        return self.warmup_steps if self.warmup_steps is not None else min(100, self.num_steps // 10)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, path: str | Path) -> None:
        from spikelite.atomic import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "DistillConfig":
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}: not valid JSON ({e})") from None
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{path}: unknown field(s) {unknown}; known: {sorted(known)}")
        return cls(**data)
