"""Putative cis-regulatory elements (pCREs) per gene: filter, deduplicate, rank.

Output table (``pcres.tsv``), best first within each gene::

    gene_id  rank  chrom  start  end  score
    ENSG…    1     chr14  21682583  21690388  2.3544

The rules are the published Chromoformer protocol (``get_neighbors`` in its
``prepare_train_metadata.py``), for every contact source:

1. partners of **all** of the gene's TSSs are pooled (each TSS's own
   fragment, bait or bin; see :mod:`chromoflow.prep.contacts`);
2. kept: score > ``min_score``, length <= ``max_length``, on the gene's
   chromosome. No distance cap and no exclusion of partners that contain
   the TSS (only a matrix's own diagonal bin is never a partner);
3. one row per interval: the score of the first TSS (longest transcript
   first) that lists it, the highest if that TSS lists it twice;
4. the ``max_pcres`` best scores, ties broken by the interval's
   ``chrom:start-end`` text, as the official priority queue orders them.

Options that depart from the protocol (all off by default for pair lists):
``max_distance`` / ``min_distance`` (TSS-to-pCRE-midpoint distance caps;
matrices are read within 2 Mb of the diagonal unless ``max_distance`` says
otherwise) and ``min_count`` (matrices: minimum raw reads in a pixel).
Unscored loop lists rank their loops nearest first and get score 1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._io import write_tsv
from .._tables import read_table, row_line
from ..errors import ChromoflowError, at_line
from .contacts import ANCHORS, candidates

PCRE_COLUMNS = ["gene_id", "rank", "chrom", "start", "end", "score"]
MATRIX_BAND = 2_000_000  # how far from the diagonal matrices are read by default (bp)
UNSCORED = 1.0  # the score written for loops of an unscored list


@dataclass(frozen=True)
class PcreRules:
    min_score: float = 1.5
    max_pcres: int = 8
    max_length: int = 40_000
    max_distance: int | None = None  # no cap
    min_distance: int = 0
    min_count: float = 5  # matrices: raw reads in a partner pixel
    anchors: str = "auto"  # BEDPE: first | either | auto
    score_column: str | None = None  # BEDPE: NAME | N | A/B
    balance: bool = True  # matrices
    normalization: str = "auto"  # matrices

    def __post_init__(self):
        if self.max_pcres < 1:
            raise ChromoflowError(f"--max-pcres {self.max_pcres}: must be at least 1")
        if self.max_length < 1:
            raise ChromoflowError(f"--max-length {self.max_length}: must be at least 1")
        if not np.isfinite(self.min_score):
            raise ChromoflowError(f"--min-score {self.min_score}: must be a finite number")
        if not np.isfinite(self.min_count) or self.min_count < 0:
            raise ChromoflowError(f"--min-count {self.min_count}: must be a finite number >= 0")
        if self.max_distance is not None and self.max_distance < self.min_distance:
            raise ChromoflowError(f"--max-distance {self.max_distance} is below --min-distance {self.min_distance}")
        if self.anchors not in ANCHORS:
            raise ChromoflowError(f"--anchors {self.anchors!r}: expected one of {', '.join(ANCHORS)}")

    @property
    def matrix_max_distance(self) -> int:
        return MATRIX_BAND if self.max_distance is None else self.max_distance


def interval_text(chrom, start, end) -> np.ndarray:
    """``chrom:start-end`` per row: the official tie-breaking key."""
    return np.array([f"{c}:{s}-{e}" for c, s, e in zip(chrom, start, end)], dtype=object)


def select_pcres(
    genes: pd.DataFrame, cand: pd.DataFrame, rules: PcreRules = PcreRules(), scored: bool = True
) -> pd.DataFrame:
    """Apply the rules (module docstring) to a candidate table (see :mod:`.contacts`)."""
    if cand.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=t) for c, t in zip(PCRE_COLUMNS, [str, np.int64, str, np.int64, np.int64, np.float64])}
        )
    gi = cand["gene_index"].to_numpy(np.int64)
    start, end = cand["start"].to_numpy(np.int64), cand["end"].to_numpy(np.int64)
    score = cand["score"].to_numpy(dtype=np.float64)
    distance = np.abs((start + end) // 2 - genes["tss"].to_numpy(np.int64)[gi])
    keep = (
        (cand["chrom"].to_numpy() == genes["chrom"].to_numpy()[gi])
        & (end - start <= rules.max_length)
        & (distance >= rules.min_distance)
    )
    if rules.max_distance is not None:
        keep &= distance <= rules.max_distance
    if scored:
        keep &= np.isfinite(score) & (score > rules.min_score)
    kept = cand[keep].assign(distance=distance[keep])
    if not scored:
        kept["score"] = UNSCORED
    # One row per (gene, interval): the first TSS listing it, its best score there.
    kept = kept.sort_values(
        ["gene_index", "chrom", "start", "end", "tss_order", "score"],
        ascending=[True, True, True, True, True, False],
        kind="stable",
    )
    kept = kept.drop_duplicates(["gene_index", "chrom", "start", "end"], keep="first")
    kept["interval"] = interval_text(kept["chrom"].to_numpy(), kept["start"].to_numpy(), kept["end"].to_numpy())
    by = ["gene_index", "score", "interval"] if scored else ["gene_index", "distance", "interval"]
    kept = kept.sort_values(by, ascending=[True, not scored, True], kind="stable")
    kept["rank"] = kept.groupby("gene_index").cumcount() + 1
    kept = kept[kept["rank"] <= rules.max_pcres]
    kept.insert(0, "gene_id", genes["gene_id"].to_numpy()[kept["gene_index"].to_numpy()])
    out = kept[PCRE_COLUMNS].reset_index(drop=True)
    out["start"] = out["start"].astype(np.int64)
    out["end"] = out["end"].astype(np.int64)
    out["rank"] = out["rank"].astype(np.int64)
    return out


def find_pcres(
    genes: pd.DataFrame, source: str, rules: PcreRules = PcreRules(), notes: list | None = None, aliases=None
) -> pd.DataFrame:
    """Candidates from ``source`` (BEDPE, ibed, cool/mcool/hic), then :func:`select_pcres`.

    ``notes``, if given, receives one line per decision the reader made
    (score column, anchors, normalisation, skipped rows) for the log.
    ``aliases`` (:class:`~chromoflow.genome.ChromAliases`) matches a source
    whose chromosome names differ from the genes'; pCREs keep the genes' names.
    """
    cand = candidates(genes, source, rules, aliases)
    if notes is not None:
        notes.extend(cand.notes)
    return select_pcres(genes, cand.table, rules, scored=cand.scored)


def write_pcres(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    write_tsv(frame[PCRE_COLUMNS], path, float_format="%.6g")


def read_pcres(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a ``pcres.tsv`` (see module docstring); an empty table (header only) is allowed."""
    frame = read_table(path, PCRE_COLUMNS, "pCRE table", hint="make one with 'chromoflow pcres'", allow_empty=True)
    for name, kind in (("rank", "integer"), ("start", "integer"), ("end", "integer"), ("score", "number")):
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.astype(float))
        if kind == "integer":
            bad |= values.notna() & (values != values.round())
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise at_line(
                path,
                row_line(frame, i),
                f"{name} must be {'an integer' if kind == 'integer' else 'a finite number'}, got {frame[name].iat[i]!r}",
            )
        frame[name] = values.astype(np.int64 if kind == "integer" else np.float64)
    bad = (frame["start"] < 0) | (frame["end"] <= frame["start"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise at_line(
            path,
            row_line(frame, i),
            f"invalid interval {frame['start'].iat[i]}-{frame['end'].iat[i]} (need 0 <= start < end)",
        )
    bad = frame["rank"] < 1
    if bad.any():
        raise at_line(path, row_line(frame, int(np.flatnonzero(bad.to_numpy())[0])), "rank must be at least 1")
    return frame[PCRE_COLUMNS]
