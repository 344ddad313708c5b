"""Student checkpoints: ``student.safetensors`` + ``metadata.json`` + ``tokenizer.json``.

metadata.json keeps the fields seed 000 documents (model_type, vocab_size, student_params,
training_config, config, steps, avg_loss, tokenizer_name) and adds the full student config,
so a checkpoint rebuilds its model with no other input. Nothing here unpickles objects.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
from safetensors.torch import load, save
from tokenizers import Tokenizer

from spikelite import __version__
from spikelite.atomic import atomic_write_bytes, atomic_write_text

from .errors import CheckpointError, TokenizerMismatch
from .models import STUDENTS, UnknownStudent, student_config

CHECKPOINT_FORMAT = 1
WEIGHTS = "student.safetensors"
LEGACY_WEIGHTS = "student.pt"
METADATA = "metadata.json"
TOKENIZER = "tokenizer.json"
HELDOUT = "heldout.txt"


@dataclass
class StudentCheckpoint:
    model: nn.Module
    metadata: dict[str, Any]
    tokenizer: Tokenizer | None
    path: Path


def as_tokenizer(tokenizer: Any) -> Tokenizer:
    """A ``tokenizers.Tokenizer`` from itself, a Hugging Face fast tokenizer, or a tokenizer.json path."""
    if isinstance(tokenizer, Tokenizer):
        return tokenizer
    if isinstance(tokenizer, (str, Path)):
        return Tokenizer.from_file(str(tokenizer))
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if isinstance(backend, Tokenizer):
        return backend
    raise TypeError(
        f"cannot save a tokenizer of type {type(tokenizer).__name__}: pass a tokenizers.Tokenizer, "
        "a Hugging Face *fast* tokenizer, or the path of a tokenizer.json"
    )


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def save_student(model: nn.Module, directory: str | Path, tokenizer: Any = None, heldout_text: str | None = None,
                 **training_info: Any) -> Path:
    """Write the checkpoint; ``heldout_text`` is text the student never trained on (export calibrates on it).

    Each file is written atomically and metadata.json goes last with every file's sha256,
    so a save interrupted between files is detected on load instead of mixing two models.
    The directory may hold other files (a training run's summary): they are left alone.
    """
    directory = Path(directory)
    cfg = model.cfg
    tok = as_tokenizer(tokenizer) if tokenizer is not None else None
    if tok is not None and tok.get_vocab_size() > cfg.vocab_size:
        raise TokenizerMismatch(
            f"tokenizer has {tok.get_vocab_size()} tokens but the student's vocab_size is {cfg.vocab_size}; "
            "build the student with vocab_size >= the tokenizer's"
        )
    metadata = {
        "format_version": CHECKPOINT_FORMAT,
        "model_type": model.model_type,
        "vocab_size": cfg.vocab_size,
        "student_params": count_params(model),
        "student_config": dataclasses.asdict(cfg),
        "tokenizer_name": training_info.pop("tokenizer_name", None),
        "tokenizer_file": TOKENIZER if tok is not None else None,
        "spikelite_version": __version__,
        "training_config": {},
        "config": {},
        "steps": 0,
        "avg_loss": None,
    }
    metadata.update(training_info)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    files = {WEIGHTS: save(tensors, metadata={"format": "pt"})}
    if tok is not None:
        files[TOKENIZER] = tok.to_str().encode("utf-8")
    if heldout_text is not None:
        files[HELDOUT] = heldout_text.encode("utf-8")
    metadata["files"] = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    for name, data in files.items():
        atomic_write_bytes(directory / name, data)
    atomic_write_text(directory / METADATA, json.dumps(metadata, indent=2, default=str) + "\n")
    return directory


def read_metadata(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: not found; a checkpoint directory needs {METADATA} beside its weights")
    try:
        meta = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not valid JSON ({e}); re-save the checkpoint with save_student") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {type(meta).__name__}")
    for field, kind in (("model_type", str), ("student_config", dict)):
        if not isinstance(meta.get(field), kind):
            raise CheckpointError(
                f"{path}: field {field!r} is missing or not a {kind.__name__}; "
                "re-save the checkpoint with spikelite.sdk.save_student"
            )
    if meta["model_type"] not in STUDENTS:
        raise CheckpointError(f"{path}: model_type {meta['model_type']!r} is not one of {sorted(STUDENTS)}")
    if meta.get("format_version", 1) > CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path}: checkpoint format {meta['format_version']} is newer than this SpikeLite reads "
            f"({CHECKPOINT_FORMAT}); upgrade spikelite"
        )
    return meta


def _verified_bytes(directory: Path, name: str, meta: dict[str, Any]) -> bytes:
    data = (directory / name).read_bytes()
    expected = meta.get("files", {}).get(name)
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise CheckpointError(
            f"{directory / name}: sha256 differs from {METADATA} (an interrupted save or a modified file); "
            "re-save the checkpoint or resume training to write it again"
        )
    return data


def _read_weights(directory: Path, meta: dict[str, Any]) -> dict[str, torch.Tensor]:
    if (directory / WEIGHTS).is_file():
        data = _verified_bytes(directory, WEIGHTS, meta)
        try:
            return load(data)
        except Exception as e:  # safetensors raises its own untyped errors on corrupt headers
            raise CheckpointError(f"{directory / WEIGHTS}: unreadable ({e}); re-save the checkpoint") from None
    if (directory / LEGACY_WEIGHTS).is_file():
        try:
            state = torch.load(directory / LEGACY_WEIGHTS, map_location="cpu", weights_only=True)
        except Exception as e:
            raise CheckpointError(
                f"{directory / LEGACY_WEIGHTS}: not a plain state dict ({type(e).__name__}); "
                "only weights are loaded, never pickled objects: re-save it as a state dict"
            ) from None
        if not isinstance(state, dict):
            raise CheckpointError(f"{directory / LEGACY_WEIGHTS}: expected a state dict, got {type(state).__name__}")
        return state
    raise CheckpointError(f"{directory}: no {WEIGHTS} (or legacy {LEGACY_WEIGHTS}); is this a checkpoint directory?")


def load_student(directory: str | Path, map_location: str | torch.device = "cpu") -> StudentCheckpoint:
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: not a directory; pass the checkpoint directory save_student wrote")
    meta = read_metadata(directory / METADATA)
    try:
        cfg = student_config(meta["model_type"], **meta["student_config"])
    except (UnknownStudent, TypeError) as e:
        raise CheckpointError(f"{directory / METADATA}: field 'student_config' is invalid: {e}") from None
    model = STUDENTS[meta["model_type"]][0](cfg)
    state = _read_weights(directory, meta)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[0]
        raise CheckpointError(f"{directory}: weights do not fit the config in {METADATA} ({first})") from None
    model.to(map_location).eval()
    tok = None
    if (directory / TOKENIZER).is_file():
        tok = Tokenizer.from_str(_verified_bytes(directory, TOKENIZER, meta).decode("utf-8"))
    return StudentCheckpoint(model=model, metadata=meta, tokenizer=tok, path=directory)
