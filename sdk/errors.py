"""Typed errors of the training side; each message names the file or field and the fix."""
from spikelite.errors import SpikeLiteError


class CheckpointError(SpikeLiteError):
    """A student checkpoint directory is missing, incomplete or malformed."""


class TokenizerMismatch(SpikeLiteError):
    """Teacher, student and tokenizer disagree on the vocabulary."""
