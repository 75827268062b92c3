"""Email content: the campaign's templates compiled once, rendered per customer with
personalisation, blocks, tracked links with UTM parameters, an open pixel and a generated
plain-text part."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template import Context, Engine, Template, TemplateSyntaxError

from apps.campaigns.engine.links import links_rewrite, utm_add
from apps.campaigns.engine.plaintext import html_to_text
from apps.campaigns.models import Campaign
from apps.campaigns.services import tracking
from apps.core.errors import ValidationFailed

BLOCKS = "apps.campaigns.templatetags.email_blocks"


@functools.cache
def _engine(autoescape: bool) -> Engine:
    return Engine(builtins=[BLOCKS], autoescape=autoescape, debug=False)


@dataclass(frozen=True)
class CompiledContent:
    """A campaign variant's templates, ready to render many times."""

    subject: Template
    html: Template
    text: Template | None
    utm: dict[str, str]
    preheader: str


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def _compile(source: str, field: str, *, autoescape: bool) -> Template:
    try:
        return _engine(autoescape).from_string(source)
    except TemplateSyntaxError as error:
        raise ValidationFailed(f"{field}: {error}", field=field) from error


def content_compile(campaign: Campaign, variant: Any = None) -> CompiledContent:
    """Compile the campaign's (or the variant's) subject, HTML and text. Raises
    ValidationFailed naming the field when a template does not parse."""
    subject = (getattr(variant, "subject", "") or campaign.subject).strip()
    html = getattr(variant, "html_body", "") or campaign.html_body
    if not subject:
        raise ValidationFailed("subject: an email needs a subject", field="subject")
    if not html.strip():
        raise ValidationFailed("html_body: an email needs content", field="html_body")
    return CompiledContent(
        subject=_compile(subject, "subject", autoescape=False),
        html=_compile(html, "html_body", autoescape=True),
        text=_compile(campaign.text_body, "text_body", autoescape=False)
        if campaign.text_body.strip()
        else None,
        utm={
            "utm_source": campaign.utm_source,
            "utm_medium": campaign.utm_medium,
            "utm_campaign": campaign.utm_campaign or f"{campaign.pk}-{campaign.name}"[:100],
        },
        preheader=campaign.preheader,
    )


def customer_context(customer: Any) -> dict[str, Any]:
    """What templates see as {{ customer.* }}: the profile's fields and attributes."""
    if customer is None:
        return {}
    return {
        "external_id": customer.external_id,
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "city": customer.city,
        "country": customer.country,
        "language": customer.language,
        "attributes": customer.attributes or {},
    }


def message_render(
    content: CompiledContent,
    *,
    customer: Any,
    token: Any,
    variant: str = "",
    log_recommendations: bool = True,
    track: bool = True,
    campaign_id: int | None = None,
    journey: dict[str, Any] | None = None,
) -> RenderedEmail:
    """One customer's email. `track` False (previews) leaves links as written."""
    values = {
        "customer": customer_context(customer),
        "first_name": getattr(customer, "first_name", ""),
        "unsubscribe_url": tracking.unsubscribe_url(token),
        "preferences_url": tracking.preferences_url(token),
        "preheader": content.preheader,
        "_customer_external_id": getattr(customer, "external_id", ""),
        "_log_recommendations": log_recommendations,
        "_customer_pk": getattr(customer, "pk", None),
        "_campaign_id": campaign_id,
        "_preview": not track,
        "journey": journey or {},
        "_product_url": settings.CAMPAIGNS_PRODUCT_URL,
    }
    subject = " ".join(content.subject.render(Context(values, autoescape=False)).split())
    html: str = str(content.html.render(Context(values)))
    utm = {**content.utm, "utm_content": variant} if variant else content.utm

    def rewrite(url: str) -> str | None:
        if tracking.is_tracking_url(url):
            return None
        destination = utm_add(url, utm)
        return tracking.click_url(token, destination) if track else destination

    html = links_rewrite(html, rewrite)
    if track:
        pixel = (
            f'<img src="{tracking.open_url(token)}" width="1" height="1" alt="" '
            'style="display:block;border:0;width:1px;height:1px">'
        )
        closing = html.lower().rfind("</body>")
        html = html[:closing] + pixel + html[closing:] if closing >= 0 else html + pixel
    text: str
    if content.text is not None:
        text = str(content.text.render(Context(values, autoescape=False)))
    else:
        text = html_to_text(html)
    return RenderedEmail(subject=subject, html=html, text=text)


def message_preview(*, campaign: Campaign, customer: Any, variant: Any = None) -> RenderedEmail:
    """The campaign as `customer` would get it, links untracked, nothing logged."""
    return message_render(
        content_compile(campaign, variant),
        customer=customer,
        token=uuid.uuid4(),  # a throw-away token: the unsubscribe links render, nothing is stored
        variant=getattr(variant, "key", ""),
        log_recommendations=False,
        track=False,
    )
