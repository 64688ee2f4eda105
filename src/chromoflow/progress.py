"""Progress bars that stay quiet when stderr is not a terminal."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def progress(iterable=None, *, total=None, desc: str | None = None, unit: str = "it", **kwargs):
    """A tqdm bar on stderr, disabled automatically when stderr is not a TTY.

    Nextflow tasks and CI logs therefore get no carriage-return noise, while an
    interactive user sees per-chunk progress.
    """
    disable = kwargs.pop("disable", None)
    if disable is None:
        disable = not sys.stderr.isatty()
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        disable=disable,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=False,
        **kwargs,
    )
