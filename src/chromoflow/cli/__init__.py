"""The ``chromoflow`` command: one module per subcommand, each a thin layer over the Python API.

The same click commands also run alone as the pipeline's ``bin/chromoflow-NAME``
scripts (see :mod:`chromoflow.cli._base` for what every command shares).
"""

from __future__ import annotations

import importlib
import logging

import click

from .. import __version__
from ..log import NOTE
from ._base import SafeGroup, setup_logging

SUBCOMMANDS = (
    "genes",
    "pcres",
    "dataset",
    "import-binned",
    "train",
    "predict",
    "perturb",
    "summarize",
    "report",
    "simulate",
    "coverage",
)


class LazyGroup(SafeGroup):
    """Subcommands imported when they are run: ``chromoflow genes`` does not pay for importing torch."""

    def list_commands(self, ctx):
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx, name):
        return subcommand(name) if name in SUBCOMMANDS else None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chromoflow")
@click.option("-v", "--verbose", is_flag=True, help="Also print informational details.")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
def cli(verbose: bool, quiet: bool):
    """Predict gene expression from histone marks and 3D chromatin contacts."""
    setup_logging(logging.ERROR if quiet else logging.INFO if verbose else NOTE)


def subcommand(name: str) -> click.Command:
    """The click command of subcommand ``name`` (``import-binned`` lives in ``import_binned``)."""
    return importlib.import_module(f"{__name__}.{name.replace('-', '_')}").command


def main():
    cli(prog_name="chromoflow")
