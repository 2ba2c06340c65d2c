"""Opinion groups and consensus from agree/disagree/pass votes, following Polis's math.

The steps are those of Polis (``math/src/polismath/math/{conversation,pca,clusters,repness}.clj``
in compdemocracy/polis), reimplemented on sparse arrays:

1. **Vote matrix.** Participants × statements; ``+1`` agree, ``-1`` disagree, ``0`` pass,
   missing where a participant did not vote. A participant's last vote on a statement counts.
   Excluded (moderated-out) statements are *zeroed* as Polis does: every participant counts as
   having passed on them, so they carry no signal but still count in the sparsity scaling.
2. **Participants in the conversation.** Those who voted on at least ``min(min_votes,
   n_statements)`` statements (Polis: 7); if fewer than 15 qualify, the most active are added
   until there are 15.
3. **PCA.** Missing votes are imputed by the statement's mean, the matrix is centred, and its
   first two principal components are found (a truncated SVD of the sparse centred matrix:
   imputed entries are exactly zero after centring, so nothing dense is ever built).
4. **Projection.** Each participant is projected from the votes they cast only, scaled by
   ``sqrt(n_statements / n_votes)`` so that people who voted little are not bunched at the
   centre (Polis's ``sparsity-aware-project-ptpt``).
5. **Base clusters.** k-means with k = 100 over the projected participants in the conversation,
   taken in Polis's row order: participants in order of their first vote (the order of
   ``votes``; a :class:`VoteMatrix` carries none, its participants go by id). Base clusters are
   numbered in that order, as Polis's ids are. Polis's math runs again on every batch of new
   votes, starting from the last run's base clusters; when the votes carry their ``time``,
   that history is replayed (:func:`replay_base_clusters`, see ``analyze(replay=...)``).
6. **Groups.** Weighted k-means (weights = base cluster sizes) over the base-cluster centres for
   k = 2 .. min(max_groups, 2 + n_base // 12); k is chosen by the silhouette coefficient over the
   base clusters (as Polis does: one point per base cluster, unweighted; a tie goes to the
   larger k). With at most 100 distinct positions every position is a base cluster and the
   groups are Polis's own run (:func:`polis_kmeans`: the first k distinct base-cluster centres
   start it, 20 iterations at most), so they come out as Polis's, ids included; with more,
   Polis's base clusters carry the conversation's history and the best of 20 k-means++ starts
   stands in. Groups are numbered by their first base cluster. Work and memory stay linear in
   participants; no all-pairs distance over participants is ever computed.
7. **Representative statements** per group (Polis's ``repness``): agree/disagree probabilities
   with a pseudocount of 1 (``(n + 1) / (N + 2)``), the ratio to the rest of the participants,
   one-proportion and two-proportion z-tests, significance at 90 % (z > 1.2816) for both;
   the best-agreed statement first, then the rest by ``repness * repness_test * p * p_test``,
   at most five, agrees before disagrees.
8. **Group-informed consensus**: for each statement the product over groups of
   ``(agree + 1) / (votes + 2)`` (and likewise for disagree). The statements reported as
   consensus are those that a majority of *every* group supports in the same direction
   (each factor above one half), ranked by that product.
9. **Majority** (Polis's plain ``consensus``): statements most participants agree (disagree)
   with: ``p > 0.5`` and one-proportion z significant at 90 %, ranked by ``p * z``, five per side.

Sign convention: here ``+1`` means agree. Polis's openData CSV exports (``votes.csv``,
``participants-votes.csv``) use the same convention; Polis's database and raw API use ``-1`` for
agree (red-dwarf flips API votes on load). :mod:`stcoord.consultation.polis_format` documents the
file formats.

>>> rows = {"ann": "++-+", "bob": "++-+", "cat": "+-++", "dan": "--++"}
>>> votes = [Vote(p, s, 1 if v == "+" else -1) for p, row in rows.items()
...          for s, v in zip("abcd", row)]
>>> result = analyze(votes, min_votes=3)
>>> sorted(sorted(g.members) for g in result.groups)
[['ann', 'bob'], ['cat', 'dan']]
>>> [(c.statement, c.direction) for c in result.consensus]
[('d', 'agree')]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse.linalg import svds
from scipy.spatial import cKDTree

Direction = Literal["agree", "disagree"]

AGREE, DISAGREE, PASS = 1, -1, 0
Z_90 = 1.2815515655446004  # one-sided 90 % critical value of the standard normal
GREEDY_IN_CONVERSATION = 15
BASE_CLUSTERS = 100
MAX_REPRESENTATIVE = 5
MAX_MAJORITY = 5
BASE_TOLERANCE = 0.01
GROUP_ITERS = 20  # Polis's kmeans default max-iters, used for the groups
K_BUFFER = 4  # runs in a row before the number of groups changes (Polis's group-k-buffer)
REPLAY_MAX_WORK = 10_000_000  # replay="auto": at most runs x participants (see analyze)
TIE_RTOL = 1e-9  # distances this close (relatively) are a tie in the base k-means split
POLL_INTERVAL = 1.0  # seconds between Polis's polls for new votes (poller.clj, 1000 ms)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Vote:
    """One vote: ``value`` is ``1`` agree, ``-1`` disagree, ``0`` pass.

    ``time`` (seconds, any epoch; optional and not part of equality) is when the vote was cast.
    When every vote carries one, :func:`analyze` replays Polis's base clusters run by run (see
    :func:`replay_base_clusters`) where that history decides Polis's groups.
    """

    participant: str
    statement: str
    value: int
    time: float | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RepresentativeStatement:
    """A statement that sets a group apart (Polis's ``repness`` entry).

    ``repness`` is the ratio of the group's (smoothed) probability of voting ``direction`` to
    that of everyone else in the conversation; ``agree_share`` / ``disagree_share`` are the
    plain shares of the group's votes on the statement (passes count in ``votes``).
    """

    statement: str
    direction: Direction
    repness: float
    agree_share: float
    disagree_share: float
    votes: int
    repness_test: float = 0.0  # two-proportion z of the group against the rest
    probability: float = 0.0  # (n_direction + 1) / (votes + 2) within the group
    probability_test: float = 0.0  # one-proportion z of that probability against 1/2
    best_agree: bool = False  # Polis's "best-agree": the statement put first for the group


@dataclass(frozen=True)
class OpinionGroup:
    """An opinion group: its members (participant ids) and representative statements."""

    id: int
    members: tuple[str, ...]
    representative: tuple[RepresentativeStatement, ...]
    center: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class ConsensusStatement:
    """A statement a majority of every group supports in ``direction``.

    ``score`` is the group-informed consensus: the product over groups of the group's smoothed
    probability ``(n + 1) / (votes + 2)`` of voting ``direction``.
    """

    statement: str
    direction: Direction
    score: float


@dataclass(frozen=True)
class DivisiveStatement:
    """A statement the groups disagree on: ``score`` is the spread (max - min) of the groups'
    smoothed agree probabilities; ``agree_by_group[i]`` belongs to group ``i``."""

    statement: str
    score: float
    agree_by_group: tuple[float, ...]


@dataclass(frozen=True)
class MajorityStatement:
    """Polis's plain ``consensus``: most participants (all, not per group) vote ``direction``."""

    statement: str
    direction: Direction
    probability: float
    probability_test: float
    successes: int
    votes: int


@dataclass(frozen=True)
class ClusteringState:
    """What the next run needs to continue as Polis does (see ``analyze(previous=...)``).

    ``base_clusters`` lists the participants of each base cluster, in id order;
    ``group_clusterings[k]`` the groups found with k groups, each as base-cluster indices.
    """

    in_conversation: frozenset[str]
    base_clusters: tuple[tuple[str, ...], ...]
    group_clusterings: dict[int, tuple[tuple[int, ...], ...]]
    last_k: int | None = None
    last_k_count: int = 0
    smoothed_k: int | None = None


@dataclass(frozen=True)
class Analysis:
    """The result of :func:`analyze`.

    ``participants`` are everyone who voted; ``in_conversation`` those who met the vote
    threshold and were clustered (only they are group members). ``coordinates`` holds every
    participant's position on the first two principal components; ``explained_variance`` is the
    share of the total variance each of those components carries. ``groups`` is empty when the
    votes show no structure (fewer than two distinct positions); ``consensus`` then treats
    everyone in the conversation as one group.
    """

    participants: tuple[str, ...]
    statements: tuple[str, ...]
    groups: tuple[OpinionGroup, ...]
    consensus: tuple[ConsensusStatement, ...]
    divisive: tuple[DivisiveStatement, ...]
    coordinates: dict[str, tuple[float, float]]
    explained_variance: tuple[float, float]
    excluded_statements: tuple[str, ...] = ()
    in_conversation: tuple[str, ...] = ()
    majority: tuple[MajorityStatement, ...] = ()
    group_aware_consensus: dict[str, float] = field(default_factory=dict)
    statement_coordinates: dict[str, tuple[float, float]] = field(default_factory=dict)
    silhouettes: dict[int, float] = field(default_factory=dict)
    n_base_clusters: int = 0
    state: ClusteringState | None = None  # pass as ``previous`` to the next analysis

    def group_of(self) -> dict[str, int]:
        """Participant id -> group id, for clustered participants."""
        return {m: g.id for g in self.groups for m in g.members}


@dataclass(frozen=True)
class SectorAgreement:
    """Votes on one statement from one sector."""

    statement: str
    sector: str
    agree: int
    disagree: int
    passes: int
    votes: int
    agree_share: float  # agree / votes (0 when nobody in the sector voted)
    disagree_share: float


# ---------------------------------------------------------------------------------------------
# Vote matrix


def _natural_key(value: str) -> tuple[int, int, str]:
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


@dataclass(frozen=True)
class VoteMatrix:
    """Votes in coordinate form: ``rows[i]``, ``cols[i]`` index ``participants`` and
    ``statements``; ``values[i]`` is ``1``, ``-1`` or ``0``. One entry per (participant,
    statement) pair, sorted by participant then statement. Build it with :meth:`from_votes` or
    :meth:`from_arrays`."""

    participants: tuple[str, ...]
    statements: tuple[str, ...]
    rows: IntArray
    cols: IntArray
    values: npt.NDArray[np.int8]

    @classmethod
    def from_votes(cls, votes: Iterable[Vote]) -> VoteMatrix:
        """From :class:`Vote` objects; a later vote on the same statement replaces an earlier."""
        vote_list = votes if isinstance(votes, list | tuple) else list(votes)
        n = len(vote_list)
        p_ids, p_idx = _factorize_iter((v.participant for v in vote_list), n)
        s_ids, s_idx = _factorize_iter((v.statement for v in vote_list), n)
        values = np.fromiter((v.value for v in vote_list), dtype=np.int64, count=n)
        return cls.from_arrays(p_idx, s_idx, values)._renamed(p_ids, s_ids)

    def _renamed(self, participants: tuple[str, ...], statements: tuple[str, ...]) -> VoteMatrix:
        """The same votes with index ``i`` standing for ``participants[i]`` (ids in order)."""
        return VoteMatrix(
            participants=tuple(participants[int(i)] for i in self.participants),
            statements=tuple(statements[int(i)] for i in self.statements),
            rows=self.rows,
            cols=self.cols,
            values=self.values,
        )

    @classmethod
    def from_arrays(
        cls,
        participants: Sequence[str] | npt.ArrayLike,
        statements: Sequence[str] | npt.ArrayLike,
        values: Sequence[int] | npt.ArrayLike,
    ) -> VoteMatrix:
        """From three parallel arrays (ids may be strings or integers); last vote wins.

        >>> m = VoteMatrix.from_arrays([1, 1, 2], ["a", "a", "b"], [1, -1, 0])
        >>> m.participants, m.statements, m.values.tolist()
        (('1', '2'), ('a', 'b'), [-1, 0])
        """
        p_raw = np.asarray(participants)
        s_raw = np.asarray(statements)
        vals = np.asarray(values)
        if not (len(p_raw) == len(s_raw) == len(vals)):
            raise ValueError("participants, statements and values differ in length")
        if len(vals) and not np.isin(vals, (-1, 0, 1)).all():
            bad = vals[~np.isin(vals, (-1, 0, 1))][0]
            raise ValueError(f"vote value must be 1 (agree), -1 (disagree) or 0 (pass): {bad!r}")
        p_ids, p_idx = _factorize(p_raw)
        s_ids, s_idx = _factorize(s_raw)
        # keep the last vote for each (participant, statement)
        key = p_idx.astype(np.int64) * max(len(s_ids), 1) + s_idx
        rev_key = key[::-1]
        _, first_in_rev = np.unique(rev_key, return_index=True)
        keep = len(key) - 1 - first_in_rev  # row-major order (sorted by key)
        return cls(
            participants=p_ids,
            statements=s_ids,
            rows=p_idx[keep].astype(np.int64),
            cols=s_idx[keep].astype(np.int64),
            values=vals[keep].astype(np.int8),
        )


def _factorize(
    raw: npt.NDArray[Any],
) -> tuple[tuple[str, ...], IntArray]:
    """Unique ids in natural order (numbers numerically, then text) and each entry's index."""
    if raw.dtype.kind in "iu":
        uniq, inverse = np.unique(raw, return_inverse=True)
        return tuple(str(u) for u in uniq.tolist()), inverse.astype(np.int64)
    return _factorize_iter(raw.tolist(), len(raw))


def _factorize_iter(values: Iterable[object], count: int) -> tuple[tuple[str, ...], IntArray]:
    """Like :func:`_factorize` for any iterable of ids (a dict beats sorting strings)."""
    seen: dict[str, int] = {}
    first_idx = np.fromiter(
        (seen.setdefault(str(v), len(seen)) for v in values), dtype=np.int64, count=count
    )
    names = list(seen)
    ordered = sorted(range(len(names)), key=lambda i: _natural_key(names[i]))
    rank = np.empty(len(names), dtype=np.int64)
    rank[ordered] = np.arange(len(names))
    return tuple(names[i] for i in ordered), rank[first_idx]


# ---------------------------------------------------------------------------------------------
# k-means (weighted, 2-D friendly, deterministic for a seed)


def _sq_dists(x: FloatArray, centers: FloatArray) -> FloatArray:
    """Squared distances, n x k, by broadcasting one coordinate at a time (no BLAS: with the
    cores shared a small matrix product can stall; and it stays exact for near points)."""
    if x.shape[1] == 0:
        return np.zeros((len(x), len(centers)))
    d = np.subtract.outer(x[:, 0], centers[:, 0])
    d *= d
    for dim in range(1, x.shape[1]):  # the same sums as adding each square to zeros
        diff = np.subtract.outer(x[:, dim], centers[:, dim])
        diff *= diff
        d += diff
    return d


def _nearest(x: FloatArray, centers: FloatArray) -> tuple[IntArray, FloatArray]:
    """Index of and squared distance to each point's nearest centre."""
    if len(centers) > 16 and len(x) > 1000:
        dist, idx = cKDTree(centers).query(x)
        return np.asarray(idx, dtype=np.int64), np.asarray(dist) ** 2
    d = _sq_dists(x, centers)
    idx = d.argmin(1)
    return idx, d[np.arange(len(x)), idx]


def _kmeans_pp(x: FloatArray, w: FloatArray, k: int, rng: np.random.Generator) -> FloatArray:
    n = len(x)
    first = rng.choice(n, p=w / w.sum())
    centers = [x[first]]
    closest = ((x - x[first]) ** 2).sum(1)
    n_cands = 2 + int(math.log(k))
    for _ in range(1, k):
        p = closest * w
        total = p.sum()
        if total <= 0:
            break
        # a few candidates, keep the one that lowers the potential most (greedy k-means++)
        cands = rng.choice(n, size=min(n, n_cands), p=p / total)
        cand_d = np.minimum(closest[:, None], _sq_dists(x, x[cands]))
        pots = (cand_d * w[:, None]).sum(0)
        best = int(np.argmin(pots))
        centers.append(x[cands[best]])
        closest = cand_d[:, best]
    return np.array(centers)


def _lloyd(
    x: FloatArray, w: FloatArray, centers: FloatArray, max_iter: int, tol: float | None = None
) -> tuple[IntArray, FloatArray, float]:
    """Lloyd iterations until no point changes cluster or no centre moves more than ``tol``
    (default: a millionth of the data's extent)."""
    labels = np.full(len(x), -1, dtype=np.int64)
    if tol is None:
        tol = 1e-6 * (float(np.ptp(x, axis=0).max()) if len(x) else 0.0)
    tol = tol * tol
    for _ in range(max_iter):
        new_labels, _ = _nearest(x, centers)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        k = len(centers)
        wsum = np.bincount(labels, weights=w, minlength=k)
        new_centers = np.empty_like(centers)
        for dim in range(x.shape[1]):
            new_centers[:, dim] = np.bincount(labels, weights=w * x[:, dim], minlength=k)
        empty = wsum == 0
        new_centers[~empty] /= wsum[~empty, None]
        new_centers[empty] = centers[empty]
        shift = float(((new_centers - centers) ** 2).sum(1).max())
        centers = new_centers
        if shift <= tol:
            break
    labels, d = _nearest(x, centers)
    inertia = float((d * w).sum())
    return labels, centers, inertia


def weighted_kmeans(
    x: FloatArray,
    k: int,
    *,
    weights: FloatArray | None = None,
    n_init: int = 10,
    max_iter: int = 100,
    random_state: int = 0,
    tol: float | None = None,
) -> tuple[IntArray, FloatArray]:
    """Weighted k-means (Lloyd, k-means++ seeding, best of ``n_init``): labels and centres.

    Labels are renumbered ``0..k'-1`` (empty clusters dropped) in order of first appearance.

    >>> x = np.array([[0.0, 0], [0, 1], [10, 0], [10, 1]])
    >>> weighted_kmeans(x, 2)[0].tolist()
    [0, 0, 1, 1]
    """
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    rng = np.random.default_rng(random_state)
    best: tuple[IntArray, FloatArray, float] | None = None
    for _ in range(max(1, n_init)):
        init = _kmeans_pp(x, w, k, rng)
        result = _lloyd(x, w, init, max_iter, tol)
        if best is None or result[2] < best[2] - 1e-12:
            best = result
    assert best is not None
    labels, centers, _ = best
    used, first = np.unique(labels, return_index=True)
    order = used[np.argsort(first)]
    remap = np.full(len(centers), -1, dtype=np.int64)
    remap[order] = np.arange(len(order))
    return remap[labels], centers[order]


def polis_kmeans(
    x: FloatArray,
    k: int,
    *,
    weights: FloatArray | None = None,
    max_iters: int = 20,
    threshold: float = BASE_TOLERANCE,
) -> tuple[IntArray, FloatArray]:
    """k-means exactly as Polis runs it from scratch (``clusters.clj`` ``kmeans``).

    The first ``k`` *distinct* rows, in row order, are the initial centres (``init-clusters``);
    each step assigns every row to its nearest centre, drops clusters left empty and moves each
    centre to the (weighted) mean of its rows; it stops when the sorted centres all moved less
    than ``threshold`` (``same-clustering?``) or after ``max_iters + 1`` steps. Labels index the
    surviving clusters in order of their initial row, as Polis's cluster ids do. Deterministic:
    the result depends on the row order (Polis's rows are participants in order of first vote).

    >>> x = np.array([[0.0, 0], [10, 0], [0, 1], [10, 1], [4, 0]])
    >>> labels, centers = polis_kmeans(x, 2)
    >>> labels.tolist(), centers.round(3).tolist()
    ([0, 1, 0, 1, 0], [[1.333, 0.333], [10.0, 0.5]])
    """
    n = len(x)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, x.shape[1] if x.ndim == 2 else 0))
    _, first = np.unique(x, axis=0, return_index=True)
    centers = x[np.sort(first)[:k]]
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(max_iters + 1):
        labels, _ = _nearest(x, centers)
        kk = len(centers)
        counts = np.bincount(labels, minlength=kk)
        used = counts > 0
        remap = np.cumsum(used) - 1
        labels = remap[labels]
        wsum = np.bincount(labels, weights=w, minlength=int(used.sum()))
        new = np.empty((int(used.sum()), x.shape[1]))
        for dim in range(x.shape[1]):
            new[:, dim] = np.bincount(labels, weights=w * x[:, dim], minlength=len(new)) / wsum
        a = centers[np.lexsort(centers.T[::-1])]
        b = new[np.lexsort(new.T[::-1])]
        m = min(len(a), len(b))
        same = bool(np.all(np.sqrt(((a[:m] - b[:m]) ** 2).sum(1)) < threshold))
        centers = new
        if same:
            break
    return labels, centers


def silhouette(distances: FloatArray, labels: IntArray, weights: FloatArray | None = None) -> float:
    """Mean silhouette coefficient from a distance matrix (Polis's definition: a point alone in
    its cluster scores 0). With ``weights`` the per-point means and the average are weighted.

    >>> d = np.array([[0, 1, 5, 5], [1, 0, 5, 5], [5, 5, 0, 1], [5, 5, 1, 0.0]])
    >>> round(silhouette(d, np.array([0, 0, 1, 1])), 3)
    0.8
    """
    n = len(labels)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    k = int(labels.max()) + 1
    member = np.zeros((n, k))
    member[np.arange(n), labels] = 1.0
    wm = member * w[:, None]
    sums = distances @ wm  # weighted distance sums to each cluster
    counts = wm.sum(0)[None, :].repeat(n, 0)
    counts[np.arange(n), labels] -= w  # leave the point itself out of its own cluster
    own = counts[np.arange(n), labels]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    a = means[np.arange(n), labels]
    means[np.arange(n), labels] = np.inf
    b = means.min(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (b - a) / np.maximum(a, b)
    s = np.where((own <= 1e-12) | ~np.isfinite(s), 0.0, s)
    return float((s * w).sum() / w.sum())


# ---------------------------------------------------------------------------------------------
# Statistics (Polis's stats.clj)


def prop_test(successes: npt.ArrayLike, n: npt.ArrayLike) -> FloatArray:
    """One-proportion z against 1/2 with a pseudocount (Polis ``prop-test``)."""
    s = np.asarray(successes, dtype=float) + 1
    t = np.asarray(n, dtype=float) + 1
    return np.asarray(2 * np.sqrt(t) * (s / t - 0.5), dtype=float)


def two_prop_test(
    succ_in: npt.ArrayLike, succ_out: npt.ArrayLike, n_in: npt.ArrayLike, n_out: npt.ArrayLike
) -> FloatArray:
    """Two-proportion z with a pseudocount on each count (Polis ``two-prop-test``)."""
    s1 = np.asarray(succ_in, dtype=float) + 1
    s2 = np.asarray(succ_out, dtype=float) + 1
    n1 = np.asarray(n_in, dtype=float) + 1
    n2 = np.asarray(n_out, dtype=float) + 1
    p1, p2 = s1 / n1, s2 / n2
    pi = (s1 + s2) / (n1 + n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p1 - p2) / np.sqrt(pi * (1 - pi) * (1 / n1 + 1 / n2))
    return np.asarray(np.where(np.isfinite(z), z, 0.0), dtype=float)


# ---------------------------------------------------------------------------------------------
# The pipeline


def _pca2(centred: sparse.csr_matrix, random_state: int) -> tuple[FloatArray, FloatArray]:
    """First two principal axes (rows of a 2 x m array) and their squared singular values."""
    n, m = centred.shape
    comps = np.zeros((2, m))
    sv2 = np.zeros(2)
    if n == 0 or m == 0 or centred.nnz == 0:
        return comps, sv2
    # no dense participants x statements matrix, ever: a small covariance matrix, or sparse
    # Lanczos (ARPACK), which needs only matrix-vector products
    if m <= 300:
        # few statements: the m x m covariance is small; its eigenvectors are the components
        gram = (centred.T @ centred).toarray()
        evals, evecs = np.linalg.eigh(gram)
        order = np.argsort(-evals)[:2]
        r = len(order)
        comps[:r], sv2[:r] = evecs[:, order].T, np.maximum(evals[order], 0.0)
    else:
        v0 = np.random.default_rng(random_state).standard_normal(min(n, m))
        _, s, vt = svds(centred, k=2, v0=v0, solver="arpack")
        order = np.argsort(-s)
        comps, sv2 = vt[order], s[order] ** 2
    for i in range(2):  # a canonical sign: the largest loading is positive
        j = int(np.argmax(np.abs(comps[i])))
        if comps[i, j] < 0:
            comps[i] = -comps[i]
    return comps, sv2


def analyze(
    votes: Iterable[Vote] | VoteMatrix,
    *,
    excluded_statements: Collection[str] = (),
    min_votes: int = 7,
    max_groups: int = 5,
    random_state: int = 0,
    base_clusters: int = BASE_CLUSTERS,
    max_consensus: int = 10,
    max_divisive: int = 10,
    silhouette_weighted: bool = False,
    previous: Analysis | ClusteringState | None = None,
    keep_participants: Collection[str] = (),
    replay: Literal["auto", "always", "never"] = "auto",
) -> Analysis:
    """Find opinion groups, their representative statements and the consensus (see module doc).

    ``previous`` (an earlier analysis of the same conversation, or its ``state``) continues
    Polis-style: participants once in the conversation stay in, k-means starts from the last
    base clusters and groups, and the number of groups changes only after the silhouette has
    preferred the new number ``K_BUFFER`` runs in a row, so groups stay stable as votes arrive.
    ``keep_participants`` are clustered whatever their number of votes.

    Participants are clustered in order of their first vote in ``votes`` (Polis's row order,
    which decides where its k-means starts): pass votes oldest first.

    When every vote carries its ``time`` and no ``previous`` is given, Polis's earlier runs are
    replayed first (:func:`replay_base_clusters`: one run per second of votes, as its poller
    batches them; participants once in stay in) and the groups are then found from scratch over
    the base clusters that history left, as Polis's math does after reloading a conversation.
    ``replay="auto"`` does that unless the replay would be long: runs (seconds with votes)
    times participants above ``REPLAY_MAX_WORK`` (10 million; canadian-electoral-reform, 11,500
    runs x 448 participants, replays in 4-8 s) and more than ``base_clusters`` distinct
    positions; ``"always"`` at any size; ``"never"`` not at all.

    ``excluded_statements`` are moderated out: never reported and carrying no signal.
    ``min_votes`` is Polis's in-conversation threshold; ``max_groups`` the largest number of
    groups tried; ``silhouette_weighted`` weighs base clusters by size when choosing the number
    of groups (Polis does not). Deterministic for a given ``random_state``.

    >>> votes = [Vote(p, s, 1 if (int(p) < 10) == (s < "e") else -1)
    ...          for p in map(str, range(20)) for s in "abcdefgh"]
    >>> result = analyze(votes)
    >>> [len(g.members) for g in result.groups]
    [10, 10]
    >>> [(c.statement, c.direction) for c in result.consensus]
    []
    """
    first_seen: list[str] | None = None
    vote_list: Sequence[Vote] = ()
    if isinstance(votes, VoteMatrix):
        vm = votes
    else:
        vote_list = votes if isinstance(votes, list | tuple) else list(votes)
        vm = VoteMatrix.from_votes(vote_list)
        # Polis's rating-matrix rows are participants in order of their first vote
        first_seen = list(dict.fromkeys(str(v.participant) for v in vote_list))
    n, m = len(vm.participants), len(vm.statements)
    if n == 0:
        raise ValueError("no votes to analyse")
    excluded = {str(s) for s in excluded_statements}
    col_excluded = np.array([s in excluded for s in vm.statements], dtype=bool)
    rows, cols = vm.rows, vm.cols
    vals = vm.values.astype(np.float64)

    # in-conversation: raw vote counts (moderated statements included, as Polis counts them)
    raw_counts = np.bincount(rows, minlength=n)
    threshold = min(min_votes, m)
    in_conv = raw_counts >= threshold
    state_in = previous.state if isinstance(previous, Analysis) else previous
    timed = bool(vote_list) and all(v.time is not None for v in vote_list)
    sticky = set(keep_participants) | (set(state_in.in_conversation) if state_in else set())
    if sticky:
        in_conv |= np.array([p in sticky for p in vm.participants], dtype=bool)
    if in_conv.sum() < GREEDY_IN_CONVERSATION:
        order = np.lexsort((np.arange(n), -raw_counts))
        extra = [i for i in order if not in_conv[i]][: GREEDY_IN_CONVERSATION - int(in_conv.sum())]
        in_conv[extra] = True

    # the rating matrix: excluded columns zeroed (every participant "passed" on them)
    active = ~col_excluded[cols]
    a_rows, a_cols, a_vals = rows[active], cols[active], vals[active]
    col_n = np.bincount(a_cols, minlength=m)
    col_sum = np.bincount(a_cols, weights=a_vals, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        col_mean = np.where(col_n > 0, col_sum / np.maximum(col_n, 1), 0.0)
    # entries are sorted row-major and unique: build the CSR arrays directly
    indptr = np.concatenate([[0], np.cumsum(np.bincount(a_rows, minlength=n))])
    centred = sparse.csr_matrix((a_vals - col_mean[a_cols], a_cols, indptr), shape=(n, m))
    comps, sv2 = _pca2(centred, random_state)
    total_var = float(centred.multiply(centred).sum())
    explained = (
        (float(sv2[0] / total_var), float(sv2[1] / total_var)) if total_var > 0 else (0.0, 0.0)
    )
    n_votes_row = np.bincount(a_rows, minlength=n) + int(col_excluded.sum())
    scale = np.sqrt(m / np.maximum(n_votes_row, 1))
    proj = np.asarray(centred @ comps.T) * scale[:, None]
    # a virtual participant agreeing with one statement only (Polis's comment projection)
    stmt_proj = ((1.0 - col_mean)[:, None] * comps.T) * math.sqrt(m)
    stmt_proj[col_excluded] = 0.0

    # Polis's base clusters carry its run-by-run history (with at most ``base_clusters``
    # distinct positions it is all that decides its groups); vote times let us replay it (one
    # run per poll of new votes), then group from scratch over the result
    if (
        state_in is None
        and timed
        and not keep_participants
        and replay != "never"
        and (
            replay == "always"
            or _replay_runs([v.time or 0.0 for v in vote_list], POLL_INTERVAL) * n
            <= REPLAY_MAX_WORK
            or len(np.unique(proj[in_conv], axis=0)) <= base_clusters
        )
    ):
        state_in = replay_base_clusters(
            vote_list,
            excluded_statements=excluded,
            min_votes=min_votes,
            base_clusters=base_clusters,
            last_run=False,
        )
        if state_in.in_conversation:  # once in, always in
            in_conv |= np.array([p in state_in.in_conversation for p in vm.participants])

    # clustering of the participants in the conversation
    members_idx = np.flatnonzero(in_conv)
    # clustered in Polis's row order (first vote; a VoteMatrix carries no order: by id)
    row_order = members_idx
    if first_seen is not None:
        rank = np.empty(n, dtype=np.int64)
        index_of = {p: i for i, p in enumerate(vm.participants)}
        rank[[index_of[p] for p in first_seen]] = np.arange(n)
        row_order = members_idx[np.argsort(rank[members_idx], kind="stable")]
    labels_rows, centers, silhouettes, n_base, state = _cluster(
        proj[row_order],
        tuple(vm.participants[i] for i in row_order),
        base_clusters,
        max_groups,
        random_state,
        silhouette_weighted,
        state_in,
    )

    # per-group vote counts over clustered participants
    k = int(labels_rows.max()) + 1 if len(labels_rows) else 0
    if k < 2:  # no structure (everyone in one place): no opinion groups to report
        k = 0
    label_of = np.full(n, -1, dtype=np.int64)
    if k:
        label_of[row_order] = labels_rows
    stats = _group_counts(label_of, rows, cols, vals, k, m, col_excluded)

    statements = vm.statements
    keep_cols = np.flatnonzero(~col_excluded)
    groups = []
    for g in range(k):
        mem = tuple(vm.participants[i] for i in members_idx[label_of[members_idx] == g])
        reps = _representative(stats, g, keep_cols, statements)
        groups.append(
            OpinionGroup(
                id=g,
                members=mem,
                representative=reps,
                center=(float(centers[g, 0]), float(centers[g, 1])),
            )
        )

    na, nd, ns = stats  # shape (k, m)
    if k == 0:
        sel = in_conv[rows]
        na = np.bincount(cols[sel], weights=vals[sel] > 0, minlength=m)[None].astype(float)
        nd = np.bincount(cols[sel], weights=vals[sel] < 0, minlength=m)[None].astype(float)
        ns = np.bincount(cols[sel], minlength=m)[None].astype(float)
    pa = (na + 1) / (ns + 2)
    pd = (nd + 1) / (ns + 2)
    gac_a = pa.prod(0)
    gac_d = pd.prod(0)
    consensus: list[ConsensusStatement] = []
    for j in keep_cols:
        if ns[:, j].sum() == 0:
            continue
        if (pa[:, j] > 0.5).all():
            consensus.append(ConsensusStatement(statements[j], "agree", float(gac_a[j])))
        elif (pd[:, j] > 0.5).all():
            consensus.append(ConsensusStatement(statements[j], "disagree", float(gac_d[j])))
    consensus.sort(key=lambda c: (-c.score, _natural_key(c.statement)))

    divisive: list[DivisiveStatement] = []
    if k >= 2:
        for j in keep_cols:
            if (ns[:, j] == 0).any():
                continue
            spread = float(pa[:, j].max() - pa[:, j].min())
            if spread <= 1e-12:
                continue
            divisive.append(
                DivisiveStatement(statements[j], spread, tuple(float(p) for p in pa[:, j]))
            )
        divisive.sort(key=lambda d: (-d.score, _natural_key(d.statement)))

    majority = _majority(rows, cols, vals, m, keep_cols, statements)

    return Analysis(
        participants=vm.participants,
        statements=tuple(statements[j] for j in keep_cols),
        groups=tuple(groups),
        consensus=tuple(consensus[:max_consensus]),
        divisive=tuple(divisive[:max_divisive]),
        coordinates={
            p: (float(proj[i, 0]), float(proj[i, 1])) for i, p in enumerate(vm.participants)
        },
        explained_variance=explained,
        excluded_statements=tuple(s for s, e in zip(statements, col_excluded, strict=True) if e),
        in_conversation=tuple(vm.participants[i] for i in members_idx),
        majority=majority,
        group_aware_consensus={statements[j]: float(gac_a[j]) for j in keep_cols},
        statement_coordinates={
            statements[j]: (float(stmt_proj[j, 0]), float(stmt_proj[j, 1])) for j in keep_cols
        },
        silhouettes=silhouettes,
        n_base_clusters=n_base,
        state=state,
    )


def _centres(x: FloatArray, w: FloatArray | None, labels: IntArray, kk: int) -> FloatArray:
    """Weighted means of the points in each of ``kk`` clusters (points labelled -1 left out;
    an empty cluster's centre is 0). Unit weights (``w=None``) give the same values."""
    sel = labels >= 0
    lab = labels if sel.all() else labels[sel]
    xs = x if lab is labels else x[sel]
    ws: FloatArray | None = None
    if w is None:
        wsum: FloatArray = np.bincount(lab, minlength=kk).astype(np.float64)
    else:
        ws = w if lab is labels else w[sel]
        wsum = np.asarray(np.bincount(lab, weights=ws, minlength=kk), dtype=np.float64)
    out = np.empty((kk, x.shape[1]))
    for d in range(x.shape[1]):
        col = xs[:, d] if ws is None else ws * xs[:, d]
        out[:, d] = np.bincount(lab, weights=col, minlength=kk)
    out /= np.where(wsum > 0, wsum, 1.0)[:, None]
    return out


def _n_distinct_rows(x: FloatArray) -> int:
    """``len(np.unique(x, axis=0))``, faster for two columns."""
    if x.ndim == 2 and x.shape[1] == 2 and len(x):
        return len(np.unique(np.ascontiguousarray(x).view(np.complex128)))
    return len(np.unique(x, axis=0))


def _warm_kmeans_labels(
    x: FloatArray,
    w: FloatArray | None,
    k: int,
    labels_in: IntArray,
    max_iter: int,
) -> IntArray:
    """:func:`_warm_kmeans` on labels: ``labels_in`` gives each point's earlier cluster id (-1
    for none); returns each point's cluster id (0..k'-1, Polis's id order). ``w=None`` is unit
    weights. Same arithmetic as the member-list form, so the same clusters."""
    n = len(x)
    labels = np.array(labels_in, dtype=np.int64)
    if n == 0:
        return labels
    known = labels >= 0
    n_prev = int(labels.max()) + 1 if known.any() else 0
    if n_prev:
        used = np.bincount(labels[known], minlength=n_prev) > 0
        if not used.all():  # earlier clusters with no member left are dropped
            labels[known] = (np.cumsum(used) - 1)[labels[known]]
    kk = int(labels.max()) + 1 if known.any() else 0
    centers = _centres(x, w, labels, kk)
    xs0 = np.sort(centers[:, 0]) if kk > 1 else centers[:, 0]
    if kk > 1 and bool((xs0[1:] == xs0[:-1]).any()) and _n_distinct_rows(centers) < kk:
        # coinciding clusters merge (Polis's merge-clusters): the merged one keeps the id of
        # the larger (a tie: the later one's)
        sizes = np.bincount(labels[labels >= 0], weights=None, minlength=kk).tolist()
        at: dict[tuple[float, ...], int] = {}
        ids: list[int] = []
        msize: list[int] = []
        group_of: list[int] = []
        for cid in range(kk):
            key = tuple(centers[cid].tolist())
            if key in at:
                i = at[key]
                if sizes[cid] >= msize[i]:
                    ids[i] = cid
                msize[i] += sizes[cid]
            else:
                i = at[key] = len(ids)
                ids.append(cid)
                msize.append(sizes[cid])
            group_of.append(i)
        rank = np.empty(len(ids), dtype=np.int64)
        rank[np.argsort(ids, kind="stable")] = np.arange(len(ids))
        remap = rank[np.array(group_of, dtype=np.int64)]
        sel = labels >= 0
        labels[sel] = remap[labels[sel]]
        kk = len(ids)
        centers = _centres(x, w, labels, kk)
    if kk == 0:
        possible = min(k, _n_distinct_rows(x))
        first = np.unique(x, axis=0, return_index=True)[1]
        for ci, i in enumerate(sorted(first.tolist())[:possible]):
            labels[i] = ci
        kk = min(possible, len(first))
        centers = _centres(x, w, labels, kk)
    dist: FloatArray | None = None  # squared distances to ``centers``, kept up to date
    if kk < k:
        possible = min(k, _n_distinct_rows(x))
        if kk < possible:
            dist = _sq_dists(x, centers)
        while kk < possible:
            assert dist is not None
            d = dist.min(1)
            far = int(np.argmax(d))
            if d[far] <= 0:
                break
            # Polis's most-distal takes the last of equally distant points (max-key); equal
            # up to rounding counts as equal (a cluster of two: both members are as far from
            # its centre), so which one goes does not depend on how the arithmetic rounded
            far = int(np.flatnonzero(d >= d[far] * (1.0 - TIE_RTOL))[-1])
            old = int(labels[far])
            labels[far] = kk
            kk += 1
            gone = old >= 0 and not (labels == old).any()
            if gone:  # its cluster emptied: gone
                labels[labels > old] -= 1
                kk -= 1
            centers = _centres(x, w, labels, kk)
            # only the two clusters that changed moved (the others' means are recomputed from
            # the same members in the same order, so they are bitwise the same)
            if gone:
                dist = np.delete(dist, old, axis=1)
                dist = np.concatenate([dist, _sq_dists(x, centers[kk - 1 : kk])], axis=1)
            else:
                dist = np.concatenate([dist, _sq_dists(x, centers[kk - 1 : kk])], axis=1)
                if old >= 0:
                    dist[:, old] = _sq_dists(x, centers[old : old + 1])[:, 0]
    tol = BASE_TOLERANCE
    for _ in range(max_iter):
        labels = (dist if dist is not None else _sq_dists(x, centers)).argmin(1)
        dist = None
        counts = np.bincount(labels, minlength=kk)
        if counts.all():
            new_centers = _centres(x, w, labels, kk)
        else:  # empty clusters are dropped
            used = counts > 0
            labels = (np.cumsum(used) - 1)[labels]
            kk = int(used.sum())
            new_centers = _centres(x, w, labels, kk)
        # Polis's same-clustering?: centres sorted (lexicographically), compared pairwise
        a = centers[np.lexsort(centers.T[::-1])]
        b = new_centers[np.lexsort(new_centers.T[::-1])]
        mm = min(len(a), len(b))
        same = bool(np.all(np.sqrt(((a[:mm] - b[:mm]) ** 2).sum(1)) < tol))
        centers = new_centers
        if same:
            break
    return labels


def _warm_kmeans(
    x: FloatArray,
    w: FloatArray,
    k: int,
    previous: Sequence[IntArray],
    max_iter: int,
) -> list[IntArray]:
    """Polis's k-means continued from earlier clusters (``clean-start-clusters``): keep the
    earlier clusters' members that are still here, merge clusters that coincide (the merged one
    keeps the larger's id), split off the most distant point into a new last cluster while
    there are fewer than ``k`` clusters, then run Lloyd until the sorted centres move less than
    0.01. Returns the member indices of each cluster, in id order. Clusters are disjoint."""
    n = len(x)
    if n == 0:
        return []
    labels = np.full(n, -1, dtype=np.int64)
    for ci, c in enumerate(c for c in previous if len(c)):
        labels[np.asarray(c, dtype=np.int64)] = ci
    labels = _warm_kmeans_labels(x, w, k, labels, max_iter)
    kk = int(labels.max()) + 1
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(kk + 1))
    return [order[bounds[j] : bounds[j + 1]] for j in range(kk)]


def _power_pca2(gram: FloatArray, start: FloatArray | None, iters: int = 100) -> FloatArray:
    """The first two principal axes from the covariance ``gram`` by power (subspace) iteration
    started from the last run's axes, as Polis computes its PCA run after run (``pca.clj``,
    100 iterations, warm start; new statements start at 0), then ordered and signed as
    :func:`_pca2` does. Each step multiplies the two axes by ``gram`` and orthonormalises them
    (Gram-Schmidt); it stops when neither axis turns any more (|cos| between successive axes
    within 1e-13 of 1, summed over the two). Cheap for the small matrices of a replay."""
    m = len(gram)
    comps = np.zeros((2, m))
    if m == 0 or not np.any(gram):
        return comps
    # w[:, 0:2] = gram @ q, w[:, 2:4] = q; the next q is written to the other buffer
    bufs = (np.zeros((m, 4)), np.zeros((m, 4)))
    w = bufs[0]
    if start is not None:
        w[: start.shape[1], 2:] = start.T[:m]
    rng = np.random.default_rng(0)
    for j in (2, 3):  # a fresh or degenerate start: any direction will do
        if not np.any(w[:, j]):
            w[:, j] = rng.standard_normal(m)

    def explicit(src: FloatArray, dst: FloatArray) -> None:  # Gram-Schmidt on the vectors
        a0 = src[:, 0] / max(math.sqrt(src[:, 0] @ src[:, 0]), 1e-300)
        a1 = src[:, 1] - (a0 @ src[:, 1]) * a0
        a1 /= max(math.sqrt(a1 @ a1), 1e-300)
        dst[:, 2] = a0
        dst[:, 3] = a1

    explicit(w[:, 2:], w)
    tri = np.zeros((2, 2))
    for it in range(iters):
        nxt = bufs[(it + 1) % 2]
        np.matmul(gram, w[:, 2:], out=w[:, :2])
        (s00, s01, g0q0, g0q1), (_, s11, _, g1q1) = (w[:, :2].T @ w).tolist()  # g'g, g'q
        n0 = math.sqrt(max(s00, 0.0))
        r01 = s01 / n0 if n0 > 0 else 0.0
        rest = s11 - r01 * r01
        if n0 > 0 and rest > 1e-8 * s11:
            # Gram-Schmidt through the 2 x 2 inner products (well conditioned here), and the
            # cosines between the new axes and the old ones from them
            n1 = math.sqrt(rest)
            cos0 = g0q0 / n0
            cos1 = (g1q1 - r01 * g0q1 / n0) / n1
            tri[0, 0] = 1.0 / n0
            tri[0, 1] = -r01 / (n0 * n1)
            tri[1, 1] = 1.0 / n1
            np.matmul(w[:, :2], tri, out=nxt[:, 2:])
        else:  # (nearly) dependent columns: on the vectors themselves
            explicit(w[:, :2], nxt)
            cos0 = float(nxt[:, 2] @ w[:, 2])
            cos1 = float(nxt[:, 3] @ w[:, 3])
        w = nxt
        if abs(abs(cos0) - 1) + abs(abs(cos1) - 1) < 1e-13:
            break
    q = w[:, 2:]
    # Rayleigh-Ritz in the subspace: the two axes and their order
    evals, evecs = np.linalg.eigh(q.T @ gram @ q)
    order = np.argsort(-evals)
    r = min(2, m)
    comps[:r] = (q @ evecs[:, order]).T[:r]
    for i in range(2):
        j = int(np.argmax(np.abs(comps[i])))
        if comps[i, j] < 0:
            comps[i] = -comps[i]
    return comps


def _batch_ends(times: Sequence[float], poll_interval: float) -> tuple[list[int], list[int]]:
    """Votes in time order (indices into ``times``, ties by position) and where each batch a
    poll would have seen ends (a batch runs ``poll_interval`` seconds from its first vote)."""
    arr = np.asarray(times, dtype=np.float64)
    timed = np.argsort(arr, kind="stable").tolist()
    ends: list[int] = []
    start: float | None = None
    for pos, t in enumerate(arr[timed].tolist()):
        if start is None:
            start = t
        elif t - start >= poll_interval:
            ends.append(pos)
            start = t
    ends.append(len(timed))
    return timed, ends


def _replay_runs(times: Sequence[float], poll_interval: float) -> int:
    """How many runs a replay of these vote times does (one per batch)."""
    return len(_batch_ends(times, poll_interval)[1]) if len(times) else 0


def replay_base_clusters(
    votes: Sequence[Vote],
    *,
    excluded_statements: Collection[str] = (),
    min_votes: int = 7,
    base_clusters: int = BASE_CLUSTERS,
    poll_interval: float = POLL_INTERVAL,
    last_run: bool = True,
) -> ClusteringState:
    """Polis's in-conversation set and base clusters as its math left them, replayed run by run.

    Polis's math worker polls for new votes every second (``poller.clj``) and runs the
    conversation's math on each batch, warm-starting the base clusters from the run before
    (``clean-start-clusters``: members kept, coinciding clusters merged, the most distant
    participant split off into a new cluster with the next id). The votes (each with its
    ``time``, in seconds) are cut into the batches such polls would have seen (a batch runs
    ``poll_interval`` seconds from its first vote) and each batch gets one run: participants in
    the conversation (once in, always in), PCA and projection as :func:`analyze` does them, and
    the base k-means (k = ``base_clusters``) from the previous run's base clusters; the first
    run starts from the first distinct positions, as Polis's does. With ``last_run=False`` the
    last batch is left for the caller's own run (``analyze(previous=...)``). Base clusters come
    out in Polis's id order (a new cluster goes last); no groups are kept, so the next
    :func:`analyze` groups them from scratch, as Polis does after reloading a conversation.

    A run costs about O(participants x statements voted on in its batch + statements^2 +
    participants x base clusters): the centred matrix and its covariance are updated only where
    the batch's votes change them, and the PCA continues from the last run's axes.

    >>> votes = [Vote(str(p), s, 1 if (p < 8) == (s < "c") else -1, time=10.0 * p)
    ...          for p in range(16) for s in "abcd"]
    >>> state = replay_base_clusters(votes)
    >>> len(state.in_conversation), len(state.base_clusters)
    (16, 2)
    """
    if any(v.time is None for v in votes):
        raise ValueError("every vote needs a time to replay Polis's runs")
    timed, ends = _batch_ends([float(v.time or 0.0) for v in votes], poll_interval)
    if not last_run:
        ends = ends[:-1]
    excluded = {str(s) for s in excluded_statements}
    # participants and statements indexed in order of first vote
    p_index: dict[str, int] = {}
    s_index: dict[str, int] = {}
    v_row: list[int] = []
    v_col: list[int] = []
    v_val: list[float] = []
    for i in timed:
        v = votes[i]
        v_row.append(p_index.setdefault(str(v.participant), len(p_index)))
        v_col.append(s_index.setdefault(str(v.statement), len(s_index)))
        v_val.append(float(v.value))
    n_all, m_all = len(p_index), len(s_index)
    col_excluded = np.array([s in excluded for s in s_index], dtype=bool)
    n_excl_upto = np.concatenate([[0], np.cumsum(col_excluded)])  # excluded among first m
    excluded_col = col_excluded.tolist()
    # statement x participant: vote value, voted (passes included; excluded statements left
    # out) and the centred matrix of analyze() (value - statement mean where voted, else 0),
    # kept up to date column by column: a batch changes only the statements it votes on
    x_t = np.zeros((m_all, n_all))
    a_t = np.zeros((m_all, n_all))
    c_t = np.zeros((m_all, n_all))
    gram = np.zeros((m_all, m_all))  # c_t @ c_t.T, rows and columns refreshed as c_t changes
    col_n = np.zeros(m_all)
    col_sum = np.zeros(m_all)
    row_active = np.zeros(n_all, dtype=np.int64)  # votes on non-excluded statements
    seen = np.zeros((n_all, m_all), dtype=bool)
    counts = np.zeros(n_all, dtype=np.int64)  # distinct statements voted (Polis's count)
    in_conv = np.zeros(n_all, dtype=bool)
    base_of = np.full(n_all, -1, dtype=np.int64)  # each participant's base cluster (id order)
    names = list(p_index)
    n = m = 0
    n_bases = 0
    comps_prev: FloatArray | None = None
    pos = 0
    for end in ends:
        changed: set[int] = set()
        for r, j, val in zip(v_row[pos:end], v_col[pos:end], v_val[pos:end], strict=True):
            n = max(n, r + 1)
            m = max(m, j + 1)
            if not seen[r, j]:
                seen[r, j] = True
                counts[r] += 1
            if excluded_col[j]:
                continue
            if not a_t[j, r]:
                a_t[j, r] = 1.0
                row_active[r] += 1
                col_n[j] += 1.0
            col_sum[j] += val - x_t[j, r]
            x_t[j, r] = val
            changed.add(j)
        pos = end
        in_conv[:n] |= counts[:n] >= min(min_votes, m)
        n_in = int(in_conv.sum())
        if n_in < GREEDY_IN_CONVERSATION:
            rest = sorted(
                (r for r in range(n) if not in_conv[r]),
                key=lambda r: (-counts[r], _natural_key(names[r])),
            )
            in_conv[rest[: GREEDY_IN_CONVERSATION - n_in]] = True
        # the projection of analyze(): mean-imputed, centred, sparsity-scaled
        cn = col_n[:m]
        col_mean = np.where(cn > 0, col_sum[:m] / np.maximum(cn, 1.0), 0.0)
        if changed:
            js = sorted(changed)
            for j in js:
                c_t[j, :n] = np.where(a_t[j, :n] > 0, x_t[j, :n] - col_mean[j], 0.0)
            rows_j = c_t[js, :n] @ c_t[:m, :n].T
            gram[js, :m] = rows_j
            gram[:m, js] = rows_j.T
        comps = _power_pca2(gram[:m, :m], comps_prev)
        comps_prev = comps
        members = np.flatnonzero(in_conv[:n])  # rows in order of first vote
        n_votes_row = row_active[members] + int(n_excl_upto[m])
        proj = (comps @ c_t[:m, :n]).T[members]
        points = proj * np.sqrt(m / np.maximum(n_votes_row, 1))[:, None]
        if n_bases == 0:
            labels, _ = polis_kmeans(points, base_clusters, max_iters=100)
        else:
            labels = _warm_kmeans_labels(points, None, base_clusters, base_of[members], 100)
        base_of[:] = -1
        base_of[members] = labels
        n_bases = int(labels.max()) + 1
    bases = [np.flatnonzero(base_of == b) for b in range(n_bases)]
    return ClusteringState(
        in_conversation=frozenset(names[r] for r in np.flatnonzero(in_conv)),
        base_clusters=tuple(tuple(names[int(r)] for r in b) for b in bases),
        group_clusterings={},
    )


def _cluster(
    points: FloatArray,
    ids: tuple[str, ...],
    n_base: int,
    max_groups: int,
    random_state: int,
    silhouette_weighted: bool,
    previous: ClusteringState | None,
) -> tuple[IntArray, FloatArray, dict[int, float], int, ClusteringState]:
    """Base clusters, then groups over their centres; participant labels and group centres."""
    empty_state = ClusteringState(frozenset(ids), (), {})
    if len(points) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 2)), {}, 0, empty_state
    index_of = {p: i for i, p in enumerate(ids)}
    # At most n_base distinct positions: every one is a base cluster of its own, whatever the
    # history, and Polis's base-cluster ids follow the order participants came in; its groups
    # are then a run of its k-means from the first k of them, which we reproduce exactly.
    # With more, Polis's base clusters carry the history of the conversation (which
    # participants seeded and re-seeded them); there the best of many k-means++ starts serves.
    faithful = len(np.unique(points, axis=0)) <= n_base

    # base clusters: participant index lists
    if previous is not None and previous.base_clusters:
        prev = [np.array([index_of[p] for p in c if p in index_of]) for c in previous.base_clusters]
        base_members = _warm_kmeans(points, np.ones(len(points)), n_base, prev, 100)
    elif faithful:
        # every position is its own base cluster, numbered in row order (Polis's init-clusters:
        # the first n_base distinct positions, participants in order of first vote)
        plabels, _ = polis_kmeans(points, n_base, max_iters=100, threshold=BASE_TOLERANCE)
        base_members = [np.flatnonzero(plabels == b) for b in range(int(plabels.max()) + 1)]
    else:
        uniq, inverse = np.unique(points, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        counts = np.bincount(inverse).astype(float)
        # Polis's base k-means stops when no centre moves 0.01 or more
        ulabels, _ = weighted_kmeans(
            uniq,
            n_base,
            weights=counts,
            n_init=1,
            max_iter=100,
            random_state=random_state,
            tol=BASE_TOLERANCE,
        )
        plabels = ulabels[inverse]
        # number base clusters by their first participant in row order, as Polis's ids go
        order = np.unique(plabels, return_index=True)
        firsts = sorted(zip(order[1].tolist(), order[0].tolist(), strict=True))
        base_members = [np.flatnonzero(plabels == lab) for _, lab in firsts]
    base_of = np.empty(len(points), dtype=np.int64)
    for b, mem in enumerate(base_members):
        base_of[mem] = b
    nb = len(base_members)
    base_w = np.array([len(m) for m in base_members], dtype=float)
    base_centers = np.array([points[m].mean(0) for m in base_members])
    state_base = tuple(tuple(ids[i] for i in m) for m in base_members)
    if nb < 2:
        state = ClusteringState(frozenset(ids), state_base, {})
        return np.zeros(len(points), dtype=np.int64), base_centers[:1], {}, nb, state

    # base ids of the previous run -> today's base index (by shared members)
    prev_groups: dict[int, list[IntArray]] = {}
    if previous is not None and previous.group_clusterings:
        prev_base_of_participant = {
            p: b for b, mem in enumerate(previous.base_clusters) for p in mem
        }
        for kk, clustering in previous.group_clusterings.items():
            groups_now = []
            for grp in clustering:
                members = {
                    base_of[index_of[p]]
                    for b in grp
                    for p in previous.base_clusters[b]
                    if p in index_of and prev_base_of_participant.get(p) == b
                }
                groups_now.append(np.array(sorted(members), dtype=np.int64))
            # a base cluster claimed by two groups stays with the first
            seen: set[int] = set()
            cleaned = []
            for grp_now in groups_now:
                kept = np.array([b for b in grp_now if b not in seen], dtype=np.int64)
                seen.update(kept.tolist())
                cleaned.append(kept)
            prev_groups[kk] = cleaned

    max_k = min(max_groups, 2 + nb // 12, nb)
    diff = base_centers[:, None, :] - base_centers[None, :, :]
    dist = np.sqrt((diff * diff).sum(-1))
    silhouettes: dict[int, float] = {}
    clusterings: dict[int, list[IntArray]] = {}
    for k in range(2, max_k + 1):
        if k in prev_groups:
            groups = _warm_kmeans(base_centers, base_w, k, prev_groups[k], 20)
        elif faithful:
            # Polis's own run without earlier groups: the first k distinct base-cluster centres
            # (in base-cluster id order) start a k-means weighted by base-cluster sizes, at
            # most 20 iterations (Polis passes :cluster-iters, which kmeans ignores)
            blabels, _ = polis_kmeans(base_centers, k, weights=base_w, max_iters=GROUP_ITERS)
            groups = [np.flatnonzero(blabels == g) for g in range(int(blabels.max()) + 1)]
        else:
            blabels, _ = weighted_kmeans(
                base_centers, k, weights=base_w, n_init=20, max_iter=100, random_state=random_state
            )
            groups = [np.flatnonzero(blabels == g) for g in range(int(blabels.max()) + 1)]
        if len(groups) < 2:
            continue
        blabels = np.empty(nb, dtype=np.int64)
        for g, mem in enumerate(groups):
            blabels[mem] = g
        silhouettes[k] = silhouette(dist, blabels, base_w if silhouette_weighted else None)
        clusterings[k] = groups
    if not clusterings:
        state = ClusteringState(frozenset(ids), state_base, {})
        return np.zeros(len(points), dtype=np.int64), base_centers.mean(0)[None], {}, nb, state

    # Polis's k smoother: a new best k takes over after K_BUFFER runs in a row
    # Polis's (apply max-key ...) over k = 2, 3, ...: on a tie the larger k wins
    this_k = max(sorted(clusterings), key=lambda kk: (silhouettes[kk], kk))
    last_k = previous.last_k if previous is not None else None
    count = (previous.last_k_count + 1) if (previous is not None and last_k == this_k) else 1
    smoothed = this_k if count >= K_BUFFER else (previous.smoothed_k if previous else None)
    if smoothed not in clusterings:
        smoothed = this_k
    groups = clusterings[smoothed]
    labels = np.empty(nb, dtype=np.int64)
    for g, mem in enumerate(groups):
        labels[mem] = g
    centers = np.array(
        [(base_centers[m] * base_w[m, None]).sum(0) / base_w[m].sum() for m in groups]
    )
    state = ClusteringState(
        in_conversation=frozenset(ids),
        base_clusters=state_base,
        group_clusterings={
            kk: tuple(tuple(int(b) for b in g) for g in gs) for kk, gs in clusterings.items()
        },
        last_k=this_k,
        last_k_count=count,
        smoothed_k=smoothed,
    )
    plabels = labels[base_of]
    return plabels, centers, silhouettes, nb, state


def _group_counts(
    label_of: IntArray,
    rows: IntArray,
    cols: IntArray,
    vals: FloatArray,
    k: int,
    m: int,
    col_excluded: npt.NDArray[np.bool_],
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Agree, disagree and total vote counts per (group, statement)."""
    lab = label_of[rows]
    sel = lab >= 0
    lab, c, v = lab[sel], cols[sel], vals[sel]
    idx = lab * m + c
    na = np.bincount(idx, weights=(v > 0), minlength=k * m).reshape(k, m).astype(float)
    nd = np.bincount(idx, weights=(v < 0), minlength=k * m).reshape(k, m).astype(float)
    ns = np.bincount(idx, minlength=k * m).reshape(k, m).astype(float)
    return na, nd, ns


def _representative(
    stats: tuple[FloatArray, FloatArray, FloatArray],
    g: int,
    keep_cols: IntArray,
    statements: tuple[str, ...],
) -> tuple[RepresentativeStatement, ...]:
    """Polis's ``select-rep-comments`` for group ``g``."""
    na_all, nd_all, ns_all = stats
    na, nd, ns = na_all[g], nd_all[g], ns_all[g]
    ra_n = na_all.sum(0) - na
    rd_n = nd_all.sum(0) - nd
    rs_n = ns_all.sum(0) - ns
    pa = (na + 1) / (ns + 2)
    pd = (nd + 1) / (ns + 2)
    pat = prop_test(na, ns)
    pdt = prop_test(nd, ns)
    ra = pa / ((ra_n + 1) / (rs_n + 2))
    rd = pd / ((rd_n + 1) / (rs_n + 2))
    rat = two_prop_test(na, ra_n, ns, rs_n)
    rdt = two_prop_test(nd, rd_n, ns, rs_n)

    def final(j: int, best_agree: bool = False) -> RepresentativeStatement:
        agree = rat[j] > rdt[j]
        share_n = max(ns[j], 1.0)
        return RepresentativeStatement(
            statement=statements[j],
            direction="agree" if agree else "disagree",
            repness=float(ra[j] if agree else rd[j]),
            agree_share=float(na[j] / share_n),
            disagree_share=float(nd[j] / share_n),
            votes=int(ns[j]),
            repness_test=float(rat[j] if agree else rdt[j]),
            probability=float(pa[j] if agree else pd[j]),
            probability_test=float(pat[j] if agree else pdt[j]),
            best_agree=best_agree,
        )

    sufficient: list[int] = []
    best: int | None = None
    best_agree: int | None = None
    for j in keep_cols:
        if (rat[j] > Z_90 and pat[j] > Z_90) or (rdt[j] > Z_90 and pdt[j] > Z_90):
            sufficient.append(int(j))
        if not sufficient and (best is None or max(rat[j], rdt[j]) > max(rat[best], rdt[best])):
            best = int(j)
        if na[j] == 0 and nd[j] == 0:
            continue
        if best_agree is not None and ra[best_agree] > 1.0:
            beats = ra[j] * rat[j] * pa[j] * pat[j] > (
                ra[best_agree] * rat[best_agree] * pa[best_agree] * pat[best_agree]
            )
        elif best_agree is not None:
            beats = pa[j] * pat[j] > pa[best_agree] * pat[best_agree]
        else:
            beats = bool(pat[j] > Z_90 or (ra[j] > 1.0 and pa[j] > 0.5))
        if beats:
            best_agree = int(j)

    head: list[RepresentativeStatement] = []
    if best_agree is not None:
        head = [final(best_agree, best_agree=True)]
    elif best is not None:
        head = [final(best)]
    if not sufficient:
        return tuple(head)
    rest = [final(j) for j in sufficient if j != best_agree]
    rest.sort(key=lambda r: -(r.repness * r.repness_test * r.probability * r.probability_test))
    chosen = (head if best_agree is not None else []) + rest
    chosen = chosen[:MAX_REPRESENTATIVE]
    return tuple(
        [r for r in chosen if r.direction == "agree"]
        + [r for r in chosen if r.direction == "disagree"]
    )


def _majority(
    rows: IntArray,
    cols: IntArray,
    vals: FloatArray,
    m: int,
    keep_cols: IntArray,
    statements: tuple[str, ...],
) -> tuple[MajorityStatement, ...]:
    """Polis's ``select-consensus-comments`` over all participants."""
    na = np.bincount(cols, weights=vals > 0, minlength=m)
    nd = np.bincount(cols, weights=vals < 0, minlength=m)
    ns = np.bincount(cols, minlength=m).astype(float)
    out: list[MajorityStatement] = []
    for direction, n_succ in (("agree", na), ("disagree", nd)):
        p = (n_succ + 1) / (ns + 2)
        z = prop_test(n_succ, ns)
        cand = [j for j in keep_cols if p[j] > 0.5 and z[j] > Z_90]
        cand.sort(key=lambda j: -(p[j] * z[j]))
        out.extend(
            MajorityStatement(
                statement=statements[j],
                direction=direction,  # type: ignore[arg-type]
                probability=float(p[j]),
                probability_test=float(z[j]),
                successes=int(n_succ[j]),
                votes=int(ns[j]),
            )
            for j in cand[:MAX_MAJORITY]
        )
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Sector breakdown


def sector_breakdown(
    votes: Iterable[Vote],
    sectors: Mapping[str, str],
    *,
    unknown: str = "unknown",
) -> tuple[SectorAgreement, ...]:
    """Agree/disagree/pass counts per statement and sector (participants missing from
    ``sectors`` count under ``unknown``); a participant's last vote on a statement counts.

    >>> rows = sector_breakdown(
    ...     [Vote("p1", "s", 1), Vote("p2", "s", -1), Vote("p3", "s", 1)],
    ...     {"p1": "industry", "p2": "industry", "p3": "academia"},
    ... )
    >>> [(r.sector, r.agree, r.disagree, r.agree_share) for r in rows]
    [('academia', 1, 0, 1.0), ('industry', 1, 1, 0.5)]
    """
    last: dict[tuple[str, str], int] = {}
    for v in votes:
        if v.value not in (AGREE, DISAGREE, PASS):
            raise ValueError(f"vote value must be 1, -1 or 0: {v.value!r}")
        last[(str(v.participant), str(v.statement))] = v.value
    counts: Counter[tuple[str, str, int]] = Counter()
    for (participant, statement), value in last.items():
        counts[(statement, sectors.get(participant, unknown), value)] += 1
    keys = sorted({(s, sec) for s, sec, _ in counts}, key=lambda t: (_natural_key(t[0]), t[1]))
    out = []
    for s, sec in keys:
        a, d, ps = counts[(s, sec, AGREE)], counts[(s, sec, DISAGREE)], counts[(s, sec, PASS)]
        total = a + d + ps
        out.append(
            SectorAgreement(
                statement=s,
                sector=sec,
                agree=a,
                disagree=d,
                passes=ps,
                votes=total,
                agree_share=a / total if total else 0.0,
                disagree_share=d / total if total else 0.0,
            )
        )
    return tuple(out)


def adjusted_rand_index(labels_a: Mapping[str, object], labels_b: Mapping[str, object]) -> float:
    """Adjusted Rand index (Hubert & Arabie) of two labellings over the ids they share.

    1 means identical partitions (up to renaming), about 0 what chance gives.

    >>> adjusted_rand_index({"a": 0, "b": 0, "c": 1}, {"a": "x", "b": "x", "c": "y"})
    1.0
    """
    common = [k for k in labels_a if k in labels_b]
    if len(common) < 2:
        return 1.0
    _, a = np.unique(np.array([str(labels_a[k]) for k in common]), return_inverse=True)
    _, b = np.unique(np.array([str(labels_b[k]) for k in common]), return_inverse=True)
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1)

    def pairs(x: npt.NDArray[np.float64]) -> float:
        return float((x * (x - 1) / 2).sum())

    index = pairs(table)
    rows_, cols_ = pairs(table.sum(1)), pairs(table.sum(0))
    total = len(common) * (len(common) - 1) / 2
    expected = rows_ * cols_ / total
    maximum = (rows_ + cols_) / 2
    if maximum == expected:
        return 1.0
    return float((index - expected) / (maximum - expected))


def state_from_groups(
    analysis: Analysis,
    groups: Mapping[str, int],
    *,
    base_clusters: Sequence[Sequence[str]] | None = None,
    in_conversation: Collection[str] | None = None,
) -> ClusteringState:
    """A state to continue from groups found elsewhere (e.g. Polis's recorded ``group-id``).

    Base clusters are ``base_clusters`` when given (participant ids, e.g. Polis's own), else
    those of ``analysis``; each base cluster joins the group most of its members were in
    (base clusters with no recorded member start unassigned). The number of groups is held for
    ``K_BUFFER`` runs, as Polis's smoother would.
    """
    bases = [tuple(b) for b in base_clusters] if base_clusters is not None else None
    if bases is None:
        if analysis.state is None:
            raise ValueError("the analysis has no clustering state")
        bases = list(analysis.state.base_clusters)
    group_ids = sorted(set(groups.values()))
    members: dict[int, list[int]] = {g: [] for g in group_ids}
    for b, mem in enumerate(bases):
        votes = Counter(groups[p] for p in mem if p in groups)
        if votes:
            members[votes.most_common(1)[0][0]].append(b)
    clustering = tuple(tuple(members[g]) for g in group_ids if members[g])
    k = len(clustering)
    conv = set(in_conversation) if in_conversation is not None else set(groups)
    return ClusteringState(
        in_conversation=frozenset(conv),
        base_clusters=tuple(bases),
        group_clusterings={k: clustering} if k >= 2 else {},
        last_k=k,
        last_k_count=K_BUFFER,
        smoothed_k=k,
    )


def in_conversation_history(
    timed_votes: Iterable[tuple[float, Vote]], *, min_votes: int = 7
) -> frozenset[str]:
    """Who Polis would have in the conversation after seeing the votes one by one.

    Polis never drops a participant from the conversation, and while fewer than 15 qualify it
    fills up with the most active ones; so people who voted early, when the conversation was
    small, stay in with few votes. Replaying the vote counts in time order reproduces Polis's
    ``in-conv`` exactly on the polis-math cases. Pass the result as ``keep_participants``.

    >>> timed = [(0, Vote("early", "a", 1))] + [
    ...     (t, Vote(f"p{t}", s, 1)) for t in range(1, 21) for s in "abcdefgh"]
    >>> "early" in in_conversation_history(timed)
    True
    """
    ordered = sorted(timed_votes, key=lambda tv: tv[0])
    seen: dict[str, set[str]] = {}
    statements: set[str] = set()
    in_conv: set[str] = set()
    touched: set[str] = set()
    for i, (_, v) in enumerate(ordered):
        seen.setdefault(v.participant, set()).add(v.statement)
        statements.add(v.statement)
        touched.add(v.participant)
        if i + 1 < len(ordered) and ordered[i + 1][0] == ordered[i][0]:
            continue  # votes cast at the same moment count together
        # counts and the threshold only grow: only those who just voted can newly qualify
        threshold = min(min_votes, len(statements))
        in_conv.update(p for p in touched if len(seen[p]) >= threshold)
        touched.clear()
        if len(in_conv) < GREEDY_IN_CONVERSATION:
            rest = sorted(
                (p for p in seen if p not in in_conv),
                key=lambda p: (-len(seen[p]), _natural_key(p)),
            )
            in_conv.update(rest[: GREEDY_IN_CONVERSATION - len(in_conv)])
    return frozenset(in_conv)


def analyze_history(
    timed_votes: Iterable[tuple[float, Vote]],
    *,
    steps: int = 30,
    **options: object,
) -> Analysis:
    """Replay a conversation run by run: analyse the votes cast up to each of ``steps``
    moments (evenly spaced in number of votes), each run continuing from the one before
    (``analyze(previous=...)``: sticky participants, warm-started k-means, k smoother), and
    return the last analysis. This shows how the groups of a live consultation evolve. It does
    *not* reproduce Polis's recorded groups better than one run from scratch: Polis ran its math
    after every few votes, and a coarse replay drifts (measured on the openData conversations,
    30 steps: ARI 0.06-0.75 against -0.02-0.96 from scratch; see docs/consensus.md).

    >>> timed = [(t, Vote(str(p), s, 1 if (p < 8) == (s < "c") else -1))
    ...          for t, (p, s) in enumerate((p, s) for p in range(16) for s in "abcd")]
    >>> [len(g.members) for g in analyze_history(timed, steps=4).groups]
    [8, 8]
    """
    ordered = sorted(timed_votes, key=lambda tv: tv[0])
    if not ordered:
        raise ValueError("no votes to analyse")
    votes = [v for _, v in ordered]
    times = [t for t, _ in ordered]
    cuts: list[int] = []
    for i in range(1, max(1, steps) + 1):
        cut = round(len(votes) * i / max(1, steps))
        # never split votes cast at the same moment
        while cut < len(votes) and cut > 0 and times[cut] == times[cut - 1]:
            cut += 1
        if cut > 0 and (not cuts or cut > cuts[-1]):
            cuts.append(cut)
    if cuts[-1] != len(votes):
        cuts.append(len(votes))
    result: Analysis | None = None
    for cut in cuts:
        try:
            result = analyze(votes[:cut], previous=result, **options)  # type: ignore[arg-type]
        except ValueError:
            continue
    assert result is not None
    return result
