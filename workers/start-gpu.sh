#!/usr/bin/env bash
# GPU-host worker: training runs (queue ml_gpu), one job at a time.
# Nothing CUDA-specific is set here: each run picks "cuda" when torch sees a GPU, else "cpu".
# A fresh child process per job returns all GPU memory to the driver between jobs.
#   LOG_LEVEL   celery log level (default: INFO)
# Set ML_GPU_QUEUE_ENABLED=1 wherever runs are started (web app, CPU workers, CLI) so they are
# sent here; without it they go to ml_cpu and this worker idles.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
exec "$CELERY" -A smartmkt worker \
  -Q ml_gpu \
  -P prefork \
  --concurrency 1 \
  --prefetch-multiplier 1 \
  --max-tasks-per-child 1 \
  -n "gpu-$$@%h" \
  --loglevel "${LOG_LEVEL:-INFO}"
