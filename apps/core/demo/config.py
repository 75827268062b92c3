"""The demo shop's configuration as validated, typed values.

Pure: no Django. The service reads `fixtures/demo_shop/*.json` and passes the parsed mappings to
`DemoShopConfig.from_mapping`, which checks every key the engine relies on so that a broken file
fails with one clear line naming the file and the key, not with a KeyError deep in a loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CONFIG_FILES = ("catalog", "customers", "segments", "calendar", "behaviour", "texts")
LANGUAGES = ("en", "zh")
SENTIMENTS = ("positive", "neutral", "negative")


class DemoConfigError(ValueError):
    """A demo shop config file lacks a key or holds a value the engine cannot use."""


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD truth: lambda ~ Gamma(shape r, rate alpha) per day, dropout p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    @property
    def mean_lambda(self) -> float:
        return self.r / self.alpha

    @property
    def mean_p(self) -> float:
        return self.a / (self.a + self.b)

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma truth: order value ~ Gamma(shape p, rate nu), nu ~ Gamma(shape q, rate v)."""

    p: float
    q: float
    v: float

    @property
    def mean_spend(self) -> float:
        return self.p * self.v / (self.q - 1.0)

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "v": self.v}


@dataclass(frozen=True)
class SegmentParams:
    """One latent customer segment and everything that makes it behave differently."""

    name: str
    share: float
    bgnbd: BgNbdParams
    gamma_gamma: GammaGammaParams
    first_purchase_probability: float
    promo_sensitivity: float
    department_multipliers: Mapping[str, float]
    review_multiplier: float
    browse_multiplier: float
    social_multiplier: float


@dataclass(frozen=True)
class DemoShopConfig:
    """Everything the engine needs besides the run's size, seed and dates."""

    catalog: Mapping[str, Any]
    customers: Mapping[str, Any]
    segments: tuple[SegmentParams, ...]
    department_affinity: Mapping[str, Any]
    style_gender_multipliers: Mapping[str, Mapping[str, float]]
    calendar: Mapping[str, Any]
    behaviour: Mapping[str, Any]
    texts: Mapping[str, Any]

    @classmethod
    def from_mapping(cls, files: Mapping[str, Mapping[str, Any]]) -> DemoShopConfig:
        """Validate the parsed config files (keyed by file stem) and build the config."""
        for name in CONFIG_FILES:
            if name not in files:
                raise DemoConfigError(f"demo shop config: missing file {name}.json")
        catalog, customers, segments = files["catalog"], files["customers"], files["segments"]
        calendar, behaviour, texts = files["calendar"], files["behaviour"], files["texts"]
        _require(
            catalog,
            "catalog",
            [
                "shop",
                "products",
                "departments",
                "garments",
                "colours",
                "materials",
                "care",
                "styles",
                "patterns",
                "fits",
                "details",
                "description_closers",
                "tags",
                "brands",
                "brand_tiers",
                "cost_ratio",
                "stock",
                "quality",
                "popularity",
                "launched_days_before_start",
            ],
        )
        _check_catalog(catalog)
        _require(
            customers,
            "customers",
            [
                "countries",
                "names",
                "gender_weights",
                "age",
                "acquisition_channels",
                "acquisition_channels_zh",
                "email_share",
                "phone_share",
                "alias_share",
                "signup_growth",
                "consent",
                "preferred_sizes",
            ],
        )
        for country in customers["countries"]:
            _require(
                country,
                "customers.countries[]",
                [
                    "code",
                    "weight",
                    "language",
                    "utc_offset_hours",
                    "phone_prefix",
                    "phone_format",
                    "email_domains",
                    "cities",
                ],
            )
            if country["language"] not in LANGUAGES:
                raise DemoConfigError(
                    f"customers.json: country {country['code']} has language "
                    f"{country['language']!r}; expected one of {', '.join(LANGUAGES)}"
                )
        _require(
            segments, "segments", ["segments", "department_affinity", "style_gender_multipliers"]
        )
        parsed_segments = tuple(_segment(raw) for raw in segments["segments"])
        if not parsed_segments:
            raise DemoConfigError("segments.json: at least one segment is needed")
        _require(calendar, "calendar", ["monthly", "weekday", "hourly", "promotions"])
        for key, size in (("monthly", 12), ("weekday", 7), ("hourly", 24)):
            values = calendar[key]
            if len(values) != size or min(values) <= 0:
                raise DemoConfigError(f"calendar.json: {key} needs {size} positive numbers")
        for promo in calendar["promotions"]:
            _require(
                promo,
                "calendar.promotions[]",
                ["slug", "name", "days", "multiplier", "discount", "coupon"],
            )
            if not ("rule" in promo or "dates" in promo or ("month" in promo and "day" in promo)):
                raise DemoConfigError(
                    f"calendar.json: promotion {promo['slug']} needs rule, dates or month+day"
                )
        _require(
            behaviour, "behaviour", ["first_purchase", "orders", "browsing", "reviews", "social"]
        )
        for language in LANGUAGES:
            if language not in texts:
                raise DemoConfigError(f"texts.json: missing language {language}")
            _require(
                texts[language], f"texts.{language}", ["occasions", "reviews", "social", "search"]
            )
            for sentiment in SENTIMENTS:
                _require(
                    texts[language]["reviews"][sentiment],
                    f"texts.{language}.reviews.{sentiment}",
                    ["titles", "openers", "aspects", "closers"],
                )
        return cls(
            catalog=catalog,
            customers=customers,
            segments=parsed_segments,
            department_affinity=segments["department_affinity"],
            style_gender_multipliers=segments["style_gender_multipliers"],
            calendar=calendar,
            behaviour=behaviour,
            texts=texts,
        )


def _require(mapping: Mapping[str, Any], where: str, keys: list[str]) -> None:
    missing = [key for key in keys if key not in mapping]
    if missing:
        file = where.split(".")[0]
        raise DemoConfigError(f"{file}.json: {where} lacks {', '.join(missing)}")


def _check_catalog(catalog: Mapping[str, Any]) -> None:
    garments, materials = catalog["garments"], catalog["materials"]
    tiers = catalog["brand_tiers"]
    departments = {department["slug"] for department in catalog["departments"]}
    for department in catalog["departments"]:
        for child in department["children"]:
            _require(
                child,
                "catalog.departments[].children[]",
                [
                    "slug",
                    "name",
                    "gender",
                    "weight",
                    "price",
                    "size_range",
                    "seasons",
                    "garments",
                    "materials",
                ],
            )
            for garment in child["garments"]:
                if garment not in garments:
                    raise DemoConfigError(
                        f"catalog.json: {child['slug']} uses unknown garment {garment}"
                    )
            for material in child["materials"]:
                if material not in materials:
                    raise DemoConfigError(
                        f"catalog.json: {child['slug']} uses unknown material {material}"
                    )
    for brand in catalog["brands"]:
        if brand["tier"] not in tiers:
            raise DemoConfigError(f"catalog.json: brand {brand['name']} has unknown tier")
        unknown = set(brand["departments"]) - departments
        if unknown:
            raise DemoConfigError(
                f"catalog.json: brand {brand['name']} names unknown departments {sorted(unknown)}"
            )
    if int(catalog["products"]) < 20:
        raise DemoConfigError("catalog.json: products must be at least 20")


def _segment(raw: Mapping[str, Any]) -> SegmentParams:
    _require(
        raw,
        "segments.segments[]",
        [
            "name",
            "share",
            "bgnbd",
            "gamma_gamma",
            "first_purchase_probability",
            "promo_sensitivity",
            "department_multipliers",
            "review_multiplier",
            "browse_multiplier",
            "social_multiplier",
        ],
    )
    bgnbd = BgNbdParams(**{key: float(raw["bgnbd"][key]) for key in ("r", "alpha", "a", "b")})
    gamma_gamma = GammaGammaParams(
        **{key: float(raw["gamma_gamma"][key]) for key in ("p", "q", "v")}
    )
    if min(bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b) <= 0:
        raise DemoConfigError(f"segments.json: {raw['name']} BG/NBD parameters must be positive")
    if gamma_gamma.q <= 1 or min(gamma_gamma.p, gamma_gamma.v) <= 0:
        raise DemoConfigError(f"segments.json: {raw['name']} Gamma-Gamma needs p, v > 0 and q > 1")
    return SegmentParams(
        name=str(raw["name"]),
        share=float(raw["share"]),
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        first_purchase_probability=float(raw["first_purchase_probability"]),
        promo_sensitivity=float(raw["promo_sensitivity"]),
        department_multipliers={k: float(v) for k, v in raw["department_multipliers"].items()},
        review_multiplier=float(raw["review_multiplier"]),
        browse_multiplier=float(raw["browse_multiplier"]),
        social_multiplier=float(raw["social_multiplier"]),
    )
