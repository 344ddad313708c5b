"""Training text: the built-in synthetic corpus, plain-text files, or a ``datasets`` id.

Text is tokenized once, cut into fixed windows, and split into train and held-out
validation windows; the held-out text travels with the checkpoint so export can
calibrate and measure parity on text the student never trained on.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import SpikeLiteError


class DatasetError(SpikeLiteError):
    """Training text is missing, empty, or too short for one window."""


_SUBJECTS = ["The smart glasses", "A small model", "The phone", "My assistant", "The battery", "A spiking network",
             "The camera", "The weather app", "Our team", "The tiny robot", "The student", "The teacher"]
_VERBS = ["reads", "translates", "summarises", "remembers", "describes", "answers", "finds", "shows", "explains",
          "counts", "follows", "saves"]
_OBJECTS = ["the street sign", "a short message", "the recipe", "the meeting notes", "the bus timetable",
            "a question about the weather", "the name of the song", "the way home", "the price of coffee",
            "a list of groceries", "the next train", "the book title"]
_TAILS = ["in a second.", "without the cloud.", "while the battery lasts.", "on the device.", "before lunch.",
          "and then waits.", "with very little power.", "for the user.", "every morning.", "in plain English."]


def synthetic_corpus(n_sentences: int = 4000, seed: int = 0) -> list[str]:
    """Built-in English-like prompts (seed 000's ``synthetic`` dataset), one paragraph per line."""
    rng = random.Random(seed)
    lines = []
    for _ in range(max(1, n_sentences // 4)):
        sentences = [
            f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TAILS)}"
            for _ in range(4)
        ]
        lines.append(" ".join(sentences))
    return lines


def read_text_file(path: str | Path) -> list[str]:
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file; pass --dataset-path a plain-text file, one document per line")
    lines = [ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    if not lines:
        raise DatasetError(f"{path}: the file has no text; give it at least a few paragraphs")
    return lines


def load_hub_dataset(name: str, split: str = "train") -> list[str]:
    """Text of a ``datasets`` id (e.g. ``wikitext:wikitext-2-raw-v1``); needs the hub."""
    try:
        import datasets
    except ImportError:
        raise DatasetError(f"--dataset {name} needs the 'datasets' package: pip install datasets") from None
    repo, _, subset = name.partition(":")
    try:
        ds = datasets.load_dataset(repo, subset or None, split=split)
    except Exception as e:  # offline, unknown id: say which and what to do
        raise DatasetError(
            f"could not load dataset {name!r} ({type(e).__name__}: {str(e).splitlines()[0][:200]}); "
            "use --dataset-path with a local text file when the hub is unreachable"
        ) from None
    column = "text" if "text" in ds.column_names else ds.column_names[0]
    return [t for t in ds[column] if isinstance(t, str) and t.strip()]


def load_texts(dataset: str = "synthetic", dataset_path: str | Path | None = None) -> list[str]:
    if dataset_path is not None:
        return read_text_file(dataset_path)
    if dataset == "synthetic":
        return synthetic_corpus()
    return load_hub_dataset(dataset)


@dataclass
class TokenWindows:
    train: torch.Tensor  # [N, max_length] int64
    val: torch.Tensor  # [M, max_length] int64
    val_text: str


def make_windows(texts: list[str], tokenizer, max_length: int, val_fraction: float = 0.1,
                 eos_id: int | None = None, val_texts: list[str] | None = None) -> TokenWindows:
    """Tokenize once, join documents (separated by ``eos_id``), cut windows, hold out validation text.

    With ``val_texts`` (e.g. WikiText-2 valid.txt) those are the validation text; otherwise
    the last ``val_fraction`` of the documents is held out, so validation windows never
    overlap training windows.
    """
    if max_length < 2:
        raise DatasetError(f"--max-length must be at least 2 tokens, got {max_length}")
    if val_texts is not None:
        train_docs, val_docs = texts, val_texts
    else:
        if len(texts) < 2:
            texts = _split_single(texts)
        n_val_docs = max(1, int(round(len(texts) * val_fraction)))
        train_docs, val_docs = texts[:-n_val_docs], texts[-n_val_docs:]
    train = _windows(_ids(train_docs, tokenizer, eos_id), max_length)
    val = _windows(_ids(val_docs, tokenizer, eos_id), max_length)
    if len(train) == 0 or len(val) == 0:
        raise DatasetError(
            f"the text makes {len(train)} training and {len(val)} validation windows of {max_length} tokens; "
            "give more text or a smaller --max-length"
        )
    return TokenWindows(train=train, val=val, val_text="\n".join(val_docs))


def _split_single(texts: list[str]) -> list[str]:
    text = texts[0] if texts else ""
    cut = int(len(text) * 0.9)
    return [text[:cut], text[cut:]]


def _ids(docs: list[str], tokenizer, eos_id: int | None) -> list[int]:
    ids: list[int] = []
    for enc in tokenizer.encode_batch(docs, add_special_tokens=False):
        ids.extend(enc.ids)
        if eos_id is not None:
            ids.append(eos_id)
    return ids


def _windows(ids: list[int], max_length: int) -> torch.Tensor:
    n = len(ids) // max_length
    return torch.tensor(ids[: n * max_length], dtype=torch.long).view(n, max_length)
