"""Knowledge distillation from a Hugging Face teacher into a spiking student."""
from .config import ConfigError, DistillConfig
from .loss import LossParts, distillation_loss
from .trainer import DistillResult, distill

__all__ = ["ConfigError", "DistillConfig", "DistillResult", "LossParts", "distill", "distillation_loss"]
