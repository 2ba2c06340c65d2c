"""Polis export formats: reading the openData and 2025 exports, writing ours, round trips, and
our groups against Polis's recorded ones on real conversations."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stcoord.analytics.consensus import Vote, adjusted_rand_index, analyze
from stcoord.consultation.polis_format import (
    PolisComment,
    read_export,
    state_from_recorded_groups,
    write_export,
)
from stcoord.errors import ValidationFailed

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SEATTLE = DATA / "polis" / "15-per-hour-seattle"
CANADA = DATA / "polis" / "canadian-electoral-reform"
LONDON = DATA / "polis" / "london.youth.policing"
MATH_25 = DATA / "polis-math" / "25ptpt-3gp-no-strict-with-meta"
EXPORT_2025 = DATA / "polis-math" / "csv-export-test"

pytestmark = pytest.mark.skipif(not SEATTLE.is_dir(), reason="shared Polis data not present")


def last_votes(export) -> dict[tuple[str, str], int]:
    return {(v.participant, v.statement): v.value for v in export.analysis_votes()}


def test_open_data_export_reads_whole_and_signs_agree_as_one() -> None:
    export = read_export(SEATTLE)
    assert export.summary["voters"] == "339"
    assert len(export.comments) == int(export.summary["comments"]) == 54
    assert len(export.participants) == 339
    assert export.excluded_statements() == tuple(
        sorted((c.id for c in export.comments if c.moderated == -1), key=int)
    )
    assert export.excluded_statements()  # the conversation has moderated-out comments
    # votes.csv agrees with the matrix: 1 is agree in both (n-agree counts the 1s)
    votes = last_votes(export)
    for p in export.participants:
        mine = {s: v for (pp, s), v in votes.items() if pp == p.id}
        assert mine == p.votes
        assert p.n_agree == sum(1 for v in mine.values() if v == 1)
        assert p.n_disagree == sum(1 for v in mine.values() if v == -1)
    groups = export.recorded_groups()
    assert set(groups.values()) == {0, 1}


def test_2025_export_with_comment_groups() -> None:
    export = read_export(EXPORT_2025)
    assert export.files["matrix"].endswith("participant-votes.csv")
    assert export.files["comment_groups"].endswith("comment-groups.csv")
    assert export.summary["groups"] == "2"
    votes = last_votes(export)
    groups = export.recorded_groups()
    for row in export.comment_groups:
        # totals count the grouped (in-conversation) participants only
        mine = [v for (p, s), v in votes.items() if s == row.statement and p in groups]
        assert row.total.agrees == mine.count(1)
        assert row.total.disagrees == mine.count(-1)
        assert row.total.votes == len(mine)
        # group "a" is group-id 0, "b" is 1
        for gid, counts in row.groups.items():
            in_group = [
                v for (p, s), v in votes.items() if s == row.statement and groups.get(p) == gid
            ]
            assert (counts.agrees, counts.disagrees, counts.passes) == (
                in_group.count(1),
                in_group.count(-1),
                in_group.count(0),
            )


def test_bad_files_are_refused_with_their_location(tmp_path: Path) -> None:
    shutil.copy(SEATTLE / "comments.csv", tmp_path / "comments.csv")
    (tmp_path / "votes.csv").write_text(
        "timestamp,datetime,comment-id,voter-id,vote\n1,x,0,5,1\n2,x,0,6,agree\n3,x,1,,1\n"
    )
    with pytest.raises(ValidationFailed) as err:
        read_export(tmp_path)
    details = err.value.details
    assert {"path": "votes.csv", "row": 3, "column": "vote"}.items() <= details[0].items()
    assert details[1]["row"] == 4
    (tmp_path / "votes.csv").write_text("timestamp,comment-id,vote\n1,0,1\n")
    with pytest.raises(ValidationFailed, match="voter-id"):
        read_export(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_export(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="Polis export"):
        read_export(empty)


@pytest.mark.parametrize("prefix", ["", "2026-01-01-0000-abc-"])
def test_round_trip_through_our_export(tmp_path: Path, prefix: str) -> None:
    source = read_export(SEATTLE)
    analysis = analyze(source.analysis_votes(), excluded_statements=source.excluded_statements())
    paths = write_export(
        tmp_path,
        analysis,
        source.votes,
        comments=source.comments,
        summary=source.summary,
        prefix=prefix,
    )
    assert all(p.name.startswith(prefix) for p in paths.values())
    back = read_export(tmp_path)
    assert last_votes(back) == last_votes(source)
    assert [c.id for c in back.comments] == sorted((c.id for c in source.comments), key=int)
    assert back.excluded_statements() == source.excluded_statements()
    assert {c.id: c.body for c in back.comments} == {c.id: c.body for c in source.comments}
    # the group-id column carries our groups; comment-groups our per-group counts
    assert back.recorded_groups() == analysis.group_of()
    assert back.summary["groups"] == str(len(analysis.groups))
    assert back.summary["voters-in-conv"] == str(len(analysis.in_conversation))
    votes = last_votes(back)
    for row in back.comment_groups:
        for gid, counts in row.groups.items():
            members = set(analysis.groups[gid].members)
            mine = [v for (p, s), v in votes.items() if s == row.statement and p in members]
            assert counts.votes == len(mine) and counts.agrees == mine.count(1)
        assert row.total.votes == sum(c.votes for c in row.groups.values())
    # analysing the written export gives the same groups
    again = analyze(back.analysis_votes(), excluded_statements=back.excluded_statements())
    assert again.group_of() == analysis.group_of()


def test_write_without_comments_or_timestamps(tmp_path: Path) -> None:
    from stcoord.analytics.consensus import Vote

    votes = [Vote(f"p{i}", s, 1 if (i < 8) == (s < "c") else -1) for i in range(16) for s in "abcd"]
    analysis = analyze(votes, excluded_statements={"d"})
    write_export(tmp_path, analysis, votes, comments=[PolisComment("a", "first")])
    back = read_export(tmp_path)
    assert {c.id: (c.body, c.moderated) for c in back.comments} == {
        "a": ("first", 1),
        "b": ("", 1),
        "c": ("", 1),
        "d": ("", -1),
    }
    assert last_votes(back) == {(v.participant, v.statement): v.value for v in votes}


# --- our groups against Polis's recorded groups on real conversations ------------------------


@pytest.mark.parametrize(
    ("folder", "floor", "one_run"), [(SEATTLE, 0.99, 0.85), (CANADA, 0.99, 0.9)]
)
def test_groups_agree_with_polis_recorded_groups(
    folder: Path, floor: float, one_run: float
) -> None:
    """Polis's group-id is from its last run, whose k-means started from its history. From the
    votes with their times we replay that history (one run per second of votes) and get
    Polis's groups (Seattle 1.000, Canada 1.000); one run from scratch (``replay="never"``)
    gets 0.884 and 0.964. red-dwarf on the same data: 0.459 (Seattle), 1.000 (Canada)."""
    export = read_export(folder)
    recorded = export.recorded_groups()
    analysis = analyze(export.analysis_votes(), excluded_statements=export.excluded_statements())
    assert len(analysis.groups) == len(set(recorded.values()))
    assert adjusted_rand_index(analysis.group_of(), recorded) >= floor
    once = analyze(
        export.analysis_votes(), excluded_statements=export.excluded_statements(), replay="never"
    )
    assert floor > adjusted_rand_index(once.group_of(), recorded) >= one_run
    # continuing from Polis's recorded groups keeps them
    state = state_from_recorded_groups(export, analysis)
    continued = analyze(
        export.analysis_votes(), excluded_statements=export.excluded_statements(), previous=state
    )
    assert adjusted_rand_index(continued.group_of(), recorded) >= 0.9


def test_votes_carry_their_time_in_seconds() -> None:
    """openData and polis-math write milliseconds, the 2025 export seconds: all in seconds."""
    seattle = read_export(SEATTLE).analysis_votes()
    assert seattle[0].time == pytest.approx(1403054214.196)  # votes.csv 1403054214196
    times = [v.time for v in seattle]
    assert None not in times and times == sorted(times)  # type: ignore[type-var]
    assert read_export(EXPORT_2025).analysis_votes()[0].time == 1747514148.0
    assert read_export(MATH_25).analysis_votes()[0].time == pytest.approx(1691740361.8)
    # the time is not part of a vote's identity
    assert seattle[0] == Vote(seattle[0].participant, seattle[0].statement, seattle[0].value)


def test_small_conversation_replays_polis_runs() -> None:
    """london.youth.policing (24 clustered, Polis: 3 groups of 18/3/3): neither one run on the
    votes (-0.019) nor the replay of Polis's runs from the vote times (-0.061, 2 groups)
    reproduces Polis's groups; red-dwarf reaches 0.122. All at chance level: decided by the
    first few runs (the replay gave 0.059 when a tie in its first runs fell the other way)."""
    export = read_export(LONDON)
    recorded = export.recorded_groups()
    votes = export.analysis_votes()
    excluded = export.excluded_statements()
    replayed = analyze(votes, excluded_statements=excluded)
    once = analyze(votes, excluded_statements=excluded, replay="never")
    untimed = analyze([Vote(v.participant, v.statement, v.value) for v in votes])
    assert untimed.group_of() == once.group_of()
    assert replayed.group_of() != once.group_of()
    assert adjusted_rand_index(once.group_of(), recorded) < 0
    assert abs(adjusted_rand_index(replayed.group_of(), recorded)) < 0.1
