"""The training loop: one model, one task, one held-out fold.

:class:`Trainer` owns the model, optimiser, scheduler and a typed
:class:`TrainState`; :meth:`Trainer.fit` runs epochs until the configured
number, early stopping or an interrupt, writing ``checkpoint.pt`` after each
epoch so that ``resume`` continues exactly where it stopped (shuffling and
dropout are seeded per epoch).

Model selection: with ``select: best`` the validation split chooses the
epoch (headline metric, validation loss breaking ties); ``best-latest`` keeps
the last epoch whose headline metric is at least the best so far (the
AttentiveChrome original's rule). A split too small to rank epochs (fewer
than ``min_validation`` genes, or for classification fewer than
:data:`MIN_PER_CLASS` genes of a class) is not used: the last epoch is kept
and a warning says so (``min_validation: 0`` turns this safeguard off, as
the ``official`` presets do).

Shuffling: ``seeded`` draws each epoch's order from a generator seeded by
(seed, epoch), so a resumed run continues exactly; ``torch-loader`` draws it
as ``torch.utils.data.DataLoader(shuffle=True)`` does, from the global torch
generator continuing from model initialisation, so a model trained with the
``official`` preset sees its genes in the order the original script would
(its state is saved in ``checkpoint.pt`` for resuming).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..data.task_data import TaskData, n_batches
from ..errors import ChromoflowError
from ..evaluate.metrics import HEADLINE, task_metrics
from ..log import info, warn
from ..models import objective
from ..models.checkpoint import load_file, plain, save_torch
from ..progress import progress
from ..runtime import Compiled, autocast, use_bf16
from .config import TrainingConfig

MIN_PER_CLASS = 5


def file_fingerprint(path) -> str | None:
    """A content hash of a file (BLAKE2b, 16 bytes): the same path rebuilt with other data differs."""
    if path is None:
        return None
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


@dataclass
class TrainState:
    """Everything that changes during training, besides the weights and optimiser."""

    epoch: int = 0
    step: int = 0
    history: list = field(default_factory=list)
    best_score: list | None = None  # [headline metric, -validation loss]
    best_epoch: int = 0
    best_state: dict | None = None
    stale: int = 0
    train_seconds: float = 0.0
    trained_samples: int = 0
    finished: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainState:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def make_optimizer(model, t: TrainingConfig, device: torch.device):
    """The configured optimiser: fused (one kernel for all parameters on CUDA, one op per tensor on CPU) where torch
    has it, or with ``fused: false`` torch's default implementation, as the original scripts construct it."""
    params = [p for p in model.parameters() if p.requires_grad]
    kinds = {
        "adamw": (torch.optim.AdamW, {"weight_decay": t.weight_decay}),
        "adam": (torch.optim.Adam, {"weight_decay": t.weight_decay}),
        "sgd": (torch.optim.SGD, {"momentum": t.momentum, "weight_decay": t.weight_decay}),
    }
    kind, extra = kinds[t.optimizer]
    if not t.fused:
        return kind(params, lr=t.lr, **extra)
    try:
        return kind(params, lr=t.lr, fused=True, **extra)
    except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device/dtype
        return kind(params, lr=t.lr, foreach=True, **extra)


class TorchLoaderOrder:
    """The random draws of the original scripts' ``DataLoader`` s, from the global torch generator.

    Iterating a ``DataLoader`` first draws its iterator's base seed (one
    int64); a shuffled one then draws its sampler's seed (another) and takes
    ``randperm(n)`` from a generator seeded with it. An original epoch
    iterates the shuffled training loader, then its sequential evaluation
    loaders: :meth:`permutation` and :meth:`evaluation` consume the same
    draws in the same order, so the training order equals the original's.
    """

    @staticmethod
    def _draw() -> int:
        return int(torch.empty((), dtype=torch.int64).random_().item())

    def permutation(self, n: int) -> np.ndarray:
        self._draw()  # the iterator's base seed
        generator = torch.Generator()
        generator.manual_seed(self._draw())  # the sampler's seed
        return torch.randperm(n, generator=generator).numpy()

    def evaluation(self) -> None:
        self._draw()


def make_scheduler(optimizer, t: TrainingConfig):
    if t.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=t.gamma)
    return None


class Trainer:
    """Fits ``model`` on ``data`` (training positions ``train_pos``, validation ``val``)."""

    def __init__(
        self,
        model,
        data: TaskData,
        train_pos: np.ndarray,
        val: np.ndarray,
        training: TrainingConfig,
        device: torch.device,
        seed: int,
        identity: dict,
        outdir: Path,
        forward: Compiled | None = None,
        bf16: bool | None = None,
        heldout: np.ndarray | None = None,
    ):
        self.model, self.data, self.t = model, data, training
        self.bf16 = use_bf16("auto", device) if bf16 is None else bf16
        self.forward = forward or Compiled(model, False)
        self.train_pos, self.val, self.device, self.seed = train_pos, val, device, seed
        self.heldout = heldout if heldout is not None and self.t.track_heldout else np.zeros(0, np.int64)
        self.loader = TorchLoaderOrder() if self.t.shuffle == "torch-loader" else None
        self.identity, self.outdir = identity, outdir
        self.task = data.task
        self.headline = HEADLINE[self.task]
        self.state = TrainState()
        self.optimizer = make_optimizer(model, self.t, device)
        self.scheduler = make_scheduler(self.optimizer, self.t)
        self.base_lr = [g["lr"] for g in self.optimizer.param_groups]
        #: How the epoch is chosen: the configured rule, or "last" where the validation split cannot rank epochs.
        self.selection = self.t.select
        if self.t.select != "last":
            reason = self._validation_unusable()
            if reason:
                warn(f"{reason}: epochs cannot be ranked on it, keeping the last epoch instead of the best")
                self.selection = "last"

    # ------------------------------------------------------------- selection
    def _validation_unusable(self) -> str | None:
        n, least = len(self.val), self.t.min_validation
        if not n:
            return "there is no validation split"
        if not least:
            return None
        if n < least:
            return f"the validation split has {n} genes (fewer than training.min_validation {least})"
        if self.task == "classification":
            counts = np.bincount(self.data.truth[self.val].astype(np.int64), minlength=2)
            if counts.min() < MIN_PER_CLASS:
                return f"the validation split has {counts[1]} high and {counts[0]} low genes (fewer than {MIN_PER_CLASS} of a class)"
        return None

    # ------------------------------------------------------------ checkpoint
    @property
    def checkpoint_path(self) -> Path:
        return self.outdir / "checkpoint.pt"

    def save_checkpoint(self) -> None:
        save_torch(
            {
                "identity": self.identity,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler else None,
                "state": self.state.to_dict(),
                "torch_rng": torch.get_rng_state() if self.loader is not None else None,
            },
            self.checkpoint_path,
        )

    def resume(self) -> None:
        if not self.checkpoint_path.exists():
            warn(f"--resume: no {self.checkpoint_path} yet; starting from scratch")
            return
        ck = load_file(self.checkpoint_path)
        theirs = ck.get("identity") or {}
        if theirs != self.identity:
            differ = sorted(k for k in set(theirs) | set(self.identity) if theirs.get(k) != self.identity.get(k))
            raise ChromoflowError(
                f"{self.checkpoint_path}: made from a different {', '.join(differ) or 'run'} (dataset content, settings or fold); drop --resume or use another output folder"
            )
        try:
            self.model.load_state_dict(ck["model"])
            self.optimizer.load_state_dict(ck["optimizer"])
            if self.scheduler is not None and ck.get("scheduler"):
                self.scheduler.load_state_dict(ck["scheduler"])
            self.state = TrainState.from_dict(ck["state"])
            if self.loader is not None:
                torch.set_rng_state(ck["torch_rng"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise ChromoflowError(
                f"{self.checkpoint_path}: damaged training checkpoint ({type(exc).__name__}); delete it or drop --resume"
            ) from None
        info(f"resuming after epoch {self.state.epoch}")

    # ---------------------------------------------------------------- epochs
    def _apply_lr_decay(self) -> None:
        decay = self.t.lr_decay
        if decay:
            factor = 1.0 / (1.0 + self.state.step * decay)
            scale = self.scheduler.get_last_lr()[0] / self.base_lr[0] if self.scheduler else 1.0
            for g, base in zip(self.optimizer.param_groups, self.base_lr):
                g["lr"] = base * scale * factor

    def train_epoch(self) -> dict:
        epoch = self.state.epoch + 1
        t, dev, task, model = self.t, self.device, self.task, self.model
        if self.loader is None:
            torch.manual_seed(_epoch_seed(self.seed, epoch))  # dropout etc.: the same whether resumed or not
            order = np.random.default_rng([self.seed, epoch]).permutation(len(self.train_pos))
        else:
            order = self.loader.permutation(len(self.train_pos))
        model.train()
        start = time.perf_counter()
        loss_sum, seen = torch.zeros((), device=dev), 0
        preds, truths = [], []
        stream = self.data.stream(self.train_pos[order], t.batch_size, model.inputs, dev, drop_last=t.drop_last)
        total = n_batches(len(self.train_pos), t.batch_size, t.drop_last)
        bar = progress(stream, total=total, desc=f"epoch {epoch}/{t.epochs}", unit="batch")
        for step, (chunk, a, b, truth) in enumerate(bar):
            self._apply_lr_decay()
            with autocast(dev, self.bf16):
                out = objective.outputs(self.forward, task, a, b)
            loss = objective.loss(task, out, truth)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if t.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip, foreach=True if t.fused else None)
            self.optimizer.step()
            self.state.step += 1
            loss_sum += loss.detach() * len(chunk)
            seen += len(chunk)
            preds.append(objective.prediction(task, out.detach()))
            truths.append(chunk)
            if bar.disable is False and (step % 20 == 0 or step == total - 1):  # host sync only for a visible bar
                bar.set_postfix(loss=f"{float(loss_sum) / seen:.4f}")
        bar.close()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        seconds = time.perf_counter() - start
        lr = self.optimizer.param_groups[0]["lr"]
        if self.scheduler is not None:
            self.scheduler.step()
        row = {"epoch": epoch, "lr": lr, "train_loss": float(loss_sum) / max(seen, 1)}
        if preds:
            pos = np.concatenate(truths)
            row[f"train_{self.headline}"] = task_metrics(
                task, self.data.truth[pos], torch.cat(preds).cpu().numpy()
            ).get(self.headline)
        row.update(seconds=seconds, samples_per_s=seen / seconds if seconds else None)
        self.state.train_seconds += seconds
        self.state.trained_samples += seen
        self.state.epoch = epoch
        return row

    @torch.no_grad()
    def evaluate(self, positions, desc: str | None = None):
        return evaluate(
            self.model,
            self.data,
            positions,
            max(256, self.t.batch_size),
            self.device,
            desc,
            forward=self.forward,
            bf16=self.bf16,
        )

    def fit(self, on_epoch=None) -> None:
        """Train until done; ``on_epoch(trainer)`` runs after each epoch's checkpoint (tests use it to interrupt)."""
        while not self.state.finished and self.state.epoch < self.t.epochs:
            row = self.train_epoch()
            for part, positions in (("val", self.val), ("heldout", self.heldout)):
                if not len(positions):
                    continue
                if self.loader is not None:
                    self.loader.evaluation()  # the draws of the original's evaluation loader
                pred, loss = self.evaluate(positions)
                metrics = task_metrics(self.task, self.data.truth[positions], pred)
                row.update({f"{part}_loss": loss, f"{part}_{self.headline}": metrics.get(self.headline)})
                if part == "val" and self.selection != "last":
                    self._select(metrics, loss)
            self.state.history.append(plain(row))
            info(
                f"epoch {row['epoch']}: train loss {row['train_loss']:.4f}"
                + (
                    f", validation {self.headline} {row.get(f'val_{self.headline}') or float('nan'):.4f}"
                    if len(self.val)
                    else ""
                )
                + f", {row['samples_per_s'] or 0:.0f} genes/s"
            )
            self.save_checkpoint()
            if on_epoch is not None:
                on_epoch(self)

    def _select(self, metrics: dict, loss: float) -> None:
        value = metrics.get(self.headline)
        if self.selection == "best-latest":  # metric >= the best so far; an undefined metric never counts
            score = [value if value is not None and math.isfinite(value) else math.nan]
            better = score[0] >= (self.state.best_score[0] if self.state.best_score else -math.inf)
        else:
            score = [value if value is not None and math.isfinite(value) else -math.inf, -loss]
            better = self.state.best_score is None or score > self.state.best_score
        if better:
            self.state.best_score, self.state.best_epoch, self.state.stale = score, self.state.epoch, 0
            self.state.best_state = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
        else:
            self.state.stale += 1
            patience = self.t.patience
            if patience is not None and self.state.stale >= patience:
                info(f"early stop after epoch {self.state.epoch}: no validation improvement in {patience} epochs")
                self.state.finished = True

    def final_model(self) -> int:
        """Load the selected weights into the model; return the selected epoch."""
        if self.selection != "last" and self.state.best_state is not None:
            self.model.load_state_dict(self.state.best_state)
            return self.state.best_epoch
        return self.state.epoch


@torch.no_grad()
def evaluate(
    model,
    data: TaskData,
    positions,
    batch_size: int,
    device,
    desc: str | None = None,
    forward=None,
    bf16: bool | None = None,
):
    """(predictions, mean loss) over ``positions``; results stay on the device until the end (no per-batch sync)."""
    model.eval()
    forward = forward or model
    outs, total = [], torch.zeros((), device=device)
    task = data.task
    stream = data.stream(positions, batch_size, model.inputs, device)
    for chunk, a, b, truth in progress(
        stream,
        total=n_batches(len(positions), batch_size, False),
        desc=desc,
        unit="batch",
        disable=None if desc else True,
    ):
        with autocast(device, bf16):
            out = objective.outputs(forward, task, a, b)
        if truth is not None:
            total += objective.loss(task, out, truth) * len(chunk)
        outs.append(objective.prediction(task, out))
    preds = torch.cat(outs).cpu().numpy() if outs else np.zeros(0)
    return preds, float(total) / max(len(positions), 1)
