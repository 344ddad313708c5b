"""Power from the real sensors a device exposes, sampled while a decode workload runs.

Sensors, in order of preference: Linux RAPL (cumulative ``energy_uj``, wrap-around at
``max_energy_range_uj``), hwmon (``power*_input`` µW, or ``curr*_input`` mA × ``in*_input`` mV:
INA219/INA260 on a Pi or a dev board), the Raspberry Pi 5 PMIC (``vcgencmd pmic_read_adc``,
Σ volts × amps over rails), and a battery (``power_now`` µW or ``current_now`` µA ×
``voltage_now`` µV). An idle baseline is measured first; figures are above it.
``root`` lets tests point everything at a fake sysfs tree.
"""
from __future__ import annotations

import glob
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class SensorError(OSError):
    pass


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().strip())
    except PermissionError:
        raise SensorError(f"{path}: permission denied (RAPL needs root on recent kernels: "
                          f"sudo chmod a+r {path})") from None
    except (OSError, ValueError) as e:
        raise SensorError(f"{path}: unreadable ({e})") from None


def _label(path: Path) -> str:
    """The device's own name for a sysfs node (its ``name`` file), else the node's directory name."""
    f = path / "name"
    return f.read_text().strip() if f.exists() else path.name


@dataclass
class RaplSensor:
    path: Path
    kind: str = "rapl"

    @property
    def name(self) -> str:
        return f"rapl:{_label(self.path)}"

    def energy_uj(self) -> int:
        return _read_int(self.path / "energy_uj")

    def max_range_uj(self) -> int:
        f = self.path / "max_energy_range_uj"
        return _read_int(f) if f.exists() else 2**32

    def power_mw(self, state: dict) -> float | None:
        """Power since the last call (None on the first); ``state`` carries the previous reading."""
        now, e = time.perf_counter(), self.energy_uj()
        prev = state.get("prev")
        state["prev"] = (now, e)
        if prev is None or now <= prev[0]:
            return None
        delta = e - prev[1]
        if delta < 0:  # the counter wrapped
            delta += self.max_range_uj()
        return delta / (now - prev[0]) / 1e3


@dataclass
class HwmonSensor:
    path: Path
    kind: str = "hwmon"

    @property
    def name(self) -> str:
        return f"hwmon:{_label(self.path)}"

    def power_mw(self, state: dict) -> float:
        powers = sorted(self.path.glob("power*_input"))
        if powers:
            return sum(_read_int(p) for p in powers) / 1e3
        curr, volt = sorted(self.path.glob("curr*_input")), sorted(self.path.glob("in*_input"))
        if not curr or not volt:
            raise SensorError(f"{self.path}: no power*_input, nor curr*_input with in*_input")
        return _read_int(curr[0]) * _read_int(volt[-1]) / 1e3


@dataclass
class BatterySensor:
    path: Path
    kind: str = "battery"

    @property
    def name(self) -> str:
        return f"battery:{self.path.name}"

    def power_mw(self, state: dict) -> float:
        if (self.path / "power_now").exists():
            return abs(_read_int(self.path / "power_now")) / 1e3
        return abs(_read_int(self.path / "current_now") * _read_int(self.path / "voltage_now")) / 1e9


_PMIC_LINE = re.compile(r"^\s*(\S+)_([AV])\s+\w+\(\d+\)=([0-9.]+)[AV]\s*$")


def parse_pmic(text: str) -> float:
    """Watts × 1000 from ``vcgencmd pmic_read_adc`` output: Σ over rails with both a current and a volt line."""
    amps, volts = {}, {}
    for line in text.splitlines():
        m = _PMIC_LINE.match(line)
        if m:
            (amps if m.group(2) == "A" else volts)[m.group(1)] = float(m.group(3))
    if not amps:
        raise SensorError("vcgencmd pmic_read_adc printed no current readings")
    return sum(a * volts[r] for r, a in amps.items() if r in volts) * 1e3


@dataclass
class PmicSensor:
    command: list[str] = field(default_factory=lambda: ["vcgencmd", "pmic_read_adc"])
    kind: str = "pi5-pmic"
    name: str = "pi5-pmic:vcgencmd"

    def power_mw(self, state: dict) -> float:
        try:
            out = subprocess.run(self.command, capture_output=True, text=True, timeout=2, check=True).stdout
        except (OSError, subprocess.SubprocessError) as e:
            raise SensorError(f"{' '.join(self.command)} failed ({e})") from None
        return parse_pmic(out)


def find_sensors(root: str | Path = "/", pmic_command: list[str] | None = None) -> tuple[list, list[str]]:
    """Readable sensors, best first, and why each other candidate was skipped."""
    root = Path(root)
    found, skipped = [], []
    candidates = [RaplSensor(Path(p)) for p in sorted(glob.glob(str(root / "sys/class/powercap/*")))
                  if (Path(p) / "energy_uj").exists()]
    for d in sorted(glob.glob(str(root / "sys/class/hwmon/hwmon*"))):
        d = Path(d)
        if list(d.glob("power*_input")) or (list(d.glob("curr*_input")) and list(d.glob("in*_input"))):
            candidates.append(HwmonSensor(d))
    command = pmic_command or ["vcgencmd", "pmic_read_adc"]
    if shutil.which(command[0]):
        candidates.append(PmicSensor(command))
    for d in sorted(glob.glob(str(root / "sys/class/power_supply/*"))):
        d = Path(d)
        if (d / "power_now").exists() or ((d / "current_now").exists() and (d / "voltage_now").exists()):
            candidates.append(BatterySensor(d))
    for s in candidates:
        try:
            s.power_mw({})
            found.append(s)
        except SensorError as e:
            skipped.append(f"{s.name}: {e}")
    return found, skipped


def _sample(sensor, stop: threading.Event, interval: float, out: list[float]) -> None:
    state: dict = {}
    while not stop.is_set():
        try:
            p = sensor.power_mw(state)
        except SensorError:
            p = None
        if p is not None:
            out.append(p)
        stop.wait(interval)


def measure_power(workload: Callable[[], int], sensor=None, idle_s: float = 1.0, interval_s: float = 0.05,
                  root: str | Path = "/", pmic_command: list[str] | None = None) -> dict:
    """Run ``workload`` (returns the tokens it produced) under a sampler thread, after an idle baseline."""
    skipped: list[str] = []
    if sensor is None:
        found, skipped = find_sensors(root, pmic_command)
        sensor = found[0] if found else None
    if sensor is None:
        t = time.perf_counter()
        tokens = workload()
        return {"sensor": None, "skipped": skipped, "tokens": tokens, "seconds": time.perf_counter() - t,
                "message": "no readable power sensor on this device (RAPL, hwmon, Pi 5 PMIC, battery); "
                           "see `spikelite profile energy` for the estimate from spike counts"}
    idle: list[float] = []
    stop = threading.Event()
    th = threading.Thread(target=_sample, args=(sensor, stop, interval_s, idle), daemon=True)
    th.start()
    time.sleep(idle_s)
    stop.set()
    th.join()
    busy: list[float] = []
    stop = threading.Event()
    th = threading.Thread(target=_sample, args=(sensor, stop, interval_s, busy), daemon=True)
    th.start()
    t = time.perf_counter()
    tokens = workload()
    seconds = time.perf_counter() - t
    stop.set()
    th.join()
    idle_mw = sum(idle) / len(idle) if idle else 0.0
    above = [max(p - idle_mw, 0.0) for p in busy]
    mean = sum(above) / len(above) if above else None
    return {
        "sensor": sensor.name, "kind": sensor.kind, "skipped": skipped, "samples": len(busy),
        "idle_samples": len(idle), "idle_mw": idle_mw, "mean_mw": mean,
        "peak_mw": max(above) if above else None, "tokens": tokens, "seconds": seconds,
        "energy_mj_per_token": mean * seconds / tokens if mean is not None and tokens else None,
    }
