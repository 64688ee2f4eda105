"""Where along the promoter window each mark matters: gradient x input, as bigWigs and a profile.

For each gene, the gradient of the prediction (probability of the high
class, or log2 expression) with respect to every promoter input bin, times
the input (gradient x input), at each resolution the model reads. The grid
is the largest step that divides every bin size the model reads (100 bp for
2000/500/100, 250 bp for 2000/500/250): a coarse bin's attribution is spread
evenly over its grid steps and the resolutions are summed, so every step of
the window gets one number per mark. Written as:

- ``attribution.<mark>.bw``: genomic coordinates on that grid (the window
  of each gene at its TSS, shifted by less than a step onto the grid; where
  windows of several genes overlap, their mean);
- ``attribution_profile.tsv`` and ``.png``: the mean over genes by position
  relative to the TSS, in transcription direction (negative = upstream).

Also the regulation transformer's attention of the promoter to each pCRE
(:func:`pcre_attention`), for the links table.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ..evaluate.plots import profile_plot
from ..figures import save_png
from ..models import objective
from ..progress import progress
from ..runtime import autocast


def _batches(data, positions, inputs, device, batch_size):
    for chunk in np.array_split(positions, max(1, -(-len(positions) // batch_size))):
        if len(chunk):
            yield chunk, *data.device_batches(chunk, inputs, device)


def pcre_attention(model, data, positions, device, batch_size: int = 256, bf16: bool = False) -> dict:
    """{(gene_id, pCRE rank): the promoter's last-layer regulation attention to it, mean over heads and resolutions}."""
    out = {}
    model.eval()
    with torch.no_grad():
        for chunk, a, b in _batches(data, positions, model.inputs, device, batch_size):
            with autocast(device, bf16):
                _, weights = objective.outputs(model, data.task, a, b, need_weights=True)
            att = np.mean(
                [weights[r][-1][:, :, 0, 1:].float().mean(1).cpu().numpy() for r in model.bin_sizes], axis=0
            )  # (B, P)
            length = a.pcre_length.cpu().numpy()
            ids = data.genes["gene_id"].to_numpy()[chunk]
            for k, s in zip(*np.nonzero(length > 0)):
                out[(ids[k], int(s) + 1)] = float(att[k, s])
    return out


def grid_step(bin_sizes) -> int:
    """The attribution grid: the largest step (bp) that divides every bin size."""
    return math.gcd(*[int(b) for b in bin_sizes])


def gradient_x_input(
    model, data, positions, device, batch_size: int = 128, bf16: bool = False
) -> tuple[np.ndarray, int]:
    """(genes, window / step, marks) summed gradient x input per grid step of the promoter window (transcription
    direction), and the step (bp); see the module docstring. Task positions of ``data``."""
    inputs = model.inputs
    sizes = list(inputs.bin_sizes)
    step = grid_step(sizes)
    window = data.a.window
    out = np.zeros((len(positions), window // step, len(data.a.marks)), np.float32)
    model.eval()
    row = 0
    for chunk, a, b in progress(
        _batches(data, positions, inputs, device, batch_size),
        total=-(-len(positions) // batch_size),
        desc="attribution",
        unit="batch",
    ):
        for s in sizes:
            a.promoter[s].requires_grad_(True)
        with autocast(device, bf16):
            y = objective.outputs(model, data.task, a, b)
        objective.prediction(data.task, y).sum().backward()
        for s in sizes:
            x = a.promoter[s]
            gx = (x.grad * x).detach().float().cpu().numpy()  # (B, window / s, M): zero where the model reads nothing
            out[row : row + len(chunk)] += np.repeat(gx, s // step, axis=1) / (s // step)
        row += len(chunk)
    return out, step


def write_tracks(ds, positions, attribution: np.ndarray, folder, title: str, step: int = 100) -> list:
    """bigWigs (one per mark) and the profile table and figure for dataset genes ``positions``; returns the paths written."""
    from ..prep.bigwig import bigwig_output

    genes = ds.genes.iloc[positions]
    fine = attribution.shape[1]
    half = ds.window // 2
    written = []
    chrom_sizes = _chrom_sizes(ds)
    for m, mark in enumerate(ds.marks):
        path = folder / f"attribution.{mark}.bw"
        with bigwig_output(path, chrom_sizes) as bw:
            for chrom in sorted(
                set(genes["chrom"]), key=lambda c: list(chrom_sizes).index(c) if c in chrom_sizes else len(chrom_sizes)
            ):
                sel = np.flatnonzero(genes["chrom"].to_numpy() == chrom)
                size = chrom_sizes.get(chrom, 0)
                values = attribution[sel, :, m].astype(np.float64)
                minus = genes["strand"].to_numpy()[sel] == "-"
                values[minus] = values[minus, ::-1]  # back to reference orientation
                starts = (genes["tss"].to_numpy()[sel] - half)[:, None] + np.arange(fine)[None, :] * step
                starts = (
                    starts // step * step
                )  # a common grid, so genes' windows line up (bigWig entries may not overlap)
                inside = (starts >= 0) & (starts < size)
                if not inside.any():
                    continue
                uniq, inverse = np.unique(starts[inside], return_inverse=True)
                mean = np.bincount(inverse, weights=values[inside]) / np.bincount(
                    inverse
                )  # overlapping windows: their mean
                bw.intervals(chrom, uniq, np.minimum(uniq + step, size), mean)
        written.append(path)
    rel = (np.arange(fine) - fine // 2) * step
    profile = pd.DataFrame({"position": rel, **{mark: attribution[:, :, m].mean(0) for m, mark in enumerate(ds.marks)}})
    from .._io import write_tsv

    write_tsv(profile, folder / "attribution_profile.tsv", float_format="%.6g")
    profile_figure(profile, folder / "attribution_profile.png", title)
    written += [folder / "attribution_profile.tsv", folder / "attribution_profile.png"]
    return written


def _chrom_sizes(ds) -> dict:
    """Chromosome sizes of the dataset's genome: the tracks' headers if recorded, else the windows' extent."""
    import json

    from ..prep.tracks import open_track

    sources = json.loads(ds.attrs.get("sources", "{}") or "{}")
    renamed = json.loads(
        ds.attrs.get("track_chroms", "{}") or "{}"
    )  # the genes' chromosome names where the track's differ
    for path in (sources.get("tracks") or {}).values():
        try:
            t = open_track(path)
            sizes = dict(t.chroms)
            t.close()
            for gene_name, track_name in renamed.items():
                if track_name in sizes:
                    sizes[gene_name] = sizes.pop(track_name)
            return sizes
        except Exception:  # noqa: BLE001 - the track may have moved since; fall back below
            continue
    ends = ds.genes.groupby("chrom")["tss"].max() + ds.window
    return {c: int(e) for c, e in ends.items()}


def profile_figure(profile: pd.DataFrame, path, title: str) -> None:
    save_png(profile_plot(profile, title), path)
