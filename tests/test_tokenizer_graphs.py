"""The bundle's tokenizer graphs give the same ids and text as `tokenizers`."""
import random
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer

ext = pytest.importorskip("onnxruntime_extensions")
from spikelite.exporters.tokenizer_graphs import tokenizer_graphs  # noqa: E402

GPT2 = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "gpt2-tokenizer" / "tokenizer.json"

PIECES = ["café", "naïve", "Ærøskøbing", "日本語", "中文字符", "한국어", "🤖", "🎉🎉", "👩‍👩‍👧", "  ", "\t", "\n\n",
          "   many   spaces   ", "it's", "don't", "<|endoftext|>", "x" * 40, "1234567", "Zürich", "ñ", "—", "€10",
          " leading", "trailing ", "UPPER", "mixed Case", "a\u00a0b", "e\u0301", "ß", "Ω≈ç√", "ﬁ", "", "x<5", "<", "a <0"]


def cases(n: int = 220) -> list[str]:
    rng = random.Random(0)
    out = ["", " ", "\n", "Hello world"] + PIECES
    while len(out) < n:
        out.append("".join(rng.choice(PIECES + [" ", "the ", "glasses "]) for _ in range(rng.randint(1, 6))))
    return out


@pytest.fixture(scope="module")
def sessions():
    if not GPT2.is_file():
        pytest.skip("needs ../shared/data/gpt2-tokenizer")
    encoder, decoder = tokenizer_graphs(GPT2.read_text(encoding="utf-8"))
    options = ort.SessionOptions()
    options.register_custom_ops_library(ext.get_library_path())
    return (Tokenizer.from_file(str(GPT2)), ort.InferenceSession(encoder.SerializeToString(), options),
            ort.InferenceSession(decoder.SerializeToString(), options))


def _check(sessions, text):
    tok, enc, dec = sessions
    want = tok.encode(text).ids
    got = enc.run(None, {"text": np.array([text])})[0][0].tolist()
    assert got == want, text
    assert dec.run(None, {"ids": np.array(want, np.int64)})[0][0] == tok.decode(want, skip_special_tokens=False)


def test_graphs_match_tokenizers_on_220_strings(sessions):
    for text in cases():
        _check(sessions, text)


def test_the_empty_string_round_trips(sessions):
    _check(sessions, "")


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40))
def test_graphs_match_tokenizers_on_any_text(sessions, text):
    """Any text without NUL: the extensions' ops read C strings, so text ends at a NUL there."""
    _check(sessions, text)
