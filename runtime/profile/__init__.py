"""Profilers: latency, power from real sensors, energy from spike counts, accuracy (torch-free)."""
from .accuracy import accuracy
from .device import device_info
from .energy import ENERGY_PJ, energy, plot_energy
from .hardware import SNNHardwareProfiler
from .latency import latency, plot_latency
from .power import BatterySensor, HwmonSensor, PmicSensor, RaplSensor, find_sensors, measure_power

__all__ = ["ENERGY_PJ", "BatterySensor", "HwmonSensor", "PmicSensor", "RaplSensor", "SNNHardwareProfiler",
           "accuracy", "device_info", "energy", "find_sensors", "latency", "measure_power", "plot_energy",
           "plot_latency"]
