"""Train one model on one dataset (or pair), holding out one fold.

Outputs in ``outdir``:

- ``model.pt``: weights + configuration + dataset attributes + metrics + the
  genes it was trained on (see :mod:`.checkpoint`), loadable with
  ``torch.load(weights_only=True)``;
- ``metrics.json``: held-out metrics (ROC-AUC, average precision, accuracy;
  or Pearson r, Spearman, R², MSE; fold change adds direction accuracy),
  validation metrics, epochs run and selected, samples/s; ``null`` where a
  metric is undefined;
- ``history.tsv``: per-epoch learning rate, training loss and headline
  metric, validation loss and metric, seconds, genes/s;
- ``heldout.tsv``: the held-out genes' predictions (see :mod:`.reports`),
  computed once, from the selected weights;
- figures: ``history.png`` and ``roc.png`` (classification) or ``scatter.png``;
- ``checkpoint.pt``: the full training state after the last finished epoch,
  which ``resume=True`` continues from; it refuses a checkpoint made from a
  different dataset (by content), reference, configuration, seed or fold.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .._io import output_folder, write_tsv
from ..data.dataset import GeneDataset
from ..errors import ChromoflowError
from ..models.registry import TASKS, build_model
from . import plots
from .checkpoint import model_file, plain, save_torch
from .config import resolve_config
from .data import TaskData, check_geometry, dataset_info
from .metrics import HEADLINE, task_metrics
from .reports import prediction_frame, write_json, write_predictions
from .trainer import Trainer, file_fingerprint, pick_device


def split_validation(pool: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) positions: a seeded share of the training pool held out for model selection."""
    rng = np.random.default_rng([seed, 7919])
    n_val = int(round(len(pool) * float(fraction or 0)))
    shuffled = pool[rng.permutation(len(pool))]
    return np.sort(shuffled[n_val:]), np.sort(shuffled[:n_val])


def train(
    dataset: str | os.PathLike,
    model_name: str,
    task: str,
    fold: int,
    outdir: str | os.PathLike,
    config: str | None = None,
    reference: str | os.PathLike | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    device: str = "auto",
    seed: int = 0,
    resume: bool = False,
    on_epoch=None,
    val_fold: int | None = None,
) -> dict:
    """Train and evaluate; returns the metrics written to ``metrics.json``.

    Everything is checked before the output folder is created: a refused run
    leaves nothing behind.
    """
    if task not in TASKS:
        raise ChromoflowError(f"--task {task!r}: expected one of {', '.join(TASKS)}")
    if seed < 0:
        raise ChromoflowError(f"--seed {seed}: must be >= 0")
    cfg = resolve_config(model_name, config, epochs, batch_size)
    t = cfg["training"]
    dev = pick_device(device)
    ds_a = GeneDataset.load(dataset)
    ds_b = GeneDataset.load(reference) if reference else None
    data = TaskData(task, ds_a, ds_b)
    data.require_truth()
    pool, test = data.split(fold)

    # The model takes its geometry from the data.
    geometry = {"bin_sizes": ds_a.bin_sizes, "window": ds_a.window, "max_pcres": ds_a.max_pcres} if model_name.startswith("chromoformer") else {"window": ds_a.window}
    model_cfg = {**cfg["model"], **geometry}
    torch.manual_seed(seed)
    model = build_model(model_name, len(ds_a.marks), task, model_cfg)
    check_geometry(ds_a, model, model_name, "--config")
    model.to(dev)

    if val_fold is not None:
        if val_fold == fold:
            raise ChromoflowError(f"--val-fold {val_fold} is the held-out --fold; choose another fold for validation")
        val = pool[data.fold[pool] == val_fold]
        if not len(val):
            raise ChromoflowError(f"--val-fold {val_fold}: no training gene is in that fold of {dataset}")
        train_pos = pool[data.fold[pool] != val_fold]
        if t["select"] == "last" and t["val_fraction"] == 0:
            t["select"] = "best"  # a validation fold was asked for: use it
    else:
        train_pos, val = split_validation(pool, t["val_fraction"], seed)
    if t["drop_last"] and len(train_pos) < t["batch_size"]:
        raise ChromoflowError(f"only {len(train_pos)} training genes, fewer than one batch of {t['batch_size']} (drop_last); use --batch-size {max(1, len(train_pos) // 2)}")
    identity = plain(
        {
            "dataset": file_fingerprint(dataset), "reference": file_fingerprint(reference), "model": model_name, "task": task,
            "fold": fold, "val_fold": val_fold, "seed": seed, "config": cfg, "n_genes": len(data),
        }
    )
    with output_folder(outdir) as out:
        trainer = Trainer(model, data, train_pos, val, cfg, dev, seed, identity, Path(out))
        if resume:
            trainer.resume()
        trainer.fit(on_epoch)
        selected = trainer.final_model()

        test_pred, test_loss = trainer.evaluate(test, desc="held-out")
        heldout = task_metrics(task, data.truth[test], test_pred)
        val_metrics = task_metrics(task, data.truth[val], trainer.evaluate(val)[0]) if len(val) else None
        state = trainer.state
        metrics = plain(
            {
                "task": task, "model": model_name, "fold": fold, "sample": ds_a.sample, "reference": ds_b.sample if ds_b else None,
                "heldout": {**heldout, "loss": test_loss}, "validation": val_metrics,
                "epochs_run": state.epoch, "selected_epoch": selected, "selection": trainer.t["select"],
                "samples_per_s": state.trained_samples / state.train_seconds if state.train_seconds else None,
                "train_seconds": state.train_seconds, "n_train": len(train_pos), "n_val": len(val), "n_heldout": len(test),
                "device": str(dev), "seed": seed, "config": cfg,
            }
        )
        trained_genes = sorted(set(data.genes["gene_id"].to_numpy()[pool].tolist()))
        save_torch(
            model_file(model, model_name, task, cfg, dataset_info(ds_a), dataset_info(ds_b) if ds_b else None, fold, seed, selected, metrics, trained_genes),
            out / "model.pt",
        )
        write_json(metrics, out / "metrics.json")
        write_tsv(pd.DataFrame(state.history), out / "history.tsv", float_format="%.6g")
        frame = prediction_frame(data, test, test_pred, heldout=np.ones(len(test), np.int64))
        write_predictions(frame, out / "heldout.tsv")
        title = f"{model_name}, {ds_a.sample}{' vs ' + ds_b.sample if ds_b else ''}, {task}, fold {fold}"
        plots.history(state.history, HEADLINE[task], out / "history.png", title=title)
        plots.heldout(task, frame, heldout, out / ("roc.png" if task == "classification" else "scatter.png"), title=title)
    return metrics
