import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # tests/students.py

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers

SMALL = {
    "goose": dict(vocab_size=300, d_model=64, n_layers=2),
    "spikformer": dict(vocab_size=300, d_model=64, n_layers=2, n_heads=4, max_seq_len=128),
}


@pytest.fixture(params=sorted(SMALL))
def model_type(request):
    return request.param


@pytest.fixture(scope="session")
def tiny_tokenizer() -> Tokenizer:
    """A byte-level BPE trained here on a few sentences, so no test needs a hub."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    text = ["the quick brown fox jumps over the lazy dog", "smart glasses run small spiking models"] * 20
    tok.train_from_iterator(text, trainer)
    return tok


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)


def pytest_configure(config):
    # two xdist workers on two cores: one intra-op thread each avoids oversubscription
    if hasattr(config, "workerinput"):
        torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_teacher(tmp_path_factory, tiny_tokenizer):
    """A small random GPT-2 saved the way `from_pretrained` expects a local teacher."""
    from spikelite.sdk.teacher import make_tiny_gpt2

    return make_tiny_gpt2(tiny_tokenizer, tmp_path_factory.mktemp("teacher"), n_layer=1, n_embd=32)


@pytest.fixture(scope="session")
def trained_goose(tmp_path_factory):
    """A goose trained for a few seconds on WikiText-2 (../shared), with its held-out text."""
    from students import train_student

    return train_student(tmp_path_factory.mktemp("goose"), d_model=64, n_layers=2)


@pytest.fixture(scope="session")
def bundles(tmp_path_factory, trained_goose):
    """The trained goose exported fp32 and INT8-static: {"none": dir, "int8-static": dir}."""
    from spikelite.exporters import export_bundle

    root = tmp_path_factory.mktemp("bundles")
    return {q: export_bundle(trained_goose, root / q, quantize=q) for q in ("none", "int8-static")}
