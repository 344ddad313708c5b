"""The root of SpikeLite's typed errors; torch-free so every layer can share it."""


class SpikeLiteError(Exception):
    """Base of every error SpikeLite raises on purpose; the CLI prints its message in one line."""
