"""In-silico perturbation: predictions under edited histone profiles and contacts.

Every perturbation is a forward pass on an edited copy of a gene's input;
the edits of many genes are stacked into one batch (the unedited input of
each gene rides in the same batch, so an edit that changes nothing gives a
delta of exactly 0). Kinds, one row each in the effects table:

- ``knockout``: one pCRE removed, as if the contact were lost (models with pCREs);
- ``silence``: one mark scaled by ``factor`` (0 = silenced) at the promoter, or
  at one pCRE;
- ``regions``: user edits ``chrom, start, end, mark, factor`` applied wherever
  they overlap the gene's promoter window or pCREs, all at once;
- ``swap``: the promoter's, or one pCRE's, features replaced by another
  sample's (the same genes and intervals in its dataset).

Scaling acts on read depth, not on the stored feature: a feature
x = ln(1 + depth) becomes ln(1 + factor · depth) (raw-count datasets from
``import-binned --transform raw`` are scaled directly); a bin that a region
covers partly is scaled by 1 - overlap · (1 - factor).

Effects table (``effects.tsv``), one row per gene and perturbation::

    gene_id gene_name chrom tss strand fold kind region pcre_rank pcre_chrom pcre_start pcre_end
    mark factor baseline perturbed delta

``baseline``/``perturbed`` are the model's prediction (probability of the
high class, log2 expression or log2 fold change) and ``delta`` =
perturbed - baseline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from ..data.batch import PackedBatch
from ..data.dataset import GeneDataset
from ..data.layout import left_pad, n_bins
from ..errors import ChromoflowError
from ..log import warn
from ..models import objective
from ..progress import progress
from ..runtime import autocast

EFFECT_COLUMNS = [
    "gene_id",
    "gene_name",
    "chrom",
    "tss",
    "strand",
    "fold",
    "kind",
    "region",
    "pcre_rank",
    "pcre_chrom",
    "pcre_start",
    "pcre_end",
    "mark",
    "factor",
    "baseline",
    "perturbed",
    "delta",
]
KINDS = ("knockout", "silence", "regions", "swap")


@dataclass(frozen=True)
class Variant:
    """One input of a gene: its unedited input (``baseline``) or one edit of it."""

    kind: str  # baseline, or one of KINDS
    region: str = ""  # where it acts: promoter, pcre, all (every place a region edit overlaps), "" for the baseline
    slot: int = -1  # the pCRE slot it acts on (0 = the best-ranked pCRE), -1 for none
    mark: int = -1  # the mark it scales, -1 for none
    factor: float = float("nan")  # the depth factor, NaN where it does not apply


BASELINE = Variant("baseline", factor=1.0)


@dataclass(frozen=True)
class _Columns:
    """The variants of a batch of genes as arrays, one entry per variant, grouped by gene."""

    gene: np.ndarray  # local index of the variant's gene
    kind: np.ndarray
    region: np.ndarray
    slot: np.ndarray
    mark: np.ndarray
    factor: np.ndarray

    @classmethod
    def of(cls, per_gene: list[list[Variant]]) -> _Columns:
        flat = [(k, v) for k, vs in enumerate(per_gene) for v in vs]
        col = lambda f, dtype: np.array([f(k, v) for k, v in flat], dtype)  # noqa: E731
        return cls(
            gene=col(lambda k, v: k, np.int64),
            kind=col(lambda k, v: v.kind, object),
            region=col(lambda k, v: v.region, object),
            slot=col(lambda k, v: v.slot, np.int64),
            mark=col(lambda k, v: v.mark, np.int64),
            factor=col(lambda k, v: v.factor, np.float64),
        )

    def at(self, kind: str, region: str) -> np.ndarray:
        return (self.kind == kind) & (self.region == region)


@dataclass
class Plan:
    """What to perturb."""

    knockout: bool = True
    silence_marks: tuple[int, ...] = ()
    silence_at: tuple[str, ...] = ("promoter", "pcres")
    factor: float = 0.0
    regions: pd.DataFrame | None = None  # chrom, start, end, mark (index), factor
    swap: GeneDataset | None = None
    swap_at: tuple[str, ...] = ("promoter", "pcres")


def scale_depth(x: np.ndarray, factor, transform: str) -> np.ndarray:
    """Scale the read depth behind feature ``x`` by ``factor`` (see the module docstring).

    A factor of exactly 1 returns ``x`` bit for bit (the log/exp round trip
    would move it by a rounding step), so an edit that changes nothing gives
    a delta of exactly 0.
    """
    factor = np.broadcast_to(np.asarray(factor, np.float64), np.shape(x))
    scaled = x * factor if transform == "raw" else np.log1p(np.expm1(x.astype(np.float64)) * factor)
    return np.where(factor == 1.0, x, scaled).astype(x.dtype)


def read_regions(path, marks: list[str], chroms) -> pd.DataFrame:
    """``chrom, start, end, mark, factor`` (BED-like, tab-separated), checked."""
    from .._tables import column, read_rows

    _, rows, lines = read_rows(path, 5, "region edit", header="auto", int_cols=(1,))
    chrom = np.array([r[0] for r in rows], dtype=object)
    start, end = column(rows, lines, 1, path, "start"), column(rows, lines, 2, path, "end")
    factor = column(rows, lines, 4, path, "factor", kind=float)
    names = [r[3] for r in rows]
    lower = {m.lower(): i for i, m in enumerate(marks)}
    for k, (name, no) in enumerate(zip(names, lines)):
        if name.lower() not in lower:
            raise ChromoflowError(f"{path} line {no}: unknown mark {name!r}; the model reads {', '.join(marks)}")
        if not np.isfinite(factor[k]) or factor[k] < 0:
            raise ChromoflowError(f"{path} line {no}: factor must be a finite number >= 0, got {rows[k][4]!r}")
        if start[k] < 0 or end[k] <= start[k]:
            raise ChromoflowError(f"{path} line {no}: invalid interval {start[k]}-{end[k]} (need 0 <= start < end)")
        if chrom[k] not in chroms:
            raise ChromoflowError(
                f"{path} line {no}: chromosome {chrom[k]!r} is not in the dataset (it has e.g. {sorted(chroms)[0]!r})"
            )
    return pd.DataFrame(
        {"chrom": chrom, "start": start, "end": end, "mark": [lower[n.lower()] for n in names], "factor": factor}
    )


def _overlap_fraction(
    lo: np.ndarray, hi: np.ndarray, chrom: str, regions: pd.DataFrame
) -> list[tuple[np.ndarray, int, float]]:
    """For each region edit on ``chrom``: (fraction of each bin [lo, hi) it covers, mark, factor)."""
    out = []
    sub = regions[regions["chrom"] == chrom]
    for s, e, m, f in zip(sub["start"], sub["end"], sub["mark"], sub["factor"]):
        cover = np.clip(np.minimum(hi, e) - np.maximum(lo, s), 0, None) / np.maximum(hi - lo, 1)
        if cover.any():
            out.append((cover, int(m), float(f)))
    return out


class Perturber:
    """Builds edited batches for a model and runs them (see the module docstring)."""

    def __init__(
        self,
        model,
        info: dict,
        ds: GeneDataset,
        device,
        reference: GeneDataset | None = None,
        batch_size: int = 512,
        bf16: bool = False,
    ):
        self.model, self.info, self.ds, self.device, self.ref, self.bf16 = model, info, ds, device, reference, bf16
        self.task = info["task"]
        self.inputs = model.inputs
        self.has_pcres = self.inputs.pcres
        self.bin_sizes = list(self.inputs.bin_sizes)
        self.batch_size = batch_size
        self.transform = str(ds.attrs.get("transform", "log1p"))

    # --------------------------------------------------------------- variants
    def variants(self, plan: Plan, counts: np.ndarray) -> list[list[Variant]]:
        """Per gene (given its pCRE count): its variants, the unedited input first."""
        out = []
        for n in counts:
            v = [BASELINE]
            if plan.knockout and self.has_pcres:
                v += [Variant("knockout", "pcre", p, factor=0.0) for p in range(n)]
            for m in plan.silence_marks:
                if "promoter" in plan.silence_at:
                    v.append(Variant("silence", "promoter", mark=m, factor=plan.factor))
                if "pcres" in plan.silence_at and self.has_pcres:
                    v += [Variant("silence", "pcre", p, m, plan.factor) for p in range(n)]
            if plan.regions is not None and len(plan.regions):
                v.append(Variant("regions", "all"))
            if plan.swap is not None:
                if "promoter" in plan.swap_at:
                    v.append(Variant("swap", "promoter"))
                if "pcres" in plan.swap_at and self.has_pcres:
                    v += [Variant("swap", "pcre", p) for p in range(n)]
            out.append(v)
        return out

    def _region_scales(self, base: PackedBatch, regions: pd.DataFrame) -> PackedBatch:
        """``base`` with every feature replaced by the depth factor the region edits give it."""
        genes, pcres = self.ds.genes, self.ds.pcres
        half = self.ds.window // 2
        M = len(self.ds.marks)
        prom, bins = {}, {}
        for b in self.bin_sizes:
            S = self.ds.window // b
            scale = np.ones((len(base), S, M), np.float64)
            for k, g in enumerate(base.index):
                tss, chrom, plus = int(genes["tss"].iat[g]), genes["chrom"].iat[g], genes["strand"].iat[g] == "+"
                lo = tss - half + np.arange(S) * b
                for cover, m, f in _overlap_fraction(lo, lo + b, chrom, regions):
                    scale[k, :, m] *= (1 - cover * (1 - f))[:: 1 if plus else -1]
            prom[b] = scale
            if self.has_pcres:
                nb = np.ones((len(base.pcre_bins[b]), M), np.float64)
                rows = genes["pcre_offset"].to_numpy()[base.index[base.bin_gene(b)]] + base.bin_rank(
                    b
                )  # each bin's pCRE
                length = (pcres["end"].to_numpy() - pcres["start"].to_numpy())[rows]
                start = pcres["start"].to_numpy()[rows] + (base.pcre_bin_pos[b] - left_pad(n_bins(length, b), S)) * b
                end = np.minimum(start + b, pcres["end"].to_numpy()[rows])
                chrom = pcres["chrom"].to_numpy()[rows]
                for c in np.unique(chrom) if len(chrom) else []:
                    sel = chrom == c
                    for cover, m, f in _overlap_fraction(start[sel], end[sel], c, regions):
                        nb[sel, m] *= 1 - cover * (1 - f)
                bins[b] = nb
        return replace(base, promoter=prom, pcre_bins=bins)

    def build(
        self, idx: np.ndarray, per_gene: list[list[Variant]], plan: Plan
    ) -> tuple[PackedBatch, PackedBatch | None, np.ndarray, np.ndarray]:
        """The stacked batch of every variant of genes ``idx`` (numpy), the reference sample's batch for fold change,
        each variant's gene (local index) and whether its input is exactly its gene's unedited input."""
        v = _Columns.of(per_gene)
        dropped = np.where(v.kind == "knockout", v.slot, -1)

        def variants_of(batch: PackedBatch) -> PackedBatch:
            """Every variant's copy of ``batch``'s gene, knockouts applied."""
            return batch.select(v.gene).drop_pcre(dropped)

        base = self.ds.batch(idx, bin_sizes=self.bin_sizes, pcres=self.has_pcres)
        out = variants_of(base)
        swapped = variants_of(ds_batch_like(plan.swap, self.ds, idx, self.inputs)) if plan.swap is not None else None
        regions = v.region == "all"
        scales = variants_of(self._region_scales(base, plan.regions)) if regions.any() else None
        promoter = {}
        for b in self.bin_sizes:
            x = out.promoter[b].copy()
            sel = v.at("silence", "promoter")
            for m in np.unique(v.mark[sel]):
                rows = np.flatnonzero(sel & (v.mark == m))
                x[rows, :, m] = scale_depth(x[rows, :, m], v.factor[rows, None], self.transform)
            rows = np.flatnonzero(regions)
            if len(rows):
                x[rows] = _scale_by(x[rows], scales.promoter[b][rows], self.transform)
            rows = np.flatnonzero(v.at("swap", "promoter"))
            if len(rows):
                x[rows] = swapped.promoter[b][rows]
            promoter[b] = x
        bins = {}
        for b in out.pcre_bins:
            x = out.pcre_bins[b].copy()
            who, rank = out.bin_gene(b), out.bin_rank(b)  # the variant and the pCRE slot of each bin
            own = rank == v.slot[who]
            hit = v.at("silence", "pcre")[who] & own
            for m in np.unique(v.mark[who[hit]]):
                rows = np.flatnonzero(hit & (v.mark[who] == m))
                x[rows, m] = scale_depth(x[rows, m], v.factor[who[rows]], self.transform)
            rows = np.flatnonzero(regions[who])
            if len(rows):
                x[rows] = _scale_by(x[rows], scales.pcre_bins[b][rows], self.transform)
            rows = np.flatnonzero(v.at("swap", "pcre")[who] & own)
            if len(rows):
                x[rows] = swapped.pcre_bins[b][rows]
            bins[b] = x
        out = replace(out, promoter=promoter, pcre_bins=bins)
        ref = ds_batch_like(self.ref, self.ds, idx, self.inputs).select(v.gene) if self.task == "fold-change" else None
        return out, ref, v.gene, _unedited(out, v.gene)

    # -------------------------------------------------------------------- run
    @torch.no_grad()
    def run(self, positions: np.ndarray, plan: Plan, desc: str = "perturb") -> pd.DataFrame:
        """The effects table (module docstring) for dataset genes ``positions``."""
        ds = self.ds
        positions = np.asarray(positions, np.int64)
        counts = ds.genes["pcre_count"].to_numpy()[positions] if self.has_pcres else np.zeros(len(positions), np.int64)
        per_gene = self.variants(plan, counts)
        sizes = np.array([len(v) for v in per_gene])
        groups, start = [], 0
        while start < len(positions):
            stop, total = start, 0
            while stop < len(positions) and (total + sizes[stop] <= self.batch_size or stop == start):
                total += sizes[stop]
                stop += 1
            groups.append((start, stop))
            start = stop
        self.model.eval()
        rows = []
        bar = progress(total=int(sizes.sum()), desc=desc, unit="input")
        for a, z in groups:
            idx = positions[a:z]
            batch, ref, v_gene, unedited = self.build(idx, per_gene[a:z], plan)
            ta = batch.to(self.device)
            tb = ref.to(self.device) if ref is not None else None
            with autocast(self.device, self.bf16):
                out = objective.outputs(self.model, self.task, ta, tb)
            pred = objective.predictions(self.task, out).astype(np.float64)
            offset = 0
            for k, g in enumerate(idx):
                n = sizes[a + k]
                base_pred = pred[offset]
                for j, variant in enumerate(per_gene[a + k]):
                    if j == 0:
                        continue
                    # An edit that changed no input value (factor 1, a region missing the gene) has no effect,
                    # exactly: its own forward pass could differ from the baseline's in the last bit, as a row's
                    # result from a batched matrix product depends on its position in the batch.
                    rows.append((g, variant, base_pred, base_pred if unedited[offset + j] else pred[offset + j]))
                offset += n
            bar.update(len(v_gene))
        bar.close()
        return self._table(rows)

    def _table(self, rows) -> pd.DataFrame:
        ds = self.ds
        if not rows:
            return pd.DataFrame(columns=EFFECT_COLUMNS)
        g, variants, base, pert = (list(c) for c in zip(*rows))
        g, base, pert = np.array(g), np.array(base), np.array(pert)
        kind, region = np.array([v.kind for v in variants], object), np.array([v.region for v in variants], object)
        slot, mark = np.array([v.slot for v in variants], np.int64), np.array([v.mark for v in variants], np.int64)
        factor = np.array([v.factor for v in variants], np.float64)
        genes = ds.genes
        pcre_row = np.where(slot >= 0, genes["pcre_offset"].to_numpy()[g] + np.maximum(slot, 0), -1)
        has = pcre_row >= 0
        frame = pd.DataFrame(
            {
                "gene_id": genes["gene_id"].to_numpy()[g],
                "gene_name": genes["gene_name"].to_numpy()[g],
                "chrom": genes["chrom"].to_numpy()[g],
                "tss": genes["tss"].to_numpy()[g],
                "strand": genes["strand"].to_numpy()[g],
                "fold": genes["fold"].to_numpy()[g],
                "kind": kind,
                "region": region,
                "pcre_rank": _nullable(slot + 1, has),
                "pcre_chrom": np.where(
                    has, ds.pcres["chrom"].to_numpy()[np.maximum(pcre_row, 0)] if len(ds.pcres) else "", ""
                ),
                "pcre_start": _nullable(
                    ds.pcres["start"].to_numpy()[np.maximum(pcre_row, 0)]
                    if len(ds.pcres)
                    else np.zeros(len(g), np.int64),
                    has,
                ),
                "pcre_end": _nullable(
                    ds.pcres["end"].to_numpy()[np.maximum(pcre_row, 0)]
                    if len(ds.pcres)
                    else np.zeros(len(g), np.int64),
                    has,
                ),
                "mark": np.where(
                    mark >= 0, np.array(ds.marks + [""], dtype=object)[np.where(mark >= 0, mark, len(ds.marks))], ""
                ),
                "factor": np.where(np.isnan(factor.astype(float)), np.nan, factor.astype(float)),
                "baseline": base,
                "perturbed": pert,
                "delta": pert - base,
            }
        )
        return frame[EFFECT_COLUMNS]


def _unedited(batch: PackedBatch, v_gene: np.ndarray) -> np.ndarray:
    """(V,) True where a variant's input equals, value for value, its gene's first variant (the unedited input)."""
    V = len(v_gene)
    first = np.searchsorted(v_gene, v_gene)  # variants are grouped by gene, the unedited one first
    same = np.ones(V, bool)
    for x in (batch.pcre_length, batch.pcre_score):
        same &= (x == x[first]).all(axis=1)
    for x in batch.promoter.values():
        same &= (x == x[first]).reshape(V, -1).all(axis=1)
    if len(batch.pcre_bins):
        owner = batch.pcre_slots // batch.n_slots
        n_slots = np.bincount(owner, minlength=V)
        same &= n_slots == n_slots[first]  # (lengths equal too: the same slots are filled)
        slot_start = np.concatenate([[0], np.cumsum(n_slots)[:-1]])
        for b in batch.pcre_bins:
            bins, slot, pos = batch.pcre_bins[b], batch.pcre_bin_slot[b], batch.pcre_bin_pos[b]
            per_slot = np.bincount(slot, minlength=len(owner))
            bin_start = np.concatenate([[0], np.cumsum(per_slot)[:-1]])
            v = owner[slot]  # each bin's variant
            ok = same[v].copy()
            # the same bin of the unedited variant: same slot rank, same place in the slot
            twin_slot = slot_start[first[v]] + (slot - slot_start[v])
            twin = bin_start[np.minimum(twin_slot, len(owner) - 1)] + (np.arange(len(slot)) - bin_start[slot])
            twin = np.minimum(twin, max(len(slot) - 1, 0))
            ok &= (bins == bins[twin]).all(axis=1) & (pos == pos[twin])
            same &= np.bincount(v[~ok], minlength=V) == 0
    return same


def _nullable(values: np.ndarray, keep: np.ndarray):
    """Integers where ``keep``, missing elsewhere."""
    return pd.array([int(v) if k else None for v, k in zip(values, keep)], dtype="Int64")


def _scale_by(x: np.ndarray, scale: np.ndarray, transform: str) -> np.ndarray:
    return scale_depth(x, scale, transform) if np.any(scale != 1) else x


def ds_batch_like(other: GeneDataset, ds: GeneDataset, idx: np.ndarray, inputs) -> PackedBatch:
    """``other``'s batch for the genes ``idx`` of ``ds`` (matched by gene_id; pCREs must be the same intervals)."""
    pos = pd.Series(np.arange(len(other)), index=other.genes["gene_id"].to_numpy())
    ids = ds.genes["gene_id"].to_numpy()[idx]
    where = pos.reindex(ids).to_numpy()
    if np.isnan(where).any():
        raise ChromoflowError(
            f"{other.path}: gene {ids[np.isnan(where)][0]!r} of {ds.path} is missing; both samples need the same genes"
        )
    where = where.astype(np.int64)
    if inputs.pcres:
        mine = ds.pcre_slots(idx)
        theirs = other.pcre_slots(where)
        a = np.where(mine >= 0, 1, 0)
        if (a != np.where(theirs >= 0, 1, 0)).any() or not _same_intervals(ds, other, mine, theirs):
            raise ChromoflowError(
                f"{other.path}: its pCREs differ from {ds.path}'s for these genes; build both samples from the same pcres.tsv to swap them"
            )
    return other.batch(where, bin_sizes=inputs.bin_sizes, pcres=inputs.pcres)


def _same_intervals(a: GeneDataset, b: GeneDataset, ra: np.ndarray, rb: np.ndarray) -> bool:
    fa, fb = ra[ra >= 0], rb[rb >= 0]
    cols = ("start", "end")
    return all((a.pcres[c].to_numpy()[fa] == b.pcres[c].to_numpy()[fb]).all() for c in cols)


def gene_positions(ds: GeneDataset, genes: str | None, fold: int | None) -> np.ndarray:
    """Dataset positions of ``--genes`` (comma-separated IDs/names or a file of them) and/or ``--fold``."""
    keep = np.ones(len(ds), bool)
    if fold is not None:
        keep &= ds.genes["fold"].to_numpy() == fold
        if not keep.any():
            raise ChromoflowError(
                f"fold {fold} has no genes in {ds.path} (folds present: {', '.join(map(str, sorted(set(ds.genes['fold']))))})"
            )
    if genes:
        if os.path.isfile(genes):
            from .._tables import lines

            wanted = [f[0].strip() for _, f in lines(genes, comments=("#",))]
        else:
            wanted = [g.strip() for g in genes.split(",") if g.strip()]
        ids, names = ds.genes["gene_id"].to_numpy(), ds.genes["gene_name"].to_numpy()
        known = set(ids) | set(names)
        missing = [g for g in wanted if g not in known]
        if missing:
            raise ChromoflowError(
                f"--genes: {len(missing)} of {len(wanted)} genes are not in {ds.path} (e.g. {missing[0]!r})"
            )
        keep &= np.isin(ids, wanted) | np.isin(names, wanted)
        if not keep.any():
            raise ChromoflowError(f"--genes: none of the genes is in fold {fold}")
    return np.flatnonzero(keep)


def perturb(
    dataset,
    checkpoint,
    output,
    *,
    genes: str | None = None,
    fold: int | None = None,
    knockout: bool = True,
    silence: str | None = None,
    silence_at: str = "both",
    factor: float = 0.0,
    regions=None,
    swap=None,
    swap_at: str = "both",
    reference=None,
    links=None,
    interact=None,
    tracks=None,
    device: str = "auto",
    batch_size: int = 512,
    precision: str = "fp32",
) -> pd.DataFrame:
    """``chromoflow perturb``: the effects table, and optionally links, UCSC interact and attribution tracks.

    Everything is checked before any work, every destination included; the
    outputs are written together at the end, or none of them.
    ``precision``: ``fp32`` (the default: knockout effects are often smaller
    than bf16's resolution), ``bf16`` or ``auto`` (bf16 on CUDA).
    """
    from pathlib import Path

    from .._io import all_or_nothing, check_destinations, output_folder, write_tsv
    from ..evaluate.inference import load_for_inference
    from ..runtime import use_bf16
    from .attribution import gradient_x_input, pcre_attention, write_tracks
    from .links import links_table, write_interact, write_links

    if not np.isfinite(factor) or factor < 0:
        raise ChromoflowError(f"--factor {factor}: must be a finite number >= 0")
    check_destinations(files=[output, links, interact], folders=[tracks])
    run = load_for_inference(checkpoint, dataset, reference, device, others=[swap] if swap else [])
    model, info, data, dev, ds, ref = run.model, run.info, run.data, run.device, run.dataset, run.reference
    other = run.others[0] if swap else None
    bf16 = use_bf16(precision, dev)
    has_pcres = model.uses_pcres
    if (links or interact) and not has_pcres:
        raise ChromoflowError(f"--links/--interact: {info['name']} has no pCREs to knock out")
    marks = []
    if silence:
        lower = {m.lower(): i for i, m in enumerate(ds.marks)}
        for name in silence.split(","):
            if name.strip().lower() not in lower and name.strip().lower() != "all":
                raise ChromoflowError(
                    f"--silence {name.strip()!r}: unknown mark; the model reads {', '.join(ds.marks)} (or 'all')"
                )
        marks = (
            list(range(len(ds.marks)))
            if "all" in silence.lower().split(",")
            else sorted({lower[n.strip().lower()] for n in silence.split(",")})
        )
        if silence_at == "pcres" and not has_pcres:
            raise ChromoflowError(
                f"--silence-at pcres: {info['name']} reads no pCREs; silence at the promoter (--silence-at promoter)"
            )
    where = {"both": ("promoter", "pcres"), "promoter": ("promoter",), "pcres": ("pcres",)}
    region_table = read_regions(regions, ds.marks, set(ds.genes["chrom"]) | set(ds.pcres["chrom"])) if regions else None
    plan = Plan(
        knockout=knockout and has_pcres,
        silence_marks=tuple(marks),
        silence_at=where[silence_at],
        factor=factor,
        regions=region_table,
        swap=other,
        swap_at=where[swap_at],
    )
    if not (plan.knockout or marks or region_table is not None or other is not None):
        raise ChromoflowError(
            "nothing to perturb: the model has no pCREs to knock out; ask for --silence, --regions or --swap"
        )
    positions = gene_positions(ds, genes, fold)
    # TaskData numbers its genes among those it can serve (for fold change: those in both samples); a gene's
    # results must not depend on which other genes exist, so every call is made with that gene's own position.
    task_of = pd.Series(np.arange(len(data)), index=data.idx_a)
    served = task_of.reindex(positions).to_numpy()
    if np.isnan(served).any():
        missing = ds.genes["gene_id"].to_numpy()[positions[np.isnan(served)]]
        if np.isnan(served).all():
            raise ChromoflowError(
                f"{reference}: none of the selected genes of {dataset} is in it; a fold-change model needs both samples' genes"
            )
        warn(
            f"{reference}: {len(missing)} of the selected genes of {dataset} are not in it (e.g. {missing[0]!r}); they have no fold change and are left out"
        )
        positions = positions[~np.isnan(served)]
        served = served[~np.isnan(served)]
    task_positions = served.astype(np.int64)
    perturber = Perturber(model, info, ds, dev, reference=ref, batch_size=batch_size, bf16=bf16)
    effects = perturber.run(positions, plan)
    table = None
    if links or interact:
        att = pcre_attention(model, data, task_positions, dev, bf16=bf16)
        table = links_table(effects, ds, att)
    attribution = gradient_x_input(model, data, task_positions, dev, bf16=bf16) if tracks else None
    with all_or_nothing():
        write_tsv(effects, output, float_format="%.6g")
        if links:
            write_links(table, links)
        if interact:
            write_interact(table, interact, name=f"{ds.sample} {info['name']} links")
        if tracks:
            with output_folder(tracks) as folder:
                title = f"{info['name']}, {ds.sample}, {info['task']}: where each mark matters ({len(positions)} genes)"
                values, step = attribution
                write_tracks(ds, positions, values, Path(folder), title, step=step)
    return effects
