"""Does bf16 mixed precision (and torch.compile) change what a model learns?

The simulated benchmark of ``make demo`` (``chromoflow simulate --genes 2000
--seed 1 --no-cool``; pCREs from its interaction list): Chromoformer, log2
expression regression, held-out fold 1, the demo's settings (tiny config,
12 epochs), trained with several seeds in fp32 and in bf16 autocast (and,
with ``--compile``, fp32 through ``torch.compile``). Reports each run's
held-out Pearson r and the verdict: a precision's mean may differ from
fp32's by at most ``--tolerance`` (default: twice the seed-to-seed standard
deviation of fp32, and at least 0.01), i.e. within the noise of training itself.

On a CPU, bf16 autocast runs the same bf16 matmuls and fp32 reductions as on a
GPU (different kernels, so not bit-equal); run it with ``--device cuda`` on a GPU
for the GPU's own figure.

Usage: python benchmarks/bench_precision.py [--seeds 0,1,2] [--device cpu] [--compile [--variants fp32,fp32-compiled]] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from chromoflow.training.train import train

REPO = Path(__file__).resolve().parents[1]


def build(work: Path) -> Path:
    """The demo's dataset: simulate, pCREs, dataset (the CLI, as a user runs it)."""
    exe = [sys.executable, "-m", "chromoflow"]
    sim = work / "sim"
    subprocess.run(
        [*exe, "simulate", "--genes", "2000", "--seed", "1", "--no-cool", "-o", sim], check=True, capture_output=True
    )
    subprocess.run(
        [*exe, "genes", "--gtf", sim / "genes.gtf", "-o", work / "genes.tsv"], check=True, capture_output=True
    )
    subprocess.run(
        [
            *exe,
            "pcres",
            "--genes",
            work / "genes.tsv",
            "--contacts",
            sim / "interactions.bedpe",
            "-o",
            work / "pcres.tsv",
        ],
        check=True,
        capture_output=True,
    )
    marks = ["H3K4me1", "H3K4me3", "H3K9me3", "H3K27me3", "H3K36me3", "H3K27ac", "H3K9ac"]
    tracks = [a for m in marks for a in ("--track", f"{m}={sim / f'cellA-{m}.bw'}")]
    out = work / "cellA.h5"
    subprocess.run(
        [
            *exe,
            "dataset",
            "--genes",
            work / "genes.tsv",
            "--pcres",
            work / "pcres.tsv",
            *tracks,
            "--expression",
            sim / "expression.tsv",
            "--sample",
            "cellA",
            "-o",
            out,
        ],
        check=True,
        capture_output=True,
    )
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--compile", action="store_true", help="also fp32 through torch.compile")
    ap.add_argument("--variants", help="only these, e.g. fp32,fp32-compiled (fp32 is always the reference)")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--tolerance", type=float)
    ap.add_argument("--json")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    variants = {"fp32": dict(precision="fp32", compile="off"), "bf16": dict(precision="bf16", compile="off")}
    if args.compile:
        variants["fp32-compiled"] = dict(precision="fp32", compile="on")
    if args.variants:
        keep = {"fp32", *args.variants.split(",")}
        variants = {k: v for k, v in variants.items() if k in keep}
    results = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        h5 = build(work)
        for name, opts in variants.items():
            for seed in seeds:
                start = time.perf_counter()
                m = train(
                    h5,
                    "chromoformer",
                    "regression",
                    1,
                    work / f"{name}-{seed}",
                    config="tiny",
                    epochs=args.epochs,
                    device=args.device,
                    seed=seed,
                    **opts,
                )
                r = m["heldout"]["pearson_r"]
                results[name].append(r)
                print(
                    f"{name:14s} seed {seed}: held-out pearson r {r:.4f} ({time.perf_counter() - start:.0f} s, {m['samples_per_s']:.0f} genes/s)",
                    flush=True,
                )
    sd = statistics.stdev(results["fp32"]) if len(seeds) > 1 else 0.0
    tol = args.tolerance if args.tolerance is not None else max(2 * sd, 0.01)
    ref = statistics.mean(results["fp32"])
    summary = {}
    for name, rs in results.items():
        mean = statistics.mean(rs)
        summary[name] = {
            "pearson_r": rs,
            "mean": mean,
            "sd": statistics.stdev(rs) if len(rs) > 1 else 0.0,
            "diff_vs_fp32": mean - ref,
            "within_tolerance": abs(mean - ref) <= tol,
        }
        print(
            f"{name:14s} mean r {mean:.4f} (sd {summary[name]['sd']:.4f}), {mean - ref:+.4f} vs fp32 -> {'within' if abs(mean - ref) <= tol else 'OUTSIDE'} tolerance {tol:.4f}"
        )
    record = {
        "device": args.device if args.device == "cpu" else torch.cuda.get_device_name(),
        "machine": platform.machine(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "seeds": seeds,
        "epochs": args.epochs,
        "tolerance": tol,
        "results": summary,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(record, indent=2))
    sys.exit(0 if all(v["within_tolerance"] for v in summary.values()) else 1)


if __name__ == "__main__":
    main()
