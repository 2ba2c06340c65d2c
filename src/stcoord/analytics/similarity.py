"""Find pairs of texts that look like the same work funded twice: cosine similarity of TF-IDF.

Each text becomes a TF-IDF vector (sublinear term frequency, smoothed inverse document
frequency, L2 norm) over hashed features, and every pair ``i < j`` whose cosine is at least the
threshold is reported. Features are word 1-2-grams for space-separated languages and character
2-3-grams for Chinese and Japanese (``representation="auto"`` picks per corpus). Every reported
score is computed the same way on every path (float32 weights, products summed in float64 in
feature order) and rounded to 6 decimals, so scores are reproducible and paths agree.

Two ways to find the pairs:

- ``method="exact"``: a pruned inverted index that cannot miss a pair (the "all-pairs" prefix
  filter of Bayardo, Ma and Srikant, 2007). Features are put in one global order, most common
  first; for each text the run of its most common features whose norm stays below a share of
  the threshold is left out of the index. Two texts with cosine ``>= t`` must share an indexed
  feature, and a candidate whose indexed part plus the bound on the rest stays below ``t`` is
  dropped before exact re-scoring. Tested equal to the brute-force product.
- ``method="ann"``: an approximate index for scale. Each text is indexed under only its
  ``ann_terms`` highest-weighted features (its rarest, most telling n-grams); two texts are
  candidates when they share one of those, and only candidates whose shared indexed weight
  reaches ``ann_min_shared`` are re-scored exactly. Near-duplicates share their rare n-grams,
  so this finds nearly all pairs the exact path finds (recall measured in
  ``benchmarks/bench_screen.py``) at a fraction of the work.

``method="auto"`` takes the exact path up to 20,000 texts and the index above.

>>> texts = [
...     "Machine learning for protein folding with graph neural networks.",
...     "Graph neural networks for protein folding with machine learning.",
...     "Deep ocean carbon cycle observations from autonomous floats.",
... ]
>>> [(p.left, p.right) for p in screen(texts, threshold=0.3)]
[(0, 1)]
>>> Screener(threshold=0.3).fit(texts).query(["Autonomous floats observe the deep ocean carbon."])
[Pair(left=0, right=2, score=0.487789)]
"""

from __future__ import annotations

import heapq
import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from stcoord.analytics.text_features import ngram_counts

DEFAULT_THRESHOLD: float = 0.4
"""Cosine at or above which a pair is reported (measured; docs/portfolio-screening.md).

On the 3,179 NSF awards every pair inside the 112 collaborative groups scores at least 0.78, so
recall is 1.0 from 0.3 to 0.7; planted lightly reworded copies score 0.7-0.8; a half copy
("salami slicing") scores 0.25-0.55 on the whole text, so 0.4 catches ~90% of them where 0.5
catches half, at a small cost in precision (1,482 flagged pairs against 1,393 at 0.5).
"""

SCORE_DECIMALS = 6
AUTO_EXACT_MAX = 20_000
REPRESENTATIONS = ("auto", "word", "char", "dense")
METHODS = ("auto", "exact", "ann")

_DEFAULT_TUNING: dict[str, Any] = {
    "n_features": 2**23,  # hashed feature space; idf is one float32 per feature (32 MB)
    "word_ngrams": (1, 2),
    "char_ngrams": (2, 3),
    "n_jobs": None,  # vectorising processes; None = 1 below 50,000 texts, else 2
    "rescore_batch": 20_000,  # candidate pairs re-scored at a time (~0.2 GB of rows each)
    # exact: share of the threshold the unindexed part of a text may reach; a smaller share
    # indexes more features but drops more candidates (indexed part >= (1 - share) * t).
    "unindexed_share": 0.7,
    "ann_terms": 32,  # ann: features indexed per text
    "ann_min_shared": 0.01,  # ann: shared indexed weight a candidate needs to be re-scored
    "dense_model": None,  # an object with .encode(list[str]) -> array, for representation="dense"
}


@dataclass(frozen=True)
class Pair:
    """Two texts whose cosine similarity is at least the threshold.

    ``left``/``right`` index the fitted texts with ``left < right``; from
    :meth:`Screener.query`, ``left`` indexes the new texts and ``right`` the fitted ones.
    """

    left: int
    right: int
    score: float


# Hiragana, katakana, CJK ideographs (with extension A and compatibility), hangul, half-width kana.
_CJK = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\uff66-\uff9f]"
)
_LETTER = re.compile(r"[^\W\d_]")


def cjk_share(texts: Sequence[str], *, sample: int = 300) -> float:
    """Share of CJK characters among the letters of (a sample of) the texts.

    >>> cjk_share(["人工知能の研究", "AI research"])
    0.411765
    """
    step = max(1, len(texts) // sample)
    letters = cjk = 0
    for k in range(0, len(texts), step):
        head = texts[k][:500]
        letters += len(_LETTER.findall(head))
        cjk += len(_CJK.findall(head))
    return round(cjk / letters, 6) if letters else 0.0


def choose_representation(texts: Sequence[str]) -> str:
    """``"char"`` when most letters are Chinese/Japanese/Korean characters, else ``"word"``.

    >>> choose_representation(["研究開発の推進", "量子コンピュータ Quantum"])
    'char'
    """
    return "char" if cjk_share(texts) > 0.5 else "word"


def _rows_of(x: sp.csr_matrix) -> npt.NDArray[np.int64]:
    return np.repeat(np.arange(x.shape[0], dtype=np.int64), np.diff(x.indptr))


class Screener:
    """Screen a portfolio of texts for near-duplicate pairs (scikit-learn style estimator).

    Parameters are stored as given; :meth:`fit` learns the idf weights and builds the index.
    ``**tuning`` overrides the defaults in ``_DEFAULT_TUNING`` (``n_features``,
    ``word_ngrams``, ``char_ngrams``, ``n_jobs``, ``rescore_batch``, ``unindexed_share``,
    ``ann_terms``, ``ann_min_shared``, ``dense_model``). ``random_state`` is kept for the
    scikit-learn convention; nothing here is random.

    >>> s = Screener(threshold=0.5).fit(["a study of bees", "a study of bees", "rocks"])
    >>> s.pairs()
    [Pair(left=0, right=1, score=1.0)]
    >>> s.representation_, s.method_
    ('word', 'exact')
    """

    def __init__(
        self,
        *,
        representation: str = "auto",
        threshold: float = DEFAULT_THRESHOLD,
        method: str = "auto",
        random_state: int = 0,
        **tuning: Any,
    ) -> None:
        self.representation = representation
        self.threshold = threshold
        self.method = method
        self.random_state = random_state
        self.tuning = tuning

    # -- parameters -------------------------------------------------------------------------

    def _check_params(self) -> None:
        if self.representation not in REPRESENTATIONS:
            raise ValueError(
                f"representation must be one of {REPRESENTATIONS}, not {self.representation!r}"
            )
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")
        if not (0.0 < float(self.threshold) <= 1.0):
            raise ValueError(f"threshold must be in (0, 1], not {self.threshold!r}")
        unknown = set(self.tuning) - set(_DEFAULT_TUNING)
        if unknown:
            raise ValueError(f"unknown tuning parameters: {sorted(unknown)}")

    def _opt(self, name: str) -> Any:
        return self.tuning.get(name, _DEFAULT_TUNING[name])

    # -- representation ---------------------------------------------------------------------

    def _counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        char = self.representation_ == "char"
        kw: dict[str, Any] = {
            "analyzer": "char" if char else "word",
            "ngrams": tuple(self._opt("char_ngrams" if char else "word_ngrams")),
            "n_features": int(self._opt("n_features")),
        }
        n_jobs = self._opt("n_jobs")
        if n_jobs is None:
            n_jobs = 1 if len(texts) < 50_000 else min(2, os.cpu_count() or 1)
        step = 20_000
        starts = range(0, len(texts), step)
        try:
            if n_jobs <= 1:
                parts = [ngram_counts(texts[k : k + step], **kw) for k in starts]
            else:
                from joblib import Parallel, delayed

                parts = Parallel(n_jobs=n_jobs, return_as="generator")(
                    delayed(ngram_counts)(list(texts[k : k + step]), **kw) for k in starts
                )
                parts = list(parts)
        except (AttributeError, TypeError) as exc:
            raise TypeError("texts must be strings") from exc
        return _stack(parts, len(texts), kw["n_features"])

    def _weigh(self, x: sp.csr_matrix) -> sp.csr_matrix:
        """In place: sublinear tf times idf, L2-normalised rows (float32), block by block."""
        step = 20_000
        for lo in range(0, x.shape[0], step):
            hi = min(x.shape[0], lo + step)
            a, b = x.indptr[lo], x.indptr[hi]
            data = (1.0 + np.log(x.data[a:b].astype(np.float64))) * self.idf_[x.indices[a:b]]
            row = np.repeat(np.arange(hi - lo), np.diff(x.indptr[lo : hi + 1]))
            norms = np.sqrt(np.bincount(row, weights=data * data, minlength=hi - lo))
            x.data[a:b] = data / norms[row]  # a row with entries has a positive norm
        return x

    def _dense_vectors(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        model = self._opt("dense_model")
        if model is None:
            from stcoord.analytics.dense import load_minilm

            model = load_minilm()
        vecs = np.asarray(model.encode(list(texts)), dtype=np.float64)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (vecs / norms).astype(np.float32)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Rows of new texts with the fitted idf (CSR, float32, unit length)."""
        self._check_fitted()
        if self.representation_ == "dense":
            return sp.csr_matrix(self._dense_vectors(texts))
        return self._weigh(self._counts(texts))

    # -- fitting ----------------------------------------------------------------------------

    def fit(self, texts: Sequence[str]) -> Screener:
        """Learn idf weights from ``texts``, vectorise them and build the index; returns self.

        ``texts`` may be any sequence (a list, or a lazy file-backed sequence for big runs).
        """
        self._check_params()
        for k in range(min(len(texts), 100)):
            if not isinstance(texts[k], str):
                raise TypeError(f"texts must be strings (item {k} is {type(texts[k]).__name__})")
        self.representation_ = (
            choose_representation(texts) if self.representation == "auto" else self.representation
        )
        self.method_ = (
            ("exact" if len(texts) <= AUTO_EXACT_MAX else "ann")
            if self.method == "auto"
            else self.method
        )
        self.n_texts_ = len(texts)
        self.index_threshold_ = float(self.threshold)
        if self.representation_ == "dense":
            self.idf_ = np.zeros(0, dtype=np.float32)
            self.D_ = self._dense_vectors(texts)
            self.X_ = sp.csr_matrix(self.D_)
            self.method_ = "exact"  # blockwise exact product: meant for re-ranking candidates
            return self
        x = self._counts(texts)
        n = x.shape[0]
        df = np.zeros(x.shape[1], dtype=np.int64)
        for a in range(0, x.nnz, 50_000_000):  # bincount copies to int64: bound that copy
            df += np.bincount(x.indices[a : a + 50_000_000], minlength=x.shape[1])
        self.idf_ = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
        self.X_ = self._weigh(x)
        # One global feature order, most common first (ties by feature id), as a compact rank;
        # features never seen in the fitted texts come last.
        used = np.flatnonzero(df)
        rank = np.empty(df.size, dtype=np.int64)
        rank[used[np.lexsort((used, -df[used]))]] = np.arange(used.size)
        unseen = np.flatnonzero(df == 0)
        rank[unseen] = used.size + np.arange(unseen.size)
        self.feature_rank_ = rank.astype(np.int32)
        self.df_ = df.astype(np.int32)
        del df, rank, used, unseen
        # What goes into the index, and what each fitted row looks up (prepared once, so a
        # resumed chunk costs no extra sort), in one pass.
        if self.method_ == "exact":
            index, norms = self._select(self.X_, ("index",))
            probe = index
        else:
            index, probe, norms = self._select(self.X_, ("index", "probe"))
        assert isinstance(index, sp.csr_matrix) and isinstance(probe, sp.csr_matrix)
        assert isinstance(norms, np.ndarray)
        self.unindexed_norm_ = norms
        self.index_T_ = index.T.tocsr()
        self.probe_ = probe
        return self

    def _index_part(
        self, x: sp.csr_matrix, role: str
    ) -> tuple[sp.csr_matrix, npt.NDArray[np.float64]]:
        """The entries of rows of ``x`` that are indexed or looked up, and the norm of the rest.

        ``role``: ``"index"`` (fitted rows going into the index), ``"probe"`` (fitted rows
        looking for partners) or ``"query"`` (new rows).
        """
        parts = self._select(x, (role,))
        return parts[0], parts[-1]

    def _select(
        self, x: sp.csr_matrix, roles: tuple[str, ...]
    ) -> list[sp.csr_matrix | npt.NDArray[np.float64]]:
        """One pass over ``x`` in row blocks: the kept entries for each role, then left norms."""
        n = x.shape[0]
        step = 20_000  # bounds the temporary arrays (~0.5 GB for 20,000 abstracts)
        kept: list[tuple[list[Any], list[Any], list[Any]]] = [([], [], []) for _ in roles]
        left_norm = np.zeros(n)
        exact = self.method_ == "exact"
        limit = self.index_threshold_ * float(self._opt("unindexed_share"))
        terms = int(self._opt("ann_terms"))
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            a, b = x.indptr[lo], x.indptr[hi]
            lengths = np.diff(x.indptr[lo : hi + 1])
            row = np.repeat(np.arange(hi - lo, dtype=np.int64), lengths)
            data = x.data[a:b].astype(np.float64)
            start = np.repeat(x.indptr[lo:hi] - a, lengths)
            keeps = []
            if exact:
                # Leave out the leading run (most common first) whose norm stays below limit.
                rank = self.feature_rank_[x.indices[a:b]].astype(np.int64)
                order = np.argsort(row * (self.feature_rank_.size + 1) + rank, kind="stable")
                del rank
                sq = data[order] ** 2
                csum = np.cumsum(sq)
                before = np.where(start > 0, csum[np.maximum(start - 1, 0)], 0.0)
                unindexed = (csum - before) < (limit * limit) * (1.0 - 1e-6)
                keep = np.empty(b - a, dtype=bool)
                keep[order] = ~unindexed
                left_norm[lo:hi] = np.sqrt(
                    np.bincount(row, weights=np.where(unindexed, sq, 0.0), minlength=hi - lo)
                )
                keeps = [keep for _ in roles]
            else:
                # Each row's `terms` highest weights among features another text also has
                # (ties by feature id); a feature of one fitted text only (df 1) can match no
                # other fitted text, but the index keeps it for queries.
                df = self.df_[x.indices[a:b]]
                shared = df >= 2
                key = row * 4.0 + np.where(shared, 0.0, 2.0) + (1.0 - data)
                order = np.argsort(key, kind="stable")
                del key
                position = np.arange(b - a) - start
                top = np.empty(b - a, dtype=bool)
                top[order] = (position < terms) & shared[order]
                keeps = [top if r == "probe" else top | (df == 1) for r in roles]
            for (datas, indices, counts), keep in zip(kept, keeps, strict=True):
                datas.append(x.data[a:b][keep])
                indices.append(x.indices[a:b][keep])
                counts.append(np.bincount(row[keep], minlength=hi - lo))
        result: list[sp.csr_matrix | npt.NDArray[np.float64]] = []
        for datas, indices, counts in kept:
            indptr = np.zeros(n + 1, dtype=np.int64)
            if counts:
                np.cumsum(np.concatenate(counts), out=indptr[1:])
            m = sp.csr_matrix(
                (
                    np.concatenate(datas) if datas else np.zeros(0, dtype=np.float32),
                    np.concatenate(indices) if indices else np.zeros(0, dtype=np.int32),
                    indptr,
                ),
                shape=x.shape,
            )
            m.has_sorted_indices = True
            result.append(m)
        result.append(left_norm)
        return result

    def _check_fitted(self) -> None:
        if not hasattr(self, "X_"):
            raise RuntimeError("Screener is not fitted: call fit(texts) first")

    # -- scoring ----------------------------------------------------------------------------

    def _rescore(
        self, a: sp.csr_matrix, i: npt.NDArray[np.int64], j: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        """Exact cosine of rows ``a[i]`` and ``X_[j]``, computed one way on every path."""
        out = np.empty(len(i))
        step = int(self._opt("rescore_batch"))
        for k in range(0, len(i), step):
            prod = a[i[k : k + step]].multiply(self.X_[j[k : k + step]]).tocsr()
            prod.sort_indices()
            out[k : k + step] = np.bincount(
                _rows_of(prod), weights=prod.data.astype(np.float64), minlength=prod.shape[0]
            )
        return np.clip(np.round(out, SCORE_DECIMALS), 0.0, 1.0)

    def similarity(self, i: int, j: int) -> float:
        """Cosine of fitted texts ``i`` and ``j`` (rounded like every reported score)."""
        self._check_fitted()
        for k in (i, j):
            if not 0 <= k < self.n_texts_:
                raise IndexError(f"text index {k} out of range 0..{self.n_texts_ - 1}")
        return float(self._rescore(self.X_, np.array([i]), np.array([j]))[0])

    def _candidates(
        self, a: sp.csr_matrix, offset: int, t: float, *, upper: bool
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Pairs (row of ``a``, fitted index) that may reach ``t``.

        ``upper``: ``a`` is fitted rows ``offset..`` and only pairs with j > i are wanted.
        """
        if self.representation_ == "dense":
            sims = np.asarray(a @ self.D_.T)
            if upper:
                sims[np.tril_indices(sims.shape[0], offset, sims.shape[1])] = -1.0
            i, j = np.nonzero(sims >= t - 1e-4)
            return i.astype(np.int64), j.astype(np.int64)
        if upper:
            rows = slice(offset, offset + a.shape[0])
            part, left_norm = self.probe_[rows], self.unindexed_norm_[rows]
        else:
            part, left_norm = self._index_part(a, "query")
        prod = (part @ self.index_T_).tocoo()
        i, j, shared = prod.row.astype(np.int64), prod.col.astype(np.int64), prod.data
        if upper:
            mask = j > i + offset
            i, j, shared = i[mask], j[mask], shared[mask]
        if self.method_ == "exact":
            # The unindexed parts add at most the larger of the two unindexed norms.
            bound = shared + np.maximum(left_norm[i], self.unindexed_norm_[j])
            mask = bound >= t - 1e-4
        else:
            mask = shared >= float(self._opt("ann_min_shared"))
        return i[mask], j[mask]

    def _pairs_in(self, a: sp.csr_matrix, offset: int, t: float, *, upper: bool) -> list[Pair]:
        i, j = self._candidates(a, offset, t, upper=upper)
        if self.representation_ == "dense":
            left = a.toarray()[i].astype(np.float64) if len(i) else np.zeros((0, 1))
            right = self.D_[j].astype(np.float64) if len(j) else np.zeros((0, 1))
            scores = np.clip(np.round((left * right).sum(axis=1), SCORE_DECIMALS), 0.0, 1.0)
        else:
            scores = self._rescore(a, i, j)
        keep = scores >= round(t, SCORE_DECIMALS)
        i, j, scores = i[keep] + offset, j[keep], scores[keep]
        order = np.lexsort((j, i, -scores))
        return [Pair(int(i[k]), int(j[k]), float(scores[k])) for k in order]

    # -- public screening -------------------------------------------------------------------

    def iter_pairs(
        self, *, start_chunk: int = 0, chunk_size: int = 10_000
    ) -> Iterator[tuple[int, int, list[Pair]]]:
        """Yield ``(chunks_done, chunks_total, pairs found in this chunk)``, chunk by chunk.

        Chunk ``c`` holds the pairs whose left text is in rows ``c*chunk_size`` to
        ``(c+1)*chunk_size - 1``; every pair ``i < j`` at or above the threshold appears in
        exactly one chunk, and the same input always gives the same chunks, so a job can store
        ``chunks_done`` and resume with ``start_chunk=chunks_done``.
        """
        self._check_fitted()
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        total = max(1, math.ceil(self.n_texts_ / chunk_size))
        t = float(self.threshold)
        for c in range(start_chunk, total):
            lo, hi = c * chunk_size, min(self.n_texts_, (c + 1) * chunk_size)
            yield c + 1, total, self._pairs_in(self.X_[lo:hi], lo, t, upper=True)

    def pairs(self, progress: Callable[[int, int], None] | None = None) -> list[Pair]:
        """Every pair ``i < j`` at or above the threshold, by score (desc), then (left, right)."""
        chunks: list[list[Pair]] = []
        for done, total, found in self.iter_pairs():
            chunks.append(found)
            if progress is not None:
                progress(done, total)
        return list(heapq.merge(*chunks, key=_pair_key))

    def query(self, new_texts: Sequence[str], *, threshold: float | None = None) -> list[Pair]:
        """Screen a batch against the fitted portfolio without refitting.

        ``left`` indexes ``new_texts``, ``right`` the fitted texts; sorted like :meth:`pairs`.
        On the exact path a threshold below the fitted one is answered by a brute-force
        product (the index only guarantees pairs at or above the threshold it was built for).
        """
        self._check_fitted()
        t = float(self.threshold if threshold is None else threshold)
        if not (0.0 < t <= 1.0):
            raise ValueError(f"threshold must be in (0, 1], not {t!r}")
        out: list[list[Pair]] = []
        step = 10_000
        for k in range(0, len(new_texts), step):
            q = self.transform(new_texts[k : k + step])
            if (
                self.method_ == "exact"
                and self.representation_ != "dense"
                and t < self.index_threshold_
            ):
                found = self._brute_force(q, t)
            else:
                found = self._pairs_in(q, 0, t, upper=False)
            out.append([Pair(p.left + k, p.right, p.score) for p in found])
        return list(heapq.merge(*out, key=_pair_key))

    def _brute_force(self, q: sp.csr_matrix, t: float) -> list[Pair]:
        prod = (q @ self.X_.T).tocoo()
        mask = prod.data >= t - 1e-4
        i, j = prod.row[mask].astype(np.int64), prod.col[mask].astype(np.int64)
        scores = self._rescore(q, i, j)
        keep = scores >= round(t, SCORE_DECIMALS)
        i, j, scores = i[keep], j[keep], scores[keep]
        order = np.lexsort((j, i, -scores))
        return [Pair(int(i[k]), int(j[k]), float(scores[k])) for k in order]


def _stack(parts: list[sp.csr_matrix], n: int, n_features: int) -> sp.csr_matrix:
    """Row blocks into one CSR, copying block by block so the peak stays near one copy."""
    nnz = sum(p.nnz for p in parts)
    data = np.empty(nnz, dtype=np.float32)
    indices = np.empty(nnz, dtype=np.int32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    at = row = 0
    parts.reverse()
    while parts:
        p = parts.pop()
        data[at : at + p.nnz] = p.data
        indices[at : at + p.nnz] = p.indices
        indptr[row + 1 : row + 1 + p.shape[0]] = p.indptr[1:] + at
        at += p.nnz
        row += p.shape[0]
        del p
    if nnz < 2**31 - 1:
        indptr = indptr.astype(np.int32)  # with int32 indices: no upcast copy
    out = sp.csr_matrix((data, indices, indptr), shape=(n, n_features))
    out.has_sorted_indices = True
    return out


def _pair_key(p: Pair) -> tuple[float, int, int]:
    return (-p.score, p.left, p.right)


def screen(
    texts: Sequence[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    representation: str = "auto",
    method: str = "auto",
) -> list[Pair]:
    """All pairs of ``texts`` with cosine at or above ``threshold``, best first.

    >>> screen(["solar cells from perovskites", "perovskite solar cells for rooftops", "whales"],
    ...        threshold=0.2)
    [Pair(left=0, right=1, score=0.260519)]
    """
    return (
        Screener(representation=representation, threshold=threshold, method=method)
        .fit(texts)
        .pairs()
    )
