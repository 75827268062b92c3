"""Data > Quarantine: messages the events API did not store, why, and the fix: replay them as
stored or edited, under a new message id (conflicts), or discard them; one by one or in bulk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from apps.accounts.selectors import user_scopes
from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.core.web.decorators import scope_required
from apps.events import selectors, services
from apps.events.choices import QuarantineKind, QuarantineStatus
from apps.events.contracts import IngestResult
from apps.events.engine.messages import FIELD_ALIASES
from apps.events.models import QuarantinedMessage

PAGE_SIZE = 25
ALL_STATUSES = "all"
# The JSON editor refuses more than this; bigger bodies are fixed through the API.
MAX_EDIT_CHARS = 5 * 1024 * 1024


class QuarantineFilterForm(forms.Form):
    """The list's filters; the list opens on the open entries."""

    status = forms.ChoiceField(
        required=False,
        choices=[*QuarantineStatus.choices, (ALL_STATUSES, "Any status")],
    )
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *QuarantineKind.choices])
    source = forms.ChoiceField(required=False)
    search = forms.CharField(required=False, max_length=200)

    def __init__(self, data: Any, *, sources: list[str]) -> None:
        data = data.copy()
        data.setdefault("status", QuarantineStatus.OPEN)
        super().__init__(data)
        self.fields["source"].choices = [("", "Any source")] + [(s, s) for s in sources]
        for name in ("status", "kind", "source"):
            self.fields[name].widget.attrs["class"] = "form-select"
        self.fields["search"].widget.attrs.update(
            {"class": "form-control", "placeholder": "Message id, error text or #entry id"}
        )

    def selector_filters(self) -> dict[str, str]:
        """Keyword arguments for `quarantine_list`; an invalid field filters nothing."""
        self.is_valid()
        data = self.cleaned_data
        status = data.get("status") or QuarantineStatus.OPEN
        return {
            "status": "" if status == ALL_STATUSES else status,
            "kind": data.get("kind") or "",
            "source": data.get("source") or "",
            "search": data.get("search") or "",
        }

    @property
    def is_filtered(self) -> bool:
        filters = self.selector_filters()
        return any(filters[name] for name in ("kind", "source", "search")) or (
            filters["status"] != QuarantineStatus.OPEN
        )


@dataclass(frozen=True)
class EntryRow:
    """An entry with its error split into the field it names and the rest of the reason."""

    entry: QuarantinedMessage
    field: str
    message: str


def entry_row(entry: QuarantinedMessage) -> EntryRow:
    # Reasons read "<field>: <why>" (the engine's and the services' format).
    head, colon, rest = entry.error.partition(": ")
    if colon and head and " " not in head and len(head) <= 128:
        return EntryRow(entry=entry, field=head, message=rest)
    return EntryRow(entry=entry, field=entry.field, message=entry.error)


@dataclass(frozen=True)
class PayloadLine:
    text: str
    highlighted: bool


def _normalised(path: str) -> str:
    """`messageId` -> `message_id` etc. at the top level, as the error names fields."""
    head, dot, rest = path.partition(".")
    bracket = head.find("[")
    key, tail = (head, "") if bracket < 0 else (head[:bracket], head[bracket:])
    return FIELD_ALIASES.get(key, key) + tail + dot + rest


def _json_lines(value: Any, path: str, depth: int, label: str, comma: str) -> list[tuple[str, str]]:
    pad = "  " * depth
    if isinstance(value, dict) and value:
        lines = [(f"{pad}{label}{{", path)]
        for position, (key, child) in enumerate(value.items()):
            child_path = f"{path}.{key}" if path else str(key)
            separator = "," if position < len(value) - 1 else ""
            key_label = json.dumps(str(key), ensure_ascii=False) + ": "
            lines += _json_lines(child, child_path, depth + 1, key_label, separator)
        return [*lines, (f"{pad}}}{comma}", path)]
    if isinstance(value, list) and value:
        lines = [(f"{pad}{label}[", path)]
        for position, child in enumerate(value):
            separator = "," if position < len(value) - 1 else ""
            lines += _json_lines(child, f"{path}[{position}]", depth + 1, "", separator)
        return [*lines, (f"{pad}]{comma}", path)]
    return [(f"{pad}{label}{json.dumps(value, ensure_ascii=False)}{comma}", path)]


def payload_lines(payload: Any, field: str) -> list[PayloadLine]:
    """The payload pretty-printed, the lines of the offending field (and its contents) marked."""
    lines = _json_lines(payload, "", 0, "", "")
    marked = []
    for text, path in lines:
        normalised = _normalised(path) if path else ""
        hit = bool(field) and (
            normalised == field or normalised.startswith((f"{field}.", f"{field}["))
        )
        marked.append(PayloadLine(text=text, highlighted=hit))
    return marked


def editable_text(entry: QuarantinedMessage) -> str:
    """What the fix box starts with: the message as JSON, or a malformed body as received."""
    if entry.kind == QuarantineKind.MALFORMED:
        return entry.raw_body
    return json.dumps(entry.payload, indent=2, ensure_ascii=False)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (write null or a number)")


def _is_partial(request: HttpRequest) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _can_act(request: HttpRequest) -> bool:
    return "quarantine:write" in user_scopes(user=request.user)


@scope_required("events:read")
def quarantine_index(request: HttpRequest) -> HttpResponse:
    """The list: open counts by kind, filters, and the entries (htmx swaps the results)."""
    form = QuarantineFilterForm(request.GET, sources=selectors.quarantine_sources())
    entries = selectors.quarantine_list(**form.selector_filters())
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "rows": [entry_row(entry) for entry in page],
        "counts": selectors.quarantine_counts(),
        "can_act": _can_act(request),
        "query": request.GET.urlencode(),
        "max_bulk": services.MAX_BULK_ENTRIES,
    }
    template = (
        "events/_quarantine_results.html" if _is_partial(request) else "events/quarantine.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _entry(entry_id: int) -> QuarantinedMessage:
    try:
        return selectors.quarantine_get(entry_id=entry_id)
    except NotFound as error:
        raise Http404(error.message) from error


def _render_detail(
    request: HttpRequest,
    entry: QuarantinedMessage,
    *,
    text: str | None = None,
    text_error: str = "",
) -> HttpResponse:
    row = entry_row(entry)
    is_open = entry.status == QuarantineStatus.OPEN
    what = "body" if entry.kind == QuarantineKind.MALFORMED else "message"
    if entry.status == QuarantineStatus.REPLAYED:
        payload_title = f"The {what} as replayed"
    elif is_open and entry.resolution_note:  # a replay was refused: the entry holds its try
        payload_title = f"The {what} as last replayed"
    else:
        payload_title = f"The {what} as received"
    next_open = selectors.quarantine_list(status=QuarantineStatus.OPEN).exclude(pk=entry.pk).first()
    context = {
        "entry": entry,
        "row": row,
        # The offending field is marked while it is still the problem.
        "lines": (
            payload_lines(entry.payload, entry.field if is_open else "")
            if entry.payload is not None
            else []
        ),
        "payload_title": payload_title,
        "text": editable_text(entry) if text is None else text,
        "text_error": text_error,
        "can_act": _can_act(request),
        "is_open": is_open,
        "next_open": next_open,
        "counts": selectors.quarantine_counts(),
    }
    return render(request, "events/quarantine.html", context)


@scope_required("events:read")
def quarantine_detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    """One entry: the payload as received, the error, and the fix-and-replay form."""
    return _render_detail(request, _entry(entry_id))


def _replay_message(entry: QuarantinedMessage, result: IngestResult) -> tuple[int, str]:
    stored, already = len(result.accepted), len(result.duplicates)
    if result.rejected:
        done = f" {stored} stored, {already} already stored;" if stored + already else ""
        return messages.ERROR, (
            f"Entry #{entry.pk} still rejected:{done} {entry.error}. It stays open with this "
            "reason: fix the payload and replay again."
        )
    if stored + already + len(result.rejected) == 1:
        outcome = (result.accepted or result.duplicates)[0]
        if stored:
            text = f"message {outcome.message_id} stored as an event"
        else:
            text = f"message {outcome.message_id} was stored already, nothing new written"
    else:
        text = f"{stored} messages stored as events, {already} were stored already"
    return messages.SUCCESS, f"Entry #{entry.pk} replayed: {text}. It is closed."


@require_POST
@scope_required("quarantine:write")
def quarantine_replay(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Replay as stored, with the edited payload, or (conflicts) under a new message id."""
    entry = _entry(entry_id)
    mode = request.POST.get("mode", "as_is")
    text = request.POST.get("payload", "")
    payload = None
    if mode in ("edited", "new_id"):
        try:
            if len(text) > MAX_EDIT_CHARS:
                raise ValueError("more than 5 MB: replay it through the API")
            payload = json.loads(text, parse_constant=_not_json)
        except ValueError as error:
            return _render_detail(request, entry, text=text, text_error=f"Not valid JSON: {error}")
    try:
        entry, result = services.quarantine_replay(
            entry_id=entry.pk, payload=payload, new_message_id=mode == "new_id"
        )
    except ValidationFailed as error:
        messages.error(request, f"Entry #{entry.pk} not replayed: {error.message}")
    except Conflict as error:
        messages.warning(request, f"Not replayed: {error.message}.")
    else:
        level, text = _replay_message(entry, result)
        messages.add_message(request, level, text)
    return redirect("events:quarantine-detail", entry_id=entry.pk)


@require_POST
@scope_required("quarantine:write")
def quarantine_discard(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Close the entry without storing it; the note says why."""
    entry = _entry(entry_id)
    note = request.POST.get("note", "")[:2000]
    try:
        services.quarantine_discard(entry_id=entry.pk, note=note)
    except Conflict as error:
        messages.warning(request, f"Not discarded: {error.message}.")
    else:
        messages.success(request, f"Entry #{entry.pk} discarded: nothing was stored.")
    return redirect("events:quarantine-detail", entry_id=entry.pk)


def _bulk_ids(request: HttpRequest) -> list[int]:
    if request.POST.get("scope") == "matching":
        form = QuarantineFilterForm(request.POST, sources=selectors.quarantine_sources())
        filters = {**form.selector_filters(), "status": QuarantineStatus.OPEN}
        entries = selectors.quarantine_list(**filters)
        return list(entries.values_list("id", flat=True)[: services.MAX_BULK_ENTRIES])
    return [int(value) for value in request.POST.getlist("ids") if value.isdigit()]


@require_POST
@scope_required("quarantine:write")
def quarantine_bulk(request: HttpRequest) -> HttpResponse:
    """Replay (as stored) or discard the selected open entries, or every open one matching
    the filters (up to MAX_BULK_ENTRIES a click)."""
    action = request.POST.get("action")
    if action not in ("replay", "discard"):
        raise PermissionDenied("Unknown bulk action.")
    entry_ids = _bulk_ids(request)
    back = HttpResponseRedirect(reverse("events:quarantine") + "?" + request.POST.get("query", ""))
    if not entry_ids:
        messages.warning(request, "Nothing selected: tick entries first, or choose all matching.")
        return back
    if action == "discard":
        discarded = services.quarantine_discard_many(
            entry_ids=entry_ids, note=request.POST.get("note", "")[:2000]
        )
        messages.success(request, f"{discarded} entr{'y' if discarded == 1 else 'ies'} discarded.")
        return back
    outcome = services.quarantine_replay_many(entry_ids=entry_ids)
    text = (
        f"Replayed {outcome.replayed} entr{'y' if outcome.replayed == 1 else 'ies'} "
        f"({outcome.stored} event{'s' if outcome.stored != 1 else ''} stored)"
    )
    if outcome.still_open:
        text += f"; {outcome.still_open} still rejected and left open with the new reason"
    if outcome.skipped:
        text += f"; {outcome.skipped} no longer open, skipped"
    level = messages.WARNING if outcome.still_open else messages.SUCCESS
    messages.add_message(request, level, text + ".")
    return back
