"""Aspect sentiment for product reviews: what a review says about price, quality, size and fit,
delivery and service, each with its own sentiment.

How: a review is split into clauses (`text.sentences`: sentence ends and contrast words, so
"质量很好 but delivery was slow" is two clauses; a clause that names several aspects is also cut
at its commas, as Chinese reviews chain opinions with them: "价格便宜，质量很差"); a clause mentions an aspect when it contains
one of the aspect's terms (English on word boundaries, case-insensitive, with an optional
plural "s"; Chinese by substring, because Chinese has no spaces to bound words). Each clause
that mentions an aspect is scored by the caller's sentiment model, all clauses of all texts
in one call (one batch is much faster than a call per clause). When a review mentions an
aspect in several clauses, their scores are averaged, and the label follows the average with a
neutral band (|score| < 0.2): "the fabric is great. The stitching came loose" is mixed, not
positive.

Why lexicons and clauses rather than a trained aspect model: there is no labelled aspect data
for these shops in both languages, the lexicons are easy to read and extend (`lexicons=`),
and the clause split keeps one aspect's sentiment from leaking into another's in the common
"good X but bad Y" review. What it misses: aspects named without a lexicon term ("it was
here in two days" is about delivery), and a clause that names two aspects gives both the
same sentiment.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from apps.insights.engine.text import sentences

ASPECTS = ("price", "quality", "size_fit", "delivery", "service")
POSITIVE, NEGATIVE, NEUTRAL = "positive", "negative", "neutral"
NEUTRAL_BAND = 0.2

Sentiment = Callable[[Sequence[str]], Sequence[tuple[str, float]]]

LEXICONS: dict[str, tuple[str, ...]] = {
    "price": (
        "price",
        "priced",
        "pricey",
        "expensive",
        "cheap",
        "cheaper",
        "value",
        "value for money",
        "worth",
        "cost",
        "overpriced",
        "bargain",
        "affordable",
        "money",
        "价格",
        "价钱",
        "贵",
        "便宜",
        "性价比",
        "实惠",
        "划算",
        "值这个价",
        "物超所值",
    ),
    "quality": (
        "quality",
        "material",
        "fabric",
        "stitching",
        "durable",
        "fell apart",
        "flimsy",
        "sturdy",
        "well made",
        "poorly made",
        "broke",
        "broken",
        "质量",
        "做工",
        "面料",
        "材质",
        "品质",
        "质感",
        "线头",
        "开线",
        "掉色",
        "起球",
    ),
    "size_fit": (
        "size",
        "sizing",
        "fit",
        "fits",
        "fitted",
        "fitting",
        "tight",
        "loose",
        "runs small",
        "runs large",
        "runs big",
        "too small",
        "too big",
        "too large",
        "尺码",
        "尺寸",
        "码数",
        "偏大",
        "偏小",
        "合身",
        "大小",
        "买大了",
        "买小了",
    ),
    "delivery": (
        "delivery",
        "delivered",
        "shipping",
        "shipped",
        "arrived",
        "arrival",
        "courier",
        "package",
        "packaging",
        "parcel",
        "物流",
        "快递",
        "发货",
        "包装",
        "配送",
        "送货",
        "到货",
    ),
    "service": (
        "customer service",
        "service",
        "seller",
        "refund",
        "return",
        "returned",
        "support",
        "客服",
        "售后",
        "退货",
        "退款",
        "态度",
        "卖家",
        "商家",
        "店家",
    ),
}

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_PIECE = re.compile(r"[^,，、;；]+")


@dataclass(frozen=True)
class AspectMention:
    """An aspect named in a clause of a text, and the lexicon term that named it."""

    aspect: str
    clause: str
    term: str


@dataclass(frozen=True)
class AspectSentiment:
    """The sentiment of one text towards one aspect. `clause` is the clause with the strongest
    score (the quote to show); `clauses` all the clauses that mention the aspect."""

    aspect: str
    label: str
    score: float
    clause: str
    clauses: tuple[str, ...] = ()


@dataclass(frozen=True)
class AspectSummary:
    """An aspect over many reviews: how many mention it, their labels and mean score."""

    mentions: int
    positive: int
    negative: int
    neutral: int
    average_score: float | None


def _pattern(term: str) -> re.Pattern[str]:
    """English: the term between non-letters (so "fit" misses "outfit" and "fitness", and works
    next to Chinese characters, where \\b would not), an optional plural "s", spaces flexible.
    Chinese (any Han character in the term): plain substring."""
    if _HAN.search(term):
        return re.compile(re.escape(term))
    words = r"\s+".join(re.escape(word) for word in term.split())
    return re.compile(rf"(?<![A-Za-z]){words}(?:s|es)?(?![A-Za-z])", re.IGNORECASE)


@functools.lru_cache(maxsize=8)
def _compiled(
    lexicons: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[tuple[str, tuple[tuple[str, re.Pattern[str]], ...]], ...]:
    return tuple(
        (aspect, tuple((term, _pattern(term)) for term in terms if term.strip()))
        for aspect, terms in lexicons
    )


def _lexicon_key(
    lexicons: Mapping[str, Sequence[str]] | None,
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    source = LEXICONS if lexicons is None else lexicons
    return tuple((aspect, tuple(terms)) for aspect, terms in source.items())


def clause_aspects(
    clause: str, lexicons: Mapping[str, Sequence[str]] | None = None
) -> list[tuple[str, str]]:
    """(aspect, term) for each aspect that `clause` names, in lexicon order; the term is the
    one found first in the clause (the longest when two start at the same place)."""
    out: list[tuple[str, str]] = []
    for aspect, patterns in _compiled(_lexicon_key(lexicons)):
        best: tuple[int, int, str] | None = None
        for term, pattern in patterns:
            match = pattern.search(clause)
            if match and (best is None or (match.start(), -len(term)) < (best[0], best[1])):
                best = (match.start(), -len(term), term)
        if best is not None:
            out.append((aspect, best[2]))
    return out


def _comma_parts(
    clause: str, lexicons: Mapping[str, Sequence[str]] | None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """A clause naming several aspects, cut at commas when that separates them: "价格便宜，质量
        很差" is two opinions (Chinese reviews chain them with commas, not "但是"). Parts naming no
        aspect stay with the part before them ("质量很好，穿着舒服" is about quality), or after them
    when they lead."""
    found = clause_aspects(clause, lexicons)
    if len(found) < 2:
        return [(clause, found)]
    spans: list[tuple[int, int, list[tuple[str, str]]]] = []
    for piece in _PIECE.finditer(clause):
        piece_found = clause_aspects(piece.group(), lexicons)
        if spans and (not piece_found or not spans[-1][2]):
            # an aspect-less piece joins its neighbour (the one before, or after when first)
            start, _end, previous_found = spans[-1]
            spans[-1] = (start, piece.end(), previous_found or piece_found)
        else:
            spans.append((piece.start(), piece.end(), piece_found))
    parts = [(clause[start:end].strip(), part_found) for start, end, part_found in spans]
    return [(part, part_found) for part, part_found in parts if part_found]


def aspect_mentions(
    text: str, lexicons: Mapping[str, Sequence[str]] | None = None
) -> list[AspectMention]:
    """Every (aspect, clause) of `text` where the clause names the aspect, in text order.
    Clauses come from `text.sentences`; one that names several aspects is cut at its commas
    when that separates them. `lexicons` replaces the built-in `LEXICONS` (aspect -> terms)."""
    return [
        AspectMention(aspect, part, term)
        for clause in sentences(text or "")
        for part, found in _comma_parts(clause, lexicons)
        for aspect, term in found
    ]


def label_for(score: float) -> str:
    """positive / negative / neutral for a score in [-1, 1], neutral when |score| < 0.2."""
    if score >= NEUTRAL_BAND:
        return POSITIVE
    if score <= -NEUTRAL_BAND:
        return NEGATIVE
    return NEUTRAL


def aspect_sentiments(
    texts: Sequence[str],
    sentiment: Sentiment,
    lexicons: Mapping[str, Sequence[str]] | None = None,
) -> list[list[AspectSentiment]]:
    """Per text, the sentiment towards each aspect it mentions (in order of first mention).

    `sentiment` gets every distinct aspect-bearing clause of every text in one call (none when
    no text mentions an aspect) and returns (label, score in [-1, 1]) per clause, in order.
    A single clause keeps the model's own label; several clauses on one aspect are averaged
    and labelled by `label_for`."""
    mentions = [aspect_mentions(text, lexicons) for text in texts]
    clauses = list(dict.fromkeys(mention.clause for found in mentions for mention in found))
    scored: dict[str, tuple[str, float]] = {}
    if clauses:
        results = list(sentiment(clauses))
        if len(results) != len(clauses):
            raise ValueError(f"sentiment returned {len(results)} results for {len(clauses)} texts")
        scored = {
            clause: (str(label), float(score))
            for clause, (label, score) in zip(clauses, results, strict=True)
        }
    out: list[list[AspectSentiment]] = []
    for found in mentions:
        by_aspect: dict[str, list[str]] = {}
        for mention in found:
            by_aspect.setdefault(mention.aspect, [])
            if mention.clause not in by_aspect[mention.aspect]:
                by_aspect[mention.aspect].append(mention.clause)
        row: list[AspectSentiment] = []
        for aspect, aspect_clauses in by_aspect.items():
            scores = [scored[clause][1] for clause in aspect_clauses]
            strongest = max(aspect_clauses, key=lambda clause: abs(scored[clause][1]))
            if len(aspect_clauses) == 1:
                label, score = scored[aspect_clauses[0]]
            else:
                score = sum(scores) / len(scores)
                label = label_for(score)
            row.append(AspectSentiment(aspect, label, score, strongest, tuple(aspect_clauses)))
        out.append(row)
    return out


def aspect_summary(results: Sequence[Sequence[AspectSentiment]]) -> dict[str, AspectSummary]:
    """Counts and mean score per aspect over many texts (the output of `aspect_sentiments`),
    for product pages. Every built-in aspect is present (zero mentions: average None), then
    any custom aspect that occurs."""
    grouped: dict[str, list[AspectSentiment]] = {aspect: [] for aspect in ASPECTS}
    for row in results:
        for item in row:
            grouped.setdefault(item.aspect, []).append(item)
    out: dict[str, AspectSummary] = {}
    for aspect, items in grouped.items():
        labels = [item.label for item in items]
        average = sum(item.score for item in items) / len(items) if items else None
        out[aspect] = AspectSummary(
            mentions=len(items),
            positive=labels.count(POSITIVE),
            negative=labels.count(NEGATIVE),
            neutral=labels.count(NEUTRAL),
            average_score=average,
        )
    return out
