"""The binned CSVs of DeepChrome/AttentiveChrome as a chromoflow dataset.

Their benchmark data (the toy sets and the 56-cell-type REMC release) lay
out each gene as 100 rows, headerless, comma-separated::

    gene_id, bin_id (1..100), mark_1 … mark_M (read counts), label (0/1)

100 bins of 100 bp cover ±5 kb around the TSS; the marks are, in their
order, H3K27me3, H3K36me3, H3K4me1, H3K4me3, H3K9me3. Each CSV given
(``train``, ``valid``, ``test`` in that order) becomes one fold, so the
original split is kept: train with ``--fold 3 --val-fold 2`` to train on
train, select on valid and report test, as the papers did.

The dataset has one resolution (100 bp, window 10 kb, the 100 bins), labels
from the CSV (no expression values, so classification only) and no pCREs.
Counts are stored as they are (``transform="raw"``, as the original models
read them) or as ln(1 + count) (``"log1p"``, the scale of chromoflow's own
datasets).
"""

from __future__ import annotations

import json
import os

import h5py
import numpy as np
import pandas as pd

from .._io import atomic_output, native_writes, require_space
from .._tables import lines
from ..data.dataset import create_dataset_file
from ..errors import ChromoflowError, at_line

BINNED_MARKS = ["H3K27me3", "H3K36me3", "H3K4me1", "H3K4me3", "H3K9me3"]
N_BINS, BIN_SIZE = 100, 100
TRANSFORMS = ("raw", "log1p")


def read_binned_csv(path, n_marks: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gene_ids, counts (G, 100, M), labels (G,)) of one CSV, every row checked."""
    records = list(lines(path, sep=","))
    if not records:
        raise ChromoflowError(f"{path}: empty file; expected rows gene_id,bin_id,mark counts…,label")
    numbers = np.array([no for no, _ in records])
    width = len(records[0][1])
    if width < 4:
        raise at_line(
            path,
            numbers[0],
            f"expected gene_id, bin_id, at least one mark and a label (comma-separated), got {width} fields",
        )
    ragged = next(((no, len(f)) for no, f in records if len(f) != width), None)
    if ragged:
        raise at_line(path, ragged[0], f"{ragged[1]} comma-separated fields, the first row has {width}")
    if n_marks is not None and width - 3 != n_marks:
        raise ChromoflowError(
            f"{path}: {width - 3} mark columns, but {n_marks} marks are named; pass --marks with one name per mark column"
        )
    ids = np.array([f[0].strip() for _, f in records], dtype=object)
    empty = np.isin(ids, ["", "NA", "NaN", "nan"])
    if empty.any():
        raise at_line(
            path,
            numbers[int(np.flatnonzero(empty)[0])],
            f"empty gene id {ids[int(np.flatnonzero(empty)[0])]!r} in column 1",
        )
    text = np.array([f[1:] for _, f in records], dtype=object)
    values = pd.DataFrame(text).apply(pd.to_numeric, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise at_line(path, numbers[r], f"column {c + 2} must be a finite number, got {str(text[r, c])!r}")
    bin_id, counts, label = values[:, 0], values[:, 1:-1], values[:, -1]
    if (counts < 0).any():
        r = int(np.argwhere(counts < 0)[0][0])
        raise at_line(path, numbers[r], "read counts must be >= 0")
    if not np.isin(label, (0, 1)).all():
        r = int(np.flatnonzero(~np.isin(label, (0, 1)))[0])
        raise at_line(path, numbers[r], f"label must be 0 or 1, got {str(text[r, -1])!r}")
    # Each gene is a run of rows with one id: N_BINS of them, bin_id 1..N_BINS in order.
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    sizes = np.diff(np.r_[starts, len(ids)])
    short = np.flatnonzero(sizes != N_BINS)
    if len(short):
        g = int(short[0])
        raise at_line(
            path,
            numbers[starts[g]],
            f"gene {str(ids[starts[g]])!r} has {sizes[g]} rows (bins); each gene needs {N_BINS}, bin_id 1..{N_BINS}",
        )
    G = len(starts)
    wrong = bin_id != np.tile(np.arange(1, N_BINS + 1), G)
    if wrong.any():
        r = int(np.flatnonzero(wrong)[0])
        raise at_line(
            path,
            numbers[r],
            f"expected bin {r % N_BINS + 1} of gene {str(ids[r])!r}, got bin_id {str(text[r, 0])!r}: each gene needs rows with bin_id 1..{N_BINS} in order",
        )
    labels = label.reshape(G, N_BINS)
    mixed = (labels != labels[:, :1]).any(1)
    if mixed.any():
        g = int(np.flatnonzero(mixed)[0])
        raise at_line(path, numbers[g * N_BINS], f"gene {str(ids[g * N_BINS])!r} has different labels in its rows")
    gene_ids = np.array([str(g) for g in ids[starts]], dtype=str)
    dup = pd.Series(gene_ids).duplicated()
    if dup.any():
        g = int(np.flatnonzero(dup.to_numpy())[0])
        raise at_line(path, numbers[g * N_BINS], f"gene {str(gene_ids[g])!r} appears twice")
    return gene_ids, counts.reshape(G, N_BINS, -1), labels[:, 0].astype(np.int8)


def import_binned(
    csvs: list,
    out: str | os.PathLike,
    marks: list[str] | None = None,
    sample: str | None = None,
    transform: str = "raw",
) -> dict:
    """Write the chromoflow dataset of the CSVs (module docstring); return a small summary."""
    if not csvs:
        raise ChromoflowError("give at least one --csv")
    if transform not in TRANSFORMS:
        raise ChromoflowError(f"--transform {transform!r}: expected one of {', '.join(TRANSFORMS)}")
    if marks is not None and (len(set(marks)) != len(marks) or not all(marks)):
        raise ChromoflowError(f"--marks {','.join(marks)}: mark names must be distinct and non-empty")
    parts = [read_binned_csv(p, len(marks) if marks else None) for p in csvs]
    n_marks = parts[0][1].shape[2]
    for p, (_, counts, _) in zip(csvs, parts):
        if counts.shape[2] != n_marks:
            raise ChromoflowError(f"{p}: {counts.shape[2]} mark columns, {csvs[0]} has {n_marks}")
    marks = marks or (BINNED_MARKS if n_marks == len(BINNED_MARKS) else [f"mark{i + 1}" for i in range(n_marks)])
    ids = np.concatenate([p[0] for p in parts])
    dup = pd.Series(ids).duplicated()
    if dup.any():
        raise ChromoflowError(
            f"gene {str(ids[int(np.flatnonzero(dup.to_numpy())[0])])!r} is in more than one --csv file; the files must split the genes"
        )
    counts = np.concatenate([p[1] for p in parts]).astype(np.float32)
    if transform == "log1p":
        counts = np.log1p(counts)
    label = np.concatenate([p[2] for p in parts])
    fold = np.concatenate([np.full(len(p[0]), k + 1, np.int32) for k, p in enumerate(parts)])
    G = len(ids)
    genes = pd.DataFrame(
        {
            "gene_id": ids,
            "chrom": "unplaced",
            "tss": 0,
            "strand": "+",
            "gene_name": "",
            "fold": fold,
            "expression": np.nan,
            "label": label,
            "target": np.float32(np.nan),
        }
    )
    pcres = pd.DataFrame(
        {
            "gene_index": pd.Series(dtype=np.int64),
            "chrom": pd.Series(dtype=object),
            "start": pd.Series(dtype=np.int64),
            "end": pd.Series(dtype=np.int64),
            "score": pd.Series(dtype=np.float32),
        }
    )
    names = [os.path.basename(str(p)) for p in csvs]
    attrs = {
        "sample": sample or os.path.basename(os.path.dirname(os.path.abspath(str(csvs[0])))) or "binned",
        "marks": marks,
        "bin_sizes": [BIN_SIZE],
        "window": N_BINS * BIN_SIZE,
        "max_pcres": 1,
        "folds": "files:" + ",".join(names),
        "n_folds": len(csvs),
        "fold_reason": "one fold per --csv file, in order",
        "fold_seed": 0,
        "label_threshold": np.nan,
        "transform": transform,
        "sources": json.dumps({"csv": [str(p) for p in csvs]}),
    }
    require_space(out, counts.nbytes + 200 * G, "the dataset")
    with atomic_output(out) as tmp, native_writes():
        with h5py.File(tmp, "w") as h5:
            promoter, _ = create_dataset_file(h5, attrs, genes, pcres)
            promoter[BIN_SIZE][...] = counts
    return {"genes": G, "marks": marks, "folds": {n: int((fold == k + 1).sum()) for k, n in enumerate(names)}}
