"""Keywords of reviews and posts, English and Chinese: per document, per group, by graph, by
embedding, and what is trending.

Every function takes token lists as `text.tokens` makes them (lower case, stop words out, jieba
words for Chinese), except `textrank_keywords`, which needs the running text for word order.

- Phrases are unigrams and bigrams. A bigram joins two neighbouring terms with a space, or with
  nothing when both are Chinese ("物流" + "很慢" -> "物流很慢"), which is how it is written.
  Neighbours are neighbours after stop words are removed, so "slow for delivery" gives "slow
  delivery": close enough for keywords, and what KeyBERT's CountVectorizer does as well.
- A bigram counts only when it occurs in at least two documents (one, for fewer than 10
  documents): a pair seen once is chance, and rare pairs would crowd the candidate lists.
- `tfidf_keywords`: sublinear TF x smoothed IDF, L2 per document (scikit-learn's TF-IDF).
- `group_keywords` and `class_tfidf`: class-based TF-IDF (BERTopic, Grootendorst 2022):
  term frequency within the group (L1) x log(1 + average words per group / the term's
  frequency over all groups). Terms frequent everywhere ("good", "买") score low in every
  group, terms frequent in one group only score high there.
- `textrank_keywords`: TextRank (Mihalcea & Tarau 2004). Chinese goes to jieba's own TextRank,
  which filters by part of speech; English is a co-occurrence graph (window 4) over the tokens
  ranked by PageRank (damping 0.85) by power iteration. Scores are scaled so the best is 1.
- `embedding_keywords`: KeyBERT's Maximal Marginal Relevance: the candidate most similar to the
  document first, then each next one trading similarity to the document against similarity to
  those already picked.
- `trending_keywords`: document frequency this period against the previous one, ranked by a
  two-proportion z-score, which weighs a change by how much evidence there is for it (10 -> 20
  mentions in 1,000 reviews beats 1 -> 3).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from apps.insights.engine import text as txt

ZH_POS = ("n", "nr", "ns", "nt", "nz", "vn", "v", "a", "ad", "an")
"""jieba parts of speech TextRank keeps: nouns, verbal nouns, verbs, adjectives."""


@dataclass(frozen=True)
class Trend:
    """A term more common this period than the previous one (document frequencies)."""

    term: str
    current_count: int
    previous_count: int
    current_share: float
    previous_share: float
    change: float
    z: float
    is_new: bool


def _is_han(term: str) -> bool:
    return bool(term) and all(
        "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" for char in term
    )


def bigram(first: str, second: str) -> str:
    """The written form of two neighbouring terms: no space between Chinese words."""
    return first + second if _is_han(first) and _is_han(second) else f"{first} {second}"


def _bigrams(document: Sequence[str]) -> list[str]:
    return [bigram(a, b) for a, b in zip(document, document[1:], strict=False) if a != b]


def bigram_min_df(documents: int) -> int:
    """Documents a bigram must occur in to count (see the module docstring)."""
    return 1 if documents < 10 else 2


def phrases(document: Sequence[str], bigrams: set[str] | None = None) -> list[str]:
    """The unigrams and bigrams of one token list; bigrams only those in `bigrams` when given."""
    pairs = _bigrams(document)
    if bigrams is not None:
        pairs = [pair for pair in pairs if pair in bigrams]
    return list(document) + pairs


def frequent_bigrams(documents: Sequence[Sequence[str]], min_df: int | None = None) -> set[str]:
    """Bigrams occurring in at least `min_df` documents (default `bigram_min_df`)."""
    needed = bigram_min_df(len(documents)) if min_df is None else min_df
    counts: Counter[str] = Counter()
    for document in documents:
        counts.update(set(_bigrams(document)))
    return {term for term, count in counts.items() if count >= needed}


def _document_frequencies(
    documents: Iterable[Sequence[str]], bigrams: set[str] | None
) -> Counter[str]:
    counts: Counter[str] = Counter()
    for document in documents:
        counts.update(set(phrases(document, bigrams)))
    return counts


def _top(
    weights: Mapping[str, float] | Iterable[tuple[str, float]], top_n: int
) -> list[tuple[str, float]]:
    """The `top_n` best (term, weight), weight descending then term: stable across runs."""
    items = weights.items() if isinstance(weights, Mapping) else weights
    ranked = sorted(
        ((term, float(weight)) for term, weight in items if weight > 0),
        key=lambda item: (-item[1], item[0]),
    )
    return [(term, round(weight, 4)) for term, weight in ranked[:top_n]]


def tfidf_keywords(documents: list[list[str]], *, top_n: int = 10) -> list[list[tuple[str, float]]]:
    """Each document's keywords weighted against the corpus: unigrams and frequent bigrams,
    sublinear TF x smoothed IDF, L2-normalised; so a term that is in every review ranks low and
    a term repeated in one review does not drown the others."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not documents:
        return []
    bigrams = frequent_bigrams(documents)
    vocabulary = sorted({term for document in documents for term in phrases(document, bigrams)})
    if not vocabulary:
        return [[] for _ in documents]
    vectorizer = TfidfVectorizer(
        analyzer=lambda document: phrases(document, bigrams),
        vocabulary=vocabulary,
        sublinear_tf=True,
        smooth_idf=True,
        norm="l2",
        dtype=np.float64,
    )
    matrix = sparse.csr_matrix(vectorizer.fit_transform(documents))
    out: list[list[tuple[str, float]]] = []
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        terms = (vocabulary[index] for index in matrix.indices[start:end])
        out.append(_top(zip(terms, matrix.data[start:end], strict=True), top_n))
    return out


def class_tfidf(counts: np.ndarray | sparse.spmatrix) -> np.ndarray:
    """Class-based TF-IDF of a classes x terms count matrix (see the module docstring); rows of
    classes without terms are zero. Shared by `group_keywords` and `topics.embedding_topics`."""
    dense = sparse.csr_matrix(counts).toarray() if sparse.issparse(counts) else counts
    matrix = np.asarray(dense, dtype=np.float64)
    if matrix.size == 0:
        return matrix
    per_class = matrix.sum(axis=1, keepdims=True)
    per_term = matrix.sum(axis=0)
    average = matrix.sum() / max(int((per_class > 0).sum()), 1)
    idf = np.log1p(np.divide(average, per_term, out=np.zeros_like(per_term), where=per_term > 0))
    tf = np.divide(matrix, per_class, out=np.zeros_like(matrix), where=per_class > 0)
    result: np.ndarray = tf * idf
    return result


def group_keywords(
    groups: Mapping[str, list[list[str]]], *, top_n: int = 10
) -> dict[str, list[tuple[str, float]]]:
    """The distinctive unigrams and bigrams of each group of documents (a product's reviews,
    a week's posts), by class-based TF-IDF; groups keep their order, an empty group gets []."""
    names = list(groups)
    everything = [document for name in names for document in groups[name]]
    bigrams = frequent_bigrams(everything)
    counters = [
        Counter(term for document in groups[name] for term in phrases(document, bigrams))
        for name in names
    ]
    vocabulary = sorted(set().union(*counters)) if counters else []
    if not vocabulary:
        return {name: [] for name in names}
    column = {term: index for index, term in enumerate(vocabulary)}
    counts = np.zeros((len(names), len(vocabulary)))
    for row, counter in enumerate(counters):
        for term, count in counter.items():
            counts[row, column[term]] = count
    weights = class_tfidf(counts)
    out: dict[str, list[tuple[str, float]]] = {}
    for row, name in enumerate(names):
        present = np.flatnonzero(weights[row] > 0)
        out[name] = _top(((vocabulary[i], weights[row, i]) for i in present), top_n)
    return out


def textrank_keywords(text: str, *, top_n: int = 10) -> list[tuple[str, float]]:
    """The central words of one text by TextRank, best first, the best scored 1.0: jieba's
    TextRank for Chinese (it knows parts of speech), PageRank over a window-4 co-occurrence
    graph of `text.tokens` otherwise; for long single texts where no corpus exists."""
    if not text or not text.strip():
        return []
    if txt.language_detect(text).code == txt.CHINESE:
        return _textrank_chinese(txt.text_clean(text), top_n)
    return _textrank(txt.tokens(text), top_n)


def _textrank_chinese(text: str, top_n: int) -> list[tuple[str, float]]:
    import jieba
    import jieba.analyse

    jieba.setLogLevel(logging.WARNING)  # not "Building prefix dict ..." on every worker start
    stops = txt.stop_words()
    ranked = jieba.analyse.textrank(text, topK=top_n * 3, withWeight=True, allowPOS=ZH_POS)
    kept = [
        (str(word).lower(), float(weight))
        for word, weight in ranked
        if str(word).lower() not in stops
    ]
    if not kept:
        return []
    best = max(weight for _, weight in kept)
    return _top(((word, weight / best) for word, weight in kept), top_n)


def _textrank(
    terms: list[str], top_n: int, *, window: int = 4, damping: float = 0.85
) -> list[tuple[str, float]]:
    """PageRank by power iteration over the co-occurrence graph of `terms` (edges between terms
    fewer than `window` positions apart, weighted by how often)."""
    if not terms:
        return []
    index: dict[str, int] = {}
    ids = np.array([index.setdefault(term, len(index)) for term in terms], dtype=np.int64)
    size = len(index)
    rows, cols = [], []
    for offset in range(1, window):
        first, second = ids[:-offset], ids[offset:]
        different = first != second
        rows.extend([first[different], second[different]])
        cols.extend([second[different], first[different]])
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    col = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    graph = sparse.csr_matrix((np.ones(len(row)), (row, col)), shape=(size, size))
    out_weight = np.asarray(graph.sum(axis=1)).ravel()
    # Column-stochastic transition: rank flows from j to i in proportion to w_ij / out_j.
    transition = sparse.csr_matrix(
        graph.multiply(1.0 / np.where(out_weight > 0, out_weight, 1.0)[None, :])
    )
    rank = np.full(size, 1.0 / size)
    for _ in range(100):
        updated = (1 - damping) / size + damping * (transition @ rank)
        if np.abs(updated - rank).sum() < 1e-9:
            rank = updated
            break
        rank = updated
    terms_by_id = list(index)
    best = float(rank.max())
    return _top(((terms_by_id[i], rank[i] / best) for i in range(size)), top_n)


def candidate_phrases(documents: list[list[str]], *, max_candidates: int = 200) -> list[str]:
    """The `max_candidates` most frequent unigrams and bigrams by document frequency (ties by
    term), for `embedding_keywords`: a phrase must occur in two documents (one, under 10)."""
    needed = bigram_min_df(len(documents))
    frequencies = _document_frequencies(documents, frequent_bigrams(documents))
    ranked = sorted(
        (term for term, count in frequencies.items() if count >= needed),
        key=lambda term: (-frequencies[term], term),
    )
    return ranked[:max_candidates]


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    result: np.ndarray = matrix / np.where(norms > 0, norms, 1.0)
    return result


def embedding_keywords(
    doc_embedding: np.ndarray,
    candidates: list[str],
    candidate_embeddings: np.ndarray,
    *,
    top_n: int = 5,
    diversity: float = 0.5,
) -> list[tuple[str, float]]:
    """The `top_n` candidates that best describe a document (or group) embedding, by Maximal
    Marginal Relevance, as (phrase, cosine to the document), cosine descending. `diversity` 0
    ranks by similarity alone; 1 cares only about being unlike the phrases already picked."""
    if not 0 <= diversity <= 1:
        raise ValueError("diversity must be between 0 and 1")
    vectors = np.asarray(candidate_embeddings, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != len(candidates):
        raise ValueError(
            f"candidate_embeddings must have one row per candidate ({len(candidates)}), got shape {vectors.shape}"
        )
    if not candidates or top_n <= 0:
        return []
    document = np.asarray(doc_embedding, dtype=np.float64).reshape(1, -1)
    if document.shape[1] != vectors.shape[1]:
        raise ValueError(
            f"doc_embedding has {document.shape[1]} dimensions, candidates {vectors.shape[1]}"
        )
    vectors = _unit_rows(vectors)
    to_document = (vectors @ _unit_rows(document).T).ravel()
    between = vectors @ vectors.T
    chosen = [int(np.argmax(to_document))]
    available = np.ones(len(candidates), dtype=bool)
    available[chosen[0]] = False
    while len(chosen) < min(top_n, len(candidates)):
        redundancy = between[:, chosen].max(axis=1)
        score = (1 - diversity) * to_document - diversity * redundancy
        score[~available] = -np.inf
        pick = int(np.argmax(score))
        chosen.append(pick)
        available[pick] = False
    ranked = sorted(chosen, key=lambda i: (-to_document[i], candidates[i]))
    return [(candidates[i], round(float(to_document[i]), 4)) for i in ranked]


def trending_keywords(
    current: list[list[str]],
    previous: list[list[str]],
    *,
    min_count: int = 3,
    top_n: int = 20,
    bigrams: bool = True,
) -> list[Trend]:
    """Terms rising from the previous period to this one, most significant first.

    Counts are documents (a review saying "late" five times is one mention). `change` is the
    ratio of add-one smoothed shares, (c + 1) / (n_c + 1) over (p + 1) / (n_p + 1), so a new term
    has a finite ratio; `z` is the two-proportion z-score with the pooled share; only terms in
    at least `min_count` current documents with z > 0 are kept. With no previous documents
    there is nothing to compare against, and the answer is []."""
    if not current or not previous:
        return []
    everything = current + previous
    frequent = frequent_bigrams(everything) if bigrams else set()
    current_counts = _document_frequencies(current, frequent)
    previous_counts = _document_frequencies(previous, frequent)
    n_current, n_previous = len(current), len(previous)
    trends: list[Trend] = []
    for term, count in current_counts.items():
        if count < min_count:
            continue
        before = previous_counts.get(term, 0)
        share_now, share_before = count / n_current, before / n_previous
        pooled = (count + before) / (n_current + n_previous)
        error = math.sqrt(pooled * (1 - pooled) * (1 / n_current + 1 / n_previous))
        z = (share_now - share_before) / error if error > 0 else 0.0
        if z <= 0:
            continue
        change = ((count + 1) / (n_current + 1)) / ((before + 1) / (n_previous + 1))
        trends.append(
            Trend(
                term=term,
                current_count=count,
                previous_count=before,
                current_share=round(share_now, 4),
                previous_share=round(share_before, 4),
                change=round(change, 4),
                z=round(z, 4),
                is_new=before == 0,
            )
        )
    trends.sort(key=lambda trend: (-trend.z, -trend.current_count, trend.term))
    return trends[:top_n]
