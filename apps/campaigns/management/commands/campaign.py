"""`manage.py campaign send|demo`: send an email campaign now, in this process, and report;
set up the demo shop's marketing.

campaign send --segment all|<segment id or name> [--subject S] [--name N] [--html FILE]
              [--holdout PERCENT] [--quiet-hours] [--json]
    Creates the campaign (the default template: a greeting, the customer's recommendations,
    unsubscribe and preference links, unless --html gives one), plans it (consent,
    unsubscribes, suppression, frequency cap, holdout) and sends every message through the
    configured email backend; returns when done. "Now" means now: quiet hours apply only
    with --quiet-hours, and the messages they hold back are then left to the worker.
    Prints `sent` and `skipped.{reason: count}`.
campaign demo [--json]
    Coupon programs, the six journey templates (active) and an A/B-tested campaign with a
    holdout, sent through the email backend, with synthetic opens and clicks. Once.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.campaigns.services import campaign_create, campaign_launch, campaign_run
from apps.campaigns.services.demo import campaigns_demo_setup
from apps.core.errors import DomainError
from apps.segments.selectors import segment_find


class Command(BaseCommand):
    help = "Campaigns: send an email campaign now to a segment (or everyone) and report."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        send = commands.add_parser("send", help="send an email campaign now")
        send.add_argument("--segment", required=True, help="'all', or a segment id or name")
        send.add_argument("--subject", default="Picked for you, {{ customer.first_name }}")
        send.add_argument("--name", default="", help="campaign name (default: from the segment)")
        send.add_argument("--html", default="", help="HTML template file (default: built in)")
        send.add_argument("--holdout", type=int, default=0, help="percent held out, 0-50")
        send.add_argument(
            "--quiet-hours",
            action="store_true",
            help="honour quiet hours (messages they hold back are left to the worker)",
        )
        send.add_argument("--json", action="store_true", dest="as_json")
        demo = commands.add_parser("demo", help="demo marketing for the demo shop (once)")
        demo.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "demo":
            self._demo(options)
            return
        reference = options["segment"].strip()
        html = ""
        if options["html"]:
            path = Path(options["html"])
            if not path.is_file():
                raise CommandError(f"--html: {path} is not a file")
            html = path.read_text(encoding="utf-8")
        try:
            everyone = reference.lower() == "all"
            segment = None if everyone else segment_find(reference=reference)
            campaign = campaign_create(
                name=options["name"] or f"Send to {segment.name if segment else 'everyone'}",
                subject=options["subject"],
                html_body=html,
                all_customers=everyone,
                segment_ids=[segment.pk] if segment else None,
                holdout_percent=options["holdout"],
                respect_quiet_hours=options["quiet_hours"],
            )
            campaign_launch(campaign=campaign, enqueue=False)
            result = campaign_run(campaign_id=campaign.pk, progress=self._progress)
        except DomainError as error:
            raise CommandError(str(error)) from error
        document = {
            "campaign_id": result.campaign_id,
            "status": result.status,
            "sent": result.sent,
            "failed": result.failed,
            "holdout": result.holdout,
            "pending": result.pending,
            "skipped": dict(sorted(result.skipped.items())),
        }
        if options["as_json"]:
            self.stdout.write(json.dumps(document))
            return
        self.stdout.write(
            f"Campaign {result.campaign_id} ({result.status}): {result.sent} sent, "
            f"{result.failed} failed, {result.holdout} held out, {result.pending} waiting"
        )
        for reason, count in document["skipped"].items():
            self.stdout.write(f"  skipped ({reason}): {count}")

    def _demo(self, options: dict[str, Any]) -> None:
        try:
            result = campaigns_demo_setup()
        except DomainError as error:
            raise CommandError(str(error)) from error
        if options["as_json"]:
            self.stdout.write(json.dumps(dataclasses.asdict(result)))
        elif not result.created:
            self.stdout.write(f"Demo marketing already there (campaign {result.campaign_id}).")
        else:
            self.stdout.write(
                f"Demo marketing ready: campaign {result.campaign_id} sent {result.sent} "
                f"({result.opened} opened, {result.clicked} clicked), "
                f"{len(result.journeys)} journeys active."
            )

    def _progress(self, result: Any) -> None:
        print(f"sent {result.sent} ...", file=sys.stderr, flush=True)
