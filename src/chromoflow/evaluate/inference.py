"""A trained model and the datasets it is applied to, checked against each other once for every command."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from ..data.dataset import GeneDataset
from ..data.task_data import TaskData, match_marks
from ..errors import ChromoflowError
from ..models.base import GeneModel
from ..models.checkpoint import load_model
from ..runtime import pick_device


@dataclass
class Inference:
    """A model in eval mode on ``device``, what its checkpoint says (``info``), and the task's view of the data."""

    model: GeneModel
    info: dict
    data: TaskData
    device: torch.device
    others: tuple[GeneDataset, ...] = ()

    @property
    def task(self) -> str:
        return self.info["task"]

    @property
    def dataset(self) -> GeneDataset:
        return self.data.a

    @property
    def reference(self) -> GeneDataset | None:
        return self.data.b


def load_for_inference(
    checkpoint: str | os.PathLike,
    dataset: str | os.PathLike,
    reference: str | os.PathLike | None = None,
    device: str = "auto",
    others=(),
) -> Inference:
    """Load a checkpoint and the datasets it reads, or fail with one line.

    A fold-change model needs ``reference`` and no other model takes one;
    each dataset (``others`` too, e.g. the sample swapped in by ``perturb``)
    gets the model's marks in the model's order and must have the bins the
    model reads.
    """
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
    extra = tuple(GeneDataset.load(p) for p in others)
    for d in (ds, ref, *extra):
        if d is not None:
            match_marks(d, list(info["marks"]), str(checkpoint))
            model.check_geometry(d, checkpoint)
    return Inference(model, info, TaskData(task, ds, ref), dev, extra)
