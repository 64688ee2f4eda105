"""Tables, JSON and figures that training and prediction write.

Predictions table (``heldout.tsv`` of a training run, ``predictions.tsv`` of
``predict``), one row per gene::

    gene_id  gene_name  chrom  tss  strand  fold  heldout  prediction  label|target

``heldout`` is 1 for genes the model was not trained on (its held-out fold),
0 for its training genes, and empty when that is unknown (a checkpoint of
unknown origin): only ``heldout == 1`` rows are ever scored.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from .._io import atomic_output, write_tsv
from .data import TaskData

PREDICTION_COLUMNS = ["gene_id", "gene_name", "chrom", "tss", "strand", "fold", "heldout", "prediction"]


def finite_json(obj):
    """``obj`` with every non-finite float replaced by None, so the JSON is valid (``null``, never ``NaN``)."""
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def write_json(obj, path) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(finite_json(obj), indent=2, allow_nan=False) + "\n")


def prediction_frame(data: TaskData, positions, pred, heldout=None) -> pd.DataFrame:
    """The predictions table (module docstring) for ``positions`` of ``data``."""
    genes = data.genes.iloc[positions]
    frame = pd.DataFrame({c: genes[c].to_numpy() for c in ("gene_id", "gene_name", "chrom", "tss", "strand", "fold")})
    if heldout is None:
        frame["heldout"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    else:
        frame["heldout"] = pd.array(np.asarray(heldout, dtype=np.int64), dtype="Int64")
    frame["prediction"] = np.asarray(pred, np.float64)
    truth = data.truth[positions]
    if data.known.any():
        if data.task == "classification":
            frame["label"] = pd.array(np.where(np.isfinite(truth), truth, np.nan), dtype="Float64").astype("Int64")
        else:
            frame["target"] = truth
    return frame


def write_predictions(frame: pd.DataFrame, path) -> None:
    write_tsv(frame, path, float_format="%.6g")
