"""Aspect sentiment: lexicon mentions per clause (English on word boundaries, Chinese by
substring), one batched sentiment call, averaging of several clauses, product summaries."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from apps.insights.engine.aspects import (
    ASPECTS,
    AspectMention,
    AspectSentiment,
    AspectSummary,
    aspect_mentions,
    aspect_sentiments,
    aspect_summary,
    label_for,
)

# A test double for the sentiment model's interface: counts words from two small lists.
POSITIVE_WORDS = ("great", "good", "love", "fast", "perfect", "soft", "好", "喜欢", "快", "不错")
NEGATIVE_WORDS = ("slow", "bad", "terrible", "thin", "rude", "tight", "慢", "差", "坏", "紧")


def word_sentiment(texts: Sequence[str]) -> list[tuple[str, float]]:
    out = []
    for text in texts:
        lowered = text.lower()
        positive = sum(lowered.count(word) for word in POSITIVE_WORDS)
        negative = sum(lowered.count(word) for word in NEGATIVE_WORDS)
        score = (positive - negative) / max(1, positive + negative)
        out.append((label_for(score), score))
    return out


class RecordingSentiment:
    """The word-list double, remembering every batch it was given."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        self.calls.append(list(texts))
        return word_sentiment(texts)


# ---------------------------------------------------------------------------- mentions
def test_english_mentions_per_clause():
    # given
    text = "The price is great but the fabric feels thin. Shipping took ages!"

    # when
    mentions = aspect_mentions(text)

    # then
    assert mentions == [
        AspectMention("price", "The price is great", "price"),
        AspectMention("quality", "the fabric feels thin", "fabric"),
        AspectMention("delivery", "Shipping took ages!", "shipping"),
    ]


def test_chinese_mentions_by_substring():
    # given
    text = "价格便宜，质量也不错。物流太慢了"

    # when
    mentions = aspect_mentions(text)

    # then the sentence naming price and quality is cut at its comma (clauses are cleaned
    # text: NFKC makes the full-width comma a plain one)
    assert mentions == [
        AspectMention("price", "价格便宜", "价格"),
        AspectMention("quality", "质量也不错", "质量"),
        AspectMention("delivery", "物流太慢了", "物流"),
    ]


def test_english_needs_word_boundaries_and_ignores_case():
    # given "fit" inside other words, and shouting
    assert aspect_mentions("The outfit is lovely and fitness fans will like it") == []

    # when / then
    assert aspect_mentions("SHIPPING WAS FAST") == [
        AspectMention("delivery", "SHIPPING WAS FAST", "shipping")
    ]


def test_plurals_and_phrases():
    # given
    text = "Prices went up again. Returns are easy. It runs small"

    # when
    mentions = aspect_mentions(text)

    # then
    assert [(m.aspect, m.term) for m in mentions] == [
        ("price", "price"),
        ("service", "return"),
        ("size_fit", "runs small"),
    ]


def test_english_term_next_to_chinese_characters():
    # given no space between the Chinese and the English word
    mentions = aspect_mentions("衣服很好看delivery太慢")

    # then
    assert [(m.aspect, m.term) for m in mentions] == [("delivery", "delivery")]


def test_no_mentions_in_empty_emoji_or_off_topic_text():
    assert aspect_mentions("") == []
    assert aspect_mentions("😍😍😍") == []
    assert aspect_mentions("My daughter wore it to the party") == []


def test_custom_lexicon_replaces_the_built_in_one():
    # given a shop that cares about batteries
    lexicons = {"battery": ("battery", "电池")}

    # when
    mentions = aspect_mentions("Battery life is short. 电池不耐用. Price is fine", lexicons)

    # then price is not in this lexicon
    assert [(m.aspect, m.clause) for m in mentions] == [
        ("battery", "Battery life is short"),
        ("battery", "电池不耐用"),
    ]


# ---------------------------------------------------------------------------- sentiment
def test_mixed_language_review_splits_into_two_aspects():
    # given
    sentiment = RecordingSentiment()

    # when
    results = aspect_sentiments(["质量很好 but delivery was slow"], sentiment)

    # then
    assert sentiment.calls == [["质量很好", "delivery was slow"]]
    assert results == [
        [
            AspectSentiment("quality", "positive", 1.0, "质量很好", ("质量很好",)),
            AspectSentiment(
                "delivery", "negative", -1.0, "delivery was slow", ("delivery was slow",)
            ),
        ]
    ]


def test_all_clauses_of_all_texts_go_in_one_call():
    # given three reviews, one of them without any aspect, and a clause repeated across texts
    sentiment = RecordingSentiment()
    texts = ["Great price. Customer service was rude", "I love it", "Great price"]

    # when
    results = aspect_sentiments(texts, sentiment)

    # then one call with each distinct aspect clause once
    assert sentiment.calls == [["Great price", "Customer service was rude"]]
    assert [[(r.aspect, r.label) for r in row] for row in results] == [
        [("price", "positive"), ("service", "negative")],
        [],
        [("price", "positive")],
    ]


def test_several_clauses_on_one_aspect_are_averaged():
    # given quality praised once and criticised once, and size praised once and neutral once
    texts = ["The fabric is great. The stitching is terrible. Size is perfect. Size M"]

    # when
    [row] = aspect_sentiments(texts, word_sentiment)

    # then quality averages to 0 (neutral); size averages to 0.5 (positive)
    assert row == [
        AspectSentiment(
            "quality",
            "neutral",
            0.0,
            "The fabric is great",
            ("The fabric is great", "The stitching is terrible"),
        ),
        AspectSentiment(
            "size_fit", "positive", 0.5, "Size is perfect", ("Size is perfect", "Size M")
        ),
    ]


def test_single_clause_keeps_the_models_label():
    # given a model that calls a mildly positive clause neutral
    def cautious(texts: Sequence[str]) -> list[tuple[str, float]]:
        return [("neutral", 0.3) for _ in texts]

    # when
    [row] = aspect_sentiments(["The price is okay"], cautious)

    # then
    assert row == [
        AspectSentiment("price", "neutral", 0.3, "The price is okay", ("The price is okay",))
    ]


def test_texts_without_aspects_never_call_the_model():
    # given
    sentiment = RecordingSentiment()

    # when
    results = aspect_sentiments(["", "😍😍😍", "I love it"], sentiment)

    # then
    assert results == [[], [], []]
    assert sentiment.calls == []


def test_very_long_review_is_still_one_call():
    # given 300 distinct sentences about price and one about delivery
    text = " ".join(f"Week {index}: the price is great." for index in range(300))
    text += " The courier was slow."
    sentiment = RecordingSentiment()

    # when
    [row] = aspect_sentiments([text], sentiment)

    # then
    assert len(sentiment.calls) == 1
    assert len(sentiment.calls[0]) == 301
    assert [(r.aspect, r.label, r.score, len(r.clauses)) for r in row] == [
        ("price", "positive", 1.0, 300),
        ("delivery", "negative", -1.0, 1),
    ]


def test_sentiment_returning_the_wrong_count_raises():
    def broken(texts: Sequence[str]) -> list[tuple[str, float]]:
        return []

    with pytest.raises(ValueError, match="0 results for 1 texts"):
        aspect_sentiments(["Great price"], broken)


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (0.2, "positive"),
        (0.19, "neutral"),
        (-0.19, "neutral"),
        (-0.2, "negative"),
        (0.0, "neutral"),
    ],
)
def test_label_neutral_band(score, label):
    assert label_for(score) == label


# ---------------------------------------------------------------------------- summary
def test_summary_counts_and_averages_per_aspect():
    # given four reviews of one product
    texts = [
        "Great price but delivery was slow",
        "价格不错，物流很快",
        "Bad price",
        "I love it",
    ]
    results = aspect_sentiments(texts, word_sentiment)

    # when
    summary = aspect_summary(results)

    # then every built-in aspect is present, unmentioned ones with no average
    assert list(summary) == list(ASPECTS)
    assert summary["price"] == AspectSummary(
        mentions=3, positive=2, negative=1, neutral=0, average_score=pytest.approx(1 / 3)
    )
    assert summary["delivery"] == AspectSummary(
        mentions=2, positive=1, negative=1, neutral=0, average_score=0.0
    )
    assert summary["quality"] == AspectSummary(0, 0, 0, 0, None)


def test_summary_of_nothing():
    assert aspect_summary([]) == {aspect: AspectSummary(0, 0, 0, 0, None) for aspect in ASPECTS}


def test_chinese_comma_chain_is_cut_between_aspects():
    # given two opinions joined by commas, with an aspect-less part on each side
    text = "说实话，价格便宜，质量很差，穿了一次就坏了"

    # when
    mentions = aspect_mentions(text)

    # then each aspect keeps its own part; the aspect-less parts stay with a neighbour
    assert mentions == [
        AspectMention("price", "说实话,价格便宜", "价格"),
        AspectMention("quality", "质量很差,穿了一次就坏了", "质量"),
    ]


def test_comma_chain_gives_each_aspect_its_own_sentiment():
    # when
    [row] = aspect_sentiments(["物流很快，质量很差"], word_sentiment)

    # then
    assert [(r.aspect, r.label) for r in row] == [("delivery", "positive"), ("quality", "negative")]
