"""The few numerical pieces the numpy students share, written as the torch modules compute them."""
from __future__ import annotations

import numpy as np


def layer_norm(x: np.ndarray, p: dict[str, np.ndarray], name: str, eps: float = 1e-5) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = np.square(x - mu).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * p[f"{name}.weight"] + p[f"{name}.bias"]


def linear(x: np.ndarray, p: dict[str, np.ndarray], name: str) -> np.ndarray:
    y = x @ p[f"{name}.weight"].T
    bias = p.get(f"{name}.bias")
    return y if bias is None else y + bias


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def silu(x: np.ndarray) -> np.ndarray:
    return x * sigmoid(x)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def ternary_spike(x: np.ndarray, alpha: float) -> np.ndarray:
    """{-1, 0, +1} with the threshold ``alpha * mean|x|`` clamped to [0.01, 10], as in the sdk."""
    threshold = np.clip(alpha * np.abs(x).mean(-1, keepdims=True), 0.01, 10.0)
    return (np.sign(x) * (np.abs(x) > threshold)).astype(x.dtype)


def lif_rates(current: np.ndarray, timesteps: int, beta: float, theta: float) -> np.ndarray:
    """Firing rate of a LIF neuron over ``timesteps`` (membrane at rest per token), as in the sdk."""
    v = np.zeros_like(current)
    count = np.zeros_like(current)
    for _ in range(timesteps):
        v = beta * v + current
        s = ((v - theta) >= 0).astype(current.dtype)
        v = v * (1.0 - s)
        count += s
    return count / np.float32(timesteps)


def dequantize(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """float32 parameters from a weights file: int8 ``NAME`` with per-row ``NAME.scale`` or float as is."""
    out = {}
    for name, t in tensors.items():
        if name.endswith(".scale"):
            continue
        scale = tensors.get(f"{name}.scale")
        if scale is not None:
            out[name] = t.astype(np.float32) * scale.reshape(-1, *([1] * (t.ndim - 1)))
        else:
            out[name] = np.asarray(t, dtype=np.float32)
    return out
