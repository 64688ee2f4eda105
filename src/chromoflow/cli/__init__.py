"""The ``chromoflow`` command: one module per subcommand, each a thin layer over the Python API."""

from __future__ import annotations

import logging
import sys

import click

from .. import __version__
from ..errors import ChromoflowError


class _Group(click.Group):
    """Turns a :class:`ChromoflowError` into one line on stderr and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ChromoflowError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chromoflow")
@click.option("-v", "--verbose", is_flag=True, help="Also print informational notes.")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
def cli(verbose: bool, quiet: bool):
    """Predict gene expression from histone marks and 3D chromatin contacts."""
    logger = logging.getLogger("chromoflow")
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("chromoflow: %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING)
    logger.propagate = False


def _register():
    from . import coverage, dataset, genes, pcres, predict, simulate, summarize, train

    for module in (genes, pcres, dataset, train, predict, summarize, simulate, coverage):
        cli.add_command(module.command)


_register()


def main():
    cli(prog_name="chromoflow")
