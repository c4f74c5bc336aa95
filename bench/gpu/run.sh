#!/usr/bin/env bash
# One command on a machine with an NVIDIA GPU and PyTorch (no Node needed): DSOD300 training images/s of the torch
# engine (bf16 autocast, channels-last, cudnn.benchmark) vs eager fp32 at batch 128 (or the largest that fits), the
# median of timed steps, peak GPU memory; a markdown table in $OUT/gpu-bench.md (else bench/gpu/results.md).
# Under 8 minutes: each configuration is limited to 200 s. Extra arguments go to gpu_bench.py (see its --help).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${DSOD_PYTHON:-python3}"
"$PY" -c 'import torch' 2>/dev/null || PY=/usr/bin/python3
PYTHONDONTWRITEBYTECODE=1 exec "$PY" bench/gpu/gpu_bench.py "$@"
