"""Train one model on one dataset (or pair), holding out one fold.

Outputs in ``outdir``:

- ``model.pt``: weights + configuration + dataset attributes + metrics (see
  :mod:`.checkpoint`), loadable with ``torch.load(weights_only=True)``;
- ``metrics.json``: held-out metrics (ROC-AUC, average precision, accuracy;
  or Pearson r, Spearman, R², MSE; fold change adds direction accuracy),
  epochs run, samples/s;
- ``history.tsv``: per-epoch loss and headline metric (train/validation/held-out);
- ``heldout.tsv``: the held-out genes' predictions;
- figures: ``history.png`` and ``roc.png`` (classification) or ``scatter.png``;
- ``checkpoint.pt``: the full training state after the last finished epoch,
  which ``resume=True`` continues from. Shuffling and dropout are seeded per
  epoch, so a resumed run ends exactly where an uninterrupted one does.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .._io import atomic_output, write_tsv
from ..data.dataset import GeneDataset
from ..errors import ChromoflowError
from ..log import info, warn
from ..models.registry import TASKS, build_model
from ..progress import progress
from . import plots
from .checkpoint import load_file, model_file, plain, save_torch
from .config import resolve_config
from .data import TaskData, check_geometry, dataset_info, n_batches, outputs, predictions
from .metrics import HEADLINE, task_metrics


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ChromoflowError("--device cuda: no CUDA device is available (use --device cpu or auto)")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ChromoflowError(f"--device {device!r}: expected auto, cpu or cuda")
    return torch.device(device)


def autocast(device: torch.device):
    """bf16 autocast on GPUs; full precision on CPUs."""
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()


def loss_fn(task: str, out: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    if task == "classification":
        return F.cross_entropy(out.float(), truth.long())
    return F.mse_loss(out.float(), truth.float())


def make_optimizer(model, t: dict):
    params = model.parameters()
    if t["optimizer"] == "adamw":
        return torch.optim.AdamW(params, lr=t["lr"], weight_decay=t["weight_decay"])
    if t["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=t["lr"], weight_decay=t["weight_decay"])
    return torch.optim.SGD(params, lr=t["lr"], momentum=t["momentum"], weight_decay=t["weight_decay"])


def make_scheduler(optimizer, t: dict):
    if t["scheduler"] == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=t["gamma"])
    return None


@torch.no_grad()
def evaluate(model, data: TaskData, positions, batch_size: int, device, desc: str | None = None):
    """(predictions, mean loss) over ``positions``; results stay on the device until the end (no per-batch sync)."""
    model.eval()
    outs, total = [], torch.zeros((), device=device)
    task = data.task
    for chunk, a, b in progress(data.stream(positions, batch_size, model.inputs, device), total=n_batches(len(positions), batch_size, False), desc=desc, unit="batch", disable=None if desc else True):
        with autocast(device):
            out = outputs(model, task, a, b)
        truth = torch.as_tensor(data.truth[chunk], device=device)
        total += loss_fn(task, out, truth) * len(chunk)
        outs.append(out.float())
    preds = predictions(task, torch.cat(outs)) if outs else np.zeros(0)
    return preds, float(total) / max(len(positions), 1)


def _epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


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
) -> dict:
    """Train and evaluate; returns the metrics written to ``metrics.json``."""
    if task not in TASKS:
        raise ChromoflowError(f"--task {task!r}: expected one of {', '.join(TASKS)}")
    cfg = resolve_config(model_name, config, epochs, batch_size)
    t = cfg["training"]
    dev = pick_device(device)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
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

    # Inner validation split for model selection (seeded, from the training pool).
    rng = np.random.default_rng([seed, 7919])
    n_val = int(round(len(pool) * float(t["val_fraction"] or 0)))
    shuffled = pool[rng.permutation(len(pool))]
    val, train_pos = np.sort(shuffled[:n_val]), np.sort(shuffled[n_val:])
    if t["drop_last"] and len(train_pos) < t["batch_size"]:
        raise ChromoflowError(f"only {len(train_pos)} training genes, fewer than one batch of {t['batch_size']} (drop_last); use --batch-size {max(1, len(train_pos) // 2)}")

    if t["select"] == "best" and not len(val):
        warn(f"only {len(pool)} training genes: no validation split; keeping the last epoch")
        t["select"] = "last"
    optimizer = make_optimizer(model, t)
    scheduler = make_scheduler(optimizer, t)
    headline = HEADLINE[task]
    identity = plain({"dataset": str(dataset), "reference": str(reference) if reference else None, "model": model_name, "task": task, "fold": fold, "seed": seed, "config": cfg, "n_genes": len(data)})
    state = {"epoch": 0, "history": [], "best_score": -np.inf, "best_epoch": 0, "best_state": None, "stale": 0, "train_seconds": 0.0, "trained_samples": 0, "finished": False}
    ckpt_path = out / "checkpoint.pt"
    if resume and ckpt_path.exists():
        ck = load_file(ckpt_path)
        if ck.get("identity") != identity:
            raise ChromoflowError(f"{ckpt_path}: made with different data or settings; drop --resume or use another output folder")
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        if scheduler is not None and ck.get("scheduler"):
            scheduler.load_state_dict(ck["scheduler"])
        state = ck["state"]
        info(f"resuming after epoch {state['epoch']}")
    elif resume:
        warn(f"--resume: no {ckpt_path} yet; starting from scratch")

    def score_of(metrics, loss):
        s = metrics.get(headline, float("nan"))
        return -loss if not np.isfinite(s) else s

    while not state["finished"] and state["epoch"] < t["epochs"]:
        epoch = state["epoch"] + 1
        torch.manual_seed(_epoch_seed(seed, epoch))  # dropout etc.: the same whether resumed or not
        model.train()
        start = time.perf_counter()
        loss_sum, seen, run_pred, pending = torch.zeros((), device=dev), 0, [], []
        stream = data.stream(train_pos, t["batch_size"], model.inputs, dev, rng=np.random.default_rng([seed, epoch]), drop_last=t["drop_last"])
        bar = progress(stream, total=n_batches(len(train_pos), t["batch_size"], t["drop_last"]), desc=f"epoch {epoch}/{t['epochs']}", unit="batch")
        run_truth = []
        for step, (chunk, a, b) in enumerate(bar):
            truth = torch.as_tensor(data.truth[chunk], device=dev)
            with autocast(dev):
                out_t = outputs(model, task, a, b)
            loss = loss_fn(task, out_t, truth)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if t["grad_clip"]:
                torch.nn.utils.clip_grad_norm_(model.parameters(), t["grad_clip"])
            optimizer.step()
            loss_sum += loss.detach() * len(chunk)
            seen += len(chunk)
            run_truth.append(data.truth[chunk])
            pending.append(out_t.detach().float())
            # Host sync only every 20 steps: the progress bar's running loss and metric.
            if step % 20 == 0 or step == (bar.total or 0) - 1:
                run_pred.append(predictions(task, torch.cat(pending)))
                pending = []
                running = task_metrics(task, np.concatenate(run_truth), np.concatenate(run_pred)).get(headline, float("nan"))
                bar.set_postfix(loss=f"{float(loss_sum) / seen:.4f}", **{headline: f"{running:.3f}"})
        if pending:
            run_pred.append(predictions(task, torch.cat(pending)))
        losses = float(loss_sum)
        bar.close()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        lr = optimizer.param_groups[0]["lr"]
        if scheduler is not None:
            scheduler.step()
        train_metrics = task_metrics(task, np.concatenate(run_truth), np.concatenate(run_pred)) if run_truth else {}
        row = {"epoch": epoch, "lr": lr, "train_loss": losses / max(seen, 1), f"train_{headline}": train_metrics.get(headline, float("nan"))}
        if len(val):
            vp, vl = evaluate(model, data, val, max(256, t["batch_size"]), dev)
            vm = task_metrics(task, data.truth[val], vp)
            row.update({"val_loss": vl, f"val_{headline}": vm.get(headline, float("nan"))})
        tp, tl = evaluate(model, data, test, max(256, t["batch_size"]), dev)
        row.update({"heldout_loss": tl, f"heldout_{headline}": task_metrics(task, data.truth[test], tp).get(headline, float("nan")), "seconds": seconds, "samples_per_s": seen / seconds if seconds else float("nan")})
        state["history"].append(plain(row))
        state["train_seconds"] += seconds
        state["trained_samples"] += seen
        state["epoch"] = epoch
        if t["select"] == "best":
            score = score_of(vm, vl)
            if score > state["best_score"]:
                state.update(best_score=float(score), best_epoch=epoch, best_state={k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, stale=0)
            else:
                state["stale"] += 1
                if t["patience"] is not None and state["stale"] >= t["patience"]:
                    info(f"early stop after epoch {epoch}: no validation improvement in {t['patience']} epochs")
                    state["finished"] = True
        msg = f"epoch {epoch}: train loss {row['train_loss']:.4f}" + (f", val {headline} {row[f'val_{headline}']:.4f}" if len(val) else "") + f", {row['samples_per_s']:.0f} genes/s"
        info(msg)
        save_torch(
            {"identity": identity, "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict() if scheduler else None, "state": state},
            ckpt_path,
        )

    # Final model: the best validation epoch, or the last one.
    if t["select"] == "best" and state["best_state"] is not None:
        model.load_state_dict(state["best_state"])
        selected = state["best_epoch"]
    else:
        selected = state["epoch"]
    test_pred, test_loss = evaluate(model, data, test, max(256, t["batch_size"]), dev, desc="held-out")
    heldout = task_metrics(task, data.truth[test], test_pred)
    val_metrics = None
    if len(val):
        vp, _ = evaluate(model, data, val, max(256, t["batch_size"]), dev)
        val_metrics = task_metrics(task, data.truth[val], vp)
    metrics = plain(
        {
            "task": task, "model": model_name, "fold": fold, "sample": ds_a.sample, "reference": ds_b.sample if ds_b else None,
            "heldout": {**heldout, "loss": test_loss}, "validation": val_metrics,
            "epochs_run": state["epoch"], "selected_epoch": selected,
            "samples_per_s": state["trained_samples"] / state["train_seconds"] if state["train_seconds"] else None,
            "train_seconds": state["train_seconds"], "n_train": len(train_pos), "n_val": len(val), "n_heldout": len(test),
            "device": str(dev), "seed": seed, "config": cfg,
        }
    )
    save_torch(model_file(model, model_name, task, cfg, dataset_info(ds_a), dataset_info(ds_b) if ds_b else None, fold, seed, selected, metrics), out / "model.pt")
    with atomic_output(out / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=2) + "\n")
    write_tsv(pd.DataFrame(state["history"]), out / "history.tsv", float_format="%.6g")
    frame = prediction_frame(data, test, test_pred)
    write_tsv(frame, out / "heldout.tsv", float_format="%.6g")
    plots.history(state["history"], headline, out / "history.png")
    plots.heldout(task, frame, heldout, out / ("roc.png" if task == "classification" else "scatter.png"), title=f"{model_name}, {ds_a.sample}, fold {fold}")
    return metrics


def prediction_frame(data: TaskData, positions, pred) -> pd.DataFrame:
    """gene_id, prediction, fold, and the truth column (label or target) where known."""
    genes = data.genes.iloc[positions]
    frame = pd.DataFrame({"gene_id": genes["gene_id"].to_numpy(), "prediction": pred, "fold": genes["fold"].to_numpy()})
    truth = data.truth[positions]
    if data.known.any():
        if data.task == "classification":
            frame["label"] = pd.array(np.where(np.isfinite(truth), truth, np.nan), dtype="Float64").astype("Int64")
        else:
            frame["target"] = truth
    return frame
