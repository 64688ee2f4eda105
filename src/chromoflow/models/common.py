"""Input helpers shared by the promoter-only baselines."""

from __future__ import annotations


def tss_window(batch, bin_size: int, n_bins: int):
    """(B, n_bins, M): the ``n_bins`` promoter bins centred on the TSS (±5 kb for 100 x 100 bp)."""
    x = batch["promoter"][bin_size]
    start = x.shape[1] // 2 - n_bins // 2
    return x[:, start : start + n_bins]
