"""Segments pages: the list, the builder with its live preview, a segment's members, size over
time and history, a member's explanation, CSV export and static uploads."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.selectors import user_scopes
from apps.catalog.selectors import brand_list, category_list
from apps.core.errors import DomainError, NotFound
from apps.core.web.decorators import scope_required
from apps.customers.selectors import customer_count, customer_get
from apps.segments import selectors
from apps.segments.models import Segment
from apps.segments.services import segments as services
from apps.segments.services.segments import DefinitionInvalid
from apps.segments.web.forms import (
    EMPTY_DEFINITION,
    MemberSearchForm,
    SegmentForm,
    StaticSegmentForm,
    UploadForm,
)

SEGMENTS_READ = "segments:read"
SEGMENTS_WRITE = "segments:write"
MEMBERS_PER_PAGE = 20
HISTORY_PER_PAGE = 50
SPARK_WIDTH, SPARK_HEIGHT = 120, 28
DATALIST_MAX = 500
# Churn risk shown amber from here (red from selectors.CHURN_AT_RISK): worth watching.
CHURN_WATCH = 0.3


def _segment(segment_id: int) -> Segment:
    try:
        return selectors.segment_get(segment_id=segment_id)
    except NotFound as error:
        raise Http404(error.message) from None


def _can_write(request: HttpRequest) -> bool:
    return SEGMENTS_WRITE in user_scopes(user=request.user)


def _require_write(request: HttpRequest) -> None:
    if not _can_write(request):
        raise PermissionDenied(f"Your role does not include {SEGMENTS_WRITE}.")


def _sparkline(values: list[int]) -> str:
    """SVG polyline points of a size series (a flat line for one point)."""
    if not values:
        return ""
    if len(values) == 1:
        values = values * 2
    low, high = min(values), max(values)
    span = (high - low) or 1
    step = SPARK_WIDTH / (len(values) - 1)
    return " ".join(
        f"{index * step:.1f},{SPARK_HEIGHT - 2 - (value - low) / span * (SPARK_HEIGHT - 4):.1f}"
        for index, value in enumerate(values)
    )


@scope_required(SEGMENTS_READ)
def index(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")
    segments = list(selectors.segment_list(search=search))
    sparks = selectors.segment_sparklines(segment_ids=[segment.pk for segment in segments])
    total = customer_count()
    rows = [
        (
            segment,
            _sparkline(sparks.get(segment.pk, [])),
            segment.member_count / total * 100 if total else 0.0,
        )
        for segment in segments
    ]
    context = {
        "rows": rows,
        "search": search,
        "total_customers": total,
        "can_write": _can_write(request),
    }
    return render(request, "segments/index.html", context)


def _builder(
    request: HttpRequest,
    form: SegmentForm,
    *,
    segment: Segment | None,
    definition: Any,
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "segment": segment,
        "definition": definition,
        "errors": errors or [],
        "catalogue": selectors.segment_builder_catalogue(
            exclude_segment_id=segment.pk if segment else None
        ),
        "can_write": _can_write(request),
        "categories": list(category_list().values_list("path", flat=True)[:DATALIST_MAX]),
        "brands": list(brand_list().values_list("name", flat=True)[:DATALIST_MAX]),
    }
    return render(request, "segments/builder.html", context, status=status)


def _save(request: HttpRequest, form: SegmentForm, segment: Segment | None) -> HttpResponse:
    """Create or update from a valid form; the form again, with the problems, otherwise."""
    definition = form.cleaned_data["definition"]
    try:
        if segment is None:
            saved = services.segment_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                definition=definition,
                kind="dynamic",
                actor=request.user,
            )
        else:
            saved = services.segment_update(
                segment=segment,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                definition=definition,
                actor=request.user,
            )
    except DefinitionInvalid as error:
        return _builder(request, form, segment=segment, definition=definition,
                        errors=error.errors, status=400)  # fmt: skip
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _builder(request, form, segment=segment, definition=definition, status=400)
    verb = "created" if segment is None else "saved"
    messages.success(request, f"Segment {saved.name} {verb}: {saved.member_count:,} members.")
    return redirect("segments:detail", segment_id=saved.pk)


@scope_required(SEGMENTS_READ)
def builder_new(request: HttpRequest) -> HttpResponse:
    """GET: an empty builder. POST (segments:write): create the segment."""
    if request.method == "POST":
        _require_write(request)
        form = SegmentForm(request.POST)
        if form.is_valid():
            return _save(request, form, None)
        return _builder(request, form, segment=None, definition=_posted(request), status=400)
    form = SegmentForm(initial={"definition": json.dumps(EMPTY_DEFINITION)})
    return _builder(request, form, segment=None, definition=EMPTY_DEFINITION)


def _posted(request: HttpRequest) -> Any:
    try:
        return json.loads(request.POST.get("definition", ""))
    except json.JSONDecodeError:
        return EMPTY_DEFINITION


@scope_required(SEGMENTS_READ)
def builder_edit(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = _segment(segment_id)
    if segment.kind != "dynamic":
        return redirect("segments:detail", segment_id=segment.pk)
    if request.method == "POST":
        _require_write(request)
        form = SegmentForm(request.POST)
        if form.is_valid():
            return _save(request, form, segment)
        return _builder(request, form, segment=segment, definition=_posted(request), status=400)
    form = SegmentForm(
        initial={
            "name": segment.name,
            "description": segment.description,
            "definition": json.dumps(segment.definition),
        }
    )
    return _builder(request, form, segment=segment, definition=segment.definition)


@scope_required(SEGMENTS_READ)
@require_POST
def preview(request: HttpRequest) -> JsonResponse:
    """The builder's live preview: size, share, sample and words of the posted definition, or
    (`valid` false) every problem with its JSON path."""
    try:
        body = json.loads(request.body or b"{}")
        definition = body.get("definition") if isinstance(body, dict) else None
    except json.JSONDecodeError:
        return JsonResponse({"errors": [{"path": "", "message": "not JSON"}]}, status=400)
    exclude = body.get("segment_id") if isinstance(body, dict) else None
    try:
        result = selectors.segment_preview(definition=definition)
    except DefinitionInvalid as error:
        errors = error.errors
        if exclude:  # referring to the segment being edited is a cycle, said when saving
            errors = [item for item in errors if "refer to itself" not in item["message"]]
        # A definition being typed is often incomplete: that is an answer, not a failed request
        # (a 400 would be logged as an error in the browser console on every keystroke).
        return JsonResponse({"valid": False, "errors": errors})
    share = result.count / result.total_customers * 100 if result.total_customers else 0.0
    return JsonResponse(
        {
            "count": result.count,
            "total_customers": result.total_customers,
            "share": round(share, 1),
            "sample": result.sample,
            "description": [{"depth": d, "text": t} for d, t in result.description],
            "seconds": result.seconds,
            "valid": True,
            "errors": [],
        }
    )


@scope_required(SEGMENTS_WRITE)
def static_new(request: HttpRequest) -> HttpResponse:
    """A static segment from a CSV or pasted ids."""
    form = StaticSegmentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            segment = services.segment_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                kind="static",
                customer_external_ids=form.pasted_ids(),
                csv_file=form.cleaned_data.get("file"),
                actor=request.user,
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request, f"Segment {segment.name} created: {segment.member_count:,} members."
            )
            return redirect("segments:detail", segment_id=segment.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "segments/static_new.html", {"form": form}, status=status)


def _members_context(request: HttpRequest, segment: Segment) -> dict[str, Any]:
    """What _members.html needs: a page of members (with their scores) and the search."""
    form = MemberSearchForm(request.GET)
    search = form.cleaned_data["q"] if form.is_valid() else ""
    members = selectors.segment_member_list(segment=segment, search=search)
    return {
        "segment": segment,
        "page": Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page")),
        "search_form": form,
        "churn_at_risk": selectors.CHURN_AT_RISK,
        "churn_watch": CHURN_WATCH,
    }


@scope_required(SEGMENTS_READ)
def detail(request: HttpRequest, segment_id: int) -> HttpResponse:
    """Members (searchable, paginated), size over time, entries and exits, the definition."""
    segment = _segment(segment_id)
    members = _members_context(request, segment)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "members":
        return render(request, "segments/_members.html", members)
    week_ago = timezone.now() - timedelta(days=7)
    history = selectors.segment_history(segment=segment)
    total = customer_count()
    context = {
        **members,
        "chart": selectors.segment_size_chart(segment=segment),
        "history": history[:20],
        "history_total": history.count(),
        "entered_week": history.filter(kind="entered", at__gte=week_ago).count(),
        "exited_week": history.filter(kind="exited", at__gte=week_ago).count(),
        "share": segment.member_count / total * 100 if total else 0,
        "total_customers": total,
        "scores": selectors.segment_score_summary(segment=segment),
        "churn_at_risk_percent": round(selectors.CHURN_AT_RISK * 100),
        "description": selectors.segment_describe(segment=segment),
        "upload_form": UploadForm(),
        "can_write": _can_write(request),
    }
    return render(request, "segments/detail.html", context)


@scope_required(SEGMENTS_READ)
def history(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = _segment(segment_id)
    kind = request.GET.get("kind", "")
    rows = selectors.segment_history(segment=segment, kind=kind if kind in (
        "entered", "exited") else "")  # fmt: skip
    page = Paginator(rows, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "segments/history.html",
                  {"segment": segment, "page": page, "kind": kind})  # fmt: skip


@scope_required(SEGMENTS_READ)
def member(request: HttpRequest, segment_id: int, external_id: str) -> HttpResponse:
    """Why this customer is (or is not) in the segment, condition by condition."""
    segment = _segment(segment_id)
    try:
        customer = customer_get(external_id=external_id)
    except NotFound as error:
        raise Http404(error.message) from None
    context = {
        "segment": segment,
        "customer": customer,
        "explanation": selectors.segment_explain(segment=segment, customer=customer),
        "history": selectors.segment_history(segment=segment, customer_id=customer.pk)[:20],
    }
    return render(request, "segments/member.html", context)


@scope_required(SEGMENTS_WRITE)
@require_POST
def refresh(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = _segment(segment_id)
    result = services.segment_refresh(segment=segment)
    messages.success(
        request,
        f"Refreshed in {result.seconds:.2f} s: {result.member_count:,} members "
        f"({result.entered:,} entered, {result.exited:,} left).",
    )
    return redirect("segments:detail", segment_id=segment.pk)


@scope_required(SEGMENTS_WRITE)
@require_POST
def delete(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = _segment(segment_id)
    try:
        services.segment_delete(segment=segment, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("segments:detail", segment_id=segment.pk)
    messages.success(request, f"Segment {segment.name} deleted.")
    return redirect("segments:index")


@scope_required(SEGMENTS_WRITE)
@require_POST
def upload(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = _segment(segment_id)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a CSV file of customer ids to upload.")
        return redirect("segments:detail", segment_id=segment.pk)
    try:
        report = services.segment_static_upload(
            segment=segment,
            file=form.cleaned_data["file"],
            mode=form.cleaned_data["mode"],
            actor=request.user,
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        unknown = f"; {len(report.unknown):,} unknown ids" if report.unknown else ""
        messages.success(request, f"{report.matched:,} customers matched{unknown}.")
    return redirect("segments:detail", segment_id=segment.pk)


@scope_required(SEGMENTS_READ)
def export(request: HttpRequest, segment_id: int) -> StreamingHttpResponse:
    """Every member as CSV, streamed."""
    segment = _segment(segment_id)
    response = StreamingHttpResponse(
        selectors.segment_export_lines(segment=segment), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}.csv"'
    return response
