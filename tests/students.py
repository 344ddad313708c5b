"""Students trained in a few seconds on real text, for tests that need a model that has learned something."""
from __future__ import annotations

from pathlib import Path

import torch

from spikelite.sdk import build_student, save_student

WIKITEXT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "wikitext-2"


def real_text(max_chars: int = 400_000) -> str:
    """WikiText-2 test split from ../shared (the project's training convention), else built-in prompts."""
    path = WIKITEXT / "test.txt"
    if path.is_file():
        return path.read_text(encoding="utf-8")[:max_chars]
    from spikelite.sdk.data import synthetic_corpus

    return "\n".join(synthetic_corpus())


def train_tokenizer(text: str, vocab_size: int = 512):
    from spikelite.demo import train_demo_tokenizer

    return train_demo_tokenizer(text.splitlines(), vocab_size=vocab_size)


def train_student(out: Path, model_type: str = "goose", steps: int = 250, seq: int = 64, batch: int = 16,
                  **config) -> Path:
    """Next-token training (no teacher) on real text; saves a checkpoint with held-out text."""
    torch.manual_seed(0)
    text = real_text()
    split = int(len(text) * 0.9)
    tok = train_tokenizer(text[:split])
    ids = torch.tensor(tok.encode(text[:split]).ids)
    model = build_student(model_type, vocab_size=tok.get_vocab_size(), max_seq_len=seq, **config)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        starts = torch.randint(0, len(ids) - seq - 1, (batch,), generator=g)
        x = torch.stack([ids[s:s + seq + 1] for s in starts])
        loss = torch.nn.functional.cross_entropy(model(x[:, :-1]).flatten(0, 1), x[:, 1:].flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return save_student(model.eval(), out, tokenizer=tok, heldout_text=text[split:], steps=steps,
                        avg_loss=float(loss.detach()))
