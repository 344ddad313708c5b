"""Distillation: the loss follows its formula, training learns, resume is exact, bad input is one line."""
import json
import math

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from spikelite.cli import main
from spikelite.sdk import load_student
from spikelite.sdk.distill import ConfigError, DistillConfig, distill, distillation_loss

FAST = dict(batch_size=4, max_length=32, student_config=dict(d_model=32, n_layers=1), progress=False)


def run(tmp_path, teacher, **kw):
    return distill(DistillConfig(teacher_model=str(teacher), output_dir=str(tmp_path / "out"), **{**FAST, **kw}))


def test_loss_decreases_over_30_cpu_steps(tmp_path, tiny_teacher):
    result = run(tmp_path, tiny_teacher, num_steps=30, lr=3e-3, eval_interval=10)
    loss = result.history["loss"]
    assert len(loss) == 6
    assert loss[-1] < 0.9 * loss[0]
    assert result.history["val_ppl"][-1] < result.history["val_ppl"][0]


def _logits():
    g = torch.Generator().manual_seed(0)
    return torch.randn(2, 6, 11, generator=g), torch.randn(2, 6, 11, generator=g), torch.randint(0, 11, (2, 6), generator=g)


def test_alpha_one_is_pure_cross_entropy_and_alpha_zero_pure_kd():
    s, t, ids = _logits()
    ce_only = distillation_loss(s, t, ids, alpha=1.0, temperature=2.0)
    kd_only = distillation_loss(s, t, ids, alpha=0.0, temperature=2.0)
    assert torch.allclose(ce_only.total, F.cross_entropy(s[:, :-1].flatten(0, 1), ids[:, 1:].flatten()))
    assert torch.allclose(kd_only.total, kd_only.kd)
    half = distillation_loss(s, t, ids, alpha=0.5, temperature=2.0)
    assert torch.allclose(half.total, 0.5 * ce_only.ce + 0.5 * kd_only.kd)


@pytest.mark.parametrize("temperature", [1.0, 2.0, 4.0])
def test_kd_term_is_t_squared_times_kl_of_teacher_over_student(temperature):
    s, t, ids = _logits()
    p_t = F.softmax(t[:, :-1] / temperature, -1)
    kl = (p_t * (p_t.log() - F.log_softmax(s[:, :-1] / temperature, -1))).sum(-1).mean()
    parts = distillation_loss(s, t, ids, alpha=0.0, temperature=temperature)
    assert torch.allclose(parts.kd, temperature**2 * kl, atol=1e-6)


def test_gamma_adds_weighted_feature_mse():
    s, t, ids = _logits()
    fs, ft = torch.randn(2, 6, 5), torch.randn(2, 6, 5)
    without = distillation_loss(s, t, ids, 0.5, 2.0, gamma=0.0, student_features=fs, teacher_features=ft)
    with_ = distillation_loss(s, t, ids, 0.5, 2.0, gamma=0.3, student_features=fs, teacher_features=ft)
    assert torch.allclose(with_.total - without.total, 0.3 * F.mse_loss(fs, ft))


def test_feature_matching_trains_with_a_learned_projection(tmp_path, tiny_teacher):
    result = run(tmp_path, tiny_teacher, num_steps=6, gamma=0.5, eval_interval=3)
    assert math.isfinite(result.student_ppl)


def test_resume_continues_at_the_right_step_with_the_same_optimizer_state(tmp_path, tiny_teacher):
    straight = run(tmp_path / "a", tiny_teacher, num_steps=12, eval_interval=4, lr=3e-3)

    def interrupt(step):
        if step == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        distill(DistillConfig(teacher_model=str(tiny_teacher), output_dir=str(tmp_path / "b" / "out"),
                              num_steps=12, eval_interval=4, lr=3e-3, **FAST), on_step=interrupt)
    resumed = distill(DistillConfig(teacher_model=str(tiny_teacher), output_dir=str(tmp_path / "b" / "out"),
                                    num_steps=12, eval_interval=4, lr=3e-3, resume=True, **FAST))
    assert resumed.steps == straight.steps == 12
    assert resumed.history["step"] == straight.history["step"]
    a = load_student(tmp_path / "a" / "out" / "resume").model.state_dict()
    b = load_student(tmp_path / "b" / "out" / "resume").model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    sa = torch.load(tmp_path / "a" / "out" / "resume" / "trainer_state.pt", weights_only=True)["optimizer"]["state"]
    sb = torch.load(tmp_path / "b" / "out" / "resume" / "trainer_state.pt", weights_only=True)["optimizer"]["state"]
    assert all(torch.equal(sa[i]["exp_avg_sq"], sb[i]["exp_avg_sq"]) for i in sa)


def test_output_dir_holds_checkpoint_summary_and_figure(tmp_path, tiny_teacher):
    run(tmp_path, tiny_teacher, num_steps=4, eval_interval=2)
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text())
    for key in ("teacher", "student", "compression_ratio", "spikes", "throughput_tokens_per_s", "peak_memory_mb",
                "curves", "ppl_ratio"):
        assert key in summary
    assert summary["teacher"]["params"] > 0 and summary["student"]["params"] > 0
    assert summary["spikes"]["layers"]
    assert (out / "training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ckpt = load_student(out)
    assert ckpt.tokenizer is not None and (out / "heldout.txt").read_text()
    assert ckpt.metadata["val_ppl"] == pytest.approx(summary["student"]["val_ppl"], rel=1e-4)


def test_validation_file_replaces_the_held_out_split(tmp_path, tiny_teacher):
    val = tmp_path / "val.txt"
    val.write_text("smart glasses run small spiking models on the device\n" * 20)
    run(tmp_path, tiny_teacher, num_steps=2, eval_interval=2, val_dataset_path=str(val))
    assert (tmp_path / "out" / "heldout.txt").read_text().startswith("smart glasses run")


def test_config_round_trips_through_json(tmp_path):
    cfg = DistillConfig(teacher_model="gpt2", alpha=0.0, student_config={"d_model": 128})
    cfg.save(tmp_path / "c.json")
    assert DistillConfig.load(tmp_path / "c.json") == cfg


def test_zero_steps_in_the_python_api_is_a_config_error():
    with pytest.raises(ConfigError, match="--num-steps"):
        DistillConfig(teacher_model="gpt2", num_steps=0)


def cli(*args):
    return CliRunner().invoke(main, ["distill", *args], catch_exceptions=False)


def assert_one_line_error(result, fragment):
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    error_lines = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert len(error_lines) == 1 and fragment in error_lines[0]


def test_cli_missing_teacher_path_is_one_line(tmp_path):
    assert_one_line_error(cli("--teacher-model", str(tmp_path / "nope")), "no such directory")


def test_cli_empty_dataset_file_is_one_line(tmp_path, tiny_teacher):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    result = cli("--teacher-model", str(tiny_teacher), "--dataset-path", str(empty), "--output-dir", str(tmp_path))
    assert_one_line_error(result, "has no text")


def test_cli_zero_steps_is_one_line(tiny_teacher):
    assert_one_line_error(cli("--teacher-model", str(tiny_teacher), "--num-steps", "0"), "--num-steps")


def test_cli_vocab_mismatch_is_one_line(tmp_path, tiny_tokenizer):
    from spikelite.sdk.teacher import make_tiny_gpt2

    teacher = make_tiny_gpt2(tiny_tokenizer, tmp_path / "t", n_layer=1, n_embd=32, vocab_size=100)
    assert_one_line_error(cli("--teacher-model", str(teacher), "--output-dir", str(tmp_path)), "tokenizer has 300 tokens")


def test_cli_distils_and_prints_a_json_summary(tmp_path, tiny_teacher):
    result = cli("--teacher-model", str(tiny_teacher), "--output-dir", str(tmp_path / "o"), "--num-steps", "3",
                 "--batch-size", "2", "--max-length", "16", "--d-model", "32", "--n-layers", "1", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{"):])
    assert summary["student"]["config"]["d_model"] == 32
