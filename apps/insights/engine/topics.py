"""Topics of reviews and posts, English and Chinese: LDA over terms, or k-means over sentence
embeddings.

LDA (`lda_fit`), and why it is built this way (times measured on this 2-core machine while
another training job kept it busy, load average 2-4):
- Terms are `text.tokens` lists. The dictionary drops terms in fewer than `no_below` documents
  (2 below 2,000 documents, then one in 5,000 up to 20: typos and one-off names carry no topic)
  and terms in more than half of them ("dress" in a dress shop's reviews says nothing), and
  keeps the 20,000 most frequent, which bounds memory and time at any corpus size.
- gensim's `LdaModel` (online variational Bayes, chunks of 2,000, symmetric alpha 1/k), not
  `LdaMulticore(workers=1)`: one pass over 100,000 reviews of about 25 terms took 6.5 s against
  20 s (with one worker, the extra process and its queues cost more than they save).
  Perplexity logging is off (it would evaluate chunks during training).
- The topics start from NMF (NNDSVD start, 50 iterations on sublinear TF-IDF), not from gensim's
  random start: from random starts, the same 20,000 reviews gave merged or junk topics
  depending on the seed (NPMI of k = 12 from 0.39 to 0.60 over four seeds, purity 0.73-0.86);
  from NMF every seed gave 0.61, and k = 16 recovered the 16 true groups exactly. The NMF costs
  1-2 s on 20,000 reviews. With that start 1 or 2 passes are enough on big corpora, so passes
  default to about 40,000 documents seen in all: at least 2, at most 20 (60 reviews: 20).
- The number of topics is the candidate with the best NPMI coherence (Bouma 2009; Lau et al.
  2014 found NPMI closest to human judgement) of the top 10 words as shown (see `ranked_terms`),
  a review counting as the co-occurrence window: reviews are short, and a review is one
  context. It is computed in numpy from a sparse review x term matrix: 15-60 ms per model at
  100,000 reviews, against 12.6 s for gensim's c_npmi (sliding windows of 10) and 2.8 s for c_v;
  u_mass (0.5 s) picked 12 topics where the corpus had 16 groups, NPMI picked 16. Ties go to
  fewer topics.
- Corpora over `sample_size` (20,000) documents choose k on a seeded sample of that size, then
  fit the chosen k once on every document, starting from the winning sample model's topics;
  smaller corpora reuse the winning candidate. 100,000 reviews, 8 candidates: 48 s, 590 MB.
- Topic indices are ordered by size, the largest topic 0. Each document gets its topic weights
  (the normalised variational gamma, what gensim's `get_document_topics` returns) of at least
  `min_weight` (0.05), heaviest first; documents without a dictionary term get [].
- Deterministic for a seed: the sample, every model's start and the inference draws (reseeded
  on every `infer` call, so a saved model scores the same documents the same way).

Embeddings (`embedding_topics`): k-means on unit sentence vectors, k chosen by silhouette,
topic words by class-based TF-IDF (BERTopic's idea, `keywords.class_tfidf`). Each document is
in exactly one cluster, so its topics are [(cluster, 1.0)]: k-means is a hard partition, and
soft weights from distances to centroids would need a temperature nothing here could calibrate.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy import sparse

from apps.insights.engine import keywords as kw

LDA: Literal["lda"] = "lda"
EMBEDDING: Literal["embedding"] = "embedding"
FORMAT = "smartmkt.topics.lda/1"
DEFAULT_K = (3, 4, 5, 6, 8, 10, 12, 16)
MIN_DOCUMENTS = 20
MIN_WEIGHT = 0.05
SAMPLE_SIZE = 20_000
SILHOUETTE_SAMPLE = 5_000
TOP_WORDS = 10
LABEL_WORDS = 3
PASS_DOCUMENTS = 40_000
MAX_PASSES = 20
CHUNK = 2_000
KEEP_TERMS = 20_000
NO_ABOVE = 0.5
DOCUMENTS_PER_TOPIC = 5
RELEVANCE_LAMBDA = 0.6
_EPSILON = 1e-12

Progress = Callable[[float, str], None]


class NotEnoughText(ValueError):
    """Too little text to find topics in: says how many usable documents there were and how
    many are needed, so the caller can tell the user what to add."""

    def __init__(self, message: str, *, usable: int, needed: int) -> None:
        super().__init__(message)
        self.usable = usable
        self.needed = needed


@dataclass(frozen=True)
class Topic:
    """One topic: its index, a label from its top words, its top words with their weights, and
    how many documents have it as their dominant topic (`share` of documents with terms)."""

    index: int
    label: str
    words: list[tuple[str, float]]
    size: int
    share: float


@dataclass(frozen=True)
class TopicResult:
    """Topics of a corpus and each document's topic weights (see the module docstring).

    `coherence` is the score of each k tried (NPMI for LDA, silhouette for embeddings);
    `model` is the fitted LDA model to save for scoring new documents (None for embeddings)."""

    method: Literal["lda", "embedding"]
    topics: list[Topic]
    document_topics: list[list[tuple[int, float]]]
    coherence: dict[int, float]
    chosen_k: int
    seconds: float
    model: LdaTopicModel | None = field(default=None, compare=False, repr=False)


class LdaTopicModel:
    """A fitted LDA model with its dictionary and topics: scores new documents (`infer`) and
    saves to one file, so incremental runs need not refit."""

    def __init__(
        self,
        lda: Any,
        dictionary: Any,
        topics: list[Topic],
        order: Sequence[int] | np.ndarray,
        *,
        seed: int = 0,
        min_weight: float = MIN_WEIGHT,
    ) -> None:
        self.lda = lda
        self.dictionary = dictionary
        self.topics = list(topics)
        self.order = [int(index) for index in order]  # order[public index] = gensim topic
        self.seed = seed
        self.min_weight = min_weight
        self._lock = threading.Lock()

    @property
    def num_topics(self) -> int:
        return int(self.lda.num_topics)

    def theta(self, bows: Sequence[list[tuple[int, int]]]) -> np.ndarray:
        """Topic proportions (documents x topics, public order) of non-empty bags of words.
        The random draws that start inference are reseeded per call: same input, same answer
        (a lock keeps concurrent callers from sharing the reseeded state)."""
        out = np.zeros((len(bows), self.num_topics), dtype=np.float64)
        with self._lock:
            self.lda.random_state = np.random.RandomState(self.seed)
            for start in range(0, len(bows), CHUNK):
                gamma, _ = self.lda.inference(list(bows[start : start + CHUNK]))
                out[start : start + len(gamma)] = gamma / gamma.sum(axis=1, keepdims=True)
        return out[:, self.order]

    def infer(self, documents: Sequence[Sequence[str]]) -> list[list[tuple[int, float]]]:
        """Each document's (topic index, weight) pairs of weight >= min_weight, heaviest first;
        [] for a document without a known term."""
        bows = [self.dictionary.doc2bow(list(document)) for document in documents]
        present = [index for index, bow in enumerate(bows) if bow]
        theta = self.theta([bows[index] for index in present])
        out: list[list[tuple[int, float]]] = [[] for _ in documents]
        for row, index in enumerate(present):
            out[index] = _weights(theta[row], self.min_weight)
        return out

    def save(self, path: Path) -> None:
        """One compressed numpy file (no pickle): topic-word parameters, priors, vocabulary,
        topics; written to a temporary name and renamed, so a reader never sees half a file."""
        vocabulary = [self.dictionary[i] for i in range(len(self.dictionary))]
        meta = {
            "format": FORMAT,
            "seed": self.seed,
            "min_weight": self.min_weight,
            "order": self.order,
            "topics": [
                {
                    "index": t.index,
                    "label": t.label,
                    "words": t.words,
                    "size": t.size,
                    "share": t.share,
                }
                for t in self.topics
            ],
        }
        path = Path(path)
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as handle:
            np.savez_compressed(
                handle,
                meta=np.array(json.dumps(meta, ensure_ascii=False)),
                vocabulary=np.array(vocabulary, dtype=str),
                topic_word=np.asarray(self.lda.state.get_lambda(), dtype=np.float32),
                alpha=np.asarray(self.lda.alpha, dtype=np.float32),
                eta=np.asarray(self.lda.eta, dtype=np.float32),
            )
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path) -> LdaTopicModel:
        from gensim.corpora import Dictionary
        from gensim.models import LdaModel

        try:
            with np.load(Path(path), allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                vocabulary = [str(word) for word in data["vocabulary"]]
                topic_word = data["topic_word"]
                alpha, eta = data["alpha"], data["eta"]
        except (OSError, ValueError, KeyError) as error:
            raise ValueError(f"{path} is not a SmartMkt LDA topic model: {error}") from error
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a SmartMkt LDA topic model")
        dictionary = Dictionary()
        dictionary.token2id = {word: index for index, word in enumerate(vocabulary)}
        lda = LdaModel(
            id2word=dictionary,
            num_topics=topic_word.shape[0],
            alpha=alpha,
            eta=eta,
            random_state=int(meta["seed"]),
            dtype=np.float32,
        )
        lda.state.sstats = (topic_word - eta).astype(np.float32)
        lda.sync_state()
        topics = [
            Topic(
                t["index"],
                t["label"],
                [(str(w), float(v)) for w, v in t["words"]],
                t["size"],
                t["share"],
            )
            for t in meta["topics"]
        ]
        return cls(
            lda,
            dictionary,
            topics,
            meta["order"],
            seed=int(meta["seed"]),
            min_weight=float(meta["min_weight"]),
        )


def lda_save(model: LdaTopicModel | TopicResult, path: Path) -> None:
    """Save a fitted LDA model (or the model of an `lda_fit` result) as one file."""
    if isinstance(model, TopicResult):
        if model.model is None:
            raise ValueError("This topic result has no LDA model to save (embedding topics)")
        model = model.model
    model.save(path)


def lda_load(path: Path) -> LdaTopicModel:
    """Load a model saved by `lda_save`; ValueError when the file is not one."""
    return LdaTopicModel.load(path)


def _no_below(documents: int) -> int:
    return 2 if documents < 2_000 else max(2, min(20, documents // 5_000))


def _passes(documents: int) -> int:
    return min(MAX_PASSES, max(2, math.ceil(PASS_DOCUMENTS / max(documents, 1))))


def _weights(row: np.ndarray, min_weight: float) -> list[tuple[int, float]]:
    keep = np.flatnonzero(row >= min_weight)
    ordered = keep[np.argsort(-row[keep], kind="stable")]
    return [(int(index), round(float(row[index]), 4)) for index in ordered]


def _candidates(k_candidates: Sequence[int], usable: int, vocabulary: int) -> list[int]:
    """The candidate topic counts this corpus can support: at least DOCUMENTS_PER_TOPIC
    documents per topic and no more topics than terms."""
    asked = sorted({int(k) for k in k_candidates})
    if not asked or asked[0] < 2:
        raise ValueError(
            f"k_candidates must be topic counts of 2 or more, got {list(k_candidates)}"
        )
    fitting = [k for k in asked if k * DOCUMENTS_PER_TOPIC <= usable and k <= vocabulary]
    if not fitting:
        needed = asked[0] * DOCUMENTS_PER_TOPIC
        raise NotEnoughText(
            f"{usable} usable documents with {vocabulary} shared terms are too few for "
            f"{asked[0]} topics: at least {needed} documents are needed",
            usable=usable,
            needed=needed,
        )
    return fitting


def _counts(bows: Sequence[list[tuple[int, int]]], terms: int) -> sparse.csc_matrix:
    """Documents x terms count matrix (CSC: fast column slices for coherence)."""
    lengths = np.fromiter((len(bow) for bow in bows), dtype=np.int64, count=len(bows))
    total = int(lengths.sum())
    columns = np.fromiter((term for bow in bows for term, _ in bow), dtype=np.int64, count=total)
    values = np.fromiter((count for bow in bows for _, count in bow), dtype=np.float64, count=total)
    rows = np.repeat(np.arange(len(bows)), lengths)
    return sparse.csc_matrix((values, (rows, columns)), shape=(len(bows), terms))


def npmi_coherence(
    top_terms: Sequence[Sequence[int] | np.ndarray], presence: sparse.csc_matrix
) -> float:
    """Mean NPMI over every pair of each topic's top terms, documents as windows, averaged
    over topics; in [-1, 1], higher is more coherent (epsilon 1e-12 as in gensim)."""
    documents = presence.shape[0]
    scores = []
    for terms in top_terms:
        columns = presence[:, list(terms)]
        together = np.asarray((columns.T @ columns).toarray()) / documents
        alone = np.diag(together)
        first, second = np.triu_indices(len(terms), 1)
        joint = together[first, second]
        pmi = np.log((joint + _EPSILON) / np.maximum(alone[first] * alone[second], _EPSILON))
        scores.append(float(np.mean(pmi / -np.log(joint + _EPSILON))))
    return float(np.mean(scores)) if scores else 0.0


def _nmf_topics(counts: sparse.csr_matrix, k: int, seed: int) -> np.ndarray:
    """k x terms starting topics: NMF of the sublinear TF-IDF matrix from an NNDSVD start
    (deterministic up to the seeded randomised SVD), 50 iterations: a start, not a result."""
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfTransformer

    weighted = TfidfTransformer(sublinear_tf=True).fit_transform(counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        nmf = NMF(n_components=k, init="nndsvda", max_iter=50, random_state=seed)
        topics: np.ndarray = nmf.fit(weighted).components_
    return topics


def _lda(
    bows: Sequence[list[tuple[int, int]]],
    counts: sparse.csr_matrix,
    dictionary: Any,
    k: int,
    passes: int,
    seed: int,
    start: np.ndarray | None = None,
) -> Any:
    """gensim LDA whose topic-word parameters start from `start` (k x terms, default NMF
    topics of `counts`) as if the corpus's words were spread over them so, instead of gensim's
    random start: random starts left the same corpus with merged or junk topics depending on
    the seed (NPMI of k = 12 on the bench corpus 0.39-0.60 over four seeds, purity 0.73-0.86);
    from NMF it was 0.61 for every seed, and k = 16 recovered the 16 true groups exactly."""
    from gensim.models import LdaModel

    model = LdaModel(
        id2word=dictionary,
        num_topics=k,
        passes=passes,
        chunksize=min(CHUNK, len(bows)),
        update_every=1,
        alpha="symmetric",
        iterations=50,
        eval_every=None,
        random_state=seed,
        dtype=np.float32,
    )
    topics = _nmf_topics(counts, k, seed) if start is None else np.asarray(start, dtype=np.float64)
    totals = topics.sum(axis=1, keepdims=True)
    topics = np.where(totals > 0, topics / np.where(totals > 0, totals, 1.0), 1.0 / topics.shape[1])
    words = float(counts.sum())
    # gensim's own random start (about 1 per entry) stays, 1%, to break ties between terms.
    model.state.sstats = (topics * (words / k) + 0.01 * model.state.sstats).astype(np.float32)
    model.sync_state()
    model.update(list(bows))
    return model


def ranked_terms(
    topic_word: np.ndarray, term_share: np.ndarray, top: int = TOP_WORDS
) -> list[np.ndarray]:
    """Each topic's `top` term ids by relevance (Sievert & Shirley 2014, lambda 0.6):
    lambda log p(w|t) + (1 - lambda) log(p(w|t) / p(w)). Plain p(w|t) puts the corpus's
    commonest words ("great", "好") at the top of every topic; the lift term pushes them down."""
    log_topic = np.log(np.maximum(topic_word, _EPSILON))
    lift = log_topic - np.log(np.maximum(term_share, _EPSILON))[None, :]
    relevance = RELEVANCE_LAMBDA * log_topic + (1 - RELEVANCE_LAMBDA) * lift
    return [np.argsort(-row, kind="stable")[:top] for row in relevance]


def topic_labels(word_lists: Sequence[Sequence[str]], *, words: int = LABEL_WORDS) -> list[str]:
    """A short label per topic from its top words ("delivery · slow · package"): a word that is
    part of a word already in the label, or contains one, is skipped ("deliver" after
    "delivery", "smaller" after "small"), and a label equal to an earlier one takes further
    words until it differs (or its topic number)."""
    labels: list[str] = []
    for number, candidates in enumerate(word_lists):
        picked: list[str] = []
        label = ""
        for word in candidates:
            if any(word in earlier or earlier in word for earlier in picked):
                continue
            picked.append(word)
            label = " · ".join(picked)
            if len(picked) >= words and label not in labels:
                break
        if not label or label in labels:
            label = f"{label} ({number + 1})" if label else f"Topic {number + 1}"
        labels.append(label)
    return labels


def _not_enough(usable: int, reason: str = "") -> NotEnoughText:
    return NotEnoughText(
        f"Topics need at least {MIN_DOCUMENTS} documents with words; {usable} had any{reason}",
        usable=usable,
        needed=MIN_DOCUMENTS,
    )


def lda_fit(
    documents: list[list[str]],
    *,
    k_candidates: Sequence[int] = DEFAULT_K,
    passes: int | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    min_weight: float = MIN_WEIGHT,
    sample_size: int = SAMPLE_SIZE,
) -> TopicResult:
    """LDA topics of token lists, the number of topics chosen by NPMI coherence among
    `k_candidates` (see the module docstring). `passes` None picks by corpus size. Raises
    NotEnoughText when fewer than 20 documents have terms that other documents share."""
    from gensim.corpora import Dictionary

    started = time.perf_counter()
    report = progress or (lambda percent, message: None)
    non_empty = sum(1 for document in documents if document)
    if non_empty < MIN_DOCUMENTS:
        raise _not_enough(non_empty)
    report(0.0, f"Building the dictionary of {len(documents)} documents")
    dictionary = Dictionary(documents)
    no_below = _no_below(non_empty)
    dictionary.filter_extremes(no_below=no_below, no_above=NO_ABOVE, keep_n=KEEP_TERMS)
    bows = [dictionary.doc2bow(document) for document in documents]
    usable = [index for index, bow in enumerate(bows) if bow]
    if len(usable) < MIN_DOCUMENTS:
        raise _not_enough(
            len(usable),
            f" of the terms kept (in at least {no_below} documents and at most half of them)",
        )
    candidates = _candidates(k_candidates, len(usable), len(dictionary))
    corpus = [bows[index] for index in usable]
    counts = _counts(corpus, len(dictionary)).tocsr()
    presence = (counts > 0).astype(np.float64).tocsc()
    term_share = np.asarray(counts.sum(axis=0)).ravel() / counts.sum()
    sampled = len(corpus) > sample_size
    if sampled:
        rows = np.sort(np.random.default_rng(seed).choice(len(corpus), sample_size, replace=False))
        fit_corpus, fit_counts = [corpus[row] for row in rows], counts[rows]
    else:
        fit_corpus, fit_counts = corpus, counts
    candidate_passes = passes or _passes(len(fit_corpus))
    coherence: dict[int, float] = {}
    best: tuple[float, int, Any] | None = None
    steps = len(candidates) + (2 if sampled else 1)
    for step, k in enumerate(candidates):
        report(100 * step / steps, f"Trying {k} topics on {len(fit_corpus)} documents")
        model = _lda(fit_corpus, fit_counts, dictionary, k, candidate_passes, seed)
        score = npmi_coherence(ranked_terms(model.get_topics(), term_share), presence)
        coherence[k] = round(score, 4)
        if best is None or score > best[0] + 1e-9:
            best = (score, k, model)
    assert best is not None
    _, chosen_k, lda = best
    if sampled:
        report(
            100 * len(candidates) / steps, f"Fitting {chosen_k} topics on {len(corpus)} documents"
        )
        # The final fit starts from the winning sample model's topics: the topics that won.
        lda = _lda(
            corpus,
            counts,
            dictionary,
            chosen_k,
            passes or _passes(len(corpus)),
            seed,
            lda.get_topics(),
        )
    report(100 * (steps - 1) / steps, "Scoring documents")
    model = LdaTopicModel(lda, dictionary, [], range(chosen_k), seed=seed, min_weight=min_weight)
    theta = model.theta(corpus)
    sizes = np.bincount(theta.argmax(axis=1), minlength=chosen_k)
    order = np.argsort(-sizes, kind="stable")
    topic_word = lda.get_topics()[order]
    vocabulary = [dictionary[i] for i in range(len(dictionary))]
    word_lists = [
        [(vocabulary[i], round(float(row[i]), 4)) for i in terms]
        for row, terms in zip(topic_word, ranked_terms(topic_word, term_share), strict=True)
    ]
    labels = topic_labels([[word for word, _ in words] for words in word_lists])
    topics = [
        Topic(
            index=public,
            label=labels[public],
            words=word_lists[public],
            size=int(sizes[gensim_index]),
            share=round(float(sizes[gensim_index]) / len(corpus), 4),
        )
        for public, gensim_index in enumerate(order)
    ]
    model = LdaTopicModel(lda, dictionary, topics, order, seed=seed, min_weight=min_weight)
    ordered_theta = theta[:, order]
    document_topics: list[list[tuple[int, float]]] = [[] for _ in documents]
    for row, index in enumerate(usable):
        document_topics[index] = _weights(ordered_theta[row], min_weight)
    report(100.0, f"{chosen_k} topics")
    return TopicResult(
        method=LDA,
        topics=topics,
        document_topics=document_topics,
        coherence=coherence,
        chosen_k=chosen_k,
        seconds=round(time.perf_counter() - started, 3),
        model=model,
    )


def embedding_topics(
    embeddings: np.ndarray,
    documents: list[list[str]],
    *,
    k_candidates: Sequence[int] = DEFAULT_K,
    seed: int = 0,
    progress: Progress | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> TopicResult:
    """Topics by clustering sentence embeddings: k-means on the unit vectors, k by silhouette
    (on a seeded sample of at most 5,000 vectors), words by class-based TF-IDF of each cluster's
    token lists. `embeddings` has one row per document; documents without terms get []."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    started = time.perf_counter()
    report = progress or (lambda percent, message: None)
    vectors = np.asarray(embeddings, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(documents):
        raise ValueError(
            f"embeddings must have one row per document ({len(documents)}), got shape {vectors.shape}"
        )
    usable = [index for index, document in enumerate(documents) if document]
    if len(usable) < MIN_DOCUMENTS:
        raise _not_enough(len(usable))
    candidates = _candidates(k_candidates, len(usable), len(usable))
    norms = np.linalg.norm(vectors[usable], axis=1, keepdims=True)
    points = vectors[usable] / np.where(norms > 0, norms, 1.0)
    rng = np.random.default_rng(seed)
    sampled = len(points) > sample_size
    fit_points = (
        points[np.sort(rng.choice(len(points), sample_size, replace=False))] if sampled else points
    )
    scored = min(SILHOUETTE_SAMPLE, len(fit_points))
    coherence: dict[int, float] = {}
    best: tuple[float, int, Any] | None = None
    for step, k in enumerate(candidates):
        report(100 * step / (len(candidates) + 1), f"Trying {k} clusters")
        kmeans = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(fit_points)
        if len(set(kmeans.labels_.tolist())) < 2:
            score = -1.0
        else:
            score = float(
                silhouette_score(fit_points, kmeans.labels_, sample_size=scored, random_state=seed)
            )
        coherence[k] = round(score, 4)
        if best is None or score > best[0] + 1e-9:
            best = (score, k, kmeans)
    assert best is not None
    _, chosen_k, kmeans = best
    if sampled:
        report(
            100 * len(candidates) / (len(candidates) + 1), f"Clustering all {len(points)} documents"
        )
        kmeans = KMeans(
            n_clusters=chosen_k, init=kmeans.cluster_centers_, n_init=1, random_state=seed
        ).fit(points)
    clusters = np.asarray(kmeans.labels_, dtype=np.int64)
    sizes = np.bincount(clusters, minlength=chosen_k)
    order = np.argsort(-sizes, kind="stable")
    public = np.empty(chosen_k, dtype=np.int64)
    public[order] = np.arange(chosen_k)
    vocabulary = sorted({term for index in usable for term in documents[index]})
    column = {term: number for number, term in enumerate(vocabulary)}
    lengths = [len(documents[index]) for index in usable]
    rows = np.repeat(public[clusters], lengths)
    columns = np.fromiter(
        (column[term] for index in usable for term in documents[index]),
        dtype=np.int64,
        count=sum(lengths),
    )
    counts = sparse.coo_matrix(
        (np.ones(len(columns)), (rows, columns)), shape=(chosen_k, len(vocabulary))
    )
    weights = kw.class_tfidf(counts.tocsr())
    word_lists = []
    for row in weights:
        best_terms = [i for i in np.argsort(-row, kind="stable")[:TOP_WORDS] if row[i] > 0]
        word_lists.append([(vocabulary[i], round(float(row[i]), 4)) for i in best_terms])
    labels = topic_labels([[word for word, _ in words] for words in word_lists])
    topics = [
        Topic(
            index=number,
            label=labels[number],
            words=word_lists[number],
            size=int(sizes[order[number]]),
            share=round(float(sizes[order[number]]) / len(usable), 4),
        )
        for number in range(chosen_k)
    ]
    document_topics: list[list[tuple[int, float]]] = [[] for _ in documents]
    for row, index in enumerate(usable):
        document_topics[index] = [(int(public[clusters[row]]), 1.0)]
    report(100.0, f"{chosen_k} topics")
    return TopicResult(
        method=EMBEDDING,
        topics=topics,
        document_topics=document_topics,
        coherence=coherence,
        chosen_k=chosen_k,
        seconds=round(time.perf_counter() - started, 3),
    )
