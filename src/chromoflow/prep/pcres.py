"""Putative cis-regulatory elements (pCREs) per gene: filter, deduplicate, rank.

Output table (``pcres.tsv``), best score first within each gene::

    gene_id  rank  chrom  start  end  score
    ENSG…    1     chr14  21682583  21690388  2.3544

Rules (the Chromoformer protocol, for every contact source): partners on the
gene's chromosome, score > ``min_score``, length <= ``max_length``, distance
from the TSS to the partner's midpoint within [``min_distance``,
``max_distance``], not containing the gene's own TSS; identical intervals
merged (highest score kept); the ``max_pcres`` best per gene.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._io import open_text, write_tsv
from ..errors import ChromoflowError, at_line
from .contacts import candidates

PCRE_COLUMNS = ["gene_id", "rank", "chrom", "start", "end", "score"]


@dataclass(frozen=True)
class PcreRules:
    min_score: float = 1.5
    max_pcres: int = 8
    max_distance: int = 2_000_000
    max_length: int = 40_000
    min_distance: int = 0


def select_pcres(genes: pd.DataFrame, cand: pd.DataFrame, rules: PcreRules = PcreRules()) -> pd.DataFrame:
    """Apply :class:`PcreRules` to a candidate table (see :mod:`.contacts`)."""
    if cand.empty:
        return pd.DataFrame(columns=PCRE_COLUMNS)
    gi = cand["gene_index"].to_numpy()
    g_chrom = genes["chrom"].to_numpy()[gi]
    tss = genes["tss"].to_numpy()[gi]
    start, end = cand["start"].to_numpy(), cand["end"].to_numpy()
    score = cand["score"].to_numpy(dtype=np.float64)
    distance = np.abs((start + end) // 2 - tss)
    keep = (
        (cand["chrom"].to_numpy() == g_chrom)
        & ~((start <= tss) & (tss < end))
        & np.isfinite(score)
        & (score > rules.min_score)
        & (end - start <= rules.max_length)
        & (distance <= rules.max_distance)
        & (distance >= rules.min_distance)
    )
    kept = cand[keep].copy()
    kept = kept.sort_values(["gene_index", "score", "start", "end"], ascending=[True, False, True, True], kind="stable")
    kept = kept.drop_duplicates(["gene_index", "chrom", "start", "end"], keep="first")
    kept["rank"] = kept.groupby("gene_index").cumcount() + 1
    kept = kept[kept["rank"] <= rules.max_pcres]
    kept.insert(0, "gene_id", genes["gene_id"].to_numpy()[kept["gene_index"].to_numpy()])
    out = kept[PCRE_COLUMNS].reset_index(drop=True)
    out["start"] = out["start"].astype(np.int64)
    out["end"] = out["end"].astype(np.int64)
    return out


def find_pcres(genes: pd.DataFrame, source: str, rules: PcreRules = PcreRules(), balance: bool = True) -> pd.DataFrame:
    """Candidates from ``source`` (BEDPE, ibed, cool/mcool), then :func:`select_pcres`."""
    cand = candidates(genes, source, max_distance=rules.max_distance, max_length=rules.max_length, balance=balance)
    return select_pcres(genes, cand, rules)


def write_pcres(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    write_tsv(frame[PCRE_COLUMNS], path, float_format="%.6g")


def read_pcres(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a ``pcres.tsv`` (see module docstring)."""
    with open_text(path) as fh:
        header = fh.readline().rstrip("\n\r").split("\t")
    missing = [c for c in PCRE_COLUMNS if c not in header]
    if missing:
        raise ChromoflowError(f"{path}: missing column(s) {', '.join(missing)}; expected a TSV with header {' '.join(PCRE_COLUMNS)} (make one with 'chromoflow pcres')")
    frame = pd.read_csv(path, sep="\t", dtype={"gene_id": str, "chrom": str}, keep_default_na=False)
    for name, kind in (("rank", "integer"), ("start", "integer"), ("end", "integer"), ("score", "number")):
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = values.isna()
        if kind == "integer":
            bad |= values.notna() & (values != values.round())
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise at_line(path, i + 2, f"{name} must be {'an integer' if kind == 'integer' else 'a number'}, got {frame[name].iat[i]!r}")
        frame[name] = values.astype(np.int64 if kind == "integer" else np.float64)
    bad = (frame["start"] < 0) | (frame["end"] <= frame["start"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise at_line(path, i + 2, f"invalid interval {frame['start'].iat[i]}-{frame['end'].iat[i]} (need 0 <= start < end)")
    return frame[PCRE_COLUMNS]
