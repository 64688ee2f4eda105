"""Expression tables: ``gene_id`` and one column per sample (Roadmap ``57epigenomes.RPKM`` layout).

Labels follow the published rule: a gene is *high* (1) when its expression
is at least the sample's median over the genes with a value, else *low*
(0). When the median is also the smallest value (e.g. 0 because most genes
are unexpressed), ``>= median`` would call every gene high; then a gene is
high when its expression is *above* the median, and a warning says so.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .._io import open_text
from ..errors import ChromoflowError, at_line
from ..log import warn
from .genes import strip_version


def read_expression(path: str | os.PathLike, sample: str) -> pd.Series:
    """Expression of ``sample`` indexed by gene_id (version suffixes dropped)."""
    with open_text(path) as fh:
        text = fh.read()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise ChromoflowError(f"{path}: empty file; expected a tab-separated table with gene_id and one column per sample")
    header = lines[0].split("\t")
    if len(header) < 2:
        raise ChromoflowError(f"{path}: expected a tab-separated table with gene_id and one column per sample (the header has {len(header)} column)")
    id_col = "gene_id" if "gene_id" in header else header[0]
    if sample not in header:
        samples = [c for c in header if c != id_col]
        raise ChromoflowError(f"{path}: no column for sample {sample!r} (columns: {', '.join(samples[:10])}{' …' if len(samples) > 10 else ''})")
    for no, line in enumerate(text.splitlines()[1:], 2):
        if line.strip() and len(line.split("\t")) != len(header):
            raise at_line(path, no, f"{len(line.split(chr(9)))} tab-separated fields, the header has {len(header)}")
    if len(lines) < 2:
        raise ChromoflowError(f"{path}: no rows below the header")
    import io

    frame = pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False)
    ids = frame[id_col].map(strip_version)
    values = pd.to_numeric(frame[sample], errors="coerce")
    missing = frame[sample].str.strip().str.upper().isin(["", "NA", "NAN"])
    bad = (values.isna() & ~missing) | np.isinf(values.astype(float))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise at_line(path, i + 2, f"expression of {ids.iat[i]!r} in column {sample!r} is not a finite number: {frame[sample].iat[i]!r}")
    neg = values < 0
    if neg.any():
        i = int(np.flatnonzero(neg.to_numpy())[0])
        raise at_line(path, i + 2, f"expression of {ids.iat[i]!r} is negative ({values.iat[i]}); expected RPKM/TPM-like values >= 0")
    empty = ids.str.strip() == ""
    if empty.any():
        raise at_line(path, int(np.flatnonzero(empty.to_numpy())[0]) + 2, "empty gene_id")
    dup = ids.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise at_line(path, i + 2, f"duplicate gene_id {ids.iat[i]!r}")
    return pd.Series(values.to_numpy(dtype=np.float64), index=ids.to_numpy(), name=sample)


def labels_and_targets(expression: np.ndarray, source: str = "expression"):
    """Binary label (see the module docstring) and log2(expression + 1).

    Genes without a value get label -1 and target NaN.
    """
    expression = np.asarray(expression, np.float64)
    known = np.isfinite(expression)
    threshold = float(np.median(expression[known])) if known.any() else float("nan")
    if known.any() and threshold <= expression[known].min():
        high = expression > threshold
        warn(
            f"{source}: the median expression ({threshold:g}) is also the lowest value ({int((expression[known] == threshold).sum())} of "
            f"{int(known.sum())} genes have it): labelling genes high when above it instead of at least it "
            f"({int(high[known].sum())} high, {int((~high[known]).sum())} low)"
        )
    else:
        high = expression >= threshold
    label = np.where(known, high.astype(np.int8), -1).astype(np.int8)
    target = np.where(known, np.log2(expression + 1.0), np.nan).astype(np.float32)
    return label, target, threshold
