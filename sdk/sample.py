"""Token-by-token sampling from a student in PyTorch: prefill the prompt once, then ``step``."""
from __future__ import annotations

from collections.abc import Iterator

import torch


@torch.no_grad()
def sample_tokens(model, prompt_ids: list[int], max_new_tokens: int, temperature: float = 0.0, top_k: int = 0,
                  seed: int = 0, stop_ids: tuple[int, ...] = ()) -> Iterator[int]:
    """Yield new token ids; ``temperature == 0`` is greedy."""
    if not prompt_ids:
        raise ValueError("the prompt has no tokens; give at least one")
    device = model.embed.weight.device
    gen = torch.Generator(device="cpu").manual_seed(seed)
    logits, state = model.prefill(torch.tensor([prompt_ids], device=device))
    logits = logits[:, -1]
    for _ in range(max_new_tokens):
        token = _choose(logits[0].float().cpu(), temperature, top_k, gen)
        if token in stop_ids:
            return
        yield token
        logits, state = model.step(torch.tensor([token], device=device), state)


def _choose(logits: torch.Tensor, temperature: float, top_k: int, gen: torch.Generator) -> int:
    if temperature <= 0:
        return int(logits.argmax())
    logits = logits / temperature
    if top_k > 0:
        kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return int(torch.multinomial(torch.softmax(logits, -1), 1, generator=gen))
