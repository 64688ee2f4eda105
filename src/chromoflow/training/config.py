"""Training configurations: per-model defaults, named presets, YAML overrides, all type-checked.

A configuration has two sections::

    model:      # architecture hyper-parameters (merged over the model's defaults)
    training:
      optimizer: adamw | adam | sgd
      lr, weight_decay, momentum
      lr_decay: per-step decay lr / (1 + step * lr_decay) (torch7 optim.sgd's learningRateDecay; 0 = off)
      scheduler: step | none   (StepLR, step 1 epoch, factor gamma)
      gamma
      batch_size, epochs, drop_last
      grad_clip: null | max gradient norm
      val_fraction: share of the training genes held out for model selection (0: none)
      select: best | best-latest | last
              best: the best validation epoch (headline metric, validation loss breaking ties, earlier epoch on a full tie);
              best-latest: the last epoch whose validation headline metric is at least the best so far (AttentiveChrome's rule);
              last: the last epoch
      patience: epochs without validation improvement before stopping (null: never)
      min_validation: a validation split with fewer genes (or, for classification, fewer than 5 of a class)
              cannot rank epochs: keep the last epoch instead, with a warning (0: always use the split)
      shuffle: seeded | torch-loader
              seeded: chromoflow's per-epoch seeded permutation (resumable, independent of everything else);
              torch-loader: the order torch.utils.data.DataLoader(shuffle=True) draws from the global torch
              generator, continuing from model initialisation, as the original training scripts shuffle
              (each evaluation pass draws what a DataLoader iterator draws, too)
      fused: true: fused/foreach optimiser and gradient clipping kernels (fast); false: torch's default
              implementations, as the original scripts construct them
      track_heldout: also evaluate the held-out fold after every epoch (history.tsv), as the original scripts
              report it; it never chooses an epoch

:func:`resolve_config` builds both sections once, as frozen dataclasses: the
model's options as its class's ``config_class`` (e.g. ``ChromoformerConfig``
with its three ``StageConfig`` s), the training section as
:class:`TrainingConfig`, together a :class:`RunConfig`.

``--config`` takes a preset name (``default``, ``official``, ``tiny``) or a
YAML file; a file may start from a preset with ``preset: official``. Every
key is checked: an unknown or misspelled key, a value of the wrong type or
out of range is a one-line error naming the key (``training.epochs``).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml

from .._dicts import merge
from ..errors import ChromoflowError
from ..models.base import ModelConfig
from ..models.registry import MODELS


def _opt(default, allowed=None):
    """A training option: its default and what values it allows (choices, or (kind, low, high, low inclusive))."""
    return field(default=default, metadata={"allowed": allowed} if allowed else {})


@dataclass(frozen=True)
class TrainingConfig:
    """The training section (see the module docstring); built by :func:`resolve_config`, never changed."""

    optimizer: str = _opt("adamw", ("adamw", "adam", "sgd"))
    lr: float = _opt(1e-4, ("num", 0.0, None, False))
    weight_decay: float = _opt(0.01, ("num", 0.0, None, True))
    momentum: float = _opt(0.0, ("num", 0.0, 1.0, True))
    lr_decay: float = _opt(0.0, ("num", 0.0, None, True))
    scheduler: str = _opt("step", ("step", "none"))
    gamma: float = _opt(0.87, ("num", 0.0, 1.0, False))
    batch_size: int = _opt(64, ("int", 1, 1_000_000, True))
    epochs: int = _opt(10, ("int", 1, 100_000, True))
    drop_last: bool = _opt(True)
    grad_clip: float | None = _opt(None, ("num", 0.0, None, False))
    val_fraction: float = _opt(0.1, ("num", 0.0, 0.9, True))
    select: str = _opt("best", ("best", "best-latest", "last"))
    patience: int | None = _opt(3, ("int", 1, 100_000, True))
    min_validation: int = _opt(20, ("int", 0, 1_000_000, True))
    shuffle: str = _opt("seeded", ("seeded", "torch-loader"))
    fused: bool = _opt(True)
    track_heldout: bool = _opt(False)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RunConfig:
    """A model's whole configuration: its options (``model``, the model class's frozen ``config_class``) and
    ``training``."""

    model: ModelConfig
    training: TrainingConfig

    def as_dict(self) -> dict:
        """The plain form stored in checkpoints and metrics (``{"model": ..., "training": ...}``)."""
        return {"model": self.model.as_dict(), "training": self.training.as_dict()}


_BASE_TRAINING = TrainingConfig().as_dict()

# Our default protocol: the published optimiser family with an inner
# validation split (10 % of the training genes) choosing the best epoch and
# stopping early.
DEFAULTS = {
    "chromoformer": {"model": MODELS["chromoformer"].config_class().as_dict(), "training": dict(_BASE_TRAINING)},
    "attentivechrome": {
        "model": MODELS["attentivechrome"].config_class().as_dict(),
        "training": dict(
            _BASE_TRAINING,
            optimizer="adam",
            lr=2e-4,
            weight_decay=0.0,
            scheduler="none",
            batch_size=16,
            epochs=30,
            grad_clip=1.0,
            patience=5,
        ),
    },
    "deepchrome": {
        "model": MODELS["deepchrome"].config_class().as_dict(),
        "training": dict(
            _BASE_TRAINING, optimizer="adam", lr=1e-3, weight_decay=0.0, scheduler="none", epochs=30, patience=5
        ),
    },
}
DEFAULTS["chromoformer-nohic"] = copy.deepcopy(DEFAULTS["chromoformer"])

# What every original training script does that chromoflow's default does not: torch's default optimiser
# and clipping implementations, no early stopping, no small-validation fallback, the held-out fold
# evaluated (and reported) after every epoch.
_AS_PUBLISHED = {"fused": False, "patience": None, "min_validation": 0, "track_heldout": True}

PRESETS = {
    "default": {},
    # Each original training loop, end to end.
    # Chromoformer (Lee, Yang & Kim 2022, train.py): AdamW 3e-5, wd 0.01, StepLR
    # 0.87/epoch, batch 64, shuffled, drop_last, 9 epochs run (range(1, 10)), the
    # last one kept, no validation split; the held-out fold is evaluated every epoch.
    # AttentiveChrome (QData v2PyTorch train.py): Adam 2e-4, batch 16 with the
    # partial last batch kept, DataLoader(shuffle=True), gradient-norm clip 1, all 30
    # epochs run, the last epoch whose validation AUC is at least the best so far
    # kept; it reports the test AUC at that epoch.
    # DeepChrome (torch7 doall.lua/4_train.lua): plain SGD, lr 1e-3 decayed by 1e-7
    # per step, no momentum, batch 1 ("pure stochastic"), `while i < 100` = 99
    # epochs always run, the last model kept, the test set scored every epoch.
    "official": {
        "chromoformer": {"training": {**_AS_PUBLISHED, "lr": 3e-5, "epochs": 9, "val_fraction": 0.0, "select": "last"}},
        "chromoformer-nohic": {
            "training": {**_AS_PUBLISHED, "lr": 3e-5, "epochs": 9, "val_fraction": 0.0, "select": "last"}
        },
        "attentivechrome": {
            "training": {**_AS_PUBLISHED, "drop_last": False, "select": "best-latest", "shuffle": "torch-loader"}
        },
        "deepchrome": {
            "training": {
                **_AS_PUBLISHED,
                "optimizer": "sgd",
                "lr": 1e-3,
                "lr_decay": 1e-7,
                "momentum": 0.0,
                "batch_size": 1,
                "drop_last": False,
                "epochs": 99,
                "val_fraction": 0.0,
                "select": "last",
            }
        },
    },
    # Small and quick, for CPU smoke runs and the pipeline's test profile.
    "tiny": {
        "chromoformer": {
            "model": {
                "d_emb": 32,
                "d_head": 32,
                "embed": {"d_model": 32, "d_ff": 32},
                "pairwise": {"n_layers": 1, "d_model": 32, "d_ff": 64},
                "regulation": {"n_layers": 2, "n_heads": 4, "d_model": 64, "d_ff": 64},
            },
            "training": {"lr": 1e-3, "epochs": 8, "batch_size": 32},
        },
        "attentivechrome": {
            "model": {"bin_hidden": 16, "mark_hidden": 8},
            "training": {"lr": 3e-3, "epochs": 8, "batch_size": 32},
        },
        "deepchrome": {"model": {"filters": 16}, "training": {"lr": 1e-3, "epochs": 8, "batch_size": 32}},
    },
}
PRESETS["tiny"]["chromoformer-nohic"] = copy.deepcopy(PRESETS["tiny"]["chromoformer"])

# Allowed values beyond the type of the default: (kind, low, high, low_inclusive) or a tuple of choices.
_RANGES = {f"training.{f.name}": f.metadata["allowed"] for f in fields(TrainingConfig) if "allowed" in f.metadata}
_RANGES["model.dropout"] = ("num", 0.0, 1.0, True)
_NULLABLE = {"training.grad_clip", "training.patience"}


def _type_name(value) -> str:
    return {
        bool: "true/false",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def check_config(cfg: dict, defaults: dict, source: str, prefix: str = "") -> None:
    """Every key of ``cfg`` must exist in ``defaults`` with a value of the same type and in range."""
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if key not in defaults:
            known = ", ".join(sorted(defaults))
            raise ChromoflowError(f"{source}: unknown option {name!r} (known here: {known})")
        want = defaults[key]
        if isinstance(want, dict):
            if not isinstance(value, dict):
                raise ChromoflowError(f"{source}: {name} must be a mapping of options, got {value!r}")
            check_config(value, want, source, f"{name}.")
            continue
        if value is None:
            if name in _NULLABLE:
                continue
            raise ChromoflowError(f"{source}: {name} must not be empty (null)")
        spec = _RANGES.get(name) or _RANGES.get(f"model.{key}" if name.startswith("model.") else "")
        if want is None and name in _NULLABLE:
            want = 1.0 if spec and spec[0] == "num" else 1
        ok = (
            isinstance(value, bool) == isinstance(want, bool)
            and (isinstance(value, type(want)) or (isinstance(want, float) and isinstance(value, int)))
            and not (isinstance(want, int) and not isinstance(want, bool) and isinstance(value, float))
        )
        if isinstance(want, list):
            ok = (
                isinstance(value, list)
                and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
                and len(value) > 0
            )
        if not ok:
            raise ChromoflowError(f"{source}: {name} must be {_type_name(want)}, got {value!r}")
        if isinstance(spec, tuple) and spec and spec[0] not in ("num", "int"):
            if value not in spec:
                raise ChromoflowError(f"{source}: {name} {value!r}: expected one of {', '.join(spec)}")
        elif spec:
            _, lo, hi, lo_inclusive = spec
            if (lo is not None and (value < lo or (value == lo and not lo_inclusive))) or (
                hi is not None and value > hi
            ):
                bound = f"{'>=' if lo_inclusive else '>'} {lo:g}" + (f" and <= {hi:g}" if hi is not None else "")
                raise ChromoflowError(f"{source}: {name} {value!r} out of range: must be {bound}")
        elif isinstance(value, int) and not isinstance(value, bool) and name.startswith("model.") and value < 1:
            raise ChromoflowError(f"{source}: {name} {value!r} out of range: must be >= 1")


def resolve_config(
    model: str,
    config: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    val_fold: int | None = None,
) -> RunConfig:
    """The full configuration for ``model`` from a preset name or YAML file plus CLI overrides, checked."""
    if model not in DEFAULTS:
        raise ChromoflowError(f"unknown model {model!r}; choose one of {', '.join(DEFAULTS)}")
    cfg = DEFAULTS[model]
    name = config or "default"
    source = f"--config {name}"
    if name in PRESETS:
        cfg = merge(cfg, PRESETS[name].get(model, {}))
    else:
        path = Path(name)
        if not path.is_file():
            raise ChromoflowError(f"--config {name}: neither a preset ({', '.join(PRESETS)}) nor an existing YAML file")
        source = str(path)
        try:
            user = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ChromoflowError(f"{path}: not valid YAML ({' '.join(str(exc).split())[:150]})") from None
        user = {} if user is None else user
        if not isinstance(user, dict):
            raise ChromoflowError(
                f"{path}: expected a mapping with keys preset, model and/or training, got {type(user).__name__}"
            )
        extra = set(user) - {"preset", "model", "training"}
        if extra:
            raise ChromoflowError(
                f"{path}: unknown top-level key(s) {', '.join(sorted(map(str, extra)))}; expected preset, model and/or training"
            )
        base = user.get("preset", "default")
        if base not in PRESETS:
            raise ChromoflowError(f"{path}: unknown preset {base!r} ({', '.join(PRESETS)})")
        rest = {k: v for k, v in user.items() if k != "preset"}
        for section in ("model", "training"):
            if section in rest and rest[section] is None:
                rest[section] = {}
        check_config(rest, DEFAULTS[model], source)
        cfg = merge(merge(cfg, PRESETS[base].get(model, {})), rest)
    overrides = {k: v for k, v in (("epochs", epochs), ("batch_size", batch_size)) if v is not None}
    cfg = merge(cfg, {"training": overrides})
    check_config(cfg, DEFAULTS[model], source if not overrides else f"{source} with --epochs/--batch-size")
    t = TrainingConfig(**cfg["training"])
    if t.select != "last" and not t.val_fraction and not val_fold:
        raise ChromoflowError(
            f"{source}: training.select {t.select} needs a validation split (training.val_fraction > 0, or --val-fold)"
        )
    return RunConfig(MODELS[model].config_class.from_dict(cfg["model"]), t)
