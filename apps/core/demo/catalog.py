"""The demo shop's catalogue: category tree, brands, products and their latent traits.

Pure: no Django. Besides the rows to insert, every product gets latent values the rest of the
simulation (and the ground-truth file) uses: a quality (drives ratings, review and social
sentiment, refunds and popularity), a popularity weight, a style and a season. `ProductPicker`
chooses products the way a customer would: by department affinity, gender, style, season,
popularity and price.
"""

from __future__ import annotations

import math
import random
import unicodedata
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.core.demo.rows import BrandRows, CatalogRows, CategoryRows, ProductRows
from apps.core.demo.text import ProductWords, product_description

SEASON_NAMES = {"SS": "spring-summer", "AW": "autumn-winter", "ALL": "all-season"}
GENDER_GROUP_FEMALE, GENDER_GROUP_MALE, GENDER_GROUP_ANY = 0, 1, 2
APPAREL_DEPARTMENTS = {"women", "men", "kids"}


def slugify(value: str) -> str:
    ascii_value = (
        unicodedata.normalize("NFKD", value.replace("&", " and "))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_value.lower()).split())


@dataclass
class ProductLatent:
    """Per-product traits that are not columns: arrays indexed like `ProductRows`."""

    department: np.ndarray  # index into CatalogBuild.departments
    category_path: list[str]
    gender: list[str]  # female, male, unisex, kids
    style: np.ndarray  # index into CatalogBuild.styles
    season: list[str]  # SS, AW, ALL
    price_cents: np.ndarray
    quality: np.ndarray
    popularity: np.ndarray
    words: list[ProductWords]


@dataclass
class CatalogBuild:
    rows: CatalogRows
    latent: ProductLatent
    departments: list[str]
    styles: list[str]


def build_catalog(
    config: Mapping[str, Any], *, rng: np.random.Generator, rnd: random.Random, start_epoch: int
) -> CatalogBuild:
    """Generate categories, brands and products from the vocabularies in catalog.json."""
    categories = CategoryRows()
    subcategories: list[tuple[Mapping[str, Any], int, int, str]] = []
    departments = [department["slug"] for department in config["departments"]]
    for number, department in enumerate(config["departments"]):
        root = len(categories.slug)
        categories.slug.append(department["slug"])
        categories.name.append(department["name"])
        categories.parent.append(-1)
        categories.path.append(department["slug"])
        for child in department["children"]:
            local = child["slug"].removeprefix(department["slug"] + "-")
            path = f"{department['slug']}/{local}"
            subcategories.append((child, number, len(categories.slug), path))
            categories.slug.append(child["slug"])
            categories.name.append(child["name"])
            categories.parent.append(root)
            categories.path.append(path)

    brand_configs = config["brands"]
    brands = BrandRows(
        name=[brand["name"] for brand in brand_configs],
        slug=[slugify(brand["name"]) for brand in brand_configs],
    )
    tiers = config["brand_tiers"]
    quality_config = config["quality"]
    brand_sd = float(quality_config["brand_sd"])
    brand_quality = rng.normal(0.0, brand_sd, len(brand_configs))

    weights = np.array([float(child["weight"]) for child, *_ in subcategories])
    counts = _allocate(int(config["products"]), weights)
    styles = list(config["styles"])
    style_weights = [float(config["styles"][style]["weight"]) for style in styles]
    colours, materials, garments = config["colours"], config["materials"], config["garments"]
    patterns = config["patterns"]
    pattern_weights = [float(pattern["weight"]) for pattern in patterns]
    random_tags = config["tags"]["random"]
    cost_low, cost_high = (float(x) for x in config["cost_ratio"])
    stock_config = config["stock"]
    launched_low, launched_high = (int(x) for x in config["launched_days_before_start"])
    currency = config["shop"].get("currency", "USD")

    products = ProductRows()
    department_of, style_of, quality = [], [], []
    gender_of, season_of, paths, words = [], [], [], []
    number = 0
    for (child, department_number, category_index, path), count in zip(
        subcategories, counts, strict=True
    ):
        department = departments[department_number]
        eligible = [
            i for i, brand in enumerate(brand_configs) if department in brand["departments"]
        ]
        eligible_weights = [float(tiers[brand_configs[i]["tier"]]["weight"]) for i in eligible]
        low, high = (float(x) for x in child["price"])
        for _ in range(count):
            number += 1
            brand_index = rnd.choices(eligible, weights=eligible_weights)[0]
            brand = brand_configs[brand_index]
            tier = tiers[brand["tier"]]
            if rnd.random() < 0.7:
                style = rnd.choice(brand["styles"])
            else:
                style = rnd.choices(styles, weights=style_weights)[0]
            garment = garments[rnd.choice(child["garments"])]
            material_key = rnd.choice(child["materials"])
            material = materials[material_key]
            colour = rnd.choice(colours)
            pattern = ""
            if department in APPAREL_DEPARTMENTS:
                pattern = rnd.choices(patterns, weights=pattern_weights)[0]["en"]
            fit = rnd.choice(config["fits"]) if department in APPAREL_DEPARTMENTS else ""
            season = rnd.choice(child["seasons"])
            gender = child["gender"]
            if gender == "unisex":
                gender = rnd.choices(("female", "male", "unisex"), weights=(0.4, 0.35, 0.25))[0]
            adjectives = [
                word for word in config["styles"][style]["adjectives"] if word not in brand["name"]
            ]
            adjective = rnd.choice(adjectives or config["styles"][style]["adjectives"])
            with_material = rnd.random() < 0.5
            title = " ".join(
                part
                for part in (
                    brand["name"],
                    adjective,
                    pattern,
                    colour["en"],
                    material["en"] if with_material else "",
                    garment["en"],
                )
                if part
            )
            mu = (math.log(low) + math.log(high)) / 2
            sigma = (math.log(high) - math.log(low)) / 4
            price = math.exp(rng.normal(mu, sigma)) * float(tier["price_multiplier"])
            price = min(max(price, low * 0.5), high * 2.6)
            price_cents = max(500, int(price) * 100 + rnd.choice((99, 95, 0, 50)))
            tags = [department, style, SEASON_NAMES[season]]
            tags.extend(material.get("tags", []))
            tags.extend(tag for tag, share in random_tags if rnd.random() < float(share))

            products.sku.append(f"DEMO-{department[:2].upper()}{number:04d}")
            products.title.append(title)
            products.description.append(
                product_description(
                    rnd,
                    garment=garment["en"],
                    colour=colour["en"],
                    material=material["en"],
                    pattern=pattern,
                    fit=fit,
                    details=config["details"],
                    closers=config["description_closers"],
                    care=config["care"][material["care"]],
                )
            )
            products.category.append(category_index)
            products.brand.append(brand_index)
            products.price_cents.append(price_cents)
            products.cost_cents.append(int(price_cents * rnd.uniform(cost_low, cost_high)))
            products.currency.append(currency)
            if rnd.random() < float(stock_config["out_of_stock_share"]):
                products.stock.append(0)
            else:
                mean = float(stock_config["mean"])
                products.stock.append(int(rng.negative_binomial(2, 2 / (2 + mean))) + 1)
            products.tags.append(tags)
            products.attributes.append(
                {
                    "colour": colour["en"],
                    "colour_hex": colour["hex"],
                    "material": material["en"],
                    "pattern": pattern or "Solid",
                    "fit": fit or None,
                    "size_range": child["size_range"],
                    "season": SEASON_NAMES[season],
                    "style": style,
                    "gender": gender,
                }
            )
            products.is_active.append(rnd.random() >= float(stock_config["inactive_share"]))
            products.launched_at.append(
                start_epoch - rnd.randint(launched_low * 86400, launched_high * 86400)
            )
            department_of.append(department_number)
            style_of.append(styles.index(style))
            gender_of.append(gender)
            season_of.append(season)
            paths.append(path)
            own = float(rng.normal(0.0, math.sqrt(max(1e-6, 1.0 - brand_sd**2))))
            quality.append(
                float(quality_config["mean"])
                + float(quality_config["sd"]) * (brand_quality[brand_index] + own)
            )
            words.append(
                ProductWords(
                    brand=brand["name"],
                    garment=garment,
                    colour=colour,
                    material=material,
                    style=adjective,
                )
            )

    quality_array = np.array(quality)
    popularity_config = config["popularity"]
    ranks = rng.permutation(len(quality)) + 1.0
    popularity = ranks ** -float(popularity_config["zipf_exponent"]) * np.exp(
        float(popularity_config["quality_effect"]) * quality_array
    )
    latent = ProductLatent(
        department=np.array(department_of),
        category_path=paths,
        gender=gender_of,
        style=np.array(style_of),
        season=season_of,
        price_cents=np.array(products.price_cents, dtype=np.int64),
        quality=quality_array,
        popularity=popularity / popularity.sum(),
        words=words,
    )
    return CatalogBuild(
        rows=CatalogRows(categories=categories, brands=brands, products=products),
        latent=latent,
        departments=departments,
        styles=styles,
    )


def _allocate(total: int, weights: np.ndarray) -> list[int]:
    """Split `total` into integers proportional to `weights` (largest remainder)."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: total - counts.sum()]:
        counts[i] += 1
    return [int(c) for c in counts]


@dataclass(frozen=True)
class _Pool:
    prices: list[int]  # ascending
    cumulative: list[float]  # popularity, inclusive prefix sums in price order
    products: list[int]


class ProductPicker:
    """Chooses products like a shopper: affinity, gender, style, season, popularity, budget."""

    def __init__(self, latent: ProductLatent, *, style_loyalty: float, season_loyalty: float):
        self._latent = latent
        self._style_loyalty = style_loyalty
        self._season_loyalty = season_loyalty
        self._pools: dict[tuple[int, int, int, int], _Pool | None] = {}
        gender = np.array(latent.gender)
        self._gender_ok = {
            GENDER_GROUP_FEMALE: gender != "male",
            GENDER_GROUP_MALE: gender != "female",
            GENDER_GROUP_ANY: np.ones(len(gender), dtype=bool),
        }
        season = np.array(latent.season)
        self._season_ok = {0: season != "AW", 1: season != "SS"}

    def _pool(self, key: tuple[int, int, int, int]) -> _Pool | None:
        if key in self._pools:
            return self._pools[key]
        department, gender_group, style, half = key
        latent = self._latent
        mask = (latent.department == department) & self._gender_ok[gender_group]
        if style >= 0:
            mask &= latent.style == style
        if half >= 0:
            mask &= self._season_ok[half]
        members = np.nonzero(mask)[0]
        pool = None
        if members.size:
            ordered = members[np.argsort(latent.price_cents[members], kind="stable")]
            pool = _Pool(
                prices=latent.price_cents[ordered].tolist(),
                cumulative=np.cumsum(latent.popularity[ordered]).tolist(),
                products=ordered.tolist(),
            )
        self._pools[key] = pool
        return pool

    def pick(
        self,
        rnd: random.Random,
        *,
        department: int,
        gender_group: int,
        style: int,
        half: int,
        limit_cents: float | None = None,
    ) -> int:
        """A product index, or -1 when nothing in the department costs at most the limit."""
        preferred = (
            department,
            gender_group,
            style if rnd.random() < self._style_loyalty else -1,
            half if rnd.random() < self._season_loyalty else -1,
        )
        for key in (preferred, (department, gender_group, -1, -1), (department, 2, -1, -1)):
            pool = self._pool(key)
            if pool is None:
                continue
            count = len(pool.prices)
            if limit_cents is not None:
                count = bisect_right(pool.prices, limit_cents)
            if count == 0:
                continue
            u = rnd.random() * pool.cumulative[count - 1]
            return pool.products[min(bisect_right(pool.cumulative, u, 0, count), count - 1)]
        return -1

    def cheapest(self, rnd: random.Random, *, department: int, gender_group: int) -> int:
        """One of the three cheapest products of a department (for tiny budgets)."""
        pool = self._pool((department, gender_group, -1, -1)) or self._pool((department, 2, -1, -1))
        if pool is None:
            raise ValueError(f"department {department} has no products")
        return pool.products[rnd.randrange(min(3, len(pool.products)))]
