"""MultiQC custom content: chromoflow's results beside the other pipelines' in one report.

Users of nf-core/rnaseq, chipseq, cutandrun or hic run one ``multiqc`` over
all their results folders; these files make chromoflow's summary part of it
(MultiQC finds them by their ``_mqc`` names, no MultiQC configuration needed):

- ``chromoflow_general_stats_mqc.tsv``: a General Statistics column per
  task x model (the mean held-out headline metric over folds), one row per
  sample;
- ``chromoflow_metrics_mqc.tsv``: a table section, one row per
  sample x task x model (mean and sd of every metric over folds);
- ``chromoflow_metrics_mqc.png``: the metrics figure (``metrics.png``), as an
  image section.

The software versions (``*_mqc_versions.yml``) are written by the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .._io import write_text
from .metrics import HEADLINE

GENERAL_STATS = "chromoflow_general_stats_mqc.tsv"
METRICS_TABLE = "chromoflow_metrics_mqc.tsv"
METRICS_FIGURE = "chromoflow_metrics_mqc.png"

_TITLE = {"roc_auc": "AUC", "pearson_r": "r"}
_RANGE = {"roc_auc": (0.5, 1.0), "pearson_r": (-1.0, 1.0)}
_TASK_SHORT = {"classification": "cls", "regression": "reg", "fold-change": "FC"}


def _header(lines: list[str]) -> str:
    """MultiQC reads a custom-content file's configuration from its leading '#' lines (YAML)."""
    return "".join(f"# {line}\n" for line in lines)


def general_stats(by_model: pd.DataFrame) -> str:
    """One row per sample, a column per task x model: the mean held-out headline metric."""
    columns, rows = [], {}
    for (task, model), part in by_model.groupby(["task", "model"], sort=True):
        metric = HEADLINE.get(task)
        if metric is None or f"{metric}_mean" not in part.columns:
            continue
        key = f"{task}_{model}_{metric}".replace("-", "_")
        low, high = _RANGE[metric]
        columns.append(
            [
                f"    - {key}:",
                f"        title: '{_TITLE[metric]} {model} {_TASK_SHORT[task]}'",
                f"        description: 'chromoflow: held-out {metric.replace('_', ' ')} of {model}, {task} (mean over folds)'",
                f"        min: {low}",
                f"        max: {high}",
                "        scale: 'RdYlGn'",
                "        format: '{:,.3f}'",
            ]
        )
        for sample, value in zip(part["sample"], part[f"{metric}_mean"]):
            rows.setdefault(str(sample), {})[key] = value
    if not columns:
        return ""
    keys = [c[0].strip()[2:-1] for c in columns]
    head = _header(
        [
            "id: 'chromoflow_general_stats'",
            "plot_type: 'generalstats'",
            "pconfig:",
            *[line for c in columns for line in c],
        ]
    )
    body = "Sample\t" + "\t".join(keys) + "\n"
    for sample, values in rows.items():
        body += sample + "\t" + "\t".join("" if pd.isna(values.get(k)) else f"{values[k]:.6g}" for k in keys) + "\n"
    return head + body


def metrics_table(by_model: pd.DataFrame) -> str:
    """A table section: one row per sample x task x model, every metric's mean and sd over folds."""
    if by_model.empty:
        return ""
    head = _header(
        [
            "id: 'chromoflow_metrics_table'",
            "section_name: 'chromoflow: held-out metrics'",
            "description: 'Gene expression predicted from histone marks and 3D contacts, scored on held-out genes only: "
            "mean and sd over folds per sample, task and model (summary/metrics_by_model.tsv).'",
            "plot_type: 'table'",
            "pconfig:",
            "    id: 'chromoflow_metrics_table_plot'",
            "    title: 'chromoflow: held-out metrics'",
            "    col1_header: 'Run'",
        ]
    )
    frame = by_model.copy()
    frame.insert(
        0, "Run", frame["sample"].astype(str) + " · " + frame["task"].astype(str) + " · " + frame["model"].astype(str)
    )
    return head + frame.to_csv(sep="\t", index=False, float_format="%.6g")


def write_multiqc(by_model: pd.DataFrame, outdir: Path, draw_figure: Callable[[Path], None] | None = None) -> None:
    """Write the custom-content files into ``outdir``; ``draw_figure(path)`` draws the metrics figure (if any)."""
    for name, text in ((GENERAL_STATS, general_stats(by_model)), (METRICS_TABLE, metrics_table(by_model))):
        if text:
            write_text(text, outdir / name)
    if draw_figure is not None:
        draw_figure(outdir / METRICS_FIGURE)
