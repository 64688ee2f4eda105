"""A task's view of one or two datasets: aligned genes, truth, folds, batches.

For ``fold-change`` the sample (``--dataset``) and the reference
(``--reference``) are joined by gene_id and the truth is
log2((A + 1) / (B + 1)) = target_A - target_B.
"""

from __future__ import annotations

import queue
import threading

import numpy as np
import pandas as pd
import torch

from ..data.dataset import GeneDataset
from ..errors import ChromoflowError
from ..log import warn
from .batches import Resident, to_tensors


def dataset_info(ds: GeneDataset) -> dict:
    return {"sample": ds.sample, "marks": ds.marks, "bin_sizes": ds.bin_sizes, "window": ds.window, "max_pcres": ds.max_pcres, "path": str(ds.path)}


def match_marks(ds: GeneDataset, wanted: list[str], source: str) -> None:
    """Reorder ``ds``'s channels to ``wanted`` (matched by name, case-insensitively), or fail clearly."""
    have = {m.lower(): i for i, m in enumerate(ds.marks)}
    missing = [m for m in wanted if m.lower() not in have]
    if missing:
        raise ChromoflowError(f"{ds.path}: the model ({source}) needs marks {', '.join(wanted)}; the dataset has {', '.join(ds.marks)} (missing {', '.join(missing)})")
    order = [have[m.lower()] for m in wanted]
    if order != list(range(len(ds.marks))):
        ds.select_marks(order)


def check_geometry(ds: GeneDataset, model, name: str, source) -> None:
    """The bin sizes and window ``model`` reads must be in the dataset (``source`` names the model's origin)."""
    if name.startswith("chromoformer"):
        if list(ds.bin_sizes) != list(model.bin_sizes) or ds.window != int(model.config["window"]):
            raise ChromoflowError(
                f"{ds.path}: bin sizes {ds.bin_sizes} / window {ds.window} differ from the model's "
                f"{model.bin_sizes} / {model.config['window']} ({source}); rebuild the dataset with --bin-sizes {','.join(map(str, model.bin_sizes))} --window {model.config['window']}"
            )
    else:
        b, n = model.bin_size, model.n_bins
        if b not in ds.bin_sizes or ds.window // b < n:
            raise ChromoflowError(f"{ds.path}: {name} ({source}) reads {n} bins of {b} bp around the TSS; the dataset has bin sizes {ds.bin_sizes}, window {ds.window}")


class TaskData:
    def __init__(self, task: str, dataset: GeneDataset, reference: GeneDataset | None = None):
        self.task, self.a, self.b = task, dataset, reference
        genes = dataset.genes
        if task == "fold-change":
            if reference is None:
                raise ChromoflowError("--task fold-change needs --reference B.h5 (the second sample)")
            if reference.marks != dataset.marks or reference.bin_sizes != dataset.bin_sizes or reference.window != dataset.window:
                raise ChromoflowError(f"{reference.path}: marks/bin sizes/window differ from {dataset.path}; build both samples with the same options")
            pos_b = pd.Series(np.arange(len(reference)), index=reference.genes["gene_id"].to_numpy())
            ib = pos_b.reindex(genes["gene_id"].to_numpy()).to_numpy()
            shared = ~np.isnan(ib)
            if not shared.any():
                raise ChromoflowError(f"{reference.path}: no gene in common with {dataset.path}")
            if not shared.all():
                warn(f"{int((~shared).sum())} genes of {dataset.path} are not in {reference.path}; left out")
            self.idx_a = np.flatnonzero(shared)
            self.idx_b = ib[shared].astype(np.int64)
            truth = genes["target"].to_numpy(np.float64)[self.idx_a] - reference.genes["target"].to_numpy(np.float64)[self.idx_b]
            self.known = np.isfinite(truth)
        else:
            if reference is not None:
                raise ChromoflowError(f"--reference is only for --task fold-change (got --task {task})")
            self.idx_a = np.arange(len(dataset))
            self.idx_b = None
            if task == "classification":
                truth = genes["label"].to_numpy(np.float64)
                self.known = truth >= 0
            else:
                truth = genes["target"].to_numpy(np.float64)
                self.known = np.isfinite(truth)
        self.truth = np.where(self.known, truth, np.nan)
        self.resident: tuple | None = None  # (Resident of A, Resident of B | None) once make_resident() ran
        self.genes = genes.iloc[self.idx_a].reset_index(drop=True)
        self.fold = self.genes["fold"].to_numpy()

    def __len__(self) -> int:
        return len(self.idx_a)

    def require_truth(self) -> None:
        if not self.known.any():
            what = {"classification": "labels", "regression": "expression values", "fold-change": "expression values in both samples"}[self.task]
            raise ChromoflowError(f"{self.a.path}: no gene has {what}; rebuild the dataset with --expression to train --task {self.task}")

    def split(self, fold: int):
        """(training pool, held-out) positions: fold ``fold`` is held out; fold 0 is in neither."""
        folds = sorted(set(self.fold[self.fold > 0].tolist()))
        if fold not in folds:
            raise ChromoflowError(f"fold {fold} has no genes in {self.a.path} (folds present: {', '.join(map(str, folds)) or 'none'})")
        test = np.flatnonzero((self.fold == fold) & self.known)
        pool = np.flatnonzero((self.fold != fold) & (self.fold > 0) & self.known)
        if not len(test):
            raise ChromoflowError(f"fold {fold} of {self.a.path} has no gene with a known {self.task} target")
        if not len(pool):
            raise ChromoflowError(f"no training genes outside fold {fold} in {self.a.path}")
        return pool, test

    def make_resident(self, device, bin_sizes, force: bool = False) -> bool:
        """Keep the feature arrays on ``device`` (when they fit, or ``force``); returns whether they are."""
        if force or Resident.fits(self.a, device):
            self.resident = (Resident(self.a, device, bin_sizes), Resident(self.b, device, bin_sizes) if self.b is not None else None)
        return self.resident is not None

    def batch(self, positions: np.ndarray, inputs: dict) -> tuple[dict, dict | None]:
        packed = inputs.get("pcre_format", "dense") == "packed"
        kwargs = {"bin_sizes": inputs["bin_sizes"], "pcres": inputs["pcres"], "pcre_format": inputs.get("pcre_format", "dense"), "features": not (self.resident and packed)}
        a = self.a.batch(self.idx_a[positions], **kwargs)
        b = self.b.batch(self.idx_b[positions], **kwargs) if self.b is not None else None
        return a, b

    def _device_batch(self, batch: dict | None, which: int, device):
        if batch is None:
            return None
        tensors = to_tensors(batch, device)
        return self.resident[which].complete(tensors) if "promoter_index" in tensors else tensors

    def stream(self, positions, batch_size: int, inputs: dict, device, drop_last: bool = False, prefetch: int = 3):
        """Yield (positions, batch_a, batch_b, truth) as device tensors, in the order given, ``batch_size`` at a time;
        a background thread prepares the next batches.

        ``truth`` (float32, NaN where unknown) travels with the batch, so the
        training step never waits on a host-to-device copy of its labels.
        """
        positions = np.asarray(positions)
        stops = range(0, len(positions) - (batch_size - 1 if drop_last else 0), batch_size)
        chunks = [positions[i : i + batch_size] for i in stops]
        chunks = [c for c in chunks if len(c)]
        q: queue.Queue = queue.Queue(maxsize=prefetch)
        done = object()
        stop = threading.Event()

        def work():
            try:
                for chunk in chunks:
                    if stop.is_set():
                        return
                    a, b = self.batch(chunk, inputs)
                    truth = to_tensors({"truth": self.truth[chunk].astype(np.float32)}, device)["truth"]
                    q.put((chunk, self._device_batch(a, 0, device), self._device_batch(b, 1, device), truth))
            except BaseException as exc:  # surfaced in the consumer
                q.put(exc)
            q.put(done)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        try:
            while True:
                item = q.get()
                if item is done:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while thread.is_alive():
                try:
                    q.get_nowait()
                except queue.Empty:
                    thread.join(timeout=0.05)


def n_batches(n: int, batch_size: int, drop_last: bool) -> int:
    return n // batch_size if drop_last else -(-n // batch_size)
