"""Compile a segment definition into ONE database query over customers.

Every condition becomes a boolean SQL expression of the customers query: properties and
scores are columns (scores through the one-to-one join), behaviour is an EXISTS or an
`id IN (SELECT customer_id ... GROUP BY customer_id HAVING ...)` over events or orders, and
membership of another segment is an EXISTS over its stored members. No customer is looked at
in Python, so PostgreSQL (or SQLite) plans the whole predicate at once.

Time windows are constant ranges of `occurred_at` / `placed_at` computed from `now`, so the
planner prunes the monthly partitions of the events table and walks the
(customer_id, occurred_at) and (customer_id, placed_at) indexes.

Counts and amounts: a condition that is false for a customer with no activity (at least 3
views) keeps the customers whose activity passes it (a semi-join); one that is true for
them (did not purchase, fewer than 2 orders) drops the customers whose activity fails it (an
anti-join), so customers with no rows at all are counted right without an outer join.

Conditions are two-valued: a missing value (no scores yet, an unknown attribute) makes the
positive operators false and their negations (not_equals, not_in, is_not_set ...) true, and
`negate` is the exact complement; the explanation evaluates the very same expressions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.customers.selectors import consented_customer_ids, customer_list
from apps.events.selectors import event_list, order_revenue_queryset
from apps.segments.engine.definition import (
    DATE,
    DATETIME,
    ActivityDateCondition,
    ConsentCondition,
    FieldCondition,
    Filters,
    Group,
    Leaf,
    MeasureCondition,
    Node,
    SegmentCondition,
    TimeRange,
    Vocabulary,
    date_range,
    datetime_range,
    measure_holds,
    window_range,
)
from apps.segments.models import CustomerScores, SegmentMembership

NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class CompileContext:
    """What a definition is evaluated against: the time, and optionally a set of customers
    (incremental refresh) pushed down into every subquery."""

    now: datetime
    restrict_to: Sequence[int] | None = None
    zone: Any = field(default_factory=timezone.get_current_timezone)

    @property
    def today(self) -> Any:
        return timezone.localtime(self.now, self.zone).date()


def _choice_values(model: Any, name: str) -> list[str]:
    return [value for value, _ in model._meta.get_field(name).choices or []]


def vocabulary() -> Vocabulary:
    """Allowed values the language checks: model choices read through the selectors' models
    (choices modules of other apps are not importable across the app boundary)."""
    customer_model = customer_list().model
    return Vocabulary(
        choices={
            "gender": _choice_values(customer_model, "gender"),
            "acquisition_channel": _choice_values(customer_model, "acquisition_channel"),
            "rfm_cell": _choice_values(CustomerScores, "rfm_cell"),
            "lifecycle_stage": _choice_values(CustomerScores, "lifecycle_stage"),
        },
        event_types=_choice_values(event_list().model, "event_type"),
        consent_purposes=_choice_values(consented_customer_ids(purpose="").model, "purpose"),
    )


def event_type_labels() -> dict[str, str]:
    choices = event_list().model._meta.get_field("event_type").choices or []
    return {value: str(label) for value, label in choices}


def customers() -> QuerySet[Any]:
    """All customers, unordered: the base of every segment query."""
    return customer_list().order_by()


# ---------------------------------------------------------------------------------------------
# The tree.


def definition_q(root: Node, context: CompileContext) -> Q:
    """The definition as one Q over customers."""
    return node_q(root, context)


def node_q(node: Node, context: CompileContext) -> Q:
    if isinstance(node, Group):
        q = _group_q(node, context)
    else:
        q = leaf_q(node, context)  # type: ignore[arg-type]
    if node.negate:
        return _negated(q)
    return q


def _group_q(group: Group, context: CompileContext) -> Q:
    parts = [node_q(child, context) for child in group.conditions]
    if not parts:
        return Q() if group.operator == "and" else NOTHING
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part if group.operator == "and" else combined | part
    return combined


def _negated(q: Q) -> Q:
    if not q:  # Q() matches everyone: its negation matches no one
        return NOTHING
    return ~q


def members_queryset(root: Node, context: CompileContext) -> QuerySet[Any]:
    """Primary keys of the customers the definition selects (one query)."""
    queryset = customers()
    if context.restrict_to is not None:
        queryset = queryset.filter(pk__in=list(context.restrict_to))
    return queryset.filter(definition_q(root, context)).values_list("pk", flat=True)


# ---------------------------------------------------------------------------------------------
# Leaves.


def leaf_q(leaf: Leaf, context: CompileContext) -> Q:
    """One condition (without its own `negate`) as a Q over customers."""
    if isinstance(leaf, FieldCondition):
        return _field_q(leaf, context)
    if isinstance(leaf, MeasureCondition):
        return _measure_q(leaf, context)
    if isinstance(leaf, ActivityDateCondition):
        return _activity_q(leaf, context)
    if isinstance(leaf, SegmentCondition):
        members = SegmentMembership.objects.filter(
            segment_id=leaf.segment_id, customer_id=OuterRef("pk")
        )
        exists = Q(Exists(members))
        return exists if leaf.operator == "in" else ~exists
    if isinstance(leaf, ConsentCondition):
        consented = consented_customer_ids(purpose=leaf.purpose)
        if context.restrict_to is not None:
            consented = consented.filter(customer_id__in=list(context.restrict_to))
        granted = Q(pk__in=consented)
        return granted if leaf.granted else ~granted
    raise TypeError(f"unknown condition {leaf!r}")


def _lookup(leaf: FieldCondition) -> str:
    if leaf.attribute:
        return f"attributes__{leaf.field}"
    if leaf.source == "score":
        return f"scores__{leaf.field}"
    return leaf.field


def _range_q(lookup: str, bounds: TimeRange) -> Q:
    q = Q()
    if bounds.start is not None:
        q &= Q(**{f"{lookup}__{'gte' if bounds.start_inclusive else 'gt'}": bounds.start})
    if bounds.end is not None:
        q &= Q(**{f"{lookup}__{'lte' if bounds.end_inclusive else 'lt'}": bounds.end})
    return q


def _field_q(leaf: FieldCondition, context: CompileContext) -> Q:
    lookup = _lookup(leaf)
    operator, value = leaf.operator, leaf.value
    if leaf.attribute:
        # A missing key compares as NULL: test the key first so that NOT stays two-valued.
        present = Q(attributes__has_key=leaf.field) & ~Q(**{lookup: None})
        filled = present & ~Q(**{lookup: ""})
    else:
        present = Q(**{f"{lookup}__isnull": False})
        filled = present & ~Q(**{lookup: ""}) if leaf.spec.type in ("text", "choice") else present
    if operator == "is_set":
        return filled
    if operator == "is_not_set":
        return ~filled
    if leaf.spec.type == DATETIME:
        bounds = datetime_range(operator, value, now=context.now, zone=context.zone)
        return present & _range_q(lookup, bounds)
    if leaf.spec.type == DATE:
        days = date_range(operator, value, today=context.today)
        q = present
        if days.start is not None:
            q &= Q(**{f"{lookup}__gte": days.start})
        if days.end is not None:
            q &= Q(**{f"{lookup}__{'lt' if days.end_exclusive else 'lte'}": days.end})
        return q
    positive = {
        "equals": "exact",
        "not_equals": "exact",
        "in": "in",
        "not_in": "in",
        "contains": "icontains",
        "not_contains": "icontains",
        "starts_with": "istartswith",
        "ends_with": "iendswith",
        "gt": "gt",
        "gte": "gte",
        "lt": "lt",
        "lte": "lte",
    }
    if operator == "between":
        q = Q(**{f"{lookup}__gte": value[0], f"{lookup}__lte": value[1]})
    else:
        q = Q(**{f"{lookup}__{positive[operator]}": value})
    if leaf.attribute:
        q = present & q
    if operator.startswith("not_"):
        return ~q
    return q


def _source_queryset(source: str, context: CompileContext, restrict: bool) -> QuerySet[Any]:
    """Events or revenue orders with a customer; with `restrict`, only the restricted
    customers' (for uncorrelated subqueries: a correlated one is restricted by its outer
    customer already, and an extra id list there only misleads the planner)."""
    queryset: QuerySet[Any]
    if source == "event":
        queryset = event_list().select_related(None).order_by().filter(customer__isnull=False)
    else:
        queryset = order_revenue_queryset().order_by().filter(customer__isnull=False)
    if restrict and context.restrict_to is not None:
        queryset = queryset.filter(customer_id__in=list(context.restrict_to))
    return queryset


def _time_field(source: str) -> str:
    return "occurred_at" if source == "event" else "placed_at"


def _category_q(prefix: str, value: str) -> Q:
    """A category given by slug or path, with every category below it."""
    path = f"{prefix}category__path"
    return (
        Q(**{path: value})
        | Q(**{f"{path}__startswith": f"{value}/"})
        | Q(**{f"{path}__endswith": f"/{value}"})
        | Q(**{f"{path}__contains": f"/{value}/"})
    )


def _filters_q(filters: Filters, source: str) -> Q:
    product = "product__" if source == "event" else "lines__product__"
    q = Q()
    if filters.product:
        q &= Q(**{f"{product}sku": filters.product})
    if filters.category:
        q &= _category_q(product, filters.category)
    if filters.brand:
        q &= Q(**{f"{product}brand__slug": filters.brand}) | Q(
            **{f"{product}brand__name__iexact": filters.brand}
        )
    if filters.name:
        q &= Q(name__iexact=filters.name)
    if filters.source:
        q &= Q(source=filters.source)
    if filters.channel:
        q &= Q(channel=filters.channel)
    if filters.coupon_code:
        q &= Q(coupon_code__iexact=filters.coupon_code)
    for key, value in filters.properties:
        # A key lookup (not JSON containment): the same on PostgreSQL and SQLite.
        q &= Q(**{f"properties__{key}": value})
    return q


def _activity_rows(
    source: str, event: str, filters: Filters, context: CompileContext, restrict: bool = False
) -> QuerySet[Any]:
    rows = _source_queryset(source, context, restrict)
    if event:
        rows = rows.filter(event_type=event)
    condition = _filters_q(filters, source)
    return rows.filter(condition) if condition else rows


def measure_rows(
    leaf: MeasureCondition, context: CompileContext, restrict: bool = False
) -> QuerySet[Any]:
    """The events or orders a behaviour condition counts (its window and filters)."""
    rows = _activity_rows(leaf.source, leaf.event, leaf.filters, context, restrict)
    bounds = window_range(leaf.window, now=context.now, zone=context.zone)
    window = _range_q(_time_field(leaf.source), bounds)
    return rows.filter(window) if window else rows


def measure_aggregate(leaf: MeasureCondition) -> Any:
    """COUNT of rows, COUNT of distinct orders, or SUM of the amount spent."""
    if leaf.source == "event":
        return Count("id")
    if leaf.measure == "count":
        return Count("id", distinct=True) if leaf.filters.touches_products else Count("id")
    # With product filters, what was spent on those products (their lines), not whole orders.
    amount = "lines__line_total" if leaf.filters.touches_products else "total"
    return Sum(amount)


def _having(leaf: MeasureCondition) -> Q:
    operator, value = leaf.operator, leaf.value
    if operator == "between":
        return Q(measured__gte=value[0], measured__lte=value[1])
    if operator == "equals":
        return Q(measured=value)
    if operator == "not_equals":
        return ~Q(measured=value)
    return Q(**{f"measured__{operator}": value})


def _measure_q(leaf: MeasureCondition, context: CompileContext) -> Q:
    rows = measure_rows(leaf, context)
    holds_for_none = measure_holds(leaf.operator, leaf.value, 0)
    at_least_one = not holds_for_none and measure_holds(leaf.operator, leaf.value, 1)
    if leaf.source == "event" or leaf.measure == "count":
        # "at least 1" (or > 0): any row will do - a semi-join the planner turns around.
        if at_least_one and leaf.operator in ("gte", "gt"):
            return Q(Exists(rows.filter(customer_id=OuterRef("pk"))))
        if (
            holds_for_none
            and not measure_holds(leaf.operator, leaf.value, 1)
            and (leaf.operator in ("lt", "lte", "equals"))
        ):
            # "no row at all" (did not): an anti-join.
            return ~Q(Exists(rows.filter(customer_id=OuterRef("pk"))))
    grouped = rows.values("customer_id").annotate(measured=measure_aggregate(leaf))
    if not holds_for_none:
        # Uncorrelated: the ids of an incremental refresh go inside, or it would group the
        # whole window.
        passing = (
            measure_rows(leaf, context, restrict=True)
            .values("customer_id")
            .annotate(measured=measure_aggregate(leaf))
            .filter(_having(leaf))
        )
        return Q(pk__in=passing.values("customer_id"))
    # True for customers without rows: drop those whose activity fails the test. Correlated,
    # so each customer probes the (customer, time) index instead of hashing a NOT IN list.
    failing = grouped.filter(~_having(leaf), customer_id=OuterRef("pk"))
    return ~Q(Exists(failing))


def _activity_q(leaf: ActivityDateCondition, context: CompileContext) -> Q:
    """First/last order or event date as EXISTS tests on time ranges (index friendly):
    first in [a, b)  = some row in [a, b) and none before a;
    last in [a, b)   = some row in [a, b) and none at or after b."""
    rows = _activity_rows(leaf.source, leaf.event, leaf.filters, context)
    time_field = _time_field(leaf.source)
    mine = rows.filter(customer_id=OuterRef("pk"))
    if leaf.operator == "is_set":
        return Q(Exists(mine))
    if leaf.operator == "is_not_set":
        return ~Q(Exists(mine))
    bounds = datetime_range(leaf.operator, leaf.value, now=context.now, zone=context.zone)
    if leaf.which == "last" and bounds.end is not None and bounds.end_inclusive:
        bounds = TimeRange(bounds.start, None)  # "in the last N days": nothing can come later
    if leaf.which == "first" and bounds.start is not None:
        earlier = Q(**{f"{time_field}__lt": bounds.start})
        bounds_q = _range_q(time_field, bounds)
        return Q(Exists(mine.filter(bounds_q))) & ~Q(Exists(mine.filter(earlier)))
    if leaf.which == "last" and bounds.end is not None:
        later = Q(**{f"{time_field}__{'gt' if bounds.end_inclusive else 'gte'}": bounds.end})
        return Q(Exists(mine.filter(_range_q(time_field, bounds)))) & ~Q(Exists(mine.filter(later)))
    # first before a date / last after a date: one row in the range is enough.
    return Q(Exists(mine.filter(_range_q(time_field, bounds))))


# ---------------------------------------------------------------------------------------------
# Explanations: each condition's truth and the customer's value, in one query.


def leaf_value_expression(leaf: Leaf, context: CompileContext) -> Any:
    """What the customer has for this condition (None: the truth says it all)."""
    if isinstance(leaf, FieldCondition):
        if leaf.attribute:
            return KeyTransform(leaf.field, "attributes")
        return F(_lookup(leaf))
    if isinstance(leaf, MeasureCondition):
        measured = (
            measure_rows(leaf, context)
            .filter(customer_id=OuterRef("pk"))
            .values("customer_id")
            .annotate(measured=measure_aggregate(leaf))
            .values("measured")
        )
        if leaf.source == "order" and leaf.measure == "amount":
            return Coalesce(
                Subquery(measured),
                Value(0),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            )
        return Coalesce(Subquery(measured), Value(0))
    if isinstance(leaf, ActivityDateCondition):
        rows = (
            _activity_rows(leaf.source, leaf.event, leaf.filters, context)
            .filter(customer_id=OuterRef("pk"))
            .values("customer_id")
        )
        time_field = _time_field(leaf.source)
        aggregate = Min(time_field) if leaf.which == "first" else Max(time_field)
        return Subquery(rows.annotate(moment=aggregate).values("moment"))
    return None


def truth_expression(q: Q) -> Case:
    return Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())
