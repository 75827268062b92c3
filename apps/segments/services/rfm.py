"""RFM scores and lifecycle stages for every customer, written into CustomerScores.

`rfm_compute` reads orders in bulk (two grouped queries through the events app's selectors,
no per-customer loop), scores them with the pure engines (`engine.rfm`, `engine.lifecycle`)
and upserts only its own columns (`rfm_recency`, `rfm_frequency`, `rfm_monetary`,
`rfm_cell`, `lifecycle_stage`, `rfm_computed_at`) of every customer's CustomerScores row,
creating rows that do not exist yet; the CLV, churn and cluster columns are never touched.

It runs as the ML kind `segments.rfm` (apps/segments/ml_rfm.py) so it is scheduled and
recorded like every model: a TrainingRun, and a ModelVersion whose small JSON artifact keeps
the quintile boundaries and the counts. The scores are rule-based and carry no model version.
docs/rfm_and_clusters.md explains the rules.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Count, Field, Max
from django.utils import timezone

from apps.core.errors import NotEnoughData, ValidationFailed
from apps.core.pgcopy import copy_rows
from apps.customers.selectors import customer_list
from apps.events.selectors import customer_purchase_days, customer_purchase_totals
from apps.ml import selectors as ml_selectors
from apps.ml import services as ml_services
from apps.segments.choices import LifecycleStage, RfmCell
from apps.segments.engine.lifecycle import (
    lifecycle_stages,
    purchase_history,
    shop_cycle_days,
)
from apps.segments.engine.rfm import RFM_CELL_GRID, rfm_grid_counts, rfm_scores
from apps.segments.models import CustomerScores
from apps.segments.services.segments import segment_create

ProgressCallback = Callable[[float, str], None]

RFM_KIND = "segments.rfm"
SECONDS_PER_DAY = 86_400.0
WRITE_BATCH = 5_000
# Columns this service owns in CustomerScores; nothing else is written.
RFM_COLUMNS = (
    "rfm_recency",
    "rfm_frequency",
    "rfm_monetary",
    "rfm_cell",
    "lifecycle_stage",
    "rfm_computed_at",
    "updated_at",
)


@dataclass(frozen=True)
class RfmSummary:
    """What one computation wrote, and the rules it used (the artifact and the run metrics)."""

    as_of: datetime
    customers: int
    buyers: int
    cells: dict[str, int]
    stages: dict[str, int]
    grid: list[list[int]]  # grid[r - 1][fm - 1]: customers per square
    boundaries: dict[str, list[float | None]]
    shop_cycle_days: float
    own_cycle_customers: int
    dataset_hash: str
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (the artifact, the run metrics and `rfm compute --json`)."""
        return {
            "as_of": self.as_of.isoformat(),
            "customers": self.customers,
            "buyers": self.buyers,
            "prospects": self.customers - self.buyers,
            "cells": self.cells,
            "stages": self.stages,
            "grid": self.grid,
            "boundaries": self.boundaries,
            "shop_cycle_days": round(self.shop_cycle_days, 3),
            "own_cycle_customers": self.own_cycle_customers,
            "seconds": self.seconds,
            "timings": self.timings,
        }


def _silent(percent: float, message: str) -> None:
    return None


def _concrete(name: str) -> Field:
    field = CustomerScores._meta.get_field(name)
    if not isinstance(field, Field):  # a reverse relation, not a column
        raise ValueError(f"{name} is not a column of CustomerScores")
    return field


def _scores_upsert_postgresql(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """COPY the rows into a temporary table, then one INSERT ... SELECT ... ON CONFLICT DO
    UPDATE of `columns` only: 5x faster than bulk_create at 100,000 rows. New rows get every
    other column's model default, as bulk_create would give them."""
    quote = connection.ops.quote_name
    key = str(_concrete("customer").column)
    written = [
        (str(field.column), str(field.db_type(connection))) for field in map(_concrete, columns)
    ]
    others = [
        field
        for field in CustomerScores._meta.concrete_fields
        if field.name != "customer" and field.name not in columns
    ]
    other_columns = [str(field.column) for field in others]
    defaults = [field.get_db_prep_save(field.get_default(), connection) for field in others]
    table = quote(CustomerScores._meta.db_table)
    stage = "segments_scores_stage"
    stage_columns = ", ".join(
        [f"{quote(key)} bigint"] + [f"{quote(column)} {db_type}" for column, db_type in written]
    )
    target_columns = ", ".join(
        quote(column) for column in [key, *(column for column, _ in written), *other_columns]
    )
    select = ", ".join(
        [f"s.{quote(key)}"] + [f"s.{quote(column)}" for column, _ in written] + ["%s"] * len(others)
    )
    updates = ", ".join(f"{quote(column)} = EXCLUDED.{quote(column)}" for column, _ in written)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {stage} ({stage_columns}) ON COMMIT DROP")
        copy_rows(cursor, table=stage, columns=None, rows=rows)
        cursor.execute(
            f"INSERT INTO {table} ({target_columns}) SELECT {select} FROM {stage} s "  # noqa: S608 - names from model metadata
            f"ON CONFLICT ({quote(key)}) DO UPDATE SET {updates}",
            defaults,
        )
        cursor.execute(f"DROP TABLE {stage}")


@transaction.atomic
def scores_upsert(*, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Write `columns` (CustomerScores field names) of many customers, creating missing rows.

    `rows` are `(customer_id, value of each column...)`. Nothing but these columns is
    written on existing rows, so the RFM, cluster, CLV and churn services never undo each
    other. PostgreSQL: COPY + one upsert; other databases: bulk_create's upsert.
    """
    if not rows:
        return
    if connection.vendor == "postgresql":
        _scores_upsert_postgresql(columns, rows)
        return
    # Relations are given as ids (e.g. cluster_model_version): set them by their attname.
    concrete = {field.name: field.attname for field in CustomerScores._meta.concrete_fields}
    attnames = [concrete[column] for column in columns]
    CustomerScores.objects.bulk_create(
        [
            CustomerScores(customer_id=row[0], **dict(zip(attnames, row[1:], strict=True)))
            for row in rows
        ],
        batch_size=WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=list(columns),
    )


def _dataset_hash(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        contiguous = np.ascontiguousarray(array)
        digest.update(f"{contiguous.dtype.str}{contiguous.shape}".encode())
        digest.update(contiguous.tobytes())
    return digest.hexdigest()


@transaction.atomic
def rfm_compute(
    *, as_of: datetime | None = None, progress: ProgressCallback | None = None
) -> RfmSummary:
    """Score RFM and lifecycle for every customer from the orders placed before `as_of`.

    Customers without a revenue order get no RFM (scores cleared) and the stage `prospect`.
    Raises NotEnoughData when there are no customers at all. One transaction: readers see
    the old scores or the new ones, never a mix.
    """
    report = progress or _silent
    started = time.monotonic()
    timings: dict[str, float] = {}
    as_of = as_of or timezone.now()

    report(5, "Reading customers and orders")
    customer_ids = np.fromiter(
        customer_list().order_by().values_list("id", flat=True), dtype=np.int64
    )
    if customer_ids.size == 0:
        raise NotEnoughData(
            "RFM needs customers; found none. Import customers and orders (or generate the "
            "demo shop with manage.py demo_data) and compute again."
        )
    customer_ids.sort()
    totals = customer_purchase_totals(until=as_of)
    day_rows = customer_purchase_days(until=as_of)
    timings["read_seconds"] = round(time.monotonic() - started, 3)

    report(35, f"Scoring {len(totals):,} buyers of {customer_ids.size:,} customers")
    buyer_ids = np.array([row[0] for row in totals], dtype=np.int64)
    order_counts = np.array([row[1] for row in totals], dtype=np.float64)
    revenue = np.array([float(row[2] or 0) for row in totals], dtype=np.float64)
    as_of_seconds = as_of.timestamp()
    idle_days = np.array(
        [(as_of_seconds - row[4].timestamp()) / SECONDS_PER_DAY for row in totals],
        dtype=np.float64,
    )
    order = np.argsort(buyer_ids, kind="stable")
    buyer_ids, order_counts, revenue, idle_days = (
        buyer_ids[order],
        order_counts[order],
        revenue[order],
        idle_days[order],
    )
    rfm = rfm_scores(recency_days=idle_days, frequency=order_counts, monetary=revenue)

    history = purchase_history(
        np.array([row[0] for row in day_rows], dtype=np.int64),
        np.array([row[1] for row in day_rows], dtype=np.int64),
    )
    shop_cycle = shop_cycle_days(history.gaps_days)
    # Align everything on the sorted list of all customers.
    buyer_position = np.searchsorted(customer_ids, buyer_ids)
    history_position = np.searchsorted(customer_ids, history.customer_ids)
    purchase_days = np.zeros(customer_ids.size, dtype=np.int64)
    median_gap = np.full(customer_ids.size, np.nan)
    last_gap = np.full(customer_ids.size, np.nan)
    idle_all = np.full(customer_ids.size, np.nan)
    purchase_days[history_position] = history.purchase_days
    median_gap[history_position] = history.median_gap_days
    last_gap[history_position] = history.last_gap_days
    idle_all[buyer_position] = idle_days
    # A buyer always has a purchase day; guard against a customer id unknown to the
    # customers table (deleted between the two reads): counted as one day.
    purchase_days[buyer_position] = np.maximum(purchase_days[buyer_position], 1)
    lifecycle = lifecycle_stages(
        purchase_days=purchase_days,
        days_since_last=idle_all,
        median_gap_days=median_gap,
        last_gap_days=last_gap,
        shop_cycle=shop_cycle,
    )
    timings["score_seconds"] = round(time.monotonic() - started - timings["read_seconds"], 3)

    report(60, f"Writing scores of {customer_ids.size:,} customers")
    now = timezone.now()
    recency_all = np.zeros(customer_ids.size, dtype=np.int8)
    frequency_all = np.zeros(customer_ids.size, dtype=np.int8)
    monetary_all = np.zeros(customer_ids.size, dtype=np.int8)
    cells_all = np.full(customer_ids.size, "", dtype=object)
    recency_all[buyer_position] = rfm.recency
    frequency_all[buyer_position] = rfm.frequency
    monetary_all[buyer_position] = rfm.monetary
    cells_all[buyer_position] = rfm.cells
    rows = [
        (
            customer_id,
            recency or None,
            frequency or None,
            monetary or None,
            cell,
            stage,
            now,
            now,
        )
        for customer_id, recency, frequency, monetary, cell, stage in zip(
            customer_ids.tolist(),
            recency_all.tolist(),
            frequency_all.tolist(),
            monetary_all.tolist(),
            cells_all.tolist(),
            lifecycle.stages.tolist(),
            strict=True,
        )
    ]
    scores_upsert(columns=RFM_COLUMNS, rows=rows)
    timings["write_seconds"] = round(
        time.monotonic() - started - timings["read_seconds"] - timings["score_seconds"], 3
    )
    report(95, "Summarising")
    cell_counts = Counter(rfm.cells.tolist())
    stage_counts = Counter(lifecycle.stages.tolist())
    return RfmSummary(
        as_of=as_of,
        customers=int(customer_ids.size),
        buyers=int(buyer_ids.size),
        cells={cell: int(cell_counts.get(cell, 0)) for cell in RfmCell.values},
        stages={stage: int(stage_counts.get(stage, 0)) for stage in LifecycleStage.values},
        grid=rfm_grid_counts(rfm.recency, rfm.frequency_monetary),
        boundaries=rfm.boundaries,
        shop_cycle_days=float(shop_cycle),
        own_cycle_customers=int(lifecycle.own_cycle.sum()),
        dataset_hash=_dataset_hash(
            customer_ids, buyer_ids, order_counts, revenue, np.round(idle_days, 6)
        ),
        seconds=round(time.monotonic() - started, 3),
        timings=timings,
    )


def rfm_run_start(*, trigger: str, triggered_by: Any = None) -> Any:
    """Start a `segments.rfm` run through the ML platform (recorded like every model)."""
    return ml_services.training_run_start(
        kind=RFM_KIND, params={}, trigger=trigger, triggered_by=triggered_by
    )


# --- reads for the page and the API -------------------------------------------------------


@dataclass(frozen=True)
class RfmSquare:
    """One square of the R x FM grid: its scores, cell name and customers."""

    recency: int
    frequency_monetary: int
    cell: str
    cell_label: str
    customers: int
    intensity: float  # customers / the fullest square, 0-1 (the heat colour)


@dataclass(frozen=True)
class RfmOverview:
    """Everything the RFM page and `GET /segments/rfm` show."""

    computed_at: datetime | None
    customers_scored: int
    buyers: int
    cells: list[tuple[str, str, int]]  # (cell, label, customers), best cell first
    stages: list[tuple[str, str, int]]  # (stage, label, customers) in lifecycle order
    grid: list[list[RfmSquare]]  # rows R 5 -> 1, columns FM 1 -> 5
    boundaries: dict[str, list[float | None]]
    shop_cycle_days: float | None
    latest_run: Any
    rules_version: int | None


_CELL_ORDER = [
    RfmCell.CHAMPIONS,
    RfmCell.LOYAL,
    RfmCell.POTENTIAL_LOYALISTS,
    RfmCell.NEW,
    RfmCell.PROMISING,
    RfmCell.NEED_ATTENTION,
    RfmCell.ABOUT_TO_SLEEP,
    RfmCell.AT_RISK,
    RfmCell.CANT_LOSE_THEM,
    RfmCell.HIBERNATING,
    RfmCell.LOST,
]


def rfm_overview() -> RfmOverview:
    """Counts per RFM cell, per grid square and per lifecycle stage from CustomerScores,
    with the latest `segments.rfm` run and the boundaries its champion recorded."""
    scored = CustomerScores.objects.exclude(rfm_computed_at=None)
    computed_at = scored.aggregate(latest=Max("rfm_computed_at"))["latest"]
    squares = (
        scored.exclude(rfm_recency=None)
        .values_list("rfm_recency", "rfm_frequency", "rfm_monetary")
        .annotate(customers=Count("customer_id"))
        .order_by()
    )
    grid_counts = [[0] * 5 for _ in range(5)]
    for recency, frequency, monetary, customers in squares:
        frequency_monetary = (frequency + monetary + 1) // 2
        grid_counts[recency - 1][frequency_monetary - 1] += customers
    fullest = max(max(row) for row in grid_counts) or 1
    labels = dict(RfmCell.choices)
    grid = [
        [
            RfmSquare(
                recency=recency,
                frequency_monetary=frequency_monetary,
                cell=RFM_CELL_GRID[recency - 1][frequency_monetary - 1],
                cell_label=labels[RFM_CELL_GRID[recency - 1][frequency_monetary - 1]],
                customers=grid_counts[recency - 1][frequency_monetary - 1],
                intensity=grid_counts[recency - 1][frequency_monetary - 1] / fullest,
            )
            for frequency_monetary in range(1, 6)
        ]
        for recency in range(5, 0, -1)
    ]
    cell_counts = dict(
        scored.exclude(rfm_cell="")
        .values_list("rfm_cell")
        .annotate(customers=Count("customer_id"))
        .order_by()
    )
    stage_counts = dict(
        scored.exclude(lifecycle_stage="")
        .values_list("lifecycle_stage")
        .annotate(customers=Count("customer_id"))
        .order_by()
    )
    champion = ml_selectors.champion_get(RFM_KIND)
    metrics = champion.metrics if champion is not None else {}
    latest_run = ml_selectors.training_run_list(kind=RFM_KIND).first()
    return RfmOverview(
        computed_at=computed_at,
        customers_scored=sum(stage_counts.values()),
        buyers=sum(cell_counts.values()),
        cells=[
            (cell.value, cell.label, int(cell_counts.get(cell.value, 0))) for cell in _CELL_ORDER
        ],
        stages=[
            (stage.value, stage.label, int(stage_counts.get(stage.value, 0)))
            for stage in LifecycleStage
        ],
        grid=grid,
        boundaries=metrics.get("boundaries", {}),
        shop_cycle_days=metrics.get("shop_cycle_days"),
        latest_run=latest_run,
        rules_version=champion.version if champion is not None else None,
    )


# --- saving a cell as a segment -----------------------------------------------------------


def rfm_cell_segment_definition(cell: str) -> dict[str, Any]:
    """The dynamic segment definition "RFM cell is <cell>" (it follows every recompute)."""
    return {
        "type": "group",
        "operator": "and",
        "conditions": [{"type": "score", "field": "rfm_cell", "operator": "equals", "value": cell}],
    }


def rfm_cell_segment_save(*, cell: str, name: str = "", actor: Any = None) -> Any:
    """Save an RFM cell as a dynamic segment (members follow each recompute) and return it.

    The name defaults to "RFM: <cell label>"; a taken name is a ValidationFailed from the
    segments service, which writes nothing.
    """
    if cell not in RfmCell.values:
        raise ValidationFailed(
            f"cell: must be one of {', '.join(RfmCell.values)}, got {cell!r}", field="cell"
        )
    label = RfmCell(cell).label
    return segment_create(
        name=name.strip() or f"RFM: {label}",
        definition=rfm_cell_segment_definition(cell),
        description=f"Customers in the RFM cell {label}; follows every RFM recompute "
        "(see docs/rfm_and_clusters.md).",
        actor=actor,
    )
