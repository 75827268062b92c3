"""Sending through a real Celery worker and a real SMTP server: a worker killed in the middle
of a send leaves no duplicate and no missing email once another worker resumes it."""

from __future__ import annotations

import time

import pytest

from apps.campaigns.choices import CampaignStatus
from apps.campaigns.models import Campaign
from apps.campaigns.services import campaign_launch
from apps.campaigns.tasks import resume_campaigns_task
from apps.campaigns.tests.factories import CampaignFactory, subscriber

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait(condition, *, timeout: float, what: str, workers) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(worker.log()[-3000:] for worker in workers.started)
            pytest.fail(f"{what} not reached after {timeout} s\n{logs}")
        time.sleep(0.1)


def test_a_worker_killed_mid_send_leaves_no_duplicate_and_no_missing_email(real_worker, smtp_sink):
    # given 150 subscribers and a campaign sent at 40 messages a second, in batches of 20
    people = [subscriber() for _ in range(150)]
    env = {
        "EMAIL_HOST": smtp_sink.host,
        "EMAIL_PORT": str(smtp_sink.port),
        "CAMPAIGNS_BATCH_SIZE": "20",
        "CAMPAIGNS_CLAIM_SECONDS": "2",
    }
    first = real_worker.start(queues="email", env=env)
    campaign = CampaignFactory(send_rate=40)

    # when the worker sending it is killed after about a third has gone
    campaign_launch(campaign=campaign)
    _wait(lambda: len(smtp_sink.received) >= 50, timeout=60, what="50 sent", workers=real_worker)
    first.kill()
    delivered_before = len(smtp_sink.received)

    # and a fresh worker resumes it (what the every-minute beat task does)
    real_worker.start(queues="email", env=env)

    def done() -> bool:
        if Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DONE:
            return True
        resume_campaigns_task.delay()
        time.sleep(1.0)
        return False

    _wait(done, timeout=90, what="campaign done", workers=real_worker)

    # then everyone got exactly one email
    recipients = smtp_sink.recipients()
    assert 50 <= delivered_before < 150
    assert sorted(recipients) == sorted(person.email for person in people)
