"""The backend protocol and the decode state every backend shares."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass
class DecodeState:
    """The tensors a decode graph carries (by manifest name) and how many tokens they hold.

    Each conversation owns its state, so one loaded model serves many threads. States
    are plain numpy arrays with the graph's names: any backend can continue any other's.
    """

    tensors: dict[str, np.ndarray]
    length: int = 0
    spare: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # reused output buffers

    def copy(self) -> DecodeState:
        return DecodeState({k: v.copy() for k, v in self.tensors.items()}, self.length)


class Backend(Protocol):
    name: str

    def init_state(self, batch: int = 1) -> DecodeState: ...

    def prefill(self, input_ids: np.ndarray, state: DecodeState) -> tuple[np.ndarray, DecodeState]:
        """``input_ids [B,T]`` int64 -> logits ``[B,T,V]`` float32 and the state after the last token."""

    def decode(self, token: np.ndarray, state: DecodeState) -> tuple[np.ndarray, DecodeState]:
        """``token [B]`` int64 -> logits ``[B,V]`` float32 and the next state."""
