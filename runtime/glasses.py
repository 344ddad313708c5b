"""``SNNLLMBackend``: the interface the glasses agent already calls (seeds 000 and 001).

Unlike the seed's backend, a missing or broken bundle is an error at construction,
never a stub that returns canned text.
"""
from __future__ import annotations

from pathlib import Path

from .errors import BundleError
from .manifest import MANIFEST
from .model import GenerationResult, load

DEFAULT_BUNDLE = "artifacts/snn_student/bundle"


class SNNLLMBackend:
    def __init__(self, model_path: str | Path | None = None, metadata_path: str | Path | None = None,
                 backend: str = "auto", threads: int | None = None, temperature: float = 0.8,
                 top_k: int | None = 40, top_p: float | None = 0.95, seed: int | None = None):
        """``model_path``: a bundle directory or ``.spkl``; ``metadata_path``: its manifest.json (optional)."""
        if model_path is None:
            model_path = Path(metadata_path).parent if metadata_path else Path(DEFAULT_BUNDLE)
        path = Path(model_path)
        if path.suffix in (".pt", ".safetensors") or (path.is_dir() and (path / "metadata.json").is_file()
                                                      and not (path / MANIFEST).is_file()):
            ckpt = path.parent if path.suffix else path
            raise BundleError(f"{path} is a training checkpoint, not a bundle; export it first: "
                              f"spikelite export {ckpt} -o {ckpt / 'bundle'}")
        self.model = load(path, backend=backend, threads=threads)
        self.sampling = {"temperature": temperature, "top_k": top_k, "top_p": top_p, "seed": seed}
        self.last_result: GenerationResult | None = None

    def generate(self, prompt: str, max_tokens: int = 64, **sampling) -> str:
        """The continuation of ``prompt`` (without the prompt), at most ``max_tokens`` tokens."""
        self.last_result = self.model.generate(prompt, max_new_tokens=max_tokens, **{**self.sampling, **sampling})
        return self.last_result.text
