"""Numpy batches from :class:`~chromoflow.data.GeneDataset` to device tensors."""

from __future__ import annotations

import numpy as np
import torch

_INT_KEYS = {"index", "pcre_length", "label", "strand", "pcre_slots", "pcre_bin_slot", "pcre_bin_pos", "promoter_index", "pcre_bin_source"}


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


class Resident:
    """A dataset's feature arrays kept on the training device; batches are gathered there.

    Only the small index arrays of a batch (``GeneDataset.batch(...,
    features=False)``) cross from the host each step; promoter bins and pCRE
    bins are read from the device copies (about 0.5 GB for 19,000 genes).
    """

    def __init__(self, ds, device, bin_sizes):
        self.promoter = {b: torch.from_numpy(ds.promoter[b]).to(device) for b in bin_sizes}
        self.features = {b: torch.from_numpy(ds.pcre_features[b]).to(device) for b in bin_sizes}

    def complete(self, batch: dict) -> dict:
        """A device batch of indices -> the model's batch, features gathered on the device."""
        out = {k: v for k, v in batch.items() if k not in ("promoter_index", "pcre_bin_source")}
        idx = batch["promoter_index"]
        out["promoter"] = {b: self.promoter[b].index_select(0, idx) for b in self.promoter}
        out["pcre_bins"] = {b: self.features[b].index_select(0, src) for b, src in batch["pcre_bin_source"].items()}
        return out

    @staticmethod
    def fits(ds, device) -> bool:
        """Whether the arrays take under a quarter of the device's free memory (CUDA only)."""
        if device.type != "cuda":
            return False
        size = sum(x.nbytes for x in ds.promoter.values()) + sum(x.nbytes for x in ds.pcre_features.values())
        free, _ = torch.cuda.mem_get_info(device)
        return size < free / 4
