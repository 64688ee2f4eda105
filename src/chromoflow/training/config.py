"""Training configurations: per-model defaults, named presets, and YAML overrides.

A configuration has two sections::

    model:      # architecture hyper-parameters (merged over the model's defaults)
    training:
      optimizer: adamw | adam | sgd
      lr, weight_decay, momentum
      scheduler: step | none   (StepLR, step 1 epoch, factor gamma)
      gamma
      batch_size, epochs, drop_last
      grad_clip: null | max gradient norm
      val_fraction: share of the training genes held out for model selection (0: none)
      select: best | last   (best validation epoch, or the last epoch)
      patience: epochs without validation improvement before stopping (null: never)

``--config`` takes a preset name (``default``, ``official``, ``tiny``) or a
YAML file; a file may start from a preset with ``preset: official``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from .._dicts import merge
from ..errors import ChromoflowError
from ..models.chromoformer import PUBLISHED

_BASE_TRAINING = {
    "optimizer": "adamw",
    "lr": 1e-4,
    "weight_decay": 0.01,
    "momentum": 0.0,
    "scheduler": "step",
    "gamma": 0.87,
    "batch_size": 64,
    "epochs": 10,
    "drop_last": True,
    "grad_clip": None,
    "val_fraction": 0.1,
    "select": "best",
    "patience": 3,
}

# Our default protocol: the published optimiser family with an inner
# validation split (10 % of the training genes) choosing the best epoch and
# stopping early.
DEFAULTS = {
    "chromoformer": {"model": copy.deepcopy(PUBLISHED), "training": dict(_BASE_TRAINING)},
    "attentivechrome": {
        "model": {"n_bins": 100, "bin_size": 100, "bin_hidden": 32, "mark_hidden": 16},
        "training": dict(_BASE_TRAINING, optimizer="adam", lr=2e-4, weight_decay=0.0, scheduler="none", batch_size=16, epochs=30, grad_clip=1.0, patience=5),
    },
    "deepchrome": {
        "model": {"n_bins": 100, "bin_size": 100, "filters": 50, "width": 10, "pool": 5, "dropout": 0.5},
        "training": dict(_BASE_TRAINING, optimizer="adam", lr=1e-3, weight_decay=0.0, scheduler="none", epochs=30, patience=5),
    },
}
DEFAULTS["chromoformer-nohic"] = copy.deepcopy(DEFAULTS["chromoformer"])

PRESETS = {
    "default": {},
    # Lee, Yang & Kim 2022: AdamW 3e-5, StepLR 0.87/epoch, batch 64, drop_last,
    # 9 epochs run, the last one kept, no validation split. AttentiveChrome and
    # DeepChrome: their published optimisers.
    "official": {
        "chromoformer": {"training": {"lr": 3e-5, "epochs": 9, "val_fraction": 0.0, "select": "last", "patience": None}},
        "chromoformer-nohic": {"training": {"lr": 3e-5, "epochs": 9, "val_fraction": 0.0, "select": "last", "patience": None}},
        "attentivechrome": {},
        "deepchrome": {"training": {"optimizer": "sgd", "lr": 1e-3}},
    },
    # Small and quick, for CPU smoke runs and the pipeline's test profile.
    "tiny": {
        "chromoformer": {
            "model": {"d_emb": 32, "d_head": 32, "embed": {"d_model": 32, "d_ff": 32}, "pairwise": {"n_layers": 1, "d_model": 32, "d_ff": 64}, "regulation": {"n_layers": 2, "n_heads": 4, "d_model": 64, "d_ff": 64}},
            "training": {"lr": 1e-3, "epochs": 8, "batch_size": 32},
        },
        "attentivechrome": {"model": {"bin_hidden": 16, "mark_hidden": 8}, "training": {"lr": 3e-3, "epochs": 8, "batch_size": 32}},
        "deepchrome": {"model": {"filters": 16}, "training": {"lr": 1e-3, "epochs": 8, "batch_size": 32}},
    },
}
PRESETS["tiny"]["chromoformer-nohic"] = copy.deepcopy(PRESETS["tiny"]["chromoformer"])


def resolve_config(model: str, config: str | None = None, epochs: int | None = None, batch_size: int | None = None) -> dict:
    """The full configuration for ``model`` from a preset name or YAML file plus CLI overrides."""
    if model not in DEFAULTS:
        raise ChromoflowError(f"unknown model {model!r}; choose one of {', '.join(DEFAULTS)}")
    cfg = DEFAULTS[model]
    name = config or "default"
    if name in PRESETS:
        cfg = merge(cfg, PRESETS[name].get(model, {}))
    else:
        path = Path(name)
        if not path.is_file():
            raise ChromoflowError(f"--config {name}: neither a preset ({', '.join(PRESETS)}) nor an existing YAML file")
        try:
            user = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ChromoflowError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(user, dict) or set(user) - {"preset", "model", "training"}:
            raise ChromoflowError(f"{path}: expected top-level keys preset, model and/or training")
        base = user.get("preset", "default")
        if base not in PRESETS:
            raise ChromoflowError(f"{path}: unknown preset {base!r} ({', '.join(PRESETS)})")
        cfg = merge(merge(cfg, PRESETS[base].get(model, {})), {k: v for k, v in user.items() if k != "preset"})
        unknown = set(cfg["training"]) - set(_BASE_TRAINING)
        if unknown:
            raise ChromoflowError(f"{path}: unknown training option(s) {', '.join(sorted(unknown))}")
    if epochs is not None:
        cfg["training"]["epochs"] = epochs
    if batch_size is not None:
        cfg["training"]["batch_size"] = batch_size
    t = cfg["training"]
    if t["optimizer"] not in ("adamw", "adam", "sgd"):
        raise ChromoflowError(f"training.optimizer {t['optimizer']!r}: expected adamw, adam or sgd")
    if t["select"] not in ("best", "last"):
        raise ChromoflowError(f"training.select {t['select']!r}: expected best or last")
    if t["select"] == "best" and not t["val_fraction"]:
        raise ChromoflowError("training.select best needs a validation split (val_fraction > 0)")
    return cfg
