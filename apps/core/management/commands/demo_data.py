"""`manage.py demo_data`: generate the deterministic synthetic demo shop."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.core.demo.services import DEFAULT_MONTHS, demo_shop_generate, demo_truth_file_default
from apps.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Fill the database with a synthetic fashion shop (catalogue, customers with consent, "
        "orders, browsing events, reviews, social posts) from a known purchase process, and "
        "write its ground truth as JSON. Deterministic for a given seed and end date."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers", type=int, default=5000, help="Number of customers (default 5000)."
        )
        parser.add_argument("--seed", type=int, default=7, help="Random seed (default 7).")
        parser.add_argument(
            "--months",
            type=int,
            default=DEFAULT_MONTHS,
            help=f"Length of the simulated history in months, at least 18 (default {DEFAULT_MONTHS}).",
        )
        parser.add_argument(
            "--end-date",
            default=None,
            help="YYYY-MM-DD: the history ends at the start of this UTC day (default today).",
        )
        parser.add_argument(
            "--truth-file",
            default=None,
            help=f"Where to write the ground-truth JSON (default {demo_truth_file_default()}).",
        )
        parser.add_argument(
            "--flush",
            action="store_true",
            help="Delete existing demo rows first; without it the command refuses to run when customers exist.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="When customers already exist, keep them, write nothing and exit 0 (for `make demo`).",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print one JSON summary on stdout (progress stays on stderr).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        end_date = None
        if options["end_date"]:
            try:
                end_date = date.fromisoformat(options["end_date"])
            except ValueError as error:
                raise CommandError(
                    f"--end-date must be YYYY-MM-DD, got {options['end_date']!r}"
                ) from error
        stream = options.get("stderr") or sys.stderr

        def bar(description: str, total: int, unit: str) -> tqdm:
            return tqdm(total=total, desc=description, unit=unit, file=stream, dynamic_ncols=True)

        try:
            summary = demo_shop_generate(
                customers=options["customers"],
                seed=options["seed"],
                months=options["months"],
                end_date=end_date,
                truth_file=options["truth_file"],
                flush=options["flush"],
                if_empty=options["if_empty"],
                progress=bar if options["verbosity"] > 0 else None,
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict()))
            return
        if summary.skipped:
            self.stdout.write(f"Demo shop not generated: {summary.note} (--if-empty).")
            return
        counts = ", ".join(
            f"{value:,} {key.replace('_', ' ')}" for key, value in summary.counts.items()
        )
        self.stdout.write(
            f"Demo shop ready in {summary.seconds:.1f} s ({summary.database}, seed {summary.seed}, "
            f"{summary.start} to {summary.end}): {counts}."
        )
        self.stdout.write(f"Ground truth: {summary.truth_file}")
