"""Multi-turn chat that keeps the decode state across turns (seed 003's conversation).

Each turn prefills only the new message: the recurrent state (goose) or the KV cache
(spikformer) already holds the conversation. Context policy: a goose's state never
grows, so a conversation runs unbounded; a KV-cache student keeps a sliding window of
the last ``context_limit`` tokens (oldest dropped first, positions clamped as trained).
"""
from __future__ import annotations

from collections.abc import Iterator

from .model import Model, Turn
from .sampling import SamplingParams


class Chat:
    def __init__(self, model: Model, system: str | None = None, user: str = "User", assistant: str = "Assistant",
                 max_new_tokens: int = 128, **sampling):
        self.model, self.system = model, system
        self.user, self.assistant = user, assistant
        self.max_new_tokens, self.sampling = max_new_tokens, sampling
        self.reset()

    def reset(self) -> None:
        """Forget the conversation: a fresh state, nothing prefilled."""
        self.state = self.model.new_state()
        self.history: list[int] = []
        self.turns: list[tuple[str, str]] = []
        self._pending: int | None = None
        self._after_stop: str | None = None
        self.last: Turn | None = None

    @property
    def tokens_in_state(self) -> int:
        return self.state.length

    def _message_text(self, message: str) -> str:
        head = ""
        if not self.turns and not self.history and self.system:
            head = f"{self.system}\n"
        user_tag = f"\n{self.user}:"
        if self._after_stop == user_tag:
            opening = " "  # the reply already ended on "\nUser:"
        else:
            opening = f"{self.user}: " if not self.history else f"\n{self.user}: "
        return f"{head}{opening}{message}\n{self.assistant}:"

    def send(self, message: str, **overrides) -> Iterator[str]:
        """Stream the reply to ``message``; stopping early keeps what was said."""
        text = self._message_text(message)
        ids = ([self._pending] if self._pending is not None else []) + self.model.encode(text)
        max_new_tokens = overrides.pop("max_new_tokens", self.max_new_tokens)
        params = SamplingParams(**{**self.sampling, **overrides})
        turn = Turn(self.model, self.state, ids, params, max_new_tokens,
                    [f"\n{self.user}:"], self.history + ids)
        self.last = turn
        try:
            yield from turn
        finally:
            self.state, self.history = turn.state, turn.history
            self._pending = turn.pending
            self._after_stop = turn.matched_stop
            self.turns.append((message, turn.text))

    def ask(self, message: str, **overrides) -> str:
        return "".join(self.send(message, **overrides)).strip()
