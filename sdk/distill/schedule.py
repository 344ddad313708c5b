"""Linear warm-up then cosine decay to ``floor`` times the peak learning rate."""
import math


def warmup_cosine(warmup: int, total: int, floor: float):
    def scale(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return scale
