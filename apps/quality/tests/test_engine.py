"""The cleaning engine: normalisers, imputation, bands, outlier flags, duplicates, metrics and
the per-entity pipelines, on plain pandas data (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest

from apps.quality.choices import CleaningRule
from apps.quality.engine import normalise
from apps.quality.engine.bands import age_band, age_bands, price_bands
from apps.quality.engine.dedup import customer_duplicates, customer_duplicates_as_cleaned
from apps.quality.engine.impute import impute_group_mode, impute_mode
from apps.quality.engine.metrics import (
    completeness,
    currency_invalid_values,
    customer_invalid_values,
)
from apps.quality.engine.outliers import order_flags, upper_bound
from apps.quality.engine.pipelines import (
    clean_categories,
    clean_customers,
    clean_orders,
    clean_products,
)

TODAY = date(2026, 6, 15)


def customers(rows: list[dict]) -> pd.DataFrame:
    defaults = {
        "email": "",
        "phone": "",
        "first_name": "",
        "last_name": "",
        "gender": "",
        "birth_date": None,
        "city": "",
        "region": "",
        "country": "",
        "language": "",
        "signup_at": datetime(2025, 1, 1, tzinfo=UTC),
        "created_at": datetime(2025, 1, 1, tzinfo=UTC),
        "age_band": "",
        "imputed_values": {},
    }
    records = [
        {"id": index + 1, "external_id": f"c{index + 1}", **defaults, **row}
        for index, row in enumerate(rows)
    ]
    frame = pd.DataFrame.from_records(records)
    for column in frame.columns:
        if column not in ("id", "signup_at", "created_at"):
            frame[column] = frame[column].astype(object)
    return frame.set_index("id", drop=False).rename_axis(None)


def change_of(result, rule: str, field: str):
    matches = [c for c in result.changes if c.rule == rule and c.field == field]
    assert len(matches) == 1, [(c.rule, c.field) for c in result.changes]
    return matches[0]


@pytest.mark.parametrize(
    ("raw", "region", "expected", "possible"),
    [
        ("+49 30 1234567", "", "+49301234567", True),
        ("030 1234567", "DE", "+49301234567", True),
        ("(212) 555-0123", "US", "+12125550123", True),
        ("12", "US", "12", False),
        ("not a phone", "DE", "not a phone", False),
    ],
)
def test_phone_e164_parses_national_numbers_with_the_customer_country(
    raw, region, expected, possible
):
    result = normalise.phone_e164(raw, region)

    assert (result.value, result.possible) == (expected, possible)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("de", "DE"), ("Germany", "DE"), ("DEU", "DE"), ("uk", "GB"), ("Atlantis", None), ("", None)],
)
def test_country_iso2_accepts_codes_names_and_aliases(raw, expected):
    assert normalise.country_iso2(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [("usd", "USD"), ("euro", "EUR"), ("€", "EUR"), ("$", None), ("xx", None)]
)
def test_currency_iso_accepts_codes_names_and_unambiguous_symbols(raw, expected):
    assert normalise.currency_iso(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  women's   dresses ", "Women's Dresses"),
        ("SHOES", "Shoes"),
        ("T-shirts", "T-shirts"),
        ("iPhone cases", "iPhone cases"),
    ],
)
def test_category_name_normalise_capitalises_only_single_case_names(raw, expected):
    assert normalise.category_name_normalise(raw) == expected


def test_email_and_text_normalisers():
    assert normalise.email_normalise("  Ada@Example.COM ") == "ada@example.com"
    assert normalise.text_trim(" Ada \t  Lovelace\u00a0 ") == "Ada Lovelace"
    assert normalise.email_is_valid("ada@example.com") is True
    assert normalise.email_is_valid("ada at example") is False


def test_impute_group_mode_fills_only_missing_cells_of_groups_with_enough_support():
    # given four Germans (three known languages: de, de, en) and two French (one known)
    frame = customers(
        [
            {"country": "DE", "language": "de"},
            {"country": "DE", "language": "de"},
            {"country": "DE", "language": "en"},
            {"country": "DE", "language": ""},
            {"country": "FR", "language": "fr"},
            {"country": "FR", "language": ""},
        ]
    )

    change = impute_group_mode(frame=frame, field="language", by=["country"], label="external_id")

    # then only the German gap is filled (France has one known value, below the support of 3)
    assert change.values == {4: "de"}
    assert change.rule == "impute_group_mode"
    assert change.parameters["modes"] == {"DE": "de"}
    assert change.examples == [{"id": "c4", "before": "", "after": "de"}]


def test_impute_mode_breaks_ties_by_the_smallest_value():
    frame = customers([{"gender": "male"}, {"gender": "female"}, {"gender": "other"}, {}])

    change = impute_mode(frame=frame, field="gender", label="external_id")

    assert change.values == {4: "female"}
    assert change.parameters == {"mode": "female", "known_rows": 3}


def test_age_bands_follow_birthdays_and_leave_out_impossible_dates():
    births = pd.Series(
        {
            1: date(2008, 6, 16),  # 17 until tomorrow
            2: date(2008, 6, 15),  # 18 today
            3: date(1961, 1, 1),  # 65
            4: date(2030, 1, 1),  # future
            5: None,
        }
    )

    bands = age_bands(births, TODAY)

    assert bands.to_dict() == {1: "<18", 2: "18-24", 3: "65+"}
    assert age_band(44) == "35-44"


def test_price_bands_split_by_quartiles_and_need_eight_products():
    prices = pd.Series({i: float(i * 10) for i in range(1, 9)})

    bands = price_bands(prices)

    assert bands is not None
    assert bands.edges == [27.5, 45.0, 62.5]
    assert bands.bands.to_dict() == {
        1: "budget",
        2: "budget",
        3: "mid",
        4: "mid",
        5: "upper",
        6: "upper",
        7: "premium",
        8: "premium",
    }
    assert price_bands(prices.head(7)) is None


def orders(rows: list[dict]) -> pd.DataFrame:
    records = []
    for index, row in enumerate(rows):
        total = row.get("total", Decimal("50.00"))
        records.append(
            {
                "id": index + 1,
                "external_id": f"o{index + 1}",
                "customer_id": row.get("customer_id", index + 1),
                "placed_at": row.get("placed_at", datetime(2026, 1, 1, tzinfo=UTC)),
                "currency": row.get("currency", "USD"),
                "subtotal": row.get("subtotal", total),
                "discount_total": row.get("discount_total", Decimal("0")),
                "shipping_total": row.get("shipping_total", Decimal("0")),
                "total": total,
                "quality_flags": row.get("quality_flags", []),
            }
        )
    frame = pd.DataFrame.from_records(records)
    for column in frame.columns:
        if column not in ("id", "placed_at"):
            frame[column] = frame[column].astype(object)
    return frame.set_index("id", drop=False).rename_axis(None)


def test_order_flags_negative_outlier_mismatch_and_duplicate():
    # given 40 ordinary orders between 40 and 79, and four odd ones
    rows = [{"total": Decimal(40 + index)} for index in range(40)]
    rows += [
        {"total": Decimal("10.00"), "subtotal": Decimal("15.00"), "shipping_total": Decimal("-5")},
        {"total": Decimal("50000.00")},
        {"total": Decimal("60.00"), "subtotal": Decimal("50.00")},
        {"customer_id": 1, "total": Decimal("40")},  # same customer, time, total as order 1
    ]

    flags = order_flags(orders(rows))

    assert flags.flags[41] == ["negative_amount"]
    assert flags.flags[42] == ["amount_outlier"]
    assert flags.flags[43] == ["total_mismatch"]
    assert flags.flags[44] == ["possible_duplicate"]
    assert all(flags.flags[row_id] == [] for row_id in range(1, 41))
    (usd,) = flags.bounds
    assert usd.method == "modified_z"
    assert 79 < usd.upper_bound < 50000


def test_upper_bound_falls_back_to_iqr_then_gives_up_on_constant_totals():
    mostly_same = [50.0] * 30 + [60.0] * 10 + [70.0] * 10

    assert upper_bound(pd.Series(mostly_same).to_numpy())[1] == "iqr"
    assert upper_bound(pd.Series([50.0] * 30).to_numpy()) == (None, "constant")


def test_too_few_orders_in_a_currency_are_never_outliers():
    flags = order_flags(orders([{"total": Decimal("5")}, {"total": Decimal("90000")}]))

    assert flags.flags == {1: [], 2: []}
    assert flags.bounds[0].method == "too_few_orders"


def test_customer_duplicates_exact_when_email_shared_and_nothing_disagrees():
    frame = customers(
        [
            {
                "email": "ada@example.com",
                "first_name": "Ada",
                "signup_at": datetime(2024, 1, 1, tzinfo=UTC),
            },
            {"email": "ada@example.com", "first_name": "ADA", "phone": "+4930123"},
            {"email": "bob@example.com", "phone": "+4930999", "first_name": "Bob"},
            {"email": "rob@example.com", "phone": "+4930999", "first_name": "Rob"},
            {"email": "solo@example.com"},
        ]
    )

    findings = customer_duplicates(frame)

    exact, other = findings.groups
    assert (exact.labels, exact.exact, exact.conflicts) == (["c1", "c2"], True, [])
    assert exact.keys == {"email": ["ada@example.com"]}
    assert (other.labels, other.exact) == (["c3", "c4"], False)
    assert other.conflicts == ["email", "first_name"]


def test_a_phone_alone_never_makes_an_exact_duplicate():
    frame = customers([{"phone": "+4930999", "first_name": "Kim"}, {"phone": "+4930999"}])

    (group,) = customer_duplicates(frame).groups

    assert (group.exact, group.conflicts) == (False, [])


def test_clean_customers_normalises_then_imputes_and_bands_in_order():
    # given a messy German customer, and three clean ones to learn the language from
    clean = {"country": "DE", "language": "de", "birth_date": date(1990, 1, 1)}
    frame = customers(
        [
            {
                "email": " Ada@Example.COM ",
                "phone": "030 1234567",
                "country": "de",
                "first_name": " Ada ",
            },
            clean,
            clean,
            clean,
            {"phone": "+4915550123456"},
        ]
    )

    result = clean_customers(frame, today=TODAY)

    assert change_of(result, "email_normalise", "email").values == {1: "ada@example.com"}
    assert change_of(result, "country_iso2", "country").values == {1: "DE"}
    # the phone is parsed with the country already normalised
    assert change_of(result, "phone_e164", "phone").values == {1: "+49301234567"}
    assert change_of(result, "text_trim", "first_name").values == {1: "Ada"}
    assert change_of(result, "country_from_phone", "country").values == {5: "DE"}
    assert change_of(result, "impute_group_mode", "language").values == {1: "de", 5: "de"}
    assert change_of(result, "age_band", "age_band").values == {2: "35-44", 3: "35-44", 4: "35-44"}
    assert change_of(result, "impute_median", "age_band").values == {1: "35-44", 5: "35-44"}
    (markers,) = result.bookkeeping
    assert markers.values[5] == {"country": "DE", "language": "de", "age_band": "35-44"}
    assert markers.values[1] == {"language": "de", "age_band": "35-44"}
    assert {change.rule for change in result.changes} <= set(CleaningRule.values)


def test_clean_customers_drops_a_marker_once_a_real_value_arrived():
    frame = customers([{"country": "DE", "language": "en", "imputed_values": {"language": "de"}}])

    result = clean_customers(frame, today=TODAY)

    (superseded,) = [f for f in result.findings if f.rule == "imputed_superseded"]
    assert superseded.values == {1: ["language"]}
    (markers,) = result.bookkeeping
    assert markers.values == {1: {}}


def test_clean_customers_twice_changes_nothing_the_second_time():
    frame = customers([{"email": " A@B.CO ", "country": "de", "phone": "030 1234567"}] * 4)
    first = clean_customers(frame, today=TODAY)
    cleaned = frame.copy()
    for change in [*first.changes, *first.bookkeeping]:
        for row_id, value in change.values.items():
            cleaned.at[row_id, change.field] = value

    second = clean_customers(cleaned, today=TODAY)

    assert second.changes == []
    assert second.bookkeeping == []


def test_clean_products_trims_normalises_imputes_cost_and_bands():
    records = [
        {
            "id": index + 1,
            "sku": f"S{index + 1}",
            "title": "Dress",
            "description": "",
            "currency": "USD",
            "price": Decimal(10 * (index + 1)),
            "cost": Decimal(4 * (index + 1)),
            "category_id": 1,
            "brand_id": index + 1,
            "is_active": True,
            "price_band": "",
            "imputed_values": {},
        }
        for index in range(8)
    ]
    records[0] |= {"title": "  Dress  ", "currency": "usd", "cost": None}
    frame = pd.DataFrame.from_records(records).astype(object)
    frame["id"] = frame["id"].astype(int)
    frame = frame.set_index("id", drop=False).rename_axis(None)

    result = clean_products(frame)

    assert change_of(result, "text_trim", "title").values == {1: "Dress"}
    assert change_of(result, "currency_iso", "currency").values == {1: "USD"}
    cost = change_of(result, "impute_group_median", "cost")
    assert cost.values == {1: 4.0}
    assert cost.parameters["ratios"] == {"1": 0.4}
    assert change_of(result, "price_band", "price_band").values[8] == "premium"
    assert result.bookkeeping[0].values == {1: {"cost": 4.0}}


def test_clean_categories_reports_siblings_with_the_same_tidied_name():
    frame = pd.DataFrame.from_records(
        [
            {"id": 1, "slug": "shoes", "name": "shoes", "parent_id": None},
            {"id": 2, "slug": "shoes-2", "name": "Shoes ", "parent_id": None},
            {"id": 3, "slug": "men-shoes", "name": "Shoes", "parent_id": 9},
        ]
    ).set_index("id", drop=False)

    result = clean_categories(frame)

    assert change_of(result, "category_name_normalise", "name").values == {1: "Shoes", 2: "Shoes"}
    (finding,) = result.findings
    assert (finding.rule, finding.rows, finding.examples) == (
        "duplicate_category_name",
        2,
        [{"ids": ["shoes", "shoes-2"]}],
    )


def test_clean_orders_keeps_foreign_flags_and_clears_its_own_when_fixed():
    frame = orders(
        [
            {"quality_flags": ["manual_review", "total_mismatch"]},
            {"total": Decimal("10"), "subtotal": Decimal("12"), "currency": "eur"},
        ]
    )

    result = clean_orders(frame)

    assert change_of(result, "currency_iso", "currency").values == {2: "EUR"}
    (flags,) = result.bookkeeping
    assert flags.values == {1: ["manual_review"], 2: ["total_mismatch"]}
    (mismatch,) = result.findings
    assert (mismatch.rule, mismatch.values, mismatch.parameters["cleared"]) == (
        "total_mismatch_flag",
        {2: "total_mismatch"},
        1,
    )


def test_customer_invalid_values_and_completeness():
    frame = customers(
        [
            {"email": "nope", "phone": "12", "country": "XX", "birth_date": date(2030, 1, 1)},
            {"email": "Ada@Example.com"},
        ]
    )

    found = {
        (item.field, item.reason): item.count
        for item in customer_invalid_values(frame, today=TODAY)
    }

    assert found == {
        ("email", "not an email address"): 1,
        ("email", "not trimmed or lower-cased"): 1,
        ("phone", "not a possible phone number"): 1,
        ("country", "not an ISO 3166 country"): 1,
        ("birth_date", "in the future or over 120 years ago"): 1,
    }
    assert [item.as_dict() for item in completeness(total=4, filled={"email": 3, "phone": 0})] == [
        {"field": "email", "filled": 3, "percent": 75.0},
        {"field": "phone", "filled": 0, "percent": 0.0},
    ]


def test_duplicates_as_cleaned_normalise_keys_first_without_writing():
    frame = customers(
        [
            {"email": " ADA@example.com", "phone": "030 1234567", "country": "de"},
            {"email": "ada@example.com", "phone": "+49301234567", "country": "DE"},
        ]
    )
    before = frame.copy()

    (group,) = customer_duplicates_as_cleaned(frame).groups

    assert group.keys == {"email": ["ada@example.com"], "phone": ["+49301234567"]}
    assert group.exact is True
    assert frame.equals(before)


def test_currency_invalid_values_from_counts():
    (found,) = currency_invalid_values({"USD": 10, "usd": 2, "XXQ": 3, "dollars": 1})

    assert (found.field, found.count) == ("currency", 4)
    assert found.examples == [
        {"id": "3 rows", "value": "XXQ"},
        {"id": "1 rows", "value": "dollars"},
    ]
