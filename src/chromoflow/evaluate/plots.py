"""Figures people would rather see than read: training curves, ROC curves, scatter plots, attention."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..figures import pyplot, save_png


def history(rows: list[dict], headline: str, path, title: str = "") -> None:
    """Loss and headline metric per epoch, for training and validation genes."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    epochs = [r["epoch"] for r in rows]
    for part, style in (("train", "-o"), ("val", "-s"), ("heldout", "-^")):
        if rows and f"{part}_loss" in rows[0]:
            axes[0].plot(epochs, [r[f"{part}_loss"] for r in rows], style, label=part)
            axes[1].plot(
                epochs,
                [np.nan if r.get(f"{part}_{headline}") is None else r[f"{part}_{headline}"] for r in rows],
                style,
                label=part,
            )
    axes[0].set(xlabel="epoch", ylabel="loss")
    axes[1].set(xlabel="epoch", ylabel=headline)
    for ax in axes:
        ax.legend(frameon=False)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    save_png(fig, path)


def heldout(task: str, frame, metrics: dict, path, title: str = "") -> None:
    """ROC curve (classification) or predicted-vs-true scatter (regression, fold change)."""
    from .metrics import roc_curve

    plt = pyplot()
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
    save_png(fig, path)


def attention_by_rank(weights: np.ndarray, bin_sizes, path, title: str = "") -> None:
    """Heatmap of the promoter's mean attention to each token (columns) per resolution (rows)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 2.4))
    im = ax.imshow(weights, aspect="auto", cmap="viridis")
    ax.set_xticks(range(weights.shape[1]), ["promoter"] + [str(k) for k in range(1, weights.shape[1])])
    ax.set_yticks(range(len(bin_sizes)), [f"{b} bp" for b in bin_sizes])
    ax.set(xlabel="pCRE rank", title=title)
    fig.colorbar(im, ax=ax, label="mean attention (last layer)")
    save_png(fig, path)


def profile_plot(profile: pd.DataFrame, title: str):
    """Mean attribution per mark by position relative to the TSS; a zoom on ±10 kb beside the full window."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [3, 2]})
    marks = [c for c in profile.columns if c != "position"]
    near = profile[(profile["position"] >= -10_000) & (profile["position"] <= 10_000)]
    for ax, part, what in ((axes[0], profile, "whole window"), (axes[1], near, "±10 kb, excluding the TSS bin")):
        shown = part if ax is axes[0] else part[part["position"] != 0]
        for m in marks:
            ax.plot(shown["position"] / 1000, shown[m], lw=1.3, label=m)
        ax.axvline(0, c="grey", lw=0.8, ls="--")
        ax.axhline(0, c="grey", lw=0.6)
        ax.set(xlabel="kb from the TSS (transcription direction)", ylabel="mean gradient × input", title=what)
        ax.title.set_fontsize(9)
        ax.grid(alpha=0.3)
    axes[0].legend(frameon=False, fontsize=7, ncol=2)
    fig.suptitle(title, fontsize=10)
    return fig
