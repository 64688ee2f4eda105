"""BAM -> bigWig of per-base read depth (what the published models were trained on)."""

from __future__ import annotations

import os

import numpy as np

from ..progress import progress
from .bigwig import bigwig_output
from .tracks import BamTrack


def depth_runs(depth: np.ndarray):
    """(start, end, value) of the runs of equal, non-zero depth in ``depth``."""
    if len(depth) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    change = np.flatnonzero(np.diff(depth)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(depth)]])
    values = depth[starts]
    keep = values != 0
    return starts[keep], ends[keep], values[keep]


def bam_to_bigwig(bam: str | os.PathLike, out: str | os.PathLike, min_mapq: int = 0, window: int = 5_000_000) -> int:
    """Write the per-base depth of ``bam`` as a bedGraph-style bigWig (verified); return the entries written."""
    track = BamTrack(bam, min_mapq=min_mapq)
    written = 0
    try:
        with bigwig_output(out, track.chroms) as bw:
            bar = progress(
                total=sum(track.chroms.values()),
                desc=f"coverage {os.path.basename(str(bam))}",
                unit="bp",
                unit_scale=True,
            )
            for chrom, size in track.chroms.items():
                for w0 in range(0, size, window):
                    w1 = min(w0 + window, size)
                    s, e, v = depth_runs(track.values(chrom, w0, w1))
                    bw.intervals(chrom, s + w0, e + w0, v)
                    written += len(s)
                    bar.update(w1 - w0)
            bar.close()
    finally:
        track.close()
    return written
