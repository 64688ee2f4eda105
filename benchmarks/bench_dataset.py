"""Dataset preparation and loading speed (issue: data preparation).

Builds a simulated genome of --genes genes (default 19,000, the protein-coding
gene count of the published setting), extracts pCREs from its pcHi-C-like
interaction list, then measures:

- ``chromoflow dataset`` for one sample (7 bigWig marks, up to 8 pCREs per
  gene): wall time and peak memory of the whole process tree;
- reading the dataset into shuffled batches of 64 (genes/s), as training does;
- for reference, the official ``chromoformer`` loader on the bundled demo genes
  (it re-bins per-base .npy arrays at every step), genes/s on one core.

Usage: python benchmarks/bench_dataset.py [--genes 19000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from _measure import REPO, chromoflow, timed

MARKS = ["H3K4me1", "H3K4me3", "H3K9me3", "H3K27me3", "H3K36me3", "H3K27ac", "H3K9ac"]


def loader_throughput(path: Path, batch: int = 64, rounds: int = 3) -> float:
    from chromoflow.data.dataset import GeneDataset

    ds = GeneDataset.load(path)
    rng = np.random.default_rng(0)
    n, start = 0, time.perf_counter()
    for _ in range(rounds):
        order = rng.permutation(len(ds))
        for i in range(0, len(order), batch):
            n += len(ds.batch(order[i : i + batch])["index"])
    return n / (time.perf_counter() - start)


def official_loader_throughput() -> float | None:
    """genes/s of chromoformer.data.ChromoformerDataset on the demo genes (one core)."""
    try:
        import pandas as pd
        import torch
        from chromoformer.data import ChromoformerDataset
    except ImportError:
        return None
    from chromoflow.prep.tracks import BigWigTrack

    torch.set_num_threads(1)
    demo = REPO / "tests" / "data" / "chromoformer-demo-E003"
    meta = pd.read_csv(demo / "demo_meta.csv")
    tracks = [BigWigTrack(demo / f"E003-{m}.bw") for m in MARKS]
    with tempfile.TemporaryDirectory() as tmp:

        def dump(chrom, s, e):
            np.save(f"{tmp}/{chrom}:{s}-{e}.npy", np.stack([t.values(chrom, s, e) for t in tracks]).astype(np.float16))

        for r in meta.itertuples():
            dump(r.chrom, r.start - 20_000, r.start + 20_000)
            for n in r.neighbors.split(";"):
                c, se = n.split(":")
                dump(c, *map(int, se.split("-")))
        ds = ChromoformerDataset(str(demo / "demo_meta.csv"), tmp, meta.gene_id.tolist())
        start = time.perf_counter()
        for _ in range(3):
            for i in range(len(ds)):
                ds[i]
        return 3 * len(ds) / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--genes", type=int, default=19_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--workdir", default=str(REPO / "benchmarks" / "out" / "dataset"))
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    sim = work / f"sim{args.genes}"
    if not (sim / "samplesheet.csv").exists():
        print(f"simulating {args.genes} genes in {sim} …", flush=True)
        timed(chromoflow("simulate", "--genes", args.genes, "--no-cool", "--seed", 1, "-o", sim))
    timed(chromoflow("genes", "--gtf", sim / "genes.gtf", "-o", work / "genes.tsv"))
    pcres = timed(
        chromoflow(
            "pcres", "--genes", work / "genes.tsv", "--contacts", sim / "interactions.bedpe", "-o", work / "pcres.tsv"
        )
    )
    tracks = [a for m in MARKS for a in ("--track", f"{m}={sim / f'cellA-{m}.bw'}")]
    out = work / "cellA.h5"
    build = timed(
        chromoflow(
            "dataset",
            "--sample",
            "cellA",
            "--genes",
            work / "genes.tsv",
            "--pcres",
            work / "pcres.tsv",
            *tracks,
            "--expression",
            sim / "expression.tsv",
            "-j",
            args.jobs,
            "-o",
            out,
        )
    )
    n_pcres = sum(1 for _ in open(work / "pcres.tsv")) - 1
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "genes": args.genes,
        "pcres": n_pcres,
        "jobs": args.jobs,
        "pcres_seconds": round(pcres["seconds"], 2),
        "dataset_seconds": round(build["seconds"], 1),
        "dataset_peak_mib": round(build["peak_mib"]),
        "dataset_mib_on_disk": round(out.stat().st_size / 2**20),
        "loader_genes_per_s": round(loader_throughput(out)),
        "official_loader_genes_per_s": official_loader_throughput(),
    }
    if result["official_loader_genes_per_s"] is not None:
        result["official_loader_genes_per_s"] = round(result["official_loader_genes_per_s"], 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
