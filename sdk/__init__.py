"""Training side of SpikeLite (torch): student models, checkpoints, distillation."""
from .checkpoint import StudentCheckpoint, load_student, save_student
from .errors import CheckpointError, TokenizerMismatch
from .models import STUDENTS, Goose, GooseConfig, SpikeStats, Spikformer, SpikformerConfig, build_student

__all__ = [
    "STUDENTS", "CheckpointError", "Goose", "GooseConfig", "SpikeStats", "Spikformer", "SpikformerConfig",
    "StudentCheckpoint", "TokenizerMismatch", "build_student", "load_student", "save_student",
]
