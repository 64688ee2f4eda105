"""Evaluation metrics: ranks, the Mann-Whitney AUC and correlations from scipy; the ROC and precision-recall
curves and the average precision from one tie-aware pass over the thresholds."""

from __future__ import annotations

import numpy as np
from scipy import stats


def ranks(x) -> np.ndarray:
    """1-based ranks with ties averaged."""
    return stats.rankdata(np.asarray(x, np.float64), method="average")


def roc_auc(y, p) -> float:
    """Area under the ROC curve, Mann-Whitney U / (n_pos n_neg) (ties count one half); NaN with one class only."""
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    u = stats.mannwhitneyu(p[y], p[~y], alternative="two-sided", method="asymptotic", use_continuity=False).statistic
    return float(u / (n_pos * n_neg))


def _threshold_counts(y, p):
    """(true positives, predicted positives) at every distinct threshold, highest first: tied predictions are one
    threshold, so the curves and the average precision treat ties alike."""
    y = np.asarray(y).astype(bool)
    order = np.argsort(-np.asarray(p, np.float64), kind="mergesort")
    p_sorted, y_sorted = np.asarray(p, np.float64)[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(p_sorted)), len(p_sorted) - 1].astype(np.int64)
    return np.cumsum(y_sorted)[last], last + 1


def roc_curve(y, p):
    """(false positive rate, true positive rate) at every distinct threshold, from (0, 0) to (1, 1)."""
    y = np.asarray(y).astype(bool)
    tp, predicted = _threshold_counts(y, p)
    tpr = np.r_[0.0, tp / max(y.sum(), 1)]
    fpr = np.r_[0.0, (predicted - tp) / max((~y).sum(), 1)]
    return fpr, tpr


def precision_recall_curve(y, p):
    """(recall, precision) at every distinct threshold, highest first."""
    y = np.asarray(y).astype(bool)
    tp, predicted = _threshold_counts(y, p)
    return tp / max(y.sum(), 1), tp / predicted


def average_precision(y, p) -> float:
    """Average precision: the area under the :func:`precision_recall_curve` as steps, sum of (R_k - R_k-1) P_k."""
    y = np.asarray(y).astype(bool)
    if not y.any():
        return float("nan")
    recall, precision = precision_recall_curve(y, p)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def pearson(a, b) -> float:
    """Pearson's r; NaN with fewer than two values or a constant side."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(stats.pearsonr(a, b).statistic)


def spearman(a, b) -> float:
    """Spearman's rho (Pearson's r of the tie-averaged ranks); NaN where Pearson's would be."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(stats.spearmanr(a, b).statistic)


def classification_metrics(label, prob) -> dict:
    label, prob = np.asarray(label), np.asarray(prob, np.float64)
    return {
        "roc_auc": roc_auc(label, prob),
        "average_precision": average_precision(label, prob),
        "accuracy": float(np.mean((prob >= 0.5) == (label == 1))) if len(label) else float("nan"),
        "n": int(len(label)),
    }


def regression_metrics(target, pred) -> dict:
    target, pred = np.asarray(target, np.float64), np.asarray(pred, np.float64)
    mse = float(np.mean((pred - target) ** 2)) if len(target) else float("nan")
    var = float(np.var(target)) if len(target) else float("nan")
    return {
        "pearson_r": pearson(target, pred),
        "spearman_r": spearman(target, pred),
        "r2": 1.0 - mse / var if var > 0 else float("nan"),
        "mse": mse,
        "n": int(len(target)),
    }


def fold_change_metrics(target, pred, min_abs: float = 1.0) -> dict:
    """Regression metrics plus the direction accuracy on genes with |log2 fold change| >= ``min_abs``."""
    out = regression_metrics(target, pred)
    target, pred = np.asarray(target, np.float64), np.asarray(pred, np.float64)
    changed = np.abs(target) >= min_abs
    out["direction_accuracy"] = (
        float(np.mean(np.sign(pred[changed]) == np.sign(target[changed]))) if changed.any() else float("nan")
    )
    out["n_changed"] = int(changed.sum())
    return out


def task_metrics(task: str, truth, pred) -> dict:
    if task == "classification":
        return classification_metrics(truth, pred)
    if task == "regression":
        return regression_metrics(truth, pred)
    return fold_change_metrics(truth, pred)


# The metric that chooses the best epoch and is shown in progress bars.
HEADLINE = {"classification": "roc_auc", "regression": "pearson_r", "fold-change": "pearson_r"}
