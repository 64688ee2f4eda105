"""pCREs from a genome-wide Hi-C matrix (issue: every lab's files).

Simulates a human-sized genome (--genes genes, default 19,000) and writes its
contact map at 10 kb within --band bp of the diagonal as a balanced .cool and
the same pixels as a .hic (hictkpy's writer; it stores no normalisation, so
the .hic is scored on raw counts with --no-balance), then times
``chromoflow pcres`` on each: wall time and peak memory of the process.

Usage: python benchmarks/bench_pcres.py [--genes 19000] [--band 2000000]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _measure import chromoflow, timed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genes", type=int, default=19_000)
    ap.add_argument(
        "--band", type=int, default=2_000_000, help="simulated pixels reach this far from the diagonal (bp)"
    )
    ap.add_argument("--workdir", type=Path, help="keep the files here (default: a temporary folder)")
    args = ap.parse_args()

    import hictkpy

    from chromoflow.prep.genes import write_genes
    from chromoflow.prep.simulate import simulate_genome, write_cooler

    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        genome = simulate_genome(args.genes, seed=1)
        genes = genome.genes[["gene_id", "chrom", "tss", "strand"]]
        write_genes(genes, work / "genes.tsv")
        cool = work / "contacts.10kb.cool"
        write_cooler(genome, cool, np.random.default_rng(2), max_distance=args.band, resolutions=(10_000,))
        import cooler

        clr = cooler.Cooler(str(cool))
        hic = work / "contacts.10kb.hic"
        writer = hictkpy.hic.FileWriter(str(hic), clr.chromsizes.to_dict(), 10_000, n_threads=2, tmpdir=str(work))
        for lo in range(0, clr.info["nnz"], 20_000_000):
            pix = clr.pixels()[lo : lo + 20_000_000]
            writer.add_pixels(
                pd.DataFrame({"bin1_id": pix.bin1_id, "bin2_id": pix.bin2_id, "count": pix["count"].astype(np.int32)})
            )
        writer.finalize()
        made = time.perf_counter() - t0
        rows = {}
        for name, args_ in (("cool", [cool]), ("hic (--no-balance)", [hic, "--no-balance"])):
            out = work / f"pcres.{name.split()[0]}.tsv"
            r = timed(
                chromoflow(
                    "pcres",
                    "--genes",
                    work / "genes.tsv",
                    "--contacts",
                    args_[0],
                    "--max-length",
                    10_000,
                    *args_[1:],
                    "-o",
                    out,
                )
            )
            r["pcres"] = int(len(pd.read_csv(out, sep="\t")))
            rows[name] = r
        a = pd.read_csv(work / "pcres.cool.tsv", sep="\t")
        result = {
            "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
            "date": time.strftime("%Y-%m-%d"),
            "genes": args.genes,
            "bins_10kb": int(len(clr.bins())),
            "pixels": int(clr.info["nnz"]),
            "setup_seconds": round(made, 1),
            "runs": rows,
            "genes_with_pcres": int(a.gene_id.nunique()),
        }
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
