"""The resume directory: the latest student plus everything needed to continue bit-for-bit.

Optimizer and scheduler state are plain tensors and numbers, saved with ``torch.save``
and read back with ``weights_only=True``: nothing is unpickled.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from spikelite.atomic import atomic_dir

from ..checkpoint import StudentCheckpoint, load_student, save_student
from ..errors import CheckpointError

TRAINER_FILE = "trainer_state.pt"


@dataclass
class TrainerState:
    checkpoint: StudentCheckpoint
    optimizer: dict
    scheduler: dict
    projection: dict | None
    sampler: torch.Tensor
    step: int
    skipped: int
    best_val: float
    history: dict


def save_trainer_state(directory: Path, state: TrainerState) -> None:
    with atomic_dir(directory) as staging:
        save_student(state.checkpoint.model, staging, tokenizer=state.checkpoint.tokenizer, steps=state.step)
        torch.save({
            "optimizer": state.optimizer, "scheduler": state.scheduler, "projection": state.projection,
            "sampler": state.sampler, "step": state.step, "skipped": state.skipped, "best_val": state.best_val,
            "history": state.history,
        }, staging / TRAINER_FILE)


def load_trainer_state(directory: Path, device: torch.device) -> TrainerState:
    checkpoint = load_student(directory, map_location=device)
    try:
        raw = torch.load(directory / TRAINER_FILE, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{directory / TRAINER_FILE}: missing; delete {directory} to start over") from None
    return TrainerState(checkpoint=checkpoint, optimizer=raw["optimizer"], scheduler=raw["scheduler"],
                        projection=raw["projection"], sampler=raw["sampler"].cpu(), step=raw["step"],
                        skipped=raw["skipped"], best_val=raw["best_val"], history=raw["history"])
