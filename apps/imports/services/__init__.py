"""Writes of the imports app; import from here.

jobs:    the life of an import job (create, start, run chunk by chunk, resume, discard)
writers: one chunk writer per kind, writing through the owning app's services
"""

from apps.imports.services.jobs import (
    import_job_create,
    import_job_delete,
    import_job_discard,
    import_job_resume,
    import_job_run,
    import_job_start,
)

__all__ = [
    "import_job_create",
    "import_job_delete",
    "import_job_discard",
    "import_job_resume",
    "import_job_run",
    "import_job_start",
]
