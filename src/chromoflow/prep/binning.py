"""Binning per-base signal into Chromoformer's multi-resolution features.

The published protocol, for a region of length L and bin size b:

- ``n = ceil(L / b)`` bins from the region start; each bin's value is the mean
  per-base depth over its bases (the last, partial bin: over its remaining
  bases), then ``ln(1 + mean)``;
- in a row of ``slots`` positions the ``n`` bins sit centred: left pad
  ``ceil((slots - n) / 2)``, right pad ``floor((slots - n) / 2)``.

Regions are read in *blocks*: neighbouring regions on a chromosome are merged
so that each stretch of the track is read once per mark, and every bin size is
served from one cumulative sum of that block.
"""

from __future__ import annotations

import numpy as np

from .._arrays import expand_ranges, ragged_arange
from ..data.layout import n_bins


def bin_bounds(starts: np.ndarray, ends: np.ndarray, bin_size: int):
    """Flat bin boundaries of every region, region after region.

    Returns ``(lo, hi, counts)``: bin ``k`` of region ``r`` covers
    ``[lo, hi)``; ``counts[r]`` is the number of bins of region ``r``.
    """
    starts = np.asarray(starts, np.int64)
    ends = np.asarray(ends, np.int64)
    counts = n_bins(ends - starts, bin_size).astype(np.int64)
    lo = np.repeat(starts, counts) + ragged_arange(counts) * bin_size
    hi = np.minimum(lo + bin_size, np.repeat(ends, counts))
    return lo, hi, counts


def plan_blocks(starts: np.ndarray, ends: np.ndarray, max_block: int = 2_000_000, max_gap: int = 30_000):
    """Group regions (sorted by start) into blocks read in one go.

    Returns the sort order of the regions and a list of ``(first, last,
    block_start, block_end)`` over that order (``last`` exclusive). A block
    grows while the next region starts within ``max_gap`` of its end and the
    block stays within ``max_block`` bp.
    """
    order = np.argsort(starts, kind="stable")
    s, e = np.asarray(starts)[order], np.asarray(ends)[order]
    blocks = []
    i, n = 0, len(order)
    while i < n:
        b0, b1, j = int(s[i]), int(e[i]), i + 1
        while j < n and s[j] <= b1 + max_gap and max(b1, e[j]) - b0 <= max_block:
            b1 = max(b1, int(e[j]))
            j += 1
        blocks.append((i, j, b0, b1))
        i = j
    return order, blocks


class BinPlan:
    """Where every bin of a set of regions lies, worked out once and applied to each track.

    Regions are grouped into blocks (:func:`plan_blocks`). Within a block the
    edges of all bins of all sizes split the bases into segments; one
    ``reduceat`` pass sums the segments, and a short float64 cumulative sum
    over them gives every bin's sum as a difference. Only the pass over the
    bases depends on the track, so the plan is shared by all marks.
    """

    def __init__(self, starts, ends, bin_sizes, max_block: int = 2_000_000, max_gap: int = 30_000):
        starts = np.asarray(starts, np.int64)
        ends = np.asarray(ends, np.int64)
        self.bin_sizes = tuple(bin_sizes)
        order, blocks = plan_blocks(starts, ends, max_block, max_gap)
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        bounds, self.width, self.gather = {}, {}, {}
        for b in self.bin_sizes:
            lo, hi, counts = bin_bounds(starts[order], ends[order], b)
            ptr = np.concatenate([[0], np.cumsum(counts)])
            bounds[b] = (lo, hi, ptr)
            self.width[b] = (hi - lo).astype(np.float64)
            # From start-sorted order back to the caller's region order.
            self.gather[b] = expand_ranges(ptr[:-1][inverse], counts[inverse])
        self.blocks = []
        for first, last, b0, b1 in blocks:
            cuts = {b: (ptr[first], ptr[last]) for b, (_, _, ptr) in bounds.items()}
            edges = np.unique(np.concatenate([x[a:z] for b, (a, z) in cuts.items() for x in bounds[b][:2]])) - b0
            where = {
                b: (
                    a,
                    z,
                    np.searchsorted(edges, bounds[b][0][a:z] - b0),
                    np.searchsorted(edges, bounds[b][1][a:z] - b0),
                )
                for b, (a, z) in cuts.items()
            }
            self.blocks.append((b0, b1, edges[:-1], where))
        self.n = {b: len(bounds[b][0]) for b in self.bin_sizes}

    def apply(self, track, chrom: str) -> dict[int, np.ndarray]:
        """``{bin_size: ln(1 + mean depth)}`` per bin, region after region (caller's order)."""
        out = {b: np.empty(self.n[b], np.float64) for b in self.bin_sizes}
        for b0, b1, cuts, where in self.blocks:
            segments = np.add.reduceat(track.values(chrom, b0, b1), cuts)
            csum = np.concatenate([[0.0], np.cumsum(segments, dtype=np.float64)])
            for b, (a, z, lo, hi) in where.items():
                out[b][a:z] = csum[hi] - csum[lo]
        return {b: np.log1p(out[b] / self.width[b])[self.gather[b]].astype(np.float32) for b in self.bin_sizes}
