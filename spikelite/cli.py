"""The ``spikelite`` command line: thin wrappers over the public Python API."""
import click

from . import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spikelite")
def main() -> None:
    """SpikeLite: distil, export and run small spiking language models on edge devices."""
