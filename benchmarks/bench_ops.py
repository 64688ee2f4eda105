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
  ``--compile``, for chromoflow's ``torch.compile`` path, where every fused
  Inductor kernel is one event (compiling takes minutes on a CPU).

Usage: python benchmarks/bench_ops.py [--batch 64] [--compile]
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
from bench_train import demo_dataset  # noqa: E402
from conftest import official_inputs  # noqa: E402

from chromoflow.data.dataset import GeneDataset  # noqa: E402
from chromoflow.models.chromoformer import Chromoformer  # noqa: E402
from chromoflow.training.batches import to_tensors  # noqa: E402

VIEWS = {
    "aten::view", "aten::as_strided", "aten::_unsafe_view", "aten::_reshape_alias", "aten::resolve_conj", "aten::resolve_neg", "aten::detach",
    "aten::expand", "aten::transpose", "aten::permute", "aten::unsqueeze", "aten::squeeze", "aten::select", "aten::slice", "aten::t",
    "aten::alias", "aten::split", "aten::chunk", "aten::unbind", "aten::narrow", "aten::empty", "aten::empty_strided", "aten::empty_like",
    "aten::lift_fresh", "aten::_local_scalar_dense", "aten::item",
}


def count(prof) -> dict:
    events = prof.events()
    leaf = [e for e in events if e.name.startswith("aten::") and not any(c.name.startswith("aten::") for c in e.cpu_children)]
    compiled = [e for e in events if e.name.startswith(("cpp_fused", "triton_", "Torch-Compiled Region", "CompiledFunction"))]
    compute = [e for e in leaf if e.name not in VIEWS]
    return {"leaf_aten": len(leaf), "compute": len(compute), "compiled_kernels": sum(e.name.startswith(("cpp_fused", "triton_")) for e in compiled), "top": Counter(e.name for e in compute).most_common(8)}


def profile_step(step) -> dict:
    from torch.profiler import ProfilerActivity, profile

    for _ in range(2):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    return count(prof)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--compile", action="store_true", help="also count the torch.compile path (minutes of compiling on a CPU)")
    args = ap.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        ds = GeneDataset.load(demo_dataset(Path(tmp)))
    idx = np.resize(np.arange(len(ds)), args.batch)
    labels = torch.randint(0, 2, (args.batch,))
    result = {"machine": f"{platform.machine()}, torch {torch.__version__}", "date": time.strftime("%Y-%m-%d"), "batch": args.batch}

    model = Chromoformer(7, 2)
    batch = to_tensors(ds.batch(idx, pcre_format="packed"))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-5, weight_decay=0.01, fused=True)

    def step(forward=model):
        loss = torch.nn.functional.cross_entropy(forward(batch), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    result["chromoflow eager"] = profile_step(step)
    result["parameter tensors"] = sum(1 for _ in model.parameters())

    try:
        from chromoformer.net import ChromoformerClassifier
    except ImportError:
        ChromoformerClassifier = None
    if ChromoformerClassifier is not None:
        official = ChromoformerClassifier()
        dense = official_inputs(ds.batch(idx))
        off_opt = torch.optim.AdamW(official.parameters(), lr=3e-5, weight_decay=0.01)
        saved = torch.Tensor.cuda
        torch.Tensor.cuda = lambda self, *a, **k: self  # the official code calls .cuda() unconditionally

        def official_step():
            loss = torch.nn.functional.cross_entropy(official(*dense), labels)
            off_opt.zero_grad(set_to_none=True)
            loss.backward()
            off_opt.step()

        try:
            result["official eager"] = profile_step(official_step)
        finally:
            torch.Tensor.cuda = saved

    if args.compile:
        compiled = torch.compile(model, dynamic=True)
        start = time.perf_counter()
        step(compiled)
        result["compile seconds"] = round(time.perf_counter() - start, 1)
        result["chromoflow compiled"] = profile_step(lambda: step(compiled))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
