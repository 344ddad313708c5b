"""SpikeLite: distil small spiking language models, export them to INT8 bundles, run them on device.

``spikelite.sdk`` trains (torch), ``spikelite.exporters`` converts, ``spikelite.runtime`` runs
(no torch). Importing this package imports none of them.
"""
from importlib.metadata import PackageNotFoundError, version

from .errors import SpikeLiteError

try:
    __version__ = version("spikelite")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

__all__ = ["SpikeLiteError", "__version__"]
