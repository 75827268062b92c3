"""Planning, guards and sending through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.campaigns.choices import CampaignStatus, MessageStatus, SkipReason
from apps.campaigns.models import CampaignMessage, Suppression
from apps.campaigns.services import (
    campaign_launch,
    campaign_plan,
    campaign_run,
    email_unsubscribe,
    tracking,
)
from apps.campaigns.services.transport import Transport
from apps.campaigns.tests.factories import CampaignFactory, SuppressionFactory, subscriber
from apps.customers.tests.factories import ConsentFactory, CustomerFactory
from apps.events.models import Event

pytestmark = pytest.mark.django_db


def _launched(**fields):
    campaign = CampaignFactory(**fields)
    return campaign_launch(campaign=campaign, enqueue=False)


def test_plan_gives_each_customer_one_row_with_the_guard_that_stops_them():
    # given customers in every situation
    ok = subscriber()
    no_email = subscriber(email="")
    never_asked = CustomerFactory()
    withdrew = CustomerFactory()
    ConsentFactory(customer=withdrew, granted=True)
    ConsentFactory(customer=withdrew, granted=False, recorded_at=timezone.now(), source="api")
    unsubscribed = CustomerFactory()
    ConsentFactory(customer=unsubscribed, granted=True)
    ConsentFactory(
        customer=unsubscribed, granted=False, recorded_at=timezone.now(), source="unsubscribe:x"
    )
    bounced = subscriber()
    SuppressionFactory(email=bounced.email)
    capped = subscriber()
    earlier = CampaignFactory()
    for _ in range(3):
        other = CampaignFactory()
        CampaignMessage.objects.create(
            campaign=other, customer=capped, email=capped.email, status="sent",
            send_after=timezone.now(), sent_at=timezone.now() - timedelta(days=2),
        )  # fmt: skip
    CampaignMessage.objects.create(  # 8 days ago: outside the 7-day cap
        campaign=earlier, customer=ok, email=ok.email, status="sent",
        send_after=timezone.now(), sent_at=timezone.now() - timedelta(days=8),
    )  # fmt: skip
    campaign = CampaignFactory()

    # when it is planned twice (a retried task)
    first = campaign_plan(campaign=campaign)
    campaign_plan(campaign=campaign)

    # then every customer has exactly one row, with the reason that applies
    rows = {m.customer_id: m for m in CampaignMessage.objects.filter(campaign=campaign)}
    assert len(rows) == CustomerFactory._meta.model.objects.count()
    assert rows[ok.pk].status == MessageStatus.PENDING
    assert {rows[c.pk].skip_reason for c in (no_email,)} == {SkipReason.NO_EMAIL}
    assert rows[never_asked.pk].skip_reason == SkipReason.CONSENT
    assert rows[withdrew.pk].skip_reason == SkipReason.CONSENT
    assert rows[unsubscribed.pk].skip_reason == SkipReason.UNSUBSCRIBED
    assert rows[bounced.pk].skip_reason == SkipReason.SUPPRESSED
    assert rows[capped.pk].skip_reason == SkipReason.FREQUENCY_CAP
    assert first.skipped[SkipReason.FREQUENCY_CAP] == 1


def test_holdout_and_variants_are_deterministic_and_near_their_shares():
    # given 400 subscribers and a campaign with a 20% holdout and two variants
    for _ in range(400):
        subscriber()
    campaign = CampaignFactory(holdout_percent=20)
    campaign.variants.create(key="A", weight=1)
    campaign.variants.create(key="B", weight=1)

    # when planned
    campaign_plan(campaign=campaign)

    # then about a fifth is held out, the rest split between A and B, by a fixed hash
    rows = CampaignMessage.objects.filter(campaign=campaign)
    held = rows.filter(status=MessageStatus.HOLDOUT).count()
    assert 50 <= held <= 110
    a = rows.filter(variant="A").count()
    assert 150 <= a <= 250
    again = CampaignFactory(pk=None, holdout_percent=20)
    assert again.pk != campaign.pk
    from apps.campaigns.engine.assignment import assign

    for row in rows[:50]:
        assert assign(
            salt=f"campaign:{campaign.pk}", key=str(row.customer_id), holdout_percent=20,
            variants=[("A", 1), ("B", 1)],
        ) == (row.status == MessageStatus.HOLDOUT, row.variant)  # fmt: skip


def test_quiet_hours_hold_a_message_until_morning_in_the_customers_zone(settings):
    # given quiet hours 21-8 and a customer in Tokyo at 23:30 their time
    settings.CAMPAIGNS_QUIET_HOURS = "21-8"
    tokyo = subscriber(country="JP")
    berlin = subscriber(country="DE", attributes={"timezone": "Europe/Berlin"})
    campaign = CampaignFactory(respect_quiet_hours=True)
    now = datetime(2026, 11, 29, 14, 30, tzinfo=UTC)  # 23:30 in Tokyo, 15:30 in Berlin

    # when planned
    campaign_plan(campaign=campaign, now=now)

    # then Tokyo waits until 08:00 local (23:00 UTC), Berlin goes now
    rows = {m.customer_id: m for m in CampaignMessage.objects.filter(campaign=campaign)}
    assert rows[tokyo.pk].send_after == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert rows[berlin.pk].send_after == now


def test_a_campaign_reaches_every_subscriber_once_with_tracking_and_headers(smtp_sink, settings):
    # given three subscribers and one customer without consent
    settings.SITE_URL = "https://mkt.example.com"
    people = [subscriber(first_name=name) for name in ("Ann", "Bo", "Cy")]
    CustomerFactory()
    campaign = _launched(
        subject="Hi {{ customer.first_name }}",
        html_body=(
            '<html><body><p>Hello {{ customer.first_name|default:"there" }}</p>'
            '<a href="https://shop.example.com/sale?x=1">Sale</a>'
            '<a href="{{ unsubscribe_url }}">Unsubscribe</a></body></html>'
        ),
    )

    # when it runs, and runs again (a retried task)
    result = campaign_run(campaign_id=campaign.pk)
    again = campaign_run(campaign_id=campaign.pk)

    # then each subscriber got exactly one email, and the campaign is done
    assert sorted(smtp_sink.recipients()) == sorted(p.email for p in people)
    assert result.sent == 3 and again.sent == 3
    assert result.skipped == {SkipReason.CONSENT: 1}
    assert result.status == CampaignStatus.DONE
    message = next(r.message() for r in smtp_sink.received if r.recipients == [people[0].email])
    row = CampaignMessage.objects.get(campaign=campaign, customer=people[0])
    assert message["Subject"] == "Hi Ann"
    assert message["Message-ID"] == f"<{row.token}@mkt.example.com>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert tracking.unsubscribe_url(row.token) in message["List-Unsubscribe"]
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert tracking.open_url(row.token) in html
    assert "Hello Ann" in text
    # the shop link goes through the signed click redirect, carrying UTM parameters
    click = next(
        part.split('"')[0]
        for part in html.split('href="')[1:]
        if part.startswith("https://mkt.example.com/e/c/")
    ).replace("&amp;", "&")
    destination = parse_qs(urlsplit(click).query)["u"][0]
    assert destination.startswith("https://shop.example.com/sale?x=1&utm_source=smartmkt")
    assert f"utm_campaign={campaign.pk}-" in destination
    # the unsubscribe link is left as it is (not wrapped in the click redirect)
    assert f'href="{tracking.unsubscribe_url(row.token)}"' in html
    # every send is an email_sent event on the customer
    sent_events = Event.objects.filter(event_type="email_sent", source="campaigns")
    assert sorted(sent_events.values_list("customer_id", flat=True)) == sorted(p.pk for p in people)


def test_a_row_another_sender_marked_first_is_abandoned_before_delivery(smtp_sink):
    # given a message
    person = subscriber()
    campaign = _launched()
    campaign_plan(campaign=campaign)
    row = CampaignMessage.objects.get(campaign=campaign)
    from django.core.mail import EmailMessage

    email = EmailMessage("s", "b", "from@example.com", [person.email])

    # when the transport's commit finds the row taken
    with Transport() as transport:
        outcome = transport.send(email, lambda: False)
        # and the connection still works for the next message
        delivered = transport.send(email, lambda: True)

    # then nothing was delivered for the first, the second went
    assert outcome.status == "abandoned"
    assert delivered.status == "sent"
    assert len(smtp_sink.received) == 1
    assert row.status == MessageStatus.PENDING


def test_a_refused_address_fails_is_suppressed_and_bounces_pause_the_campaign(smtp_sink):
    # given 110 subscribers of which 10 do not exist at the server (9% > the 5% threshold)
    people = [subscriber() for _ in range(110)]
    smtp_sink.refuse = {p.email for p in people[:10]}
    campaign = _launched()

    # when it runs
    result = campaign_run(campaign_id=campaign.pk)

    # then those are failed and suppressed, and the campaign paused itself
    failed = CampaignMessage.objects.filter(campaign=campaign, status=MessageStatus.FAILED)
    assert sorted(failed.values_list("email", flat=True)) == sorted(smtp_sink.refuse)
    assert set(Suppression.objects.values_list("email", flat=True)) == smtp_sink.refuse
    assert result.status == CampaignStatus.PAUSED
    campaign.refresh_from_db()
    assert campaign.paused_reason.startswith("Paused automatically: bounce rate")


def test_an_unsubscribe_between_planning_and_sending_is_honoured(smtp_sink):
    # given a planned campaign
    stays, leaves = subscriber(), subscriber()
    campaign = _launched()
    campaign_run(campaign_id=campaign.pk, max_batches=0)
    row = CampaignMessage.objects.get(campaign=campaign, customer=leaves)

    # when one of them unsubscribes (from an earlier email's link) before the batch goes
    email_unsubscribe(
        token=str(row.token), signature=tracking.unsubscribe_url(row.token).rsplit("/", 1)[1]
    )
    campaign_run(campaign_id=campaign.pk)

    # then only the other one gets it
    assert smtp_sink.recipients() == [stays.email]
    row.refresh_from_db()
    assert (row.status, row.skip_reason) == (MessageStatus.SKIPPED, SkipReason.UNSUBSCRIBED)


def test_campaign_send_command_reports_sent_and_skips(smtp_sink, capsys):
    # given two subscribers and one without an address
    subscriber(), subscriber()
    subscriber(email="")

    # when sent from the command line to everyone
    call_command("campaign", "send", "--segment", "all", "--subject", "Hi", "--json")

    # then it prints one document with the contract's keys
    import json

    document = json.loads(capsys.readouterr().out)
    assert document["sent"] == 2
    assert document["skipped"] == {"no_email": 1}
    assert document["status"] == "done"
    assert len(smtp_sink.received) == 2


def test_campaign_send_command_names_an_unknown_segment():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="segment 'nope' does not exist"):
        call_command("campaign", "send", "--segment", "nope", "--json")


def test_send_time_optimisation_sends_at_each_customers_best_hour(settings):
    # given Ann (Berlin) who opens emails around 19:00 her time, and Bo with no history
    from zoneinfo import ZoneInfo

    from apps.events.tests.factories import EventFactory

    settings.CAMPAIGNS_QUIET_HOURS = "22-7"
    berlin = ZoneInfo("Europe/Berlin")
    ann = subscriber(country="DE")
    bo = subscriber(country="DE")
    for day in range(1, 6):
        EventFactory(
            customer=ann, event_type="email_open", properties={"machine": False},
            occurred_at=datetime(2026, 11, 20 + day // 2, 19, 10, tzinfo=berlin) - timedelta(days=0),
        )  # fmt: skip
    EventFactory(  # a proxy's open at 03:00 teaches nothing
        customer=ann, event_type="email_open", properties={"machine": True},
        occurred_at=datetime(2026, 11, 25, 3, 0, tzinfo=berlin),
    )  # fmt: skip
    campaign = CampaignFactory(optimize_send_time=True, respect_quiet_hours=True)
    now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # 10:00 in Berlin

    # when planned
    campaign_plan(campaign=campaign, now=now)

    # then Ann's email waits until 19:00 Berlin today; Bo gets the population's best hour
    rows = {m.customer_id: m for m in CampaignMessage.objects.filter(campaign=campaign)}
    assert rows[ann.pk].send_after == datetime(2026, 11, 29, 19, 0, tzinfo=berlin)
    assert rows[bo.pk].send_after == datetime(2026, 11, 29, 19, 0, tzinfo=berlin)


def test_the_winner_goes_to_the_rest_once_significant(smtp_sink, settings):
    # given 400 subscribers, two subjects tested on 25% of them, winner by open rate
    from apps.campaigns.choices import MessageStatus
    from apps.campaigns.services.winner import campaign_winner_pick

    people = [subscriber() for _ in range(400)]
    campaign = CampaignFactory(winner_metric="open", test_percent=25, winner_wait_hours=4)
    campaign.variants.create(key="A", weight=1)
    campaign.variants.create(key="B", weight=1, subject="Better subject")
    campaign = campaign_launch(campaign=campaign, enqueue=False)

    # when the test group is sent
    campaign_run(campaign_id=campaign.pk)
    test_rows = CampaignMessage.objects.filter(campaign=campaign, status=MessageStatus.SENT)
    waiting = CampaignMessage.objects.filter(campaign=campaign, status=MessageStatus.WAITING)
    tested = test_rows.count()
    assert 60 <= tested <= 140
    assert test_rows.count() + waiting.count() == 400
    assert len(smtp_sink.received) == test_rows.count()
    campaign.refresh_from_db()
    assert campaign.status == "sending"  # the rest is still to go

    # and B's readers open far more (A: 5%, B: 60%)
    for index, row in enumerate(test_rows.order_by("id")):
        opened = index % 20 == 0 if row.variant == "A" else index % 5 < 3
        if opened:
            CampaignMessage.objects.filter(pk=row.pk).update(opened_at=timezone.now())

    # then B is picked before the deadline and sent to everyone who waited
    assert campaign_winner_pick(campaign=campaign) == "B"
    campaign_run(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == "done"
    assert campaign.winner_note.startswith("B won on open rate")
    rest = CampaignMessage.objects.filter(campaign=campaign, in_test=False)
    assert set(rest.values_list("variant", "status")) == {("B", "sent")}
    assert len(smtp_sink.received) == 400 == len(people)
    # the report's test only counts the test group
    from apps.campaigns.selectors import campaign_report

    arms = {arm.name: arm.customers for arm in campaign_report(campaign=campaign).arms}
    assert sum(arms.values()) == tested


def test_without_significance_the_best_so_far_wins_at_the_deadline(smtp_sink):
    from apps.campaigns.services.winner import campaign_winner_pick

    for _ in range(80):
        subscriber()
    campaign = CampaignFactory(winner_metric="click", test_percent=50, winner_wait_hours=2)
    campaign.variants.create(key="A", weight=1)
    campaign.variants.create(key="B", weight=1)
    campaign = campaign_launch(campaign=campaign, enqueue=False)
    campaign_run(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    first = CampaignMessage.objects.filter(campaign=campaign, variant="A", status="sent").first()
    CampaignMessage.objects.filter(pk=first.pk).update(clicked_at=timezone.now())

    assert campaign_winner_pick(campaign=campaign) == ""  # one click: not significant yet
    later = campaign.started_at + timedelta(hours=2, minutes=1)
    assert campaign_winner_pick(campaign=campaign, now=later) == "A"
    campaign.refresh_from_db()
    assert campaign.winner_note.endswith("not significant")


def test_the_webhook_channel_posts_each_message_once_with_an_idempotency_key():
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[tuple[str, dict]] = []

    class Provider(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.headers["Idempotency-Key"], body))
            status = 500 if body["customer_id"] == "flaky" else 202
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ok = subscriber(external_id="ok", phone="+4915112345678", first_name="Ann")
        subscriber(external_id="flaky")
        campaign = _launched(
            channel="webhook", webhook_url=f"http://127.0.0.1:{server.server_port}/sms",
            subject="Sale", html_body="<p>Hi {{ customer.first_name }}, 20% off today.</p>",
        )  # fmt: skip
        campaign_run(campaign_id=campaign.pk)
    finally:
        server.shutdown()

    by_customer = {body["customer_id"]: (key, body) for key, body in received}
    key, body = by_customer["ok"]
    row = CampaignMessage.objects.get(campaign=campaign, customer=ok)
    assert key == str(row.token) == body["token"]
    assert body["phone"] == "+4915112345678" and "Hi Ann, 20% off today." in body["text"]
    assert row.status == "sent"
    flaky = CampaignMessage.objects.get(campaign=campaign, customer__external_id="flaky")
    assert flaky.status == "pending" and flaky.send_after > timezone.now()  # tried again later
    assert len(received) == 2


def test_a_recurring_campaign_schedules_its_next_run_when_one_is_done(smtp_sink):
    subscriber()
    campaign = _launched(recurrence="weekly", holdout_percent=5)
    campaign.variants.create(key="A")
    campaign.variants.create(key="B", subject="Other")

    campaign_run(campaign_id=campaign.pk)
    campaign_run(campaign_id=campaign.pk)  # a second run makes no second copy

    campaign.refresh_from_db()
    following = campaign.next_occurrence
    assert following.status == "scheduled"
    assert following.scheduled_at == campaign.started_at + timedelta(weeks=1)
    assert (following.subject, following.holdout_percent) == (campaign.subject, 5)
    assert [v.key for v in following.variants.all()] == ["A", "B"]
    from apps.campaigns.models import Campaign

    assert Campaign.objects.filter(previous=campaign).count() == 1
    # it is not started before its time
    assert campaign_run(campaign_id=following.pk).status == "scheduled"


def test_campaign_demo_sets_up_marketing_once(capsys):
    import json

    for _ in range(30):
        subscriber()

    call_command("campaign", "demo", "--json")
    first = json.loads(capsys.readouterr().out)
    call_command("campaign", "demo", "--json")
    second = json.loads(capsys.readouterr().out)

    assert first["created"] is True and second["created"] is False
    assert first["sent"] >= 20 and 0 < first["opened"] < first["sent"]
    assert len(first["journeys"]) == 6
    from apps.campaigns.models import Journey

    assert set(Journey.objects.values_list("status", flat=True)) == {"active"}


def test_a_send_time_experiment_optimises_one_arm_only(settings):
    from zoneinfo import ZoneInfo

    from apps.campaigns.services import campaign_update

    settings.CAMPAIGNS_QUIET_HOURS = ""
    berlin = ZoneInfo("Europe/Berlin")
    people = [subscriber(country="DE") for _ in range(40)]
    campaign = CampaignFactory()
    campaign_update(
        campaign=campaign, changes={},
        variants=[{"key": "now", "optimize_send_time": False},
                  {"key": "best-hour", "optimize_send_time": True}],
    )  # fmt: skip
    now = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)  # 07:00 in Berlin

    campaign_plan(campaign=campaign, now=now)

    rows = CampaignMessage.objects.filter(campaign=campaign)
    assert {r.send_after for r in rows.filter(variant="now")} == {now}
    optimised = {r.send_after.astimezone(berlin).minute for r in rows.filter(variant="best-hour")}
    assert optimised == {0} and all(r.send_after > now for r in rows.filter(variant="best-hour"))
    assert rows.count() == len(people)
