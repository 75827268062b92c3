"""Alerts: days on which the negative share of all texts, or of one channel, spiked.

Daily counts come from the stored analyses; `engine.alerts.negative_spikes` decides what is
above the usual range. Each new alert is a row (the UI shows it until acknowledged) and, when
`INSIGHTS_ALERT_WEBHOOK_URL` is set, one JSON POST; a failed POST is recorded on the row.
"""

from __future__ import annotations

import functools
import json
import logging
import urllib.error
import urllib.request
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.core.errors import NotFound
from apps.insights.choices import AlertStatus, Sentiment, WebhookStatus
from apps.insights.engine.alerts import DailyCount, negative_spikes
from apps.insights.models import InsightAlert, TextAnalysis

logger = logging.getLogger(__name__)

ALL = "all"
BASELINE_DAYS = 28
WEBHOOK_TIMEOUT_SECONDS = 5
# Only spikes of the last two days are news worth a webhook call.
NOTIFY_DAYS = 2


def daily_counts(*, scope: str = ALL, since: date | None = None) -> list[DailyCount]:
    """Texts and negative texts per day (by when they were written) in a scope."""
    queryset = TextAnalysis.objects.all()
    if scope.startswith("channel:"):
        queryset = queryset.filter(channel=scope.removeprefix("channel:"))
    if since is not None:
        queryset = queryset.filter(written_at__date__gte=since)
    rows = (
        queryset.annotate(day=TruncDate("written_at"))
        .order_by()
        .values("day")
        .annotate(total=Count("id"), negative=Count("id", filter=Q(sentiment=Sentiment.NEGATIVE)))
        .order_by("day")
    )
    return [
        DailyCount(day=row["day"], total=row["total"], negative=row["negative"]) for row in rows
    ]


def alert_scopes() -> list[str]:
    channels = TextAnalysis.objects.order_by().values_list("channel", flat=True).distinct()
    return [ALL, *(f"channel:{channel}" for channel in sorted(channels))]


def insight_alerts_detect(*, today: date | None = None) -> list[InsightAlert]:
    """Find spikes in the lookback window of every scope; create (and notify) new ones."""
    today = today or timezone.localdate()
    lookback = today - timedelta(days=settings.INSIGHTS_ALERT_LOOKBACK_DAYS)
    since = lookback - timedelta(days=BASELINE_DAYS + 1)
    created: list[InsightAlert] = []
    for scope in alert_scopes():
        for spike in negative_spikes(daily_counts(scope=scope, since=since)):
            if spike.day < lookback or spike.day > today:
                continue
            alert, is_new = InsightAlert.objects.get_or_create(
                scope=scope,
                day=spike.day,
                defaults={
                    "total": spike.total,
                    "negative": spike.negative,
                    "share": spike.share,
                    "expected": spike.expected,
                    "upper": spike.upper,
                    "z_score": spike.z_score,
                },
            )
            if is_new:
                created.append(alert)
    recent = today - timedelta(days=NOTIFY_DAYS)
    for alert in created:
        if alert.day >= recent:
            transaction.on_commit(functools.partial(insight_alert_notify, alert_id=alert.pk))
        elif settings.INSIGHTS_ALERT_WEBHOOK_URL:
            # A first import or a backfill finds old spikes: shown, not pushed to a webhook.
            InsightAlert.objects.filter(pk=alert.pk).update(webhook_status=WebhookStatus.SKIPPED)
    return created


def _payload(alert: InsightAlert) -> dict[str, Any]:
    return {
        "type": "insights.negative_spike",
        "alert_id": alert.pk,
        "scope": alert.scope,
        "day": alert.day.isoformat(),
        "texts": alert.total,
        "negative": alert.negative,
        "negative_share": round(alert.share, 4),
        "usual_share": round(alert.expected, 4),
        "usual_upper": round(alert.upper, 4),
        "url": f"{settings.SITE_URL.rstrip('/')}/insights/",
    }


def insight_alert_notify(*, alert_id: int) -> InsightAlert:
    """POST the alert to the configured webhook once; the outcome is kept on the row."""
    alert = InsightAlert.objects.filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(f"Alert {alert_id} does not exist")
    url = settings.INSIGHTS_ALERT_WEBHOOK_URL
    if not url or alert.webhook_status == WebhookStatus.SENT:
        return alert
    request = urllib.request.Request(
        url,
        data=json.dumps(_payload(alert)).encode(),
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": f"insight-alert-{alert.pk}",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            ok = 200 <= response.status < 300
            error = "" if ok else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        ok, error = False, f"HTTP {exc.code}: {exc.reason}"[:255]
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        ok, error = False, str(getattr(exc, "reason", exc))[:255]
    alert.webhook_status = WebhookStatus.SENT if ok else WebhookStatus.FAILED
    alert.webhook_error = error
    alert.save(update_fields=["webhook_status", "webhook_error", "updated_at"])
    if not ok:
        logger.warning("Insight alert %s webhook failed: %s", alert.pk, error)
    return alert


def insight_alert_acknowledge(*, alert_id: int, user: Any = None) -> InsightAlert:
    """Mark an alert as seen: it leaves the dashboard's notification list."""
    alert = InsightAlert.objects.filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(f"Alert {alert_id} does not exist")
    if alert.status != AlertStatus.ACKNOWLEDGED:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = user if getattr(user, "pk", None) else None
        alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "updated_at"])
    return alert
