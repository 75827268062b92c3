"""`manage.py clean_data [--entity customers,products] [--no-merge] [--json]`: run the cleaning
pipeline now, in this process, and print what it changed."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.core.errors import DomainError
from apps.quality import selectors, services
from apps.quality.choices import CleaningTrigger, Entity, RunStatus
from apps.quality.models import CleaningRun


def run_document(run: CleaningRun) -> dict[str, Any]:
    return {
        "run_id": run.pk,
        "status": run.status,
        "entities": run.entities,
        "trigger": run.trigger,
        "seconds": run.seconds,
        "totals": run.totals,
        "error": run.error,
        "changes": [
            {
                "entity": change.entity,
                "rule": change.rule,
                "action": change.action,
                "field": change.field,
                "rows_affected": change.rows_affected,
                "examples": change.examples,
                "parameters": change.parameters,
            }
            for change in run.changes.all()
        ],
    }


class Command(BaseCommand):
    help = (
        "Run the cleaning pipeline now: normalise (emails, phones in E.164, countries, "
        "currencies, category names, text), impute missing values (marked as imputed), set age "
        "and price bands, flag order amounts, merge exact duplicate customers and report the "
        "others, then compute the quality reports. Every change is recorded with its rule and "
        "rows. See docs/data_quality.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--entity",
            default="",
            help=f"Comma-separated entities ({', '.join(Entity.values)}); default all.",
        )
        parser.add_argument(
            "--no-merge",
            action="store_true",
            help="Report exact duplicate customers instead of merging them.",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            entities = services.entities_parse(options["entity"] or None)
        except DomainError as error:
            raise CommandError(error.message) from None
        bar = tqdm(total=len(entities), desc="cleaning", unit="entity", file=sys.stderr)

        def progress(entity: str) -> None:
            if bar.n or entity != entities[0]:
                bar.update(1)
            bar.set_postfix_str(entity)

        run = services.cleaning_run(
            entities=entities,
            trigger=CleaningTrigger.MANUAL,
            actor_label="cli",
            auto_merge=not options["no_merge"],
            progress=progress,
        )
        bar.update(bar.total - bar.n)
        bar.close()
        run = selectors.cleaning_run_get(run_id=run.pk)
        if options["json"]:
            self.stdout.write(json.dumps(run_document(run), ensure_ascii=False, default=str))
        else:
            self._print(run)
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"cleaning run {run.pk} failed: {run.error}")

    def _print(self, run: CleaningRun) -> None:
        seconds = f"{run.seconds:.2f} s" if run.seconds is not None else "-"
        self.stdout.write(f"Cleaning run {run.pk}: {run.status} in {seconds}")
        for entity in run.entities:
            totals = run.totals.get(entity, {})
            rows = totals.get("rows", 0)
            changed = totals.get("rows_changed", 0)
            merged = totals.get("merged", 0)
            self.stdout.write(
                f"  {entity:<10} {rows:>9,} rows  {changed:>7,} changed"
                + (f"  {merged:,} merged" if merged else "")
            )
        changes = list(run.changes.all())
        if not changes:
            self.stdout.write("Nothing to change.")
        for change in changes:
            self.stdout.write(
                f"  {change.entity:<10} {change.rule:<26} {change.action:<9} "
                f"{change.field:<16} {change.rows_affected:>7,}"
            )
