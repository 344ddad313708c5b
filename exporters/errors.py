"""Typed errors of the exporters; each message names the input and the fix."""
from spikelite.errors import SpikeLiteError


class ExportError(SpikeLiteError):
    """A checkpoint cannot be exported as asked."""


class ParityError(SpikeLiteError):
    """A bundle's outputs drift from its float model beyond the thresholds asked for."""
