"""Figures people would rather see than read: training curves, ROC curves, scatter plots, attention."""

from __future__ import annotations

import os

import numpy as np

from .._io import atomic_output


def _private_mpl_dir() -> None:
    """matplotlib caches fonts in MPLCONFIGDIR: give it a private temporary folder unless the user chose one.

    A shared fixed path (e.g. /tmp/chromoflow-mpl) breaks when another user
    created it first, and a home folder may be read-only in a container.
    """
    if not os.environ.get("MPLCONFIGDIR"):
        import atexit
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="chromoflow-mpl-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        os.environ["MPLCONFIGDIR"] = folder


def _pyplot():
    _private_mpl_dir()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> None:
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    fig.clf()
    _pyplot().close(fig)


def history(rows: list[dict], headline: str, path, title: str = "") -> None:
    """Loss and headline metric per epoch, for training and validation genes."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    epochs = [r["epoch"] for r in rows]
    for part, style in (("train", "-o"), ("val", "-s"), ("heldout", "-^")):
        if rows and f"{part}_loss" in rows[0]:
            axes[0].plot(epochs, [r[f"{part}_loss"] for r in rows], style, label=part)
            axes[1].plot(epochs, [np.nan if r.get(f"{part}_{headline}") is None else r[f"{part}_{headline}"] for r in rows], style, label=part)
    axes[0].set(xlabel="epoch", ylabel="loss")
    axes[1].set(xlabel="epoch", ylabel=headline)
    for ax in axes:
        ax.legend(frameon=False)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    _save(fig, path)


def heldout(task: str, frame, metrics: dict, path, title: str = "") -> None:
    """ROC curve (classification) or predicted-vs-true scatter (regression, fold change)."""
    from .metrics import roc_curve

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 4))
    if task == "classification":
        fpr, tpr = roc_curve(frame["label"].to_numpy(int), frame["prediction"].to_numpy())
        ax.plot(fpr, tpr, lw=2, label=f"AUC {metrics['roc_auc']:.3f}")
        ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=1)
        ax.set(xlabel="false positive rate", ylabel="true positive rate")
    else:
        y, p = frame["target"].to_numpy(float), frame["prediction"].to_numpy(float)
        ax.scatter(y, p, s=6, alpha=0.5, lw=0)
        lo, hi = float(np.nanmin([y.min(), p.min()])), float(np.nanmax([y.max(), p.max()]))
        ax.plot([lo, hi], [lo, hi], ls="--", c="grey", lw=1)
        what = "log2 fold change" if task == "fold-change" else "log2(expression + 1)"
        ax.set(xlabel=f"observed {what}", ylabel=f"predicted {what}")
        ax.text(0.03, 0.95, f"r = {metrics['pearson_r']:.3f}", transform=ax.transAxes, va="top")
    ax.set_title(title, fontsize=9)
    if task == "classification":
        ax.legend(frameon=False, loc="lower right")
    _save(fig, path)


def attention_by_rank(weights: np.ndarray, bin_sizes, path, title: str = "") -> None:
    """Heatmap of the promoter's mean attention to each token (columns) per resolution (rows)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 2.4))
    im = ax.imshow(weights, aspect="auto", cmap="viridis")
    ax.set_xticks(range(weights.shape[1]), ["promoter"] + [str(k) for k in range(1, weights.shape[1])])
    ax.set_yticks(range(len(bin_sizes)), [f"{b} bp" for b in bin_sizes])
    ax.set(xlabel="pCRE rank", title=title)
    fig.colorbar(im, ax=ax, label="mean attention (last layer)")
    _save(fig, path)
