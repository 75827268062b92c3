"""Emotions by nearest prototype: accuracy on hand-labelled English and Chinese texts (a tuning
list the defaults were chosen on, and a held-out list they were not), neutral fallback, custom
seeds, edge cases."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from apps.insights.engine.emotions import EMOTIONS, SEEDS, Emotion, EmotionClassifier
from apps.insights.engine.encoder import embedder_get

# The defaults (temperature, threshold, margin) were tuned on this list.
TUNING = (
    ("joy", "Absolutely love these shoes, so comfy and cute!"),
    ("joy", "Got it today and I'm over the moon"),
    ("joy", "So happy with the dress, I feel beautiful in it"),
    ("joy", "太喜欢了，颜色超美！"),
    ("joy", "收到货超开心，孩子爱不释手"),
    ("joy", "好用到哭，幸福感爆棚"),
    ("trust", "Bought from this shop for years, always genuine"),
    ("trust", "You can rely on this seller, orders always match the listing"),
    ("trust", "Trusted brand, quality is consistent"),
    ("trust", "一直在这家买，很放心"),
    ("trust", "老牌子了，品质靠得住"),
    ("trust", "正品保证，值得信任的店铺"),
    ("surprise", "Wow, didn't expect the quality to be this high at this price"),
    ("surprise", "No way, it arrived in one day!"),
    ("surprise", "I was not expecting a handwritten note in the box"),
    ("surprise", "没想到居然这么快就到了"),
    ("surprise", "哇，打开盒子吓了一跳，比图片好看多了"),
    ("surprise", "竟然还附送了一个小礼物，好意外"),
    ("sadness", "So sad, the vase came broken and it was for my mum"),
    ("sadness", "Really disappointed, it stopped working after two days"),
    ("sadness", "I'm bummed, the color faded after one wash"),
    ("sadness", "很失望，穿了一次就开线了"),
    ("sadness", "难过，期待了那么久，结果这么差"),
    ("sadness", "唉，送给女朋友的礼物坏了，心情很低落"),
    ("fear", "I'm scared this heater will overheat while I'm asleep"),
    ("fear", "Worried it's counterfeit, the logo looks off"),
    ("fear", "The cream gave me a rash, afraid it's harmful"),
    ("fear", "插上电就冒烟，吓死我了"),
    ("fear", "担心这个奶瓶材质不安全"),
    ("fear", "怕被骗，付款后卖家一直不回消息"),
    ("anger", "Unbelievable! Three weeks and still no refund, I'm so mad"),
    ("anger", "The seller lied to me, what a disgrace"),
    ("anger", "Terrible, they closed my complaint without reading it. Furious!"),
    ("anger", "客服态度太差了，气得我发抖"),
    ("anger", "说好七天无理由退货，现在不认账，太气人了"),
    ("anger", "垃圾商家，再也不买了，愤怒！"),
    ("neutral", "Ordered two of these on Monday"),
    ("neutral", "The item is 30 cm long"),
    ("neutral", "It's available in black and white"),
    ("neutral", "已收货"),
    ("neutral", "这是第二次下单"),
    ("neutral", "尺寸是20厘米"),
    ("neutral", "It's okay I guess"),
    ("neutral", "Does the job"),
    ("neutral", "Average product, nothing special"),
    ("neutral", "还行吧"),
    ("neutral", "一般般，没什么特别的"),
    ("neutral", "中规中矩"),
)

# Written with the tuning list, never used to choose anything.
HELD_OUT = (
    ("joy", "Love love love it! Best gift I've bought myself"),
    ("joy", "This blender makes me smile every morning"),
    ("joy", "开心，超出预期的好看"),
    ("joy", "太棒了，全家人都很喜欢"),
    ("trust", "Dependable as always, this shop never disappoints"),
    ("trust", "I've ordered ten times, every item authentic"),
    ("trust", "信誉很好的老店，放心买"),
    ("trust", "品质一直稳定，信得过"),
    ("surprise", "Whoa, it's twice as big as I imagined"),
    ("surprise", "Didn't expect a phone call from the seller to check on the order"),
    ("surprise", "居然比实体店还便宜这么多"),
    ("surprise", "没想到这么小的东西这么好用"),
    ("sadness", "Heartbroken, the puppy toy ripped on day one"),
    ("sadness", "Feeling let down, the photos looked so much better"),
    ("sadness", "心里好难受，衣服洗一次就缩水了"),
    ("sadness", "可惜了，这么贵的东西质量这么差"),
    ("fear", "Afraid to charge it overnight after it got so hot"),
    ("fear", "I'm nervous the baby seat isn't safe"),
    ("fear", "闻着刺鼻，担心甲醛超标"),
    ("fear", "怕是翻新机，不敢用"),
    ("anger", "Disgusting service, they laughed at my complaint"),
    ("anger", "How dare they charge me shipping twice! Outrageous"),
    ("anger", "发个货拖了半个月，气死了"),
    ("anger", "客服骂人，太嚣张了"),
    ("neutral", "Order number is in the receipt"),
    ("neutral", "The parcel weighs about two kilos"),
    ("neutral", "包裹今天上午送达"),
    ("neutral", "颜色选的是蓝色"),
    ("neutral", "Fine for the price"),
    ("neutral", "凑合能用"),
)


class CountingEmbed:
    """The real encoder, counting calls."""

    def __init__(self, embed) -> None:
        self.embed = embed
        self.calls = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return self.embed(texts)


@pytest.fixture(scope="module")
def embed():
    return embedder_get().embed


@pytest.fixture(scope="module")
def classifier(embed):
    return EmotionClassifier(embed)


def _correct(classifier: EmotionClassifier, labelled) -> tuple[int, list[tuple[str, str, str]]]:
    results = classifier.classify_texts([text for _, text in labelled])
    wrong = [
        (label, result.label, text)
        for (label, text), result in zip(labelled, results, strict=True)
        if result.label != label
    ]
    return len(labelled) - len(wrong), wrong


# ---------------------------------------------------------------------------- measured
def test_accuracy_on_the_tuning_list(classifier):
    # when
    correct, wrong = _correct(classifier, TUNING)

    # then measured 44-45 / 48 (the encoder's int8 vectors vary a little with the batch); the
    # misses: two lukewarm reviews read as joy and surprise, a fear of being scammed as anger
    assert len(TUNING) == 48
    assert correct >= 43, wrong


def test_accuracy_on_the_held_out_list(classifier):
    # when
    correct, wrong = _correct(classifier, HELD_OUT)

    # then measured 27 / 30 (90%): two surprises (a phone call from the seller, a low price)
    # and an angry "气死了" about slow delivery read as sadness
    assert len(HELD_OUT) == 30
    assert correct >= 26, wrong


# ---------------------------------------------------------------------------- behaviour
def test_clear_texts_in_both_languages(classifier):
    # given
    texts = [
        "我太喜欢这件外套了，每天都想穿",
        "气死了，客服直接挂我电话",
        "I'm worried the plug will overheat",
        "好失望，颜色完全不对",
        "Wow, it came a week early, I did not expect that!",
        "The parcel came on Friday",
    ]

    # when
    labels = [emotion.label for emotion in classifier.classify_texts(texts)]

    # then
    assert labels == ["joy", "anger", "fear", "sadness", "surprise", "neutral"]


def test_scores_are_a_distribution_over_the_labels(classifier, embed):
    # when
    [emotion] = classifier.classify(embed(["气死了，客服直接挂我电话"]))

    # then
    assert list(emotion.scores) == list(EMOTIONS)
    assert sum(emotion.scores.values()) == pytest.approx(1.0)
    assert emotion.score == emotion.scores["anger"] == max(emotion.scores.values())


def test_emoji_only(classifier):
    # when
    labels = [emotion.label for emotion in classifier.classify_texts(["😍😍😍", "😡😡😡"])]

    # then
    assert labels == ["joy", "anger"]


def test_empty_text_is_neutral_without_embedding(embed):
    # given
    counting = CountingEmbed(embed)
    classifier = EmotionClassifier(counting)

    # when
    results = classifier.classify_texts(["", "  "])

    # then
    blank = {name: 0.0 for name in EMOTIONS} | {"neutral": 1.0}
    assert results == [Emotion("neutral", 1.0, blank), Emotion("neutral", 1.0, blank)]
    assert counting.calls == 0


def test_mixed_review_has_no_confident_emotion(classifier):
    # when
    [emotion] = classifier.classify_texts(["质量很好 but delivery was slow"])

    # then praise and a complaint at once: no emotion gets most of the probability (measured:
    # trust 0.47, neutral next), while clear texts score above 0.9
    assert max(emotion.scores.values()) < 0.6
    assert emotion.label in {"trust", "neutral"}


def test_very_long_text(classifier):
    # when
    [emotion] = classifier.classify_texts(["I love this jacket, it makes me so happy! " * 40])

    # then
    assert emotion.label == "joy"


def test_threshold_turns_weak_emotions_into_neutral(embed):
    # given a threshold no similarity reaches
    strict = EmotionClassifier(embed, threshold=1.01)

    # when
    [emotion] = strict.classify_texts(["我太喜欢这件外套了，每天都想穿"])

    # then the scores still say joy, the label does not
    assert emotion.label == "neutral"
    assert max(emotion.scores, key=emotion.scores.__getitem__) == "joy"


def test_margin_turns_ties_into_neutral(embed):
    # given a margin wider than any gap between two prototypes
    strict = EmotionClassifier(embed, margin=2.0)

    # when
    [emotion] = strict.classify_texts(["I'm worried the plug will overheat"])

    # then
    assert emotion.label == "neutral"


def test_prototypes_are_built_once(embed):
    # given
    counting = CountingEmbed(embed)
    classifier = EmotionClassifier(counting)

    # when
    classifier.classify(embed(["Love it"]))
    classifier.classify(embed(["Hate it"]))

    # then
    assert counting.calls == 1
    assert classifier.prototypes().shape == (len(EMOTIONS), 384)


def test_custom_seeds_add_an_emotion(embed):
    # given a shop that wants "disgust" (food and cosmetics)
    seeds = {
        "disgust": [
            "This smells disgusting, like rotten eggs",
            "Gross, there was hair in the food",
            "Yuck, the cup was covered in mould",
            "恶心，里面有虫子",
            "太恶心了，有股馊味",
            "吃出了头发，好恶心",
        ]
    }
    classifier = EmotionClassifier(embed, seeds)

    # when
    labels = [
        emotion.label
        for emotion in classifier.classify_texts(
            ["Disgusting, there was a dead bug in the package", "好恶心，打开全是霉", "I love it"]
        )
    ]

    # then
    assert classifier.labels == (*EMOTIONS, "disgust")
    assert labels == ["disgust", "disgust", "joy"]


def test_custom_seeds_extend_an_existing_emotion(embed):
    # given
    classifier = EmotionClassifier(embed, {"joy": ["开心死了！"]})

    # then
    assert classifier.seeds["joy"] == (*SEEDS["joy"], "开心死了！")


def test_replacing_seeds_requires_neutral(embed):
    with pytest.raises(ValueError, match="neutral"):
        EmotionClassifier(embed, {"joy": ["yay"]}, replace_seeds=True)


def test_emotion_without_phrases_is_refused(embed):
    with pytest.raises(ValueError, match="without seed phrases: calm"):
        EmotionClassifier(embed, {"calm": ["  "]})


def test_seed_lists_are_bilingual_and_sized():
    for name in EMOTIONS:
        phrases = SEEDS[name]
        chinese = [phrase for phrase in phrases if any("\u4e00" <= ch <= "\u9fff" for ch in phrase)]
        assert 10 <= len(phrases) <= 15
        assert 5 <= len(chinese) <= len(phrases) - 5


def test_no_texts(classifier):
    assert classifier.classify(np.zeros((0, 384), dtype=np.float32)) == []
    assert classifier.classify_texts([]) == []
