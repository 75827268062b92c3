"""Topic engines: LDA with k chosen by coherence, saving and scoring new documents, and
embedding clustering, on English and Chinese reviews with three clearly separated themes
(delivery, fabric quality, sizing). No database."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from apps.insights.engine import text as txt
from apps.insights.engine import topics as tp

ENGLISH = {
    "delivery": [
        "The delivery was really slow",
        "My package arrived two weeks late",
        "Shipping took forever and the courier lost the parcel",
        "Tracking never updated, the parcel was delayed",
        "Slow delivery, the package came late",
        "The courier delivered the parcel to the wrong address",
    ],
    "fabric": [
        "The fabric is soft and the cotton feels thick",
        "Great material, the stitching is durable",
        "Lovely soft fabric, quality cotton",
        "The material feels sturdy and the seams are strong",
        "Thick cotton fabric with neat stitching",
        "Soft material, the stitching is neat",
    ],
    "sizing": [
        "The size runs small, order a size up",
        "Too tight around the waist",
        "The sleeves are too long and the fit is loose",
        "Check the size chart, the waist measurements are off",
        "Runs small in the shoulders, size up",
        "The waist fits but the sleeves are tight",
    ],
}
CHINESE = {
    "物流": [
        "物流太慢了，等了一个星期",
        "快递很慢，包裹送到的时候已经晚了",
        "发货速度太慢，快递员态度也差",
        "物流信息一直不更新，快递延迟了",
        "快递包裹到货很慢",
        "物流速度慢，包裹晚到了三天",
    ],
    "质量": [
        "面料很柔软，质量很好",
        "做工精细，面料厚实舒服",
        "布料手感不错，质量很好",
        "面料是纯棉的，做工很好",
        "质量不错，面料柔软没有线头",
        "做工很好，布料厚实",
    ],
    "尺码": [
        "尺码偏小，建议买大一码",
        "腰围太紧，尺码不准",
        "尺码偏大，袖子太长",
        "按照尺码表买的还是偏小",
        "码数不准，腰围偏小",
        "袖子偏长，尺码偏大",
    ],
}
K = (2, 3, 4, 5, 6)


def _corpus(
    themes: dict[str, list[str]], per_theme: int = 20, seed: int = 0
) -> tuple[list[list[str]], list[str]]:
    """Token lists of reviews made of two sentences of one theme, shuffled, and their themes."""
    rng = random.Random(seed)
    rows = [
        (txt.tokens(" ".join(rng.sample(sentences, 2))), theme)
        for theme, sentences in themes.items()
        for _ in range(per_theme)
    ]
    rng.shuffle(rows)
    return [tokens for tokens, _ in rows], [theme for _, theme in rows]


def _dominant_by_theme(result: tp.TopicResult, themes: list[str]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for weights, theme in zip(result.document_topics, themes, strict=True):
        out.setdefault(theme, set()).add(weights[0][0])
    return out


@pytest.fixture(scope="module")
def english():
    documents, themes = _corpus(ENGLISH)
    return documents, themes, tp.lda_fit(documents, k_candidates=K, seed=0)


@pytest.fixture(scope="module")
def chinese():
    documents, themes = _corpus(CHINESE)
    return documents, themes, tp.lda_fit(documents, k_candidates=K, seed=0)


# lda_fit


def test_lda_fit_finds_the_three_english_themes(english):
    # given 60 English reviews, 20 per theme (fitted in the fixture)
    documents, themes, result = english
    # then three topics, one per theme, every review in its theme's topic
    assert result.method == "lda"
    assert result.chosen_k == 3
    assert sorted(result.coherence) == [2, 3, 4, 5, 6]
    assert result.coherence[3] == max(result.coherence.values())
    assert _dominant_by_theme(result, themes) == {"fabric": {0}, "sizing": {1}, "delivery": {2}}
    assert [topic.label for topic in result.topics] == [
        "cotton · fabric · soft",
        "size · waist · runs",
        "parcel · late · package",
    ]
    assert [(topic.index, topic.size, topic.share) for topic in result.topics] == [
        (0, 20, 0.3333),
        (1, 20, 0.3333),
        (2, 20, 0.3333),
    ]
    assert all(len(topic.words) == 10 for topic in result.topics)
    assert result.seconds > 0


def test_lda_fit_finds_the_three_chinese_themes(chinese):
    # given 60 Chinese reviews, 20 per theme (fitted in the fixture)
    documents, themes, result = chinese
    # then
    assert result.chosen_k == 3
    assert _dominant_by_theme(result, themes) == {"质量": {0}, "尺码": {1}, "物流": {2}}
    assert [topic.label for topic in result.topics] == [
        "面料 · 质量 · 柔软",
        "尺码 · 偏小 · 不准",
        "快递 · 包裹 · 物流",
    ]


def test_lda_document_topics_are_weights_of_at_least_005_heaviest_first(english):
    # given the English fit
    documents, _, result = english
    # then
    assert len(result.document_topics) == len(documents)
    for weights in result.document_topics:
        assert weights
        assert [w for _, w in weights] == sorted((w for _, w in weights), reverse=True)
        assert all(w >= 0.05 for _, w in weights)
        assert sum(w for _, w in weights) <= 1.0001
        assert len({index for index, _ in weights}) == len(weights)


def test_lda_fit_is_deterministic_for_a_seed(english):
    # given the same documents fitted twice with seed 0
    documents, _, first = english
    # when
    second = tp.lda_fit(documents, k_candidates=K, seed=0)
    # then everything but the timing is equal
    assert second.topics == first.topics
    assert second.document_topics == first.document_topics
    assert second.coherence == first.coherence


def test_lda_fit_gives_empty_and_unknown_documents_no_topics_and_scores_emoji_posts():
    # given the English corpus with empty documents, one-off words and emoji-only posts
    documents, _ = _corpus(ENGLISH)
    emoji = [txt.tokens("😡😡📦"), txt.tokens("😡📦"), txt.tokens("📦😡")]
    corpus = [[]] + documents + [["zyxxy"], txt.tokens(""), *emoji]
    # when
    result = tp.lda_fit(corpus, k_candidates=K, seed=0)
    # then the empty document and the one with a one-off word get [], emoji posts get topics
    assert emoji[0] == ["enraged_face", "enraged_face", "package"]
    assert result.document_topics[0] == []
    assert result.document_topics[61] == []
    assert result.document_topics[62] == []
    assert all(result.document_topics[63 + i] for i in range(3))
    assert sum(topic.size for topic in result.topics) == 63
    assert result.chosen_k == 3


def test_lda_fit_handles_a_single_very_long_document_among_short_ones(english):
    # given the English corpus plus one 6,000-word delivery rant
    documents, _, _ = english
    rant = txt.tokens(" ".join(ENGLISH["delivery"] * 300))
    # when
    result = tp.lda_fit([*documents, rant], k_candidates=(3,), seed=0)
    # then the rant is about the delivery topic and did not take over the others
    assert len(rant) > 5000
    delivery = next(topic.index for topic in result.topics if "parcel" in topic.label)
    assert result.document_topics[-1][0][0] == delivery
    assert result.document_topics[-1][0][1] > 0.95
    assert sorted(topic.size for topic in result.topics) == [20, 20, 21]


def test_lda_fit_raises_not_enough_text_for_too_few_documents():
    # given 19 reviews with words and some empty ones
    documents, _ = _corpus(ENGLISH)
    # when / then
    with pytest.raises(
        tp.NotEnoughText, match="at least 20 documents with words; 19 had any"
    ) as error:
        tp.lda_fit(documents[:19] + [[], []], k_candidates=K)
    assert (error.value.usable, error.value.needed) == (19, 20)
    assert isinstance(error.value, ValueError)


def test_lda_fit_raises_not_enough_text_when_no_word_is_shared():
    # given 25 reviews that share no word (the dictionary keeps words in 2+ documents)
    documents = [[f"word{i}", f"other{i}"] for i in range(25)]
    # when / then
    with pytest.raises(tp.NotEnoughText, match="; 0 had any of the terms kept"):
        tp.lda_fit(documents, k_candidates=K)


def test_lda_fit_raises_not_enough_text_when_documents_are_too_few_for_the_topics():
    # given 25 reviews and at least 6 topics wanted (5 documents per topic needed)
    documents, _ = _corpus(ENGLISH, per_theme=9)
    # when / then
    with pytest.raises(tp.NotEnoughText, match="too few for 6 topics: at least 30 documents"):
        tp.lda_fit(documents[:25], k_candidates=(6, 8))
    with pytest.raises(ValueError, match="topic counts of 2 or more"):
        tp.lda_fit(documents, k_candidates=(1, 3))


def test_lda_fit_chooses_k_on_a_sample_and_reports_progress():
    # given 90 reviews, a 40-document sample for choosing k, and a progress callback
    documents, themes = _corpus(ENGLISH, per_theme=30)
    calls: list[tuple[float, str]] = []
    # when
    result = tp.lda_fit(
        documents,
        k_candidates=(2, 3),
        seed=0,
        sample_size=40,
        progress=lambda p, m: calls.append((p, m)),
    )
    # then k was chosen on the sample and the final model covers every review
    assert result.chosen_k == 3
    assert sum(topic.size for topic in result.topics) == 90
    assert len(set(map(frozenset, _dominant_by_theme(result, themes).values()))) == 3
    assert [message for _, message in calls] == [
        "Building the dictionary of 90 documents",
        "Trying 2 topics on 40 documents",
        "Trying 3 topics on 40 documents",
        "Fitting 3 topics on 90 documents",
        "Scoring documents",
        "3 topics",
    ]
    assert calls[-1][0] == 100.0


# lda_save / lda_load / infer


def test_lda_model_saved_to_one_file_scores_documents_as_the_fit_did(english, tmp_path: Path):
    # given the English fit saved
    documents, _, result = english
    path = tmp_path / "topics.lda"
    tp.lda_save(result, path)
    # when
    loaded = tp.lda_load(path)
    # then one file, the same topics, the same weights for the training documents
    assert [p.name for p in tmp_path.iterdir()] == ["topics.lda"]
    assert loaded.topics == result.topics
    assert loaded.infer(documents) == result.document_topics
    assert result.model is not None
    assert result.model.infer(documents) == result.document_topics


def test_lda_model_infers_new_english_documents_into_the_right_topic(english, tmp_path: Path):
    # given the saved English model
    _, _, result = english
    tp.lda_save(result, tmp_path / "topics.lda")
    model = tp.lda_load(tmp_path / "topics.lda")
    # when
    new = [
        txt.tokens("The parcel arrived late, slow courier"),
        txt.tokens("Soft cotton and neat stitching"),
        txt.tokens("Runs small, tight waist"),
        [],
        ["never", "seen", "before"],
    ]
    weights = model.infer(new)
    # then
    assert [w[0][0] for w in weights[:3]] == [2, 0, 1]
    assert weights[3:] == [[], []]
    assert model.infer(new) == weights


def test_lda_load_rejects_a_file_that_is_not_a_topic_model(tmp_path: Path):
    # given a text file and a numpy file of another kind
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with (tmp_path / "other.npz").open("wb") as handle:
        np.savez(handle, meta=np.array('{"format": "other"}'))
    # when / then
    with pytest.raises(ValueError, match="not a SmartMkt LDA topic model"):
        tp.lda_load(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="not a SmartMkt LDA topic model"):
        tp.lda_load(tmp_path / "other.npz")


def test_topic_result_equality_and_repr_ignore_the_model(english):
    # given the English fit
    _, _, result = english
    # when
    copy = tp.TopicResult(**{**result.__dict__, "model": None})
    # then
    assert copy == result
    assert "model=" not in repr(result)


# topic_labels


def test_topic_labels_skip_parts_of_earlier_words_and_stay_unique():
    # given word lists with repeated stems and topics starting alike
    word_lists = [
        ["delivery", "deliver", "slow", "slower", "package"],
        ["delivery", "slow", "package", "courier"],
        ["delivery", "slow", "package"],
        [],
    ]
    # when
    labels = tp.topic_labels(word_lists)
    # then
    assert labels == [
        "delivery · slow · package",
        "delivery · slow · package · courier",
        "delivery · slow · package (3)",
        "Topic 4",
    ]


# embedding_topics


def _clustered_vectors(sizes: list[int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.eye(8)[: len(sizes)] * 3
    points = np.vstack(
        [
            centre + rng.normal(0, 0.3, (size, 8))
            for centre, size in zip(centres, sizes, strict=True)
        ]
    )
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_embedding_topics_cluster_by_vectors_and_name_clusters_by_class_tfidf():
    # given three well separated groups of vectors (30, 20, 10) with their reviews' tokens
    documents, themes = _corpus(ENGLISH, per_theme=30)
    by_theme = {
        theme: [doc for doc, t in zip(documents, themes, strict=True) if t == theme]
        for theme in ENGLISH
    }
    ordered = by_theme["delivery"][:30] + by_theme["fabric"][:20] + by_theme["sizing"][:10]
    vectors = _clustered_vectors([30, 20, 10], seed=1)
    # when
    result = tp.embedding_topics(vectors, ordered, k_candidates=K, seed=0)
    # then
    assert result.method == "embedding"
    assert result.model is None
    assert result.chosen_k == 3
    assert result.coherence[3] == max(result.coherence.values())
    assert [(topic.index, topic.size, topic.share) for topic in result.topics] == [
        (0, 30, 0.5),
        (1, 20, 0.3333),
        (2, 10, 0.1667),
    ]
    assert result.document_topics == [[(0, 1.0)]] * 30 + [[(1, 1.0)]] * 20 + [[(2, 1.0)]] * 10
    assert {"parcel", "delivery"} <= {word for word, _ in result.topics[0].words[:5]}
    assert {"fabric", "cotton"} <= {word for word, _ in result.topics[1].words[:6]}
    assert {"size", "waist"} <= {word for word, _ in result.topics[2].words[:5]}


def test_embedding_topics_skip_documents_without_terms_and_check_their_input():
    # given 24 vectors, two of them for empty documents
    vectors = _clustered_vectors([12, 12], seed=2)
    documents = [["late", "parcel"]] * 11 + [[]] + [["soft", "fabric"]] * 11 + [[]]
    # when
    result = tp.embedding_topics(vectors, documents, k_candidates=(2, 3), seed=0)
    # then (two clusters of 11: equal sizes, so their order is k-means's)
    assert result.document_topics[11] == [] and result.document_topics[23] == []
    assert sum(topic.size for topic in result.topics) == 22
    assert sorted(topic.label for topic in result.topics) == ["fabric · soft", "late · parcel"]
    with pytest.raises(tp.NotEnoughText, match="18 had any"):
        tp.embedding_topics(vectors[:19], documents[:19], k_candidates=(2,))
    with pytest.raises(ValueError, match="one row per document"):
        tp.embedding_topics(vectors[:5], documents, k_candidates=(2,))


def test_embedding_topics_are_deterministic_for_a_seed():
    # given
    vectors = _clustered_vectors([15, 15, 15], seed=3)
    documents = [["a", "b"]] * 15 + [["c", "d"]] * 15 + [["e", "f"]] * 15
    # when
    first = tp.embedding_topics(vectors, documents, k_candidates=K, seed=4, sample_size=30)
    second = tp.embedding_topics(vectors, documents, k_candidates=K, seed=4, sample_size=30)
    # then
    assert first.topics == second.topics
    assert first.document_topics == second.document_topics
    assert first.coherence == second.coherence
    assert first.chosen_k == 3


@pytest.fixture(scope="module")
def embedder():
    from apps.insights.engine import encoder

    return encoder.embedder_get("cpu")


def test_embedding_topics_with_the_real_encoder_separate_the_english_themes(embedder):
    # given 10 reviews of each English theme embedded with the real encoder
    rng = random.Random(0)
    texts, themes = [], []
    for theme, sentences in ENGLISH.items():
        for _ in range(10):
            texts.append(" ".join(rng.sample(sentences, 2)))
            themes.append(theme)
    vectors = embedder.embed(texts)
    # when
    result = tp.embedding_topics(
        vectors, [txt.tokens(t) for t in texts], k_candidates=(2, 3, 4), seed=0
    )
    # then each theme is one cluster of its own
    clusters = _dominant_by_theme(result, themes)
    assert result.chosen_k == 3
    assert all(len(found) == 1 for found in clusters.values())
    assert len(set.union(*clusters.values())) == 3
