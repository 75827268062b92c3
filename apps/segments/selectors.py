"""Reads of segments: lists, members, history, sizes, previews and explanations.

`segment_explain` answers "why is this customer in this segment": every condition of the
definition with its truth for the customer and the customer's actual value, all computed in
one query by the same expressions the segment query uses, so the explanation cannot
disagree with the membership.
"""

from __future__ import annotations

import csv
import functools
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from apps.core.errors import NotFound
from apps.customers.selectors import customer_count
from apps.segments.contracts import CustomerScoresView, ScoreReason
from apps.segments.engine.definition import (
    ATTRIBUTE,
    ATTRIBUTE_OPERATORS,
    DATE_OPERATORS,
    MEASURE_OPERATORS,
    OPERATOR_LABELS,
    PROPERTY_FIELDS,
    SCORE_FIELDS,
    ActivityDateCondition,
    ConsentCondition,
    FieldCondition,
    Group,
    MeasureCondition,
    Node,
    SegmentCondition,
    describe,
    iter_leaves,
    parse_definition,
)
from apps.segments.models import (
    CustomerScores,
    Segment,
    SegmentKind,
    SegmentMembership,
    SegmentMembershipEvent,
    SegmentSize,
)
from apps.segments.services.compiler import (
    CompileContext,
    customers,
    definition_q,
    event_type_labels,
    leaf_q,
    leaf_value_expression,
    truth_expression,
    vocabulary,
)
from apps.segments.services.features import feature_label
from apps.segments.services.segments import definition_parse

PREVIEW_SAMPLE = 10
CENT = Decimal("0.01")
EXPORT_CHUNK = 2000
EXPORT_HEADER = [
    "external_id", "email", "first_name", "last_name", "country", "city", "member_since",
]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Segments.


def segment_list(*, search: str = "", kind: str = "", status: str = "") -> QuerySet[Segment]:
    """Segments by name, optionally searched by name/description or limited to a kind or a
    status (`failed`: the segments whose last refresh failed)."""
    queryset = Segment.objects.select_related("created_by")
    search = search.strip()
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if kind:
        queryset = queryset.filter(kind=kind)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("name", "id")


def segment_get(*, segment_id: int) -> Segment:
    segment = Segment.objects.select_related("created_by").filter(pk=segment_id).first()
    if segment is None:
        raise NotFound(f"segment {segment_id} does not exist", code="segment_not_found")
    return segment


def segment_find(*, reference: str) -> Segment:
    """A segment by id or by name (case-insensitive): what `--segment` options take."""
    reference = reference.strip()
    segment = None
    if reference.isdigit():
        segment = Segment.objects.filter(pk=int(reference)).first()
    if segment is None:
        segment = Segment.objects.filter(name__iexact=reference).first()
    if segment is None:
        raise NotFound(f"segment {reference!r} does not exist", code="segment_not_found")
    return segment


def segment_names(*, segment_ids: set[int] | None = None) -> dict[int, str]:
    queryset = Segment.objects.all()
    if segment_ids is not None:
        queryset = queryset.filter(pk__in=segment_ids)
    return dict(queryset.values_list("pk", "name"))


def segment_describe(*, segment: Segment) -> list[tuple[int, str]]:
    """The definition in words, one (depth, line) per node, for pages and exports."""
    if segment.kind != SegmentKind.DYNAMIC:
        return [(0, "A fixed list of customers (static segment)")]
    try:
        root = parse_definition(segment.definition)
    except ValueError:
        return [(0, "The definition no longer validates: edit it")]
    labels = event_type_labels()
    names = segment_names()
    lines: list[tuple[int, str]] = []

    def walk(node: Node, depth: int) -> None:
        lines.append((depth, describe(node, event_labels=labels, segment_names=names)))
        if isinstance(node, Group):
            for child in node.conditions:
                walk(child, depth + 1)

    walk(root, 0)
    return lines


# ---------------------------------------------------------------------------------------------
# Members and history.


def segment_member_list(*, segment: Segment, search: str = "") -> QuerySet[SegmentMembership]:
    """Members, newest first, searchable by id, email or name, each with the customer's scores
    joined in the same query (`membership.customer.scores`; for a customer without a scores row
    it raises DoesNotExist without a query, which templates render as empty)."""
    queryset = SegmentMembership.objects.filter(segment=segment).select_related(
        "customer", "customer__scores"
    )
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(customer__external_id__icontains=search)
            | Q(customer__email__icontains=search)
            | Q(customer__first_name__icontains=search)
            | Q(customer__last_name__icontains=search)
        )
    return queryset.order_by("-since", "-customer_id")


def segment_member_customer_ids(*, segment_id: int) -> QuerySet[SegmentMembership, Any]:
    """Customer ids of a segment's members (a subquery: `customer__in=` or `pk__in=`)."""
    return SegmentMembership.objects.filter(segment_id=segment_id).values("customer_id")


# A calibrated churn probability at or above this is "more likely to leave than not": what the
# segment page counts as at risk.
CHURN_AT_RISK = 0.5


@dataclass(frozen=True)
class SegmentScoreSummary:
    """Averages of the members' scores, for the segment page's KPIs.

    Each average is over the members holding that score (customers without orders have no
    CLV; churn is scored only for recently active buyers), with how many that is.
    """

    members: int
    clv_scored: int
    average_clv_12m: Decimal | None
    average_p_alive: float | None  # stored with the CLV, so over the same members
    churn_scored: int
    average_churn_risk: float | None
    at_risk: int  # members with churn risk >= CHURN_AT_RISK

    @property
    def at_risk_share(self) -> float | None:
        """Share of the churn-scored members at risk, 0-1; None when none is scored."""
        return self.at_risk / self.churn_scored if self.churn_scored else None


def segment_score_summary(*, segment: Segment) -> SegmentScoreSummary:
    """Average 12-month CLV and P(alive), average churn risk and how many members are at risk
    (one query)."""
    row = CustomerScores.objects.filter(
        customer_id__in=segment_member_customer_ids(segment_id=segment.pk)
    ).aggregate(
        clv_scored=Count("clv_12m"),
        average_clv_12m=Avg("clv_12m"),
        average_p_alive=Avg("p_alive"),
        churn_scored=Count("churn_risk"),
        average_churn_risk=Avg("churn_risk"),
        at_risk=Count("pk", filter=Q(churn_risk__gte=CHURN_AT_RISK)),
    )
    average_clv = row["average_clv_12m"]
    return SegmentScoreSummary(
        members=segment.member_count,
        clv_scored=row["clv_scored"],
        average_clv_12m=None if average_clv is None else Decimal(average_clv).quantize(CENT),
        average_p_alive=row["average_p_alive"],
        churn_scored=row["churn_scored"],
        average_churn_risk=row["average_churn_risk"],
        at_risk=row["at_risk"],
    )


def segment_membership_get(*, segment: Segment, customer_id: int) -> SegmentMembership | None:
    return SegmentMembership.objects.filter(segment=segment, customer_id=customer_id).first()


def segment_history(
    *, segment: Segment, kind: str = "", customer_id: int | None = None
) -> QuerySet[SegmentMembershipEvent]:
    """Entries and exits, newest first."""
    queryset = SegmentMembershipEvent.objects.filter(segment=segment).select_related("customer")
    if kind:
        queryset = queryset.filter(kind=kind)
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    return queryset.order_by("-at", "-id")


def segment_membership_events(
    *, after_id: int = 0, segment_id: int | None = None, kind: str = "", limit: int = 1000
) -> list[SegmentMembershipEvent]:
    """Entries and exits after a history id, oldest first: what journeys poll to trigger on
    entry or exit (keep the last id seen)."""
    queryset = SegmentMembershipEvent.objects.filter(pk__gt=after_id)
    if segment_id is not None:
        queryset = queryset.filter(segment_id=segment_id)
    if kind:
        queryset = queryset.filter(kind=kind)
    return list(queryset.order_by("id")[:limit])


def segment_size_series(*, segment: Segment, days: int = 90) -> list[SegmentSize]:
    """Daily sizes of the last `days` days (days without a refresh are absent)."""
    since = timezone.localdate() - timedelta(days=days - 1)
    return list(SegmentSize.objects.filter(segment=segment, day__gte=since).order_by("day"))


def segment_size_chart(*, segment: Segment, days: int = 90) -> dict[str, list]:
    """{"labels": [ISO days], "values": [members]}: one point per day from the first
    snapshot, a day without a refresh carrying the previous size forward."""
    rows = segment_size_series(segment=segment, days=days)
    if not rows:
        return {"labels": [], "values": []}
    by_day = {row.day: row.member_count for row in rows}
    labels, values = [], []
    day, last = rows[0].day, rows[0].member_count
    today = timezone.localdate()
    while day <= today:
        last = by_day.get(day, last)
        labels.append(day.isoformat())
        values.append(last)
        day += timedelta(days=1)
    return {"labels": labels, "values": values}


def segment_sparklines(*, segment_ids: list[int], days: int = 30) -> dict[int, list[int]]:
    """Daily sizes over the last `days` for many segments (one query), for the list page."""
    since = timezone.localdate() - timedelta(days=days - 1)
    rows = SegmentSize.objects.filter(segment_id__in=segment_ids, day__gte=since).order_by(
        "segment_id", "day"
    )
    series: dict[int, list[int]] = {segment_id: [] for segment_id in segment_ids}
    for row in rows:
        series[row.segment_id].append(row.member_count)
    return series


def _csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def segment_export_lines(*, segment: Segment) -> Iterator[str]:
    """The members as CSV lines (header first), streamed from the database in chunks."""
    yield _csv_line(EXPORT_HEADER)
    rows = (
        SegmentMembership.objects.filter(segment=segment)
        .order_by("customer_id")
        .values_list(
            "customer__external_id",
            "customer__email",
            "customer__first_name",
            "customer__last_name",
            "customer__country",
            "customer__city",
            "since",
        )
    )
    for row in rows.iterator(chunk_size=EXPORT_CHUNK):
        yield _csv_line([*row[:-1], row[-1].isoformat()])


# ---------------------------------------------------------------------------------------------
# Preview.


@dataclass(frozen=True)
class SegmentPreview:
    """Size of a definition now, a sample of its customers, and the shop's total."""

    count: int
    total_customers: int
    sample: list[dict[str, Any]]
    seconds: float
    description: list[tuple[int, str]] = field(default_factory=list)


def segment_preview(
    *, definition: Any, now: datetime | None = None, sample_size: int = PREVIEW_SAMPLE
) -> SegmentPreview:
    """How many customers a definition selects and who some of them are, without saving.
    Raises DefinitionInvalid (every problem with its JSON path) for a bad definition."""
    root = definition_parse(definition)
    started = time.monotonic()
    matching = customers().filter(definition_q(root, CompileContext(now=now or timezone.now())))
    count = matching.count()
    sample = list(
        matching.order_by("-id").values(
            "external_id", "email", "first_name", "last_name", "country", "city"
        )[:sample_size]
    )
    labels = event_type_labels()
    names = segment_names()
    lines: list[tuple[int, str]] = []

    def walk(node: Node, depth: int) -> None:
        lines.append((depth, describe(node, event_labels=labels, segment_names=names)))
        if isinstance(node, Group):
            for child in node.conditions:
                walk(child, depth + 1)

    walk(root, 0)
    return SegmentPreview(
        count=count,
        total_customers=customer_count(),
        sample=sample,
        seconds=round(time.monotonic() - started, 4),
        description=lines,
    )


# ---------------------------------------------------------------------------------------------
# Explanations.


@dataclass(frozen=True)
class ConditionExplanation:
    """One node of the definition for one customer: true or false, and the customer's value."""

    path: str
    description: str
    matched: bool
    actual: str
    depth: int
    is_group: bool


@dataclass(frozen=True)
class SegmentExplanation:
    """Why a customer is (or is not) in a segment."""

    segment_id: int
    segment_name: str
    kind: str
    is_member: bool
    member_since: datetime | None
    matches: bool
    conditions: list[ConditionExplanation]
    note: str = ""


def _text(value: Any) -> str:
    if value is None or value == "":
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def _actual(leaf: Any, value: Any, matched: bool, membership: SegmentMembership | None) -> str:
    if isinstance(leaf, FieldCondition):
        return _text(value)
    if isinstance(leaf, MeasureCondition):
        if leaf.source == "order" and leaf.measure == "amount":
            return f"{Decimal(value or 0):,.2f} spent"
        unit = "time" if leaf.source == "event" else "order"
        return f"{value} {unit}{'' if value == 1 else 's'}"
    if isinstance(leaf, ActivityDateCondition):
        return "never" if value is None else _text(value)
    if isinstance(leaf, SegmentCondition):
        return "member" if (matched == (leaf.operator == "in")) else "not a member"
    if isinstance(leaf, ConsentCondition):
        return "granted" if matched == leaf.granted else "not granted"
    return ""


def _evaluate(
    root: Group, customer_id: int, context: CompileContext
) -> tuple[dict[str, bool], dict[str, Any]]:
    """Truth and value of every leaf for one customer, in one query."""
    annotations: dict[str, Any] = {}
    leaves = list(iter_leaves(root))
    for index, leaf in enumerate(leaves):
        annotations[f"truth_{index}"] = truth_expression(leaf_q(leaf, context))
        value = leaf_value_expression(leaf, context)
        if value is not None:
            annotations[f"value_{index}"] = value
    if not annotations:
        return {}, {}
    row = customers().filter(pk=customer_id).annotate(**annotations).values(*annotations).first()
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist", code="customer_not_found")
    truths = {leaf.path: bool(row[f"truth_{index}"]) for index, leaf in enumerate(leaves)}
    values = {leaf.path: row.get(f"value_{index}") for index, leaf in enumerate(leaves)}
    return truths, values


def segment_explain(
    *, segment: Segment, customer: Any, now: datetime | None = None
) -> SegmentExplanation:
    """Per condition: true or false for this customer, with the customer's actual value."""
    membership = segment_membership_get(segment=segment, customer_id=customer.pk)
    base = functools.partial(
        SegmentExplanation,
        segment_id=segment.pk,
        segment_name=segment.name,
        kind=segment.kind,
        is_member=membership is not None,
        member_since=membership.since if membership else None,
    )
    if segment.kind != SegmentKind.DYNAMIC:
        note = (
            "In the uploaded list of this static segment."
            if membership
            else "Not in the uploaded list of this static segment."
        )
        return base(matches=membership is not None, conditions=[], note=note)
    root = parse_definition(segment.definition)
    context = CompileContext(now=now or timezone.now())
    truths, values = _evaluate(root, customer.pk, context)
    labels = event_type_labels()
    names = segment_names()
    rows: list[ConditionExplanation] = []

    def walk(node: Node, depth: int) -> bool:
        text = describe(node, event_labels=labels, segment_names=names)
        if isinstance(node, Group):
            index = len(rows)
            rows.append(ConditionExplanation(node.path, text, False, "", depth, True))
            results = [walk(child, depth + 1) for child in node.conditions]
            matched = all(results) if node.operator == "and" else any(results)
            matched = matched != node.negate
            rows[index] = ConditionExplanation(node.path, text, matched, "", depth, True)
            return matched
        truth = truths[node.path]
        matched = truth != node.negate
        actual = _actual(node, values.get(node.path), truth, membership)
        rows.append(ConditionExplanation(node.path, text, matched, actual, depth, False))
        return matched

    matches = walk(root, 0)
    note = ""
    if matches != (membership is not None):
        note = (
            "The definition matches now but the membership is from the last refresh."
            if matches
            else "The customer no longer matches; the next refresh removes them."
        )
    return base(matches=matches, conditions=rows, note=note)


@dataclass(frozen=True)
class CustomerSegment:
    """A segment a customer is in, with why (for the customer profile page)."""

    segment_id: int
    name: str
    kind: str
    since: datetime
    explanation: SegmentExplanation


def segment_memberships_for_customer(
    *, customer_id: int, explain: bool = True
) -> list[CustomerSegment]:
    """Every segment the customer is in, by name, each with its explanation."""
    memberships = (
        SegmentMembership.objects.filter(customer_id=customer_id)
        .select_related("segment", "customer")
        .order_by("segment__name")
    )
    result = []
    for membership in memberships:
        explanation = (
            segment_explain(segment=membership.segment, customer=membership.customer)
            if explain
            else SegmentExplanation(
                membership.segment_id,
                membership.segment.name,
                membership.segment.kind,
                True,
                membership.since,
                True,
                [],
            )
        )
        result.append(
            CustomerSegment(
                segment_id=membership.segment_id,
                name=membership.segment.name,
                kind=membership.segment.kind,
                since=membership.since,
                explanation=explanation,
            )
        )
    return result


# ---------------------------------------------------------------------------------------------
# The builder's vocabulary.


def _field_entry(spec: Any, source: str, choices: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "name": spec.name,
        "label": spec.label,
        "source": source,
        "type": spec.type,
        "operators": list(spec.operators),
        "choices": choices.get(spec.name, []),
    }


def segment_builder_catalogue(*, exclude_segment_id: int | None = None) -> dict[str, Any]:
    """What the builder page offers: fields with their operators and choices, event types,
    operators' labels, and the segments a condition may refer to."""
    words = vocabulary()
    choices = {name: [value for value in values] for name, values in words.choices.items()}
    segments = [
        {"id": pk, "name": name}
        for pk, name in Segment.objects.order_by("name").values_list("pk", "name")
        if pk != exclude_segment_id
    ]
    return {
        "properties": [
            _field_entry(spec, "property", choices) for spec in PROPERTY_FIELDS.values()
        ],
        "attribute_type": ATTRIBUTE,
        "attribute_operators": list(ATTRIBUTE_OPERATORS),
        "scores": [_field_entry(spec, "score", choices) for spec in SCORE_FIELDS.values()],
        "event_types": [
            {"value": value, "label": label} for value, label in event_type_labels().items()
        ],
        "consent_purposes": list(words.consent_purposes),
        "measure_operators": list(MEASURE_OPERATORS),
        "date_operators": list(DATE_OPERATORS),
        "operator_labels": OPERATOR_LABELS,
        "segments": segments,
    }


SCORE_MODEL_VERSIONS = (
    "clv_model_version",
    "churn_model_version",
    "propensity_model_version",
    "cluster_model_version",
)


def _reasons(pairs: Any) -> list[ScoreReason]:
    """Stored `[[feature, contribution], ...]` pairs as reasons with readable labels."""
    if not isinstance(pairs, list):
        return []
    return [
        ScoreReason(feature=str(pair[0]), label=feature_label(str(pair[0])), contribution=pair[1])
        for pair in pairs
        if isinstance(pair, list | tuple) and len(pair) >= 2
    ]


def customer_scores_get(*, customer_id: int) -> CustomerScoresView | None:
    """The customer's RFM, lifecycle, cluster, CLV, churn and propensity scores, or None;
    with the version number of the model behind each group and the top reasons of the churn
    and propensity scores (one query)."""
    row = (
        CustomerScores.objects.select_related(*SCORE_MODEL_VERSIONS)
        .filter(customer_id=customer_id)
        .first()
    )
    if row is None:
        return None

    def version(name: str) -> int | None:
        return getattr(row, name).version if getattr(row, f"{name}_id") else None

    explanations = row.explanations or {}
    return CustomerScoresView(
        rfm_recency=row.rfm_recency,
        rfm_frequency=row.rfm_frequency,
        rfm_monetary=row.rfm_monetary,
        rfm_cell=row.rfm_cell,
        rfm_cell_label=row.get_rfm_cell_display() if row.rfm_cell else "",
        lifecycle_stage=row.lifecycle_stage,
        lifecycle_stage_label=row.get_lifecycle_stage_display() if row.lifecycle_stage else "",
        cluster=row.cluster,
        cluster_name=row.cluster_name,
        clv_historical=row.clv_historical,
        clv_discounted=row.clv_discounted,
        clv_12m=row.clv_12m,
        p_alive=row.p_alive,
        expected_purchases_90d=row.expected_purchases_90d,
        churn_risk=row.churn_risk,
        purchase_propensity=row.purchase_propensity,
        explanations={
            score: [[feature_label(str(pair[0])), *pair[1:]] for pair in pairs]
            for score, pairs in explanations.items()
            if isinstance(pairs, list)
        },
        updated_at=row.updated_at,
        clv_model_version=version("clv_model_version"),
        churn_model_version=version("churn_model_version"),
        propensity_model_version=version("propensity_model_version"),
        cluster_model_version=version("cluster_model_version"),
        churn_reasons=_reasons(explanations.get("churn")),
        propensity_reasons=_reasons(explanations.get("propensity")),
        sentiment_average=row.sentiment_average,
        text_count=row.text_count,
        interest_topics=row.interest_topics,
        interest_aspects=row.interest_aspects,
        last_complaint_at=row.last_complaint_at,
    )


def customer_targeting_scores(
    *, customer_ids: list[int]
) -> dict[int, tuple[float | None, Decimal | None]]:
    """customer id -> (purchase propensity, 12-month CLV) for those with a scores row: what
    promotion targeting reads."""
    rows = CustomerScores.objects.filter(customer_id__in=customer_ids).values_list(
        "customer_id", "purchase_propensity", "clv_12m"
    )
    return {customer_id: (propensity, clv) for customer_id, propensity, clv in rows}


def segment_change_customer_ids(
    *, segment_id: int, kind: str, since: datetime, until: datetime
) -> list[int]:
    """Customers who entered (kind "entered") or left ("exited") the segment in (since, until]."""
    return list(
        SegmentMembershipEvent.objects.filter(
            segment_id=segment_id, kind=kind, at__gt=since, at__lte=until
        )
        .order_by("at")
        .values_list("customer_id", flat=True)
    )
