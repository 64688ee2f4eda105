"""Apply a trained model (chromoflow's or an official Chromoformer checkpoint) to a dataset.

Predictions table: see :mod:`.reports` (``heldout`` says which genes the
model was not trained on, so that only those are scored):

- a chromoflow ``model.pt`` lists the genes it was trained on: every other
  gene of any sample is held out for it;
- an official checkpoint was trained on three of the four published
  chromosome folds: its held-out fold comes from its file name
  (``…-fold{K}.pt``) or ``heldout_fold``, and the genes on that fold's
  chromosomes are held out;
- otherwise held-out status is unknown (empty): predictions are written,
  nothing is scored.

``info=PATH`` writes a JSON sidecar with the checkpoint's origin (source,
model, task, trained-on sample, fold, held-out rule and counts) for
``chromoflow summarize``.

Attention (``attention=PATH``):

- chromoformer: BEDPE, one row per gene and pCRE (see
  :func:`write_pcre_attention`); plus ``<PATH>.png``, the mean attention per
  pCRE rank;
- attentivechrome: TSV ``gene_id, mark, beta`` (mark attention) and ``alpha``
  (bin attention over the 100 bins, comma-separated).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .._io import all_or_nothing, atomic_output, check_destinations, write_tsv
from ..data.dataset import GeneDataset
from ..data.task_data import n_batches
from ..errors import ChromoflowError
from ..genome import canonical
from ..log import note
from ..models import objective
from ..prep.folds import OFFICIAL_FOLDS
from ..progress import progress
from ..runtime import autocast, use_bf16
from . import plots
from .inference import load_for_inference
from .predictions import (
    prediction_frame,
    write_json,
    write_predictions,
    write_tss_track,
)

_FOLD_IN_NAME = re.compile(r"fold[-_]?(\d+)", re.I)


def heldout_status(
    info: dict, genes: pd.DataFrame, checkpoint, heldout_fold: int | None = None
) -> tuple[np.ndarray | None, str]:
    """(1/0 per gene or None if unknown, how it was decided) for the genes of a dataset."""
    if heldout_fold is not None and info["source"] != "official":
        raise ChromoflowError(
            f"{checkpoint}: --heldout-fold is for official checkpoints; a chromoflow model knows its training genes"
        )
    if info["source"] == "chromoflow" and info.get("trained_genes"):
        trained = set(info["trained_genes"])
        return np.array(
            [g not in trained for g in genes["gene_id"]], np.int64
        ), f"genes not among the {len(trained)} the model was trained on"
    if info["source"] == "official":
        fold = heldout_fold
        how = "--heldout-fold"
        if fold is None:
            m = _FOLD_IN_NAME.findall(Path(checkpoint).name)
            if m:
                fold, how = int(m[-1]), "its file name"
        if fold is not None:
            if fold not in OFFICIAL_FOLDS:
                raise ChromoflowError(
                    f"{checkpoint}: held-out fold {fold} ({how}) is not one of the published folds 1-4"
                )
            chroms = set(OFFICIAL_FOLDS[fold])
            held = np.array([canonical(c) in chroms for c in genes["chrom"]], np.int64)
            return (
                held,
                f"published fold {fold} (from {how}): chromosomes {', '.join('chr' + c for c in OFFICIAL_FOLDS[fold])}",
            )
    return None, "unknown (the checkpoint does not say which genes it was trained on)"


def predict(
    dataset: str | os.PathLike,
    checkpoint: str | os.PathLike,
    output: str | os.PathLike,
    device: str = "auto",
    reference: str | os.PathLike | None = None,
    fold: int | None = None,
    attention: str | os.PathLike | None = None,
    batch_size: int = 256,
    heldout_fold: int | None = None,
    info_path: str | os.PathLike | None = None,
    bed: str | os.PathLike | None = None,
    precision: str = "auto",
) -> pd.DataFrame:
    check_destinations(files=[output, attention, bed, info_path])
    run = load_for_inference(checkpoint, dataset, reference, device)
    model, info, data, dev, task, ds = run.model, run.info, run.data, run.device, run.task, run.dataset
    bf16 = use_bf16(precision, dev)
    positions = np.arange(len(data))
    if fold is not None:
        positions = np.flatnonzero(data.fold == fold)
        if not len(positions):
            present = sorted(set(data.fold.tolist()))
            raise ChromoflowError(
                f"fold {fold} has no genes in {ds.path} (folds present: {', '.join(map(str, present))})"
            )
    want_attention = attention is not None
    if want_attention and model.attention is None:
        raise ChromoflowError(f"--attention: {info['name']} has no promoter-to-pCRE or mark attention to report")
    held, rule = heldout_status(info, data.genes, checkpoint, heldout_fold)
    preds, att_parts = [], []
    model.eval()
    stream = data.stream(positions, batch_size, model.inputs, dev)
    with torch.no_grad():
        for _chunk, a, b, _ in progress(
            stream, total=n_batches(len(positions), batch_size, False), desc="predict", unit="batch"
        ):
            with autocast(dev, bf16):
                if want_attention:
                    out, weights = objective.outputs(model, task, a, b, need_weights=True)
                    att_parts.append(model.compact_attention(weights))
                else:
                    out = objective.outputs(model, task, a, b)
            preds.append(objective.prediction(task, out))
    pred = torch.cat(preds).cpu().numpy() if preds else np.zeros(0)
    frame = prediction_frame(data, positions, pred, heldout=None if held is None else held[positions])
    n_held = int(frame["heldout"].fillna(0).sum()) if held is not None else None
    note(
        f"{output}: held-out genes: {rule}"
        + (
            f"; {n_held} of {len(frame)} predicted genes are held out and scored"
            if n_held is not None
            else "; predictions are not scored"
        )
    )
    origin = {
        "checkpoint": str(checkpoint),
        "source": info["source"],
        "model": info["name"],
        "task": task,
        "trained_on": (info.get("dataset") or {}).get("sample"),
        "reference": (info.get("reference") or {}).get("sample") if info.get("reference") else None,
        "fold": info.get("fold") if info["source"] == "chromoflow" else (heldout_fold or _fold_from_name(checkpoint)),
        "heldout_rule": rule,
        "n_predicted": len(frame),
        "n_heldout": n_held,
        "dataset": str(dataset),
        "sample": ds.sample,
    }
    with all_or_nothing():
        _write_outputs(frame, output, bed, task, want_attention, att_parts, data, positions, info, ds, attention, model)
        if info_path is not None:
            write_json(origin, info_path)
    return frame


def _write_outputs(
    frame, output, bed, task, want_attention, att_parts, data, positions, info, ds, attention, model
) -> None:
    write_predictions(frame, output)
    if bed is not None:
        write_tss_track(frame, bed, task)
    if want_attention:
        gene_idx = data.idx_a[positions]
        if model.attention == "marks":
            alpha, beta = (np.concatenate([p[k] for p in att_parts]) for k in (0, 1))
            write_mark_attention(ds, gene_idx, alpha, beta, attention)
        else:
            write_pcre_attention(ds, gene_idx, np.concatenate(att_parts, axis=1), attention, model.bin_sizes)


def _fold_from_name(checkpoint) -> int | None:
    m = _FOLD_IN_NAME.findall(Path(checkpoint).name)
    return int(m[-1]) if m else None


def write_pcre_attention(ds: GeneDataset, gene_idx, att, path, bin_sizes) -> None:
    """BEDPE of the promoter's last-layer regulation attention (``att``: (R, genes, 1+P)) to each of its pCREs.

    Columns (a ``#``-header line names them, as IGV, HiGlass and the WashU
    browser accept): TSS (1 bp), pCRE, gene_id, the attention (mean over
    heads and resolutions), strand of the gene, ``.``, gene name, pCRE rank,
    interaction score, then the attention at each resolution.
    """
    slots = ds.pcre_slots(gene_idx)  # (genes, P) pCRE row or -1
    k, s = np.nonzero(slots >= 0)
    p, g = slots[k, s], gene_idx[k]
    per_res = att[:, k, s + 1]  # (R, rows)
    genes, pcres = ds.genes, ds.pcres
    frame = pd.DataFrame(
        {
            "chrom1": genes["chrom"].to_numpy()[g],
            "start1": genes["tss"].to_numpy()[g],
            "end1": genes["tss"].to_numpy()[g] + 1,
            "chrom2": pcres["chrom"].to_numpy()[p],
            "start2": pcres["start"].to_numpy()[p],
            "end2": pcres["end"].to_numpy()[p],
            "name": genes["gene_id"].to_numpy()[g],
            "score": per_res.mean(0),
            "strand1": genes["strand"].to_numpy()[g],
            "strand2": ".",
            "gene_name": genes["gene_name"].to_numpy()[g],
            "rank": s + 1,
            "interaction_score": pcres["score"].to_numpy()[p],
            **{f"attention_{b}": per_res[i] for i, b in enumerate(bin_sizes)},
        }
    )
    with atomic_output(path) as tmp:
        with open(tmp, "w") as fh:
            fh.write("#" + "\t".join(frame.columns) + "\n")
            frame.to_csv(fh, sep="\t", header=False, index=False, float_format="%.6g")
    filled = np.concatenate([np.ones((len(slots), 1), bool), slots >= 0], axis=1)
    heat = np.where(filled[None], att, np.nan)
    plots.attention_by_rank(
        np.nanmean(heat, axis=1),
        bin_sizes,
        f"{path}.png",
        title=f"{ds.sample}: promoter attention to its pCREs ({len(gene_idx)} genes)",
    )


def write_mark_attention(ds: GeneDataset, gene_idx, alpha, beta, path) -> None:
    """TSV of AttentiveChrome's mark (beta) and bin (alpha) attention per gene."""
    out = [
        (ds.genes["gene_id"].iat[g], mark, float(beta[k, m]), ",".join(f"{x:.4g}" for x in alpha[k, m]))
        for k, g in enumerate(gene_idx)
        for m, mark in enumerate(ds.marks)
    ]
    write_tsv(pd.DataFrame(out, columns=["gene_id", "mark", "beta", "alpha"]), path)
