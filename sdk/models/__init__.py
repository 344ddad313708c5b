"""Student architectures, each built from a dataclass config.

Every student has ``forward(input_ids) -> logits``, ``prefill(input_ids, state)``,
``step(token, state)``, ``init_state(batch)``, ``hidden``/``head`` and
``recording_spikes()``.
"""
from __future__ import annotations

import dataclasses

import torch.nn as nn

from spikelite.errors import SpikeLiteError

from .goose import Goose, GooseConfig
from .spikes import SpikeStats, lif_spikes, ternary_spike
from .spikformer import Spikformer, SpikformerConfig

STUDENTS: dict[str, tuple[type, type]] = {
    "goose": (Goose, GooseConfig),
    "spikformer": (Spikformer, SpikformerConfig),
}


class UnknownStudent(SpikeLiteError, ValueError):
    """An unknown student type or config field."""


def student_config(model_type: str, **fields):
    """The config dataclass for ``model_type``, with unknown fields named in the error."""
    if model_type not in STUDENTS:
        raise UnknownStudent(f"unknown student {model_type!r}; choose one of: {', '.join(STUDENTS)}")
    cls = STUDENTS[model_type][1]
    known = {f.name for f in dataclasses.fields(cls)}
    extra = sorted(set(fields) - known)
    if extra:
        raise UnknownStudent(f"{model_type} config has no field(s) {extra}; known fields: {sorted(known)}")
    return cls(**fields)


def build_student(model_type: str, **fields) -> nn.Module:
    return STUDENTS[model_type][0](student_config(model_type, **fields))


__all__ = [
    "Goose", "GooseConfig", "Spikformer", "SpikformerConfig", "SpikeStats", "STUDENTS",
    "UnknownStudent", "build_student", "student_config", "lif_spikes", "ternary_spike",
]
