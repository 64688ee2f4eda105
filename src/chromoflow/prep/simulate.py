"""A synthetic pair of cell types whose expression has a known cause.

Each gene's log expression is the sum of

- a *promoter* term: the gene's promoter activity ``p`` (drawn per gene, shifted
  in some genes between the two cell types), written into the promoter marks
  (H3K4me3, H3K27ac, H3K9ac peaks at the TSS, H3K36me3 over the gene body on
  the transcribed side, H3K27me3 when inactive); and
- a *distal* term: the activity of the gene's looped enhancers, 40 kb – 800 kb
  away (beyond the ±20 kb promoter window), each weighted by its loop strength.
  Enhancer activity is written into H3K27ac/H3K4me1 at the enhancer and the
  loops into the contact map, so only a model that follows the contacts can
  recover this term; and
- an *elongation* term, written into H3K36me3 4–6 kb downstream of the TSS
  (where the Chromoformer paper found H3K36me3 matters), so attribution
  profiles should peak there.

Output folder::

    chrom.sizes                      chromosome sizes (hg19's chr1..chr22, chrX, or mm10's chr1..chr19, chrX; scaled)
    genes.gtf                        gene records (protein_coding, some lncRNA)
    <sample>-<mark>.bw               7 marks x 2 samples, per-base depth (sparse)
    contacts.mcool                   Hi-C-like, resolutions 5000 and 10000, balanced
    interactions.bedpe               pcHi-C-like list: TSS fragment - partner, score
    expression.tsv                   gene_id, <sampleA>, <sampleB> (RPKM-like)
    truth.tsv                        per gene: promoter and distal terms per sample
    samplesheet.csv                  the pipeline's samplesheet for these files

Everything is drawn from one ``numpy.random.Generator(seed)``: the same seed
gives the same files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import all_or_nothing, atomic_output, output_folder
from ..progress import progress
from .bigwig import bigwig_output

MARKS = ["H3K4me1", "H3K4me3", "H3K9me3", "H3K27me3", "H3K36me3", "H3K27ac", "H3K9ac"]
SAMPLES = ("cellA", "cellB")
# hg19 chromosome sizes, only to give the synthetic genome a human-like shape.
_HG19 = {
    "chr1": 249250621,
    "chr2": 243199373,
    "chr3": 198022430,
    "chr4": 191154276,
    "chr5": 180915260,
    "chr6": 171115067,
    "chr7": 159138663,
    "chr8": 146364022,
    "chr9": 141213431,
    "chr10": 135534747,
    "chr11": 135006516,
    "chr12": 133851895,
    "chr13": 115169878,
    "chr14": 107349540,
    "chr15": 102531392,
    "chr16": 90354753,
    "chr17": 81195210,
    "chr18": 78077248,
    "chr19": 59128983,
    "chr20": 63025520,
    "chr21": 48129895,
    "chr22": 51304566,
    "chrX": 155270560,
}
# mm10 chromosome sizes, for a mouse-shaped genome (other genomes get other folds).
_MM10 = {
    "chr1": 195471971,
    "chr2": 182113224,
    "chr3": 160039680,
    "chr4": 156508116,
    "chr5": 151834684,
    "chr6": 149736546,
    "chr7": 145441459,
    "chr8": 129401213,
    "chr9": 124595110,
    "chr10": 130694993,
    "chr11": 122082543,
    "chr12": 120129022,
    "chr13": 120421639,
    "chr14": 124902244,
    "chr15": 104043685,
    "chr16": 98207768,
    "chr17": 94987271,
    "chr18": 90702639,
    "chr19": 61431566,
    "chrX": 171031299,
}
ASSEMBLIES = {"hg19": _HG19, "mm10": _MM10}
STEP = 50  # signal resolution of the synthetic tracks (bp)
GENE_SPACING = 150_000  # mean bp per gene, about the human genome's
COOL_RESOLUTIONS = (5000, 10000)


@dataclass
class Genome:
    chroms: dict[str, int]
    genes: pd.DataFrame  # gene_id, chrom, tss, strand, length, gene_type
    enhancers: pd.DataFrame  # gene_index, chrom, centre, strength, width
    promoter: np.ndarray  # (genes, 2) promoter activity per sample
    enhancer_activity: np.ndarray  # (enhancers, 2) in [0, 1]
    distal: np.ndarray  # (genes, 2)
    elongation: np.ndarray  # (genes, 2) the H3K36me3 signal 4-6 kb downstream of the TSS
    log_expression: np.ndarray  # (genes, 2) log2(RPKM + 1)


def simulate_genome(n_genes: int = 1000, seed: int = 0, assembly: str = "hg19") -> Genome:
    """Draw genes, enhancers, loops, activities and expression (no files); chromosomes shaped like ``assembly``'s."""
    rng = np.random.default_rng(seed)
    total = n_genes * GENE_SPACING
    sizes = ASSEMBLIES[assembly]
    scale = total / sum(sizes.values())
    chroms = {c: max(int(s * scale) // 10_000 * 10_000, 1_500_000) for c, s in sizes.items()}
    # Genes spread over chromosomes in proportion to their size.
    weights = np.array(list(chroms.values()), float)
    per_chrom = rng.multinomial(n_genes, weights / weights.sum())
    rows = []
    for (chrom, size), k in zip(chroms.items(), per_chrom):
        if k == 0:
            continue
        # Evenly spaced slots with jitter keep TSSs at least ~1/3 spacing apart.
        slots = np.linspace(100_000, size - 100_000, k + 2)[1:-1]
        jitter = rng.uniform(-0.3, 0.3, k) * min(GENE_SPACING, (size - 200_000) / (k + 1))
        for tss in np.sort((slots + jitter).astype(np.int64)):
            rows.append((chrom, int(tss)))
    genes = pd.DataFrame(rows, columns=["chrom", "tss"])
    n = len(genes)
    genes.insert(0, "gene_id", [f"SIMG{i + 1:06d}" for i in range(n)])
    genes["strand"] = np.where(rng.random(n) < 0.5, "+", "-")
    genes["length"] = rng.integers(8_000, 60_000, n)
    genes["gene_type"] = np.where(rng.random(n) < 0.05, "lncRNA", "protein_coding")

    # Promoter activity: shared base, shifted in a third of the genes in cell B.
    p_a = rng.normal(0.0, 1.0, n)
    shift = np.where(rng.random(n) < 0.35, rng.normal(0.0, 1.2, n), 0.0)
    promoter = np.stack([p_a, p_a + shift], axis=1)

    # Looped enhancers, 40-800 kb from the TSS, strengths like pcHi-C scores.
    n_loops = np.minimum(rng.poisson(3.5, n), 8)
    e_rows = []
    for g in range(n):
        chrom, tss = genes.chrom.iat[g], genes.tss.iat[g]
        for _ in range(n_loops[g]):
            for _try in range(20):
                centre = tss + int(rng.choice([-1, 1]) * rng.uniform(40_000, 800_000))
                if 20_000 < centre < chroms[chrom] - 20_000:
                    break
            else:
                continue
            e_rows.append((g, chrom, centre, float(rng.uniform(3.0, 10.0)), int(rng.integers(2_000, 12_000))))
    enhancers = pd.DataFrame(e_rows, columns=["gene_index", "chrom", "centre", "strength", "width"])
    m = len(enhancers)
    act_a = rng.beta(0.5, 0.5, m)
    redraw = rng.random(m) < 0.4
    act_b = np.where(redraw, rng.beta(0.5, 0.5, m), act_a)
    activity = np.stack([act_a, act_b], axis=1)

    # Distal term: loop-strength-weighted, centred enhancer activity.
    contrib = (enhancers["strength"].to_numpy()[:, None] / 4.0) * (activity - 0.5)
    distal = np.zeros((n, 2))
    np.add.at(distal, enhancers["gene_index"].to_numpy(), contrib)
    noise = rng.normal(0.0, 0.3, (n, 2))
    # Elongation: H3K36me3 4-6 kb into the gene body, as the Chromoformer paper found it matters.
    e_a = rng.normal(0.0, 1.0, n)
    elongation = np.stack([e_a, np.where(rng.random(n) < 0.3, rng.normal(0.0, 1.0, n), e_a)], axis=1)
    y = 2.5 + 1.2 * promoter + 1.0 * distal + 0.7 * elongation + noise
    log_expression = np.clip(y, 0.0, None)
    return Genome(chroms, genes, enhancers, promoter, activity, distal, elongation, log_expression)


def _gauss(x, mu, sd):
    return np.exp(-0.5 * ((x - mu) / sd) ** 2)


def _mark_lambda(genome: Genome, chrom: str, sample: int, mark: str, rng) -> np.ndarray:
    """Expected depth per STEP-bp bin of one chromosome for one mark and sample."""
    size = genome.chroms[chrom]
    lam = np.zeros(size // STEP + 1)
    pos = np.arange(len(lam)) * STEP + STEP // 2
    genes = genome.genes[genome.genes.chrom == chrom]
    for g, tss, strand, length in zip(genes.index, genes.tss, genes.strand, genes.length):
        sign = 1 if strand == "+" else -1
        u = 1.0 / (1.0 + np.exp(-2.0 * genome.promoter[g, sample]))
        a, z = max(0, (tss - 65_000) // STEP), min(len(lam), (tss + 65_000) // STEP)
        x = pos[a:z]
        if mark == "H3K4me3":
            lam[a:z] += 60 * u * _gauss(x, tss + sign * 500, 1000)
        elif mark == "H3K27ac":
            lam[a:z] += 40 * u * _gauss(x, tss - sign * 800, 1500)
        elif mark == "H3K9ac":
            lam[a:z] += 35 * u * _gauss(x, tss + sign * 300, 800)
        elif mark == "H3K4me1":
            lam[a:z] += 15 * u * (_gauss(x, tss - sign * 3000, 1500) + _gauss(x, tss + sign * 3000, 1500))
        elif mark == "H3K36me3":
            body = (sign * (x - tss) > 0) & (sign * (x - tss) < length)
            e = 1.0 / (1.0 + np.exp(-1.5 * genome.elongation[g, sample]))
            lam[a:z] += 12 * u * body + 30 * e * _gauss(x, tss + sign * 5000, 600)
        elif mark == "H3K27me3":
            lam[a:z] += 25 * (1 - u) * _gauss(x, tss, 6000)
    enh = genome.enhancers[genome.enhancers.chrom == chrom]
    for e, centre, width in zip(enh.index, enh.centre, enh.width):
        act = genome.enhancer_activity[e, sample]
        a, z = max(0, (centre - 20_000) // STEP), min(len(lam), (centre + 20_000) // STEP)
        x = pos[a:z]
        if mark == "H3K27ac":
            lam[a:z] += 45 * act * _gauss(x, centre, width / 4)
        elif mark == "H3K4me1":
            lam[a:z] += (5 + 25 * act) * _gauss(x, centre, width / 3)
        elif mark == "H3K4me3":
            lam[a:z] += 4 * act * _gauss(x, centre, width / 6)
    if mark == "H3K9me3":
        # Broad heterochromatin domains unrelated to expression.
        for start in rng.integers(0, size, max(1, size // 2_000_000)):
            a, z = start // STEP, min(len(lam), (start + int(rng.integers(20_000, 200_000))) // STEP)
            lam[a:z] += rng.uniform(3, 12)
    return lam


def write_tracks(genome: Genome, folder: Path, rng, samples=SAMPLES) -> list[Path]:
    """One sparse bigWig per sample and mark (Poisson depth, constant over STEP bp)."""
    paths = []
    bar = progress(total=len(samples) * len(MARKS), desc="simulate tracks", unit="track")
    for s, sample in enumerate(samples):
        for mark in MARKS:
            path = folder / f"{sample}-{mark}.bw"
            with bigwig_output(path, genome.chroms) as bw:
                for chrom, size in genome.chroms.items():
                    # A low background everywhere near genes and enhancers, then Poisson depth.
                    lam = _mark_lambda(genome, chrom, s, mark, rng)[: size // STEP]
                    lam = np.where(lam > 0.02, lam + 0.05, lam)
                    depth = rng.poisson(lam).astype(np.float64)
                    # fixedStep runs over the stretches with signal: 4 bytes a value, zeros compress away.
                    active = np.flatnonzero(lam > 0.02)
                    if not len(active):
                        continue
                    breaks = np.flatnonzero(np.diff(active) > 1)
                    for a, z in zip(np.r_[active[0], active[breaks + 1]], np.r_[active[breaks], active[-1]] + 1):
                        bw.steps(chrom, int(a * STEP), depth[a:z], STEP)
            paths.append(path)
            bar.update()
    bar.close()
    return paths


def _chrom_pixels(n_bins: int, max_diag: int, tss_bins, enh_bins, strengths, rng, amplitude: float = 800.0):
    """Upper-triangle pixels of one chromosome: distance decay plus planted loops."""
    diag = np.arange(max_diag + 1)
    expected = amplitude / np.maximum(diag, 0.5)
    i = np.repeat(np.arange(n_bins), max_diag + 1)
    d = np.tile(diag, n_bins)
    j = i + d
    keep = j < n_bins
    i, j, d = i[keep], j[keep], d[keep]
    lam = expected[d]
    # Loops multiply the background at their pixel by their strength.
    lo, hi = np.minimum(tss_bins, enh_bins), np.maximum(tss_bins, enh_bins)
    ok = (hi - lo <= max_diag) & (hi > lo)
    lo, hi, st = lo[ok], hi[ok], strengths[ok]
    boost = np.ones(len(i))
    flat = lo * (max_diag + 1) + (hi - lo)
    # Flat index into the (i, d) grid before `keep`; map through a lookup.
    index = np.full(n_bins * (max_diag + 1), -1, np.int64)
    index[np.flatnonzero(keep)] = np.arange(len(i))
    np.maximum.at(boost, index[flat], st)
    counts = rng.poisson(lam * boost)
    nz = counts > 0
    return i[nz], j[nz], counts[nz]


def ice_weights(i, j, counts, n_bins: int, ignore_diags: int = 2, tol: float = 1e-5, max_iters: int = 2000):
    """Iterative correction (ICE, as ``cooler balance``): weights w with row sums of w_i c_ij w_j constant.

    Done in memory with bincount passes, which is fast for the simulator's
    matrices (cooler's chunked balancer takes minutes on them, as its
    banded, trans-free structure converges slowly).
    """
    keep = (j - i) >= ignore_diags
    i, j, c = i[keep], j[keep], counts[keep].astype(np.float64)
    w = np.ones(n_bins)
    converged = False
    for _ in range(max_iters):
        v = c * w[i] * w[j]
        marg = np.bincount(i, v, n_bins) + np.bincount(j, v, n_bins)
        nz = marg > 0
        marg = marg / marg[nz].mean()
        # Square-root steps: plain w /= marg makes a block of bins whose
        # marginals are all c flip between c and 1/c forever.
        w[nz] /= np.sqrt(marg[nz])
        if marg[nz].var() < tol:
            converged = True
            break
    v = c * w[i] * w[j]
    marg = np.bincount(i, v, n_bins) + np.bincount(j, v, n_bins)
    scale = marg[marg > 0].mean()
    w = w / np.sqrt(scale)
    w[marg == 0] = np.nan
    return w, {
        "converged": converged,
        "scale": float(scale),
        "ignore_diags": ignore_diags,
        "tol": tol,
        "cis_only": False,
        "divisive_weights": False,
        "mad_max": 0,
        "min_nnz": 0,
        "min_count": 0,
    }


def write_cooler(genome: Genome, path: Path, rng, max_distance: int = 1_000_000, resolutions=COOL_RESOLUTIONS) -> None:
    """A balanced cooler with the genome's loops planted: multi-resolution (.mcool) or, for one resolution, a .cool."""
    import cooler
    import h5py

    base = resolutions[0]
    bins = cooler.binnify(pd.Series(genome.chroms), base)
    offsets = np.concatenate([[0], np.cumsum([-(-size // base) for size in genome.chroms.values()])])
    max_diag = max_distance // base
    parts = []
    for k, (chrom, size) in enumerate(genome.chroms.items()):
        enh = genome.enhancers[genome.enhancers.chrom == chrom]
        tss_bins = genome.genes.tss.to_numpy()[enh.gene_index.to_numpy()] // base
        i, j, c = _chrom_pixels(
            -(-size // base), max_diag, tss_bins, enh.centre.to_numpy() // base, enh.strength.to_numpy(), rng
        )
        parts.append(pd.DataFrame({"bin1_id": i + offsets[k], "bin2_id": j + offsets[k], "count": c}))

    def balance(uri):
        clr = cooler.Cooler(uri)
        pix = clr.pixels()[:]
        w, stats = ice_weights(pix.bin1_id.to_numpy(), pix.bin2_id.to_numpy(), pix["count"].to_numpy(), len(clr.bins()))
        file, _, group = uri.partition("::")
        with h5py.File(file, "r+") as h5:
            dset = h5[f"{group or '/'}/bins".replace("//", "/")].create_dataset("weight", data=w)
            dset.attrs.update(stats)

    if len(resolutions) == 1:
        with atomic_output(path) as tmp:
            cooler.create_cooler(str(tmp), bins, parts, ordered=True, assembly="simulated")
            balance(str(tmp))
        return
    single = path.parent / f".{path.name}.base.cool"
    try:
        cooler.create_cooler(str(single), bins, parts, ordered=True, assembly="simulated")
        with atomic_output(path) as tmp:
            cooler.zoomify_cooler(str(single), str(tmp), list(resolutions), chunksize=10_000_000)
            for res in resolutions:
                balance(f"{tmp}::resolutions/{res}")
    finally:
        if single.exists():
            single.unlink()


def write_interactions(genome: Genome, path: Path, rng) -> None:
    """pcHi-C-like BEDPE: TSS fragment - partner fragment, normalised score (> 1.5)."""
    g = genome.genes
    e = genome.enhancers
    tss = g.tss.to_numpy()[e.gene_index.to_numpy()]
    score = e.strength.to_numpy() * rng.lognormal(0.0, 0.15, len(e))
    half = e.width.to_numpy() // 2
    rows = pd.DataFrame(
        {
            "chrom1": e.chrom,
            "start1": tss - 1500,
            "end1": tss + 1500,
            "chrom2": e.chrom,
            "start2": e.centre - half,
            "end2": e.centre + half,
            "name": g.gene_id.to_numpy()[e.gene_index.to_numpy()],
            "score": np.round(score, 4),
            "strand1": g.strand.to_numpy()[e.gene_index.to_numpy()],
            "strand2": ".",
        }
    )
    # Weak contacts with unmarked regions, as real interaction lists have.
    k = len(g) // 2
    pick = rng.integers(0, len(g), k)
    offset = (rng.choice([-1, 1], k) * rng.uniform(30_000, 900_000, k)).astype(np.int64)
    centre = np.clip(
        g.tss.to_numpy()[pick] + offset, 10_000, np.array([genome.chroms[c] for c in g.chrom.to_numpy()[pick]]) - 10_000
    )
    decoys = pd.DataFrame(
        {
            "chrom1": g.chrom.to_numpy()[pick],
            "start1": g.tss.to_numpy()[pick] - 1500,
            "end1": g.tss.to_numpy()[pick] + 1500,
            "chrom2": g.chrom.to_numpy()[pick],
            "start2": centre - 3000,
            "end2": centre + 3000,
            "name": g.gene_id.to_numpy()[pick],
            "score": np.round(rng.uniform(1.6, 3.0, k), 4),
            "strand1": g.strand.to_numpy()[pick],
            "strand2": ".",
        }
    )
    table = pd.concat([rows, decoys], ignore_index=True).sort_values(["chrom1", "start1", "start2"], kind="stable")
    with atomic_output(path) as tmp:
        table.to_csv(tmp, sep="\t", header=False, index=False)


def write_gtf(genome: Genome, path: Path) -> None:
    g = genome.genes
    plus = g.strand.to_numpy() == "+"
    start = np.where(plus, g.tss, g.tss - g.length + 1)  # 0-based
    end = np.where(plus, g.tss + g.length, g.tss + 1)
    with atomic_output(path) as tmp, open(tmp, "w") as fh:
        fh.write("##description: chromoflow simulate\n")
        for i in range(len(g)):
            attrs = f'gene_id "{g.gene_id.iat[i]}"; gene_type "{g.gene_type.iat[i]}"; gene_name "SIM{i + 1}";'
            fh.write(
                f"{g.chrom.iat[i]}\tchromoflow\tgene\t{max(start[i], 0) + 1}\t{end[i]}\t.\t{g.strand.iat[i]}\t.\t{attrs}\n"
            )


def simulate(
    outdir: str | os.PathLike,
    n_genes: int = 1000,
    seed: int = 0,
    cool: bool = True,
    samples=SAMPLES,
    assembly: str = "hg19",
) -> Genome:
    """Write the synthetic cell-type pair to ``outdir`` (see the module docstring): every file, or (a failed run)
    none of them and no new folder."""
    genome = simulate_genome(n_genes, seed, assembly)
    with all_or_nothing(), output_folder(outdir) as folder:
        _write(genome, folder, seed, cool, samples)
    return genome


def _write(genome: Genome, folder: Path, seed: int, cool: bool, samples) -> None:
    # Independent streams per output keep each file reproducible on its own.
    streams = np.random.default_rng(seed + 1).spawn(4)
    with atomic_output(folder / "chrom.sizes") as tmp:
        pd.Series(genome.chroms).to_csv(tmp, sep="\t", header=False)
    write_gtf(genome, folder / "genes.gtf")
    write_tracks(genome, folder, streams[0], samples)
    write_interactions(genome, folder / "interactions.bedpe", streams[1])
    if cool:
        write_cooler(genome, folder / "contacts.mcool", streams[2])
    expr = pd.DataFrame({"gene_id": genome.genes.gene_id})
    for s, sample in enumerate(samples):
        expr[sample] = np.round(np.exp2(genome.log_expression[:, s]) - 1.0, 3)
    with atomic_output(folder / "expression.tsv") as tmp:
        expr.to_csv(tmp, sep="\t", index=False)
    truth = genome.genes[["gene_id", "chrom", "tss", "strand"]].copy()
    truth["n_loops"] = np.bincount(genome.enhancers.gene_index, minlength=len(truth))
    for s, sample in enumerate(samples):
        truth[f"promoter_{sample}"] = np.round(genome.promoter[:, s], 4)
        truth[f"distal_{sample}"] = np.round(genome.distal[:, s], 4)
        truth[f"elongation_{sample}"] = np.round(genome.elongation[:, s], 4)
        truth[f"log2_expression_{sample}"] = np.round(genome.log_expression[:, s], 4)
    with atomic_output(folder / "truth.tsv") as tmp:
        truth.to_csv(tmp, sep="\t", index=False)
    contacts = f"contacts.mcool::resolutions/{COOL_RESOLUTIONS[0]}" if cool else "interactions.bedpe"
    sheet = pd.DataFrame(
        [
            {
                "sample": sample,
                "mark": mark,
                "track": f"{sample}-{mark}.bw",
                "contacts": contacts,
                "expression": "expression.tsv",
            }
            for sample in samples
            for mark in MARKS
        ]
    )
    with atomic_output(folder / "samplesheet.csv") as tmp:
        sheet.to_csv(tmp, index=False)
