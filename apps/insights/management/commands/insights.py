"""`manage.py insights analyze|topics|alerts|categories|text`: text insights from the shell.

insights analyze [--full] [--json]      analyse new and changed reviews and posts now (--full:
                                        every text again), then traits and alerts
insights topics [--json]                fit LDA and embedding topics per language, activate them
insights alerts [--json]                look for negative-share spikes now
insights categories [--seed] [--json]   list custom categories (--seed adds the starter set)
insights text "some text" [...] [--json]
                                        analyse ad-hoc texts (nothing stored)
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import DomainError
from apps.insights.choices import JobKind, JobStatus
from apps.insights.services import alerts, categories, store
from apps.insights.services.analysis import texts_analyze


class Command(BaseCommand):
    help = "Text insights: analyse stored texts, fit topics, detect alerts, manage categories."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        analyze = actions.add_parser("analyze", help="Analyse new and changed texts now.")
        analyze.add_argument("--full", action="store_true", help="Every text again.")
        analyze.add_argument("--json", action="store_true")
        topics = actions.add_parser("topics", help="Fit topic models now.")
        topics.add_argument("--json", action="store_true")
        alert = actions.add_parser("alerts", help="Detect negative-share spikes now.")
        alert.add_argument("--json", action="store_true")
        category = actions.add_parser("categories", help="List custom categories.")
        category.add_argument("--seed", action="store_true", help="Add the starter categories.")
        category.add_argument("--json", action="store_true")
        text = actions.add_parser("text", help="Analyse texts given on the command line.")
        text.add_argument("texts", nargs="+")
        text.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            document = getattr(self, f"_{options['action']}")(options)
        except DomainError as error:
            raise CommandError(error.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(document, ensure_ascii=False, default=str))
        else:
            for key, value in document.items():
                self.stdout.write(f"{key}: {json.dumps(value, ensure_ascii=False, default=str)}")

    def _job(self, kind: str) -> dict[str, Any]:
        job = store.analysis_job_start(kind=kind)
        job.refresh_from_db()
        if job.status == JobStatus.QUEUED:
            # Run it here and now (a worker that takes the message later finds it done).
            job = store.analysis_job_run(job_id=job.pk)
        document = {
            "job": job.pk,
            "status": job.status,
            "texts": job.texts,
            "counts": job.counts,
            "error": job.error,
        }
        if job.status == JobStatus.FAILED:
            raise CommandError(
                f"Job {job.pk} failed: {job.error.splitlines()[0] if job.error else ''}"
            )
        sys.stderr.write(f"{job.message}\n")
        return document

    def _analyze(self, options: dict[str, Any]) -> dict[str, Any]:
        return self._job(JobKind.REANALYZE if options["full"] else JobKind.ANALYZE)

    def _topics(self, options: dict[str, Any]) -> dict[str, Any]:
        return self._job(JobKind.TOPICS)

    def _alerts(self, options: dict[str, Any]) -> dict[str, Any]:
        created = alerts.insight_alerts_detect()
        return {
            "new_alerts": [
                {
                    "scope": a.scope,
                    "day": a.day,
                    "share": round(a.share, 4),
                    "expected": round(a.expected, 4),
                }
                for a in created
            ]
        }

    def _categories(self, options: dict[str, Any]) -> dict[str, Any]:
        created = categories.text_categories_seed() if options["seed"] else 0
        from apps.insights.selectors import category_list

        return {
            "created": created,
            "categories": [
                {
                    "name": c.name,
                    "examples": len(c.examples),
                    "threshold": c.threshold,
                    "texts": count,
                }
                for c, count in category_list()
            ],
        }

    def _text(self, options: dict[str, Any]) -> dict[str, Any]:
        results = texts_analyze(options["texts"], categories=store.category_specs())
        return {"results": [result.as_dict() for result in results]}
