"""Chromoformer training and prediction throughput: chromoflow vs the official package.

Same device, same batch size, same inputs: the 18 real demo genes (Roadmap E003,
mostly 8 pCREs each, the heaviest case for chromoflow's packed pCREs), repeated
to fill batches. The official model (``chromoformer==1.1.3``, published size,
fp32 as its training script runs) gets its inputs pre-built as padded tensors
with dense masks, so its data loading is not counted; chromoflow gets packed
batches from ``GeneDataset.batch``. A training step is forward + backward +
AdamW step. On a GPU, chromoflow runs under bf16 autocast and peak memory is
recorded for both.

Also measured: chromoflow's loader alone (batches/s -> genes/s), to show it
keeps ahead of the model.

chromoflow runs as ``chromoflow train`` does: fused AdamW, and with
``--compile`` its forward through ``torch.compile`` (compile time reported
separately, not in the throughput).

Usage: python benchmarks/bench_train.py [--device cpu|cuda] [--batch 64] [--steps 10] [--compile] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import DEMO, MARKS, official_inputs, run  # noqa: E402

from chromoflow.data.dataset import GeneDataset  # noqa: E402
from chromoflow.models.chromoformer import Chromoformer  # noqa: E402


def demo_dataset(folder: Path) -> Path:
    run("genes", "--bed", DEMO / "genes.bed", "-o", folder / "genes.tsv")
    run("pcres", "--genes", folder / "genes.tsv", "--contacts", DEMO / "pcres.bedpe", "-o", folder / "pcres.tsv")
    tracks = [a for m in MARKS for a in ("--track", f"{m}={DEMO / f'E003-{m}.bw'}")]
    run(
        "dataset",
        "--sample",
        "E003",
        "--genes",
        folder / "genes.tsv",
        "--pcres",
        folder / "pcres.tsv",
        *tracks,
        "--expression",
        DEMO / "expression.tsv",
        "-o",
        folder / "E003.h5",
    )
    return folder / "E003.h5"


def to_device(obj, device):
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


def timeit(step, steps: int, device) -> float:
    """Seconds per call, after two warm-up calls."""
    for _ in range(2):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def measure(model, make_args, call, device, batch, steps, train: bool, amp: bool, fused: bool = False):
    model.to(device)
    args = make_args()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-5, weight_decay=0.01, **({"fused": True} if fused else {}))
    labels = torch.randint(0, 2, (batch,), device=device)
    ctx = (
        (lambda: torch.autocast("cuda", dtype=torch.bfloat16))
        if amp
        else (lambda: torch.autocast("cpu", enabled=False))
    )

    def train_step():
        model.train()
        with ctx():
            out = call(model, args)
        loss = torch.nn.functional.cross_entropy(out.float(), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    @torch.no_grad()
    def predict_step():
        model.eval()
        with ctx():
            call(model, args)

    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    sec = timeit(train_step if train else predict_step, steps, device)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None
    return {"genes_per_s": batch / sec, "peak_mib": peak}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument(
        "--compile",
        action="store_true",
        help="chromoflow's forward through torch.compile (dynamic shapes), as --compile on",
    )
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    from chromoformer.net import ChromoformerClassifier

    saved_cuda = torch.Tensor.cuda
    if device.type == "cpu":
        torch.Tensor.cuda = lambda self, *a, **k: self  # the official code calls .cuda() unconditionally

    with tempfile.TemporaryDirectory() as tmp:
        ds = GeneDataset.load(demo_dataset(Path(tmp)))
    idx = np.resize(np.arange(len(ds)), args.batch)
    amp = device.type == "cuda"
    results = {
        "device": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"{platform.machine()} CPU, {torch.get_num_threads()} threads",
        "batch": args.batch,
        "torch": torch.__version__,
    }

    torch.manual_seed(42)
    official = ChromoformerClassifier()
    ours = Chromoformer(n_feats=7, n_out=2)
    ours.load_state_dict(official.state_dict())
    dense = ds.batch(idx)
    official_args = lambda: to_device(official_inputs(dense), device)  # noqa: E731
    ours_args = lambda: ds.batch(idx).to(device)  # noqa: E731
    call_official = lambda m, a: m(*a)  # noqa: E731
    call_ours = lambda m, a: m(a)  # noqa: E731
    if args.compile:
        compiled = torch.compile(ours, dynamic=True)
        ours.to(device)
        start = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            compiled(ours_args()).float().sum().backward()
        results["compile_seconds"] = time.perf_counter() - start
        call_ours = lambda m, a: compiled(a)  # noqa: E731
    results["chromoflow_compiled"] = args.compile
    for phase, train in (("train", True), ("predict", False)):
        o = measure(official, official_args, call_official, device, args.batch, args.steps, train, amp=False)
        c = measure(ours, ours_args, call_ours, device, args.batch, args.steps, train, amp=amp, fused=True)
        results[phase] = {"official": o, "chromoflow": c, "speedup": c["genes_per_s"] / o["genes_per_s"]}
        if o["peak_mib"] is not None:
            results[phase]["memory_ratio"] = c["peak_mib"] / o["peak_mib"]
    # The loader alone: packed batches to device tensors.
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < 2.0:
        ds.batch(idx).to(device)
        n += args.batch
    results["loader_genes_per_s"] = n / (time.perf_counter() - start)
    torch.Tensor.cuda = saved_cuda
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
