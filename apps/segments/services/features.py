"""Per-customer features at a cut date, and purchase labels after it, for churn and propensity.

Time-based, so nothing leaks: every feature is read from data strictly before the cut (each
read below passes `until=cut` to its selector) and labels only from the window that starts at
the cut. The same builder gives training rows at past cuts and scoring rows at "now".

Groups of features (`FEATURE_LABELS` has a readable name for each):

- orders: counts and spend in windows, average order value, recency, tenure as a buyer,
  inter-purchase time (mean, spread) and recency measured in the customer's own cycle,
  coupon use; the BG/NBD summary (repeat purchases, time between first and last purchase,
  age);
- RFM scores (1-5 quintiles of recency, frequency and spend among buyers) at the cut;
- CLV at the cut: P(alive), expected purchases in the model's horizon and the predicted
  12-month CLV of a BG/NBD + Gamma-Gamma fit on the orders before the cut (the engine of
  `apps.segments.engine.clv`, the same maths as the stored CLV);
- what they buy: number of categories, top department;
- behaviour: product views, add-to-carts, searches, checkouts, sessions in 7/30/90 days,
  days since the last event;
- email engagement: opens and clicks (`email_open`, `email_click` events) in 30/90 days;
- who they are: days since sign-up, country, acquisition channel, language, has email/phone.

RFM and CLV are recomputed at the cut rather than read from `CustomerScores`: those columns
are computed from all history up to now, so for a past cut they would carry the label window
into the features (a customer who bought after the cut has a fresher RFM recency today).
The CLV models are refitted on the orders before the cut at every cut, at training and at
scoring alike, so neither their parameters nor the customers' summaries see the label window.
The columns are missing when the fit is not possible or not trustworthy: fewer than 20 buyers
or 5 repeat buyers before the cut, or a BG/NBD fit that does not converge (degenerate data);
the predicted CLV alone is missing when Gamma-Gamma has no finite mean spend (q <= 1).

Bulk only: one query per source (orders, order lines grouped by category, events grouped per
customer in the database, customers), then pandas and numpy. No per-customer loop.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from django.utils import timezone

from apps.customers.selectors import customer_feature_rows
from apps.events.selectors import (
    customer_category_units,
    customer_event_activity,
    customer_order_facts,
)
from apps.segments.engine import clv as clv_engine

SECONDS_PER_DAY = 86_400.0
_EPOCH = np.datetime64("1970-01-01", "D")
ORDER_WINDOWS_DAYS = (30, 90, 365)
EVENT_WINDOWS_DAYS = (7, 30, 90)
EVENT_LOOKBACK_DAYS = 180
RFM_SCORES = 5
# The CLV features: the model's horizon unless told (the stored CLV's 90 days), the predicted
# value over 12 months discounted like the stored one (1% a month).
DEFAULT_HORIZON_DAYS = 90
CLV_MONTHS = 12
CLV_MONTHLY_DISCOUNT_RATE = 0.01
# Behaviour event types counted per window (apps.events EventType values), and the feature
# name prefix each one gets.
EVENT_FEATURES = {
    "product_view": "product_views",
    "add_to_cart": "add_to_carts",
    "search": "searches",
    "checkout": "checkouts",
    "email_open": "email_opens",
    "email_click": "email_clicks",
}

FEATURE_LABELS: dict[str, str] = {
    "orders_count": "Orders before",
    "orders_30d": "Orders in the last 30 days",
    "orders_90d": "Orders in the last 90 days",
    "orders_365d": "Orders in the last year",
    "spend_total": "Total spend",
    "spend_90d": "Spend in the last 90 days",
    "spend_365d": "Spend in the last year",
    "average_order_value": "Average order value",
    "days_since_last_order": "Days since the last order",
    "days_since_first_order": "Days since the first order",
    "repeat_purchases": "Repeat purchase days",
    "days_first_to_last_order": "Days first to last order",
    "mean_days_between_orders": "Usual days between orders",
    "spread_days_between_orders": "Spread of order gaps",
    "recency_in_own_cycles": "Recency vs usual gap",
    "coupon_share": "Share of orders with a coupon",
    "rfm_recency": "RFM recency score",
    "rfm_frequency": "RFM frequency score",
    "rfm_monetary": "RFM monetary score",
    "p_alive": "P(alive) (BG/NBD)",
    "expected_purchases_horizon": "Expected purchases in the horizon (BG/NBD)",
    "predicted_clv_12m": "Predicted 12-month CLV",
    "categories_bought": "Categories bought",
    "top_department": "Favourite department",
    "days_since_last_event": "Days since the last visit",
    "tenure_days": "Days since sign-up",
    "country": "Country",
    "acquisition_channel": "Acquisition channel",
    "language": "Language",
    "has_email": "Has an email address",
    "has_phone": "Has a phone number",
}
for _days in EVENT_WINDOWS_DAYS:
    FEATURE_LABELS[f"sessions_{_days}d"] = f"Sessions, {_days} days"
    for _prefix in EVENT_FEATURES.values():
        FEATURE_LABELS[f"{_prefix}_{_days}d"] = (
            f"{_prefix.replace('_', ' ').capitalize()}, {_days} days"
        )

FEATURE_COLUMNS = tuple(FEATURE_LABELS)


def feature_label(name: str) -> str:
    """A readable name of a feature column ("Days since the last order")."""
    return FEATURE_LABELS.get(name, name.replace("_", " ").capitalize())


def _days_before(cut: datetime, moments: pd.Series) -> pd.Series:
    """Days from each moment to the cut (positive: before it)."""
    return (pd.Timestamp(cut) - pd.to_datetime(moments, utc=True)).dt.total_seconds() / (
        SECONDS_PER_DAY
    )


def _customers(cut: datetime) -> pd.DataFrame:
    rows = customer_feature_rows()
    frame = pd.DataFrame.from_records(
        rows,
        columns=[
            "customer_id",
            "signup_at",
            "country",
            "acquisition_channel",
            "language",
            "has_email",
            "has_phone",
        ],
    ).set_index("customer_id")
    frame["signup_at"] = pd.to_datetime(frame["signup_at"], utc=True)
    # Customers who signed up after the cut did not exist then; an unknown sign-up date is kept.
    known = frame["signup_at"].isna() | (frame["signup_at"] < pd.Timestamp(cut))
    frame = frame[known]
    result = pd.DataFrame(index=frame.index)
    result["tenure_days"] = _days_before(cut, frame["signup_at"])
    for name in ("country", "acquisition_channel", "language"):
        result[name] = frame[name].replace("", None)
    result["has_email"] = frame["has_email"].astype("float64")
    result["has_phone"] = frame["has_phone"].astype("float64")
    return result


def _rfm_score(values: pd.Series, *, higher_is_better: bool) -> pd.Series:
    """1-5 by quintile of rank (ties broken by order of customer id, so it is repeatable)."""
    if values.empty:
        return values
    ranks = values.rank(method="first", ascending=higher_is_better)
    scores = np.ceil(ranks / len(values) * RFM_SCORES)
    return scores.clip(1, RFM_SCORES)


def _lifetime_value(orders: pd.DataFrame, cut: datetime, horizon_days: int) -> pd.DataFrame:
    """P(alive), expected purchases in `horizon_days` and predicted 12-month CLV per buyer,
    from BG/NBD + Gamma-Gamma fitted on `orders` (all placed before the cut) in days, observed
    up to the cut's day. Empty when there are too few buyers to fit or the fit does not
    converge; without the CLV column when Gamma-Gamma has no finite mean spend."""
    local = pd.to_datetime(orders["placed_at"], utc=True).dt.tz_convert(
        timezone.get_current_timezone_name()
    )
    transactions = clv_engine.Transactions(
        customer_ids=orders["customer_id"].to_numpy(dtype=np.int64),
        days=(local.dt.tz_localize(None).to_numpy().astype("datetime64[D]") - _EPOCH).astype(
            np.int64
        ),
        amounts=orders["total"].to_numpy(dtype=np.float64),
    )
    summary = clv_engine.rfm_summary(
        transactions,
        calibration_end=timezone.localtime(cut).date(),
        time_unit="D",
        monthly_discount_rate=CLV_MONTHLY_DISCOUNT_RATE,
    )
    missing = pd.DataFrame(index=pd.Index([], name="customer_id"))
    try:
        fit = clv_engine.clv_fit(summary)
    except clv_engine.NotEnoughCustomers:
        return missing
    if not fit.bgnbd.converged:
        # Degenerate data (typically a and b running off to huge values: a few dozen buyers,
        # or everyone with the same dropout odds): the predictions are not to be trusted, and
        # the expectations fall back to slow series there. Better missing than misleading.
        return missing
    result = pd.DataFrame(index=pd.Index(summary.customer_ids.astype(np.int64), name="customer_id"))
    if fit.gamma_gamma.q > 1:
        values = clv_engine.customer_values_predict(
            fit.bgnbd,
            fit.gamma_gamma,
            summary,
            months=CLV_MONTHS,
            monthly_discount_rate=CLV_MONTHLY_DISCOUNT_RATE,
            horizon_days=float(horizon_days),
        )
        result["p_alive"] = values.probability_alive
        result["expected_purchases_horizon"] = values.expected_purchases
        result["predicted_clv_12m"] = values.predicted_clv
        return result
    # No finite mean spend: the purchase process still says who is alive and how often.
    arrays = (summary.frequency, summary.recency, summary.age)
    result["p_alive"] = clv_engine.bgnbd_probability_alive(fit.bgnbd, *arrays)
    result["expected_purchases_horizon"] = clv_engine.bgnbd_expected_purchases(
        fit.bgnbd, *arrays, horizon=float(horizon_days)
    )
    return result


def _orders(cut: datetime, horizon_days: int) -> pd.DataFrame:
    rows = customer_order_facts(until=cut)
    orders = pd.DataFrame.from_records(
        rows, columns=["customer_id", "placed_at", "total", "coupon_code"]
    )
    if orders.empty:
        return pd.DataFrame(index=pd.Index([], name="customer_id"))
    orders["days_before"] = _days_before(cut, orders["placed_at"])
    orders["total"] = orders["total"].astype("float64")
    orders["coupon"] = (orders["coupon_code"] != "").astype("float64")
    grouped = orders.groupby("customer_id")
    result = pd.DataFrame(
        {
            "orders_count": grouped.size(),
            "spend_total": grouped["total"].sum(),
            "average_order_value": grouped["total"].mean(),
            "days_since_last_order": grouped["days_before"].min(),
            "days_since_first_order": grouped["days_before"].max(),
            "coupon_share": grouped["coupon"].mean(),
        }
    )
    for days in ORDER_WINDOWS_DAYS:
        recent = orders[orders["days_before"] <= days].groupby("customer_id")
        result[f"orders_{days}d"] = recent.size()
        if days != 30:
            result[f"spend_{days}d"] = recent["total"].sum()
    for name in result.columns:
        if name.startswith(("orders_", "spend_")):
            result[name] = result[name].fillna(0.0)
    # Purchase days (BG/NBD: orders on the same day are one purchase) and the gaps between.
    orders["day"] = np.floor(orders["days_before"])
    days = orders.drop_duplicates(["customer_id", "day"]).sort_values(
        ["customer_id", "days_before"], ascending=[True, False]
    )
    days["gap"] = -days.groupby("customer_id")["days_before"].diff()
    gaps = days.groupby("customer_id")["gap"]
    result["repeat_purchases"] = days.groupby("customer_id").size() - 1
    result["days_first_to_last_order"] = (
        result["days_since_first_order"] - result["days_since_last_order"]
    )
    result["mean_days_between_orders"] = gaps.mean()
    result["spread_days_between_orders"] = gaps.std()
    result["recency_in_own_cycles"] = (
        result["days_since_last_order"] / result["mean_days_between_orders"]
    ).replace([np.inf, -np.inf], np.nan)
    result["rfm_recency"] = _rfm_score(result["days_since_last_order"], higher_is_better=False)
    result["rfm_frequency"] = _rfm_score(result["orders_count"], higher_is_better=True)
    result["rfm_monetary"] = _rfm_score(result["spend_total"], higher_is_better=True)
    return result.join(_lifetime_value(orders, cut, horizon_days), how="left")


def _categories(cut: datetime) -> pd.DataFrame:
    rows = customer_category_units(until=cut)
    lines = pd.DataFrame.from_records(rows, columns=["customer_id", "path", "units"])
    if lines.empty:
        return pd.DataFrame(index=pd.Index([], name="customer_id"))
    lines["department"] = lines["path"].str.split("/").str[0]
    result = pd.DataFrame({"categories_bought": lines.groupby("customer_id")["path"].nunique()})
    departments = (
        lines.groupby(["customer_id", "department"])["units"]
        .sum()
        .reset_index()
        .sort_values(["customer_id", "units", "department"], ascending=[True, False, True])
        .drop_duplicates("customer_id")
        .set_index("customer_id")
    )
    result["top_department"] = departments["department"]
    return result


def _behaviour(cut: datetime) -> pd.DataFrame:
    rows = customer_event_activity(
        until=cut,
        event_types=tuple(EVENT_FEATURES),
        windows_days=EVENT_WINDOWS_DAYS,
        lookback_days=EVENT_LOOKBACK_DAYS,
    )
    if not rows:
        return pd.DataFrame(index=pd.Index([], name="customer_id"))
    events = pd.DataFrame.from_records(rows).set_index("customer_id")
    result = pd.DataFrame(index=events.index)
    for days in EVENT_WINDOWS_DAYS:
        result[f"sessions_{days}d"] = events[f"sessions_{days}d"].astype("float64")
        for event_type, prefix in EVENT_FEATURES.items():
            result[f"{prefix}_{days}d"] = events[f"{event_type}_{days}d"].astype("float64")
    result["days_since_last_event"] = _days_before(cut, events["last_event_at"])
    return result


def customer_features_build(
    *,
    cut: datetime,
    customer_ids: Collection[int] | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> pd.DataFrame:
    """One row per customer known at `cut` (indexed by customer id), features from before it.

    Counts are 0 where a customer has no orders or events; times, ratios and CLV values that
    need an order are missing (NaN), which the model reads as "never bought". `horizon_days`
    is the window of `expected_purchases_horizon` (pass the model's label horizon, the same at
    training and at scoring). Columns follow `FEATURE_COLUMNS`.
    """
    frame = _customers(cut)
    for part in (_orders(cut, horizon_days), _categories(cut), _behaviour(cut)):
        frame = frame.join(part, how="left")
    frame = frame.reindex(columns=list(FEATURE_COLUMNS))
    counts = [
        name
        for name in FEATURE_COLUMNS
        if name.startswith(("orders_", "spend_", "sessions_", *EVENT_FEATURES.values()))
        or name in ("categories_bought", "repeat_purchases")
    ]
    frame[counts] = frame[counts].fillna(0.0)
    if customer_ids is not None:
        frame = frame[frame.index.isin(list(customer_ids))]
    return frame.sort_index()


def purchasers_between(*, start: datetime, end: datetime) -> set[int]:
    """Customers with a revenue order placed in [start, end): the label window."""
    return {row[0] for row in customer_order_facts(since=start, until=end)}


def purchase_labels_build(
    *, customer_ids: pd.Index, cut: datetime, horizon_days: int
) -> np.ndarray:
    """1 where the customer placed a revenue order in the `horizon_days` from the cut, else 0."""
    buyers = purchasers_between(start=cut, end=cut + timedelta(days=horizon_days))
    return np.asarray(customer_ids.isin(list(buyers)), dtype=np.int8)


def churn_population(features: pd.DataFrame, *, active_days: int) -> pd.DataFrame:
    """Customers active before the cut: a revenue order in the last `active_days`."""
    return features[features["days_since_last_order"] <= active_days]
