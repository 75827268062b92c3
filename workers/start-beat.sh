#!/usr/bin/env bash
# The periodic scheduler (smartmkt/schedules.py), when workers run with BEAT=0 or on many
# hosts. Run exactly one per installation.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
exec "$CELERY" -A smartmkt beat \
  --scheduler django_celery_beat.schedulers:DatabaseScheduler \
  --loglevel "${LOG_LEVEL:-INFO}"
