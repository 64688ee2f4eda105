"""Numpy batches from :class:`~chromoflow.data.GeneDataset` to device tensors."""

from __future__ import annotations

import numpy as np
import torch

_INT_KEYS = {"index", "pcre_length", "label", "strand", "pcre_slots", "pcre_bin_slot", "pcre_bin_pos"}


def to_tensors(batch: dict, device: torch.device | str = "cpu") -> dict:
    """Same structure, numpy arrays replaced by tensors on ``device`` (int64 or float32)."""
    non_blocking = torch.device(device).type == "cuda"

    def convert(key, value):
        if isinstance(value, dict):
            return {k: convert(key, v) for k, v in value.items()}
        arr = np.ascontiguousarray(value)
        t = torch.from_numpy(arr.astype(np.int64 if key in _INT_KEYS else np.float32, copy=False))
        if non_blocking:
            t = t.pin_memory()
        return t.to(device, non_blocking=non_blocking)

    return {k: convert(k, v) for k, v in batch.items()}
