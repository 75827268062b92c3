"""Campaign pages: the list, the editor, and a campaign's page (status and actions, report with
funnel, variants, holdout uplift and attribution, preview as any customer, test send)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from apps.accounts.selectors import user_scopes
from apps.campaigns import selectors, services
from apps.campaigns.choices import CampaignStatus
from apps.campaigns.models import Campaign
from apps.campaigns.web.forms import CampaignForm, PreviewForm, TestSendForm
from apps.core.errors import DomainError, NotFound
from apps.core.web.decorators import scope_required
from apps.customers.selectors import customer_get
from apps.segments.selectors import segment_list

READ = "campaigns:read"
WRITE = "campaigns:write"
PER_PAGE = 25


def _campaign(campaign_id: int) -> Campaign:
    try:
        return selectors.campaign_get(campaign_id=campaign_id)
    except NotFound as error:
        raise Http404(error.message) from None


def _can_write(request: HttpRequest) -> bool:
    return WRITE in user_scopes(user=request.user)


def _require_write(request: HttpRequest) -> None:
    if not _can_write(request):
        raise PermissionDenied(f"Your role does not include {WRITE}.")


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


@scope_required(READ)
def index(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in CampaignStatus.values:
        status = ""
    page = Paginator(selectors.campaign_list(status=status), PER_PAGE).get_page(
        request.GET.get("page")
    )
    for campaign in page:
        campaign.open_rate = _percent(campaign.opened, campaign.sent)
        campaign.click_rate = _percent(campaign.clicked, campaign.sent)
    return render(
        request,
        "campaigns/index.html",
        {
            "page": page,
            "status": status,
            "statuses": CampaignStatus.choices,
            "can_write": _can_write(request),
            "overview": selectors.campaigns_overview(days=30),
        },
    )


def _segment_choices() -> list[tuple[str, str]]:
    return [(str(s.pk), f"{s.name} ({s.member_count})") for s in segment_list()]


def _save(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    _require_write(request)
    initial = (
        CampaignForm.initial_for(campaign) if campaign else {"html_body": services.DEFAULT_HTML}
    )
    form = CampaignForm(request.POST or None, initial=initial, segment_choices=_segment_choices())
    if request.method == "POST" and form.is_valid():
        fields, segment_ids, excluded, variants = form.split()
        try:
            if campaign is None:
                campaign = services.campaign_create(
                    owner=request.user,
                    segment_ids=segment_ids,
                    excluded_segment_ids=excluded,
                    **fields,
                )
                if variants:
                    services.campaign_update(campaign=campaign, changes={}, variants=variants)
            else:
                services.campaign_update(
                    campaign=campaign,
                    changes=fields,
                    segment_ids=segment_ids,
                    excluded_segment_ids=excluded,
                    variants=variants if campaign.planned_at is None else None,
                    actor=request.user,
                )
            messages.success(request, "Campaign saved.")
            return redirect("campaigns:detail", campaign_id=campaign.pk)
        except DomainError as error:
            field = getattr(error, "field", None)
            if field in form.fields:
                form.add_error(field, error.message)
            else:
                form.add_error(None, error.message)
    return render(request, "campaigns/form.html", {"form": form, "campaign": campaign})


@scope_required(READ)
def create(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@scope_required(READ)
def edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _save(request, _campaign(campaign_id))


@scope_required(READ)
def detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(campaign_id)
    report = selectors.campaign_report(campaign=campaign)
    preview_form = PreviewForm(request.GET or None)
    customer = None
    preview = None
    preview_error = ""
    reference = request.GET.get("customer", "").strip()
    try:
        if reference:
            customer = customer_get(external_id=reference)
        preview = services.message_preview(campaign=campaign, customer=customer)
    except DomainError as error:
        preview_error = error.message
    funnel = report.funnel
    steps = [
        ("Targeted", funnel.targeted), ("Sent", funnel.sent), ("Delivered", funnel.delivered),
        ("Opened", funnel.opened), ("Clicked", funnel.clicked), ("Converted", funnel.converted),
    ]  # fmt: skip
    top = max(funnel.targeted, 1)
    summary = services.campaign_summary(campaign=campaign)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "report": report,
            "steps": [
                {
                    "label": label,
                    "value": value,
                    "width": 100.0 * value / top,
                    "percent": _percent(value, funnel.sent) if index > 1 else None,
                }
                for index, (label, value) in enumerate(steps)
            ],  # fmt: skip
            "summary": summary,
            "skipped": sorted(summary.skipped.items()),
            "open_rate": _percent(funnel.opened, funnel.delivered),
            "click_rate": _percent(funnel.clicked, funnel.delivered),
            "preview_form": preview_form,
            "preview": preview,
            "preview_error": preview_error,
            "preview_customer": customer,
            "test_form": TestSendForm(initial={"customer": reference}),
            "can_write": _can_write(request),
            "segments": list(campaign.segments.all()),
            "excluded": list(campaign.excluded_segments.all()),
        },
    )


@require_POST
@scope_required(READ)
def action(request: HttpRequest, campaign_id: int, verb: str) -> HttpResponse:
    _require_write(request)
    campaign = _campaign(campaign_id)
    calls: dict[str, Any] = {
        "launch": services.campaign_launch,
        "pause": services.campaign_pause,
        "resume": services.campaign_resume,
        "cancel": services.campaign_cancel,
    }
    if verb not in calls:
        raise Http404("no such action")
    extra: dict[str, Any] = {}
    if verb == "launch" and request.POST.get("at"):
        at = parse_datetime(request.POST["at"])
        if at is None:
            messages.error(request, "at: give a date and time.")
            return redirect("campaigns:detail", campaign_id=campaign.pk)
        extra["at"] = timezone.make_aware(at) if timezone.is_naive(at) else at
    try:
        calls[verb](campaign=campaign, actor=request.user, **extra)
        done = {"launch": "launched", "pause": "paused", "resume": "resumed", "cancel": "cancelled"}
        if extra:
            messages.success(request, f"Campaign scheduled for {extra['at']:%d %b %Y %H:%M}.")
        else:
            messages.success(request, f"Campaign {done[verb]}.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("campaigns:detail", campaign_id=campaign.pk)


@require_POST
@scope_required(READ)
def test_send(request: HttpRequest, campaign_id: int) -> HttpResponse:
    _require_write(request)
    campaign = _campaign(campaign_id)
    form = TestSendForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Test send: give an email address.")
        return redirect("campaigns:detail", campaign_id=campaign.pk)
    try:
        reference = form.cleaned_data["customer"].strip()
        customer = customer_get(external_id=reference) if reference else None
        services.campaign_test_send(
            campaign=campaign, to=form.cleaned_data["to"], customer=customer
        )
        messages.success(request, f"Test sent to {form.cleaned_data['to']}.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("campaigns:detail", campaign_id=campaign.pk)
