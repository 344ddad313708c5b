"""On-device runtime: loads a bundle and runs it. Never imports torch.

    from spikelite.runtime import load
    model = load("artifacts/demo/bundle.spkl")
    for delta in model.stream("The smart glasses", max_new_tokens=40):
        print(delta, end="", flush=True)
"""
from .backends import available as available_backends
from .bundle import Bundle, open_bundle
from .chat import Chat
from .errors import (BackendUnavailable, BundleError, BundleFormatError, BundleIntegrityError,
                     ContextLengthExceeded, GenerationError)
from .glasses import SNNLLMBackend
from .manifest import BundleManifest
from .model import GenerationResult, Model, load
from .sampling import SamplingParams

__all__ = [
    "BackendUnavailable", "Bundle", "BundleError", "BundleFormatError", "BundleIntegrityError", "BundleManifest",
    "Chat", "ContextLengthExceeded", "GenerationError", "GenerationResult", "Model", "SNNLLMBackend",
    "SamplingParams", "available_backends", "load", "open_bundle",
]
