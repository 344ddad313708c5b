"""Spike functions shared by the students, and the statistics they record.

Both spike functions return exact spike values in the forward pass (no
``x + (s - x).detach()`` rounding residue), so a spike tensor is exactly
ternary or binary and stays exactly representable in INT8 after export.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch


class _TernarySpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
        return torch.sign(x) * (x.abs() > threshold).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        # straight-through estimator: the gradient passes as if spike(x) = x
        return grad, None


def ternary_spike(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """{-1, 0, +1} spikes with the adaptive threshold ``alpha * mean|x|`` of seed 002."""
    threshold = (alpha * x.detach().abs().mean(dim=-1, keepdim=True)).clamp(0.01, 10.0)
    return _TernarySpike.apply(x, threshold)


class _HeavisideSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v_minus_theta: torch.Tensor, k: float) -> torch.Tensor:
        ctx.save_for_backward(v_minus_theta)
        ctx.k = k
        return (v_minus_theta >= 0).to(v_minus_theta.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (v_minus_theta,) = ctx.saved_tensors
        return grad / (1.0 + ctx.k * v_minus_theta.abs()), None


def lif_spikes(current: torch.Tensor, timesteps: int, beta: float, theta: float, k: float) -> torch.Tensor:
    """Binary spike trains of a leaky integrate-and-fire neuron driven by a constant current.

    ``V <- beta*V + I; S = [V >= theta]; V <- V*(1-S)`` for ``timesteps`` steps, with the
    surrogate gradient ``1/(1 + k|V - theta|)``. The membrane starts at rest for every
    token (seed 003), so a token's spikes depend on that token's current alone.
    Returns ``[timesteps, *current.shape]`` of exact 0/1 values.
    """
    v = torch.zeros_like(current)
    trains = []
    for _ in range(timesteps):
        v = beta * v + current
        s = _HeavisideSpike.apply(v - theta, k)
        v = v * (1.0 - s.detach())
        trains.append(s)
    return torch.stack(trains)


@dataclass
class LayerSpikes:
    """Counts for one spike site, summed over every token recorded."""

    sites: int = 0
    spikes: int = 0
    synaptic_ops: int = 0

    @property
    def density(self) -> float:
        return self.spikes / self.sites if self.sites else 0.0


@dataclass
class SpikeStats:
    """Per-site spike density and synaptic-operation counts, for logs and energy estimates.

    A synaptic operation is one accumulate driven by one nonzero spike: ``spikes * fan_out``.
    """

    tokens: int = 0
    layers: dict[str, LayerSpikes] = field(default_factory=dict)

    def record(self, name: str, spikes: torch.Tensor, fan_out: int) -> None:
        nonzero = int(torch.count_nonzero(spikes))
        site = self.layers.setdefault(name, LayerSpikes())
        site.sites += spikes.numel()
        site.spikes += nonzero
        site.synaptic_ops += nonzero * fan_out

    @property
    def density(self) -> float:
        sites = sum(s.sites for s in self.layers.values())
        return sum(s.spikes for s in self.layers.values()) / sites if sites else 0.0

    def synaptic_ops_per_token(self) -> dict[str, float]:
        return {n: s.synaptic_ops / max(self.tokens, 1) for n, s in self.layers.items()}

    def as_dict(self) -> dict:
        return {
            "tokens": self.tokens,
            "density": self.density,
            "layers": {
                n: {
                    "density": s.density,
                    "spikes": s.spikes,
                    "sites": s.sites,
                    "synaptic_ops_per_token": s.synaptic_ops / max(self.tokens, 1),
                }
                for n, s in self.layers.items()
            },
        }


class SpikeRecorder:
    """Mixin: ``with model.recording_spikes() as stats:`` counts spikes only while inside.

    Counting forces a device sync, so it is off unless asked for.
    """

    _spike_stats: SpikeStats | None = None

    @contextlib.contextmanager
    def recording_spikes(self):
        stats = SpikeStats()
        self._spike_stats = stats
        try:
            yield stats
        finally:
            self._spike_stats = None

    def _record(self, name: str, spikes: torch.Tensor, fan_out: int) -> None:
        if self._spike_stats is not None:
            self._spike_stats.record(name, spikes, fan_out)

    def _count_tokens(self, n: int) -> None:
        if self._spike_stats is not None:
            self._spike_stats.tokens += n
