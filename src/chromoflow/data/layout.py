"""How a region's bins sit in a row of the stored format: the rule both the builder and the readers follow.

For a region of length L and bin size b there are ``n = ceil(L / b)`` bins;
in a row of ``slots`` positions they sit centred, left pad
``ceil((slots - n) / 2)``, right pad ``floor((slots - n) / 2)`` (the
published Chromoformer protocol).
"""

from __future__ import annotations

import numpy as np


def n_bins(length, bin_size: int):
    """ceil(length / bin_size), elementwise."""
    return -(-np.asarray(length) // bin_size)


def left_pad(n, slots: int):
    """Left padding that centres ``n`` bins in ``slots`` positions: ceil((slots - n) / 2)."""
    return -(-(slots - np.asarray(n)) // 2)
