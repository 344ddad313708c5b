"""Teachers: any Hugging Face causal LM (hub id or local directory), frozen, with its tokenizer."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
from tokenizers import Tokenizer

from .checkpoint import as_tokenizer
from .errors import SpikeLiteError


class TeacherError(SpikeLiteError):
    """The teacher model or its tokenizer cannot be loaded."""


@dataclass
class Teacher:
    model: nn.Module
    tokenizer: Tokenizer
    name: str

    @property
    def vocab_size(self) -> int:
        return self.model.get_output_embeddings().weight.shape[0]

    @property
    def hidden_size(self) -> int:
        return self.model.config.hidden_size if hasattr(self.model.config, "hidden_size") else self.model.config.n_embd

    @property
    def eos_id(self) -> int | None:
        eos = self.model.config.eos_token_id
        return eos if isinstance(eos, int) else None

    @torch.no_grad()
    def logits_and_hidden(self, input_ids: torch.Tensor, want_hidden: bool):
        out = self.model(input_ids=input_ids, output_hidden_states=want_hidden)
        return out.logits, (out.hidden_states[-1] if want_hidden else None)


def load_teacher(name_or_path: str, device: torch.device | str = "cpu") -> Teacher:
    """``from_pretrained`` on an id or a local path; the teacher is frozen and in eval mode."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # per-shard bars drown the training bar for small teachers

    local = Path(name_or_path)
    looks_local = name_or_path.startswith((".", "/", "~")) or local.exists()
    if looks_local and not local.is_dir():
        raise TeacherError(f"--teacher-model {name_or_path}: no such directory; pass a local model directory or a hub id")
    try:
        tok = AutoTokenizer.from_pretrained(name_or_path)
        model = AutoModelForCausalLM.from_pretrained(name_or_path)
    except OSError as e:
        raise TeacherError(
            f"--teacher-model {name_or_path}: cannot load it ({str(e).splitlines()[0][:200]}); "
            "pass a local directory with config.json, weights and tokenizer files, or a hub id when online"
        ) from None
    if not getattr(tok, "is_fast", False):
        raise TeacherError(f"--teacher-model {name_or_path}: its tokenizer has no fast (tokenizer.json) form to bundle")
    model.to(device).eval()
    model.requires_grad_(False)
    return Teacher(model=model, tokenizer=as_tokenizer(tok), name=name_or_path)


def make_tiny_gpt2(tokenizer: Tokenizer, directory: str | Path, n_layer: int = 2, n_embd: int = 64,
                   n_head: int = 2, n_positions: int = 512, seed: int = 0, vocab_size: int | None = None) -> Path:
    """Save a small random GPT-2 teacher with ``tokenizer`` to ``directory`` (tests and the demo)."""
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    torch.manual_seed(seed)
    eos = tokenizer.token_to_id("<|endoftext|>")
    cfg = GPT2Config(vocab_size=vocab_size or tokenizer.get_vocab_size(), n_layer=n_layer, n_embd=n_embd, n_head=n_head,
                     n_positions=n_positions, bos_token_id=eos, eos_token_id=eos)
    model = GPT2LMHeadModel(cfg)
    directory = Path(directory)
    model.save_pretrained(directory)
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|endoftext|>").save_pretrained(directory)
    return directory
