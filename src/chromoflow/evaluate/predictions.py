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
from ..data.task_data import TaskData

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


def write_tss_track(frame: pd.DataFrame, path, task: str) -> None:
    """Per-gene predictions at the TSS for genome browsers, sorted by position.

    ``.bedgraph``/``.bg``: ``chrom, tss, tss + 1, prediction``. Anything else:
    BED6+2 ``chrom, tss, tss + 1, gene_id, score, strand, prediction,
    gene_name`` with ``score`` the prediction scaled to 0-1000 (probability x
    1000, or min-max over the file for values) so browsers can shade it.
    """
    from ..genome import chrom_sort_key

    order = sorted(range(len(frame)), key=lambda i: (chrom_sort_key(frame["chrom"].iat[i]), int(frame["tss"].iat[i])))
    f = frame.iloc[order]
    start = f["tss"].to_numpy(np.int64)
    pred = f["prediction"].to_numpy(np.float64)
    if str(path).lower().endswith((".bedgraph", ".bg")):
        track = pd.DataFrame({"chrom": f["chrom"].to_numpy(), "start": start, "end": start + 1, "value": pred})
    else:
        if task == "classification":
            scaled = pred * 1000
        else:
            lo, hi = (np.nanmin(pred), np.nanmax(pred)) if len(pred) else (0.0, 1.0)
            scaled = (pred - lo) / (hi - lo) * 1000 if hi > lo else np.full(len(pred), 500.0)
        track = pd.DataFrame(
            {
                "chrom": f["chrom"].to_numpy(),
                "start": start,
                "end": start + 1,
                "name": f["gene_id"].to_numpy(),
                "score": np.clip(np.round(scaled), 0, 1000).astype(np.int64),
                "strand": f["strand"].to_numpy(),
                "prediction": pred,
                "gene_name": f["gene_name"].to_numpy(),
            }
        )
    with atomic_output(path) as tmp:
        track.to_csv(tmp, sep="\t", header=False, index=False, float_format="%.6g")
