"""``SNNHardwareProfiler``: the seed-001 facade over the latency, power and accuracy profilers."""
from __future__ import annotations

from pathlib import Path

from ..model import load
from .accuracy import accuracy
from .latency import decode_run, latency
from .power import measure_power
from .text import prompt_ids


class SNNHardwareProfiler:
    def __init__(self, model_path: str | Path, backend: str = "auto", threads: int | None = None):
        self.model = load(model_path, backend=backend, threads=threads)

    def profile_latency(self, prompt_tokens: int = 32, new_tokens: int = 64, runs: int = 5) -> dict:
        """The seed's dict (``mean_ms``, ``p95_ms``) plus the full report under ``report``."""
        r = latency(self.model, prompt_tokens=prompt_tokens, new_tokens=new_tokens, runs=runs)
        return {"mean_ms": r["decode"]["mean_ms"], "p50_ms": r["decode"]["p50_ms"], "p95_ms": r["decode"]["p95_ms"],
                "tokens_per_s": r["decode_tokens_per_s"], "ttft_ms": r["ttft"]["p50_ms"], "report": r}

    def profile_power(self, new_tokens: int = 256, **options) -> dict:
        """The seed's dict (``mean_mw``, ``peak_mw``); both None where no sensor can be read."""
        prompt = prompt_ids(self.model.tokenizer, 16)

        def workload() -> int:
            decode_run(self.model, prompt, new_tokens)
            return new_tokens

        report = measure_power(workload, **options)
        if report["sensor"] is None:
            from .energy import energy

            report["estimate_uj_per_token"] = energy(self.model.bundle.path)["snn_uj_per_token"]
            report["mean_mw"] = report["peak_mw"] = None
        return report

    def profile_accuracy(self, test_data: str | list[str]) -> dict:
        """Next-token ``accuracy`` and ``perplexity`` on ``test_data`` (text or a list of texts)."""
        text = test_data if isinstance(test_data, str) else "\n".join(test_data)
        return accuracy(self.model, text)


__all__ = ["SNNHardwareProfiler"]
