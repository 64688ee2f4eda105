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
from ..data.task_data import TaskData, dataset_info
from ..errors import ChromoflowError
from ..evaluate import plots
from ..evaluate.metrics import HEADLINE, task_metrics
from ..evaluate.predictions import prediction_frame, write_json, write_predictions
from ..models.checkpoint import model_file, plain, save_torch
from ..models.registry import TASKS, build_model, model_class
from ..runtime import Compiled, pick_device, use_bf16, use_compile
from .config import TrainingConfig, resolve_config
from .trainer import Trainer, file_fingerprint


def split_validation(pool: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) positions: a seeded share of the training pool held out for model selection."""
    rng = np.random.default_rng([seed, 7919])
    n_val = int(round(len(pool) * float(fraction or 0)))
    shuffled = pool[rng.permutation(len(pool))]
    return np.sort(shuffled[n_val:]), np.sort(shuffled[:n_val])


def parse_folds(fold) -> list[int]:
    """``3``, ``"3"`` or ``"1,2,3,4"`` -> [folds]."""
    if isinstance(fold, (int, np.integer)):
        return [int(fold)]
    items = [x.strip() for x in str(fold).split(",") if x.strip()]
    if not items or not all(x.isdigit() and int(x) >= 1 for x in items):
        raise ChromoflowError(
            f"--fold {fold!r}: expected a fold number or a comma-separated list of them (e.g. 1,2,3,4)"
        )
    folds = [int(x) for x in items]
    if len(set(folds)) != len(folds):
        raise ChromoflowError(f"--fold {fold!r}: a fold is listed twice")
    return folds


def train(
    dataset: str | os.PathLike,
    model_name: str,
    task: str,
    fold,
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
    compile: str = "auto",
    resident: str = "auto",
    fold_folders: bool = False,
    precision: str = "auto",
):
    """Train and evaluate; returns the metrics written to ``metrics.json`` (a list of them for several folds).

    ``precision``: ``auto`` (bf16 autocast on CUDA, fp32 on CPU), ``bf16`` or ``fp32``.

    ``resident``: keep the dataset's feature arrays on the device and gather
    batches there (``auto``: on CUDA when they take under a quarter of the
    free memory).

    ``fold`` may list several folds (``"1,2,3,4"``): they are trained one after
    another in this process, sharing the loaded data and, on a GPU, the
    compiled model; each gets its own ``OUTDIR/fold<k>/`` (also for one fold
    with ``fold_folders``) with every output
    and its own checkpoint, so ``resume`` continues each where it stopped.
    A fold's results equal training it alone (up to float rounding). Everything is
    checked before an output folder is created: a refused run leaves nothing
    behind.
    """
    if task not in TASKS:
        raise ChromoflowError(f"--task {task!r}: expected one of {', '.join(TASKS)}")
    if seed < 0:
        raise ChromoflowError(f"--seed {seed}: must be >= 0")
    folds = parse_folds(fold)
    cfg = resolve_config(model_name, config, epochs, batch_size, val_fold=val_fold)
    t = cfg.training
    dev = pick_device(device)
    bf16 = use_bf16(precision, dev)
    ds_a = GeneDataset.load(dataset)
    ds_b = GeneDataset.load(reference) if reference else None
    data = TaskData(task, ds_a, ds_b)
    data.require_truth()

    # The model takes its geometry from the data.
    model_cfg = {**cfg.model.as_dict(), **model_class(model_name).geometry(ds_a)}

    def fresh_model():
        torch.manual_seed(seed)  # the same initial weights for every fold, as when trained alone
        return build_model(model_name, len(ds_a.marks), task, model_cfg)

    model = fresh_model()
    model.check_geometry(ds_a, "--config")
    model.to(dev)
    if resident != "off":
        # On a GPU the features stay there; only each batch's small index arrays are copied.
        data.make_resident(dev, model.inputs.bin_sizes, force=resident == "on")
    plans = [_plan_fold(data, k, val_fold, t, seed, dataset) for k in folds]
    fingerprints = {"dataset": file_fingerprint(dataset), "reference": file_fingerprint(reference)}
    forward = Compiled(model, use_compile(compile, dev))
    results = []
    fold_cfg = cfg.as_dict()
    for k, (pool, test, train_pos, val) in zip(folds, plans):
        if k != folds[0]:
            model.load_state_dict(fresh_model().state_dict())  # the same module: a compiled graph is reused
        identity = plain(
            {
                **fingerprints,
                "model": model_name,
                "task": task,
                "fold": k,
                "val_fold": val_fold,
                "seed": seed,
                "config": fold_cfg,
                "n_genes": len(data),
                "bf16": bf16,
            }
        )
        folder = Path(outdir) / f"fold{k}" if (len(folds) > 1 or fold_folders) else outdir
        with output_folder(folder) as out:
            trainer = Trainer(
                model, data, train_pos, val, t, dev, seed, identity, Path(out), forward=forward, bf16=bf16, heldout=test
            )
            if resume:
                trainer.resume()
            trainer.fit(on_epoch)
            results.append(
                _finish_fold(
                    trainer,
                    data,
                    ds_a,
                    ds_b,
                    model_name,
                    task,
                    k,
                    seed,
                    fold_cfg,
                    pool,
                    test,
                    train_pos,
                    val,
                    Path(out),
                )
            )
    return results[0] if len(folds) == 1 else results


def _plan_fold(data: TaskData, fold: int, val_fold: int | None, t: TrainingConfig, seed: int, dataset):
    """(training pool, held-out, training, validation positions) of one fold, checked."""
    pool, test = data.split(fold)
    if val_fold is not None:
        if val_fold == fold:
            raise ChromoflowError(f"--val-fold {val_fold} is the held-out --fold; choose another fold for validation")
        val = pool[data.fold[pool] == val_fold]
        if not len(val):
            raise ChromoflowError(f"--val-fold {val_fold}: no training gene is in that fold of {dataset}")
        train_pos = pool[data.fold[pool] != val_fold]
    else:
        train_pos, val = split_validation(pool, t.val_fraction, seed)
    if t.drop_last and len(train_pos) < t.batch_size:
        raise ChromoflowError(
            f"fold {fold}: only {len(train_pos)} training genes, fewer than one batch of {t.batch_size} (drop_last); use --batch-size {max(1, len(train_pos) // 2)}"
        )
    return pool, test, train_pos, val


def _finish_fold(
    trainer, data, ds_a, ds_b, model_name, task, fold, seed, cfg, pool, test, train_pos, val, out: Path
) -> dict:
    """Select the weights, predict the held-out fold once, and write every output of the fold."""
    model, dev = trainer.model, trainer.device
    selected = trainer.final_model()
    test_pred, test_loss = trainer.evaluate(test, desc="held-out")
    heldout = task_metrics(task, data.truth[test], test_pred)
    val_metrics = task_metrics(task, data.truth[val], trainer.evaluate(val)[0]) if len(val) else None
    state = trainer.state
    metrics = plain(
        {
            "task": task,
            "model": model_name,
            "fold": fold,
            "sample": ds_a.sample,
            "reference": ds_b.sample if ds_b else None,
            "heldout": {**heldout, "loss": test_loss},
            "validation": val_metrics,
            "epochs_run": state.epoch,
            "selected_epoch": selected,
            "selection": trainer.selection,
            "samples_per_s": state.trained_samples / state.train_seconds if state.train_seconds else None,
            "train_seconds": state.train_seconds,
            "n_train": len(train_pos),
            "n_val": len(val),
            "n_heldout": len(test),
            "device": str(dev),
            "precision": "bf16" if trainer.bf16 else "fp32",
            "seed": seed,
            "config": cfg,
            "compiled": trainer.forward.compiled is not None,
            "compile_seconds": trainer.forward.compile_seconds,
        }
    )
    trained_genes = sorted(set(data.genes["gene_id"].to_numpy()[pool].tolist()))
    save_torch(
        model_file(
            model,
            model_name,
            task,
            cfg,
            dataset_info(ds_a),
            dataset_info(ds_b) if ds_b else None,
            fold,
            seed,
            selected,
            metrics,
            trained_genes,
        ),
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
