"""Vectorised helpers for ragged (variable-length) groups."""

from __future__ import annotations

import numpy as np


def ragged_arange(counts) -> np.ndarray:
    """[0..c0), [0..c1), … concatenated: the position inside each group."""
    counts = np.asarray(counts, np.int64)
    return np.arange(counts.sum(), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)


def expand_ranges(starts, counts) -> np.ndarray:
    """[s0, s0+c0), [s1, s1+c1), … concatenated."""
    counts = np.asarray(counts, np.int64)
    return np.repeat(np.asarray(starts, np.int64), counts) + ragged_arange(counts)
