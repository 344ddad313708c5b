"""TFLite graphs in the bundle and the LiteRT backend (needs the [tflite] extra)."""
import json
import shutil

import numpy as np
import pytest
import torch
from click.testing import CliRunner

pytest.importorskip("litert_torch")
pytest.importorskip("ai_edge_litert")

from spikelite.cli import main  # noqa: E402
from spikelite.exporters import ExportError, export_bundle  # noqa: E402
from spikelite.runtime import BundleIntegrityError, load  # noqa: E402
from spikelite.sdk import build_student, load_student, save_student  # noqa: E402

PROMPTS = ["The", "In 1998 the", "= Valkyria Chronicles =", "He was born in", "The city of"]


@pytest.fixture(scope="module")
def tflite_bundles(tmp_path_factory, trained_goose):
    root = tmp_path_factory.mktemp("tflite")
    return {q: export_bundle(trained_goose, root / q, formats=("onnx", "tflite"), quantize=q, tflite_quantize=q,
                             spkl=False)
            for q in ("none", "int8-dynamic")}


def test_fp32_tflite_decode_matches_pytorch(tflite_bundles, trained_goose):
    model = load_student(trained_goose).model.eval()
    tfl = load(tflite_bundles["none"], backend="tflite")
    ids = tfl.encode("The city of London is the capital of England and")
    state, ref_state = tfl.new_state(), model.init_state(1)
    worst = 0.0
    with torch.no_grad():
        for t in ids:
            got, state = tfl.decode(t, state)
            ref, ref_state = model.step(torch.tensor([t]), ref_state)
            worst = max(worst, float(np.abs(got - ref.numpy()).max()))
    assert worst <= 1e-4


def test_tflite_prefill_in_chunks_equals_decoding_token_by_token(tflite_bundles):
    tfl = load(tflite_bundles["none"], backend="tflite")
    ids = tfl.encode("The city of London is the capital of England. " * 6)[:75]  # 2 chunks of 32 + 11 steps
    logits, state = tfl.prefill(ids, tfl.new_state())
    step_state = tfl.new_state()
    for i, t in enumerate(ids):
        step, step_state = tfl.decode(t, step_state)
        assert np.abs(step[0] - logits[0, i]).max() <= 1e-4
    assert state.length == len(ids)


def test_fp32_tflite_and_onnx_give_the_same_greedy_text_for_100_tokens(tflite_bundles):
    tfl = load(tflite_bundles["none"], backend="tflite")
    onnx = load(tflite_bundles["none"], backend="onnxruntime")
    for prompt in PROMPTS:
        a = tfl.generate(prompt, max_new_tokens=100, temperature=0)
        b = onnx.generate(prompt, max_new_tokens=100, temperature=0)
        assert a.token_ids == b.token_ids, prompt


def test_int8_tflite_keeps_parity_and_its_figures_are_in_the_manifest(tflite_bundles):
    m = json.loads((tflite_bundles["int8-dynamic"] / "manifest.json").read_text())
    p = m["parity"]["tflite"]
    assert p["top1_agreement_decided"] >= 0.99 and abs(p["ppl_rel_delta"]) <= 0.02
    assert m["graphs"]["decode_tflite"]["precision"] == "int8-dynamic"
    assert m["quantization"]["tflite"]["io_order"]["decode"] == ["token", "shift", "wkv"]


def test_int8_tflite_size_is_under_half_of_fp32(tflite_bundles):
    size = {q: (b / "decode.tflite").stat().st_size for q, b in tflite_bundles.items()}
    assert size["int8-dynamic"] <= 0.5 * size["none"], size


def test_verify_checks_tflite_parity_and_bytes(tmp_path, tflite_bundles, trained_goose):
    r = CliRunner().invoke(main, ["verify", str(tflite_bundles["int8-dynamic"]), "--against", str(trained_goose),
                                  "--json"])
    assert r.exit_code == 0, r.output
    assert set(json.loads(r.output)["parity"]) == {"onnx", "tflite"}
    copy = shutil.copytree(tflite_bundles["int8-dynamic"], tmp_path / "b")
    data = bytearray((copy / "decode.tflite").read_bytes())
    data[len(data) // 2] ^= 1
    (copy / "decode.tflite").write_bytes(bytes(data))
    with pytest.raises(BundleIntegrityError, match="decode.tflite"):
        load(copy, backend="tflite")


def test_generate_streams_with_the_tflite_backend(tflite_bundles):
    r = CliRunner().invoke(main, ["generate", str(tflite_bundles["int8-dynamic"]), "The", "--backend", "tflite",
                                  "--max-new-tokens", "12", "--temperature", "0"])
    assert r.exit_code == 0 and r.output.startswith("The") and "tflite" in r.output


def test_a_bundle_without_tflite_graphs_names_the_fix(bundles):
    from spikelite.runtime import BackendUnavailable

    with pytest.raises(BackendUnavailable, match="--format onnx,tflite"):
        load(bundles["none"], backend="tflite")


def test_spikformer_tflite_export_is_a_clear_error(tmp_path, tiny_tokenizer):
    model = build_student("spikformer", vocab_size=300, d_model=32, n_layers=1, n_heads=2, max_seq_len=32)
    ckpt = save_student(model.eval(), tmp_path / "c", tokenizer=tiny_tokenizer, heldout_text="the fox " * 40)
    with pytest.raises(ExportError, match="KV cache"):
        export_bundle(ckpt, tmp_path / "b", formats=("onnx", "tflite"))
    assert not (tmp_path / "b").exists()


def test_auto_takes_tflite_when_the_bundle_has_it(tflite_bundles, bundles):
    assert load(tflite_bundles["int8-dynamic"]).backend_name == "tflite"
    assert load(bundles["none"]).backend_name == "onnxruntime"
