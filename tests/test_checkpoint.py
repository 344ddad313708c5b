"""Checkpoints: bit-exact round trip, tokenizer beside the weights, clear errors."""
import json
import subprocess
import sys

import pytest
import torch

from spikelite.sdk import CheckpointError, TokenizerMismatch, build_student, load_student, save_student

from conftest import SMALL


def test_save_then_load_is_bit_exact(tmp_path, model_type, tiny_tokenizer):
    model = build_student(model_type, **SMALL[model_type])
    save_student(model, tmp_path / "ckpt", tokenizer=tiny_tokenizer, steps=7, avg_loss=1.5)
    loaded = load_student(tmp_path / "ckpt")
    original, restored = model.state_dict(), loaded.model.state_dict()
    assert original.keys() == restored.keys()
    assert all(torch.equal(original[k], restored[k]) for k in original)
    assert loaded.tokenizer.encode("the quick fox").ids == tiny_tokenizer.encode("the quick fox").ids


def test_metadata_has_the_seed_fields_and_the_full_config(tmp_path, tiny_tokenizer):
    model = build_student("goose", **SMALL["goose"])
    save_student(model, tmp_path, tokenizer=tiny_tokenizer, tokenizer_name="tiny-bpe", steps=3,
                 avg_loss=2.0, training_config={"lr": 1e-3}, config={"num_steps": 3})
    meta = json.loads((tmp_path / "metadata.json").read_text())
    for field in ("model_type", "vocab_size", "student_params", "training_config", "config", "steps",
                  "avg_loss", "tokenizer_name", "student_config"):
        assert field in meta
    assert meta["model_type"] == "goose"
    assert meta["student_params"] == sum(p.numel() for p in model.parameters())
    assert meta["student_config"]["d_model"] == 64
    assert (tmp_path / "student.safetensors").is_file() and (tmp_path / "tokenizer.json").is_file()


def test_legacy_student_pt_state_dict_loads(tmp_path):
    model = build_student("goose", **SMALL["goose"])
    save_student(model, tmp_path)
    (tmp_path / "student.safetensors").unlink()
    torch.save(model.state_dict(), tmp_path / "student.pt")
    loaded = load_student(tmp_path).model
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))


class Pickled:
    pass


def test_legacy_student_pt_holding_objects_is_refused(tmp_path):
    save_student(build_student("goose", **SMALL["goose"]), tmp_path)
    (tmp_path / "student.safetensors").unlink()
    torch.save({"x": Pickled()}, tmp_path / "student.pt")
    with pytest.raises(CheckpointError, match="never pickled objects"):
        load_student(tmp_path)


def test_missing_metadata_names_the_file(tmp_path):
    save_student(build_student("goose", **SMALL["goose"]), tmp_path)
    (tmp_path / "metadata.json").unlink()
    with pytest.raises(CheckpointError, match="metadata.json: not found"):
        load_student(tmp_path)


def test_malformed_metadata_names_the_file(tmp_path):
    save_student(build_student("goose", **SMALL["goose"]), tmp_path)
    (tmp_path / "metadata.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_student(tmp_path)


def test_metadata_without_student_config_names_the_field(tmp_path):
    save_student(build_student("goose", **SMALL["goose"]), tmp_path)
    meta = json.loads((tmp_path / "metadata.json").read_text())
    del meta["student_config"]
    (tmp_path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="'student_config'"):
        load_student(tmp_path)


def test_weights_that_do_not_fit_the_config_are_a_clear_error(tmp_path):
    save_student(build_student("goose", **SMALL["goose"]), tmp_path)
    meta = json.loads((tmp_path / "metadata.json").read_text())
    meta["student_config"]["d_model"] = 32
    (tmp_path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not fit the config"):
        load_student(tmp_path)


def test_tokenizer_larger_than_the_student_vocab_is_refused(tmp_path, tiny_tokenizer):
    model = build_student("goose", **{**SMALL["goose"], "vocab_size": 100})
    with pytest.raises(TokenizerMismatch, match="vocab_size"):
        save_student(model, tmp_path, tokenizer=tiny_tokenizer)
    assert not tmp_path.joinpath("metadata.json").exists()


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path):
    good = build_student("goose", **SMALL["goose"])
    save_student(good, tmp_path / "ckpt", steps=1)
    with pytest.raises(TypeError):
        save_student(good, tmp_path / "ckpt", tokenizer=object(), steps=2)
    assert json.loads((tmp_path / "ckpt" / "metadata.json").read_text())["steps"] == 1
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["metadata.json", "student.safetensors"]


def test_weights_from_an_interrupted_save_are_detected(tmp_path):
    save_student(build_student("goose", **SMALL["goose"]), tmp_path, steps=1)
    newer = tmp_path / "newer"
    save_student(build_student("goose", **SMALL["goose"]), newer, steps=2)
    (tmp_path / "student.safetensors").write_bytes((newer / "student.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="sha256 differs"):
        load_student(tmp_path)


def test_heldout_text_is_saved_beside_the_weights(tmp_path):
    save_student(build_student("goose", **SMALL["goose"]), tmp_path, heldout_text="never seen in training")
    assert (tmp_path / "heldout.txt").read_text() == "never seen in training"


def test_runtime_import_loads_no_torch():
    code = "import sys, spikelite.runtime; print(any(m == 'torch' or m.startswith('torch.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
