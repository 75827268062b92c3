"""`manage.py event_partitions [--ensure] [--json]`: the monthly partitions of the events table.

With --ensure, first creates the partitions from a month back to three months ahead and moves
rows out of the default partition (what the periodic task does every 6 hours).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.events.services import event_partition_list, event_partitions_ensure_ahead


class Command(BaseCommand):
    help = "List the events table's monthly partitions; --ensure creates the coming ones first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ensure", action="store_true", help="Create missing partitions.")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        created = event_partitions_ensure_ahead() if options["ensure"] else []
        partitions = event_partition_list()
        if options["json"]:
            self.stdout.write(json.dumps({"created": created, "partitions": partitions}))
            return
        if not partitions:
            self.stdout.write("The events table is not partitioned on this database (SQLite).")
            return
        for name in created:
            self.stdout.write(f"created {name}")
        for partition in partitions:
            rows = partition["approximate_rows"]
            shown = "not analysed" if rows is None else f"~{rows:,}"
            self.stdout.write(f"{partition['name']:<26} {shown:>14}  {partition['bounds']}")
