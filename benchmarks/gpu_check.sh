#!/usr/bin/env bash
# The GPU measurements of benchmarks/README.md in one call (about 10 minutes on an H100):
# throughput and peak memory vs the official package (eager and compiled), operators and
# CUDA kernels per step (eager and compiled), perturbation inputs/s, and bf16/compiled vs fp32 held-out accuracy. Results in ${OUT:-gpu-results}/.
# Needs a CUDA GPU and the bench extra: pip install -e ".[test,bench]" chromoformer==1.1.3
set -euo pipefail
out=${OUT:-gpu-results}
mkdir -p "$out"
out=$(cd "$out" && pwd)  # absolute: the scripts run from benchmarks/
cd "$(dirname "$0")"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/device.csv" || true
python bench_train.py --device cuda --steps 20 --json "$out/train_eager.json" 2>&1 | tail -n 40
python bench_train.py --device cuda --steps 20 --compile --json "$out/train_compiled.json" 2>&1 | tail -n 40
python bench_ops.py --device cuda --compile > "$out/ops.json" 2> "$out/ops.err" || tail -n 20 "$out/ops.err"
python bench_perturb.py --device cuda --genes 2000 > "$out/perturb.json" 2> "$out/perturb.err" || tail -n 20 "$out/perturb.err"
python bench_precision.py --device cuda --seeds 0,1,2 --compile --json "$out/precision.json" 2>&1 | tail -n 20 || true
