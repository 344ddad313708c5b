"""Typed errors of the on-device runtime; each message names the file or value and the fix."""
from spikelite.errors import SpikeLiteError


class BundleError(SpikeLiteError):
    """A bundle cannot be used: missing, unreadable or not a SpikeLite bundle."""


class BundleIntegrityError(BundleError):
    """A bundle file is missing, truncated or differs from its manifest sha256."""


class BundleFormatError(BundleError):
    """The manifest does not follow the schema, or comes from a newer format version."""


class BackendUnavailable(SpikeLiteError):
    """The requested backend is unknown, not installed, or cannot run this bundle."""


class GenerationError(SpikeLiteError, ValueError):
    """A prompt or a decoding parameter cannot be used as given."""


class ContextLengthExceeded(GenerationError):
    """A prompt is longer than the model's context limit."""
