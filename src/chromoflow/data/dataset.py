"""The per-sample HDF5 dataset: layout, and a fast in-memory reader.

Layout (``format = "chromoflow-dataset"``, ``format_version = 1``)::

    /genes/gene_id, chrom      str     (G,)
    /genes/tss                 int64   (G,)  0-based TSS
    /genes/strand              int8    (G,)  +1 / -1
    /genes/fold                int32   (G,)  1..K, 0 = in no fold
    /genes/expression          float64 (G,)  NaN = not in the expression table
    /genes/label               int8    (G,)  1 = expression >= median, 0 below, -1 unknown
    /genes/target              float32 (G,)  log2(expression + 1), NaN unknown
    /genes/pcre_offset         int64   (G,)  first row of the gene's pCREs in /pcres
    /genes/pcre_count          int32   (G,)  number of pCREs (0..max_pcres)
    /promoter/<b>              float32 (G, window/b, M)   b = 2000, 500, 100
    /pcres/chrom               str     (P,)  rows grouped by gene, best rank first
    /pcres/start, end          int64   (P,)
    /pcres/score               float32 (P,)  interaction score
    /pcres/gene_index          int32   (P,)
    /pcres/features/<b>        float32 (sum_p ceil(len_p / b), M)   pCRE bins, unpadded

Feature values are ``ln(1 + mean per-base depth)`` per bin. Promoter rows
cover ``[tss - window/2, tss + window/2)`` and are already reversed for ``-``
strand genes (transcription runs left to right). pCRE bins are stored
unpadded, in reference orientation; their padding (centred, left pad
``ceil(free/2)``) and every attention mask follow from the pCRE lengths, so no
mask is stored. Root attributes: ``sample``, ``marks``, ``bin_sizes``,
``window``, ``max_pcres``, ``folds``, ``n_folds``, ``label_threshold``,
``sources`` (JSON), ``chromoflow_version``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import h5py
import numpy as np
import pandas as pd

from .._arrays import expand_ranges
from ..errors import ChromoflowError
from .layout import left_pad, n_bins

if TYPE_CHECKING:  # torch is imported only where batches are made: `chromoflow dataset` does not need it
    from .batch import PackedBatch

FORMAT = "chromoflow-dataset"
FORMAT_VERSION = 1


def _strings(dset) -> np.ndarray:
    return np.asarray(dset.asstr()[()], dtype=object)


@dataclass
class GeneDataset:
    """A whole dataset in memory, served as padded batches.

    >>> ds = GeneDataset.load("E003.h5")
    >>> batch = ds.batch(np.arange(64))
    >>> batch.promoter[100].shape     # (64, 400, 7)
    """

    path: Path
    attrs: dict
    genes: pd.DataFrame
    pcres: pd.DataFrame
    promoter: dict[int, np.ndarray]
    pcre_features: dict[int, np.ndarray]
    pcre_bin_offset: dict[int, np.ndarray] = field(init=False)

    def __post_init__(self):
        lengths = (self.pcres["end"] - self.pcres["start"]).to_numpy()
        self.pcre_bin_offset = {}
        for b in self.bin_sizes:
            counts = n_bins(lengths, b)
            offset = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            if offset[-1] != len(self.pcre_features[b]):
                raise ChromoflowError(
                    f"{self.path}: pCRE features at {b} bp do not match the pCRE lengths; the file is corrupt, rebuild it with 'chromoflow dataset'"
                )
            self.pcre_bin_offset[b] = offset
        self._pcre_offset = self.genes["pcre_offset"].to_numpy(np.int64)
        self._pcre_count = self.genes["pcre_count"].to_numpy(np.int64)
        self._pcre_length = lengths.astype(np.int64)
        self._pcre_score = self.pcres["score"].to_numpy(np.float32)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | os.PathLike) -> GeneDataset:
        path = Path(path)
        if not path.is_file():
            raise ChromoflowError(f"{path}: dataset file does not exist")
        try:
            h5 = h5py.File(path, "r")
        except OSError:
            raise ChromoflowError(
                f"{path}: not a readable HDF5 file (damaged, truncated or another format); build datasets with 'chromoflow dataset'"
            ) from None
        try:
            with h5:
                return cls._read(path, h5)
        except (KeyError, OSError, ValueError, TypeError, IndexError) as exc:
            raise ChromoflowError(
                f"{path}: damaged dataset ({type(exc).__name__}: {' '.join(str(exc).split())[:120]}); rebuild it with 'chromoflow dataset'"
            ) from None

    @classmethod
    def _read(cls, path: Path, h5) -> GeneDataset:
        attrs = {k: _attr(v) for k, v in h5.attrs.items()}
        if attrs.get("format") != FORMAT:
            raise ChromoflowError(f"{path}: not a chromoflow dataset (no format={FORMAT!r} attribute)")
        if int(attrs.get("format_version", 0)) > FORMAT_VERSION:
            raise ChromoflowError(
                f"{path}: dataset format version {attrs['format_version']} is newer than this chromoflow understands ({FORMAT_VERSION}); upgrade chromoflow"
            )
        g = h5["genes"]
        n = len(g["gene_id"])
        genes = pd.DataFrame(
            {
                "gene_id": _strings(g["gene_id"]),
                "chrom": _strings(g["chrom"]),
                "tss": g["tss"][()],
                "strand": np.where(g["strand"][()] > 0, "+", "-"),
                "fold": g["fold"][()].astype(np.int64),
                "expression": g["expression"][()],
                "label": g["label"][()].astype(np.int64),
                "target": g["target"][()],
                "pcre_offset": g["pcre_offset"][()],
                "pcre_count": g["pcre_count"][()].astype(np.int64),
                "gene_name": _strings(g["gene_name"]) if "gene_name" in g else np.full(n, "", dtype=object),
            }
        )
        p = h5["pcres"]
        pcres = pd.DataFrame(
            {
                "gene_index": p["gene_index"][()].astype(np.int64),
                "chrom": _strings(p["chrom"]),
                "start": p["start"][()],
                "end": p["end"][()],
                "score": p["score"][()],
            }
        )
        bins = [int(b) for b in attrs["bin_sizes"]]
        promoter = {b: h5[f"promoter/{b}"][()] for b in bins}
        features = {b: h5[f"pcres/features/{b}"][()] for b in bins}
        _check_consistent(path, attrs, genes, pcres, promoter, features)
        return cls(path, attrs, genes, pcres, promoter, features)

    # --------------------------------------------------------------- properties
    @property
    def sample(self) -> str:
        return str(self.attrs["sample"])

    @property
    def marks(self) -> list[str]:
        return list(self.attrs["marks"])

    @property
    def bin_sizes(self) -> list[int]:
        return [int(b) for b in self.attrs["bin_sizes"]]

    @property
    def window(self) -> int:
        return int(self.attrs["window"])

    @property
    def max_pcres(self) -> int:
        return int(self.attrs["max_pcres"])

    def select_marks(self, order) -> None:
        """Keep/reorder channels: ``order`` lists mark indices (e.g. to match a model's mark order)."""
        order = [int(i) for i in order]
        self.promoter = {b: np.ascontiguousarray(x[..., order]) for b, x in self.promoter.items()}
        self.pcre_features = {b: np.ascontiguousarray(x[:, order]) for b, x in self.pcre_features.items()}
        self.attrs["marks"] = [self.marks[i] for i in order]

    def slots(self, bin_size: int) -> int:
        return self.window // bin_size

    def __len__(self) -> int:
        return len(self.genes)

    # ------------------------------------------------------------------ batches
    def pcre_slots(self, idx: np.ndarray):
        """pCRE row per (gene, slot), -1 for an empty slot: shape (B, max_pcres)."""
        slot = np.arange(self.max_pcres)
        rows = self._pcre_offset[idx, None] + slot
        return np.where(slot < self._pcre_count[idx, None], rows, -1)

    def batch(self, idx, pcres: bool = True, bin_sizes=None, features: bool = True) -> PackedBatch:
        """Model inputs for genes ``idx`` (numpy arrays; see :class:`~chromoflow.data.batch.PackedBatch`).

        ``bin_sizes`` limits the resolutions built; ``pcres=False`` leaves
        every slot empty (the no-Hi-C ablation). ``features=False`` leaves the
        feature values out and gives where to find them instead, for a copy
        of the arrays kept elsewhere (e.g. on a GPU).
        """
        from .batch import PackedBatch

        idx = np.asarray(idx, np.int64)
        sizes = self.bin_sizes if bin_sizes is None else [int(b) for b in bin_sizes]
        B, P = len(idx), self.max_pcres
        rows = self.pcre_slots(idx) if pcres else np.full((B, P), -1)
        filled = rows >= 0
        r = rows[filled]
        length = np.zeros((B, P), np.int64)
        length[filled] = self._pcre_length[r]
        score = np.zeros((B, P), np.float32)
        score[filled] = self._pcre_score[r]
        bins, bin_slot, bin_pos, bin_source = {}, {}, {}, {}
        for b in sizes:
            n = n_bins(self._pcre_length[r], b)
            src = expand_ranges(self.pcre_bin_offset[b][r], n)
            if features:
                bins[b] = self.pcre_features[b][src]
            else:
                bin_source[b] = src
            bin_slot[b] = np.repeat(np.arange(len(r)), n)
            bin_pos[b] = expand_ranges(left_pad(n, self.slots(b)), n)
        return PackedBatch(
            index=idx,
            promoter={b: self.promoter[b][idx] for b in sizes} if features else {},
            pcre_length=length,
            pcre_score=score,
            pcre_slots=np.flatnonzero(filled.ravel()),
            pcre_bins=bins,
            pcre_bin_slot=bin_slot,
            pcre_bin_pos=bin_pos,
            label=self.genes["label"].to_numpy()[idx],
            target=self.genes["target"].to_numpy(np.float32)[idx],
            strand=np.where(self.genes["strand"].to_numpy()[idx] == "+", 1, -1),
            promoter_source=None if features else idx,
            pcre_bin_source=None if features else bin_source,
        )


def pcre_counts(pcre_table: pd.DataFrame, n_genes: int) -> tuple[np.ndarray, np.ndarray]:
    """(pCREs per gene, first row per gene) of a pCRE table grouped by gene in gene order."""
    gi = pcre_table["gene_index"].to_numpy(np.int64)
    counts = np.bincount(gi, minlength=n_genes) if len(gi) else np.zeros(n_genes, np.int64)
    offset = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return counts, offset


def create_dataset_file(h5, attrs: dict, genes: pd.DataFrame, pcres: pd.DataFrame):
    """Write everything of the layout (module docstring) but the feature arrays into an open HDF5 file.

    ``attrs``: sample, marks, bin_sizes, window, max_pcres, folds, n_folds and any
    other root attributes; ``genes``: gene_id, chrom, tss, strand (+/-), fold,
    expression, label, target and optionally gene_name; ``pcres``: gene_index,
    chrom, start, end, score, grouped by gene in gene order, best first.
    Returns the empty ``/promoter/<b>`` and ``/pcres/features/<b>`` datasets
    for the caller to fill (all at once or chunk by chunk).
    """
    from .. import __version__

    str_dt = h5py.string_dtype("utf-8")
    G, M = len(genes), len(attrs["marks"])
    bin_sizes = [int(b) for b in attrs["bin_sizes"]]
    h5.attrs.update(
        {
            **{k: v for k, v in attrs.items() if k not in ("marks", "bin_sizes")},
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "chromoflow_version": __version__,
            "marks": np.array(list(attrs["marks"]), dtype=object),
            "bin_sizes": np.array(bin_sizes, np.int64),
        }
    )
    counts, offset = pcre_counts(pcres, G)

    def text(values):
        return np.array(list(values), dtype=object).astype(str_dt)

    g = h5.create_group("genes")
    g["gene_id"] = text(genes["gene_id"])
    g["chrom"] = text(genes["chrom"])
    g["gene_name"] = text(genes["gene_name"] if "gene_name" in genes else [""] * G)
    g["tss"] = genes["tss"].to_numpy(np.int64)
    g["strand"] = np.where(genes["strand"].to_numpy() == "+", 1, -1).astype(np.int8)
    g["fold"] = genes["fold"].to_numpy(np.int32)
    g["expression"] = genes["expression"].to_numpy(np.float64)
    g["label"] = genes["label"].to_numpy(np.int8)
    g["target"] = genes["target"].to_numpy(np.float32)
    g["pcre_offset"] = offset
    g["pcre_count"] = counts.astype(np.int32)
    p = h5.create_group("pcres")
    p["gene_index"] = pcres["gene_index"].to_numpy(np.int32)
    p["chrom"] = text(pcres["chrom"])
    p["start"] = pcres["start"].to_numpy(np.int64)
    p["end"] = pcres["end"].to_numpy(np.int64)
    p["score"] = pcres["score"].to_numpy(np.float32)
    lengths = (pcres["end"] - pcres["start"]).to_numpy()
    window = int(attrs["window"])
    promoter = {b: h5.create_dataset(f"promoter/{b}", (G, window // b, M), np.float32) for b in bin_sizes}
    features = {
        b: h5.create_dataset(f"pcres/features/{b}", (int(n_bins(lengths, b).sum()), M), np.float32) for b in bin_sizes
    }
    return promoter, features


def _check_consistent(path, attrs, genes, pcres, promoter, features) -> None:
    """Shapes and values a damaged or hand-edited file could get wrong, checked once at load."""
    G, M, P = len(genes), len(attrs["marks"]), len(pcres)

    def bad(problem):
        raise ChromoflowError(f"{path}: damaged dataset: {problem}; rebuild it with 'chromoflow dataset'")

    window = int(attrs["window"])
    for b, x in promoter.items():
        if x.shape != (G, window // b, M):
            bad(f"/promoter/{b} has shape {x.shape}, expected {(G, window // b, M)}")
        if not np.isfinite(x).all():
            bad(f"/promoter/{b} holds NaN or infinite values")
    for b, x in features.items():
        if x.ndim != 2 or x.shape[1] != M:
            bad(f"/pcres/features/{b} has shape {x.shape}, expected (bins, {M})")
        if not np.isfinite(x).all():
            bad(f"/pcres/features/{b} holds NaN or infinite values")
    count, offset = genes["pcre_count"].to_numpy(), genes["pcre_offset"].to_numpy()
    if (count < 0).any() or (count > int(attrs["max_pcres"])).any() or (offset < 0).any() or (offset + count > P).any():
        bad("pCRE counts/offsets point outside /pcres")
    if not np.isfinite(pcres["score"].to_numpy()).all():
        bad("pCRE scores hold NaN or infinite values")
    if ((pcres["end"] - pcres["start"]).to_numpy() <= 0).any():
        bad("a pCRE has end <= start")
    if (genes["fold"] < 0).any():
        bad("negative fold numbers")


def _attr(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray) and value.dtype.kind in "OSU":
        return [v.decode() if isinstance(v, bytes) else str(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
