"""Keyword engines: TF-IDF per document, class-based TF-IDF per group, TextRank, KeyBERT-style
MMR over embeddings and trending terms, on English and Chinese reviews. No database."""

from __future__ import annotations

import math
import random
import time

import numpy as np
import pytest

from apps.insights.engine import keywords as kw
from apps.insights.engine import text as txt

DELIVERY = [
    "The delivery was really slow",
    "My package arrived two weeks late",
    "Shipping took forever and the courier lost the parcel",
    "Tracking never updated, the parcel was delayed",
    "Slow delivery, the package came late",
]
FABRIC = [
    "The fabric is soft and the cotton feels thick",
    "Great material, the stitching is durable",
    "Lovely soft fabric, quality cotton",
    "The material feels sturdy and the seams are strong",
    "Thick cotton fabric with neat stitching",
]
WULIU = [
    "物流太慢了，等了一个星期",
    "快递很慢，包裹送到的时候已经晚了",
    "物流信息一直不更新，快递延迟了",
]
ZHILIANG = ["面料很柔软，质量很好", "做工精细，面料厚实舒服", "面料是纯棉的，做工很好"]


def _documents(sentences: list[str], count: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    return [txt.tokens(" ".join(rng.sample(sentences, 2))) for _ in range(count)]


# tfidf_keywords


def test_tfidf_keywords_rank_a_documents_own_terms_above_terms_every_document_has():
    # given three reviews that all say "dress", and one distinctive word each
    documents = [
        ["dress", "slow", "delivery"],
        ["dress", "soft", "fabric"],
        ["dress", "small", "size"],
    ]
    # when
    keywords = kw.tfidf_keywords(documents, top_n=10)
    # then "dress" (in every review) ranks below the review's own words and bigrams (fewer
    # than 10 reviews: bigrams seen once count), equal weights in term order
    assert [term for term, _ in keywords[0]] == [
        "delivery",
        "dress slow",
        "slow",
        "slow delivery",
        "dress",
    ]
    assert [term for term, _ in keywords[1]] == [
        "dress soft",
        "fabric",
        "soft",
        "soft fabric",
        "dress",
    ]
    idf_own, idf_dress = math.log(4 / 2) + 1, math.log(4 / 4) + 1
    norm = math.sqrt(4 * idf_own**2 + idf_dress**2)
    assert keywords[0][0] == ("delivery", round(idf_own / norm, 4))
    assert keywords[0][-1] == ("dress", round(idf_dress / norm, 4))


def test_tfidf_keywords_keep_bigrams_only_when_frequent_enough_in_a_bigger_corpus():
    # given 12 reviews: "slow delivery" in two of them, "odd phrase" in one
    documents = [["slow", "delivery"], ["slow", "delivery", "again"], ["odd", "phrase"]] + [
        ["filler", f"word{i}"] for i in range(9)
    ]
    # when
    keywords = kw.tfidf_keywords(documents, top_n=10)
    # then the repeated bigram is a keyword, the one-off bigram is not
    assert "slow delivery" in [term for term, _ in keywords[0]]
    assert [term for term, _ in keywords[2]] == ["odd", "phrase"]


def test_tfidf_keywords_give_empty_documents_no_keywords_and_weights_are_l2_normalised():
    # given an English corpus with an empty document in the middle
    documents = _documents(DELIVERY, 6, seed=1) + [[]] + _documents(FABRIC, 6, seed=2)
    # when
    keywords = kw.tfidf_keywords(documents, top_n=100)
    # then
    assert len(keywords) == 13
    assert keywords[6] == []
    assert math.isclose(sum(weight**2 for _, weight in keywords[0]), 1.0, abs_tol=1e-3)
    assert kw.tfidf_keywords([]) == []
    assert kw.tfidf_keywords([[], []]) == [[], []]


def test_tfidf_keywords_join_chinese_bigrams_without_a_space():
    # given Chinese reviews about slow logistics
    documents = [txt.tokens(text) for text in WULIU + ["物流太慢了", "物流太慢，差评"]]
    # when
    keywords = kw.tfidf_keywords(documents, top_n=10)
    # then the bigram is written as Chinese writes it
    assert "物流太慢" in [term for term, _ in keywords[0]]


# class_tfidf and group_keywords


def test_class_tfidf_follows_the_bertopic_formula():
    # given two classes over three terms
    counts = np.array([[3.0, 1.0, 0.0], [1.0, 0.0, 4.0]])
    # when
    weights = kw.class_tfidf(counts)
    # then tf (L1 per class) x log(1 + average words per class / term frequency)
    average = 9 / 2
    expected = np.array(
        [
            [3 / 4 * math.log(1 + average / 4), 1 / 4 * math.log(1 + average / 1), 0.0],
            [1 / 5 * math.log(1 + average / 4), 0.0, 4 / 5 * math.log(1 + average / 4)],
        ]
    )
    np.testing.assert_allclose(weights, expected, rtol=1e-12)


def test_group_keywords_find_what_is_distinctive_in_each_group():
    # given delivery complaints and fabric praise, both mentioning "dress"
    groups = {
        "delivery": [doc + ["dress"] for doc in _documents(DELIVERY, 15, seed=3)],
        "fabric": [doc + ["dress"] for doc in _documents(FABRIC, 15, seed=4)],
        "nothing": [],
    }
    # when
    keywords = kw.group_keywords(groups, top_n=3)
    # then each group's top terms are its own; "dress" (everywhere, and each group's most
    # frequent term) is not among them
    assert list(keywords) == ["delivery", "fabric", "nothing"]
    delivery_terms = {term for term, _ in keywords["delivery"]}
    fabric_terms = {term for term, _ in keywords["fabric"]}
    assert delivery_terms <= {"delivery", "slow", "package", "parcel", "late", "slow delivery"}
    assert fabric_terms <= {"fabric", "cotton", "soft", "material", "stitching", "soft fabric"}
    assert len(delivery_terms) == len(fabric_terms) == 3
    assert keywords["nothing"] == []


def test_group_keywords_work_for_chinese_groups_and_empty_input():
    # given Chinese logistics and quality reviews
    groups = {
        "物流": [txt.tokens(text) for text in WULIU * 2],
        "质量": [txt.tokens(text) for text in ZHILIANG * 2],
    }
    # when
    keywords = kw.group_keywords(groups, top_n=3)
    # then
    assert keywords["物流"][0][0] in {"物流", "快递"}
    assert keywords["质量"][0][0] in {"面料", "做工"}
    assert kw.group_keywords({}) == {}
    assert kw.group_keywords({"a": [[]]}) == {"a": []}


# textrank_keywords


def test_textrank_keywords_rank_the_best_connected_english_word_first():
    # given a review where "delivery" is next to almost everything
    text = (
        "Delivery was slow. Slow delivery again, the delivery driver lost the package. "
        "Delivery tracking was wrong and delivery support never answered."
    )
    # when
    keywords = kw.textrank_keywords(text, top_n=5)
    # then
    assert keywords[0] == ("delivery", 1.0)
    assert len(keywords) == 5
    assert all(0 < weight <= 1.0 for _, weight in keywords)
    assert [weight for _, weight in keywords] == sorted(
        (weight for _, weight in keywords), reverse=True
    )


def test_textrank_keywords_use_jieba_for_chinese():
    # given a Chinese review about slow logistics
    text = "物流太慢了，快递员态度也不好。物流信息一直不更新，物流客服也不回复，快递包装还破了。"
    # when
    keywords = kw.textrank_keywords(text, top_n=5)
    # then
    assert keywords[0] == ("物流", 1.0)
    assert all(term not in txt.stop_words() for term, _ in keywords)


def test_textrank_keywords_handle_empty_emoji_only_and_one_word_texts():
    # given / when / then
    assert kw.textrank_keywords("") == []
    assert kw.textrank_keywords("   ") == []
    assert kw.textrank_keywords("the and of") == []
    assert kw.textrank_keywords("😍😍👍") == [
        ("smiling_face_with_heart-eyes", 1.0),
        ("thumbs_up", 1.0),
    ]
    assert kw.textrank_keywords("Delivery") == [("delivery", 1.0)]


def test_textrank_keywords_of_a_single_very_long_document_stay_fast():
    # given a 30,000-word review
    rng = random.Random(5)
    words = [f"word{i}" for i in range(3000)]
    text = " ".join(rng.choice(words) for _ in range(29_000)) + " delivery" * 1000
    # when
    started = time.perf_counter()
    keywords = kw.textrank_keywords(text, top_n=3)
    seconds = time.perf_counter() - started
    # then
    assert keywords[0] == ("delivery", 1.0)
    assert seconds < 5


# candidate_phrases and embedding_keywords


def test_candidate_phrases_are_frequent_unigrams_and_bigrams_by_document_frequency():
    # given 10 reviews
    documents = [["slow", "delivery"]] * 4 + [["soft", "fabric"]] * 3 + [["rare"]] + [["slow"]] * 2
    # when
    candidates = kw.candidate_phrases(documents, max_candidates=5)
    # then (ties by term; "rare" is in one review only)
    assert candidates == ["slow", "delivery", "slow delivery", "fabric", "soft"]
    assert kw.candidate_phrases([["only", "one", "review"]]) == [
        "one",
        "one review",
        "only",
        "only one",
        "review",
    ]
    assert kw.candidate_phrases([]) == []


def test_embedding_keywords_without_diversity_rank_by_similarity():
    # given a document vector and four candidates at known angles
    document = np.array([1.0, 0.0, 0.0])
    candidates = ["delivery", "shipping", "courier", "fabric"]
    vectors = np.array([[0.9, 0.1, 0.0], [0.85, 0.15, 0.0], [0.6, 0.0, 0.8], [0.0, 1.0, 0.0]])
    # when
    keywords = kw.embedding_keywords(document, candidates, vectors, top_n=3, diversity=0.0)
    # then cosine to the document, best first
    assert keywords == [
        ("delivery", round(0.9 / math.hypot(0.9, 0.1), 4)),
        ("shipping", round(0.85 / math.hypot(0.85, 0.15), 4)),
        ("courier", 0.6),
    ]


def test_embedding_keywords_with_diversity_skip_near_duplicates():
    # given the same candidates
    document = np.array([1.0, 0.0, 0.0])
    candidates = ["delivery", "shipping", "courier", "fabric"]
    vectors = np.array([[0.9, 0.1, 0.0], [0.85, 0.15, 0.0], [0.6, 0.0, 0.8], [0.0, 1.0, 0.0]])
    # when
    keywords = kw.embedding_keywords(document, candidates, vectors, top_n=2, diversity=0.5)
    # then "shipping" (almost "delivery") gives way to "courier"
    assert [term for term, _ in keywords] == ["delivery", "courier"]


def test_embedding_keywords_validate_their_input():
    # given / when / then
    assert kw.embedding_keywords(np.ones(3), [], np.zeros((0, 3))) == []
    with pytest.raises(ValueError, match="one row per candidate"):
        kw.embedding_keywords(np.ones(3), ["a", "b"], np.ones((1, 3)))
    with pytest.raises(ValueError, match="diversity"):
        kw.embedding_keywords(np.ones(3), ["a"], np.ones((1, 3)), diversity=1.5)
    with pytest.raises(ValueError, match="dimensions"):
        kw.embedding_keywords(np.ones(4), ["a"], np.ones((1, 3)))


@pytest.fixture(scope="module")
def embedder():
    from apps.insights.engine import encoder

    return encoder.embedder_get("cpu")


def test_embedding_keywords_with_the_real_encoder_describe_english_and_chinese_reviews(embedder):
    # given a delivery complaint, a fabric review, and their candidate phrases
    reviews = [
        "The courier lost my parcel and the shipping took three weeks.",
        "面料很柔软，做工很好",
    ]
    candidates = ["slow delivery", "soft fabric", "size chart", "price", "物流", "面料质量"]
    vectors = embedder.embed(candidates)
    documents = embedder.embed(reviews)
    # when
    english = kw.embedding_keywords(documents[0], candidates, vectors, top_n=1)
    chinese = kw.embedding_keywords(documents[1], candidates, vectors, top_n=1)
    # then
    assert english[0][0] in {"slow delivery", "物流"}
    assert chinese[0][0] in {"面料质量", "soft fabric"}


# trending_keywords


def test_trending_keywords_find_a_term_new_this_week_with_its_statistics():
    # given last week's 20 reviews without "refund" and this week's 20, five asking for one
    previous = [["dress", "nice"]] * 20
    current = [["dress", "refund"]] * 5 + [["dress", "nice"]] * 15
    # when
    trends = kw.trending_keywords(current, previous, min_count=3)
    # then the term and its bigram, equal, in term order
    pooled = 5 / 40
    z = (5 / 20 - 0) / math.sqrt(pooled * (1 - pooled) * (1 / 20 + 1 / 20))
    assert trends == [
        kw.Trend(
            term="dress refund",
            current_count=5,
            previous_count=0,
            current_share=0.25,
            previous_share=0.0,
            change=round((6 / 21) / (1 / 21), 4),
            z=round(z, 4),
            is_new=True,
        ),
        kw.Trend(
            term="refund",
            current_count=5,
            previous_count=0,
            current_share=0.25,
            previous_share=0.0,
            change=round((6 / 21) / (1 / 21), 4),
            z=round(z, 4),
            is_new=True,
        ),
    ]


def test_trending_keywords_rank_by_z_and_drop_falling_and_rare_terms():
    # given 100 reviews a week: "late" 10 -> 30, "size" 1 -> 4, "soft" 40 -> 20, "odd" 0 -> 2
    def week(counts: dict[str, int]) -> list[list[str]]:
        documents: list[list[str]] = [[] for _ in range(100)]
        for term, count in counts.items():
            for index in range(count):
                documents[index].append(term)
        return documents

    previous = week({"late": 10, "size": 1, "soft": 40})
    current = week({"late": 30, "size": 4, "soft": 20, "odd": 2})
    # when
    trends = kw.trending_keywords(current, previous, min_count=3, bigrams=False)
    # then "late" has more evidence than "size"; "soft" fell, "odd" is too rare
    assert [
        (trend.term, trend.current_count, trend.previous_count, trend.is_new) for trend in trends
    ] == [
        ("late", 30, 10, False),
        ("size", 4, 1, False),
    ]
    assert trends[0].z > trends[1].z > 0
    assert trends[0].change == round((31 / 101) / (11 / 101), 4)


def test_trending_keywords_need_a_previous_period_and_handle_chinese():
    # given Chinese reviews: 快递 complaints appear this week
    previous = [txt.tokens(text) for text in ZHILIANG * 4]
    current = [txt.tokens(text) for text in WULIU * 2 + ZHILIANG * 2]
    # when
    trends = kw.trending_keywords(current, previous, min_count=2, bigrams=False)
    # then
    assert {trend.term for trend in trends} >= {"物流", "快递"}
    assert all(trend.is_new for trend in trends)
    assert kw.trending_keywords(current, []) == []
    assert kw.trending_keywords([], previous) == []
