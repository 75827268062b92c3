# Shared by the start-*.sh scripts (sourced, not run): project root and the celery binary.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The project's virtualenv when there is one (a checkout), else celery on PATH (the image).
if [ -z "${CELERY:-}" ]; then
  if [ -x .venv/bin/celery ]; then CELERY=.venv/bin/celery; else CELERY=celery; fi
fi
