"""Customer clustering: standardised features, k-means and a Gaussian mixture, k chosen over a
range, cluster profiles and generated descriptive names.

Input is one row per customer (a pandas DataFrame indexed by customer id) with numeric
features in four groups, plus optional per-customer spend per category and free text:

* behavioural: orders, purchase rate, days since the last order, tenure, discount use,
  browsing intensity, reviews per order ...
* monetary: mean order value, total spend;
* demographic: age, gender indicators (missing values take the median);
* interest: the share of spend per top-level category, and when at least `TEXT_MIN_SHARE` of
  the customers wrote something (searches, reviews), a few latent text dimensions
  (TF-IDF -> truncated SVD).

Skewed features are log1p-transformed, every feature is standardised (zero mean, unit
variance, clipped at +-`CLIP_Z`) and then scaled so that each group carries the share of
the total variance given by `group_weights` (a group of m features is multiplied by
sqrt(weight / m)), so a group with many columns does not drown the others.

For every k in [k_min, k_max]: k-means (scored by the silhouette on a fixed sample) and a
Gaussian mixture (diagonal covariances, scored by BIC). k-means takes the k with the best
silhouette, the mixture the k with the lowest BIC; with algorithm "auto" the final model is
the one whose labels have the better silhouette on the same sample (ties: k-means). Above
`SELECTION_SAMPLE` customers the selection runs on a seeded sample of that size and the
chosen model is refitted on everyone, so the cost of trying every k stays bounded.
Clusters are numbered by size, largest first. Everything is seeded: the same data and seed
give the same clusters.

Pure numpy/pandas/scikit-learn: no Django.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture

BEHAVIOURAL = "behavioural"
MONETARY = "monetary"
DEMOGRAPHIC = "demographic"
INTEREST = "interest"
TEXT = "text"
GROUPS = (BEHAVIOURAL, MONETARY, DEMOGRAPHIC, INTEREST, TEXT)

DEFAULT_GROUP_WEIGHTS: dict[str, float] = {
    BEHAVIOURAL: 4.0,
    MONETARY: 2.0,
    DEMOGRAPHIC: 0.5,
    INTEREST: 1.0,
    TEXT: 0.5,
}
ALGORITHMS = ("auto", "kmeans", "gmm")
CLIP_Z = 4.0
TEXT_MIN_SHARE = 0.2
TEXT_COMPONENTS = 4
TEXT_TOKEN_PATTERN = r"(?u)[\u4e00-\u9fff]|\b[^\W\d_\u4e00-\u9fff]{2,}\b"
SILHOUETTE_SAMPLE = 4000
SELECTION_SAMPLE = 20_000
MIN_CUSTOMERS_PER_CLUSTER = 10
KMEANS_INITS = 4
NAME_CATEGORY_MIN_SHARE = 0.1
NAME_CATEGORY_MIN_LIFT = 1.1
GMM_INITS = 2


@dataclass(frozen=True)
class FeatureSpec:
    """One numeric input column: its group, whether it is log1p-transformed, a label."""

    name: str
    group: str
    label: str
    log: bool = False


@dataclass(frozen=True)
class ClusteringParams:
    """How to cluster: the k range, which algorithm, the seed and the group weights."""

    k_min: int = 3
    k_max: int = 8
    algorithm: str = "auto"
    seed: int = 0
    group_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_GROUP_WEIGHTS))
    silhouette_sample: int = SILHOUETTE_SAMPLE
    selection_sample: int = SELECTION_SAMPLE

    def __post_init__(self) -> None:
        if self.k_min < 2 or self.k_max < self.k_min:
            raise ValueError(
                f"k range must satisfy 2 <= k_min <= k_max, got {self.k_min}-{self.k_max}"
            )
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}")
        unknown = set(self.group_weights) - set(GROUPS)
        if unknown:
            raise ValueError(f"unknown feature group(s): {', '.join(sorted(unknown))}")
        if any(weight < 0 or not math.isfinite(weight) for weight in self.group_weights.values()):
            raise ValueError("group weights must be finite and non-negative")


@dataclass(frozen=True)
class KScore:
    """Model selection over k: the k-means silhouette and inertia, the mixture's BIC."""

    k: int
    silhouette: float
    inertia: float
    bic: float
    gmm_silhouette: float


@dataclass(frozen=True)
class FeatureMatrix:
    """The standardised, weighted matrix and how it was made (to score new customers alike)."""

    values: np.ndarray  # (customers, columns) float64
    columns: list[str]
    groups: list[str]
    center: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    text_terms: list[list[str]]  # top terms of each text dimension (empty without text)


@dataclass(frozen=True)
class ClusterProfile:
    """One cluster described: size, means vs overall, top categories and a generated name."""

    cluster: int
    name: str
    size: int
    share: float
    means: dict[str, float]  # raw feature means in the cluster
    overall: dict[str, float]  # raw feature means over everyone
    differences: dict[str, float]  # (cluster mean - overall mean) / overall std, per feature
    top_categories: list[tuple[str, float]]  # (category, share of the cluster's spend)
    traits: list[str]  # the words the name was built from


@dataclass(frozen=True)
class ClusteringResult:
    """Labels per customer (parallel to the input rows), the chosen model and its profiles."""

    customer_ids: np.ndarray
    labels: np.ndarray  # int, 0 = largest cluster
    algorithm: str  # "kmeans" or "gmm"
    k: int
    kmeans_k: int
    gmm_k: int
    silhouette: float
    selection: list[KScore]
    profiles: list[ClusterProfile]
    matrix: FeatureMatrix
    centers: np.ndarray  # cluster centres in the weighted standardised space
    used_text: bool
    feature_labels: dict[str, str]


# --- features ---------------------------------------------------------------------------------


def _text_dimensions(
    texts: Sequence[str], *, seed: int
) -> tuple[np.ndarray | None, list[list[str]]]:
    """TF-IDF of each customer's text reduced to a few dimensions, or None when too few wrote."""
    cleaned = [text.strip() if isinstance(text, str) else "" for text in texts]
    written = sum(1 for text in cleaned if text)
    if not cleaned or written < TEXT_MIN_SHARE * len(cleaned) or written < 20:
        return None, []
    # Words of two or more letters, and single Han characters (Chinese has no spaces).
    vectorizer = TfidfVectorizer(
        token_pattern=TEXT_TOKEN_PATTERN, min_df=5, max_features=3000, sublinear_tf=True
    )
    try:
        tfidf = vectorizer.fit_transform(cleaned)
    except ValueError:  # every term below min_df
        return None, []
    components = min(TEXT_COMPONENTS, tfidf.shape[1] - 1)
    if components < 1:
        return None, []
    svd = TruncatedSVD(n_components=components, random_state=seed)
    reduced = svd.fit_transform(tfidf)
    vocabulary = np.array(vectorizer.get_feature_names_out())
    terms = [
        [str(term) for term in vocabulary[np.argsort(-component)[:5]]]
        for component in svd.components_
    ]
    return reduced, terms


def feature_matrix_build(
    frame: pd.DataFrame,
    specs: Sequence[FeatureSpec],
    *,
    category_spend: pd.DataFrame | None = None,
    texts: Sequence[str] | None = None,
    group_weights: Mapping[str, float] | None = None,
    seed: int = 0,
) -> FeatureMatrix:
    """Transform, standardise and weight the features of `frame` (one row per customer).

    `category_spend` (same index, one column per category, money spent) becomes the interest
    group as spend shares; `texts` (one string per row) the text group when enough customers
    wrote something.
    """
    weights_by_group = dict(DEFAULT_GROUP_WEIGHTS)
    weights_by_group.update(group_weights or {})
    columns: list[np.ndarray] = []
    names: list[str] = []
    groups: list[str] = []
    for spec in specs:
        if spec.group not in GROUPS:
            raise ValueError(f"feature {spec.name}: unknown group {spec.group!r}")
        raw = pd.to_numeric(frame[spec.name], errors="coerce").to_numpy(dtype=np.float64)
        if spec.log:
            raw = np.log1p(np.clip(raw, 0, None))
        finite = np.isfinite(raw)
        fill = float(np.median(raw[finite])) if finite.any() else 0.0
        columns.append(np.where(finite, raw, fill))
        names.append(spec.name)
        groups.append(spec.group)
    if category_spend is not None and category_spend.shape[1]:
        spend = category_spend.reindex(frame.index).fillna(0.0).to_numpy(dtype=np.float64)
        totals = spend.sum(axis=1, keepdims=True)
        shares = np.divide(spend, totals, out=np.zeros_like(spend), where=totals > 0)
        for index, category in enumerate(category_spend.columns):
            columns.append(shares[:, index])
            names.append(f"share_{category}")
            groups.append(INTEREST)
    text_terms: list[list[str]] = []
    if texts is not None:
        reduced, text_terms = _text_dimensions(texts, seed=seed)
        if reduced is not None:
            for index in range(reduced.shape[1]):
                columns.append(reduced[:, index])
                names.append(f"text_{index + 1}")
                groups.append(TEXT)
    if not columns:
        raise ValueError("no features to cluster on")
    matrix = np.column_stack(columns)
    center = matrix.mean(axis=0)
    scale = matrix.std(axis=0)
    scale[scale == 0] = 1.0  # a constant column becomes all zeros and weighs nothing
    standardised = np.clip((matrix - center) / scale, -CLIP_Z, CLIP_Z)
    group_sizes = {group: groups.count(group) for group in set(groups)}
    weights = np.array(
        [math.sqrt(weights_by_group.get(group, 0.0) / group_sizes[group]) for group in groups]
    )
    return FeatureMatrix(
        values=standardised * weights,
        columns=names,
        groups=groups,
        center=center,
        scale=scale,
        weights=weights,
        text_terms=text_terms,
    )


# --- model selection ---------------------------------------------------------------------------


def _sample_indices(count: int, size: int, seed: int) -> np.ndarray:
    if count <= size:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=size, replace=False))


def _silhouette(values: np.ndarray, labels: np.ndarray, sample: np.ndarray) -> float:
    chosen = labels[sample]
    if np.unique(chosen).size < 2:
        return -1.0
    return float(silhouette_score(values[sample], chosen))


def _kmeans(values: np.ndarray, k: int, seed: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=KMEANS_INITS, random_state=seed).fit(values)


def _mixture(values: np.ndarray, k: int, seed: int) -> GaussianMixture:
    return GaussianMixture(
        n_components=k,
        covariance_type="diag",
        n_init=GMM_INITS,
        reg_covar=1e-3,
        max_iter=300,
        random_state=seed,
    ).fit(values)


def k_selection(
    values: np.ndarray, *, k_min: int, k_max: int, seed: int, silhouette_sample: int
) -> tuple[list[KScore], dict[int, KMeans], dict[int, GaussianMixture], np.ndarray]:
    """Fit both models for every k; return the scores and the fitted models by k."""
    sample = _sample_indices(values.shape[0], silhouette_sample, seed)
    scores: list[KScore] = []
    kmeans_models: dict[int, KMeans] = {}
    mixture_models: dict[int, GaussianMixture] = {}
    for k in range(k_min, k_max + 1):
        kmeans = _kmeans(values, k, seed)
        mixture = _mixture(values, k, seed)
        kmeans_models[k] = kmeans
        mixture_models[k] = mixture
        scores.append(
            KScore(
                k=k,
                silhouette=_silhouette(values, kmeans.labels_, sample),
                inertia=float(kmeans.inertia_),
                bic=float(mixture.bic(values)),
                gmm_silhouette=_silhouette(values, mixture.predict(values), sample),
            )
        )
    return scores, kmeans_models, mixture_models, sample


def _relabel_by_size(labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Renumber clusters so 0 is the largest (ties: the lower old number first)."""
    sizes = np.bincount(labels, minlength=k)
    order = np.lexsort((np.arange(k), -sizes))  # old numbers, largest first
    mapping = np.empty(k, dtype=np.int64)
    mapping[order] = np.arange(k)
    return mapping[labels], order


# --- profiles and names ------------------------------------------------------------------------

# Features the names are built from, when present.
_SPEND = "average_order_value"
_ORDERS = "orders"
_RECENCY = "days_since_last_order"
_DISCOUNT = "discount_share"
_BROWSING = "events_per_week"


def _level(difference: float, *, high: float = 0.5, low: float = -0.5) -> int:
    return 1 if difference > high else -1 if difference < low else 0


def _name_traits(profile_means: Mapping[str, float], differences: Mapping[str, float]) -> list[str]:
    """Words for one cluster, from how far its means sit from everyone's (in std units)."""
    traits: list[str] = []
    if _RECENCY in differences and _level(differences[_RECENCY]) > 0:
        traits.append("Lapsed")
    elif _RECENCY in differences and _level(differences[_RECENCY], low=-0.6) < 0:
        traits.append("Recent")
    if _DISCOUNT in differences and _level(differences[_DISCOUNT]) > 0:
        traits.append("deal-seeking")
    spend = _level(differences.get(_SPEND, 0.0), high=0.4, low=-0.4)
    traits.append({1: "high-spend", 0: "mid-spend", -1: "low-spend"}[spend])
    orders = profile_means.get(_ORDERS)
    order_level = _level(differences.get(_ORDERS, 0.0), high=0.4, low=-0.3)
    if orders is not None and orders < 1.2:
        traits.append("one-time")
    elif order_level > 0:
        traits.append("frequent")
    else:
        traits.append("occasional")
    return traits


def _compose_name(traits: list[str], category: str) -> str:
    words = " ".join(traits)
    name = words[:1].upper() + words[1:] + " buyers"
    if category:
        name += f" of {category}"
    return name[:120]


def _name_category(shares: np.ndarray, overall_shares: np.ndarray, columns: Sequence[str]) -> str:
    """The category that sets a cluster apart: among those with at least `NAME_CATEGORY_MIN_SHARE`
    of its spend, the one most over-represented against everyone (lift >= `NAME_CATEGORY_MIN_LIFT`);
    otherwise simply its biggest category."""
    lift = np.divide(shares, overall_shares, out=np.zeros_like(shares), where=overall_shares > 0)
    candidates = (shares >= NAME_CATEGORY_MIN_SHARE) & (lift >= NAME_CATEGORY_MIN_LIFT)
    if candidates.any():
        index = int(np.argmax(np.where(candidates, lift, -np.inf)))
    else:
        index = int(np.argmax(shares))
    return str(columns[index])


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


def _std(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.std()) if finite.size else 0.0


def _profiles(
    frame: pd.DataFrame,
    specs: Sequence[FeatureSpec],
    labels: np.ndarray,
    k: int,
    category_spend: pd.DataFrame | None,
) -> list[ClusterProfile]:
    numeric = {
        spec.name: pd.to_numeric(frame[spec.name], errors="coerce").to_numpy(dtype=np.float64)
        for spec in specs
    }
    overall = {name: _mean(values) for name, values in numeric.items()}
    spread = {name: _std(values) or 1.0 for name, values in numeric.items()}
    spend = (
        category_spend.reindex(frame.index).fillna(0.0)
        if category_spend is not None and category_spend.shape[1]
        else None
    )
    spend_values = spend.to_numpy(dtype=np.float64) if spend is not None else None
    overall_shares = None
    if spend_values is not None and spend_values.sum() > 0:
        overall_shares = spend_values.sum(axis=0) / spend_values.sum()
    total = len(labels)
    profiles: list[ClusterProfile] = []
    for cluster in range(k):
        members = labels == cluster
        size = int(members.sum())
        means = {
            name: _mean(values[members]) if size else math.nan for name, values in numeric.items()
        }
        differences = {
            name: (means[name] - overall[name]) / spread[name]
            if math.isfinite(means[name]) and math.isfinite(overall[name])
            else 0.0
            for name in numeric
        }
        top_categories: list[tuple[str, float]] = []
        category = ""
        if spend is not None and spend_values is not None and overall_shares is not None and size:
            sums = spend_values[members].sum(axis=0)
            if sums.sum() > 0:
                shares = sums / sums.sum()
                order = np.lexsort((np.arange(len(shares)), -shares))[:3]
                top_categories = [
                    (str(spend.columns[index]), round(float(shares[index]), 4)) for index in order
                ]
                category = _name_category(shares, overall_shares, list(spend.columns))
        traits = _name_traits(means, differences)
        profiles.append(
            ClusterProfile(
                cluster=cluster,
                name=_compose_name(traits, category),
                size=size,
                share=size / total if total else 0.0,
                means=means,
                overall=overall,
                differences=differences,
                top_categories=top_categories,
                traits=traits,
            )
        )
    return _unique_names(profiles)


def _unique_names(profiles: list[ClusterProfile]) -> list[ClusterProfile]:
    """Two clusters with the same generated name get their second category, then a number."""
    seen: dict[str, int] = {}
    result: list[ClusterProfile] = []
    for profile in profiles:
        name = profile.name
        if name in seen and len(profile.top_categories) > 1:
            name = f"{name} and {profile.top_categories[1][0]}"[:120]
        if name in seen:
            name = f"{profile.name} ({seen[profile.name] + 1})"[:120]
        seen[profile.name] = seen.get(profile.name, 0) + 1
        seen.setdefault(name, 1)
        result.append(
            ClusterProfile(**{**profile.__dict__, "name": name})
            if name != profile.name
            else profile
        )
    return result


# --- the whole fit ----------------------------------------------------------------------------


def clusters_fit(
    frame: pd.DataFrame,
    specs: Sequence[FeatureSpec],
    *,
    params: ClusteringParams,
    category_spend: pd.DataFrame | None = None,
    texts: Sequence[str] | None = None,
) -> ClusteringResult:
    """Cluster the customers of `frame` (index: customer ids) and describe the clusters."""
    count = len(frame)
    k_max = min(params.k_max, count // MIN_CUSTOMERS_PER_CLUSTER)
    if k_max < params.k_min:
        raise ValueError(
            f"{count} customers are too few for {params.k_min} clusters "
            f"(at least {MIN_CUSTOMERS_PER_CLUSTER} per cluster)"
        )
    matrix = feature_matrix_build(
        frame,
        specs,
        category_spend=category_spend,
        texts=texts,
        group_weights=params.group_weights,
        seed=params.seed,
    )
    values = matrix.values
    # Model selection on a fixed sample bounds its cost (2 models x every k); the chosen
    # model is then refitted on everyone.
    rows = _sample_indices(count, params.selection_sample, params.seed)
    chosen_values = values[rows]
    selection, kmeans_models, mixture_models, sample = k_selection(
        chosen_values,
        k_min=params.k_min,
        k_max=k_max,
        seed=params.seed,
        silhouette_sample=params.silhouette_sample,
    )
    # max() keeps the first of equals, so ties go to the smaller k.
    kmeans_k = max(selection, key=lambda score: score.silhouette).k
    gmm_k = min(selection, key=lambda score: score.bic).k
    kmeans_silhouette = next(score.silhouette for score in selection if score.k == kmeans_k)
    gmm_silhouette = next(score.gmm_silhouette for score in selection if score.k == gmm_k)
    use_kmeans = params.algorithm == "kmeans" or (
        params.algorithm == "auto" and kmeans_silhouette >= gmm_silhouette
    )
    algorithm, k = ("kmeans", kmeans_k) if use_kmeans else ("gmm", gmm_k)
    if rows.size == count:
        model: Any = kmeans_models[k] if use_kmeans else mixture_models[k]
    else:
        model = _kmeans(values, k, params.seed) if use_kmeans else _mixture(values, k, params.seed)
    raw_labels = (model.labels_ if use_kmeans else model.predict(values)).astype(np.int64)
    raw_centers = model.cluster_centers_ if use_kmeans else model.means_
    silhouette = _silhouette(
        values, raw_labels, _sample_indices(count, params.silhouette_sample, params.seed)
    )
    labels, order = _relabel_by_size(raw_labels, k)
    profiles = _profiles(frame, specs, labels, k, category_spend)
    return ClusteringResult(
        customer_ids=frame.index.to_numpy(),
        labels=labels,
        algorithm=algorithm,
        k=k,
        kmeans_k=kmeans_k,
        gmm_k=gmm_k,
        silhouette=silhouette,
        selection=selection,
        profiles=profiles,
        matrix=matrix,
        centers=np.asarray(raw_centers)[order],
        used_text=TEXT in matrix.groups,
        feature_labels={spec.name: spec.label for spec in specs},
    )


def result_summary(result: ClusteringResult) -> dict[str, Any]:
    """The JSON-able description of a fit (artifact and metrics): no per-customer rows."""
    return {
        "algorithm": result.algorithm,
        "k": result.k,
        "kmeans_k": result.kmeans_k,
        "gmm_k": result.gmm_k,
        "silhouette": round(result.silhouette, 6),
        "customers": int(len(result.labels)),
        "used_text": result.used_text,
        "features": result.matrix.columns,
        "feature_groups": result.matrix.groups,
        "feature_labels": result.feature_labels,
        "text_terms": result.matrix.text_terms,
        "selection": [
            {
                "k": score.k,
                "silhouette": round(score.silhouette, 6),
                "inertia": round(score.inertia, 3),
                "bic": round(score.bic, 3),
                "gmm_silhouette": round(score.gmm_silhouette, 6),
            }
            for score in result.selection
        ],
        "profiles": [
            {
                "cluster": profile.cluster,
                "name": profile.name,
                "size": profile.size,
                "share": round(profile.share, 6),
                "means": {key: _round(value) for key, value in profile.means.items()},
                "overall": {key: _round(value) for key, value in profile.overall.items()},
                "differences": {key: _round(value) for key, value in profile.differences.items()},
                "top_categories": [[name, share] for name, share in profile.top_categories],
                "traits": profile.traits,
            }
            for profile in result.profiles
        ],
    }


def _round(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)
