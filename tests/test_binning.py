import numpy as np
import pytest

from chromoflow.data.layout import left_pad, n_bins
from chromoflow.prep.binning import BinPlan, bin_bounds


class ArrayTrack:
    """A track backed by a numpy array (zeros outside it), for exact expectations."""

    def __init__(self, values):
        self.v = np.asarray(values, np.float32)
        self.chroms = {"chr1": len(self.v)}

    def values(self, chrom, start, end):
        out = np.zeros(end - start, np.float32)
        a, b = max(start, 0), min(end, len(self.v))
        if b > a:
            out[a - start : b - start] = self.v[a:b]
        return out


def reference(v, start, end, b):
    """The published rule, written the slow obvious way."""
    out = []
    for lo in range(start, end, b):
        hi = min(lo + b, end)
        seg = [v[i] if 0 <= i < len(v) else 0.0 for i in range(lo, hi)]
        out.append(np.log(1 + np.mean(seg)))
    return np.array(out, np.float32)


def test_padding_rule():
    # 40 kb slots at 2 kb: a 614 bp pCRE has 1 bin, left pad ceil(19/2) = 10.
    assert n_bins(614, 2000) == 1 and left_pad(1, 20) == 10
    assert n_bins(40_000, 100) == 400 and left_pad(400, 400) == 0
    assert n_bins(7805, 500) == 16 and left_pad(16, 80) == 32
    assert n_bins(7805, 100) == 79 and left_pad(79, 400) == 161  # odd free space: one more on the left


def test_bounds_partial_last_bin():
    lo, hi, counts = bin_bounds(np.array([10, 1000]), np.array([260, 1100]), 100)
    assert counts.tolist() == [3, 1]
    assert list(zip(lo, hi)) == [(10, 110), (110, 210), (210, 260), (1000, 1100)]


@pytest.mark.parametrize("max_gap", [0, 50, 100_000])
def test_plan_matches_reference_and_block_layout_does_not_matter(max_gap):
    rng = np.random.default_rng(0)
    v = rng.poisson(2.0, 30_000).astype(np.float32)
    v[rng.random(len(v)) < 0.5] = 0
    starts = np.array([5_000, -1_500, 29_000, 12_345, 5_000])  # overlaps, off both chromosome ends
    ends = np.array([9_000, 2_500, 33_000, 12_999, 5_614])
    got = BinPlan(starts, ends, (2000, 500, 100), max_gap=max_gap).apply(ArrayTrack(v), "chr1")
    for b in (2000, 500, 100):
        want = np.concatenate([reference(v, s, e, b) for s, e in zip(starts, ends)])
        np.testing.assert_allclose(got[b], want, rtol=1e-6, atol=1e-6)
