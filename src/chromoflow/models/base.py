"""What every chromoflow model says about itself, so that no code outside a model decides by its name.

A model is an ``nn.Module`` with ``encode(batch, need_weights)`` (the
representation its ``head`` reads) and these declarations:

- ``inputs``: the :class:`ModelInputs` the data loader must provide;
- ``attention``: which attention it can report — ``"pcre"`` (the promoter's
  attention to each pCRE), ``"marks"`` (attention over marks and bins) or
  ``None``; ``compact_attention`` turns a batch's weights into host arrays;
- ``n_outputs(task)``: its output size for a task, as published;
- ``geometry(dataset)``: the configuration it takes from the data (window,
  bin sizes, pCRE slots); ``check_geometry`` refuses a dataset it cannot read;
- ``config_class``: the frozen dataclass of the options a configuration sets.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from torch import nn

from ..errors import ChromoflowError


@dataclass(frozen=True)
class ModelInputs:
    """What a model reads: the promoter (and pCRE) bins at ``bin_sizes``, and whether any pCRE."""

    bin_sizes: tuple[int, ...]
    pcres: bool


@dataclass(frozen=True)
class ModelConfig:
    """Base of the per-model option dataclasses: what a ``--config`` file's ``model:`` section may set."""

    def as_dict(self) -> dict:
        """Plain values (tuples as lists), as checkpoints and YAML files hold them."""

        def plain(value):
            if isinstance(value, ModelConfig):
                return value.as_dict()
            return list(value) if isinstance(value, tuple) else value

        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: dict):
        """The options from plain values (nested sections from mappings); unknown keys are a TypeError."""
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        kw = {}
        for key, value in values.items():
            default = defaults.get(key)
            if isinstance(default, ModelConfig) and isinstance(value, dict):
                value = type(default).from_dict({**default.as_dict(), **value})
            elif isinstance(default, tuple):
                value = tuple(value)
            kw[key] = value
        return cls(**kw)


class GeneModel(nn.Module):
    """Base of the models (see the module docstring)."""

    #: Outputs for classification: 2 logits (softmax) or 1 (sigmoid).
    classification_outputs: ClassVar[int] = 2
    #: The attention the model can report: "pcre", "marks" or None.
    attention: ClassVar[str | None] = None
    #: The registry name.
    name: ClassVar[str] = ""
    #: The options a configuration may set (a frozen :class:`ModelConfig`).
    config_class: ClassVar[type[ModelConfig]] = ModelConfig

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
