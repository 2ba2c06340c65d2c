"""Screen runs: NSF collaborative groups are found, a run resumes after an interruption, the
file path and the stored path agree, and a new batch is screened against the portfolio."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from stcoord.auth.permissions import SYSTEM
from stcoord.db.session import Database
from stcoord.errors import Conflict, ValidationFailed
from stcoord.portfolio import screening
from stcoord.portfolio.imports import records_of
from stcoord.portfolio.models import Project, ScreenPair, ScreenRun
from tests.portfolio.conftest import group_pairs, import_file


def _run(db: Database, **kw: object) -> int:
    with db.scope() as session:
        return screening.create_run(session, SYSTEM, **kw).id  # type: ignore[arg-type]


def _canonical(db: Database, run_id: int) -> list[dict[str, object]]:
    with db.scope(write=False) as session:
        return screening.stored_pairs(session, SYSTEM, run_id)


def test_screen_finds_every_collaborative_group_pair_and_resumes(
    db: Database, nsf_slice: Path, nsf_groups: list[list[str]]
) -> None:
    import_file(db, nsf_slice)
    run_id = _run(db, chunk_size=100)
    progress: list[tuple[int, int]] = []
    with pytest.raises(screening.Interrupted):
        screening.execute_run(
            db, SYSTEM, run_id, progress=lambda d, t: progress.append((d, t)), stop_after=2
        )
    with db.scope(write=False) as session:
        run = session.get(ScreenRun, run_id)
        assert run is not None
        assert (run.status, run.chunks_done, run.chunks_total) == ("running", 2, 4)
        written = run.pair_count
        assert written == session.scalar(select(func.count()).where(ScreenPair.run_id == run_id))
    screening.execute_run(db, SYSTEM, run_id, progress=lambda d, t: progress.append((d, t)))
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]  # resumed at chunk 3, nothing redone
    with pytest.raises(Conflict):
        screening.execute_run(db, SYSTEM, run_id)

    resumed = _canonical(db, run_id)
    whole = _run(db, chunk_size=100)
    screening.execute_run(db, SYSTEM, whole)
    assert _canonical(db, whole) == resumed  # an interrupted run ends with the same pairs

    found = {(p["left"], p["right"]) for p in resumed}
    wanted = group_pairs(nsf_groups)
    assert wanted <= found  # recall 1.0 on the collaborative groups at the default threshold
    with db.scope(write=False) as session:
        run = session.get(ScreenRun, run_id)
        assert run is not None and run.status == "done" and run.pair_count == len(resumed)
        flags = session.execute(
            select(ScreenPair.cross_agency, func.count())
            .where(ScreenPair.run_id == run_id)
            .group_by(ScreenPair.cross_agency)
        ).all()
        assert flags == [(False, len(resumed))]  # one agency: never cross-agency
        # the collaborative awards 1800130/1800139 run over the same years
        pair = session.execute(
            select(ScreenPair)
            .join(Project, Project.id == ScreenPair.left_project_id)
            .where(ScreenPair.run_id == run_id, Project.external_id == "1800130")
        ).scalar_one()
        assert pair.time_overlap and pair.score >= 0.78


def test_file_screen_and_stored_screen_print_the_same_pairs(db: Database, nsf_slice: Path) -> None:
    import_file(db, nsf_slice)
    run_id = _run(db, threshold=0.8)
    screening.execute_run(db, SYSTEM, run_id)
    with nsf_slice.open("rb") as stream:
        from_file = screening.screen_records(records_of(stream, nsf_slice.name), threshold=0.8)
    stored = _canonical(db, run_id)
    assert stored == from_file and len(stored) > 100
    assert set(stored[0]) == {"left", "right", "score"}
    assert all(p["score"] >= 0.8 for p in stored)


def test_batch_of_proposals_is_screened_against_the_portfolio(
    db: Database, nsf_slice: Path, tmp_path: Path
) -> None:
    import_file(db, nsf_slice)
    base = _run(db, threshold=0.6)
    screening.execute_run(db, SYSTEM, base)
    award = json.loads(nsf_slice.read_text().split("\n")[0])
    copy = dict(award, award_id="P-1")
    copy["abstract"] = award["abstract"].replace(
        "Professor", "Dr."
    )  # a lightly edited resubmission
    other = dict(award, award_id="P-2", title="Coral reef sound maps")
    other["abstract"] = "Hydrophones record coral reef soundscapes to map fish spawning sites."
    other["investigators"] = []
    batch = tmp_path / "proposals.jsonl"
    batch.write_text(json.dumps(copy) + "\n" + json.dumps(other) + "\n")
    import_file(db, batch, source="proposals-2026")
    with db.scope(write=False) as session:
        base_pairs = session.scalar(select(func.count()).where(ScreenPair.run_id == base))
    with db.scope() as session:
        run = screening.create_batch_run(session, SYSTEM, batch_source="proposals-2026")
        run_id = run.id
        assert run.base_run_id == base
    screening.execute_run(db, SYSTEM, run_id)
    pairs = _canonical(db, run_id)
    assert [(p["left"], p["right"]) for p in pairs] == [(award["award_id"], "P-1")]
    assert pairs[0]["score"] > 0.9
    with db.scope(write=False) as session:
        pair = session.scalars(select(ScreenPair).where(ScreenPair.run_id == run_id)).one()
        assert pair.shared_investigators == 1 and not pair.cross_agency
        new = session.get(Project, pair.left_project_id)
        assert new is not None and new.source == "proposals-2026"  # left: the new proposal
        # the portfolio's own pairs were not recomputed or touched
        assert session.scalar(select(func.count()).where(ScreenPair.run_id == base)) == base_pairs


def test_bad_parameters_are_refused(db: Database, nsf_slice: Path) -> None:
    with pytest.raises(ValidationFailed):
        _run(db)  # nothing imported yet
    import_file(db, nsf_slice)
    with pytest.raises(ValidationFailed) as caught:
        _run(db, threshold=1.5, representation="bag", method="magic")
    assert {d["path"] for d in caught.value.details} == {"threshold", "representation", "method"}
