"""One table over samples x tasks x models x folds, from prediction files.

Manifest (TSV): ``sample, task, model, fold, predictions`` and optionally
``metrics`` (a training ``metrics.json``, for epochs and throughput) and
``info`` (the JSON ``chromoflow predict --info`` writes: a checkpoint's
origin). ``task``, ``model`` and ``fold`` may be ``auto`` or empty: they are
then taken from ``info``, and ``task`` from the predictions' columns
(classification when they carry ``label``, regression when ``target``).

Only held-out genes are scored: rows whose ``heldout`` column is 1 (a
prediction file without the column counts as all held out, as ``heldout.tsv``
of a training run is). A run whose held-out genes are unknown (a checkpoint
of unknown origin) gets a row marked ``unscored`` with no metrics.

Outputs in ``outdir``:

- ``metrics.tsv``: one row per manifest row: every metric of its task,
  ``n`` scored genes, ``status`` (``scored``/``unscored``), ``trained_on``
  for checkpoints, epochs and training genes/s when known;
- ``metrics_by_model.tsv``: mean and standard deviation over folds per
  sample x task x model (scored runs only);
- ``predictions.tsv``: all predictions, with sample/task/model/run columns;
- ``metrics.png``: the headline metric per model (one point per fold,
  labelled), the mean, and the chance level, one panel per task;
- ``chromoflow_*_mqc.*``: the same results as MultiQC custom content
  (:mod:`chromoflow.evaluate.multiqc`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import all_or_nothing, output_folder, write_tsv
from .._tables import numeric_columns, read_table, row_line
from ..errors import ChromoflowError
from ..models import TASKS
from .metrics import HEADLINE, task_metrics
from .multiqc import write_multiqc

MANIFEST_COLUMNS = ["sample", "task", "model", "fold", "predictions"]
CHANCE = {"roc_auc": 0.5, "pearson_r": 0.0}


def _infer_task(task: str, frame: pd.DataFrame, path) -> str:
    if task not in ("auto", ""):
        truth = "label" if task == "classification" else "target"
        if truth not in frame.columns:
            other = next((c for c in ("label", "target") if c in frame.columns), None)
            raise ChromoflowError(
                f"{path}: a {task} run needs a {truth!r} column to score"
                + (
                    f"; these predictions carry {other!r} (a {'classification' if other == 'label' else 'regression'} run?)"
                    if other
                    else ""
                )
            )
        return task
    if "label" in frame.columns:
        return "classification"
    if "target" in frame.columns:
        return "regression"
    raise ChromoflowError(f"{path}: no label or target column to score (was the dataset built with --expression?)")


def _read_json(path, manifest, line) -> dict:
    if not path.is_file():
        raise ChromoflowError(f"{manifest} line {line}: {path} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ChromoflowError(f"{path}: not valid JSON ({exc})") from None


def _read_predictions(path) -> pd.DataFrame:
    frame = read_table(
        path,
        ["gene_id", "prediction"],
        "predictions table",
        hint="written by 'chromoflow predict' or 'train'",
        allow_empty=True,
    )
    return numeric_columns(frame, path, ("prediction", "target", "label", "heldout"), required=("prediction",))


def summarize(
    manifest: str | os.PathLike, outdir: str | os.PathLike, base: str | os.PathLike | None = None
) -> pd.DataFrame:
    base = Path(base) if base else Path(manifest).parent
    runs = read_table(manifest, MANIFEST_COLUMNS, "run manifest")
    rows, frames = [], []
    for i, run in runs.iterrows():
        line = row_line(runs, i)
        if run["task"] not in (*TASKS, "auto", ""):
            raise ChromoflowError(
                f"{manifest} line {line}, column 'task': unknown task {run['task']!r} (expected {', '.join(TASKS)} or auto)"
            )
        path = base / run["predictions"]
        if not path.is_file():
            raise ChromoflowError(f"{manifest} line {line}: predictions file {path} does not exist")
        pred = _read_predictions(path)
        origin = _read_json(base / run["info"], manifest, line) if run.get("info", "") else {}
        task = _infer_task(run["task"] if run["task"] not in ("auto", "") else origin.get("task", "auto"), pred, path)
        model = run["model"] if run["model"] not in ("auto", "") else origin.get("model") or "unknown"
        fold = (
            run["fold"]
            if run["fold"] not in ("auto", "")
            else ("" if origin.get("fold") is None else str(origin["fold"]))
        )
        row = {"sample": run["sample"], "task": task, "model": model, "fold": fold}
        if origin:
            row["trained_on"] = origin.get("trained_on") or origin.get("source")
            row["checkpoint"] = Path(origin.get("checkpoint", "")).name
        truth_col = "label" if task == "classification" else "target"
        scored = pred["heldout"] == 1 if "heldout" in pred.columns else pd.Series(True, index=pred.index)
        if truth_col not in pred.columns:
            row.update(status="no truth", n=0)
        elif not scored.any():
            row.update(status="unscored", n=0)  # held-out genes unknown, or none in this sample
        else:
            known = scored & pred[truth_col].notna()
            row.update(
                status="scored",
                **task_metrics(
                    task, pred.loc[known, truth_col].to_numpy(float), pred.loc[known, "prediction"].to_numpy(float)
                ),
            )
        if run.get("metrics", ""):
            m = _read_json(base / run["metrics"], manifest, line)
            row.update(
                epochs_run=m.get("epochs_run"),
                selected_epoch=m.get("selected_epoch"),
                train_genes_per_s=m.get("samples_per_s"),
                train_seconds=m.get("train_seconds"),
            )
        rows.append(row)
        label = (
            f"fold{fold}" if fold else Path(run["predictions"]).name
        )  # every training fold's file is named heldout.tsv
        frames.append(
            pred.assign(sample=run["sample"], task=task, model=model, run=label)[
                ["sample", "task", "model", "run", *pred.columns]
            ]
        )
    table = pd.DataFrame(rows)
    with all_or_nothing(), output_folder(outdir) as out:
        write_tsv(table, out / "metrics.tsv", float_format="%.6g")
        metric_cols = [
            c
            for c in (
                "roc_auc",
                "average_precision",
                "accuracy",
                "pearson_r",
                "spearman_r",
                "r2",
                "mse",
                "direction_accuracy",
            )
            if c in table.columns
        ]
        scored_runs = table[table["status"] == "scored"]
        if len(scored_runs) and metric_cols:
            grouped = scored_runs.groupby(["sample", "task", "model"], sort=True)[metric_cols]
            by_model = (
                grouped.mean()
                .add_suffix("_mean")
                .join(grouped.std().add_suffix("_sd"))
                .join(scored_runs.groupby(["sample", "task", "model"]).size().rename("folds"))
                .reset_index()
            )
            by_model = by_model.dropna(axis=1, how="all")
        else:
            by_model = pd.DataFrame(columns=["sample", "task", "model", "folds"])
        write_tsv(by_model, out / "metrics_by_model.tsv", float_format="%.6g")
        write_tsv(pd.concat(frames, ignore_index=True), out / "predictions.tsv", float_format="%.6g")
        figure(scored_runs, out / "metrics.png")
        write_multiqc(by_model, out, draw_figure=lambda path: figure(scored_runs, path))
    return table


def figure(table: pd.DataFrame, path) -> None:
    """Headline metric per model: one labelled point per fold, a bar at the mean, the chance line; a panel per task."""
    from ..figures import pyplot, save_png

    tasks = [t for t in ("classification", "regression", "fold-change") if t in set(table.get("task", []))]
    tasks = [t for t in tasks if HEADLINE[t] in table.columns and table.loc[table.task == t, HEADLINE[t]].notna().any()]
    if not tasks:
        return
    plt = pyplot()
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.8 * len(tasks), 4.0), squeeze=False)
    samples = sorted(set(table["sample"]))
    colours = plt.get_cmap("tab10")
    for ax, task in zip(axes[0], tasks):
        metric = HEADLINE[task]
        sub = table[table.task == task]
        models = sorted(set(sub["model"]))
        for s, sample in enumerate(samples):
            part = sub[sub["sample"] == sample]
            offset = (s - (len(samples) - 1) / 2) * 0.15
            for m, model in enumerate(models):
                runs = part[part["model"] == model]
                if runs.empty:
                    continue
                x = m + offset
                ax.hlines(runs[metric].mean(), x - 0.06, x + 0.06, color=colours(s % 10), lw=2)
                ax.scatter(
                    np.full(len(runs), x),
                    runs[metric],
                    color=colours(s % 10),
                    s=16,
                    label=sample if m == 0 else None,
                    zorder=3,
                )
                for fold, value in zip(runs["fold"], runs[metric]):
                    if str(fold):
                        ax.annotate(
                            str(fold), (x, value), xytext=(4, 0), textcoords="offset points", fontsize=6, va="center"
                        )
        if metric in CHANCE:
            ax.axhline(CHANCE[metric], ls="--", c="grey", lw=1, label="chance")
        ax.set_xticks(range(len(models)), models, rotation=20, ha="right")
        ax.set(
            title=f"{task}: held-out {metric.replace('_', ' ')} per fold (bar = mean)", ylabel=metric.replace("_", " ")
        )
        ax.title.set_fontsize(9)
        ax.grid(axis="y", alpha=0.3)
    axes[0][-1].legend(frameon=False, fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")
    save_png(fig, path)
