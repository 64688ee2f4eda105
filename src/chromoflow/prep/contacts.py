"""Candidate promoter partners from a 3D-contact source.

Every reader returns the same candidate table, one row per (gene, partner)::

    gene_index  chrom  start  end  score

``gene_index`` points into the genes table; the partner interval is the
putative cis-regulatory element (pCRE). Filtering, deduplication and ranking
happen in :mod:`chromoflow.prep.pcres`, identically for every source.

Sources:

- BEDPE (``.bedpe[.gz]``): 10 columns, ``score`` in column 8; a pair whose one
  anchor overlaps a gene's TSS contributes the other anchor.
- CHiCAGO ``.ibed[.gz]``: bait overlapping the TSS -> other end, ``score`` column.
- cooler ``.cool`` or ``.mcool::resolutions/N``: the TSS bin's cis row, scored
  observed/expected on the balanced matrix (expected = mean balanced contact
  at that diagonal over the chromosome, counting only pairs of unmasked bins);
  the partner bin is the pCRE.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._arrays import expand_ranges
from .._tables import column, read_rows
from ..errors import ChromoflowError
from ..genome import missing_chroms
from ..log import warn
from ..progress import progress

CANDIDATE_COLUMNS = ["gene_index", "chrom", "start", "end", "score"]


def contact_format(source: str) -> str:
    """``bedpe``, ``ibed`` or ``cool``, from the file name."""
    name = str(source).split("::")[0].lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for ext, kind in ((".bedpe", "bedpe"), (".ibed", "ibed"), (".cool", "cool"), (".mcool", "cool")):
        if name.endswith(ext):
            return kind
    raise ChromoflowError(
        f"{source}: unknown contact format; expected .bedpe[.gz], .ibed[.gz], .cool or .mcool::resolutions/N"
    )


def candidates(genes: pd.DataFrame, source: str, *, max_distance: int, max_length: int, balance: bool = True) -> pd.DataFrame:
    """Dispatch on the format of ``source``; see the module docstring."""
    kind = contact_format(source)
    if kind == "bedpe":
        return bedpe_candidates(genes, source)
    if kind == "ibed":
        return ibed_candidates(genes, source)
    return cool_candidates(genes, source, max_distance=max_distance, max_length=max_length, balance=balance)


class _TssIndex:
    """TSS positions per chromosome, for 'which genes' TSS lies in [start, end)' queries."""

    def __init__(self, genes: pd.DataFrame):
        self.by_chrom: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for chrom, sub in genes.groupby("chrom", sort=False):
            order = np.argsort(sub["tss"].to_numpy(), kind="stable")
            self.by_chrom[chrom] = (sub["tss"].to_numpy()[order], sub.index.to_numpy()[order])

    def overlaps(self, chrom: np.ndarray, start: np.ndarray, end: np.ndarray):
        """Pairs (row, gene_index) such that gene TSS is in [start[row], end[row])."""
        rows_out, genes_out = [], []
        for c in np.unique(chrom):
            if c not in self.by_chrom:
                continue
            tss, gidx = self.by_chrom[c]
            rows = np.flatnonzero(chrom == c)
            lo = np.searchsorted(tss, start[rows], side="left")
            hi = np.searchsorted(tss, end[rows], side="left")
            n = hi - lo
            rows_out.append(np.repeat(rows, n))
            genes_out.append(gidx[expand_ranges(lo, n)])
        if not rows_out:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(rows_out), np.concatenate(genes_out)


def _check_chroms(genes: pd.DataFrame, chroms, source) -> None:
    gene_chroms = set(genes["chrom"])
    missing = missing_chroms(gene_chroms, set(chroms), "the genes table", str(source))
    if missing == gene_chroms:
        raise ChromoflowError(f"{source}: none of the genes' chromosomes occurs in the contacts (genes are on e.g. {sorted(gene_chroms)[0]!r})")


def _pairs_to_candidates(genes, source, c1, s1, e1, c2, s2, e2, score) -> pd.DataFrame:
    _check_chroms(genes, np.concatenate([np.unique(c1), np.unique(c2)]), source)
    index = _TssIndex(genes)
    parts = []
    # Anchor 1 on the TSS: anchor 2 is the pCRE, and the other way round.
    for tss_anchor, other in (((c1, s1, e1), (c2, s2, e2)), ((c2, s2, e2), (c1, s1, e1))):
        rows, gidx = index.overlaps(*tss_anchor)
        c, s, e = other
        parts.append(pd.DataFrame({"gene_index": gidx, "chrom": c[rows], "start": s[rows], "end": e[rows], "score": score[rows]}))
    return pd.concat(parts, ignore_index=True)


def bedpe_candidates(genes: pd.DataFrame, path: str | os.PathLike) -> pd.DataFrame:
    """Partners from a BEDPE interaction list (score = column 8)."""
    _, rows, lines = read_rows(path, 8, "BEDPE", header="auto", int_cols=(1,))
    c1 = np.array([r[0] for r in rows], dtype=object)
    c2 = np.array([r[3] for r in rows], dtype=object)
    s1, e1 = column(rows, lines, 1, path, "start1"), column(rows, lines, 2, path, "end1")
    s2, e2 = column(rows, lines, 4, path, "start2"), column(rows, lines, 5, path, "end2")
    score = column(rows, lines, 7, path, "score (column 8)", kind=float)
    _check_intervals(path, lines, s1, e1)
    _check_intervals(path, lines, s2, e2)
    return _pairs_to_candidates(genes, path, c1, s1, e1, c2, s2, e2, score)


IBED_COLUMNS = ["bait_chr", "bait_start", "bait_end", "otherEnd_chr", "otherEnd_start", "otherEnd_end", "score"]


def ibed_candidates(genes: pd.DataFrame, path: str | os.PathLike) -> pd.DataFrame:
    """Partners from a CHiCAGO ``.ibed``: the bait overlaps the TSS, the other end is the pCRE."""
    head, rows, lines = read_rows(path, 10, "ibed", header="yes")
    missing = [c for c in IBED_COLUMNS if c not in head]
    if missing:
        raise ChromoflowError(f"{path}: not a CHiCAGO ibed: header lacks {', '.join(missing)}")
    col = {name: head.index(name) for name in IBED_COLUMNS}
    bc = np.array([r[col["bait_chr"]] for r in rows], dtype=object)
    oc = np.array([r[col["otherEnd_chr"]] for r in rows], dtype=object)
    bs, be = column(rows, lines, col["bait_start"], path, "bait_start"), column(rows, lines, col["bait_end"], path, "bait_end")
    os_, oe = column(rows, lines, col["otherEnd_start"], path, "otherEnd_start"), column(rows, lines, col["otherEnd_end"], path, "otherEnd_end")
    score = column(rows, lines, col["score"], path, "score", kind=float)
    _check_intervals(path, lines, bs, be)
    _check_intervals(path, lines, os_, oe)
    _check_chroms(genes, np.concatenate([np.unique(bc), np.unique(oc)]), path)
    r, g = _TssIndex(genes).overlaps(bc, bs, be)
    return pd.DataFrame({"gene_index": g, "chrom": oc[r], "start": os_[r], "end": oe[r], "score": score[r]})


def _check_intervals(path, lines, start, end) -> None:
    bad = (start < 0) | (end <= start)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ChromoflowError(f"{path} line {lines[i]}: invalid interval {start[i]}-{end[i]} (need 0 <= start < end)")


# --------------------------------------------------------------------------- cooler


def open_cooler(uri: str):
    """Open ``file.cool`` or ``file.mcool::resolutions/N`` with clear errors."""
    import cooler

    path = Path(str(uri).split("::")[0])
    if not path.exists():
        raise ChromoflowError(f"{path}: contacts file does not exist")
    if "::" not in str(uri) and cooler.fileops.is_multires_file(str(path)):
        res = cooler.fileops.list_coolers(str(path))
        raise ChromoflowError(f"{path}: multi-resolution cooler: pick one, e.g. {path}::{res[0]} (available: {', '.join(r.rsplit('/', 1)[-1] for r in res)})")
    try:
        return cooler.Cooler(str(uri))
    except Exception as exc:  # cooler raises KeyError/OSError/ValueError for bad URIs
        raise ChromoflowError(f"{uri}: cannot open as a cooler ({type(exc).__name__}: {exc})") from None


def _valid_pairs_per_diagonal(valid: np.ndarray, max_diag: int) -> np.ndarray:
    """n[d] = number of bin pairs (i, i+d) with both bins unmasked."""
    v = valid.astype(np.int64)
    n = np.zeros(max_diag + 1, np.int64)
    for d in range(min(max_diag, len(v) - 1) + 1):
        n[d] = int(np.dot(v[: len(v) - d], v[d:]))
    return n


def cool_candidates(
    genes: pd.DataFrame, uri: str, *, max_distance: int, max_length: int, balance: bool = True, chunk: int = 5_000_000
) -> pd.DataFrame:
    """Partners from a Hi-C/Micro-C cooler: observed/expected in the TSS bin's cis row."""
    clr = open_cooler(uri)
    res = clr.binsize
    if res is None:
        raise ChromoflowError(f"{uri}: variable-size bins are not supported; use a fixed-resolution cooler")
    if res > max_length:
        raise ChromoflowError(
            f"{uri}: resolution {res} bp is coarser than --max-length {max_length}: partner bins would exceed the pCRE length limit; pick a finer resolution (e.g. {str(uri).split('::')[0]}::resolutions/5000)"
        )
    bins = clr.bins()[:]
    if balance and "weight" not in bins.columns:
        raise ChromoflowError(f"{uri}: the cooler is not balanced (no 'weight' column): run 'cooler balance' on it, or pass --no-balance to score raw counts")
    _check_chroms(genes, clr.chromnames, uri)
    max_diag = max_distance // res + 1
    parts = []
    with clr.open("r") as h5:
        bin1_offset = h5["indexes/bin1_offset"]
        pix_b1, pix_b2, pix_n = h5["pixels/bin1_id"], h5["pixels/bin2_id"], h5["pixels/count"]
        chroms = [c for c in clr.chromnames if c in set(genes["chrom"])]
        for chrom in progress(chroms, desc="contacts", unit="chrom"):
            lo, hi = clr.extent(chrom)
            n_bins = hi - lo
            weight = bins["weight"].to_numpy()[lo:hi].astype(np.float64) if balance else np.ones(n_bins)
            valid = np.isfinite(weight)
            weight = np.where(valid, weight, np.nan)
            sub = genes[genes["chrom"] == chrom]
            tss_bin = np.minimum(sub["tss"].to_numpy() // res, n_bins - 1)
            is_tss = np.zeros(n_bins, bool)
            is_tss[tss_bin] = True
            diag_sum = np.zeros(max_diag + 1)
            rows_i, rows_j, rows_v, rows_d = [], [], [], []
            p_lo, p_hi = int(bin1_offset[lo]), int(bin1_offset[hi])
            for a in range(p_lo, p_hi, chunk):
                b = min(a + chunk, p_hi)
                b1 = pix_b1[a:b].astype(np.int64) - lo
                b2 = pix_b2[a:b].astype(np.int64) - lo
                cnt = pix_n[a:b].astype(np.float64)
                d = b2 - b1
                keep = (b2 < n_bins) & (d <= max_diag)
                b1, b2, cnt, d = b1[keep], b2[keep], cnt[keep], d[keep]
                val = cnt * weight[b1] * weight[b2]
                ok = np.isfinite(val)
                diag_sum += np.bincount(d[ok], weights=val[ok], minlength=max_diag + 1)
                hit = ok & (d > 0) & (is_tss[b1] | is_tss[b2])
                rows_i.append(b1[hit]), rows_j.append(b2[hit]), rows_v.append(val[hit]), rows_d.append(d[hit])
            n_pairs = _valid_pairs_per_diagonal(valid, max_diag)
            with np.errstate(invalid="ignore", divide="ignore"):
                expected = np.where(n_pairs > 0, diag_sum / np.maximum(n_pairs, 1), np.nan)
            i, j, v, d = (np.concatenate(x) if x else np.zeros(0) for x in (rows_i, rows_j, rows_v, rows_d))
            oe = v / expected[d.astype(np.int64)]
            # Each stored (upper-triangle) pixel serves both directions.
            tss_side = np.concatenate([i, j]).astype(np.int64)
            partner = np.concatenate([j, i]).astype(np.int64)
            score = np.concatenate([oe, oe])
            keep = is_tss[tss_side] & np.isfinite(score)
            tss_side, partner, score = tss_side[keep], partner[keep], score[keep]
            order = np.argsort(tss_bin, kind="stable")
            sorted_bins, sorted_genes = tss_bin[order], sub.index.to_numpy()[order]
            glo = np.searchsorted(sorted_bins, tss_side, "left")
            ghi = np.searchsorted(sorted_bins, tss_side, "right")
            n = ghi - glo
            rep = np.repeat(np.arange(len(tss_side)), n)
            gidx = sorted_genes[expand_ranges(glo, n)]
            pb = partner[rep] + lo
            parts.append(
                pd.DataFrame(
                    {
                        "gene_index": gidx,
                        "chrom": chrom,
                        "start": bins["start"].to_numpy()[pb],
                        "end": bins["end"].to_numpy()[pb],
                        "score": score[rep],
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    if out.empty:
        warn(f"{uri}: no contacts in any gene's TSS bin")
    return out
