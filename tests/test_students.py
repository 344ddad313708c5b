"""Students: the parallel and the step form compute one function; spikes are exact."""
import pytest
import torch

from spikelite.sdk.models import build_student, lif_spikes, ternary_spike
from spikelite.sdk.models.goose import decay_scan

from conftest import SMALL


def step_logits(model, ids):
    state = model.init_state(ids.shape[0])
    out = []
    for t in range(ids.shape[1]):
        logits, state = model.step(ids[:, t], state)
        out.append(logits)
    return torch.stack(out, 1)


@torch.no_grad()
def test_step_decode_reproduces_forward_in_fp32_at_512_tokens(model_type):
    model = build_student(model_type, **SMALL[model_type]).eval()
    ids = torch.randint(0, 300, (2, 512))
    assert (model(ids) - step_logits(model, ids)).abs().max().item() <= 1e-4


@torch.no_grad()
def test_step_and_forward_are_the_same_function_in_fp64(model_type):
    # fp64 removes the ULP-level GEMM differences that can flip a spike threshold in fp32
    for seed in range(3):
        torch.manual_seed(seed)
        model = build_student(model_type, **SMALL[model_type]).eval().double()
        ids = torch.randint(0, 300, (2, 512))
        assert (model(ids) - step_logits(model, ids)).abs().max().item() <= 1e-10


@torch.no_grad()
def test_prefill_then_step_continues_the_sequence(model_type):
    model = build_student(model_type, **SMALL[model_type]).eval()
    ids = torch.randint(0, 300, (1, 40))
    _, state = model.prefill(ids[:, :30])
    tail, _ = model.prefill(ids[:, 30:], state)
    assert torch.allclose(tail, model(ids)[:, 30:], atol=1e-4)


def _sequential_scan(x, log_w, s0):
    s, out = s0.double(), []
    for t in range(x.shape[1]):
        s = log_w.double().exp() * s + x[:, t].double()
        out.append(s)
    return torch.stack(out, 1)


def test_goose_scan_matches_float64_reference_at_2048_tokens_in_fp32():
    x = torch.randint(-1, 2, (2, 2048, 32)).float()
    log_w = torch.nn.functional.logsigmoid(torch.randn(32) * 3)
    s0 = torch.randn(2, 32)
    ref = _sequential_scan(x, log_w, s0)
    out = decay_scan(x, log_w, s0, chunk=64)
    assert torch.isfinite(out).all()
    assert ((out.double() - ref).abs() / ref.abs().clamp(min=1)).max() < 1e-5


def test_goose_scan_in_bf16_is_exact_up_to_bf16_rounding_of_the_result():
    x = torch.randint(-1, 2, (1, 2048, 32)).to(torch.bfloat16)
    log_w = torch.nn.functional.logsigmoid(torch.randn(32) * 3)
    s0 = torch.zeros(1, 32)
    ref = _sequential_scan(x.float(), log_w, s0)
    out = decay_scan(x, log_w, s0, chunk=64)
    assert out.dtype == torch.bfloat16 and torch.isfinite(out).all()
    assert torch.equal(out, ref.to(torch.bfloat16)) or ((out.double() - ref).abs() <= ref.abs() * 2**-8 + 1e-6).all()


def test_goose_forward_is_finite_and_matches_float64_at_2048_tokens():
    model = build_student("goose", **SMALL["goose"]).eval()
    ids = torch.randint(0, 300, (1, 2048))
    with torch.no_grad():
        fp32 = model(ids)
        fp64 = model.double()(ids)
    assert torch.isfinite(fp32).all()
    close = ((fp32.double() - fp64).abs().amax(-1) <= 1e-3).float().mean().item()
    assert close >= 0.99


@pytest.mark.parametrize("shape", [(4, 7, 32), (3, 64)])
def test_ternary_spikes_are_exactly_minus_one_zero_or_one(shape):
    s = ternary_spike(torch.randn(shape) * 3, alpha=1.0)
    assert set(s.unique().tolist()) <= {-1.0, 0.0, 1.0}


def test_lif_spikes_are_exactly_binary():
    s = lif_spikes(torch.randn(5, 16) * 2, timesteps=6, beta=0.9, theta=1.0, k=10.0)
    assert s.shape == (6, 5, 16)
    assert set(s.unique().tolist()) <= {0.0, 1.0}


def test_ternary_spike_passes_gradient_straight_through():
    x = torch.randn(8, 16, requires_grad=True)
    ternary_spike(x, alpha=1.0).sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))


def test_lif_surrogate_gradient_is_one_over_one_plus_k_distance():
    current = torch.tensor([0.5, 1.0, 3.0], requires_grad=True)
    lif_spikes(current, timesteps=1, beta=0.9, theta=1.0, k=10.0).sum().backward()
    expected = 1.0 / (1.0 + 10.0 * (current.detach() - 1.0).abs())
    assert torch.allclose(current.grad, expected)


def test_every_parameter_gets_a_gradient_through_the_spikes(model_type):
    model = build_student(model_type, **SMALL[model_type])
    ids = torch.randint(0, 300, (2, 16))
    torch.nn.functional.cross_entropy(model(ids).flatten(0, 1), ids.flatten()).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


def test_goose_decode_state_does_not_grow():
    model = build_student("goose", **SMALL["goose"]).eval()
    state = model.init_state(1)
    sizes = set()
    with torch.no_grad():
        for t in range(50):
            _, state = model.step(torch.tensor([t % 300]), state)
            sizes.add(tuple(s.numel() for s in state))
    assert len(sizes) == 1


def test_spikformer_positions_clamp_past_max_seq_len():
    model = build_student("spikformer", **SMALL["spikformer"]).eval()
    ids = torch.randint(0, 300, (1, 200))  # max_seq_len is 128
    with torch.no_grad():
        logits = model(ids)
    assert torch.isfinite(logits).all()


def test_spike_stats_count_density_and_synaptic_ops(model_type):
    model = build_student(model_type, **SMALL[model_type]).eval()
    with torch.no_grad(), model.recording_spikes() as stats:
        model(torch.randint(0, 300, (2, 10)))
    assert stats.tokens == 20
    assert len(stats.layers) >= 2 * SMALL[model_type]["n_layers"]
    for site in stats.layers.values():
        assert 0.0 <= site.density <= 1.0
        assert site.synaptic_ops >= site.spikes
    assert 0.0 < stats.density < 1.0


def test_spike_stats_are_off_outside_the_recording_block(model_type):
    model = build_student(model_type, **SMALL[model_type]).eval()
    with model.recording_spikes() as stats:
        pass
    with torch.no_grad():
        model(torch.randint(0, 300, (1, 5)))
    assert stats.tokens == 0
