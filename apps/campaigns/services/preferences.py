"""Unsubscribing (one click, RFC 8058) and the preference centre: an email's reader withdraws
or grants email-marketing consent, recorded as a consent decision like any other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.campaigns.models import CampaignMessage
from apps.campaigns.services.guards import UNSUBSCRIBE_SOURCE
from apps.campaigns.services.tracking import interaction_store, message_by_token, signature_check
from apps.core.errors import NotFound
from apps.customers.selectors import EMAIL_MARKETING, consent_decisions
from apps.customers.services import consent_record


@dataclass(frozen=True)
class Preferences:
    """What the preference centre shows for one email's reader."""

    token: str
    email: str
    campaign: str
    subscribed: bool


def _message(token: str, signature: str) -> tuple[CampaignMessage, Any]:
    signature_check("unsubscribe", token, signature)
    message = message_by_token(token)
    if message.customer is None:
        raise NotFound("this link is not valid any more", code="link_invalid")
    return message, message.customer


def _subscribed(customer: Any) -> bool:
    decision = consent_decisions(customer_ids=[customer.pk], purpose=EMAIL_MARKETING).get(
        customer.pk
    )
    return bool(decision and decision.granted)


def preferences_get(*, token: str, signature: str) -> Preferences:
    message, customer = _message(token, signature)
    return Preferences(token, message.email, message.campaign.name, _subscribed(customer))


@transaction.atomic
def email_unsubscribe(*, token: str, signature: str, how: str = "link") -> Preferences:
    """Withdraw the reader's email-marketing consent (idempotent) and store an
    email_unsubscribe event. Why: one click must be enough, and every later send checks it."""
    message, customer = _message(token, signature)
    subscribed = _subscribed(customer)
    if subscribed:
        consent_record(
            customer=customer,
            purpose=EMAIL_MARKETING,
            granted=False,
            source=f"{UNSUBSCRIBE_SOURCE}:campaign {message.campaign_id}",
        )
    now = timezone.now()
    CampaignMessage.objects.filter(pk=message.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=now
    )
    if subscribed:
        interaction_store(
            message,
            "email_unsubscribe",
            at=now,
            properties={
                "campaign_id": message.campaign_id,
                "campaign": message.campaign.name[:200],
                "variant": message.variant,
                "how": how,
            },
            context={},
        )
    return Preferences(token, message.email, message.campaign.name, subscribed=False)


@transaction.atomic
def email_resubscribe(*, token: str, signature: str) -> Preferences:
    """Grant email-marketing consent again from the preference centre."""
    message, customer = _message(token, signature)
    consent_record(
        customer=customer,
        purpose=EMAIL_MARKETING,
        granted=True,
        source="preference_centre",
    )
    return Preferences(token, message.email, message.campaign.name, subscribed=True)
