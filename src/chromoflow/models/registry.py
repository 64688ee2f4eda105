"""Model names -> model classes. Everything else a caller needs, a model class says itself (see ``base``)."""

from __future__ import annotations

from ..errors import ChromoflowError
from . import MODEL_NAMES, TASKS  # noqa: F401  (re-exported)
from .attentivechrome import AttentiveChrome
from .base import GeneModel
from .chromoformer import Chromoformer
from .deepchrome import DeepChrome


class ChromoformerNoHiC(Chromoformer):
    """The no-Hi-C ablation: Chromoformer's parameters, every pCRE slot left empty."""

    name = "chromoformer-nohic"

    def __init__(self, n_feats: int = 7, n_out: int = 2, **config):
        config.pop("use_pcres", None)
        super().__init__(n_feats, n_out, use_pcres=False, **config)


MODELS: dict[str, type[GeneModel]] = {
    cls.name: cls for cls in (Chromoformer, ChromoformerNoHiC, AttentiveChrome, DeepChrome)
}
assert tuple(MODELS) == MODEL_NAMES


def model_class(name: str) -> type[GeneModel]:
    try:
        return MODELS[name]
    except KeyError:
        raise ChromoflowError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}") from None


def build_model(name: str, n_feats: int, task: str, config: dict | None = None) -> GeneModel:
    """A freshly initialised model (seed torch before calling for reproducible weights)."""
    cls = model_class(name)
    return cls(n_feats, cls.n_outputs(task), **dict(config or {}))
