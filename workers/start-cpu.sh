#!/usr/bin/env bash
# CPU worker: web-facing queues plus CPU training. Run one or more per CPU host.
#   CELERY_CONCURRENCY  processes (default: number of CPUs)
#   QUEUES              override the queue list (default: default,ingest,email,ml_cpu)
#   LOG_LEVEL           celery log level (default: INFO)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
exec "$CELERY" -A smartmkt worker \
  -Q "${QUEUES:-default,ingest,email,ml_cpu}" \
  -P prefork \
  --concurrency "${CELERY_CONCURRENCY:-$(nproc)}" \
  --prefetch-multiplier 1 \
  -n "cpu-$$@%h" \
  --loglevel "${LOG_LEVEL:-INFO}"
