"""``load(bundle) -> Model``: tokenize, prefill, decode, sample, stream text.

A Model is immutable once loaded and holds no per-conversation state, so threads can
share it: each ``stream``/``generate`` call and each :class:`Chat` owns its own state.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from .backends import DecodeState, backend_class
from .bundle import Bundle, open_bundle
from .errors import BundleError, ContextLengthExceeded, GenerationError
from .sampling import SamplingParams, choose
from .textstream import TextStreamer


@dataclass
class GenerationResult:
    text: str
    prompt_tokens: int
    tokens: int
    ttft_s: float  # prompt in, first token out
    tokens_per_s: float  # decode rate after the first token
    stop_reason: str  # "length", "eos" or "stop"
    token_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "token_ids"}


class Turn:
    """One prompt's decoding: iterate for text deltas; the figures fill in as it runs.

    Closing it early (``close()`` or leaving a ``for`` loop) stops decoding; ``state``
    then holds every token decoded so far, plus ``pending``, sampled but not yet fed.
    """

    def __init__(self, model: Model, state: DecodeState, new_ids: list[int], params: SamplingParams,
                 max_new_tokens: int, stop: Sequence[str], history: list[int]):
        if max_new_tokens < 1:
            raise GenerationError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        if any(not s for s in stop):
            raise GenerationError("stop strings must be non-empty")
        self.model, self.state, self.params = model, state, params
        self.new_ids, self.max_new_tokens, self.stop = new_ids, max_new_tokens, list(stop)
        self.history = history
        self._seen = set(history)  # kept in step with history: no per-token rebuild for the penalty
        self.token_ids: list[int] = []
        self.pending: int | None = None
        self.text = ""
        self.stop_reason = "length"
        self.ttft_s = 0.0
        self.decode_s = 0.0
        self.matched_stop: str | None = None

    def __iter__(self) -> Iterator[str]:
        m = self.model
        rng = np.random.default_rng(self.params.seed)
        hold = max((len(s) for s in self.stop), default=1) - 1
        streamer = TextStreamer(m.tokenizer, self.history[-4:])
        t0 = time.perf_counter()
        logits, self.state = m.prefill(self.new_ids, self.state)
        logits = logits[0, -1]
        buffer = ""
        for i in range(self.max_new_tokens):
            token = choose(logits, self.params, rng, self._seen)
            self.pending = token
            self.token_ids.append(token)
            self.history.append(token)
            self._seen.add(token)
            if i == 0:
                self.ttft_s = time.perf_counter() - t0
                t1 = time.perf_counter()
            if token == m.eos_id:
                self.stop_reason = "eos"
                break
            buffer += streamer.push(token)
            cut = _find_stop(buffer, self.stop)
            if cut is not None:
                index, self.matched_stop = cut
                self.text += buffer[:index]
                yield buffer[:index]
                self.stop_reason = "stop"
                buffer = ""
                break
            release = buffer[:len(buffer) - hold] if hold else buffer
            if release:
                buffer = buffer[len(release):]
                self.text += release
                yield release
            if i + 1 < self.max_new_tokens:
                logits, self.state = m.decode(token, self.state)
                logits = logits[0]
                self.pending = None
        tail = buffer + (streamer.flush() if self.stop_reason != "stop" else "")
        if tail:
            self.text += tail
            yield tail
        if self.token_ids:
            self.decode_s = time.perf_counter() - t1

    def result(self, prompt_tokens: int) -> GenerationResult:
        n = len(self.token_ids)
        rate = (n - 1) / self.decode_s if n > 1 and self.decode_s > 0 else 0.0
        return GenerationResult(self.text, prompt_tokens, n, self.ttft_s, rate, self.stop_reason, list(self.token_ids))


def _find_stop(text: str, stops: list[str]) -> tuple[int, str] | None:
    hits = [(text.find(s), s) for s in stops if s in text]
    return min(hits) if hits else None


class Model:
    def __init__(self, bundle: Bundle, backend, tokenizer: Tokenizer):
        self.bundle, self.backend, self.tokenizer = bundle, backend, tokenizer
        self.manifest = bundle.manifest
        self.eos_id: int | None = self.manifest.special_tokens.get("eos")
        self.context_limit = self.manifest.context_limit
        grown = [s for s in self.manifest.state if "past" in s.shape]
        self._past_axes = {s.name: s.shape.index("past") for s in grown}

    @property
    def backend_name(self) -> str:
        return self.backend.name

    def encode(self, text: str | bytes) -> list[int]:
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as e:
                raise GenerationError(f"the prompt is not valid UTF-8 ({e}); decode it before passing it") from None
        if not isinstance(text, str):
            raise GenerationError(f"the prompt must be text, got {type(text).__name__}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise GenerationError("the prompt holds lone surrogate code points; pass valid Unicode text") from None
        return self.tokenizer.encode(text).ids

    def decode_ids(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=False)

    def new_state(self) -> DecodeState:
        return self.backend.init_state(1)

    def _fit(self, state: DecodeState, incoming: int) -> DecodeState:
        """Sliding window: drop the oldest cached tokens so ``incoming`` more fit the context limit."""
        limit = self.context_limit
        if limit is None or state.length + incoming <= limit:
            return state
        if incoming > limit:
            raise ContextLengthExceeded(f"{incoming} new tokens exceed the context limit of {limit}; "
                                        "shorten the prompt or split it across chat turns")
        keep = limit - incoming
        tensors = dict(state.tensors)
        for name, axis in self._past_axes.items():
            t = tensors[name]
            index = [slice(None)] * t.ndim
            index[axis] = slice(t.shape[axis] - keep, None)
            tensors[name] = np.ascontiguousarray(t[tuple(index)])
        return DecodeState(tensors, keep)

    def prefill(self, ids: list[int], state: DecodeState) -> tuple[np.ndarray, DecodeState]:
        state = self._fit(state, len(ids))
        return self.backend.prefill(np.asarray([ids], np.int64), state)

    def decode(self, token: int, state: DecodeState) -> tuple[np.ndarray, DecodeState]:
        state = self._fit(state, 1)
        return self.backend.decode(np.asarray([token], np.int64), state)

    def _prompt_ids(self, prompt: str | bytes) -> list[int]:
        ids = self.encode(prompt)
        if not ids:
            if self.eos_id is None:
                raise GenerationError("the prompt is empty and the tokenizer has no end-of-text token to start "
                                      "from; pass some text")
            ids = [self.eos_id]  # GPT-2 convention: an empty prompt starts after <|endoftext|>
        if self.context_limit is not None and len(ids) > self.context_limit:
            raise ContextLengthExceeded(f"the prompt has {len(ids)} tokens, more than the context limit of "
                                        f"{self.context_limit}; shorten it or use a Chat across turns")
        return ids

    def turn(self, prompt: str | bytes, max_new_tokens: int = 128, stop: Sequence[str] = (), **sampling) -> Turn:
        ids = self._prompt_ids(prompt)
        return Turn(self, self.new_state(), ids, SamplingParams(**sampling), max_new_tokens, stop, list(ids))

    def stream(self, prompt: str | bytes, max_new_tokens: int = 128, stop: Sequence[str] = (), **sampling
               ) -> Iterator[str]:
        """Text deltas as they are decoded. Sampling: temperature (0 = greedy), top_k, top_p,
        repetition_penalty, seed."""
        return iter(self.turn(prompt, max_new_tokens, stop, **sampling))

    def generate(self, prompt: str | bytes, max_new_tokens: int = 128, stop: Sequence[str] = (), **sampling
                 ) -> GenerationResult:
        turn = self.turn(prompt, max_new_tokens, stop, **sampling)
        for _ in turn:
            pass
        return turn.result(len(turn.new_ids))

    def chat(self, system: str | None = None, **defaults):
        from .chat import Chat

        return Chat(self, system=system, **defaults)


def load(path: str | Path, backend: str = "auto", threads: int | None = None, verify: bool = True,
         **backend_options) -> Model:
    """Open a bundle (directory or ``.spkl``), check it, and ready a backend to run it.

    ``verify=False`` skips the sha256 check of every file: only for assets verified before.
    ``auto`` takes TFLite where the bundle has TFLite graphs and LiteRT is installed, else
    onnxruntime, else numpy.
    """
    bundle = open_bundle(path, verify=verify)
    cls = backend_class(backend, usable=lambda name: name != "tflite" or "decode_tflite" in bundle.manifest.graphs)
    engine = cls(bundle, threads=threads, **backend_options)
    try:
        tokenizer = Tokenizer.from_str(bundle.read(bundle.manifest.tokenizer["file"]).decode("utf-8"))
    except Exception as e:  # tokenizers raises untyped errors on malformed JSON
        raise BundleError(f"{path}: tokenizer.json is unreadable ({e}); re-export the bundle") from None
    return Model(bundle, engine, tokenizer)
