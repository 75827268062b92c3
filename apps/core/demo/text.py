"""Generated text of the demo shop: product copy, reviews, social posts and search queries.

Pure: no Django. Texts are assembled from the phrase banks in `fixtures/demo_shop/texts.json`
(an opener, one or two aspect sentences and a closer, each drawn independently), so two reviews
of the same sentiment rarely read the same while the sentiment stays unambiguous for a model.
Uses a `random.Random` passed in by the engine: per-row string choices are 20x faster than
numpy scalar draws, and the engine seeds it from the run's `SeedSequence`, so output stays
deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProductWords:
    """The words a text may use about one product, per language."""

    brand: str
    garment: Mapping[str, str]
    colour: Mapping[str, str]
    material: Mapping[str, str]
    style: str


class TextBank:
    """Builds sentences from the phrase banks of one shop."""

    def __init__(self, texts: Mapping[str, Any], shop: Mapping[str, str]) -> None:
        self._texts = texts
        self._shop = shop

    def _values(self, rnd: random.Random, language: str, words: ProductWords) -> dict[str, str]:
        lower = language == "en"
        return {
            "garment": words.garment[language].lower() if lower else words.garment[language],
            "colour": words.colour[language].lower() if lower else words.colour[language],
            "material": words.material[language].lower() if lower else words.material[language],
            "brand": words.brand,
            "style": words.style.lower(),
            "shop": self._shop["name"] if language == "en" else self._shop.get("name_zh", ""),
            "handle": self._shop["handle"],
            "occasion": rnd.choice(self._texts[language]["occasions"]),
        }

    def review(
        self, rnd: random.Random, language: str, sentiment: str, words: ProductWords
    ) -> tuple[str, str]:
        """A (title, text) pair written in `language` with the given sentiment."""
        bank = self._texts[language]["reviews"][sentiment]
        values = self._values(rnd, language, words)
        aspects = rnd.sample(bank["aspects"], k=min(len(bank["aspects"]), rnd.choice((1, 2, 2))))
        parts = [rnd.choice(bank["openers"]), *aspects, rnd.choice(bank["closers"])]
        joiner = " " if language == "en" else ""
        text = joiner.join(part for part in parts if part).format(**values)
        return rnd.choice(bank["titles"]).format(**values), text

    def social(
        self, rnd: random.Random, language: str, sentiment: str, platform: str, words: ProductWords
    ) -> str:
        """A post for `platform`; Weibo topics are written #like this#, elsewhere #likethis."""
        bank = self._texts[language]["social"]
        tags = rnd.sample(bank["hashtags"][sentiment], k=min(3, rnd.randint(1, 3)))
        if platform == "weibo":
            tags = [f"#{tag.strip('#')}#" for tag in tags]
        values = self._values(rnd, language, words)
        values["emoji"] = rnd.choice(bank["emoji"][sentiment])
        values["hashtags"] = " ".join(tags)
        text = rnd.choice(bank[sentiment]).format(**values)
        return " ".join(text.split())

    def search_query(self, rnd: random.Random, language: str, words: ProductWords) -> str:
        values = self._values(rnd, language, words)
        query = rnd.choice(self._texts[language]["search"]).format(**values)
        return query.lower() if language == "en" else query


def product_description(
    rnd: random.Random,
    *,
    garment: str,
    colour: str,
    material: str,
    pattern: str,
    fit: str,
    details: Sequence[str],
    closers: Sequence[str],
    care: str,
) -> str:
    """Shop copy for one product: what it is, how it is finished, how it wears, how to care."""
    first, second = rnd.sample(list(details), k=2)
    what = f"{pattern.lower()} {colour.lower()}".strip()
    item, fabric = garment.lower(), material.lower()
    openers = [
        f"{_article(what).capitalize()} {what} {item} in {fabric}, finished with {first} and {second}.",
        f"Made from {fabric} in {what}, with {first}.",
    ]
    if fit:
        openers.append(
            f"Cut for {_article(fit)} {fit} fit in {what} {fabric} and finished with {first}."
        )
    opener = rnd.choice(openers)
    return " ".join((opener, rnd.choice(list(closers)), care))


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"
