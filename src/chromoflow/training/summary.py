"""One table over samples x tasks x models x folds, from prediction files.

Manifest (TSV): ``sample, task, model, fold, predictions`` and optionally
``metrics`` (a training ``metrics.json``, for epochs and throughput). ``task``
may be ``auto`` (predict-only runs): classification when the predictions
carry ``label``, regression when they carry ``target``.

Outputs in ``outdir``:

- ``metrics.tsv``: one row per manifest row: every metric of its task,
  computed from the predictions (so predict-only runs are scored the same
  way), plus epochs and training genes/s when known;
- ``metrics_by_model.tsv``: mean and standard deviation over folds per
  sample x task x model;
- ``predictions.tsv``: all predictions, with sample/task/model columns;
- ``metrics.png``: the headline metric per model, one panel per task.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import open_text, write_tsv
from ..errors import ChromoflowError
from .metrics import HEADLINE, task_metrics

MANIFEST_COLUMNS = ["sample", "task", "model", "fold", "predictions"]


def _infer_task(task: str, frame: pd.DataFrame, path) -> str:
    if task != "auto":
        return task
    if "label" in frame.columns:
        return "classification"
    if "target" in frame.columns:
        return "regression"
    raise ChromoflowError(f"{path}: no label or target column to score (was the dataset built with --expression?)")


def summarize(manifest: str | os.PathLike, outdir: str | os.PathLike, base: str | os.PathLike | None = None) -> pd.DataFrame:
    base = Path(base) if base else Path(manifest).parent
    with open_text(manifest) as fh:
        runs = pd.read_csv(fh, sep="\t", dtype=str, keep_default_na=False)
    missing = [c for c in MANIFEST_COLUMNS if c not in runs.columns]
    if missing:
        raise ChromoflowError(f"{manifest}: missing column(s) {', '.join(missing)}")
    if runs.empty:
        raise ChromoflowError(f"{manifest}: no runs listed")
    rows, frames = [], []
    for i, run in runs.iterrows():
        path = base / run["predictions"]
        if not path.is_file():
            raise ChromoflowError(f"{manifest} line {i + 2}: predictions file {path} does not exist")
        pred = pd.read_csv(path, sep="\t")
        task = _infer_task(run["task"], pred, path)
        truth_col = "label" if task == "classification" else "target"
        row = {"sample": run["sample"], "task": task, "model": run["model"], "fold": run["fold"]}
        if truth_col in pred.columns:
            known = pred[truth_col].notna()
            row.update(task_metrics(task, pred.loc[known, truth_col].to_numpy(float), pred.loc[known, "prediction"].to_numpy(float)))
        else:
            row["n"] = len(pred)
        metrics_file = run.get("metrics", "")
        if metrics_file:
            m = json.loads((base / metrics_file).read_text())
            row.update(epochs_run=m.get("epochs_run"), selected_epoch=m.get("selected_epoch"), train_genes_per_s=m.get("samples_per_s"), train_seconds=m.get("train_seconds"))
        rows.append(row)
        frames.append(pred.assign(sample=run["sample"], task=task, model=run["model"])[["sample", "task", "model", *pred.columns]])
    table = pd.DataFrame(rows)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    write_tsv(table, out / "metrics.tsv", float_format="%.6g")
    metric_cols = [c for c in ("roc_auc", "average_precision", "accuracy", "pearson_r", "spearman_r", "r2", "mse", "direction_accuracy") if c in table.columns]
    grouped = table.groupby(["sample", "task", "model"], sort=True)[metric_cols]
    by_model = grouped.mean().add_suffix("_mean").join(grouped.std().add_suffix("_sd")).join(table.groupby(["sample", "task", "model"]).size().rename("folds")).reset_index()
    by_model = by_model.dropna(axis=1, how="all")
    write_tsv(by_model, out / "metrics_by_model.tsv", float_format="%.6g")
    write_tsv(pd.concat(frames, ignore_index=True), out / "predictions.tsv", float_format="%.6g")
    figure(table, out / "metrics.png")
    return table


def figure(table: pd.DataFrame, path) -> None:
    """Headline metric per model (points: folds; one colour per sample), a panel per task."""
    from .plots import _pyplot, _save

    tasks = [t for t in ("classification", "regression", "fold-change") if t in set(table["task"])]
    tasks = [t for t in tasks if HEADLINE[t] in table.columns and table.loc[table.task == t, HEADLINE[t]].notna().any()]
    if not tasks:
        return
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False)
    samples = sorted(set(table["sample"]))
    colours = plt.get_cmap("tab10")
    for ax, task in zip(axes[0], tasks):
        sub = table[table.task == task]
        models = sorted(set(sub["model"]))
        for s, sample in enumerate(samples):
            part = sub[sub["sample"] == sample]
            x = np.array([models.index(m) for m in part["model"]]) + (s - (len(samples) - 1) / 2) * 0.12
            ax.scatter(x, part[HEADLINE[task]], color=colours(s % 10), label=sample, s=18)
        ax.set_xticks(range(len(models)), models, rotation=20, ha="right")
        ax.set(title=task, ylabel=HEADLINE[task].replace("_", " "))
        ax.grid(axis="y", alpha=0.3)
    axes[0][-1].legend(frameon=False, fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")
    _save(fig, path)
