"""Signed tracking addresses in emails (open pixel, click redirect, unsubscribe) and what a
hit on each records.

Every address carries the message's token and an HMAC of it (and, for clicks, of the
destination), so nobody can forge opens, unsubscribe someone else, or use the redirect to
send people elsewhere (no open redirect). Opens and clicks from mail-privacy proxies, link
scanners and bots are stored flagged `machine`, not dropped, and left out of engagement
rates.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from apps.campaigns.models import CampaignMessage
from apps.core.errors import NotFound, ValidationFailed

logger = logging.getLogger(__name__)

_SIGNER = signing.Signer(salt="apps.campaigns.tracking")
# User agents of image proxies, link scanners and scripts: their hits are a machine's.
MACHINE_AGENTS = (
    "googleimageproxy",
    "ggpht.com",
    "yahoomailproxy",
    "bot",
    "crawler",
    "spider",
    "preview",
    "scanner",
    "barracuda",
    "proofpoint",
    "mimecast",
    "python-requests",
    "python-urllib",
    "curl/",
    "wget/",
    "headlesschrome",
)


def _signature(*parts: str) -> str:
    return _SIGNER.signature("|".join(parts))[:22]


def _base() -> str:
    return str(settings.SITE_URL).rstrip("/")


def open_url(token: uuid.UUID | str) -> str:
    token = str(token)
    return f"{_base()}/e/o/{token}/{_signature('open', token)}.gif"


def click_url(token: uuid.UUID | str, destination: str) -> str:
    token = str(token)
    query = urlencode({"u": destination, "s": _signature("click", token, destination)})
    return f"{_base()}/e/c/{token}?{query}"


def unsubscribe_url(token: uuid.UUID | str) -> str:
    token = str(token)
    return f"{_base()}/e/u/{token}/{_signature('unsubscribe', token)}"


def preferences_url(token: uuid.UUID | str) -> str:
    token = str(token)
    return f"{_base()}/e/p/{token}/{_signature('unsubscribe', token)}"


def is_tracking_url(url: str) -> bool:
    return url.startswith(f"{_base()}/e/")


def signature_check(kind: str, token: str, signature: str, destination: str = "") -> None:
    """Raise NotFound unless `signature` signs (kind, token[, destination])."""
    parts = (kind, token, destination) if kind == "click" else (kind, token)
    if not constant_time_compare(signature, _signature(*parts)):
        raise NotFound("this link is not valid", code="link_invalid")


def is_machine(*, user_agent: str, sent_at: datetime | None, at: datetime) -> bool:
    """A proxy, scanner or script by its user agent, Apple Mail Privacy Protection's bare
    "Mozilla/5.0", or a hit sooner after the send than a person could react."""
    agent = user_agent.strip().lower()
    if not agent or agent == "mozilla/5.0" or any(mark in agent for mark in MACHINE_AGENTS):
        return True
    quick = timedelta(seconds=int(settings.CAMPAIGNS_MACHINE_OPEN_SECONDS))
    return sent_at is not None and at - sent_at < quick


@dataclass(frozen=True)
class Interaction:
    """What a tracking hit recorded."""

    message_id: int
    customer_id: int | None
    machine: bool


def message_by_token(token: str) -> CampaignMessage:
    try:
        key = uuid.UUID(token)
    except ValueError as error:
        raise NotFound("this link is not valid", code="link_invalid") from error
    message = (
        CampaignMessage.objects.select_related("campaign", "customer").filter(token=key).first()
    )
    if message is None:
        raise NotFound("this link is not valid", code="link_invalid")
    return message


def interaction_store(
    message: CampaignMessage, name: str, *, at: datetime, properties: dict, context: dict
) -> None:
    """Store one interaction as an event on the customer (its own message id; a provider
    retrying the same feedback stores another event, as it would another open)."""
    from apps.campaigns.services.events import email_events_store

    email_events_store(
        [
            {
                "message": message,
                "name": name,
                "message_id": f"{name}:{message.token}:{uuid.uuid4().hex}",
                "at": at,
                "properties": properties,
                "context": context,
            }
        ]
    )


def open_record(*, token: str, signature: str, user_agent: str = "", ip: str = "") -> Interaction:
    """Count an open of the message (a person's or a machine's) and store an email_open event."""
    signature_check("open", token, signature)
    message = message_by_token(token)
    now = timezone.now()
    machine = is_machine(user_agent=user_agent, sent_at=message.sent_at, at=now)
    with transaction.atomic():
        if machine:
            CampaignMessage.objects.filter(pk=message.pk).update(
                machine_open_count=F("machine_open_count") + 1
            )
        else:
            CampaignMessage.objects.filter(pk=message.pk, opened_at__isnull=True).update(
                opened_at=now
            )
            CampaignMessage.objects.filter(pk=message.pk).update(open_count=F("open_count") + 1)
    interaction_store(
        message,
        "email_open",
        at=now,
        properties=_properties(message, machine=machine),
        context={"userAgent": user_agent[:500], "ip": ip},
    )
    return Interaction(message.pk, message.customer_id, machine)


def click_record(
    *, token: str, destination: str, signature: str, user_agent: str = "", ip: str = ""
) -> str:
    """Count a click and store an email_click event; returns where to send the reader. A
    click also counts as an open (images may be blocked)."""
    if not destination.lower().startswith(("http://", "https://")):
        raise ValidationFailed("u: not a web address", field="u")
    signature_check("click", token, signature, destination)
    message = message_by_token(token)
    now = timezone.now()
    machine = is_machine(user_agent=user_agent, sent_at=message.sent_at, at=now)
    if not machine:
        with transaction.atomic():
            CampaignMessage.objects.filter(pk=message.pk, clicked_at__isnull=True).update(
                clicked_at=now
            )
            CampaignMessage.objects.filter(pk=message.pk, opened_at__isnull=True).update(
                opened_at=now
            )
            CampaignMessage.objects.filter(pk=message.pk).update(click_count=F("click_count") + 1)
    interaction_store(
        message,
        "email_click",
        at=now,
        properties={**_properties(message, machine=machine), "url": destination[:2000]},
        context={"userAgent": user_agent[:500], "ip": ip},
    )
    return destination


def _properties(message: CampaignMessage, *, machine: bool) -> dict:
    return {
        "campaign_id": message.campaign_id,
        "campaign": message.campaign.name[:200],
        "variant": message.variant,
        "machine": machine,
    }


def mailto_unsubscribe(token: uuid.UUID | str) -> str:
    """The mailto: form of List-Unsubscribe (for clients that only mail)."""
    sender = str(settings.DEFAULT_FROM_EMAIL)
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return f"mailto:{address}?subject={quote('unsubscribe ' + str(token))}"
