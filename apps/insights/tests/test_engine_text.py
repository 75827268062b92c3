"""Preprocessing: language, cleaning, terms and clauses, English and Chinese."""

from __future__ import annotations

from apps.insights.engine.text import (
    language_detect,
    sentences,
    stop_words,
    text_clean,
    tokens,
    url_count,
)


def test_language_of_english_chinese_mixed_and_empty_texts():
    assert language_detect("The fabric is soft and the fit is perfect").code == "en"
    assert language_detect("质量很好，物流也很快").code == "zh"
    mixed = language_detect("质量很好 but the delivery was really slow")
    assert (mixed.code, mixed.mixed) == ("zh", True)
    assert language_detect("").code == "und"
    assert language_detect("😍😍😍").code == "und"
    assert language_detect("12345 !!!").code == "und"


def test_language_of_a_brand_name_in_chinese_text_is_chinese_and_not_mixed():
    detected = language_detect("这件Zara的外套面料很好，穿着很舒服，非常喜欢")
    assert (detected.code, detected.mixed) == ("zh", False)


def test_language_of_japanese_and_of_a_few_english_words():
    assert language_detect("このシャツはとても良いです").code == "ja"
    assert language_detect("love it").code == "en"


def test_clean_strips_html_urls_handles_and_long_repeats():
    text = "Great!!!!!!<br /><br />See https://shop.example.com/p/1 @shopname #sale soooooo good &amp; cheap"
    assert text_clean(text) == "Great!!! See sale sooo good & cheap"
    assert url_count(text) == 1
    assert text_clean("") == ""
    assert text_clean("   \n\t ") == ""


def test_terms_of_english_drop_stop_words_and_keep_content_words():
    assert tokens("The delivery was really slow and the package was damaged") == [
        "delivery",
        "slow",
        "package",
        "damaged",
    ]


def test_terms_of_chinese_use_jieba_and_drop_stop_words():
    terms = tokens("这件衣服的质量非常好，但是物流太慢了")
    assert "质量" in terms and "物流" in terms and "衣服" in terms
    assert "的" not in terms and "非常" not in terms and "但是" not in terms


def test_terms_of_mixed_text_and_emoji():
    terms = tokens("面料很舒服 love the colour 😍")
    assert "面料" in terms and "舒服" in terms and "love" in terms and "colour" in terms
    assert "smiling_face_with_heart-eyes" in terms
    assert tokens("😍😍") == ["smiling_face_with_heart-eyes", "smiling_face_with_heart-eyes"]
    assert tokens("") == []


def test_stop_words_hold_both_languages():
    words = stop_words()
    assert {"the", "and", "的", "了", "br"} <= words


def test_clauses_split_on_sentence_ends_and_contrast_words():
    assert sentences("Great fabric but the delivery was slow. Would buy again!") == [
        "Great fabric",
        "the delivery was slow",
        "Would buy again!",
    ]
    assert sentences("质量很好，但是物流太慢了。") == ["质量很好", "物流太慢了"]
    assert sentences("") == []


def test_a_very_long_text_is_cleaned_and_tokenised():
    text = "The quality is great. " * 5000
    assert len(text_clean(text)) == len(text.strip())
    assert tokens(text).count("quality") == 5000
