"""Model files: chromoflow's own, and the official Chromoformer checkpoints (Figshare).

Everything is read with ``torch.load(weights_only=True)``: tensors and plain
containers only, never arbitrary pickled code. Official checkpoints also hold
numpy arrays (``val_score``/``val_label``); the numpy array constructors are
allowed explicitly for those.

chromoflow model file (``model.pt``)::

    format: "chromoflow-model", format_version, chromoflow_version
    model: name, task, model_config, config (the resolved training config)
    state_dict
    dataset: sample, marks, bin_sizes, window, max_pcres (of the training data)
    reference: the same for the reference sample (fold-change), else None
    fold, seed, selected_epoch, metrics
    trained_genes: gene_ids the model was trained on (training + validation
        genes); every other gene is held out for it, in any sample
"""

from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from .._io import atomic_output
from ..errors import ChromoflowError
from .chromoformer import PUBLISHED
from .registry import build_model

FORMAT = "chromoflow-model"
FORMAT_VERSION = 1
OFFICIAL_MARKS = ["H3K4me1", "H3K4me3", "H3K9me3", "H3K27me3", "H3K36me3", "H3K27ac", "H3K9ac"]
_LEGACY = [
    (re.compile(r"^embed(\d+)\."), r"embed.\1."),
    (re.compile(r"^pw_int(\d+)\."), r"pairwise_interaction.\1."),
    (re.compile(r"^reg(\d+)\."), r"regulation.\1."),
]


def plain(obj):
    """JSON-able Python values (numpy scalars -> float/int) so weights_only loading accepts them."""
    return json.loads(json.dumps(obj, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def save_torch(obj, path: str | os.PathLike) -> None:
    """``torch.save`` atomically; a failed write (e.g. a full disk) is one clear error, never a truncated file."""
    with atomic_output(path) as tmp:
        try:
            torch.save(obj, tmp)
        except RuntimeError as exc:
            raise ChromoflowError(
                f"{path}: could not write it ({' '.join(str(exc).split())[:120]}); is the disk full?"
            ) from None


def _numpy_globals():
    """numpy objects an official checkpoint pickles, under the names numpy 1 and 2 give them."""
    reconstruct = np.ndarray.__reduce__(np.zeros(1))[0]
    scalar = np.float64(1.0).__reduce__()[0]
    allowed = [np.ndarray, np.dtype, reconstruct, scalar]
    allowed += [type(np.dtype(t)) for t in (np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_, np.uint8)]
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed += [(reconstruct, f"{mod}._reconstruct"), (scalar, f"{mod}.scalar")]
    return allowed


def load_file(path: str | os.PathLike) -> dict:
    """The checkpoint dict at ``path`` (safe loading), with clear errors."""
    path = Path(path)
    if not path.is_file():
        raise ChromoflowError(f"{path}: checkpoint file does not exist")
    if tuple(int(x) for x in re.findall(r"\d+", torch.__version__)[:2]) < (2, 6):
        raise ChromoflowError(
            f"torch {torch.__version__} lets a checkpoint run code despite weights_only=True (CVE-2025-32434); upgrade to torch >= 2.6 before loading {path}"
        )
    if path.stat().st_size == 0:
        raise ChromoflowError(f"{path}: empty file, not a PyTorch checkpoint")
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            if "Unsupported global" not in str(exc):
                raise
            with torch.serialization.safe_globals(_numpy_globals()):
                obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" in str(exc) or "GLOBAL" in str(exc):
            what = re.search(r"GLOBAL ([\w.]+)", str(exc))
            raise ChromoflowError(
                f"{path}: refused to load: it holds objects other than tensors and plain data{f' ({what.group(1)})' if what else ''}; only load checkpoints you trust, re-saved as plain weights"
            ) from None
        raise ChromoflowError(f"{path}: not a PyTorch checkpoint (damaged, truncated or another format)") from None
    except Exception as exc:  # noqa: BLE001 - torch raises many types for damaged files
        raise ChromoflowError(
            f"{path}: not a PyTorch checkpoint, or a truncated one ({type(exc).__name__}: {' '.join(str(exc).split())[:100]})"
        ) from None
    if not isinstance(obj, dict):
        raise ChromoflowError(f"{path}: expected a checkpoint dict, found {type(obj).__name__}")
    return obj


def official_state(state: dict, path) -> dict:
    """An official state dict under the current key names (legacy ``embed2000``/``pw_int2000``/``reg2000`` renamed)."""
    keys = list(state)
    if any(k.startswith(("embed2000_a", "transformer2000", "lin_proj_c")) for k in keys):
        raise ChromoflowError(
            f"{path}: an early Chromoformer regressor layout (embed2000_a/transformer2000) that no released model class can load; use a checkpoint from figshare v4"
        )
    out = {}
    for k, v in state.items():
        for pattern, repl in _LEGACY:
            k = pattern.sub(repl, k)
        out[k] = v
    return out


def _looks_official(state) -> bool:
    return isinstance(state, dict) and any(
        re.match(r"^(embed\.|embed\d|pw_int\d|pairwise_interaction\.)", str(k)) for k in state
    )


def load_model(path: str | os.PathLike):
    """(model in eval mode on CPU, info dict) from a chromoflow or an official Chromoformer checkpoint.

    ``info``: name, task, marks, bin_sizes, window, source ("chromoflow" or "official"), and
    for chromoflow files the rest of the file's metadata.
    """
    ck = load_file(path)
    if ck.get("format") == FORMAT:
        if int(ck.get("format_version", 0)) > FORMAT_VERSION:
            raise ChromoflowError(
                f"{path}: model format {ck['format_version']} is newer than this chromoflow; upgrade it"
            )
        missing = [k for k in ("model", "task", "model_config", "state_dict", "dataset") if k not in ck]
        if (
            missing
            or not isinstance(ck.get("model_config"), dict)
            or "n_feats" not in ck["model_config"]
            or not isinstance(ck.get("dataset"), dict)
            or "marks" not in ck["dataset"]
        ):
            raise ChromoflowError(
                f"{path}: a damaged chromoflow model file (missing {', '.join(missing) or 'model_config.n_feats or dataset.marks'}); train the model again"
            )
        mc = dict(ck["model_config"])
        n_feats = mc.pop("n_feats")
        mc.pop("n_out", None)
        mc.pop("use_pcres", None)
        try:
            model = build_model(ck["model"], n_feats, ck["task"], mc)
        except ChromoflowError as exc:
            raise ChromoflowError(f"{path}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise ChromoflowError(
                f"{path}: its model configuration does not build a {ck['model']!r} model ({' '.join(str(exc).split())[:150]}); train it again with this chromoflow"
            ) from None
        _load_state(model, ck["state_dict"], path)
        info = {k: v for k, v in ck.items() if k != "state_dict"}
        info.update(
            name=ck["model"],
            source="chromoflow",
            marks=ck["dataset"]["marks"],
            bin_sizes=ck["dataset"]["bin_sizes"],
            window=ck["dataset"]["window"],
        )
        return model.eval(), info
    state = ck.get("net", ck)
    if not _looks_official(state):
        raise ChromoflowError(
            f"{path}: neither a chromoflow model (no format={FORMAT!r}) nor an official Chromoformer checkpoint (no 'net' state dict)"
        )
    state = official_state(state, path)
    try:
        n_feats = state["embed.2000.lin_proj.weight"].shape[1]
        n_out = state["fc_head.2.weight"].shape[0]
    except KeyError as exc:
        raise ChromoflowError(f"{path}: official checkpoint lacks {exc.args[0]}") from None
    task = "classification" if n_out == 2 else "regression"
    model = build_model("chromoformer", n_feats, task, {})
    _load_state(model, state, path)
    info = {
        "name": "chromoformer",
        "task": task,
        "source": "official",
        "marks": OFFICIAL_MARKS[:n_feats],
        "bin_sizes": list(PUBLISHED["bin_sizes"]),
        "window": PUBLISHED["window"],
        "epoch": ck.get("epoch"),
        "reference": None,
    }
    return model.eval(), info


def _load_state(model, state, path) -> None:
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()
        raise ChromoflowError(f"{path}: weights do not fit the model ({' '.join(first[:2])[:200]})") from None


def model_file(
    model,
    name: str,
    task: str,
    config: dict,
    dataset_info: dict,
    reference_info,
    fold: int,
    seed: int,
    selected_epoch: int,
    metrics: dict,
    trained_genes: list[str],
) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "chromoflow_version": __version__,
        "model": name,
        "task": task,
        "model_config": plain(model.config),
        "config": plain(config),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "dataset": plain(dataset_info),
        "reference": plain(reference_info),
        "fold": int(fold),
        "seed": int(seed),
        "selected_epoch": int(selected_epoch),
        "metrics": plain(metrics),
        "trained_genes": list(trained_genes),
    }
