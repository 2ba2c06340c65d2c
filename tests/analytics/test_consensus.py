"""Polis-style consensus analysis: hand-checked statistics, synthetic groups, and Polis's own
results on the polis-math cases in ../shared/data/polis-math."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from stcoord.analytics.consensus import (
    Analysis,
    ClusteringState,
    Vote,
    VoteMatrix,
    adjusted_rand_index,
    analyze,
    analyze_history,
    in_conversation_history,
    polis_kmeans,
    prop_test,
    replay_base_clusters,
    sector_breakdown,
    silhouette,
    two_prop_test,
    weighted_kmeans,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
POLIS_MATH = DATA / "polis-math"
MATH_CASES = ["25ptpt-3gp-no-strict-with-meta", "50ptpt-3gp-strict-no-meta", "below-100-ptpts"]


def camps(n_per_camp: int = 12, statements: str = "abcdefgh") -> list[Vote]:
    """Two camps: camp A agrees with a-d and disagrees with e-g, camp B the reverse; everyone
    agrees with h (a consensus statement)."""
    votes = []
    for p in range(2 * n_per_camp):
        camp_a = p < n_per_camp
        for s in statements:
            value = 1 if s == "h" or (s < "e") == camp_a else -1
            votes.append(Vote(f"p{p}", s, value))
    return votes


# --- vote matrix ------------------------------------------------------------------------------


def test_last_vote_wins_and_ids_sort_naturally() -> None:
    m = VoteMatrix.from_votes(
        [Vote("10", "2", 1), Vote("9", "2", 1), Vote("10", "2", -1), Vote("10", "11", 0)]
    )
    assert m.participants == ("9", "10")
    assert m.statements == ("2", "11")
    cells = {
        (m.participants[r], m.statements[c]): int(v)
        for r, c, v in zip(m.rows, m.cols, m.values, strict=True)
    }
    assert cells == {("9", "2"): 1, ("10", "2"): -1, ("10", "11"): 0}


def test_bad_vote_value_is_refused() -> None:
    with pytest.raises(ValueError, match="vote value"):
        analyze([Vote("a", "s", 2)])
    with pytest.raises(ValueError, match="no votes"):
        analyze([])


# --- statistics by hand ------------------------------------------------------------------------


def test_prop_tests_match_hand_values() -> None:
    # 2 * sqrt(5) * (4/5 - 1/2)
    assert prop_test(3, 4) == pytest.approx(2 * math.sqrt(5) * 0.3)
    # (4/5 - 2/6) / sqrt(p(1-p)(1/5 + 1/6)) with p = 6/11
    p = 6 / 11
    expected = (4 / 5 - 2 / 6) / math.sqrt(p * (1 - p) * (1 / 5 + 1 / 6))
    assert two_prop_test(3, 1, 4, 5) == pytest.approx(expected)
    assert two_prop_test(0, 0, 0, 0) == 0.0  # pooled p of 1/2 with no data: z = 0


def test_silhouette_and_ari_by_hand() -> None:
    d = np.array([[0, 1, 4], [1, 0, 3], [4, 3, 0.0]])
    # point 0: a=1, b=4 -> 0.75; point 1: a=1, b=3 -> 2/3; point 2 alone -> 0
    assert silhouette(d, np.array([0, 0, 1])) == pytest.approx((0.75 + 2 / 3 + 0) / 3)
    # weighted: weights 1, 1, 2 -> each point's mean and the average are weighted
    assert silhouette(d, np.array([0, 0, 1]), np.array([1, 1, 2.0])) == pytest.approx(
        (0.75 + 2 / 3) / 4
    )
    assert adjusted_rand_index(
        {"a": 1, "b": 1, "c": 2, "d": 2}, {"a": 0, "b": 0, "c": 0, "d": 1}
    ) == pytest.approx(0.0)
    same = {str(i): i % 3 for i in range(9)}
    assert adjusted_rand_index(same, {k: f"g{v}" for k, v in same.items()}) == 1.0


def test_weighted_kmeans_follows_weights() -> None:
    x = np.array([[0.0, 0], [1, 0], [10, 0], [11, 0]])
    labels, centers = weighted_kmeans(x, 2, weights=np.array([1, 3, 1, 1.0]))
    assert labels.tolist() == [0, 0, 1, 1]
    assert centers[0].tolist() == pytest.approx([0.75, 0.0])


# --- synthetic conversations ------------------------------------------------------------------


def test_two_camps_are_found_with_their_statements() -> None:
    result = analyze(camps())
    assert len(result.groups) == 2
    members = sorted(sorted(g.members) for g in result.groups)
    assert members == [sorted(f"p{i}" for i in range(12)), sorted(f"p{i}" for i in range(12, 24))]
    for g in result.groups:
        camp_a = "p0" in g.members
        reps = {r.statement: r for r in g.representative}
        assert reps, "every group gets representative statements"
        for s, r in reps.items():
            assert s != "h"  # shared by all: not representative of anyone
            assert r.direction == ("agree" if (s < "e") == camp_a else "disagree")
            assert r.votes == 12
        best = g.representative[0]
        assert best.best_agree and best.direction == "agree"
        assert best.agree_share == 1.0 and best.disagree_share == 0.0
        # repness: (12+1)/(12+2) against (0+1)/(12+2) in the other camp
        assert best.repness == pytest.approx(13.0)
    # group-informed consensus on 'h': ((12+1)/(12+2))^2
    assert [(c.statement, c.direction) for c in result.consensus] == [("h", "agree")]
    assert result.consensus[0].score == pytest.approx((13 / 14) ** 2)
    assert result.group_aware_consensus["a"] == pytest.approx((13 / 14) * (1 / 14))
    # divisive: every camp statement splits the groups by 13/14 - 1/14
    assert {d.statement for d in result.divisive} == set("abcdefg")
    assert result.divisive[0].score == pytest.approx(12 / 14)
    # the first component separates the camps and carries almost all the variance
    xs = {p: xy[0] for p, xy in result.coordinates.items()}
    assert max(xs[f"p{i}"] for i in range(12)) < 0 < min(xs[f"p{i}"] for i in range(12, 24)) or (
        min(xs[f"p{i}"] for i in range(12)) > 0 > max(xs[f"p{i}"] for i in range(12, 24))
    )
    assert result.explained_variance[0] == pytest.approx(1.0)


def test_excluded_statement_never_reported_and_carries_no_signal() -> None:
    votes = camps()
    # a moderated-out statement that would split the camps differently (odd vs even)
    votes += [Vote(f"p{p}", "z", 1 if p % 2 else -1) for p in range(24)]
    result = analyze(votes, excluded_statements={"z"})
    assert "z" not in result.statements
    assert result.excluded_statements == ("z",)
    assert all(r.statement != "z" for g in result.groups for r in g.representative)
    assert "z" not in result.group_aware_consensus
    members = sorted(sorted(g.members) for g in result.groups)
    assert members[0] == sorted(f"p{i}" for i in range(12))


def test_participants_below_threshold_are_placed_but_not_grouped() -> None:
    votes = camps(n_per_camp=10)
    votes += [Vote("late", "a", 1), Vote("late", "b", 1)]
    result = analyze(votes)
    assert "late" in result.coordinates
    assert "late" not in result.in_conversation
    assert "late" not in result.group_of()
    # a small conversation fills up to 15 with the most active participants
    few = [Vote(f"q{p}", s, 1 if p % 2 else -1) for p in range(20) for s in "ab"]
    assert len(analyze(few).in_conversation) == 20  # min(7, n_statements) = 2 votes suffice


def test_sector_breakdown_counts_last_votes() -> None:
    rows = sector_breakdown(
        [
            Vote("u1", "s1", 1),
            Vote("u2", "s1", -1),
            Vote("u2", "s1", 0),  # changed mind: pass
            Vote("u3", "s1", 1),
            Vote("u4", "s2", -1),
        ],
        {"u1": "industry", "u2": "industry", "u3": "academia"},
    )
    table = {(r.statement, r.sector): (r.agree, r.disagree, r.passes, r.agree_share) for r in rows}
    assert table == {
        ("s1", "academia"): (1, 0, 0, 1.0),
        ("s1", "industry"): (1, 0, 1, 0.5),
        ("s2", "unknown"): (0, 1, 0, 0.0),
    }


def test_same_seed_same_answer() -> None:
    rng = np.random.default_rng(3)
    votes = [
        Vote(str(p), str(s), int(rng.choice([-1, 0, 1])))
        for p in range(60)
        for s in range(15)
        if rng.random() < 0.6
    ]
    a, b = analyze(votes, random_state=5), analyze(votes, random_state=5)
    assert a.group_of() == b.group_of()
    assert a.consensus == b.consensus


# --- Polis's own results ----------------------------------------------------------------------


def load_case(case: str, timed: bool = True) -> tuple[list[Vote], dict]:
    """The case's votes, oldest first, each with its time in seconds (``timed=False``: none)."""
    root = POLIS_MATH / case
    raw = json.loads((root / "votes.json").read_text())
    raw.sort(key=lambda v: float(v["modified"]))
    votes = [
        Vote(
            str(v.get("participant_id", v.get("pid"))),
            str(v.get("statement_id", v.get("tid"))),
            int(v["vote"]),
            time=float(v["modified"]) / 1000 if timed else None,
        )
        for v in raw
    ]
    return votes, json.loads((root / "math-pca2.json").read_text())


def polis_groups(math_: dict) -> dict[str, int]:
    bc = math_["base-clusters"]
    b2p = dict(zip(bc["id"], bc["members"], strict=True))
    return {str(p): g["id"] for g in math_["group-clusters"] for b in g["members"] for p in b2p[b]}


needs_data = pytest.mark.skipif(not POLIS_MATH.is_dir(), reason="shared Polis data not present")


@needs_data
@pytest.mark.parametrize("case", MATH_CASES)
def test_projection_matches_polis(case: str) -> None:
    """Participants alone in a base cluster sit where Polis put them (up to each axis' sign).

    50ptpt's votes.json lacks four votes Polis had (its statement means differ by one vote on
    statements 1, 4, 12 and 20; red-dwarf flags the same fixture), so there the positions agree
    to within 0.1 rather than exactly."""
    votes, m = load_case(case)
    result = analyze(votes, excluded_statements=[str(t) for t in m["mod-out"]])
    bc = m["base-clusters"]
    ours, theirs = [], []
    for members, x, y in zip(bc["members"], bc["x"], bc["y"], strict=True):
        if len(members) == 1:
            ours.append(result.coordinates[str(members[0])])
            theirs.append((x, y))
    ours_a, theirs_a = np.array(ours), np.array(theirs)
    assert len(ours_a) >= 15
    signs = np.sign((ours_a * theirs_a).sum(0))
    atol = 0.1 if case.startswith("50ptpt") else 1e-6
    np.testing.assert_allclose(ours_a * signs, theirs_a, atol=atol)


@needs_data
@pytest.mark.parametrize("case", MATH_CASES)
def test_majority_consensus_matches_polis(case: str) -> None:
    votes, m = load_case(case)
    result = analyze(votes, excluded_statements=[str(t) for t in m["mod-out"]])
    for direction in ("agree", "disagree"):
        ours = [c.statement for c in result.majority if c.direction == direction]
        theirs = [str(c["tid"]) for c in m["consensus"][direction]]
        assert ours == theirs


def continued_from_polis(case: str):
    """Our analysis continuing from Polis's own base clusters and groups (its last run)."""
    from stcoord.consultation.polis_format import read_export, state_from_recorded_groups

    export = read_export(POLIS_MATH / case)
    state = state_from_recorded_groups(export)
    return export, analyze(
        export.analysis_votes(),
        excluded_statements=export.excluded_statements(),
        previous=state,
    )


@needs_data
@pytest.mark.parametrize("case", MATH_CASES)
def test_groups_match_polis(case: str) -> None:
    """From scratch we find Polis's number of groups; continuing from Polis's last run (as its
    next run would) our math keeps Polis's groups (ARI >= 0.9 over the same participants)."""
    votes, m = load_case(case)
    theirs = polis_groups(m)
    scratch = analyze(votes, excluded_statements=[str(t) for t in m["mod-out"]])
    assert len(scratch.groups) == len(m["group-clusters"])
    _, continued = continued_from_polis(case)
    assert set(continued.group_of()) == set(theirs)
    assert adjusted_rand_index(continued.group_of(), theirs) >= 0.9


# ARI of our groups from the votes alone (no Polis state) against Polis's group-clusters:
# with vote times (Polis's runs replayed), and without (one run on the votes in time order;
# 1.0 there also means Polis's group ids).
FROM_SCRATCH = {
    "25ptpt-3gp-no-strict-with-meta": (1.0, 0.63),  # see test_groups_from_scratch_match_polis
    "50ptpt-3gp-strict-no-meta": (1.0, 1.0),
    "below-100-ptpts": (1.0, 1.0),
}


@needs_data
@pytest.mark.parametrize("case", MATH_CASES)
def test_groups_from_scratch_match_polis(case: str) -> None:
    """The votes alone, nothing from Polis's math: with their times, Polis's earlier runs are
    replayed (a run per second of votes) and the groups found from scratch over the base
    clusters that leaves: Polis's groups exactly on all three cases, ids included. Without
    times, one run with participants in order of first vote: exact, ids
    included, where Polis's base-cluster ids follow that order (50ptpt, below-100); 25ptpt was
    a workshop (25 people voting at once) whose base-cluster ids Polis's runs reshuffled (ids
    0 and 6 gone, participant 4 first), 0.633 there (red-dwarf: 0.633 too)."""
    timed_floor, untimed_floor = FROM_SCRATCH[case]
    for timed, floor in ((True, timed_floor), (False, untimed_floor)):
        votes, m = load_case(case, timed=timed)
        theirs = polis_groups(m)
        result = analyze(votes, excluded_statements=[str(t) for t in m["mod-out"]])
        assert len(result.groups) == len(m["group-clusters"])
        ari = adjusted_rand_index(result.group_of(), theirs)
        assert ari >= floor
        if floor == 1.0:
            assert all(theirs[p] == g for p, g in result.group_of().items())  # Polis's ids
    # the rule is Polis's poll interval, not a value tuned to the case: 0.5 s or 5 s do as well
    votes, m = load_case(case)
    for interval in (0.5, 5.0):
        state = replay_base_clusters(
            votes,
            excluded_statements=[str(t) for t in m["mod-out"]],
            poll_interval=interval,
            last_run=False,
        )
        result = analyze(votes, excluded_statements=[str(t) for t in m["mod-out"]], previous=state)
        assert adjusted_rand_index(result.group_of(), polis_groups(m)) == 1.0


# base clusters the replay puts at Polis's position (of 27, 43, 23)
REPLAYED_AT_POLIS_POSITION = {
    "25ptpt-3gp-no-strict-with-meta": 8,
    "50ptpt-3gp-strict-no-meta": 39,
    "below-100-ptpts": 23,
}


@needs_data
@pytest.mark.parametrize("case", MATH_CASES)
def test_replay_gives_polis_base_clusters_and_in_conversation(case: str) -> None:
    """Replaying Polis's runs from the vote times gives its base clusters (the same members,
    participant by participant) and its in-conv set exactly; most base clusters also at
    Polis's position (id order), all of them on below-100 (the vote times are ``modified``,
    not the ``created`` Polis's poller read, so not every id can follow)."""
    votes, m = load_case(case)
    state = replay_base_clusters(votes, excluded_statements=[str(t) for t in m["mod-out"]])
    members = [frozenset(str(p) for p in mem) for mem in m["base-clusters"]["members"]]
    theirs = set(members)
    assert {frozenset(b) for b in state.base_clusters} == theirs
    at_position = sum(frozenset(b) == t for b, t in zip(state.base_clusters, members, strict=True))
    assert at_position >= REPLAYED_AT_POLIS_POSITION[case]
    assert state.in_conversation == {str(p) for p in m["in-conv"]}
    assert state.group_clusterings == {}
    with pytest.raises(ValueError, match="time"):
        replay_base_clusters([Vote("a", "s", 1)])


@needs_data
@pytest.mark.parametrize("case", MATH_CASES)
def test_group_step_from_polis_base_clusters_alone(case: str) -> None:
    """Our group step from scratch (no earlier groups, no k smoother) over Polis's own base
    clusters gives Polis's groups exactly, ids included: Polis's k-means starts from the first
    k distinct base-cluster centres in id order, weighted by size, 20 iterations at most."""
    votes, m = load_case(case)
    bc = m["base-clusters"]
    state = ClusteringState(
        in_conversation=frozenset(str(p) for p in m["in-conv"]),
        base_clusters=tuple(tuple(str(p) for p in mem) for mem in bc["members"]),
        group_clusterings={},
    )
    result = analyze(votes, excluded_statements=[str(t) for t in m["mod-out"]], previous=state)
    assert result.group_of() == polis_groups(m)


def test_polis_kmeans_starts_from_first_distinct_rows() -> None:
    x = np.array([[0.0, 0], [0, 0], [10, 0], [0, 1], [10, 1], [9, 0]])
    labels, centers = polis_kmeans(x, 2)
    # rows 0 and 2 start the clusters (row 1 repeats row 0); ids follow that order
    assert labels.tolist() == [0, 0, 1, 0, 1, 1]
    assert centers.ravel().tolist() == pytest.approx([0, 1 / 3, 29 / 3, 1 / 3])
    # another row order: other starting rows, ids in the new order
    labels2, _ = polis_kmeans(x[[3, 4, 5, 0, 1, 2]], 2)
    assert labels2.tolist() == [0, 1, 1, 0, 0, 1]
    # weights move the centres; more clusters than distinct rows: one per distinct row
    _, wc = polis_kmeans(x, 2, weights=np.array([1, 1, 1, 1, 1, 3.0]))
    assert wc[1].tolist() == pytest.approx([47 / 5, 1 / 5])
    assert polis_kmeans(x, 10)[0].tolist() == [0, 0, 1, 2, 3, 4]


def test_groups_are_numbered_from_the_first_voter() -> None:
    votes = camps()
    first_b = [v for v in votes if v.participant == "p12"]
    result = analyze(first_b + [v for v in votes if v.participant != "p12"])
    assert "p12" in result.groups[0].members
    assert "p0" in analyze(votes).groups[0].members


@needs_data
@pytest.mark.parametrize("case", MATH_CASES)
def test_consensus_and_representatives_overlap_polis(case: str) -> None:
    export, result = continued_from_polis(case)
    m = export.math
    assert m is not None
    # group-informed consensus: the same top five, with Polis's values
    gac = {str(k): v for k, v in m["group-aware-consensus"].items()}
    gac = {k: v for k, v in gac.items() if k not in set(export.excluded_statements())}
    theirs = sorted(gac, key=lambda k: -gac[k])[:5]
    ours = sorted(result.group_aware_consensus, key=lambda k: -result.group_aware_consensus[k])
    assert set(ours[:5]) == set(theirs)
    if not case.startswith("50ptpt"):  # that fixture lacks four of Polis's votes
        for k in theirs:
            assert result.group_aware_consensus[k] == pytest.approx(gac[k])
    # the statements we report as consensus (a majority of every group) rank high in Polis's
    top = sorted(gac, key=lambda k: -gac[k])[: max(10, len(result.consensus))]
    assert all(c.statement in top for c in result.consensus if c.direction == "agree")
    # representative statements of each group: Polis's, in Polis's order
    theirs_groups = polis_groups(m)
    for g in result.groups:
        polis_id = Counter(theirs_groups[p] for p in g.members).most_common(1)[0][0]
        polis_reps = [(str(r["tid"]), r["repful-for"]) for r in m["repness"][str(polis_id)]]
        assert [(r.statement, r.direction) for r in g.representative] == polis_reps
        first = m["repness"][str(polis_id)][0]
        assert g.representative[0].best_agree == bool(first.get("best-agree"))
        assert g.representative[0].repness == pytest.approx(first["repness"])
        assert g.representative[0].repness_test == pytest.approx(first["repness-test"], rel=1e-6)


def three_camps(n: int = 12) -> list[Vote]:
    """Three camps; each participant passes on one of six statements, so a camp sits at six
    slightly different places: 15 base clusters (Polis tries k groups only with 12 (k - 2)
    base clusters; with more spread inside a camp Polis's silhouette would split one)."""
    views = {0: "++++----", 1: "----++++", 2: "++--++--"}
    return [
        Vote(f"p{p}", s, 0 if i == (p // 3) % 6 else 1 if views[p % 3][i] == "+" else -1)
        for p in range(3 * n)
        for i, s in enumerate("abcdefgh")
    ]


def test_continuing_keeps_groups_and_changes_k_only_after_four_runs() -> None:
    two = analyze(camps(n_per_camp=15))
    assert len(two.groups) == 2
    assert analyze(camps(n_per_camp=15), previous=two).group_of() == two.group_of()
    votes = three_camps()
    assert len(analyze(votes).groups) == 3  # from scratch the data says three
    previous = two
    runs = []
    for _ in range(6):
        previous = analyze(votes, previous=previous)
        assert previous.state is not None
        st = previous.state
        runs.append((st.last_k, st.last_k_count, st.smoothed_k, len(previous.groups)))
    # Polis's smoother: a new best k takes over only once it has won K_BUFFER runs in a row
    for best_k, in_a_row, smoothed, n_groups in runs:
        assert n_groups == smoothed
        assert smoothed == (best_k if in_a_row >= 4 else 2)
    assert runs[0][3] == 2 and runs[-1][3] > 2
    # once in the conversation, always in: p0 stays clustered with a single vote
    late = analyze(
        [v for v in votes if v.participant != "p0"] + [Vote("p0", "a", 1)], previous=previous
    )
    assert "p0" in late.group_of()
    assert (
        "p0"
        not in analyze(
            [v for v in votes if v.participant != "p0"] + [Vote("p0", "a", 1)]
        ).group_of()
    )


def test_warm_kmeans_split_takes_the_last_of_equally_distant_points() -> None:
    """Polis's most-distal (max-key) takes the last of equally distant points: a cluster of
    two splits off its later member. Distances equal up to rounding count as equal, so the
    choice does not depend on how the arithmetic rounded (here 0.1 and 0.7 are not exactly
    as far from their mean 0.4)."""
    from stcoord.analytics.consensus import _warm_kmeans

    for a, b in ((0.0, 2.0), (0.1, 0.7)):
        x = np.array([[a, 0.0], [b, 0.0], [10.0, 0.0]])
        clusters = _warm_kmeans(x, np.ones(3), 3, [np.array([0, 1]), np.array([2])], 100)
        assert [c.tolist() for c in clusters] == [[0], [2], [1]]
    mid = (0.1 + 0.7) / 2
    assert (0.1 - mid) ** 2 != (0.7 - mid) ** 2  # a tie only up to rounding


def _timed_random_votes(n: int = 160, statements: int = 12) -> list[Vote]:
    rng = np.random.default_rng(3)
    votes = []
    for p in range(n):
        camp = p % 2
        for s in range(statements):
            agree = (s < statements // 2) == (camp == 0)
            value = (1 if agree else -1) if rng.random() < 0.8 else int(rng.integers(-1, 2))
            votes.append(Vote(f"p{p}", f"s{s}", value, time=p * 3.0 + s * 0.05))
    return votes


def test_replay_auto_runs_when_the_replay_is_short(monkeypatch: pytest.MonkeyPatch) -> None:
    """replay="auto" replays Polis's runs whenever the votes carry times and runs x participants
    stay within REPLAY_MAX_WORK, whatever the number of distinct positions (here more than the
    100 base clusters); above the bound it runs once, as replay="never" does."""
    import stcoord.analytics.consensus as consensus

    def bases(result: Analysis) -> tuple[tuple[str, ...], ...]:
        assert result.state is not None
        return result.state.base_clusters

    votes = _timed_random_votes()
    auto = analyze(votes)
    always = analyze(votes, replay="always")
    never = analyze(votes, replay="never")
    assert len({auto.coordinates[p] for p in auto.in_conversation}) > 100
    assert bases(auto) == bases(always)
    assert bases(auto) != bases(never)
    monkeypatch.setattr(consensus, "REPLAY_MAX_WORK", 160 * 160 - 1)  # 160 runs x 160 people
    assert bases(analyze(votes)) == bases(never)
    monkeypatch.setattr(consensus, "REPLAY_MAX_WORK", 160 * 160)
    assert bases(analyze(votes)) == bases(always)
    # without times: one run
    untimed = [Vote(v.participant, v.statement, v.value) for v in votes]
    assert bases(analyze(untimed)) == bases(never)


def test_replaying_history() -> None:
    votes = three_camps()
    timed = [(float(i), v) for i, v in enumerate(votes)]
    result = analyze_history(timed, steps=5)
    assert len(result.groups) == 3
    assert adjusted_rand_index(result.group_of(), {f"p{p}": p % 3 for p in range(36)}) == 1.0


@needs_data
@pytest.mark.parametrize("case", MATH_CASES)
def test_in_conversation_history_reproduces_polis(case: str) -> None:
    """Replaying the votes in time order gives exactly Polis's in-conv, early low-vote
    participants included (50ptpt's 4 and 14 voted once)."""
    root = POLIS_MATH / case
    raw = json.loads((root / "votes.json").read_text())
    timed = [
        (
            float(v["modified"]),
            Vote(
                str(v.get("participant_id", v.get("pid"))),
                str(v.get("statement_id", v.get("tid"))),
                int(v["vote"]),
            ),
        )
        for v in raw
    ]
    m = json.loads((root / "math-pca2.json").read_text())
    assert in_conversation_history(timed) == {str(p) for p in m["in-conv"]}


def test_no_groups_without_structure() -> None:
    everyone_agrees = [Vote(str(p), s, 1) for p in range(20) for s in "abc"]
    result = analyze(everyone_agrees)
    assert result.groups == ()
    assert [(c.statement, c.direction) for c in result.consensus] == [
        ("a", "agree"),
        ("b", "agree"),
        ("c", "agree"),
    ]
    assert result.consensus[0].score == pytest.approx(21 / 22)  # one pseudo-group of all 20
    assert result.divisive == ()
    only_passes = [Vote(str(p), s, 0) for p in range(20) for s in "abc"]
    assert analyze(only_passes).groups == () and analyze(only_passes).consensus == ()
