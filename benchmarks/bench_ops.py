"""Operators per training step: the hardware-independent proxy for GPU launch overhead.

One training step of Chromoformer at the published size (forward, backward,
AdamW step; batch assembly excluded), batch 64 of the real demo genes, under
``torch.profiler`` on the CPU:

- *leaf aten operators*: every ``aten::`` event without ``aten::`` children
  (views included), the count the issue asks for;
- *compute operators*: those less the views and allocations (``view``,
  ``as_strided``, ``transpose``, ``empty``…), i.e. what launches a kernel
  on a GPU;
- the same for the official package's model (its own AdamW) and, with
  ``--compile``, for chromoflow's ``torch.compile`` path: the kernels Inductor
  generated for the forward and backward graphs (each runs once per step)
  plus the aten operators left outside them (loss, optimiser); compiling
  takes minutes on a CPU.

With ``--device cuda`` the model and batch live on the GPU and each profile
also counts the CUDA kernels launched in the step (``cuda_kernels``), the
figure the aten counts stand in for on a CPU.

Usage: python benchmarks/bench_ops.py [--batch 64] [--compile] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from bench_train import demo_dataset, to_device  # noqa: E402
from conftest import official_inputs  # noqa: E402

from chromoflow.data.dataset import GeneDataset  # noqa: E402
from chromoflow.models.chromoformer import Chromoformer  # noqa: E402

VIEWS = {
    "aten::view",
    "aten::as_strided",
    "aten::_unsafe_view",
    "aten::_reshape_alias",
    "aten::resolve_conj",
    "aten::resolve_neg",
    "aten::detach",
    "aten::expand",
    "aten::transpose",
    "aten::permute",
    "aten::unsqueeze",
    "aten::squeeze",
    "aten::select",
    "aten::slice",
    "aten::t",
    "aten::alias",
    "aten::split",
    "aten::chunk",
    "aten::unbind",
    "aten::narrow",
    "aten::empty",
    "aten::empty_strided",
    "aten::empty_like",
    "aten::lift_fresh",
    "aten::_local_scalar_dense",
    "aten::item",
}


def count(prof) -> dict:
    events = prof.events()
    kernels = sum(1 for e in events if e.device_type == torch.autograd.DeviceType.CUDA)
    leaf = [
        e
        for e in events
        if e.name.startswith("aten::") and not any(c.name.startswith("aten::") for c in e.cpu_children)
    ]
    compute = [e for e in leaf if e.name not in VIEWS]
    return {
        "leaf_aten": len(leaf),
        "compute": len(compute),
        "cuda_kernels": kernels,
        "top": Counter(e.name for e in compute).most_common(8),
    }


def profile_step(step, device: torch.device) -> dict:
    from torch.profiler import ProfilerActivity, profile

    for _ in range(2):
        step()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        step()
        if device.type == "cuda":
            torch.cuda.synchronize()
    return count(prof)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument(
        "--compile", action="store_true", help="also count the torch.compile path (minutes of compiling on a CPU)"
    )
    ap.add_argument("--device", default="cpu", help="cpu or cuda (the official model runs on it too)")
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        ds = GeneDataset.load(demo_dataset(Path(tmp)))
    idx = np.resize(np.arange(len(ds)), args.batch)
    labels = torch.randint(0, 2, (args.batch,)).to(device)
    result = {
        "machine": f"{platform.machine()}, torch {torch.__version__}",
        "date": time.strftime("%Y-%m-%d"),
        "batch": args.batch,
    }

    model = Chromoformer(7, 2).to(device)
    batch = ds.batch(idx).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-5, weight_decay=0.01, fused=True)

    def step(forward=model):
        loss = torch.nn.functional.cross_entropy(forward(batch), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    result["chromoflow eager"] = profile_step(step, device)
    result["parameter tensors"] = sum(1 for _ in model.parameters())

    try:
        from chromoformer.net import ChromoformerClassifier
    except ImportError:
        ChromoformerClassifier = None
    if ChromoformerClassifier is not None:
        official = ChromoformerClassifier().to(device)
        dense = to_device(official_inputs(ds.batch(idx)), device)
        off_opt = torch.optim.AdamW(official.parameters(), lr=3e-5, weight_decay=0.01)
        saved = torch.Tensor.cuda
        if device.type != "cuda":
            torch.Tensor.cuda = lambda self, *a, **k: self  # the official code calls .cuda() unconditionally

        def official_step():
            loss = torch.nn.functional.cross_entropy(official(*dense), labels)
            off_opt.zero_grad(set_to_none=True)
            loss.backward()
            off_opt.step()

        try:
            result["official eager"] = profile_step(official_step, device)
        finally:
            torch.Tensor.cuda = saved

    if args.compile:
        from torch._inductor import metrics as inductor

        compiled = torch.compile(model, dynamic=True)
        inductor.generated_kernel_count = 0
        start = time.perf_counter()
        step(compiled)
        result["compile seconds"] = round(time.perf_counter() - start, 1)
        # Inductor's CPU kernels are not profiler events: count those it generated for the
        # forward and backward graphs (straight-line code, each runs once per step).
        result["compiled kernels (forward + backward graphs)"] = inductor.generated_kernel_count
        result["chromoflow compiled"] = profile_step(lambda: step(compiled), device)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
