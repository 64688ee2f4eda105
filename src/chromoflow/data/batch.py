"""The model input of a batch of genes: :class:`PackedBatch`, and its copy kept on a device.

A batch holds only the real pCRE bins (no padding): each filled pCRE slot is
one entry of ``pcre_slots`` (``gene * P + slot``, gene-major, slots in rank
order), and each bin says which entry it belongs to and where it sits in the
padded row the official model would see (``pcre_bin_pos``). Every mask of the
official model follows from ``pcre_length``, so none is carried.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import torch

from .._arrays import expand_ranges
from .layout import left_pad, n_bins

Array = Any  # a numpy array on the host, a torch tensor on a device


def _floating(**kw):
    return field(metadata={"floating": True}, **kw)


def to_device(x, device, floating: bool):
    """``x`` (numpy array or tensor) as a float32 or int64 tensor on ``device`` (pinned, asynchronous copy to CUDA)."""
    device = torch.device(device)
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=torch.float32 if floating else torch.int64)
    t = torch.from_numpy(np.ascontiguousarray(x).astype(np.float32 if floating else np.int64, copy=False))
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)


@dataclass(frozen=True)
class PackedBatch:
    """Inputs of B genes with P pCRE slots, M marks, at bin sizes b (numpy on the host, tensors after :meth:`to`).

    ``index`` (B,) dataset rows; ``promoter`` {b: (B, S_b, M)} promoter bins,
    transcription direction; ``pcre_length`` (B, P) bp, 0 = empty slot;
    ``pcre_score`` (B, P) contact strength; ``pcre_slots`` (N,) the filled
    slots; per bin size ``pcre_bins`` {b: (n_b, M)}, ``pcre_bin_slot``
    {b: (n_b,)} (entry of ``pcre_slots``, 0..N-1, non-decreasing) and
    ``pcre_bin_pos`` {b: (n_b,)} (position in the padded row of S_b bins);
    ``label``, ``target``, ``strand`` (B,) from the dataset.

    A batch whose feature values are kept elsewhere (:class:`Resident`) has
    empty ``promoter``/``pcre_bins`` and says where to find them instead:
    ``promoter_source`` (B,) and ``pcre_bin_source`` {b: (n_b,)}, rows of the
    dataset's ``promoter[b]`` and ``pcre_features[b]``.
    """

    index: Array
    promoter: dict = _floating()
    pcre_length: Array = None
    pcre_score: Array = _floating(default=None)
    pcre_slots: Array = None
    pcre_bins: dict = _floating(default_factory=dict)
    pcre_bin_slot: dict = field(default_factory=dict)
    pcre_bin_pos: dict = field(default_factory=dict)
    label: Array = None
    target: Array = _floating(default=None)
    strand: Array = None
    promoter_source: Array = None
    pcre_bin_source: dict | None = None

    # -------------------------------------------------------------- shape
    def __len__(self) -> int:
        return len(self.index)

    @property
    def n_slots(self) -> int:
        """P, the pCRE slots per gene."""
        return int(self.pcre_length.shape[1])

    def bin_gene(self, b: int):
        """(n_b,) the batch row of each pCRE bin at bin size ``b``."""
        return self.pcre_slots[self.pcre_bin_slot[b]] // self.n_slots

    def bin_rank(self, b: int):
        """(n_b,) the slot (0 = best-ranked pCRE) of each pCRE bin at bin size ``b``."""
        return self.pcre_slots[self.pcre_bin_slot[b]] % self.n_slots

    # ------------------------------------------------------------ devices
    def to(self, device) -> PackedBatch:
        """The same batch as tensors on ``device`` (float32 features, scores and targets; int64 everything else)."""

        def move(value, floating):
            if value is None:
                return None
            if isinstance(value, dict):
                return {k: to_device(v, device, floating) for k, v in value.items()}
            return to_device(value, device, floating)

        return PackedBatch(
            **{f.name: move(getattr(self, f.name), f.metadata.get("floating", False)) for f in fields(self)}
        )

    # ---------------------------------------------------- new batches (host)
    def select(self, rows) -> PackedBatch:
        """The batch whose gene k is this batch's gene ``rows[k]`` (rows may repeat)."""
        rows = np.asarray(rows, np.int64)
        P = self.n_slots
        count = np.bincount(self.pcre_slots // P, minlength=len(self))
        first = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
        entries = expand_ranges(first[rows], count[rows])  # the slot entries of each selected gene, in order
        owner = np.repeat(np.arange(len(rows)), count[rows])
        return self._with_slot_entries(entries, owner * P + self.pcre_slots[entries] % P, gene_rows=rows)

    def repeat(self, n: int) -> PackedBatch:
        """Each gene ``n`` times in a row."""
        return self.select(np.repeat(np.arange(len(self)), int(n)))

    def drop_pcre(self, slot) -> PackedBatch:
        """The batch with pCRE slot ``slot`` emptied (an int for every gene, or (B,) per gene; -1 = none)."""
        slot = np.broadcast_to(np.asarray(slot, np.int64), (len(self),))
        P = self.n_slots
        keep = self.pcre_slots % P != slot[self.pcre_slots // P]
        gone = slot >= 0
        length, score = self.pcre_length.copy(), self.pcre_score.copy()
        length[gone, slot[gone]] = 0
        score[gone, slot[gone]] = 0
        entries = np.flatnonzero(keep)
        return replace(self._with_slot_entries(entries, self.pcre_slots[entries]), pcre_length=length, pcre_score=score)

    def _with_slot_entries(self, entries, new_slots, gene_rows=None) -> PackedBatch:
        """A batch holding the slot entries ``entries`` (each with all its bins), renumbered ``new_slots``;
        ``gene_rows`` also selects the per-gene fields."""
        bins, bin_slot, bin_pos, bin_source = {}, {}, {}, {} if self.pcre_bin_source is not None else None
        for b in self.pcre_bin_slot:
            nb = np.bincount(self.pcre_bin_slot[b], minlength=len(self.pcre_slots))
            start = np.concatenate([[0], np.cumsum(nb)[:-1]]).astype(np.int64)
            src = expand_ranges(start[entries], nb[entries])
            bin_slot[b] = np.repeat(np.arange(len(entries)), nb[entries])
            bin_pos[b] = self.pcre_bin_pos[b][src]
            if b in self.pcre_bins:
                bins[b] = self.pcre_bins[b][src]
            if bin_source is not None:
                bin_source[b] = self.pcre_bin_source[b][src]
        per_gene = {}
        if gene_rows is not None:
            pick = lambda x: None if x is None else x[gene_rows]  # noqa: E731
            per_gene = {
                "index": self.index[gene_rows],
                "promoter": {b: x[gene_rows] for b, x in self.promoter.items()},
                "pcre_length": self.pcre_length[gene_rows],
                "pcre_score": self.pcre_score[gene_rows],
                "label": pick(self.label),
                "target": pick(self.target),
                "strand": pick(self.strand),
                "promoter_source": pick(self.promoter_source),
            }
        return replace(
            self,
            pcre_slots=np.asarray(new_slots, np.int64),
            pcre_bins=bins,
            pcre_bin_slot=bin_slot,
            pcre_bin_pos=bin_pos,
            pcre_bin_source=bin_source,
            **per_gene,
        )

    # -------------------------------------------------------------- dense
    def dense_pcres(self) -> dict:
        """{b: (B, P, S_b, M)} every pCRE centred in its slot with zero padding, as the official loader builds them."""
        out = {}
        B, P = self.pcre_length.shape
        for b, x in self.pcre_bins.items():
            S = self.promoter[b].shape[1]
            dense = np.zeros((B * P * S, x.shape[1]), np.float32)
            dense[self.pcre_slots[self.pcre_bin_slot[b]] * S + self.pcre_bin_pos[b]] = x
            out[b] = dense.reshape(B, P, S, x.shape[1])
        return out

    @classmethod
    def from_dense(
        cls, promoter: dict, pcre_length, pcre_score, pcre: dict, index=None, label=None, target=None, strand=None
    ) -> PackedBatch:
        """A batch from padded inputs ({b: (B, P, S_b, M)} pCRE bins, e.g. the official loader's): only each filled
        slot's bins, located by the pCRE lengths, are kept; what is in the padding is ignored."""
        length = np.asarray(pcre_length)
        B, P = length.shape
        flat = np.flatnonzero(length.ravel() > 0)
        bins, bin_slot, bin_pos = {}, {}, {}
        for b, dense in pcre.items():
            S, M = dense.shape[2], dense.shape[3]
            n = n_bins(length.ravel()[flat], b)
            pos = expand_ranges(left_pad(n, S), n)
            bins[b] = np.asarray(dense).reshape(B * P, S, M)[np.repeat(flat, n), pos]
            bin_slot[b] = np.repeat(np.arange(len(flat)), n)
            bin_pos[b] = pos
        index = np.arange(B) if index is None else index
        return cls(
            index=index,
            promoter=promoter,
            pcre_length=length,
            pcre_score=np.asarray(pcre_score),
            pcre_slots=flat,
            pcre_bins=bins,
            pcre_bin_slot=bin_slot,
            pcre_bin_pos=bin_pos,
            label=label,
            target=target,
            strand=strand,
        )


class Resident:
    """A dataset's feature arrays kept on the training device; batches are gathered there.

    Only the small index arrays of a batch (``GeneDataset.batch(...,
    features=False)``) cross from the host each step; promoter bins and pCRE
    bins are read from the device copies (about 0.5 GB for 19,000 genes).
    """

    def __init__(self, ds, device, bin_sizes):
        self.promoter = {b: torch.from_numpy(ds.promoter[b]).to(device) for b in bin_sizes}
        self.features = {b: torch.from_numpy(ds.pcre_features[b]).to(device) for b in bin_sizes}

    def complete(self, batch: PackedBatch) -> PackedBatch:
        """A device batch of indices -> the model's batch, features gathered on the device."""
        promoter = {b: self.promoter[b].index_select(0, batch.promoter_source) for b in self.promoter}
        bins = {b: self.features[b].index_select(0, src) for b, src in batch.pcre_bin_source.items()}
        return replace(batch, promoter=promoter, pcre_bins=bins, promoter_source=None, pcre_bin_source=None)

    @staticmethod
    def fits(ds, device) -> bool:
        """Whether the arrays take under a quarter of the device's free memory (CUDA only)."""
        if device.type != "cuda":
            return False
        size = sum(x.nbytes for x in ds.promoter.values()) + sum(x.nbytes for x in ds.pcre_features.values())
        free, _ = torch.cuda.mem_get_info(device)
        return size < free / 4
