"""The demo shop engine on its own: pure, deterministic, and true to its latent process."""

from __future__ import annotations

import ast
import json
from collections import Counter
from dataclasses import asdict
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, logsumexp

from apps.core.demo.config import DemoConfigError, DemoShopConfig
from apps.core.demo.engine import DemoShopSimulator, DemoShopSpec, window_start
from apps.core.demo.timeline import RateCurves, black_friday

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "fixtures" / "demo_shop"
END = date(2026, 11, 29)


@pytest.fixture(scope="module")
def config() -> DemoShopConfig:
    return DemoShopConfig.from_mapping(
        {
            path.stem: json.loads(path.read_text(encoding="utf-8"))
            for path in FIXTURES.glob("*.json")
        }
    )


def _simulate(config: DemoShopConfig, *, customers: int, seed: int):
    spec = DemoShopSpec(
        customers=customers, seed=seed, start=window_start(END, 20), end=END, months=20
    )
    simulator = DemoShopSimulator(config, spec)
    chunks = list(simulator.chunks())
    truth = simulator.ground_truth()
    return simulator, chunks, truth, list(truth.customers)


@pytest.fixture(scope="module")
def shop(config):
    return _simulate(config, customers=3000, seed=5)


def test_engine_modules_never_import_django():
    engine_modules = sorted(
        path
        for path in (ROOT / "apps/core/demo").glob("*.py")
        if path.stem not in {"loader", "services"}
    )
    imported = []
    assert len(engine_modules) >= 10
    for path in engine_modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.append(node.module)
    third_party = {name.split(".")[0] for name in imported} - {
        "__future__",
        "apps",
        "bisect",
        "collections",
        "itertools",
        "dataclasses",
        "datetime",
        "math",
        "random",
        "typing",
        "unicodedata",
        "numpy",
    }
    assert third_party == set()
    assert not [name for name in imported if name.startswith("apps.") and ".demo." not in name]


def test_same_seed_gives_the_same_shop(config):
    _, first_chunks, first_truth, first_customers = _simulate(config, customers=1200, seed=3)
    _, second_chunks, second_truth, second_customers = _simulate(config, customers=1200, seed=3)

    assert [asdict(chunk) for chunk in first_chunks] == [asdict(chunk) for chunk in second_chunks]
    assert first_customers == second_customers
    assert first_truth.header == second_truth.header


def test_a_different_seed_gives_a_different_shop(config):
    first, first_chunks, *_ = _simulate(config, customers=300, seed=3)
    second, second_chunks, *_ = _simulate(config, customers=300, seed=4)

    assert first.catalog.products.title != second.catalog.products.title
    assert first_chunks[0].customers.email != second_chunks[0].customers.email
    assert first_chunks[0].orders.total_cents != second_chunks[0].orders.total_cents


def test_truth_counts_every_order_and_none_follows_the_dropout(shop):
    _, chunks, truth, customers = shop
    by_customer: dict[str, list[int]] = {}
    for chunk in chunks:
        for position, placed in zip(chunk.orders.customer, chunk.orders.placed_at, strict=True):
            by_customer.setdefault(chunk.customers.external_id[position], []).append(placed)

    assert sum(len(times) for times in by_customer.values()) == truth.header["counts"]["orders"]
    for record in customers:
        times = by_customer.get(record["external_id"], [])
        assert record["n_orders"] == len(times)
        assert record["alive_at_end"] == (record["dropout_at"] is None)
        if record["dropout_at"] is not None:
            assert len(times) >= 2  # BG/NBD: no dropout right after the first order
            dropout = np.datetime64(record["dropout_at"].rstrip("Z"), "s").astype(np.int64)
            assert max(times) == dropout


def test_segments_keep_their_order_of_purchase_rates(shop):
    _, _, truth, customers = shop
    segments = truth.header["segments"]
    realised = {name: segment["realised"]["mean_orders"] for name, segment in segments.items()}
    by_rate = sorted(segments, key=lambda name: segments[name]["expected"]["mean_lambda_per_day"])

    assert realised["vip"] > realised["regular"] > realised["occasional"]
    assert realised[by_rate[-1]] > 3 * realised[by_rate[0]]
    for segment in segments.values():
        expected = segment["expected"]["mean_lambda_per_day"]
        assert segment["realised"]["mean_lambda_per_day"] == pytest.approx(expected, rel=0.25)
    assert {record["segment"] for record in customers} == set(segments)


def _bgnbd_negative_log_likelihood(log_params, x, t_x, big_t):
    """Fader, Hardie & Lee (2005), per customer: x repeat orders, last at t_x, observed for T."""
    r, alpha, a, b = np.exp(log_params)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive = betaln(a, b + x) - betaln(a, b) + common - (r + x) * np.log(alpha + big_t)
    dropped = np.where(
        x > 0,
        betaln(a + 1, b + np.maximum(x, 1) - 1)
        - betaln(a, b)
        + common
        - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return -np.sum(logsumexp(np.stack([alive, dropped]), axis=0))


def _gamma_gamma_negative_log_likelihood(log_params, x, mean_value):
    p, q, v = np.exp(log_params)
    return -np.sum(
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(mean_value)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * mean_value + v)
    )


def test_bgnbd_and_gamma_gamma_fits_recover_the_segment_truth(shop):
    simulator, chunks, truth, customers = shop
    segment_of = {record["external_id"]: record["segment"] for record in customers}
    orders: dict[str, list[tuple[int, float]]] = {}
    for chunk in chunks:
        o = chunk.orders
        for position, placed, subtotal, discount in zip(
            o.customer, o.placed_at, o.subtotal_cents, o.discount_cents, strict=True
        ):
            external_id = chunk.customers.external_id[position]
            orders.setdefault(external_id, []).append((placed, (subtotal - discount) / 100))
    end = simulator.shop.end_epoch

    for name in ("vip", "regular", "occasional", "bargain_hunter"):
        buyers = [history for key, history in orders.items() if segment_of[key] == name]
        x = np.array([len(h) - 1 for h in buyers], dtype=float)
        t_x = np.array([(h[-1][0] - h[0][0]) / 86400 for h in buyers])
        big_t = np.array([(end - h[0][0]) / 86400 for h in buyers])
        fit = minimize(
            _bgnbd_negative_log_likelihood,
            np.log([1.0, 100.0, 1.0, 5.0]),
            args=(x, t_x, big_t),
            method="Nelder-Mead",
            options={"maxiter": 4000},
        )
        r, alpha, a, b = np.exp(fit.x)
        repeat = [h for h in buyers if len(h) >= 2]
        gg = minimize(
            _gamma_gamma_negative_log_likelihood,
            np.log([2.0, 3.0, 50.0]),
            args=(
                np.array([len(h) for h in repeat], dtype=float),
                np.array([np.mean([value for _, value in h]) for h in repeat]),
            ),
            method="Nelder-Mead",
            options={"maxiter": 4000},
        )
        p, q, v = np.exp(gg.x)
        expected = truth.header["segments"][name]["expected"]

        assert r / alpha == pytest.approx(expected["mean_lambda_per_day"], rel=0.25), name
        assert a / (a + b) == pytest.approx(expected["mean_dropout_p"], abs=0.1), name
        assert p * v / (q - 1) == pytest.approx(expected["mean_spend"], rel=0.15), name


def test_order_values_follow_the_customers_latent_spend(shop):
    _, chunks, _, customers = shop
    latent = {record["external_id"]: record["spend_mean"] for record in customers}
    paid: dict[str, list[float]] = {}
    for chunk in chunks:
        orders = chunk.orders
        for position, subtotal, discount in zip(
            orders.customer, orders.subtotal_cents, orders.discount_cents, strict=True
        ):
            paid.setdefault(chunk.customers.external_id[position], []).append(
                (subtotal - discount) / 100
            )
    regulars = [key for key, values in paid.items() if len(values) >= 4]
    observed = np.array([np.mean(paid[key]) for key in regulars])
    expected = np.array([latent[key] for key in regulars])

    assert len(regulars) > 100
    assert np.corrcoef(observed, expected)[0, 1] > 0.6
    assert np.median(observed / expected) == pytest.approx(1.0, abs=0.2)


def test_event_ids_are_unique_and_sessions_end_in_their_order(shop):
    _, chunks, truth, _ = shop
    event_ids = [event_id for chunk in chunks for event_id in chunk.events.event_id]
    per_customer = truth.header["counts"]["events"] / truth.header["counts"]["customers"]

    assert len(event_ids) == len(set(event_ids)) == truth.header["counts"]["events"]
    assert all(event_id.startswith("demo-5-") for event_id in event_ids)
    assert 20 <= per_customer <= 45
    chunk = chunks[0]
    purchases = [p["order_id"] for p in chunk.events.properties if "order_id" in p]
    marketplace = sum(channel == "marketplace" for channel in chunk.orders.channel)
    assert len(purchases) == len(chunk.orders.external_id) - marketplace
    kinds = Counter(chunk.events.event_type)
    assert kinds["identify"] == len(chunk.customers.external_id)
    assert kinds["remove_from_cart"] > 0 and kinds["search"] > 0


def test_part_of_the_customers_with_an_email_consent_to_marketing(shop):
    _, chunks, _, customers = shop
    emails = [email for chunk in chunks for email in chunk.customers.email]
    consenting = [record["email_marketing_consent"] for record in customers]
    with_email = [flag for flag, email in zip(consenting, emails, strict=True) if email]

    assert 0.8 < len(with_email) / len(emails) < 0.9
    assert 0.45 < sum(with_email) / len(with_email) < 0.75
    assert not any(flag for flag, email in zip(consenting, emails, strict=True) if not email)
    assert all(
        email.split("@")[1].endswith(".example") or email.endswith("example.com")
        for email in emails
        if email
    )


def test_reviews_follow_product_quality_and_vary(shop):
    _, chunks, truth, _ = shop
    products = truth.products
    reviewed = [p for p in products if p["n_reviews"] >= 3]
    quality = np.array([p["quality"] for p in reviewed])
    rating = np.array([p["mean_rating"] for p in reviewed])
    texts = [text for chunk in chunks for text in chunk.reviews.text]
    languages = Counter(language for chunk in chunks for language in chunk.reviews.language)

    assert np.corrcoef(quality, rating)[0, 1] > 0.5
    assert len(set(texts)) / len(texts) > 0.8
    assert set(languages) == {"en", "zh"}
    lines = truth.header["counts"]["order_lines"]
    assert 0.08 < truth.header["counts"]["reviews"] / lines < 0.2


def test_social_posts_are_unique_per_platform_and_follow_sentiment(shop):
    _, chunks, truth, _ = shop
    keys = [(p["platform"], p["external_id"]) for p in truth.social_posts]
    quality = {p["sku"]: p["quality"] for p in truth.products}
    positive = [quality[p["sku"]] for p in truth.social_posts if p["sentiment"] == "positive"]
    negative = [quality[p["sku"]] for p in truth.social_posts if p["sentiment"] == "negative"]
    platforms = {
        (language, platform)
        for chunk in chunks
        for language, platform in zip(
            chunk.social_posts.language, chunk.social_posts.platform, strict=True
        )
    }

    assert len(keys) == len(set(keys))
    assert 0.15 < len(keys) / truth.header["counts"]["customers"] < 0.45
    assert np.mean(positive) > np.mean(negative) + 0.5
    assert {platform for language, platform in platforms if language == "zh"} <= {
        "weibo",
        "xiaohongshu",
    }
    assert {platform for language, platform in platforms if language == "en"} <= {
        "twitter",
        "instagram",
    }


def test_promotions_raise_orders_and_carry_coupons(shop):
    _, chunks, truth, _ = shop
    coupons = Counter(code for chunk in chunks for code in chunk.orders.coupon_code)
    windows = truth.header["parameters"]["promotions"]

    assert {"black-friday", "singles-day", "summer-sale"} <= {w["slug"] for w in windows}
    assert coupons["BF25"] > 0 and coupons["1111-25"] > 0 and coupons["WELCOME10"] > 0


def test_window_start_counts_calendar_months():
    assert window_start(date(2026, 11, 29), 20) == date(2025, 3, 29)
    assert window_start(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert black_friday(2026) == date(2026, 11, 27)
    assert black_friday(2025) == date(2025, 11, 28)


def test_rate_curves_invert_their_cumulative():
    rng = np.random.default_rng(0)
    curves = RateCurves(rng.uniform(0.1, 3.0, size=(3, 24 * 40)))
    group = rng.integers(0, 3, 500)
    t = rng.uniform(0, 24 * 40, 500)

    assert np.allclose(curves.inverse(group, curves.cumulative(group, t)), t)
    assert np.allclose(curves.totals, 40.0)


def test_a_broken_config_names_the_file_and_key(config):
    files = {
        "catalog": dict(config.catalog),
        "customers": dict(config.customers),
        "segments": {"segments": [], "department_affinity": {}, "style_gender_multipliers": {}},
        "calendar": dict(config.calendar),
        "behaviour": dict(config.behaviour),
        "texts": dict(config.texts),
    }
    with pytest.raises(DemoConfigError, match="segments.json"):
        DemoShopConfig.from_mapping(files)
    files["segments"] = {"segments": [{"name": "x"}]}
    with pytest.raises(DemoConfigError, match="segments.json: segments lacks department_affinity"):
        DemoShopConfig.from_mapping(files)
