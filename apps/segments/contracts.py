"""Frozen dataclasses other apps may use to read customer intelligence."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class ScoreReason:
    """One of the top contributions to a customer's churn or propensity score (TreeSHAP,
    log-odds: positive raises the score)."""

    feature: str
    label: str
    contribution: float


@dataclass(frozen=True)
class CustomerScoresView:
    """The scores of one customer as the profile page and the customers API show them, each
    group with the version number of the model that produced it (None before any)."""

    rfm_recency: int | None
    rfm_frequency: int | None
    rfm_monetary: int | None
    rfm_cell: str
    rfm_cell_label: str
    lifecycle_stage: str
    lifecycle_stage_label: str
    cluster: int | None
    cluster_name: str
    clv_historical: Decimal | None
    clv_discounted: Decimal | None
    clv_12m: Decimal | None
    p_alive: float | None
    expected_purchases_90d: float | None
    churn_risk: float | None
    purchase_propensity: float | None
    explanations: dict
    updated_at: datetime | None
    clv_model_version: int | None = None
    churn_model_version: int | None = None
    propensity_model_version: int | None = None
    cluster_model_version: int | None = None
    churn_reasons: list[ScoreReason] = field(default_factory=list)
    propensity_reasons: list[ScoreReason] = field(default_factory=list)
    sentiment_average: float | None = None
    text_count: int = 0
    interest_topics: str = ""
    interest_aspects: str = ""
    last_complaint_at: datetime | None = None


@dataclass(frozen=True)
class CustomerTextTraits:
    """What one customer's reviews and posts say about them (written by the insights app)."""

    customer_id: int
    sentiment_average: float | None
    text_count: int
    interest_topics: str = ""
    interest_aspects: str = ""
    last_complaint_at: datetime | None = None
