"""In-silico perturbation throughput: perturbed gene-inputs per second.

The demo's simulated 2,000-gene dataset (see ``bench_precision.build``),
Chromoformer at the published size (random weights: speed does not depend on
them), every gene: each pCRE knocked out, and all seven marks silenced at the
promoter and at each pCRE (``chromoflow perturb --silence all``), batched as
``perturb`` does (``--batch-size`` inputs per forward pass). Reports inputs/s,
excluding the one-time model load.

Usage: python benchmarks/bench_perturb.py [--device cpu|cuda] [--genes 300] [--batch-size 512]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from bench_precision import build

from chromoflow.data.dataset import GeneDataset
from chromoflow.data.task_data import dataset_info
from chromoflow.interpret.perturb import Perturber, Plan
from chromoflow.models.checkpoint import load_model, model_file, save_torch
from chromoflow.models.chromoformer import Chromoformer
from chromoflow.models.registry import build_model
from chromoflow.runtime import pick_device
from chromoflow.training.config import resolve_config


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--genes", type=int, default=300, help="genes perturbed (the first N of the dataset)")
    ap.add_argument("--batch-size", type=int, default=512)
    args = ap.parse_args()
    dev = pick_device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        ds = GeneDataset.load(build(Path(tmp)))
        cfg = resolve_config("chromoformer", "default")
        torch.manual_seed(0)
        model = build_model(
            "chromoformer", len(ds.marks), "regression", {**cfg.model.as_dict(), **Chromoformer.geometry(ds)}
        )
        ckpt = Path(tmp) / "model.pt"
        save_torch(
            model_file(model, "chromoformer", "regression", cfg.as_dict(), dataset_info(ds), None, 1, 0, 0, {}, []),
            ckpt,
        )
        model, info = load_model(ckpt)
        model.to(dev)
        perturber = Perturber(model, info, ds, dev, batch_size=args.batch_size)
        plan = Plan(
            knockout=True, silence_marks=tuple(range(len(ds.marks))), silence_at=("promoter", "pcres"), factor=0.0
        )
        positions = np.arange(min(args.genes, len(ds)))
        perturber.run(positions[:8], plan, desc="warm-up")
        if dev.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        effects = perturber.run(positions, plan)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    inputs = len(effects) + len(positions)  # every perturbation plus each gene's baseline
    result = {
        "device": torch.cuda.get_device_name(dev)
        if dev.type == "cuda"
        else f"{platform.machine()} CPU, {torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "genes": len(positions),
        "pcres": int(ds.genes["pcre_count"].to_numpy()[positions].sum()),
        "perturbed_inputs": inputs,
        "seconds": round(seconds, 2),
        "inputs_per_s": round(inputs / seconds, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
