"""Campaign email throughput to a real local SMTP server (aiosmtpd), beside raw smtplib.

Sets up N subscribers (email + email-marketing consent) in PostgreSQL, starts aiosmtpd in its
own process (a handler that counts what it accepts), then in alternating rounds:

* floor: raw smtplib, one connection, N prebuilt small messages (`sendmail`);
* campaign: `campaign_run` on a new campaign to everyone: planning (guards, holdout, one row
  per customer), then sending with rendering (personalisation, UTM + signed click links,
  open pixel, generated plain text, List-Unsubscribe headers), the at-most-once commit per
  message and the email_sent events; `CAMPAIGNS_SEND_RATE=0` (no throttle).

Each campaign round reports planning and sending apart; the server's count is checked
against what each side says it sent. Prints markdown rows for docs/benchmarks.md.

    .venv/bin/python bench/bench_campaign_send.py [--customers 3000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import smtplib
import socket
import statistics
import subprocess
import sys
import textwrap
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from django_setup import setup_django as django_database_setup  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv/bin/python")
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smartmkt_bench_mail"
)

SERVER = textwrap.dedent(
    """
    import asyncio, signal, sys
    from aiosmtpd.controller import Controller

    class Counter:
        count = 0
        async def handle_DATA(self, server, session, envelope):
            Counter.count += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    print("ready", flush=True)
    for line in sys.stdin:
        print(Counter.count, flush=True)
    """
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [PYTHON, "-c", SERVER, str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def count(self) -> int:
        self.process.stdin.write("?\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.kill()


def setup_django(port: int) -> None:
    django_database_setup(
        DATABASE_URL,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        CAMPAIGNS_SEND_RATE="0",
        SITE_URL="https://mkt.example.com",
    )
    # Stored events schedule the data-cleaning pipeline. In production that is a task on a
    # worker; without a broker it would run here, in the measured process.
    import apps.events.services.ingest as ingest

    ingest.cleaning_schedule = lambda **_: None


def ensure_subscribers(count: int) -> None:
    from django.utils import timezone

    from apps.customers.models import Consent, Customer

    have = Customer.objects.count()
    if have >= count:
        return
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        [
            Customer(
                external_id=f"bench-{index:07d}",
                email=f"bench-{index:07d}@example.com",
                first_name=f"Name{index}",
                country="DE",
            )
            for index in range(have, count)
        ],
        batch_size=2000,
    )
    Consent.objects.bulk_create(
        [
            Consent(customer=c, purpose="email_marketing", granted=True, recorded_at=now)
            for c in customers
        ],
        batch_size=2000,
    )


HTML = """<html><body><p>Hi {{ customer.first_name|default:"there" }},</p>
<p>{% if customer.city %}News from {{ customer.city }}.{% else %}News for you.{% endif %}</p>
<p><a href="https://shop.example.com/sale">This week's sale</a> ·
<a href="https://shop.example.com/new?ref=mail">New in</a></p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>"""


def floor(port: int, count: int) -> float:
    message = EmailMessage()
    message["From"] = "marketing@example.com"
    message["Subject"] = "Hello"
    message.set_content("Hello there, this week's sale: https://shop.example.com/sale\n")
    body = message.as_bytes()
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for index in range(count):
            connection.sendmail("marketing@example.com", [f"f{index}@example.com"], body)
    return count / (time.perf_counter() - start)


def _sender(campaign_id: int, results: Any) -> None:
    from django.db import connections

    connections.close_all()
    from apps.campaigns.models import Campaign
    from apps.campaigns.services.sending import campaign_send_batches

    result = campaign_send_batches(campaign=Campaign.objects.get(pk=campaign_id))
    results.put(result.sent)


def campaign_round(count: int, senders: int) -> tuple[float, float, int]:
    from apps.campaigns.models import CampaignMessage
    from apps.campaigns.services import campaign_create, campaign_launch, campaign_plan
    from apps.campaigns.services.sending import campaign_send_batches

    # Earlier rounds' sends would hit the frequency cap: they are forgotten.
    CampaignMessage.objects.all().delete()
    campaign = campaign_create(
        name="bench", subject="Hi {{ customer.first_name }}", html_body=HTML,
        all_customers=True, respect_quiet_hours=False,
    )  # fmt: skip
    campaign = campaign_launch(campaign=campaign, enqueue=False)
    from apps.campaigns.models import Campaign

    Campaign.objects.filter(pk=campaign.pk).update(status="sending")
    start = time.perf_counter()
    campaign_plan(campaign=campaign)
    planned = time.perf_counter()
    if senders == 1:
        sent = campaign_send_batches(campaign=campaign).sent
    else:  # senders in parallel processes, as a worker pool runs them
        from django.db import connections

        connections.close_all()
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        processes = [
            context.Process(target=_sender, args=(campaign.pk, results)) for _ in range(senders)
        ]
        for process in processes:
            process.start()
        sent = sum(results.get() for _ in processes)
        for process in processes:
            process.join()
    sent_seconds = time.perf_counter() - planned
    return count / (planned - start), sent / sent_seconds, sent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--senders", type=int, default=1, help="sender processes in parallel")
    args = parser.parse_args()
    server = Server()
    try:
        setup_django(server.port)
        ensure_subscribers(args.customers)
        floors, plans, sends = [], [], []
        for round_number in range(args.rounds):
            before = server.count()
            floors.append(floor(server.port, args.customers))
            assert server.count() - before == args.customers
            before = server.count()
            plan_rate, send_rate, sent = campaign_round(args.customers, args.senders)
            assert sent == args.customers, sent
            assert server.count() - before == args.customers
            plans.append(plan_rate)
            sends.append(send_rate)
            print(
                f"round {round_number + 1}: floor {floors[-1]:,.0f}/s, plan {plan_rate:,.0f}/s, "
                f"send {send_rate:,.0f}/s",
                file=sys.stderr,
            )
        machine = f"{platform.node()}, {os.cpu_count()} cores"
        median = statistics.median
        print(
            f"| raw smtplib (floor) | {args.customers:,} | {median(floors):,.0f} emails/s | {machine} |"
        )
        print(
            f"| campaign: planning | {args.customers:,} | {median(plans):,.0f} customers/s | {machine} |"
        )
        print(
            f"| campaign: sending, {args.senders} sender(s) | {args.customers:,} | {median(sends):,.0f} emails/s "
            f"({median(sends) / median(floors):.2f} of the floor) | {machine} |"
        )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
