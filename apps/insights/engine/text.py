"""Text preprocessing for reviews and social posts, English and Chinese.

- `language_detect`: script first (Han -> zh, kana -> ja, Hangul -> ko), then py3langid's
  bundled model for Latin and other scripts; mixed Chinese/English text is flagged.
- `text_clean`: what every model sees: HTML tags and entities out (shop exports carry `<br />`),
  URLs out (counted), @handles out, hashtags kept as words, NFKC, whitespace collapsed.
  Emoji stay: the encoder's vocabulary knows the common ones, and they carry sentiment.
- `tokens`: words for keywords and topics: jieba for Chinese spans, a word pattern for
  Latin spans, lower case, stop words of both languages out, emoji as words (":red_heart:" ->
  "red heart") so emoji-only posts still have terms.
- `sentences`: clauses for aspect sentiment (split on sentence ends and on "but" / "但是").
"""

from __future__ import annotations

import functools
import html
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ENGLISH, CHINESE = "en", "zh"
UNDETERMINED = "und"

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]{2,}")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<!\w)@[\w.]+")
_HASHTAG = re.compile(r"#(\w+)#?")
_TAG = re.compile(r"<[^>]{0,200}>")
_SPACE = re.compile(r"\s+")
_REPEAT = re.compile(r"(.)\1{3,}")
_EN_WORD = re.compile(r"[a-z][a-z'\-]*[a-z]|[a-z]")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？；;…])\s*|\n+")
_CONTRAST = re.compile(
    r"\s*(?:,\s*)?\b(?:but|however|although|though|yet)\b\s*|(?:但是|但|不过|可是|然而)",
    re.IGNORECASE,
)

_ASSETS = Path(__file__).parent / "assets"


@dataclass(frozen=True)
class Language:
    """The detected language of a text: ISO 639-1 code (or "und"), confidence, mixed flag."""

    code: str
    confidence: float
    mixed: bool = False


@functools.lru_cache(maxsize=1)
def _langid():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_detect(text: str) -> Language:
    """The language of `text`. Han characters decide Chinese (a review with a few English
    brand names is still Chinese, and marked mixed); other scripts go to py3langid."""
    han = len(_HAN.findall(text))
    kana = len(_KANA.findall(text))
    hangul = len(_HANGUL.findall(text))
    latin_words = _LATIN_WORD.findall(_URL.sub(" ", text))
    latin = sum(len(word) for word in latin_words)
    if kana and kana >= han * 0.2:
        return Language("ja", 0.9, mixed=bool(latin_words))
    if hangul:
        return Language("ko", 0.9, mixed=bool(latin_words))
    if han:
        # Each Han character is about a word; Latin letters, about a fifth of one.
        share = han / (han + latin / 5)
        return Language(CHINESE, round(share, 3), mixed=len(latin_words) >= 2 and share < 0.9)
    if not latin_words:
        return Language(UNDETERMINED, 0.0)
    code, probability = _langid().classify(text)
    if len(latin_words) <= 3 and code != ENGLISH and probability < 0.9:
        # A few words is too little for a language model; shops here write English.
        return Language(ENGLISH, 0.5)
    return Language(str(code), round(float(probability), 3))


def text_clean(text: str) -> str:
    """The text every model sees (see the module docstring)."""
    if not text:
        return ""
    cleaned = html.unescape(_TAG.sub(" ", text))
    cleaned = _URL.sub(" ", cleaned)
    cleaned = _HANDLE.sub(" ", cleaned)
    cleaned = _HASHTAG.sub(r"\1", cleaned)
    cleaned = unicodedata.normalize("NFKC", cleaned)
    cleaned = _REPEAT.sub(r"\1\1\1", cleaned)  # "soooooo" -> "sooo", "!!!!!!" -> "!!!"
    return _SPACE.sub(" ", cleaned).strip()


def url_count(text: str) -> int:
    return len(_URL.findall(text or ""))


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """English (scikit-learn's list plus review filler) and Chinese stop words."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = set(ENGLISH_STOP_WORDS)
    for name in ("stopwords_en.txt", "stopwords_zh.txt"):
        for line in (_ASSETS / name).read_text(encoding="utf-8").splitlines():
            word = line.strip()
            if word and not word.startswith("#"):
                words.add(word)
    return frozenset(words)


@functools.lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def emoji_words(text: str) -> list[str]:
    """Each emoji of `text` as words: "😍" -> "smiling face with heart-eyes"."""
    import emoji

    return [
        emoji.demojize(item["emoji"]).strip(":").replace("_", " ")
        for item in emoji.emoji_list(text)
    ]


def _is_term(token: str, stops: frozenset[str]) -> bool:
    if token in stops or token.isdigit():
        return False
    if _HAN.search(token):
        return True
    return len(token) >= 2


def tokens(text: str, *, keep_stop_words: bool = False) -> list[str]:
    """Terms of `text` for keywords and topics (see the module docstring)."""
    cleaned = text_clean(text)
    if not cleaned:
        return []
    stops = frozenset() if keep_stop_words else stop_words()
    out: list[str] = []
    position = 0
    lowered = cleaned.lower()
    for match in _HAN_RUN.finditer(lowered):
        out.extend(word for word in _EN_WORD.findall(lowered[position : match.start()]))
        out.extend(word.strip() for word in _jieba().lcut(match.group(), HMM=True))
        position = match.end()
    out.extend(_EN_WORD.findall(lowered[position:]))
    out.extend(word.replace(" ", "_") for word in emoji_words(cleaned))
    return [token for token in out if token and _is_term(token, stops)]


def sentences(text: str) -> list[str]:
    """Clauses of `text`: sentence ends and contrast words ("but", "但是") split it, because a
    review that says "great fabric but the delivery was slow" feels two ways."""
    cleaned = text_clean(text)
    out: list[str] = []
    for sentence in _SENTENCE_END.split(cleaned):
        for clause in _CONTRAST.split(sentence):
            clause = clause.strip(" ,，.。")
            if clause and (len(clause) >= 4 or _HAN.search(clause)):
                out.append(clause)
    return out
