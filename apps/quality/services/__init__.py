"""Writes of the data quality app; import from here.

runs:     start, schedule (debounced, after imports and ingestion) and execute cleaning runs
steps:    what a run does per entity: load, call the engine, write through the owning app,
          record every change
reports:  quality report snapshots per entity
identity: merging duplicate customers offered by the report, splitting them back
"""

from apps.quality.services.identity import duplicate_group_merge
from apps.quality.services.reports import quality_report_compute
from apps.quality.services.runs import (
    cleaning_run,
    cleaning_run_execute,
    cleaning_schedule,
    cleaning_start,
    entities_parse,
)

__all__ = [
    "cleaning_run",
    "cleaning_run_execute",
    "cleaning_schedule",
    "cleaning_start",
    "duplicate_group_merge",
    "entities_parse",
    "quality_report_compute",
]
