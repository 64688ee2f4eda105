"""Writing bigWig files safely: atomically, and verified after closing.

pyBigWig's ``close()`` can fail silently (e.g. on a full disk) and leave a
truncated file that looks written. :func:`bigwig_output` counts what was
added, reopens the closed file and compares its header (chromosomes, bases
covered) before the file gets its final name.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import numpy as np

from .._io import atomic_output
from ..errors import ChromoflowError


@contextlib.contextmanager
def quiet_libbigwig():
    """Keep libBigWig's own messages (it writes them to the process's stderr, e.g. ``[bwOpen] bwg->idx is NULL``) off
    the terminal: chromoflow reports the problem itself, in one line."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # stderr is not a file (e.g. captured in a test)
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(fd), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    try:
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


class _Writer:
    """Thin wrapper over a pyBigWig writer that counts the bases it covers."""

    def __init__(self, bw):
        self._bw = bw
        self.bases = 0

    def intervals(self, chrom: str, starts, ends, values) -> None:
        """bedGraph-style entries: [start, end) = value."""
        starts, ends = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
        if not len(starts):
            return
        with quiet_libbigwig():
            self._bw.addEntries(
                [chrom] * len(starts), starts.tolist(), ends=ends.tolist(), values=np.asarray(values, float).tolist()
            )
        self.bases += int((ends - starts).sum())

    def steps(self, chrom: str, start: int, values, step: int) -> None:
        """fixedStep entries: ``values[k]`` covers [start + k * step, start + (k + 1) * step)."""
        if not len(values):
            return
        with quiet_libbigwig():
            self._bw.addEntries(chrom, int(start), values=np.asarray(values, float).tolist(), span=step, step=step)
        self.bases += len(values) * step


def _verify(path: Path, chroms: dict, bases: int, final: Path | None = None) -> None:
    """Reopen the closed bigWig at ``path`` and check its header (errors name ``final``, the name it is written for)."""
    import pyBigWig

    bw = None
    try:
        with quiet_libbigwig():
            bw = pyBigWig.open(str(path))
        ok = bw is not None and bw.isBigWig() and dict(bw.chroms()) == dict(chroms)
        covered = bw.header().get("nBasesCovered") if ok else None
    except (RuntimeError, OSError):
        ok, covered = False, None
    finally:
        if bw is not None:
            bw.close()
    if not ok or covered != bases:
        size = path.stat().st_size if path.exists() else 0
        raise ChromoflowError(
            f"{final or path}: the bigWig did not write completely ({size} bytes on disk, {covered} of {bases} bases readable); is the disk full?"
        )


@contextlib.contextmanager
def bigwig_output(path: str | os.PathLike, chroms: dict):
    """Yield a writer for a new bigWig at ``path`` (header ``chroms``); verified and renamed on success."""
    import pyBigWig

    chroms = {str(c): int(n) for c, n in chroms.items()}
    holder = {}

    def verify(tmp):
        _verify(tmp, chroms, holder["writer"].bases, final=Path(path))

    with atomic_output(path, verify=verify) as tmp:
        with quiet_libbigwig():
            bw = pyBigWig.open(str(tmp), "w")
        if bw is None:
            raise ChromoflowError(f"{path}: cannot create a bigWig there")
        try:
            with quiet_libbigwig():
                bw.addHeader(list(chroms.items()))
            holder["writer"] = _Writer(bw)
            yield holder["writer"]
        except RuntimeError as exc:  # pyBigWig's only signal that a write failed, e.g. on a full disk
            raise ChromoflowError(f"{path}: could not write the bigWig ({exc}); is the disk full?") from None
        finally:
            with quiet_libbigwig():  # a failed close says so on stderr itself; verify() reports it in one line
                bw.close()
