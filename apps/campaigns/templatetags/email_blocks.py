"""Blocks available in every campaign template without {% load %}.

{% recommendations n=4 placement="email" %}
    The customer's recommended products from the champion recommender, each linking to the
    product (CAMPAIGNS_PRODUCT_URL) with its reason; nothing when there are none.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join

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
