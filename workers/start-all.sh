#!/usr/bin/env bash
# One worker for every queue (single-host installs; `make worker` runs this).
#   QUEUES              queues to consume (default: default,ingest,email,ml_cpu,ml_gpu)
#   CELERY_CONCURRENCY  processes (default: number of CPUs)
#   BEAT                1 also runs the periodic scheduler (smartmkt/schedules.py) in this
#                       process; default 0 because `make beat` / start-beat.sh runs it
#   LOG_LEVEL           celery log level (default: INFO)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
beat=()
if [ "${BEAT:-0}" = "1" ]; then
  beat=(--beat --scheduler django_celery_beat.schedulers:DatabaseScheduler)
fi
exec "$CELERY" -A smartmkt worker \
  -Q "${QUEUES:-default,ingest,email,ml_cpu,ml_gpu}" \
  -P prefork \
  --concurrency "${CELERY_CONCURRENCY:-$(nproc)}" \
  --prefetch-multiplier 1 \
  -n "all-$$@%h" \
  --loglevel "${LOG_LEVEL:-INFO}" \
  ${beat[@]+"${beat[@]}"}
