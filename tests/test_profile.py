"""Profilers: sensors read from fake sysfs trees, latency/energy reports, the seed-001 facade, the CLI."""
import json
import os
import stat
import time

import pytest
import torch
from click.testing import CliRunner

from spikelite.cli import main
from spikelite.runtime import load
from spikelite.runtime.profile import (BatterySensor, HwmonSensor, PmicSensor, RaplSensor, SNNHardwareProfiler,
                                       energy, find_sensors, latency, measure_power, plot_energy, plot_latency)
from spikelite.runtime.profile.power import SensorError, parse_pmic
from spikelite.runtime.profile.text import prompt_ids

PMIC_OUTPUT = """\
     3V7_WL_SW_A current(0)=0.10000000A
   VDD_CORE_A current(7)=2.00000000A
     3V7_WL_SW_V volt(8)=3.70000000V
   VDD_CORE_V volt(15)=0.80000000V
"""


def _write(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{value}\n")
    return path


def test_rapl_power_handles_counter_wrap_around(tmp_path):
    d = tmp_path / "sys/class/powercap/intel-rapl:0"
    _write(d / "max_energy_range_uj", 1_000_000)
    _write(d / "energy_uj", 500)
    sensor = RaplSensor(d)
    state = {"prev": (time.perf_counter() - 1.0, 999_000)}  # 1,500 µJ ago, across the wrap
    assert sensor.power_mw(state) == pytest.approx(1.5, rel=0.05)


def test_rapl_first_reading_has_no_power_yet(tmp_path):
    d = tmp_path / "rapl"
    _write(d / "energy_uj", 10)
    assert RaplSensor(d).power_mw({}) is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_rapl_names_the_permission_fix(tmp_path):
    f = _write(tmp_path / "sys/class/powercap/intel-rapl:0/energy_uj", 10)
    f.chmod(0)
    found, skipped = find_sensors(tmp_path)
    assert not found and "permission denied" in skipped[0] and "chmod" in skipped[0]


def test_a_broken_sensor_file_is_skipped_with_its_reason(tmp_path):
    _write(tmp_path / "sys/class/hwmon/hwmon0/power1_input", "not-a-number")
    found, skipped = find_sensors(tmp_path)
    assert not found and "hwmon0" in skipped[0]


def test_hwmon_power_input_is_microwatts(tmp_path):
    d = tmp_path / "hwmon0"
    _write(d / "power1_input", 2_500_000)
    _write(d / "name", "ina260")
    s = HwmonSensor(d)
    assert s.power_mw({}) == 2500 and s.name == "hwmon:ina260"


def test_ina219_current_times_voltage(tmp_path):
    d = tmp_path / "hwmon1"
    _write(d / "curr1_input", 500)   # mA
    _write(d / "in1_input", 5100)    # mV
    assert HwmonSensor(d).power_mw({}) == pytest.approx(2550)


def test_battery_power_now_and_current_times_voltage(tmp_path):
    a, b = tmp_path / "BAT0", tmp_path / "battery"
    _write(a / "power_now", 4_000_000)
    _write(b / "current_now", -800_000)   # µA, negative while discharging
    _write(b / "voltage_now", 3_900_000)  # µV
    assert BatterySensor(a).power_mw({}) == 4000
    assert BatterySensor(b).power_mw({}) == pytest.approx(3120)


def test_pi5_pmic_sums_volts_times_amps_over_rails(tmp_path):
    assert parse_pmic(PMIC_OUTPUT) == pytest.approx((0.1 * 3.7 + 2.0 * 0.8) * 1e3)
    script = tmp_path / "vcgencmd"
    script.write_text(f"#!/bin/sh\ncat <<'X'\n{PMIC_OUTPUT}X\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    assert PmicSensor([str(script), "pmic_read_adc"]).power_mw({}) == pytest.approx(1970)


def test_pmic_without_readings_is_a_sensor_error():
    with pytest.raises(SensorError):
        parse_pmic("error: unknown command")


def test_sensors_are_found_best_first(tmp_path):
    _write(tmp_path / "sys/class/power_supply/BAT0/power_now", 1_000_000)
    _write(tmp_path / "sys/class/hwmon/hwmon0/power1_input", 1_000_000)
    _write(tmp_path / "sys/class/powercap/intel-rapl:0/energy_uj", 5)
    found, _ = find_sensors(tmp_path, pmic_command=["no-such-vcgencmd"])
    assert [s.kind for s in found] == ["rapl", "hwmon", "battery"]


def test_power_above_idle_and_energy_per_token(tmp_path):
    f = _write(tmp_path / "sys/class/hwmon/hwmon0/power1_input", 1_000_000)  # 1 W idle

    def workload():
        f.write_text("3000000\n")  # 3 W while decoding
        time.sleep(0.3)
        return 30

    r = measure_power(workload, idle_s=0.2, interval_s=0.01, root=tmp_path)
    assert r["sensor"] == "hwmon:hwmon0" and r["samples"] >= 5
    assert r["idle_mw"] == pytest.approx(1000)
    assert r["mean_mw"] == pytest.approx(2000, rel=0.2) and r["peak_mw"] == pytest.approx(2000)
    assert r["energy_mj_per_token"] == pytest.approx(2000 * r["seconds"] / 30, rel=0.2)


def test_no_sensor_is_said_plainly(tmp_path):
    r = measure_power(lambda: 3, root=tmp_path, pmic_command=["no-such-vcgencmd"])
    assert r["sensor"] is None and "no readable power sensor" in r["message"]


def test_latency_report_is_ordered_and_complete(bundles, tmp_path):
    r = latency(bundles["int8-static"], prompt_tokens=16, new_tokens=12, runs=2, warmup=1)
    d = r["decode"]
    assert d["n"] == 2 * 11 and d["min_ms"] <= d["p50_ms"] <= d["p90_ms"] <= d["p95_ms"] <= d["p99_ms"] <= d["max_ms"]
    assert r["load_s"] > 0 and r["decode_tokens_per_s"] > 0 and r["peak_rss_mb"] > 0 and r["bundle_bytes"] > 0
    assert r["device"]["cores"] >= 1 and "onnxruntime" in r["device"]["versions"]
    assert plot_latency(r, tmp_path / "lat.png").stat().st_size > 0


def test_energy_counts_match_the_sdk_spike_stats(tmp_path, tiny_tokenizer):
    """The profiler's spike counts (numpy) equal SpikeStats (torch) on the same tokens."""
    from spikelite.exporters import export_bundle
    from spikelite.sdk import build_student, save_student

    model = build_student("spikformer", vocab_size=300, d_model=32, n_layers=1, n_heads=2, max_seq_len=64).eval()
    ckpt = save_student(model, tmp_path / "c", tokenizer=tiny_tokenizer, heldout_text="the fox " * 40)
    bundle = export_bundle(ckpt, tmp_path / "b", quantize="none", spkl=False)
    r = energy(bundle, tokens=32)
    ids = prompt_ids(load(bundle, backend="numpy").tokenizer, 32)  # the text the profiler read
    with torch.no_grad(), model.recording_spikes() as stats:
        model(torch.tensor([ids]))
    want = stats.synaptic_ops_per_token()
    got = {row["op"]: row["snn_ac"] for row in r["rows"] if row["layer"] == 0}
    assert got["FFN w2 (spike-driven)"] == pytest.approx(want["layer0.ffn"], rel=1e-3)
    assert got["q·kᵀ (spike-driven)"] == pytest.approx(want["layer0.q"], rel=1e-3)
    assert r["dense_uj_per_token"] > 0 and r["snn_uj_per_token"] > 0
    assert plot_energy(r, tmp_path / "e.png").stat().st_size > 0


def test_energy_table_can_be_overridden(bundles):
    a = energy(bundles["int8-static"], tokens=16)
    b = energy(bundles["int8-static"], tokens=16, energy_pj={"mac": 2 * a["energy_pj"]["mac"]})
    assert b["dense_uj_per_token"] == pytest.approx(2 * a["dense_uj_per_token"])


def test_hardware_profiler_returns_the_seed_dicts(bundles):
    p = SNNHardwareProfiler(bundles["int8-static"])
    lat = p.profile_latency(prompt_tokens=8, new_tokens=6, runs=2)
    assert lat["mean_ms"] > 0 and lat["p95_ms"] >= lat["p50_ms"]
    power = p.profile_power(new_tokens=4, idle_s=0.05, root="/nonexistent", pmic_command=["no-such-vcgencmd"])
    assert {"mean_mw", "peak_mw"} <= set(power) and power["estimate_uj_per_token"] > 0
    acc = p.profile_accuracy("The city of London is the capital of England. " * 5)
    assert 0 <= acc["accuracy"] <= 1 and acc["perplexity"] > 1


@pytest.mark.parametrize("command", [["latency", "--runs", "1", "--new-tokens", "4", "--prompt-tokens", "4"],
                                     ["power", "--new-tokens", "4", "--idle-seconds", "0.05"],
                                     ["energy", "--tokens", "16"]])
def test_cli_profile_commands_on_a_fresh_bundle(bundles, command):
    r = CliRunner().invoke(main, ["profile", command[0], str(bundles["int8-static"]), *command[1:], "--json"])
    assert r.exit_code == 0, r.output
    assert isinstance(json.loads(r.output), dict)
