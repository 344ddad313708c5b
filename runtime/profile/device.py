"""What the figures were measured on: CPU, cores, governor, temperature, library versions."""
from __future__ import annotations

import glob
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def _read(path: str | Path) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def cpu_model(root: str = "/") -> str:
    text = _read(Path(root) / "proc/cpuinfo") or ""
    for key in ("model name", "Model", "Hardware"):
        for line in text.splitlines():
            if line.split(":")[0].strip() == key:
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def temperatures_c(root: str = "/") -> dict[str, float]:
    out = {}
    for zone in sorted(glob.glob(str(Path(root) / "sys/class/thermal/thermal_zone*"))):
        t, kind = _read(f"{zone}/temp"), _read(f"{zone}/type") or Path(zone).name
        if t and t.lstrip("-").isdigit():
            out[kind] = int(t) / 1000
    return out


def device_info(root: str = "/") -> dict:
    cpu0 = Path(root) / "sys/devices/system/cpu/cpu0/cpufreq"
    freq = _read(cpu0 / "scaling_cur_freq")
    versions = {}
    for pkg in ("spikelite", "numpy", "onnxruntime", "tokenizers", "ai-edge-litert"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return {
        "cpu": cpu_model(root), "machine": platform.machine(), "cores": os.cpu_count(),
        "governor": _read(cpu0 / "scaling_governor"), "freq_mhz": int(freq) / 1000 if freq and freq.isdigit() else None,
        "temperature_c": temperatures_c(root), "os": platform.platform(), "python": platform.python_version(),
        "versions": versions,
    }
