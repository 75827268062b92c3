"""The segment definition language: parse and validate a JSON tree, resolve time windows,
describe conditions in words. Pure Python (no Django), so the API, the builder page, the
compiler and the tests share one reading of the language.

A definition is a group: `{"type": "group", "operator": "and" | "or", "negate": false,
"conditions": [...]}` whose conditions are groups or leaves (`property`, `score`, `event`,
`order`, `order_date`, `event_date`, `segment`, `consent`). Every node may carry
`"negate": true` (NOT). docs/segments.md documents the language with examples.

Validation collects every error with the JSON path to it (`conditions[1].value: must be a
number`), so the builder can mark each faulty condition at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

MAX_DEPTH = 8
MAX_CONDITIONS = 100
MAX_LIST_VALUES = 1000
MAX_DAYS = 36600  # a century: more is a typo

# Field types, and the operators each accepts.
TEXT = "text"
CHOICE = "choice"
NUMBER = "number"
INTEGER = "integer"
DATE = "date"
DATETIME = "datetime"
ATTRIBUTE = "attribute"  # a key of the customer's free-form JSON attributes

SET_OPERATORS = ("is_set", "is_not_set")
TEXT_OPERATORS = (
    "equals", "not_equals", "in", "not_in", "contains", "not_contains", "starts_with",
    "ends_with", *SET_OPERATORS,
)  # fmt: skip
CHOICE_OPERATORS = ("equals", "not_equals", "in", "not_in", *SET_OPERATORS)
NUMBER_OPERATORS = (
    "equals", "not_equals", "gt", "gte", "lt", "lte", "between", "in", "not_in", *SET_OPERATORS,
)  # fmt: skip
DATE_OPERATORS = (
    "in_last_days", "more_than_days_ago", "before", "after", "on", "between", *SET_OPERATORS,
)  # fmt: skip
ATTRIBUTE_OPERATORS = (
    "equals", "not_equals", "in", "not_in", "contains", "starts_with", "gt", "gte", "lt", "lte",
    *SET_OPERATORS,
)  # fmt: skip
# Operators on a count or an amount (behaviour conditions).
MEASURE_OPERATORS = ("gte", "gt", "lte", "lt", "equals", "not_equals", "between")

OPERATORS_BY_TYPE: dict[str, tuple[str, ...]] = {
    TEXT: TEXT_OPERATORS,
    CHOICE: CHOICE_OPERATORS,
    NUMBER: NUMBER_OPERATORS,
    INTEGER: NUMBER_OPERATORS,
    DATE: DATE_OPERATORS,
    DATETIME: DATE_OPERATORS,
    ATTRIBUTE: ATTRIBUTE_OPERATORS,
}
# Operators that hold for a customer whose value is missing (the negations of the others).
NEGATIVE_OPERATORS = frozenset({"not_equals", "not_in", "not_contains", "is_not_set"})

OPERATOR_LABELS = {
    "equals": "is",
    "not_equals": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "is_set": "is set",
    "is_not_set": "is not set",
    "gt": "greater than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "between": "between",
    "in_last_days": "in the last",
    "more_than_days_ago": "more than",
    "before": "before",
    "after": "after",
    "on": "on",
}

NODE_TYPES = (
    "group", "property", "score", "event", "order", "order_date", "event_date", "segment",
    "consent",
)  # fmt: skip
ORDER_MEASURES = ("count", "amount")
ACTIVITY_WHICH = ("first", "last")
EVENT_FILTER_KEYS = ("product", "category", "brand", "name", "source", "properties")
ORDER_FILTER_KEYS = ("product", "category", "brand", "channel", "coupon_code")
WINDOW_KEYS = ("last_days", "older_than_days", "from", "to")
ATTRIBUTE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class FieldSpec:
    """A field conditions may test: its type, label, and allowed values for choices."""

    name: str
    label: str
    type: str
    normalise: str = ""  # "upper" or "lower": values are compared in that case
    minimum: float | None = None
    maximum: float | None = None

    @property
    def operators(self) -> tuple[str, ...]:
        return OPERATORS_BY_TYPE[self.type]


PROPERTY_FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("external_id", "Customer id", TEXT),
        FieldSpec("email", "Email", TEXT, normalise="lower"),
        FieldSpec("phone", "Phone", TEXT),
        FieldSpec("first_name", "First name", TEXT),
        FieldSpec("last_name", "Last name", TEXT),
        FieldSpec("gender", "Gender", CHOICE),
        FieldSpec("birth_date", "Birth date", DATE),
        FieldSpec("age_band", "Age band", TEXT),
        FieldSpec("city", "City", TEXT),
        FieldSpec("region", "Region", TEXT),
        FieldSpec("country", "Country", TEXT, normalise="upper"),
        FieldSpec("language", "Language", TEXT, normalise="lower"),
        FieldSpec("signup_at", "Signup date", DATETIME),
        FieldSpec("acquisition_channel", "Acquisition channel", CHOICE),
        FieldSpec("created_at", "Profile created", DATETIME),
    )
}
ATTRIBUTE_PREFIX = "attributes."

SCORE_FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("rfm_recency", "RFM recency score", INTEGER, minimum=1, maximum=5),
        FieldSpec("rfm_frequency", "RFM frequency score", INTEGER, minimum=1, maximum=5),
        FieldSpec("rfm_monetary", "RFM monetary score", INTEGER, minimum=1, maximum=5),
        FieldSpec("rfm_cell", "RFM cell", CHOICE),
        FieldSpec("lifecycle_stage", "Lifecycle stage", CHOICE),
        FieldSpec("cluster", "Cluster", INTEGER),
        FieldSpec("cluster_name", "Cluster name", TEXT),
        FieldSpec("clv_historical", "Historical CLV", NUMBER),
        FieldSpec("clv_discounted", "Discounted CLV", NUMBER),
        FieldSpec("clv_12m", "Predicted 12-month CLV", NUMBER),
        FieldSpec("p_alive", "P(alive)", NUMBER, minimum=0, maximum=1),
        FieldSpec("expected_purchases_90d", "Expected purchases (90 days)", NUMBER),
        FieldSpec("churn_risk", "Churn risk", NUMBER, minimum=0, maximum=1),
        FieldSpec("purchase_propensity", "Purchase propensity", NUMBER, minimum=0, maximum=1),
        FieldSpec("sentiment_average", "Average sentiment", NUMBER, minimum=-1, maximum=1),
        FieldSpec("text_count", "Reviews and posts written", INTEGER),
        FieldSpec("interest_topics", "Topics of interest", TEXT, normalise="lower"),
        FieldSpec("interest_aspects", "Aspects mentioned", TEXT, normalise="lower"),
        FieldSpec("last_complaint_at", "Last complaint", DATETIME),
    )
}


# ---------------------------------------------------------------------------------------------
# The parsed tree.


@dataclass(frozen=True)
class Window:
    """A time window of behaviour. All None: all time.

    `last_days`: from `now` minus that many days (inclusive) up to `now`;
    `older_than_days`: strictly before `now` minus that many days;
    `start_day` / `end_day`: calendar days, both inclusive, in the project time zone.
    """

    last_days: int | None = None
    older_than_days: int | None = None
    start_day: date | None = None
    end_day: date | None = None

    @property
    def is_all_time(self) -> bool:
        return (
            self.last_days is None
            and self.older_than_days is None
            and self.start_day is None
            and self.end_day is None
        )


@dataclass(frozen=True)
class Filters:
    """What a behaviour condition counts: products (sku), a category (slug or path, with its
    sub-categories), a brand (slug or name), and for events the original name, the source and
    property values; for orders the sales channel and coupon code."""

    product: str = ""
    category: str = ""
    brand: str = ""
    name: str = ""
    source: str = ""
    channel: str = ""
    coupon_code: str = ""
    properties: tuple[tuple[str, Any], ...] = ()

    @property
    def touches_products(self) -> bool:
        return bool(self.product or self.category or self.brand)

    def is_empty(self) -> bool:
        return self == Filters()


@dataclass(frozen=True)
class Node:
    """Any node of the tree: where it is (`conditions[1]`) and whether it is negated."""

    path: str
    negate: bool


@dataclass(frozen=True)
class Group(Node):
    operator: str  # "and" | "or"
    conditions: tuple[Node, ...]


@dataclass(frozen=True)
class FieldCondition(Node):
    """A customer property (`source` "property") or predictive score (`source` "score")."""

    source: str
    field: str  # for attributes: the key, with `attribute` True
    operator: str
    value: Any
    spec: FieldSpec
    attribute: bool = False


@dataclass(frozen=True)
class MeasureCondition(Node):
    """How many events, how many orders, or how much spent, in a window."""

    source: str  # "event" | "order"
    event: str  # event type for events ("" any)
    measure: str  # "count" | "amount"
    operator: str
    value: Any
    window: Window
    filters: Filters


@dataclass(frozen=True)
class ActivityDateCondition(Node):
    """When the first or last order (or event) happened."""

    source: str  # "order" | "event"
    which: str  # "first" | "last"
    event: str
    operator: str
    value: Any
    filters: Filters


@dataclass(frozen=True)
class SegmentCondition(Node):
    operator: str  # "in" | "not_in"
    segment_id: int


@dataclass(frozen=True)
class ConsentCondition(Node):
    purpose: str
    granted: bool


Condition = FieldCondition | MeasureCondition | ActivityDateCondition | SegmentCondition
Leaf = Condition | ConsentCondition


@dataclass(frozen=True)
class PathError:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DefinitionError(ValueError):
    """The definition is not valid; `errors` holds every problem with its JSON path."""

    def __init__(self, errors: Sequence[PathError]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0]
        more = len(self.errors) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"{first}{suffix}")
        self.path = first.path
        self.message = first.message


@dataclass
class Vocabulary:
    """Values the language accepts that live outside the engine (choices of Django models)."""

    choices: Mapping[str, Sequence[str]] = field(default_factory=dict)
    event_types: Sequence[str] = ()
    consent_purposes: Sequence[str] = ()


# ---------------------------------------------------------------------------------------------
# Parsing.


def _join(path: str, key: str) -> str:
    if key.startswith("["):
        return f"{path}{key}"
    return f"{path}.{key}" if path else key


class _Parser:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.errors: list[PathError] = []
        self.count = 0

    def error(self, path: str, message: str) -> None:
        self.errors.append(PathError(path, message))

    # -- nodes --------------------------------------------------------------------------------

    def node(self, data: Any, path: str, depth: int) -> Node | None:
        where = path or "definition"
        if not isinstance(data, dict):
            self.error(where, "must be an object")
            return None
        kind = data.get("type", "group" if "conditions" in data else None)
        if kind not in NODE_TYPES:
            self.error(_join(path, "type"), f"must be one of {', '.join(NODE_TYPES)}")
            return None
        negate = data.get("negate", False)
        if not isinstance(negate, bool):
            self.error(_join(path, "negate"), "must be true or false")
            negate = False
        if kind == "group":
            return self.group(data, path, depth, negate)
        self.count += 1
        if self.count == MAX_CONDITIONS + 1:
            self.error(path, f"too many conditions (at most {MAX_CONDITIONS})")
        parse = {
            "property": self.field_condition,
            "score": self.field_condition,
            "event": self.measure_condition,
            "order": self.measure_condition,
            "order_date": self.activity_condition,
            "event_date": self.activity_condition,
            "segment": self.segment_condition,
            "consent": self.consent_condition,
        }[kind]
        return parse(data, path, kind, negate)

    def group(self, data: dict, path: str, depth: int, negate: bool) -> Group | None:
        if depth > MAX_DEPTH:
            self.error(path or "definition", f"groups nest too deep (at most {MAX_DEPTH})")
            return None
        operator = data.get("operator", "and")
        if operator not in ("and", "or"):
            self.error(_join(path, "operator"), 'must be "and" or "or"')
        conditions = data.get("conditions", [])
        if not isinstance(conditions, list):
            self.error(_join(path, "conditions"), "must be a list")
            conditions = []
        children = []
        for index, child in enumerate(conditions):
            parsed = self.node(child, _join(path, f"conditions[{index}]"), depth + 1)
            if parsed is not None:
                children.append(parsed)
        return Group(path=path, negate=negate, operator=operator, conditions=tuple(children))

    def field_condition(self, data: dict, path: str, kind: str, negate: bool) -> Node | None:
        name = data.get("field")
        catalogue = PROPERTY_FIELDS if kind == "property" else SCORE_FIELDS
        attribute = False
        if kind == "property" and isinstance(name, str) and name.startswith(ATTRIBUTE_PREFIX):
            key = name[len(ATTRIBUTE_PREFIX) :]
            if not ATTRIBUTE_KEY.match(key) or "__" in key:
                self.error(
                    _join(path, "field"),
                    "an attribute key is letters, digits, _ and - (one _ at a time), "
                    "starting with a letter",
                )
                return None
            spec = FieldSpec(name, f"Attribute {key}", ATTRIBUTE)
            attribute, name = True, key
        elif not isinstance(name, str) or name not in catalogue:
            known = ", ".join(catalogue)
            extra = " or attributes.<key>" if kind == "property" else ""
            self.error(_join(path, "field"), f"must be one of {known}{extra}")
            return None
        else:
            spec = catalogue[name]
        operator = self.operator(data, path, spec.operators)
        if operator is None:
            return None
        value = self.field_value(data, path, spec, operator, kind)
        return FieldCondition(
            path=path,
            negate=negate,
            source=kind,
            field=name,
            operator=operator,
            value=value,
            spec=spec,
            attribute=attribute,
        )

    def measure_condition(self, data: dict, path: str, kind: str, negate: bool) -> Node | None:
        event = ""
        measure = "count"
        if kind == "event":
            event = self.event_type(data, path)
        else:
            measure = data.get("measure", "count")
            if measure not in ORDER_MEASURES:
                self.error(_join(path, "measure"), 'must be "count" or "amount"')
                measure = "count"
        operator = self.operator(data, path, MEASURE_OPERATORS, default="gte")
        if operator is None:
            return None
        value = self.measure_value(data, path, operator, integer=measure == "count")
        return MeasureCondition(
            path=path,
            negate=negate,
            source=kind,
            event=event,
            measure=measure,
            operator=operator,
            value=value,
            window=self.window(data.get("window"), _join(path, "window")),
            filters=self.filters(data.get("where"), _join(path, "where"), kind),
        )

    def activity_condition(self, data: dict, path: str, kind: str, negate: bool) -> Node | None:
        source = "order" if kind == "order_date" else "event"
        which = data.get("which", "last")
        if which not in ACTIVITY_WHICH:
            self.error(_join(path, "which"), 'must be "first" or "last"')
            which = "last"
        event = self.event_type(data, path) if source == "event" else ""
        operator = self.operator(data, path, DATE_OPERATORS)
        if operator is None:
            return None
        spec = FieldSpec(kind, f"{which} {source}", DATETIME)
        value = self.field_value(data, path, spec, operator, kind)
        return ActivityDateCondition(
            path=path,
            negate=negate,
            source=source,
            which=which,
            event=event,
            operator=operator,
            value=value,
            filters=self.filters(data.get("where"), _join(path, "where"), source),
        )

    def segment_condition(self, data: dict, path: str, kind: str, negate: bool) -> Node | None:
        operator = data.get("operator", "in")
        if operator not in ("in", "not_in"):
            self.error(_join(path, "operator"), 'must be "in" or "not_in"')
            return None
        segment = data.get("segment")
        if isinstance(segment, bool) or not isinstance(segment, int) or segment < 1:
            self.error(_join(path, "segment"), "must be the id of a segment (a positive integer)")
            return None
        return SegmentCondition(path=path, negate=negate, operator=operator, segment_id=segment)

    def consent_condition(self, data: dict, path: str, kind: str, negate: bool) -> Node | None:
        purpose = data.get("purpose")
        purposes = self.vocabulary.consent_purposes
        if not isinstance(purpose, str) or (purposes and purpose not in purposes):
            self.error(_join(path, "purpose"), f"must be one of {', '.join(purposes)}")
            return None
        granted = data.get("granted", True)
        if not isinstance(granted, bool):
            self.error(_join(path, "granted"), "must be true or false")
            return None
        return ConsentCondition(path=path, negate=negate, purpose=purpose, granted=granted)

    # -- parts --------------------------------------------------------------------------------

    def operator(
        self, data: dict, path: str, allowed: Sequence[str], default: str | None = None
    ) -> str | None:
        operator = data.get("operator", default)
        if operator not in allowed:
            self.error(_join(path, "operator"), f"must be one of {', '.join(allowed)}")
            return None
        return operator

    def event_type(self, data: dict, path: str) -> str:
        event = data.get("event", "")
        if event in ("", None, "any"):
            return ""
        known = self.vocabulary.event_types
        if not isinstance(event, str) or (known and event not in known):
            self.error(_join(path, "event"), f"must be one of {', '.join(known)} (or any)")
            return ""
        return event

    def field_value(self, data: dict, path: str, spec: FieldSpec, operator: str, kind: str) -> Any:
        where = _join(path, "value")
        value = data.get("value")
        if operator in SET_OPERATORS:
            return None
        if spec.type in (DATE, DATETIME):
            return self.date_value(value, where, operator)
        if operator in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                self.error(where, "must be a non-empty list")
                return []
            if len(value) > MAX_LIST_VALUES:
                self.error(where, f"at most {MAX_LIST_VALUES} values")
                return []
            return [
                self.scalar(item, f"{where}[{index}]", spec) for index, item in enumerate(value)
            ]
        if operator == "between":
            return self.pair(value, where, lambda item, at: self.number(item, at, spec))
        if operator in ("gt", "gte", "lt", "lte"):
            return self.number(value, where, spec)
        if operator in ("contains", "not_contains", "starts_with", "ends_with"):
            if not isinstance(value, str) or not value:
                self.error(where, "must be a non-empty text")
                return ""
            return _normalised(value, spec)
        return self.scalar(value, where, spec)

    def scalar(self, value: Any, where: str, spec: FieldSpec) -> Any:
        if spec.type in (NUMBER, INTEGER):
            return self.number(value, where, spec)
        if spec.type == ATTRIBUTE:
            if isinstance(value, (str, int, float, bool)):
                return value
            self.error(where, "must be a text, a number or true/false")
            return None
        if not isinstance(value, str):
            self.error(where, "must be a text")
            return ""
        if spec.type == CHOICE:
            allowed = self.vocabulary.choices.get(spec.name, ())
            if allowed and value not in allowed:
                self.error(where, f"must be one of {', '.join(allowed)}")
        return _normalised(value, spec)

    def number(self, value: Any, where: str, spec: FieldSpec | None = None) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(where, "must be a number")
            return 0
        if spec is not None and spec.type == INTEGER and value != int(value):
            self.error(where, "must be a whole number")
            return 0
        if spec is not None and spec.minimum is not None and value < spec.minimum:
            self.error(where, f"must be at least {_number_text(spec.minimum)}")
        if spec is not None and spec.maximum is not None and value > spec.maximum:
            self.error(where, f"must be at most {_number_text(spec.maximum)}")
        return int(value) if spec is not None and spec.type == INTEGER else value

    def pair(self, value: Any, where: str, item: Any) -> Any:
        if not isinstance(value, list) or len(value) != 2:
            self.error(where, "must be a list of two values [from, to]")
            return None
        errors_before = len(self.errors)
        low, high = item(value[0], f"{where}[0]"), item(value[1], f"{where}[1]")
        if len(self.errors) == errors_before and low > high:
            self.error(where, "the first value must not be after the second")
        return [low, high]

    def days(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.error(where, "must be a whole number of days, at least 1")
            return 1
        if value > MAX_DAYS:
            self.error(where, f"must be at most {MAX_DAYS} days")
        return value

    def day(self, value: Any, where: str) -> date:
        if isinstance(value, str) and ISO_DATE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.error(where, "must be a date YYYY-MM-DD")
        return date(1970, 1, 1)

    def date_value(self, value: Any, where: str, operator: str) -> Any:
        if operator in ("in_last_days", "more_than_days_ago"):
            return self.days(value, where)
        if operator == "between":
            return self.pair(value, where, self.day)
        return self.day(value, where)

    def measure_value(self, data: dict, path: str, operator: str, *, integer: bool) -> Any:
        where = _join(path, "value")
        value = data.get("value", 1 if "value" not in data and operator == "gte" else None)
        spec = FieldSpec("measure", "measure", INTEGER if integer else NUMBER, minimum=0)
        if operator == "between":
            return self.pair(value, where, lambda item, at: self.number(item, at, spec))
        return self.number(value, where, spec)

    def window(self, data: Any, path: str) -> Window:
        if data in (None, {}):
            return Window()
        if not isinstance(data, dict):
            self.error(path, 'must be an object like {"last_days": 30}')
            return Window()
        unknown = sorted(set(data) - set(WINDOW_KEYS))
        if unknown:
            self.error(_join(path, unknown[0]), f"unknown key; use {', '.join(WINDOW_KEYS)}")
            return Window()
        kinds = [key for key in ("last_days", "older_than_days") if key in data]
        if len(kinds) > 1 or (kinds and ("from" in data or "to" in data)):
            self.error(path, "use one of last_days, older_than_days, or from/to")
            return Window()
        if "last_days" in data:
            return Window(last_days=self.days(data["last_days"], _join(path, "last_days")))
        if "older_than_days" in data:
            days = self.days(data["older_than_days"], _join(path, "older_than_days"))
            return Window(older_than_days=days)
        start = self.day(data["from"], _join(path, "from")) if "from" in data else None
        end = self.day(data["to"], _join(path, "to")) if "to" in data else None
        if start and end and start > end:
            self.error(path, "from must not be after to")
        return Window(start_day=start, end_day=end)

    def filters(self, data: Any, path: str, source: str) -> Filters:
        if data in (None, {}):
            return Filters()
        allowed = EVENT_FILTER_KEYS if source == "event" else ORDER_FILTER_KEYS
        if not isinstance(data, dict):
            self.error(path, "must be an object")
            return Filters()
        values: dict[str, Any] = {}
        for key, value in data.items():
            where = _join(path, key)
            if key not in allowed:
                self.error(where, f"unknown filter; use {', '.join(allowed)}")
            elif key == "properties":
                values[key] = self.properties(value, where)
            elif not isinstance(value, str) or not value.strip():
                self.error(where, "must be a non-empty text")
            else:
                values[key] = value.strip()
        return Filters(**values)

    def properties(self, value: Any, where: str) -> tuple[tuple[str, Any], ...]:
        if not isinstance(value, dict) or not value:
            self.error(where, 'must be an object like {"color": "red"}')
            return ()
        pairs = []
        for key, item in value.items():
            if not ATTRIBUTE_KEY.match(key) or "__" in key:
                self.error(_join(where, key), "a property key is letters, digits, _ and -")
            elif not isinstance(item, (str, int, float, bool)):
                self.error(_join(where, key), "must be a text, a number or true/false")
            else:
                pairs.append((key, item))
        return tuple(sorted(pairs))


def _normalised(value: str, spec: FieldSpec) -> str:
    if spec.normalise == "upper":
        return value.strip().upper()
    if spec.normalise == "lower":
        return value.strip().lower()
    return value


def _number_text(value: float) -> str:
    return f"{value:g}"


def parse_definition(data: Any, *, vocabulary: Vocabulary | None = None) -> Group:
    """The definition as a tree of nodes, or DefinitionError listing every problem."""
    parser = _Parser(vocabulary or Vocabulary())
    if not isinstance(data, dict):
        raise DefinitionError([PathError("definition", "must be an object (a group)")])
    if data.get("type", "group") != "group":
        raise DefinitionError([PathError("type", 'the top of a definition must be a "group"')])
    root = parser.node(data, "", 0)
    if parser.errors:
        raise DefinitionError(parser.errors)
    assert isinstance(root, Group)  # noqa: S101 - a valid top node is a group
    return root


# ---------------------------------------------------------------------------------------------
# Walking the tree.


def iter_leaves(node: Node) -> Iterator[Leaf]:
    """Every condition (not group) of the tree, depth first."""
    if isinstance(node, Group):
        for child in node.conditions:
            yield from iter_leaves(child)
    else:
        yield node  # type: ignore[misc]


def referenced_segment_ids(node: Node) -> set[int]:
    """Ids of the segments the definition tests membership of."""
    return {leaf.segment_id for leaf in iter_leaves(node) if isinstance(leaf, SegmentCondition)}


def segment_references(node: Node) -> list[tuple[str, int]]:
    """(path, segment id) of every membership condition, in order."""
    return [
        (leaf.path, leaf.segment_id)
        for leaf in iter_leaves(node)
        if isinstance(leaf, SegmentCondition)
    ]


def find_cycle(graph: Mapping[int, set[int]], start: int) -> list[int] | None:
    """A path start -> ... -> start through `graph` (segment -> segments it refers to), or None."""
    stack: list[tuple[int, list[int]]] = [(start, [start])]
    seen: set[int] = set()
    while stack:
        current, trail = stack.pop()
        for target in sorted(graph.get(current, ())):
            if target == start:
                return [*trail, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*trail, target]))
    return None


def dependency_order(graph: Mapping[int, set[int]]) -> list[int]:
    """Segments ordered so that each comes after the segments it refers to (Kahn's algorithm;
    segments caught in a cycle, which validation refuses, come last in id order)."""
    nodes = set(graph) | {target for targets in graph.values() for target in targets}
    remaining = {node: {t for t in graph.get(node, ()) if t != node} for node in nodes}
    ordered: list[int] = []
    ready = sorted(node for node, targets in remaining.items() if not targets)
    while ready:
        node = ready.pop(0)
        ordered.append(node)
        for other in sorted(remaining):
            targets = remaining[other]
            if node in targets:
                targets.discard(node)
                if not targets and other not in ordered and other not in ready:
                    ready.append(other)
        ready.sort()
    ordered += sorted(node for node in nodes if node not in ordered)
    return ordered


# ---------------------------------------------------------------------------------------------
# Time.


@dataclass(frozen=True)
class TimeRange:
    """[start, end) or [start, end] bounds of a datetime; None is unbounded."""

    start: datetime | None
    end: datetime | None
    end_inclusive: bool = False
    start_inclusive: bool = True


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def window_range(window: Window, *, now: datetime, zone: tzinfo) -> TimeRange:
    """The datetime bounds of a behaviour window as of `now`."""
    if window.last_days is not None:
        return TimeRange(now - timedelta(days=window.last_days), now, end_inclusive=True)
    if window.older_than_days is not None:
        return TimeRange(None, now - timedelta(days=window.older_than_days))
    start = _midnight(window.start_day, zone) if window.start_day else None
    end = _midnight(window.end_day + timedelta(days=1), zone) if window.end_day else None
    return TimeRange(start, end)


def datetime_range(operator: str, value: Any, *, now: datetime, zone: tzinfo) -> TimeRange:
    """Bounds of a date operator on a datetime field as of `now` (days in `zone`)."""
    if operator == "in_last_days":
        return TimeRange(now - timedelta(days=value), now, end_inclusive=True)
    if operator == "more_than_days_ago":
        return TimeRange(None, now - timedelta(days=value))
    if operator == "before":
        return TimeRange(None, _midnight(value, zone))
    if operator == "after":
        return TimeRange(_midnight(value + timedelta(days=1), zone), None)
    if operator == "on":
        return TimeRange(_midnight(value, zone), _midnight(value + timedelta(days=1), zone))
    if operator == "between":
        return TimeRange(_midnight(value[0], zone), _midnight(value[1] + timedelta(days=1), zone))
    raise ValueError(f"{operator} is not a range operator")


@dataclass(frozen=True)
class DateRange:
    """Inclusive day bounds of a date operator on a date field."""

    start: date | None
    end: date | None
    end_exclusive: bool = False


def date_range(operator: str, value: Any, *, today: date) -> DateRange:
    """Bounds of a date operator on a date field (birth date) as of `today`."""
    if operator == "in_last_days":
        return DateRange(today - timedelta(days=value), today)
    if operator == "more_than_days_ago":
        return DateRange(None, today - timedelta(days=value), end_exclusive=True)
    if operator == "before":
        return DateRange(None, value, end_exclusive=True)
    if operator == "after":
        return DateRange(value + timedelta(days=1), None)
    if operator == "on":
        return DateRange(value, value)
    if operator == "between":
        return DateRange(value[0], value[1])
    raise ValueError(f"{operator} is not a range operator")


def measure_holds(operator: str, value: Any, measured: float) -> bool:
    """Whether a count or amount satisfies the operator (used for the zero case and tests)."""
    if operator == "gte":
        return measured >= value
    if operator == "gt":
        return measured > value
    if operator == "lte":
        return measured <= value
    if operator == "lt":
        return measured < value
    if operator == "equals":
        return measured == value
    if operator == "not_equals":
        return measured != value
    if operator == "between":
        return value[0] <= measured <= value[1]
    raise ValueError(f"{operator} is not a measure operator")


# ---------------------------------------------------------------------------------------------
# Words.


def _values_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_values_text(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _date_text(operator: str, value: Any) -> str:
    if operator == "in_last_days":
        return f"in the last {value} day{'s' if value != 1 else ''}"
    if operator == "more_than_days_ago":
        return f"more than {value} day{'s' if value != 1 else ''} ago"
    if operator == "between":
        return f"between {_values_text(value[0])} and {_values_text(value[1])}"
    if operator in SET_OPERATORS:
        return OPERATOR_LABELS[operator]
    return f"{OPERATOR_LABELS[operator]} {_values_text(value)}"


def window_text(window: Window) -> str:
    if window.last_days is not None:
        return f"in the last {window.last_days} day{'s' if window.last_days != 1 else ''}"
    if window.older_than_days is not None:
        return f"more than {window.older_than_days} days ago"
    if window.start_day and window.end_day:
        return f"between {window.start_day.isoformat()} and {window.end_day.isoformat()}"
    if window.start_day:
        return f"since {window.start_day.isoformat()}"
    if window.end_day:
        return f"until {window.end_day.isoformat()}"
    return "ever"


def filters_text(filters: Filters) -> str:
    parts = []
    for label, value in (
        ("product", filters.product),
        ("category", filters.category),
        ("brand", filters.brand),
        ("named", filters.name),
        ("from", filters.source),
        ("channel", filters.channel),
        ("coupon", filters.coupon_code),
    ):
        if value:
            parts.append(f"{label} {value}")
    parts += [f"{key} = {_values_text(value)}" for key, value in filters.properties]
    return f" ({', '.join(parts)})" if parts else ""


def _measure_text(operator: str, value: Any, unit: str, money: bool = False) -> str:
    def amount(number: Any) -> str:
        return f"{number:,.2f}" if money else f"{number:g} {unit}"

    if operator == "between":
        return f"between {amount(value[0])} and {amount(value[1])}"
    words = {"equals": "exactly", "not_equals": "not exactly"}.get(
        operator, OPERATOR_LABELS[operator]
    )
    return f"{words} {amount(value)}"


def describe(
    node: Node,
    *,
    event_labels: Mapping[str, str] | None = None,
    segment_names: Mapping[int, str] | None = None,
) -> str:
    """One line of plain English for a node (a group: how it combines its conditions)."""
    text = _describe(node, event_labels or {}, segment_names or {})
    return f"Not: {text}" if node.negate and not isinstance(node, Group) else text


def _describe(node: Node, event_labels: Mapping[str, str], names: Mapping[int, str]) -> str:
    if isinstance(node, Group):
        if not node.conditions:
            return "Nobody" if node.operator == "or" else "Every customer"
        words = {
            ("and", False): "All of",
            ("or", False): "Any of",
            ("and", True): "Not all of",
            ("or", True): "None of",
        }
        return words[(node.operator, node.negate)]
    if isinstance(node, FieldCondition):
        label = node.spec.label
        if node.spec.type in (DATE, DATETIME):
            return f"{label} {_date_text(node.operator, node.value)}"
        if node.operator in SET_OPERATORS:
            return f"{label} {OPERATOR_LABELS[node.operator]}"
        if node.operator == "between":
            low, high = node.value
            return f"{label} between {_values_text(low)} and {_values_text(high)}"
        return f"{label} {OPERATOR_LABELS[node.operator]} {_values_text(node.value)}"
    if isinstance(node, MeasureCondition):
        window = window_text(node.window)
        where = filters_text(node.filters)
        none = measure_holds(node.operator, node.value, 0) and not measure_holds(
            node.operator, node.value, 1
        )
        if node.source == "event":
            what = event_labels.get(node.event, node.event) if node.event else "any event"
            if none:
                return f"Did not do {what}{where} {window}"
            if node.operator == "gte" and node.value == 1:
                return f"Did {what}{where} {window}"
            return f"Did {what}{where} {_measure_text(node.operator, node.value, 'times')} {window}"
        if node.measure == "amount":
            spent = _measure_text(node.operator, node.value, "", money=True)
            return f"Spent {spent} on orders{where} {window}"
        if none:
            return f"Did not purchase{where} {window}"
        if node.operator == "gte" and node.value == 1:
            return f"Purchased{where} {window}"
        return f"Placed {_measure_text(node.operator, node.value, 'orders')}{where} {window}"
    if isinstance(node, ActivityDateCondition):
        if node.source == "order":
            what = "purchase"
        else:
            what = event_labels.get(node.event, node.event) if node.event else "activity"
        where = filters_text(node.filters)
        return f"{node.which.capitalize()} {what}{where} {_date_text(node.operator, node.value)}"
    if isinstance(node, SegmentCondition):
        name = names.get(node.segment_id, f"#{node.segment_id}")
        return f"{'In' if node.operator == 'in' else 'Not in'} segment {name}"
    if isinstance(node, ConsentCondition):
        purpose = node.purpose.replace("_", " ")
        return f"{'Granted' if node.granted else 'Has not granted'} consent to {purpose}"
    raise TypeError(f"unknown node {node!r}")
