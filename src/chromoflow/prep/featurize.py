"""Build one sample's training-ready HDF5 dataset from tracks, genes, pCREs and expression.

See :mod:`chromoflow.data.dataset` for the file layout. Work is split into
chunks of genes (contiguous on one chromosome); each chunk reads every track
once per block of nearby regions and bins all resolutions from that read. The
HDF5 file is written chunk by chunk, so memory stays bounded by the chunk
size, and it appears at its final path only when complete.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import h5py
import numpy as np
import pandas as pd

from .._io import atomic_output, native_writes, require_space
from ..data.dataset import create_dataset_file, pcre_counts
from ..data.layout import n_bins
from ..errors import ChromoflowError, option
from ..genome import ALIAS_HINT, ChromAliases, missing_chroms, sort_chroms
from ..log import info, note, warn
from ..progress import progress
from .binning import BinPlan
from .expression import labels_and_targets, read_expression
from .folds import assign_folds
from .tracks import open_track

DEFAULT_BIN_SIZES = (2000, 500, 100)
CHUNK_GENES = 256


@dataclass(frozen=True)
class Layout:
    """The feature geometry: promoter window, bin sizes and pCRE slots."""

    window: int = 40_000
    bin_sizes: tuple[int, ...] = DEFAULT_BIN_SIZES
    max_pcres: int = 8

    def __post_init__(self):
        for b in self.bin_sizes:
            if b <= 0 or self.window % b:
                raise ChromoflowError(
                    f"--bin-sizes: bin size {b} does not divide the --window {self.window}; use sizes that divide it (e.g. 2000,500,100 for 40000)"
                )


def parse_tracks(specs) -> tuple[list[str], list[str]]:
    """``MARK=FILE`` strings -> (marks, files), in the given order."""
    marks, files = [], []
    for spec in specs:
        if "=" not in spec:
            raise ChromoflowError(f"--track {spec!r}: expected MARK=FILE, e.g. H3K4me3=E003-H3K4me3.bw")
        mark, path = spec.split("=", 1)
        mark = mark.strip()
        if not mark or not path:
            raise ChromoflowError(f"--track {spec!r}: expected MARK=FILE with both parts")
        if mark in marks:
            raise ChromoflowError(f"--track: mark {mark!r} given twice")
        marks.append(mark)
        files.append(path)
    if not marks:
        raise ChromoflowError("no --track given: pass one MARK=FILE per histone mark")
    return marks, files


def _attach_pcres(genes: pd.DataFrame, pcres: pd.DataFrame | None, layout: Layout, source) -> pd.DataFrame:
    """Order pCREs by gene (genes table order) then rank; keep ``max_pcres`` per gene."""
    cols = ["gene_index", "chrom", "start", "end", "score", "rank"]
    if pcres is None or pcres.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=t) for c, t in zip(cols, ["int64", "object", "int64", "int64", "float64", "int64"])}
        )
    index = pd.Series(np.arange(len(genes)), index=genes["gene_id"].to_numpy())
    gi = index.reindex(pcres["gene_id"].to_numpy()).to_numpy()
    unknown = np.isnan(gi)
    if unknown.all():
        raise ChromoflowError(
            f"{source}: none of its gene_ids is in the genes table; were the pCREs made from another genes.tsv?"
        )
    if unknown.any():
        warn(
            f"{source}: {int(unknown.sum())} pCRE rows name genes not in the genes table (e.g. {pcres['gene_id'].to_numpy()[unknown][0]!r}); ignored"
        )
    p = pcres[~unknown].copy()
    p.insert(0, "gene_index", gi[~unknown].astype(np.int64))
    wrong = p["chrom"].to_numpy() != genes["chrom"].to_numpy()[p["gene_index"].to_numpy()]
    if wrong.any():
        row = p[wrong].iloc[0]
        raise ChromoflowError(
            f"{source}: pCRE {row.chrom}:{row.start}-{row.end} of {row.gene_id} is not on the gene's chromosome; pCREs must be cis"
        )
    too_long = (p["end"] - p["start"]) > layout.window
    if too_long.any():
        row = p[too_long].iloc[0]
        raise ChromoflowError(
            f"{source}: pCRE {row.chrom}:{row.start}-{row.end} of {row.gene_id} is longer than the {layout.window} bp window; rebuild pCREs with --max-length {layout.window}"
        )
    p = p.sort_values(["gene_index", "rank"], kind="stable")
    p = p[p.groupby("gene_index").cumcount() < layout.max_pcres]
    return p[cols].reset_index(drop=True)


def _dataset_bytes(n_genes: int, n_marks: int, layout: Layout, pcre_lengths) -> int:
    """The feature arrays' size on disk (float32), plus the gene and pCRE tables."""
    promoter = sum(n_genes * (layout.window // b) * n_marks for b in layout.bin_sizes)
    pcres = sum(int(n_bins(pcre_lengths, b).sum()) * n_marks for b in layout.bin_sizes)
    return 4 * (promoter + pcres) + 200 * n_genes + 64 * len(pcre_lengths)


def _chunks(genes: pd.DataFrame, size: int):
    """(start, stop) gene ranges, each within one chromosome."""
    chrom = genes["chrom"].to_numpy()
    bounds = [0] + [i for i in range(1, len(chrom)) if chrom[i] != chrom[i - 1]] + [len(chrom)]
    for a, z in zip(bounds[:-1], bounds[1:]):
        for s in range(a, z, size):
            yield s, min(s + size, z)


_WORKER_TRACKS: dict = {}


def _init_worker():
    # Open tracks per process: a handle inherited through fork shares its file
    # offset with the parent and reads garbage.
    _WORKER_TRACKS.clear()


def _featurize_in_worker(task):
    return _featurize(task, _WORKER_TRACKS)


def _featurize(task, cache: dict):
    """Features of one gene chunk; ``cache`` keeps open tracks between chunks."""
    track_files, min_mapq, track_chroms, tss, strand, p_start, p_end, layout = task
    tracks = []
    for path in track_files:
        if path not in cache:
            cache[path] = open_track(path, min_mapq=min_mapq)
        tracks.append(cache[path])
    half = layout.window // 2
    starts = np.concatenate([tss - half, p_start])
    ends = np.concatenate([tss + half, p_end])
    G, M = len(tss), len(tracks)
    promoter = {b: np.empty((G, layout.window // b, M), np.float32) for b in layout.bin_sizes}
    pcre = {b: np.empty((int(n_bins(p_end - p_start, b).sum()), M), np.float32) for b in layout.bin_sizes}
    minus = strand < 0
    plan = BinPlan(starts, ends, layout.bin_sizes)
    for m, track in enumerate(tracks):
        binned = plan.apply(track, track_chroms[m])
        for b, values in binned.items():
            S = layout.window // b
            prom = values[: G * S].reshape(G, S)
            prom[minus] = prom[minus, ::-1]
            promoter[b][:, :, m] = prom
            pcre[b][:, m] = values[G * S :]
    return promoter, pcre


def build_dataset(
    out: str | os.PathLike,
    sample: str,
    genes: pd.DataFrame,
    marks: list[str],
    track_files: list[str],
    pcres: pd.DataFrame | None = None,
    expression: str | os.PathLike | None = None,
    folds: str = "auto",
    seed: int = 0,
    layout: Layout = Layout(),
    jobs: int = 1,
    min_mapq: int = 0,
    allow_missing_chroms: bool = False,
    sources: dict | None = None,
    aliases: ChromAliases | None = None,
) -> dict:
    """Write the dataset of ``sample`` to ``out``; return a small summary dict.

    ``aliases`` matches the genes' chromosome names to each track's (e.g.
    RefSeq-named genes, UCSC-named bigWigs); the dataset keeps the genes' names.
    """
    if len(marks) != len(track_files):
        raise ChromoflowError("one track file per mark is required")
    # Validate every input before any heavy work.
    tracks = [open_track(path, min_mapq=min_mapq) for path in track_files]
    gene_chroms = set(genes["chrom"])
    genome = set().union(*(t.chroms for t in tracks))
    track_names = []  # per track: gene chromosome -> the track's name for it
    for mark, path, track in zip(marks, track_files, tracks):
        names = {c: aliases.translate(c, track.chroms) if aliases else c for c in gene_chroms}
        track_names.append(names)
        wanted = set(names.values())
        missing = missing_chroms(wanted, track.chroms, (sources or {}).get("genes") or "the genes table", path)
        if missing == wanted:
            raise ChromoflowError(
                f"{path} ({mark}): none of the genes' chromosomes is in this track (genes are on e.g. {sort_chroms(gene_chroms)[0]!r}, "
                f"the track has e.g. {sort_chroms(track.chroms)[0]!r}); is it the right genome? {ALIAS_HINT}"
            )
        if missing and not allow_missing_chroms:
            raise ChromoflowError(
                f"{path} ({mark}): no chromosome {', '.join(sort_chroms(missing)[:5])} in this track, but genes are there; "
                f"drop those genes or pass {option('--allow-missing-chroms')} to read them as 0"
            )
    for t in tracks:
        t.close()
    pcre_table = _attach_pcres(genes, pcres, layout, (sources or {}).get("pcres", "pcres"))
    expr = np.full(len(genes), np.nan)
    if expression is not None:
        series = read_expression(expression, sample)
        expr = series.reindex(genes["gene_id"].to_numpy()).to_numpy(np.float64)
        found = np.isfinite(expr)
        if not found.any():
            raise ChromoflowError(
                f"{expression}: no gene of the genes table has an expression value for {sample!r}; do the gene IDs match (e.g. {genes['gene_id'].iat[0]!r} vs {series.index[0]!r})?"
            )
        if not found.all():
            warn(
                f"{expression}: {int((~found).sum())} of {len(genes)} genes have no expression value for {sample!r}; they get label -1 and are not trained on"
            )
    label, target, threshold = labels_and_targets(expr, source=f"{expression} ({sample})")
    # Folds by the tracks' names for the genes' chromosomes (RefSeq-named genes still get the published split).
    fold, scheme, why = assign_folds(genes.assign(chrom=genes["chrom"].map(track_names[0])), folds, seed, genome=genome)
    note(f"folds: {scheme} ({why})")

    G, M, P = len(genes), len(marks), len(pcre_table)
    counts, offset = pcre_counts(pcre_table, G)
    lengths = (pcre_table["end"] - pcre_table["start"]).to_numpy()
    bin_offset = {b: np.concatenate([[0], np.cumsum(n_bins(lengths, b))]).astype(np.int64) for b in layout.bin_sizes}

    tasks, spans = [], []
    tss_pos = genes["tss"].to_numpy(np.int64)
    strand_all = np.where(genes["strand"].to_numpy() == "+", 1, -1).astype(np.int8)
    for a, z in _chunks(genes, CHUNK_GENES):
        pa, pz = int(offset[a]), int(offset[z - 1] + counts[z - 1])
        tasks.append(
            (
                [str(f) for f in track_files],
                min_mapq,
                [names[genes["chrom"].iat[a]] for names in track_names],
                tss_pos[a:z],
                strand_all[a:z],
                pcre_table["start"].to_numpy(np.int64)[pa:pz],
                pcre_table["end"].to_numpy(np.int64)[pa:pz],
                layout,
            )
        )
        spans.append((a, z, pa, pz))

    columns = genes.assign(fold=fold, expression=expr, label=label, target=target)
    attrs = {
        "sample": sample,
        "marks": marks,
        "bin_sizes": layout.bin_sizes,
        "window": layout.window,
        "max_pcres": layout.max_pcres,
        "folds": scheme,
        "n_folds": int(fold.max()) if len(fold) else 0,
        "fold_reason": why,
        "fold_seed": seed,
        "label_threshold": threshold,
        "sources": json.dumps(sources or {}, sort_keys=True),
        "track_chroms": json.dumps({c: t for c, t in track_names[0].items() if c != t}, sort_keys=True),
    }
    require_space(out, _dataset_bytes(G, M, layout, lengths), "the dataset")
    with atomic_output(out) as tmp, native_writes():
        with h5py.File(tmp, "w") as h5:
            prom_ds, feat_ds = create_dataset_file(h5, attrs, columns, pcre_table)

            def results():
                if jobs <= 1 or len(tasks) == 1:
                    cache: dict = {}
                    try:
                        for task in tasks:
                            yield _featurize(task, cache)
                    finally:
                        for track in cache.values():
                            track.close()
                else:
                    # fork is fastest and needs no importable __main__, but a forked child inherits the
                    # parent's threads and locks: once hictkpy (its logger thread) is loaded in this
                    # process, fork can deadlock, so start workers from a clean forkserver instead.
                    methods = multiprocessing.get_all_start_methods()
                    method = (
                        "fork"
                        if "fork" in methods and "hictkpy" not in sys.modules
                        else ("forkserver" if "forkserver" in methods else "spawn")
                    )
                    with ProcessPoolExecutor(
                        max_workers=min(jobs, len(tasks)),
                        initializer=_init_worker,
                        mp_context=multiprocessing.get_context(method),
                    ) as pool:
                        yield from pool.map(_featurize_in_worker, tasks)

            bar = progress(total=G, desc=f"dataset {sample}", unit="gene")
            chunks = results()
            try:
                for (a, z, pa, pz), (promoter, pcre) in zip(spans, chunks):
                    for b in layout.bin_sizes:
                        prom_ds[b][a:z] = promoter[b]
                        feat_ds[b][bin_offset[b][pa] : bin_offset[b][pz]] = pcre[b]
                    bar.update(z - a)
            finally:
                chunks.close()  # stop the workers now, also after a failed write
                bar.close()
    info(f"{out}: {G} genes, {P} pCREs, {M} marks, folds {scheme}")
    return {"genes": G, "pcres": P, "marks": M, "folds": scheme, "label_threshold": threshold}
