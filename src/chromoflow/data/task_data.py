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

from ..errors import ChromoflowError
from ..log import warn
from .batch import PackedBatch, Resident, to_device
from .dataset import GeneDataset


def dataset_info(ds: GeneDataset) -> dict:
    return {
        "sample": ds.sample,
        "marks": ds.marks,
        "bin_sizes": ds.bin_sizes,
        "window": ds.window,
        "max_pcres": ds.max_pcres,
        "path": str(ds.path),
    }


def match_marks(ds: GeneDataset, wanted: list[str], source: str) -> None:
    """Reorder ``ds``'s channels to ``wanted`` (matched by name, case-insensitively), or fail clearly."""
    have = {m.lower(): i for i, m in enumerate(ds.marks)}
    missing = [m for m in wanted if m.lower() not in have]
    if missing:
        raise ChromoflowError(
            f"{ds.path}: the model ({source}) needs marks {', '.join(wanted)}; the dataset has {', '.join(ds.marks)} (missing {', '.join(missing)})"
        )
    order = [have[m.lower()] for m in wanted]
    if order != list(range(len(ds.marks))):
        ds.select_marks(order)


class TaskData:
    def __init__(self, task: str, dataset: GeneDataset, reference: GeneDataset | None = None):
        self.task, self.a, self.b = task, dataset, reference
        genes = dataset.genes
        if task == "fold-change":
            if reference is None:
                raise ChromoflowError("--task fold-change needs --reference B.h5 (the second sample)")
            if (
                reference.marks != dataset.marks
                or reference.bin_sizes != dataset.bin_sizes
                or reference.window != dataset.window
            ):
                raise ChromoflowError(
                    f"{reference.path}: marks/bin sizes/window differ from {dataset.path}; build both samples with the same options"
                )
            pos_b = pd.Series(np.arange(len(reference)), index=reference.genes["gene_id"].to_numpy())
            ib = pos_b.reindex(genes["gene_id"].to_numpy()).to_numpy()
            shared = ~np.isnan(ib)
            if not shared.any():
                raise ChromoflowError(f"{reference.path}: no gene in common with {dataset.path}")
            if not shared.all():
                warn(f"{int((~shared).sum())} genes of {dataset.path} are not in {reference.path}; left out")
            self.idx_a = np.flatnonzero(shared)
            self.idx_b = ib[shared].astype(np.int64)
            truth = (
                genes["target"].to_numpy(np.float64)[self.idx_a]
                - reference.genes["target"].to_numpy(np.float64)[self.idx_b]
            )
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
            what = {
                "classification": "labels",
                "regression": "expression values",
                "fold-change": "expression values in both samples",
            }[self.task]
            raise ChromoflowError(
                f"{self.a.path}: no gene has {what}; rebuild the dataset with --expression to train --task {self.task}"
            )

    def split(self, fold: int):
        """(training pool, held-out) positions: fold ``fold`` is held out; fold 0 is in neither."""
        folds = sorted(set(self.fold[self.fold > 0].tolist()))
        if fold not in folds:
            raise ChromoflowError(
                f"fold {fold} has no genes in {self.a.path} (folds present: {', '.join(map(str, folds)) or 'none'})"
            )
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
            self.resident = (
                Resident(self.a, device, bin_sizes),
                Resident(self.b, device, bin_sizes) if self.b is not None else None,
            )
        return self.resident is not None

    def batch(self, positions: np.ndarray, inputs) -> tuple[PackedBatch, PackedBatch | None]:
        """Host batches of task positions ``positions`` for a model reading ``inputs`` (:class:`ModelInputs`):
        sample A's and, for fold change, the reference's (``None`` otherwise)."""
        kwargs = {"bin_sizes": inputs.bin_sizes, "pcres": inputs.pcres, "features": self.resident is None}
        a = self.a.batch(self.idx_a[positions], **kwargs)
        b = self.b.batch(self.idx_b[positions], **kwargs) if self.b is not None else None
        return a, b

    def device_batches(self, positions: np.ndarray, inputs, device) -> tuple[PackedBatch, PackedBatch | None]:
        """:meth:`batch` on ``device``, features gathered there when they are kept there."""
        return tuple(
            None if x is None else self._complete(x.to(device), k) for k, x in enumerate(self.batch(positions, inputs))
        )

    def _complete(self, batch: PackedBatch, which: int) -> PackedBatch:
        return self.resident[which].complete(batch) if batch.promoter_source is not None else batch

    def stream(self, positions, batch_size: int, inputs, device, drop_last: bool = False, prefetch: int = 3):
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
                    a, b = self.device_batches(chunk, inputs, device)
                    q.put((chunk, a, b, to_device(self.truth[chunk], device, floating=True)))
            except BaseException as exc:  # noqa: BLE001 - any failure, interrupts too, is raised again in the consumer
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
