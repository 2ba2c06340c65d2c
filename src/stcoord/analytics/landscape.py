"""Topic landscape of a portfolio: topics, fragmentation per topic, money against priorities.

- :func:`topic_landscape` groups texts into topics (spherical k-means on TF-IDF; the number of
  topics is chosen by the cosine silhouette when not given) and names each by its top terms.
- :func:`herfindahl` and :func:`fragmentation` say per topic how many agencies fund it and how
  concentrated the money is (Herfindahl-Hirschman index of agency shares: 1 = one agency,
  ``1/n`` = ``n`` agencies with equal shares). GAO's reading: several agencies in one area is
  *fragmentation*, not a problem by itself, but the place to look for overlap.
- :func:`map_to_fields` maps texts (or topics, by their terms) onto the strategic fields of a
  mechanism by TF-IDF cosine with the fields' descriptions, and :func:`priority_gaps` sets the
  money per field against the priority weights.

>>> herfindahl({"NSF": 60.0, "NIH": 40.0})
0.52
>>> [(g.field, g.gap) for g in priority_gaps({"ai": 80.0, "bio": 20.0}, {"ai": 1, "bio": 1})]
[('bio', -0.3), ('ai', 0.3)]
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from stcoord.analytics.similarity import choose_representation


@dataclass(frozen=True)
class Topic:
    """One topic: its index, its most characteristic terms and how many texts it holds."""

    index: int
    terms: tuple[str, ...]
    size: int


@dataclass(frozen=True)
class Landscape:
    """Topic of each text (``labels[i]`` indexes ``topics``) and the topics."""

    labels: tuple[int, ...]
    topics: tuple[Topic, ...]


@dataclass(frozen=True)
class TopicFragmentation:
    """How many agencies fund a topic, how concentrated (HHI) and how much in total."""

    topic: int
    n_agencies: int
    hhi: float
    total: float
    by_agency: tuple[tuple[str, float], ...]  # largest first


@dataclass(frozen=True)
class FieldMatch:
    """Best strategic field for one text (``None`` when nothing matches) and its cosine."""

    field: str | None
    score: float


@dataclass(frozen=True)
class FieldGap:
    """Share of the money in a field against its share of the priority weights."""

    field: str
    money: float
    money_share: float
    priority_share: float
    gap: float  # money_share - priority_share: negative = under-funded against the priority


def _vectorizer(texts: Sequence[str], *, min_df: int = 1) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if choose_representation(texts) == "char":
        return TfidfVectorizer(
            analyzer="char", ngram_range=(2, 3), sublinear_tf=True, min_df=min_df
        )
    return TfidfVectorizer(
        stop_words="english", ngram_range=(1, 2), sublinear_tf=True, min_df=min_df, max_df=0.5
    )


def _spherical_kmeans(x: Any, k: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if x.shape[0] > 20_000:
        km: Any = MiniBatchKMeans(
            n_clusters=k, random_state=random_state, n_init=3, batch_size=4096
        )
    else:
        km = KMeans(n_clusters=k, random_state=random_state, n_init=4)
    labels = km.fit_predict(x)
    return labels, km.cluster_centers_


def topic_landscape(
    texts: Sequence[str], *, n_topics: int | None = None, random_state: int = 0
) -> Landscape:
    """Group ``texts`` into topics named by their top terms.

    With ``n_topics=None`` the number is chosen from the data: the candidate (between 2 and
    ``min(40, sqrt(n))``) with the best cosine silhouette on a sample of up to 2,000 texts, in
    a 100-dimensional LSA space. Deterministic for a given ``random_state``.

    >>> texts = ["solar cells perovskite efficiency", "perovskite solar module stability",
    ...          "coral reef ocean warming", "ocean warming coral bleaching"]
    >>> land = topic_landscape(texts, n_topics=2)
    >>> land.labels[0] == land.labels[1] != land.labels[2] == land.labels[3]
    True
    """
    texts = list(texts)
    n = len(texts)
    if n == 0:
        return Landscape((), ())
    if n_topics is not None and not 1 <= n_topics <= n:
        raise ValueError(f"n_topics must be between 1 and the number of texts ({n})")
    vec = _vectorizer(texts, min_df=2 if n >= 1000 else 1)
    try:
        x = vec.fit_transform(texts)
    except ValueError:  # nothing but stop words or empty texts
        return Landscape(tuple([0] * n), (Topic(0, (), n),))
    terms = vec.get_feature_names_out()
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    dims = min(100, x.shape[1] - 1, n - 1)
    if dims >= 2:
        z = normalize(TruncatedSVD(dims, random_state=random_state).fit_transform(x))
    else:
        z = normalize(x.toarray())
    if n_topics is None:
        n_topics = _choose_k(z, random_state)
    if n_topics == 1:
        labels = np.zeros(n, dtype=np.int64)
    else:
        labels, _ = _spherical_kmeans(z, n_topics, random_state)
    # Relabel by size (largest topic first, ties by first appearance) so labels are stable.
    sizes = np.bincount(labels, minlength=n_topics)
    first = np.full(n_topics, n)
    for i in range(n - 1, -1, -1):
        first[labels[i]] = i
    order = sorted(
        (k for k in range(n_topics) if sizes[k] > 0), key=lambda k: (-sizes[k], first[k])
    )
    remap = {old: new for new, old in enumerate(order)}
    labels = np.array([remap[int(v)] for v in labels])
    topics = []
    x = sp.csr_matrix(x)
    for new, old in enumerate(order):
        rows = np.flatnonzero(labels == new)
        centre = np.asarray(x[rows].mean(axis=0)).ravel()
        top = [terms[t] for t in np.argsort(-centre, kind="stable")[:8] if centre[t] > 0]
        topics.append(Topic(new, tuple(top), int(sizes[old])))
    return Landscape(tuple(int(v) for v in labels), tuple(topics))


def _choose_k(z: np.ndarray, random_state: int) -> int:
    from sklearn.metrics import silhouette_score

    n = z.shape[0]
    if n < 4:
        return 1
    top = max(2, min(40, int(math.sqrt(n))))
    candidates = sorted({k for k in (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40) if k <= top})
    rng = np.random.default_rng(random_state)
    sample = rng.choice(n, size=min(n, 2000), replace=False) if n > 2000 else np.arange(n)
    best, best_score = 2, -2.0
    for k in candidates:
        labels, _ = _spherical_kmeans(z[sample], k, random_state)
        if len(set(labels.tolist())) < 2:
            continue
        score = float(silhouette_score(z[sample], labels, metric="cosine"))
        if score > best_score + 1e-9:
            best, best_score = k, score
    return best


def herfindahl(amounts: Mapping[str, float]) -> float:
    """Sum of squared shares of the total, in [0, 1] (0 when there is no money).

    >>> herfindahl({"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0})
    0.25
    """
    values = [float(v) for v in amounts.values()]
    if any(v < 0 or math.isnan(v) for v in values):
        raise ValueError("amounts must be non-negative numbers")
    total = sum(values)
    if total <= 0:
        return 0.0
    return round(sum((v / total) ** 2 for v in values), 6)


def fragmentation(
    labels: Sequence[int], agencies: Sequence[str], amounts: Sequence[float]
) -> tuple[TopicFragmentation, ...]:
    """Per topic: number of agencies funding it, Herfindahl of their shares, total amount.

    >>> [(f.topic, f.n_agencies, f.hhi, f.total) for f in fragmentation(
    ...     [0, 0, 1], ["NSF", "NIH", "NSF"], [30.0, 10.0, 5.0])]
    [(0, 2, 0.625, 40.0), (1, 1, 1.0, 5.0)]
    """
    if not len(labels) == len(agencies) == len(amounts):
        raise ValueError("labels, agencies and amounts must have the same length")
    money: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for topic, agency, amount in zip(labels, agencies, amounts, strict=True):
        money[int(topic)][agency] += float(amount or 0.0)
    out = []
    for topic in sorted(money):
        by = money[topic]
        ranked = tuple(sorted(by.items(), key=lambda kv: (-kv[1], kv[0])))
        out.append(
            TopicFragmentation(
                topic=topic,
                n_agencies=sum(1 for v in by.values() if v > 0) or len(by),
                hhi=herfindahl(by),
                total=round(sum(by.values()), 2),
                by_agency=ranked,
            )
        )
    return tuple(out)


def map_to_fields(
    texts: Sequence[str | Sequence[str]],
    field_descriptions: Mapping[str, str],
    *,
    min_score: float = 0.0,
) -> tuple[FieldMatch, ...]:
    """Best field for each text (or topic given as its terms) by TF-IDF cosine.

    A text whose best cosine is not above ``min_score`` maps to ``None``.

    >>> fields = {"ai": "artificial intelligence machine learning neural networks",
    ...           "quantum": "quantum information science qubits computing"}
    >>> [m.field for m in map_to_fields(["deep neural networks for vision",
    ...                                   ("qubits", "quantum error correction")], fields)]
    ['ai', 'quantum']
    """
    if not field_descriptions:
        raise ValueError("no fields to map onto")
    docs = [t if isinstance(t, str) else " ".join(t) for t in texts]
    keys = list(field_descriptions)
    from sklearn.feature_extraction.text import TfidfVectorizer

    corpus = docs + [field_descriptions[k] for k in keys]
    if choose_representation(corpus) == "char":
        vec = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True)
    else:
        vec = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    try:
        m = vec.fit_transform(corpus)
    except ValueError:
        return tuple(FieldMatch(None, 0.0) for _ in docs)
    sims = (m[: len(docs)] @ m[len(docs) :].T).toarray()
    out = []
    for row in sims:
        best = int(np.argmax(row)) if row.size else 0
        score = round(float(row[best]), 6) if row.size else 0.0
        out.append(FieldMatch(keys[best] if score > min_score else None, score))
    return tuple(out)


def priority_gaps(
    money_by_field: Mapping[str, float], weights: Mapping[str, float]
) -> tuple[FieldGap, ...]:
    """Share of money per field against its share of the priority weights, biggest gap first.

    Fields in either mapping appear (money 0 or weight 0 where missing), ordered by gap
    ascending: the most under-funded field against its priority comes first.

    >>> [(g.field, g.money_share, g.priority_share) for g in priority_gaps({"ai": 50.0},
    ...                                                                     {"ai": 3, "bio": 1})]
    [('bio', 0.0, 0.25), ('ai', 1.0, 0.75)]
    """
    for name, mapping in (("money", money_by_field), ("weights", weights)):
        if any(float(v) < 0 for v in mapping.values()):
            raise ValueError(f"{name} must be non-negative")
    fields = sorted(set(money_by_field) | set(weights))
    money_total = sum(float(v) for v in money_by_field.values())
    weight_total = sum(float(v) for v in weights.values())
    out = []
    for f in fields:
        money = float(money_by_field.get(f, 0.0))
        ms = money / money_total if money_total > 0 else 0.0
        ws = float(weights.get(f, 0.0)) / weight_total if weight_total > 0 else 0.0
        out.append(FieldGap(f, round(money, 2), round(ms, 6), round(ws, 6), round(ms - ws, 6)))
    out.sort(key=lambda g: (g.gap, g.field))
    return tuple(out)
