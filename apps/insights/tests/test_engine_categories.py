"""Custom categories defined by examples: multi-label matching by mean top-3 similarity in the
corrected embedding space, the default threshold measured on hand-written English and Chinese
examples, and the examples check the UI shows before a category is saved."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from apps.insights.engine.categories import (
    DEFAULT_THRESHOLD,
    CategoryCheck,
    CategoryClassifier,
    CategoryMatch,
    CategorySpec,
    examples_check,
    specs_validate,
    top_k_mean,
)
from apps.insights.engine.encoder import embedder_get

SPECS = (
    CategorySpec(
        "complaint",
        (
            "Terrible product, broke on the first day",
            "Customer service was rude and unhelpful",
            "Not worth the money at all, very poor quality",
            "The colour is completely different from the photos, very disappointed",
            "质量太差了，用了两天就坏",
            "客服态度很差，问什么都不回",
            "完全不值这个价，后悔买了",
            "实物和图片严重不符",
        ),
    ),
    CategorySpec(
        "praise",
        (
            "Excellent quality, highly recommend",
            "Love it, fits perfectly and looks great",
            "Great value for money, will buy again",
            "The seller was super helpful and friendly",
            "质量非常好，强烈推荐",
            "很喜欢，做工精致",
            "性价比超高，还会回购",
            "客服很耐心，服务一流",
        ),
    ),
    CategorySpec(
        "question",
        (
            "Does this come in a larger size?",
            "How long does shipping to Canada take?",
            "Is this dishwasher safe?",
            "Can I return it if it doesn't fit?",
            "请问有没有黑色的？",
            "这个可以机洗吗？",
            "什么时候发货？",
            "请问保修多久？",
        ),
    ),
    CategorySpec(
        "delivery_issue",
        (
            "My package still hasn't arrived after three weeks",
            "The courier left the parcel in the rain and it got soaked",
            "Tracking hasn't updated in ten days",
            "The box arrived crushed and the item was damaged",
            "快递一直不更新，到现在还没收到",
            "物流太慢了，等了半个月",
            "包装破损，东西摔坏了",
            "快递员没送货上门就显示签收了",
        ),
    ),
)

# Texts that are not examples: (text, categories it should match, categories it may match).
QUERIES = (
    ("Awful, the zipper broke after one use", {"complaint"}, set()),
    ("这衣服掉色严重，太坑了", {"complaint"}, set()),
    ("Seller ignored my messages for a week", {"complaint"}, set()),
    ("Amazing headphones, the sound is fantastic", {"praise"}, set()),
    ("超级好看，朋友都问我在哪买的", {"praise"}, set()),
    ("Very comfortable, my new favourite shoes", {"praise"}, set()),
    ("Is there a warranty on this?", {"question"}, set()),
    ("这款有大码吗？", {"question"}, set()),
    ("Will it work with an iPhone 15?", {"question"}, set()),
    ("Where is my order? It's been two weeks", {"question", "delivery_issue"}, {"complaint"}),
    ("Parcel was delivered to the wrong address", {"delivery_issue"}, {"complaint"}),
    ("快递三天了还在同一个地方", {"delivery_issue"}, {"complaint"}),
    ("外箱被压扁了，里面的杯子碎了", {"delivery_issue"}, {"complaint"}),
    ("I bought it for my sister", set(), set()),
    ("It comes with two batteries", set(), set()),
    ("这是我第二次在这家店买", set(), set()),
    ("颜色是深蓝色的", set(), set()),
    ("Ordered on Monday", set(), set()),
    ("今天天气不错", set(), set()),
)


class CountingEmbed:
    """The real encoder, counting calls and texts."""

    def __init__(self, embed) -> None:
        self.embed = embed
        self.calls = 0
        self.texts = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        return self.embed(texts)


class CachedEmbed:
    """The real encoder with a per-module memo, so the many classifiers built here do not
    embed the same background and examples again (the CPU is slow)."""

    def __init__(self) -> None:
        self.embedder = embedder_get()
        self.vectors: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.embedder.embed(missing), strict=True))
        return np.stack([self.vectors[text] for text in texts]) if texts else np.zeros((0, 384))


@pytest.fixture(scope="module")
def embed():
    return CachedEmbed()


@pytest.fixture(scope="module")
def classifier(embed):
    return CategoryClassifier(SPECS, embed)


# ---------------------------------------------------------------------------- measured
def test_examples_check_leave_one_out(embed):
    # when
    checks = examples_check(SPECS, embed)

    # then measured: 30 of 32 examples are closest to their own category when left out (two
    # Chinese questions drift towards delivery); complaint and delivery issue resemble each
    # other most, as they should
    assert list(checks) == ["complaint", "praise", "question", "delivery_issue"]
    correct = sum(check.leave_one_out_accuracy * check.examples for check in checks.values())
    assert round(correct) >= 29
    assert checks["praise"].leave_one_out_accuracy == 1.0
    assert checks["complaint"].nearest_other_category == "delivery_issue"
    assert checks["delivery_issue"].nearest_other_category == "complaint"
    assert all(check.examples == 8 for check in checks.values())


def test_default_threshold_on_texts_that_are_not_examples(classifier, embed):
    # given the 19 queries: 14 (text, category) pairs that should match, 58 that should not
    results = classifier.classify(embed([text for text, _, _ in QUERIES]))

    # when
    hits = misses = false_matches = 0
    for (_text, wanted, allowed), matches in zip(QUERIES, results, strict=True):
        names = {match.name for match in matches}
        hits += len(wanted & names)
        misses += len(wanted - names)
        false_matches += len(names - wanted - allowed)

    # then measured at 0.20: 13 hits, 1 miss ("这款有大码吗？", 0.15), 2 false matches (a
    # broken zipper and an ignored seller also look like delivery issues)
    assert DEFAULT_THRESHOLD == 0.20
    assert hits + misses == 14
    assert hits >= 12
    assert false_matches <= 3


# ---------------------------------------------------------------------------- classify
def test_clear_texts_in_both_languages(classifier):
    # when
    results = classifier.classify_texts(
        [
            "请问什么时候能发货？",
            "Parcel was delivered to the wrong address",
            "It comes with two batteries",
        ]
    )

    # then
    assert [[match.name for match in matches] for matches in results] == [
        ["question"],
        ["delivery_issue", "complaint"],
        [],
    ]


def test_multi_label_sorted_best_first(classifier):
    # when
    [matches] = classifier.classify_texts(["Where is my order? It's been two weeks"])

    # then a question about a late parcel is both
    assert [match.name for match in matches] == ["delivery_issue", "question"]
    assert matches[0].similarity >= matches[1].similarity >= DEFAULT_THRESHOLD


def test_mixed_language_review_matches_praise_and_complaint(classifier):
    # when
    [matches] = classifier.classify_texts(["质量很好 but delivery was slow"])

    # then it praises and complains at once, and is no question
    assert {match.name for match in matches} >= {"complaint", "praise"}
    assert "question" not in {match.name for match in matches}


def test_empty_text_matches_nothing_without_embedding(embed):
    # given
    counting = CountingEmbed(embed)
    classifier = CategoryClassifier(SPECS, counting)

    # when
    results = classifier.classify_texts(["", "   "])

    # then
    assert results == [[], []]
    assert counting.calls == 0


def test_emoji_only_text_is_closest_to_praise(classifier, embed):
    # when
    [row] = classifier.similarities(embed(["😍😍😍"]))

    # then
    assert int(np.argmax(row)) == 1  # praise
    assert row[0] < DEFAULT_THRESHOLD  # not a complaint


def test_very_long_text(classifier):
    # given a rant repeated far beyond the encoder's 128 tokens
    text = "The courier threw my parcel over the fence and it broke. " * 30

    # when
    [matches] = classifier.classify_texts([text])

    # then
    assert [match.name for match in matches][:1] == ["delivery_issue"]


def test_examples_embedded_once_with_the_background(embed):
    # given
    counting = CountingEmbed(embed)
    classifier = CategoryClassifier(SPECS, counting)

    # when
    classifier.classify(embed(["Is this waterproof?"]))
    classifier.classify(embed(["Love it"]))

    # then one call: 40 background texts and 32 examples
    assert counting.calls == 1
    assert counting.texts == 72


def test_threshold_is_per_category(embed):
    # given an unreachable threshold on praise
    specs = (CategorySpec("praise", SPECS[1].examples, threshold=1.0), SPECS[0])
    classifier = CategoryClassifier(specs, embed)

    # when
    [matches] = classifier.classify_texts(["Amazing headphones, the sound is fantastic"])

    # then
    assert matches == []


def test_single_example_category(embed):
    # given a category with one example
    classifier = CategoryClassifier(
        [CategorySpec("gift", ("Bought it as a birthday gift",))], embed
    )

    # when
    results = classifier.classify_texts(
        ["Perfect present for my mum's birthday", "送给朋友的生日礼物", "The zipper broke"]
    )

    # then
    assert [[match.name for match in matches] for matches in results] == [["gift"], ["gift"], []]
    checks = examples_check([CategorySpec("gift", ("Bought it as a birthday gift",))], embed)
    assert checks == {"gift": CategoryCheck(1, None, None, None, None)}


def test_raw_cosines_without_background(embed):
    # given the same categories compared by raw e5 cosines
    raw = CategoryClassifier(SPECS, embed, background=())

    # when
    [row] = raw.similarities(embed(["Ordered on Monday"]))

    # then everything looks alike (the reason for the corrected space)
    assert row.min() > 0.75


def test_no_texts(classifier):
    assert classifier.classify(np.zeros((0, 384), dtype=np.float32)) == []


def test_confusable_categories_are_reported(embed):
    # given a "late parcel" category whose examples read like the delivery issues
    specs = (
        SPECS[3],
        CategorySpec(
            "late_parcel",
            (
                "My parcel is late",
                "Still waiting for my package",
                "快递好慢，还没到",
                "物流一直没动",
            ),
        ),
        SPECS[1],
    )

    # when
    checks = examples_check(specs, embed)

    # then
    assert checks["late_parcel"].nearest_other_category == "delivery_issue"
    assert (
        checks["late_parcel"].nearest_other_similarity > checks["praise"].nearest_other_similarity
    )


# ---------------------------------------------------------------------------- pieces
def test_top_k_mean_by_hand():
    # given
    sims = np.array([[0.1, 0.9, 0.5, 0.7], [0.2, 0.4, -1.0, 0.0]])

    # then top 3 of each row, and all of a row shorter than 3
    assert top_k_mean(sims).tolist() == pytest.approx([0.7, 0.2])
    assert top_k_mean(sims[:, :2]).tolist() == pytest.approx([0.5, 0.3])


def test_match_is_a_value():
    assert CategoryMatch("praise", 0.3) == CategoryMatch("praise", 0.3)


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ((CategorySpec("a", ("x",)), CategorySpec("a", ("y",))), "duplicate"),
        ((CategorySpec(" ", ("x",)),), "needs a name"),
        ((CategorySpec("a", ("  ",)),), "at least one example"),
        ((CategorySpec("a", ("x",), threshold=1.5),), "threshold"),
    ],
)
def test_invalid_specs_raise(specs, message):
    with pytest.raises(ValueError, match=message):
        specs_validate(specs)
