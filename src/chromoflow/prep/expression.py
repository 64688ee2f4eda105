"""Expression tables: ``gene_id`` and one column per sample (Roadmap ``57epigenomes.RPKM`` layout)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .._io import open_text
from ..errors import ChromoflowError, at_line
from .genes import strip_version


def read_expression(path: str | os.PathLike, sample: str) -> pd.Series:
    """Expression of ``sample`` indexed by gene_id (version suffixes dropped)."""
    with open_text(path) as fh:
        frame = pd.read_csv(fh, sep="\t", dtype=str, keep_default_na=False)
    if frame.shape[1] < 2:
        raise ChromoflowError(f"{path}: expected a tab-separated table with gene_id and one column per sample")
    id_col = "gene_id" if "gene_id" in frame.columns else frame.columns[0]
    if sample not in frame.columns:
        samples = [c for c in frame.columns if c != id_col]
        raise ChromoflowError(f"{path}: no column for sample {sample!r} (columns: {', '.join(samples[:10])}{' …' if len(samples) > 10 else ''})")
    ids = frame[id_col].map(strip_version)
    values = pd.to_numeric(frame[sample], errors="coerce")
    bad = values.isna() & ~frame[sample].str.upper().isin(["", "NA", "NAN"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise at_line(path, i + 2, f"expression of {ids.iat[i]!r} in column {sample!r} is not a number: {frame[sample].iat[i]!r}")
    neg = values < 0
    if neg.any():
        i = int(np.flatnonzero(neg.to_numpy())[0])
        raise at_line(path, i + 2, f"expression of {ids.iat[i]!r} is negative ({values.iat[i]}); expected RPKM/TPM-like values >= 0")
    dup = ids.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise at_line(path, i + 2, f"duplicate gene_id {ids.iat[i]!r}")
    return pd.Series(values.to_numpy(dtype=np.float64), index=ids.to_numpy(), name=sample)


def labels_and_targets(expression: np.ndarray):
    """Binary label (expression >= median of genes with a value) and log2(expression + 1).

    Genes without a value get label -1 and target NaN.
    """
    expression = np.asarray(expression, np.float64)
    known = np.isfinite(expression)
    threshold = float(np.median(expression[known])) if known.any() else float("nan")
    label = np.where(known, (expression >= threshold).astype(np.int8), -1).astype(np.int8)
    target = np.where(known, np.log2(expression + 1.0), np.nan).astype(np.float32)
    return label, target, threshold
