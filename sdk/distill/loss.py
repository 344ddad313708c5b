"""The distillation objective: ``α·CE + (1−α)·T²·KL(teacher ‖ student) + γ·feature MSE``."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class LossParts:
    total: torch.Tensor
    ce: torch.Tensor
    kd: torch.Tensor
    feature: torch.Tensor


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, input_ids: torch.Tensor,
                      alpha: float, temperature: float, gamma: float = 0.0,
                      student_features: torch.Tensor | None = None,
                      teacher_features: torch.Tensor | None = None) -> LossParts:
    """Next-token losses over positions 0..T-2 (each predicts the following token).

    ``alpha = 0`` is seed 002's pure KD. KL is computed in fp32 whatever the autocast
    dtype; ``student_features`` must already be projected to the teacher's width.
    """
    s = student_logits[:, :-1].float().flatten(0, 1)
    t = teacher_logits[:, :-1].float().flatten(0, 1)
    labels = input_ids[:, 1:].flatten()
    # a term with weight 0 is still reported, but kept out of the backward pass
    with torch.set_grad_enabled(torch.is_grad_enabled() and alpha > 0):
        ce = F.cross_entropy(s, labels)
    with torch.set_grad_enabled(torch.is_grad_enabled() and alpha < 1):
        kd = F.kl_div(F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1),
                      log_target=True, reduction="batchmean") * temperature**2
    feature = s.new_zeros(())
    if gamma > 0:
        feature = F.mse_loss(student_features.float(), teacher_features.float())
    total = alpha * ce + (1 - alpha) * kd + gamma * feature
    return LossParts(total=total, ce=ce, kd=kd, feature=feature)
