"""Expression tables: a gene id column and one column per sample.

Read as they come from the tools that write them:

- Roadmap ``57epigenomes.RPKM`` and nf-core/rnaseq tables (``gene_id`` first,
  or ``gene_id gene_name sample…``; ``salmon.merged.gene_tpm.tsv``,
  ``gene_counts.tsv``), RSEM's ``rsem.merged.gene_tpm.tsv``
  (``gene_id transcript_id(s) sample…``), Salmon's ``quant.genes.sf``: the
  ``gene_id`` column, else the first column, holds the ids;
- featureCounts output: ``#`` comment lines skipped (``# Program:featureCounts…``),
  ids in ``Geneid``, samples named by their BAM files
  (``/path/cellA.sorted.bam``): a column whose file name without ``.bam``
  and the usual suffixes is the sample is taken, with a note;
- GCT (GTEx): the ``#1.2`` version line and the dimensions line skipped,
  ids in ``Name``.

Ensembl/GENCODE version suffixes are dropped; GENCODE's ``_PAR_Y`` copies of
pseudo-autosomal genes (``ENSG00000002586.20_PAR_Y``, in tables from every
GENCODE release up to v43) are skipped, as the GTF reader skips them, and
the chrX gene keeps its value.

Labels follow the published rule: a gene is *high* (1) when its expression
is at least the sample's median over the genes with a value, else *low*
(0). When the median is also the smallest value (e.g. 0 because most genes
are unexpressed), ``>= median`` would call every gene high; then a gene is
high when its expression is *above* the median, and a warning says so.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from .._io import open_text
from .._tables import read_table, row_line
from ..errors import ChromoflowError, at_line
from ..log import note, warn
from .genes import strip_version

_BAM_SUFFIXES = re.compile(r"(\.bam|\.sorted|\.sortedByCoord\.out|Aligned|\.markdup|\.dedup|\.mkdup|_sorted)+$", re.I)


def _is_gct(path) -> bool:
    with open_text(path) as fh:
        return fh.readline().startswith("#1.")


def _sample_column(header: list[str], sample: str, path) -> str:
    """The column of ``sample``: its name, or the one BAM file named after it (featureCounts)."""
    if sample in header:
        return sample
    stems = [c for c in header if c.lower().endswith(".bam") and _BAM_SUFFIXES.sub("", os.path.basename(c)) == sample]
    if len(stems) == 1:
        note(f"{path}: column {stems[0]!r} taken as sample {sample!r}")
        return stems[0]
    samples = header[1:]
    raise ChromoflowError(
        f"{path}: no column for sample {sample!r} (columns: {', '.join(samples[:10])}{' …' if len(samples) > 10 else ''})"
    )


def read_expression(path: str | os.PathLike, sample: str) -> pd.Series:
    """Expression of ``sample`` indexed by gene_id (version suffixes dropped, ``_PAR_Y`` rows skipped)."""
    gct = _is_gct(path)
    head = read_table(path, [], "expression table", comments=("#",), skip=1 if gct else 0, allow_empty=True)
    header = list(head.columns)
    if len(header) < 2:
        raise ChromoflowError(
            f"{path}: expected a tab-separated table with gene_id and one column per sample (the header has {len(header)} column)"
        )
    id_col = "gene_id" if "gene_id" in header else header[0]
    column = _sample_column(header, sample, path)
    frame = head
    if frame.empty:
        raise ChromoflowError(f"{path}: no rows below the header")
    raw = frame[id_col].str.strip()
    empty = raw.isin(["", "NA", "NaN", "nan"])
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise at_line(path, row_line(frame, i), f"empty gene id in column {id_col!r}")
    par_y = raw.str.endswith("_PAR_Y").to_numpy()
    if par_y.any():
        note(
            f"{path}: {int(par_y.sum())} _PAR_Y rows skipped (GENCODE's chrY copies of pseudo-autosomal genes; the chrX gene keeps its value, as in the GTF)"
        )
    ids = raw.map(strip_version)
    values = pd.to_numeric(frame[column], errors="coerce")
    missing = frame[column].str.strip().str.upper().isin(["", "NA", "NAN"])
    bad = ((values.isna() & ~missing) | np.isinf(values.astype(float))) & ~par_y
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise at_line(
            path,
            row_line(frame, i),
            f"expression of {ids.iat[i]!r} in column {column!r} is not a finite number: {frame[column].iat[i]!r}",
        )
    neg = (values < 0) & ~par_y
    if neg.any():
        i = int(np.flatnonzero(neg.to_numpy())[0])
        raise at_line(
            path,
            row_line(frame, i),
            f"expression of {ids.iat[i]!r} is negative ({values.iat[i]}); expected RPKM/TPM-like values >= 0",
        )
    keep = ~par_y
    dup = ids[keep].duplicated()
    if dup.any():
        i = int(dup.index[np.flatnonzero(dup.to_numpy())[0]])
        raise at_line(
            path,
            row_line(frame, i),
            f"duplicate gene_id {ids.iat[i]!r}{f' (as {raw.iat[i]!r} without its version)' if raw.iat[i] != ids.iat[i] else ''}",
        )
    return pd.Series(values[keep].to_numpy(dtype=np.float64), index=ids[keep].to_numpy(), name=sample)


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
