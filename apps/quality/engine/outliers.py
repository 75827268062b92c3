"""Quality flags of orders: negative amounts, implausibly large totals, totals that do not add
up, and probable duplicates. Flags are kept next to the order; amounts are never changed.

Large totals: order values are right-skewed, so the bound is set on log(1 + total) with the
modified z-score of Iglewicz and Hoaglin: z = 0.6745 * (x - median) / MAD, flagged when
z > 3.5. The median absolute deviation ignores the outliers it is looking for (a mean and
standard deviation would be dragged up by them). When MAD is 0 (most orders share one total)
the bound falls back to Q3 + 3 * IQR on the same scale; when that is 0 too, nothing is
flagged. Each currency gets its own bound; a currency needs 20 orders before any is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

NEGATIVE_AMOUNT = "negative_amount"
AMOUNT_OUTLIER = "amount_outlier"
TOTAL_MISMATCH = "total_mismatch"
POSSIBLE_DUPLICATE = "possible_duplicate"
PIPELINE_FLAGS = (NEGATIVE_AMOUNT, AMOUNT_OUTLIER, TOTAL_MISMATCH, POSSIBLE_DUPLICATE)

MODIFIED_Z_THRESHOLD = 3.5
MAD_SCALE = 0.6745
IQR_FENCE = 3.0
MIN_ORDERS_PER_CURRENCY = 20
TOTAL_TOLERANCE = 0.01
AMOUNT_COLUMNS = ("subtotal", "discount_total", "shipping_total", "total")


@dataclass(frozen=True)
class AmountBound:
    """The upper bound of plausible totals in one currency and how it was found."""

    currency: str
    orders: int
    median_total: float
    upper_bound: float | None
    method: str


@dataclass(frozen=True)
class OrderFlags:
    """Flags per order id (every order of the input) and the bounds used per currency."""

    flags: dict[int, list[str]]
    bounds: list[AmountBound] = field(default_factory=list)


def upper_bound(totals: np.ndarray) -> tuple[float | None, str]:
    """The largest plausible total of a sample of positive totals (see the module docstring)."""
    logged = np.log1p(totals)
    median = float(np.median(logged))
    mad = float(np.median(np.abs(logged - median)))
    if mad > 0:
        return float(np.expm1(median + MODIFIED_Z_THRESHOLD * mad / MAD_SCALE)), "modified_z"
    q1, q3 = np.quantile(logged, [0.25, 0.75])
    if q3 > q1:
        return float(np.expm1(q3 + IQR_FENCE * (q3 - q1))), "iqr"
    return None, "constant"


def order_flags(frame: pd.DataFrame) -> OrderFlags:
    """Flags of each order. `frame` is indexed by order id with the amount columns (floats),
    `currency`, `customer_id` and `placed_at`."""
    amounts = frame[list(AMOUNT_COLUMNS)].astype(float)
    negative = (amounts < 0).any(axis=1)
    expected = amounts["subtotal"] - amounts["discount_total"] + amounts["shipping_total"]
    mismatch = (expected - amounts["total"]).abs() > TOTAL_TOLERANCE + 1e-9

    outlier = pd.Series(False, index=frame.index)
    bounds: list[AmountBound] = []
    for currency, rows in amounts["total"].groupby(frame["currency"], sort=True):
        positive = rows[rows > 0]
        if len(positive) < MIN_ORDERS_PER_CURRENCY:
            bounds.append(
                AmountBound(
                    currency=str(currency),
                    orders=len(rows),
                    median_total=float(rows.median()) if len(rows) else 0.0,
                    upper_bound=None,
                    method="too_few_orders",
                )
            )
            continue
        bound, method = upper_bound(positive.to_numpy())
        if bound is not None:
            outlier.loc[rows.index] = rows > bound
        bounds.append(
            AmountBound(
                currency=str(currency),
                orders=len(rows),
                median_total=round(float(positive.median()), 2),
                upper_bound=None if bound is None else round(bound, 2),
                method=method,
            )
        )

    # The same customer, at the same moment, for the same total: a re-sent order under a new
    # id. The first (lowest id) is kept unflagged.
    known_customer = frame["customer_id"].notna()
    keyed = frame.loc[known_customer, ["customer_id", "placed_at", "currency"]].assign(
        total=amounts.loc[known_customer, "total"]
    )
    duplicate = pd.Series(False, index=frame.index)
    duplicate.loc[keyed.index] = keyed.sort_index().duplicated(keep="first")

    flags: dict[int, list[str]] = {}
    for row_id, is_negative, is_outlier, is_mismatch, is_duplicate in zip(
        frame.index, negative, outlier, mismatch, duplicate, strict=True
    ):
        row_flags = []
        if is_negative:
            row_flags.append(NEGATIVE_AMOUNT)
        if is_outlier:
            row_flags.append(AMOUNT_OUTLIER)
        if is_mismatch:
            row_flags.append(TOTAL_MISMATCH)
        if is_duplicate:
            row_flags.append(POSSIBLE_DUPLICATE)
        flags[int(row_id)] = row_flags
    return OrderFlags(flags=flags, bounds=bounds)
