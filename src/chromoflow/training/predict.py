"""Apply a trained model (chromoflow's or an official Chromoformer checkpoint) to a dataset.

Predictions table: ``gene_id, prediction, fold`` and, where the dataset has
expression, ``label`` (classification) or ``target`` (regression: log2(expr + 1);
fold change: log2((A + 1) / (B + 1))). ``prediction`` is the probability of
the high class (softmax over the two logits) or the predicted value.

Attention (``attention=PATH``):

- chromoformer: BEDPE, one row per gene and pCRE: TSS (1 bp), pCRE, gene_id,
  the promoter's attention to that pCRE in the last regulation layer (mean
  over heads and resolutions), strand, ``.``, then rank, interaction score,
  and the attention at each resolution; plus ``<PATH>.png``, the mean
  attention per pCRE rank;
- attentivechrome: TSV ``gene_id, mark, beta`` (mark attention) and ``alpha``
  (bin attention over the 100 bins, comma-separated).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .._io import atomic_output, write_tsv
from ..data.dataset import GeneDataset
from ..errors import ChromoflowError
from ..progress import progress
from . import plots
from .checkpoint import load_model
from .data import TaskData, check_geometry, match_marks, n_batches, outputs, predictions
from .train import autocast, pick_device, prediction_frame


def predict(
    dataset: str | os.PathLike,
    checkpoint: str | os.PathLike,
    output: str | os.PathLike,
    device: str = "auto",
    reference: str | os.PathLike | None = None,
    fold: int | None = None,
    attention: str | os.PathLike | None = None,
    batch_size: int = 256,
) -> pd.DataFrame:
    dev = pick_device(device)
    model, info = load_model(checkpoint)
    model.to(dev)
    task = info["task"]
    ds = GeneDataset.load(dataset)
    ref = GeneDataset.load(reference) if reference else None
    if task == "fold-change" and ref is None:
        raise ChromoflowError(f"{checkpoint}: a fold-change model; pass --reference B.h5")
    if task != "fold-change" and ref is not None:
        raise ChromoflowError(f"{checkpoint}: a {task} model; --reference is only for fold-change models")
    for d in (ds, ref):
        if d is not None:
            match_marks(d, list(info["marks"]), f"{checkpoint}")
            check_geometry(d, model, info["name"], checkpoint)
    data = TaskData(task, ds, ref)
    positions = np.arange(len(data))
    if fold is not None:
        positions = np.flatnonzero(data.fold == fold)
        if not len(positions):
            present = sorted(set(data.fold.tolist()))
            raise ChromoflowError(f"fold {fold} has no genes in {ds.path} (folds present: {', '.join(map(str, present))})")
    want_attention = attention is not None
    if want_attention and info["name"] in ("deepchrome", "chromoformer-nohic"):
        raise ChromoflowError(f"--attention: {info['name']} has no promoter-to-pCRE or mark attention to report")
    preds, att_parts = [], []
    model.eval()
    stream = data.stream(positions, batch_size, model.inputs, dev)
    with torch.no_grad():
        for chunk, a, b in progress(stream, total=n_batches(len(positions), batch_size, False), desc="predict", unit="batch"):
            with autocast(dev):
                if want_attention:
                    out, weights = outputs(model, task, a, b, need_weights=True)
                    att_parts.append(compact_attention(info["name"], weights, model))
                else:
                    out = outputs(model, task, a, b)
            preds.append(predictions(task, out))
    frame = prediction_frame(data, positions, np.concatenate(preds) if preds else np.zeros(0))
    write_tsv(frame, output, float_format="%.6g")
    if want_attention:
        gene_idx = data.idx_a[positions]
        if info["name"] == "attentivechrome":
            alpha, beta = (np.concatenate([p[k] for p in att_parts]) for k in (0, 1))
            write_mark_attention(ds, gene_idx, alpha, beta, attention)
        else:
            write_pcre_attention(ds, gene_idx, np.concatenate(att_parts, axis=1), attention, model.bin_sizes)
    return frame


def compact_attention(name: str, weights, model):
    """What the attention writers need, on the host: the rest is dropped batch by batch."""
    if name == "attentivechrome":
        return weights["alpha"].float().cpu().numpy(), weights["beta"].float().cpu().numpy()  # (B, M, bins), (B, M)
    # Last regulation layer, promoter row, mean over heads: (R, B, 1+P).
    return np.stack([weights[b][-1][:, :, 0, :].float().mean(1).cpu().numpy() for b in model.bin_sizes])


def write_pcre_attention(ds: GeneDataset, gene_idx, att, path, bin_sizes) -> None:
    """BEDPE of the promoter's last-layer regulation attention (``att``: (R, genes, 1+P)) to each of its pCREs."""
    slots = ds.pcre_slots(gene_idx)  # (genes, P) pCRE row or -1
    k, s = np.nonzero(slots >= 0)
    p, g = slots[k, s], gene_idx[k]
    per_res = att[:, k, s + 1]  # (R, rows)
    genes, pcres = ds.genes, ds.pcres
    frame = pd.DataFrame(
        {
            "chrom1": genes["chrom"].to_numpy()[g], "start1": genes["tss"].to_numpy()[g], "end1": genes["tss"].to_numpy()[g] + 1,
            "chrom2": pcres["chrom"].to_numpy()[p], "start2": pcres["start"].to_numpy()[p], "end2": pcres["end"].to_numpy()[p],
            "name": genes["gene_id"].to_numpy()[g], "score": per_res.mean(0), "strand1": genes["strand"].to_numpy()[g], "strand2": ".",
            "rank": s + 1, "interaction_score": pcres["score"].to_numpy()[p],
            **{f"attention_{b}": per_res[i] for i, b in enumerate(bin_sizes)},
        }
    )
    with atomic_output(path) as tmp:
        frame.to_csv(tmp, sep="\t", header=False, index=False, float_format="%.6g")
    filled = np.concatenate([np.ones((len(slots), 1), bool), slots >= 0], axis=1)
    heat = np.where(filled[None], att, np.nan)
    plots.attention_by_rank(np.nanmean(heat, axis=1), bin_sizes, f"{path}.png", title=f"{ds.sample}: promoter attention")


def write_mark_attention(ds: GeneDataset, gene_idx, alpha, beta, path) -> None:
    """TSV of AttentiveChrome's mark (beta) and bin (alpha) attention per gene."""
    out = [
        (ds.genes["gene_id"].iat[g], mark, float(beta[k, m]), ",".join(f"{x:.4g}" for x in alpha[k, m]))
        for k, g in enumerate(gene_idx)
        for m, mark in enumerate(ds.marks)
    ]
    write_tsv(pd.DataFrame(out, columns=["gene_id", "mark", "beta", "alpha"]), path)
