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
    out: str | os.PathLike,
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
    preds, att_rows = [], []
    model.eval()
    stream = data.stream(positions, batch_size, model.inputs, dev)
    with torch.no_grad():
        for chunk, a, b in progress(stream, total=n_batches(len(positions), batch_size, False), desc="predict", unit="batch"):
            with autocast(dev):
                preds.append(predictions(task, outputs(model, task, a, b)))
                if want_attention:
                    _, weights = model.encode(a, need_weights=True)
                    att_rows.append((chunk, a, weights))
    frame = prediction_frame(data, positions, np.concatenate(preds) if preds else np.zeros(0))
    write_tsv(frame, out, float_format="%.6g")
    if want_attention:
        if info["name"] == "attentivechrome":
            write_mark_attention(data, att_rows, attention)
        else:
            write_pcre_attention(data, att_rows, attention, model.bin_sizes)
    return frame


def write_pcre_attention(data: TaskData, rows, path, bin_sizes) -> None:
    """BEDPE of the promoter's last-layer regulation attention to each of its pCREs."""
    ds = data.a
    records, per_rank = [], []
    for chunk, batch, weights in rows:
        # weights[b]: list over layers of (B, heads, 1+P, 1+P); take the last layer's promoter row.
        att = np.stack([weights[b][-1][:, :, 0, :].float().mean(1).cpu().numpy() for b in bin_sizes], axis=0)  # (R, B, 1+P)
        per_rank.append(att)
        gene_idx = data.idx_a[chunk]
        slots = ds.pcre_slots(gene_idx)
        for k, g in enumerate(gene_idx):
            for s in np.flatnonzero(slots[k] >= 0):
                p = slots[k, s]
                records.append(
                    (ds.genes["chrom"].iat[g], int(ds.genes["tss"].iat[g]), int(ds.genes["tss"].iat[g]) + 1, ds.pcres["chrom"].iat[p], int(ds.pcres["start"].iat[p]), int(ds.pcres["end"].iat[p]),
                     ds.genes["gene_id"].iat[g], float(att[:, k, s + 1].mean()), ds.genes["strand"].iat[g], ".", int(s + 1), float(ds.pcres["score"].iat[p]), *[float(x) for x in att[:, k, s + 1]])
                )
    cols = ["chrom1", "start1", "end1", "chrom2", "start2", "end2", "name", "score", "strand1", "strand2", "rank", "interaction_score"] + [f"attention_{b}" for b in bin_sizes]
    frame = pd.DataFrame.from_records(records, columns=cols)
    with atomic_output(path) as tmp:
        frame.to_csv(tmp, sep="\t", header=False, index=False, float_format="%.6g")
    if per_rank:
        mean = np.concatenate(per_rank, axis=1)  # (R, genes, 1+P)
        length = np.concatenate([b["pcre_length"].cpu().numpy() for _, b, _ in rows])
        filled = np.concatenate([np.ones((len(length), 1), bool), length > 0], axis=1)
        heat = np.where(filled[None], mean, np.nan)
        plots.attention_by_rank(np.nanmean(heat, axis=1), bin_sizes, f"{path}.png", title=f"{ds.sample}: promoter attention")


def write_mark_attention(data: TaskData, rows, path) -> None:
    """TSV of AttentiveChrome's mark (beta) and bin (alpha) attention per gene."""
    ds = data.a
    out = []
    for chunk, _, weights in rows:
        alpha = weights["alpha"].float().cpu().numpy()  # (B, M, bins)
        beta = weights["beta"].float().cpu().numpy()  # (B, M)
        for k, g in enumerate(data.idx_a[chunk]):
            for m, mark in enumerate(ds.marks):
                out.append((ds.genes["gene_id"].iat[g], mark, float(beta[k, m]), ",".join(f"{x:.4g}" for x in alpha[k, m])))
    write_tsv(pd.DataFrame(out, columns=["gene_id", "mark", "beta", "alpha"]), path)
