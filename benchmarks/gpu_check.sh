#!/usr/bin/env bash
# The GPU check of the default (27M) HRM, under 5 minutes on one GPU: training step at batch 768
# with bf16 autocast, eager and torch.compile (examples/s, peak GPU memory), and CPU against GPU
# logits in fp32. Options go to benchmarks/gpu_check.py (--help lists them). Exit status 2: no
# CUDA device, nothing measured.
#
#   bash benchmarks/gpu_check.sh [--task arc] [--batch 768] [--no-compile]
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
fi
PYTHONUNBUFFERED=1 exec timeout 300 python benchmarks/gpu_check.py "$@"
