"""Per-base signal from bigWig or BAM files.

Both readers answer ``values(chrom, start, end)`` with a float32 array of
per-base depth over ``[start, end)``: positions without data (no bigWig entry,
NaN, no read) and positions beyond the chromosome ends are 0.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import ChromoflowError
from .bigwig import quiet_libbigwig

# Reads skipped when computing depth from BAM: unmapped, secondary, QC-fail,
# duplicate, supplementary (what `bedtools genomecov` users filter upstream).
BAM_SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800


def check_depth(v: np.ndarray, path, chrom: str, start: int) -> np.ndarray:
    """Per-base values as read depth: no entry (NaN) is 0; infinite or negative values are refused."""
    nan = np.isnan(v)
    if nan.any():
        v[nan] = 0.0  # no entry counts as depth 0
    bad = ~np.isfinite(v) | (v < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ChromoflowError(
            f"{path}: value {v[i]} at {chrom}:{start + i + 1}: tracks must hold read depth (finite, >= 0); "
            "use a coverage/pileup bigWig, not a log-ratio or fold-change track"
        )
    return v


class BigWigTrack:
    """A bigWig signal track (sparse tracks welcome: missing bases read as 0)."""

    def __init__(self, path: str | os.PathLike):
        import pyBigWig

        self.path = Path(path)
        if not self.path.is_file():
            raise ChromoflowError(f"{self.path}: track file does not exist")
        try:
            with quiet_libbigwig():
                self._bw = pyBigWig.open(str(self.path))
        except (RuntimeError, OSError):
            self._bw = None
        if self._bw is None or not self._bw.isBigWig():
            raise ChromoflowError(f"{self.path}: not a readable bigWig file")
        self.chroms: dict[str, int] = dict(self._bw.chroms())

    def values(self, chrom: str, start: int, end: int) -> np.ndarray:
        size = self.chroms.get(chrom, 0)
        a, b = max(start, 0), min(end, size)
        if b <= a:
            return np.zeros(end - start, np.float32)
        try:
            with quiet_libbigwig():
                v = self._bw.values(chrom, int(a), int(b), numpy=True)
        except RuntimeError as exc:
            raise ChromoflowError(
                f"{self.path}: cannot read {chrom}:{a}-{b} ({exc}); the bigWig may be truncated or damaged"
            ) from None
        v = check_depth(v, self.path, chrom, a)
        if a == start and b == end:
            return v
        out = np.zeros(end - start, np.float32)
        out[a - start : b - start] = v
        return out

    def close(self) -> None:
        if self._bw is not None:
            self._bw.close()
            self._bw = None


class BamTrack:
    """Per-base read depth from an indexed BAM: each read covers its aligned span.

    This is ``bedtools genomecov -d`` on the BAM (reads not extended), the
    signal the published models were trained on (Roadmap tagAlign depth).
    Depth is built from +1/-1 events at read starts/ends and a cumulative sum,
    so the cost is one pass over the reads, not one Python step per base.
    """

    def __init__(self, path: str | os.PathLike, min_mapq: int = 0):
        import pysam

        self.path = Path(path)
        if not self.path.is_file():
            raise ChromoflowError(f"{self.path}: track file does not exist")
        try:
            self._bam = pysam.AlignmentFile(str(self.path), "rb")
        except (ValueError, OSError) as exc:
            raise ChromoflowError(f"{self.path}: not a readable BAM file ({exc})") from None
        if not self._bam.has_index():
            raise ChromoflowError(f"{self.path}: BAM has no index: run 'samtools index {self.path.name}' next to it")
        for index in (Path(f"{self.path}.bai"), self.path.with_suffix(".bai"), Path(f"{self.path}.csi")):
            if index.is_file() and index.stat().st_mtime + 1 < self.path.stat().st_mtime:
                raise ChromoflowError(
                    f"{index}: the index is older than {self.path.name} (stale); re-run 'samtools index {self.path.name}'"
                )
        if not self._bam.references:
            raise ChromoflowError(f"{self.path}: the BAM header lists no reference sequences")
        self.chroms = dict(zip(self._bam.references, self._bam.lengths))
        self.min_mapq = min_mapq

    def read_spans(self, chrom: str, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """Aligned (start, end) of the reads that pass the filters and overlap [start, end)."""
        if chrom not in self.chroms:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        try:
            spans = [
                (r.reference_start, r.reference_end)
                for r in self._bam.fetch(chrom, max(start, 0), min(end, self.chroms[chrom]))
                if not (r.flag & BAM_SKIP_FLAGS) and r.mapping_quality >= self.min_mapq and r.reference_end is not None
            ]
        except (OSError, ValueError) as exc:
            raise ChromoflowError(
                f"{self.path}: cannot read {chrom}:{start}-{end} ({exc}); the BAM or its index may be truncated, damaged or stale (re-run 'samtools index')"
            ) from None
        if not spans:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        arr = np.asarray(spans, dtype=np.int64)
        return arr[:, 0], arr[:, 1]

    def values(self, chrom: str, start: int, end: int) -> np.ndarray:
        n = end - start
        s, e = self.read_spans(chrom, start, end)
        events = np.bincount(np.clip(s - start, 0, n), minlength=n + 1).astype(np.int64)
        events -= np.bincount(np.clip(e - start, 0, n), minlength=n + 1)
        return np.cumsum(events[:n]).astype(np.float32)

    def close(self) -> None:
        self._bam.close()


def open_track(path: str | os.PathLike, min_mapq: int = 0):
    """A :class:`BigWigTrack` or :class:`BamTrack`, chosen by the file's contents."""
    path = Path(path)
    if not path.is_file():
        raise ChromoflowError(f"{path}: track file does not exist")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic in (b"\x26\xfc\x8f\x88", b"\x88\x8f\xfc\x26"):  # bigWig magic, either byte order
        return BigWigTrack(path)
    if magic[:2] == b"\x1f\x8b":  # BGZF: BAM
        return BamTrack(path, min_mapq=min_mapq)
    raise ChromoflowError(f"{path}: not a bigWig or BAM file (bedGraph? convert it with bedGraphToBigWig)")
