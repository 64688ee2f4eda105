"""What every chromoflow model says about itself, so that no code outside a model decides by its name.

A model is an ``nn.Module`` with ``encode(batch, need_weights)`` (the
representation its ``head`` reads) and these declarations:

- ``inputs``: the :class:`ModelInputs` the data loader must provide;
- ``attention``: which attention it can report — ``"pcre"`` (the promoter's
  attention to each pCRE), ``"marks"`` (attention over marks and bins) or
  ``None``; ``compact_attention`` turns a batch's weights into host arrays;
- ``n_outputs(task)``: its output size for a task, as published;
- ``geometry(dataset)``: the configuration it takes from the data (window,
  bin sizes, pCRE slots); ``check_geometry`` refuses a dataset it cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torch import nn

from ..errors import ChromoflowError


@dataclass(frozen=True)
class ModelInputs:
    """What a model reads: the promoter (and pCRE) bins at ``bin_sizes``, and whether any pCRE."""

    bin_sizes: tuple[int, ...]
    pcres: bool


class GeneModel(nn.Module):
    """Base of the models (see the module docstring)."""

    #: Outputs for classification: 2 logits (softmax) or 1 (sigmoid).
    classification_outputs: ClassVar[int] = 2
    #: The attention the model can report: "pcre", "marks" or None.
    attention: ClassVar[str | None] = None
    #: The registry name (set by the registry).
    name: ClassVar[str] = ""

    @property
    def inputs(self) -> ModelInputs:
        raise NotImplementedError

    @property
    def uses_pcres(self) -> bool:
        return self.inputs.pcres

    @classmethod
    def n_outputs(cls, task: str) -> int:
        """Outputs as published: ``classification_outputs`` logits for classification, one value otherwise."""
        return cls.classification_outputs if task == "classification" else 1

    @classmethod
    def geometry(cls, dataset) -> dict:
        """Model configuration taken from the dataset it is trained on."""
        return {"window": dataset.window}

    def check_geometry(self, dataset, source) -> None:
        """Refuse a dataset whose bins this model cannot read (``source`` names where the model came from)."""
        raise NotImplementedError

    def compact_attention(self, weights):
        """A batch's attention weights as the host arrays the attention writers need."""
        raise ChromoflowError(f"{self.name} has no attention to report")


class PromoterWindowModel(GeneModel):
    """A baseline that reads ``n_bins`` promoter bins of ``bin_size`` bp centred on the TSS, and no pCRE."""

    n_bins: int
    bin_size: int

    @property
    def inputs(self) -> ModelInputs:
        return ModelInputs(bin_sizes=(self.bin_size,), pcres=False)

    def check_geometry(self, dataset, source) -> None:
        b, n = self.bin_size, self.n_bins
        if b not in dataset.bin_sizes or dataset.window // b < n:
            raise ChromoflowError(
                f"{dataset.path}: {self.name} ({source}) reads {n} bins of {b} bp around the TSS; the dataset has bin sizes {dataset.bin_sizes}, window {dataset.window}"
            )

    def tss_window(self, batch):
        """(B, n_bins, M): the ``n_bins`` promoter bins centred on the TSS (±5 kb for 100 x 100 bp)."""
        x = batch.promoter[self.bin_size]
        start = x.shape[1] // 2 - self.n_bins // 2
        return x[:, start : start + self.n_bins]
