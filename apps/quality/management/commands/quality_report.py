"""`manage.py quality_report [--entity X] [--refresh] [--json]`: the latest data quality report
per entity (computed now when there is none yet, or with --refresh)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import DomainError, NotFound
from apps.quality import selectors, services
from apps.quality.choices import Entity
from apps.quality.models import QualityReport


class Command(BaseCommand):
    help = (
        "Print the latest quality report of each entity: completeness per field, duplicates, "
        "invalid values with examples, freshness per event source. A report is computed when "
        "none exists yet, or for every entity asked with --refresh; nothing is changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--entity",
            default="",
            help=f"Comma-separated entities ({', '.join(Entity.values)}); default all.",
        )
        parser.add_argument("--refresh", action="store_true", help="Compute fresh reports.")
        parser.add_argument("--json", action="store_true", help="Print one JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            entities = services.entities_parse(options["entity"] or None)
        except DomainError as error:
            raise CommandError(error.message) from None
        reports = [self._report(entity, refresh=options["refresh"]) for entity in entities]
        if options["json"]:
            document = {
                "reports": {
                    report.entity: {
                        "computed_at": report.computed_at.isoformat(),
                        "rows": report.rows,
                        "metrics": report.metrics,
                    }
                    for report in reports
                }
            }
            self.stdout.write(json.dumps(document, ensure_ascii=False, default=str))
            return
        for report in reports:
            self._print(report)

    def _report(self, entity: str, *, refresh: bool) -> QualityReport:
        if not refresh:
            try:
                return selectors.quality_report_latest(entity=entity)
            except NotFound:
                pass  # no report yet: compute one below
        return services.quality_report_compute(entity=entity)

    def _print(self, report: QualityReport) -> None:
        metrics = report.metrics
        self.stdout.write(
            f"{report.entity}: {report.rows:,} rows (computed {report.computed_at:%Y-%m-%d %H:%M})"
        )
        gaps = [item for item in metrics.get("completeness", []) if item["percent"] < 100]
        for item in sorted(gaps, key=lambda item: item["percent"])[:5]:
            self.stdout.write(f"  {item['field']:<20} {item['percent']:>5.1f} % filled")
        for item in metrics.get("invalid", []):
            self.stdout.write(f"  invalid {item['field']}: {item['reason']} ({item['count']:,})")
        duplicates = metrics.get("duplicates", {})
        if duplicates.get("groups"):
            self.stdout.write(
                f"  duplicates: {duplicates['groups']:,} groups, {duplicates.get('rows', 0):,} rows"
            )
        for source in metrics.get("freshness", []):
            self.stdout.write(
                f"  source {source['source']}: last event {source['last_occurred_at']}, "
                f"{source['events']:,} events"
            )
