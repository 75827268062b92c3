"""Blocks available in every campaign template without {% load %}.

{% recommendations n=4 placement="email" %}
    The customer's recommended products from the champion recommender, each linking to the
    product (CAMPAIGNS_PRODUCT_URL) with its reason; nothing when there are none.
{% coupon "program-key" %}  /  {% coupon "program-key" as offer %}
    The customer's code of a coupon program, issued now if they have none: a block with the
    code, value and expiry; nothing when the program does not target them (or holds them
    out, or is over). With `as`, the offer (code, label, expires_at) or None, for your own
    wording. Previews show a made-up code and issue nothing.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join

from apps.campaigns.services.coupons import coupon_offer, coupon_sample, program_get
from apps.recommendations.services import recommendations_for

register = template.Library()


@register.simple_tag(takes_context=True)
def recommendations(context: Any, n: int = 4, placement: str = "email") -> str:
    external_id = context.get("_customer_external_id") or ""
    if not external_id:
        return ""
    result = recommendations_for(
        customer_id=external_id,
        n=max(1, min(int(n), 12)),
        placement=placement,
        log=bool(context.get("_log_recommendations", True)),
    )
    if not result.items:
        return ""
    url = str(context.get("_product_url") or "")
    cells = format_html_join(
        "",
        '<td class="product" style="padding:8px;vertical-align:top;width:{}%">'
        '<a href="{}" style="font-weight:600;color:#1d4ed8;text-decoration:none">{}</a>'
        '<div style="color:#64748b;font-size:12px">{}</div></td>',
        (
            (
                100 // len(result.items),
                url.replace("{sku}", item.product_id),
                item.title or item.product_id,
                item.reason,
            )
            for item in result.items
        ),
    )
    return format_html(
        '<table role="presentation" class="recommendations" width="100%" '
        'data-request-id="{}"><tr>{}</tr></table>',
        result.request_id,
        cells,
    )


@register.simple_tag(takes_context=True)
def coupon(context: Any, key: str) -> Any:
    program = program_get(key=key)
    if context.get("_preview"):
        offer = coupon_sample(program=program)
    else:
        customer_pk = context.get("_customer_pk")
        if customer_pk is None:
            return ""
        offer = coupon_offer(
            program=program, customer_id=customer_pk, campaign_id=context.get("_campaign_id")
        )
    if offer is None:
        return ""
    return CouponBlock(offer)


class CouponBlock:
    """An offer that prints as the coupon block ({% coupon %}) and exposes its fields
    ({% coupon ... as offer %}{{ offer.code }})."""

    def __init__(self, offer: Any) -> None:
        self.offer = offer
        self.code = offer.code
        self.label = offer.label
        self.expires_at = offer.expires_at

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:
        minimum = (
            format_html(" on orders of {:.2f} or more", self.offer.min_order_total)
            if self.offer.min_order_total
            else ""
        )
        return format_html(
            '<table role="presentation" class="coupon" style="border:2px dashed #4f46e5;'
            'border-radius:8px;margin:12px 0"><tr><td style="padding:12px 16px">'
            '<div style="font-size:20px;font-weight:700;letter-spacing:2px">{}</div>'
            '<div style="color:#334155">{}{} &middot; valid until {}</div></td></tr></table>',
            self.code,
            self.label,
            minimum,
            self.expires_at.strftime("%d %b %Y"),
        )

    def __html__(self) -> str:
        return str(self)
