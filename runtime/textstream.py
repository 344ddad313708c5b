"""Token ids in, text deltas out, never splitting a multi-byte character across deltas."""
from __future__ import annotations

_CONTEXT = 4  # tokens of already-released text decoded with the pending ones (keeps leading-space rules right)


class TextStreamer:
    """Releases text only once later tokens can no longer change it.

    Byte-level BPE can end a token in the middle of a UTF-8 character; the decoder then
    shows U+FFFD at the end, which a later token completes, so such a tail is held back.
    Each push decodes only the pending tokens plus a few of context: O(1) per token.
    """

    def __init__(self, tokenizer, prompt_ids: list[int] | None = None):
        self._tokenizer = tokenizer
        self._context: list[int] = list(prompt_ids or [])[-_CONTEXT:]
        self._pending: list[int] = []
        self._released = 0  # characters of the pending text already released

    def push(self, token_id: int) -> str:
        self._pending.append(token_id)
        text = self._pending_text()
        stable = len(text)
        while stable > self._released and text[stable - 1] == "\ufffd":
            stable -= 1
        delta = text[self._released:stable]
        self._released = stable
        if stable == len(text):
            self._context = (self._context + self._pending)[-_CONTEXT:]
            self._pending, self._released = [], 0
        return delta

    def flush(self) -> str:
        """What is left once no token will follow (a lone broken byte decodes as U+FFFD)."""
        delta = self._pending_text()[self._released:]
        self._context = (self._context + self._pending)[-_CONTEXT:]
        self._pending, self._released = [], 0
        return delta

    def _pending_text(self) -> str:
        head = self._tokenizer.decode(self._context) if self._context else ""
        return self._tokenizer.decode(self._context + self._pending)[len(head):]
