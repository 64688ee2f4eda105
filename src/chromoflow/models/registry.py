"""Model names -> constructors, and the output size each task needs."""

from __future__ import annotations

from torch import nn

from ..errors import ChromoflowError
from . import MODEL_NAMES, TASKS  # noqa: F401  (re-exported)
from .attentivechrome import AttentiveChrome
from .chromoformer import Chromoformer
from .deepchrome import DeepChrome


def n_outputs(task: str, name: str = "chromoformer") -> int:
    """Outputs as published: for classification two logits (softmax; Chromoformer, DeepChrome) or one
    (sigmoid; AttentiveChrome); one value for regression and fold change."""
    if task != "classification":
        return 1
    return 1 if name == "attentivechrome" else 2


def build_model(name: str, n_feats: int, task: str, config: dict | None = None) -> nn.Module:
    """A freshly initialised model (seed torch before calling for reproducible weights)."""
    config = dict(config or {})
    n_out = n_outputs(task, name)
    if name == "chromoformer":
        return Chromoformer(n_feats, n_out, use_pcres=True, **config)
    if name == "chromoformer-nohic":
        return Chromoformer(n_feats, n_out, use_pcres=False, **config)
    if name == "attentivechrome":
        return AttentiveChrome(n_feats, n_out, **config)
    if name == "deepchrome":
        return DeepChrome(n_feats, n_out, **config)
    raise ChromoflowError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
