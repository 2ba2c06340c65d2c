"""Screen runs: create one, run it chunk by chunk with a checkpoint, resume it, screen a new
batch against the portfolio, and list the candidate pairs.

A run's projects are those in its scope (agencies, sources) with ``id <= max_project_id``, in id
order, so a resumed run sees the same texts in the same order and the similarity core gives the
same chunks. Each chunk's pairs and the checkpoint (``chunks_done``) are written in one
transaction: a run killed mid-way resumes from its last written chunk and never duplicates pairs.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from stcoord.analytics.similarity import DEFAULT_THRESHOLD, Pair, Screener, screen
from stcoord.audit.service import record_change
from stcoord.auth.permissions import Actor, require
from stcoord.budget.models import Agency
from stcoord.db.base import utcnow
from stcoord.errors import Conflict, NotFound, ValidationFailed
from stcoord.portfolio.mapping import ProjectRecord, project_text
from stcoord.portfolio.models import (
    VERDICTS,
    Project,
    ProjectInvestigator,
    ScreenPair,
    ScreenRun,
)

REPRESENTATIONS = ("auto", "word", "char", "dense")
METHODS = ("auto", "exact", "ann")
DEFAULT_CHUNK = 10_000
SCORE_DIGITS = 6


@dataclass(frozen=True)
class Corpus:
    """The projects of a run in order, with what the pair flags need."""

    ids: list[int]
    texts: list[str]
    agency: list[int]
    start: list[dt.date | None]
    end: list[dt.date | None]
    people: dict[int, frozenset[int]]


def _check_params(representation: str, threshold: float, method: str, chunk_size: int) -> None:
    problems = []
    if representation not in REPRESENTATIONS:
        problems.append(("representation", f"use one of {', '.join(REPRESENTATIONS)}"))
    if method not in METHODS:
        problems.append(("method", f"use one of {', '.join(METHODS)}"))
    if not 0.0 < threshold <= 1.0:
        problems.append(("threshold", "a cosine similarity above 0 and at most 1"))
    if chunk_size < 1:
        problems.append(("chunk_size", "at least 1"))
    if problems:
        raise ValidationFailed(problems)


def _scoped(stmt: Any, scope: dict[str, Any]) -> Any:
    if scope.get("agencies"):
        stmt = stmt.where(
            Project.agency_id.in_(select(Agency.id).where(Agency.code.in_(scope["agencies"])))
        )
    if scope.get("sources"):
        stmt = stmt.where(Project.source.in_(scope["sources"]))
    if scope.get("exclude_sources"):
        stmt = stmt.where(Project.source.not_in(scope["exclude_sources"]))
    return stmt


def create_run(
    session: Session,
    actor: Actor,
    *,
    representation: str = "auto",
    threshold: float = DEFAULT_THRESHOLD,
    method: str = "auto",
    agencies: Sequence[str] = (),
    sources: Sequence[str] = (),
    chunk_size: int = DEFAULT_CHUNK,
) -> ScreenRun:
    """A queued screen over the projects now in scope (later imports are not part of it)."""
    require(actor, "portfolio.screen")
    _check_params(representation, threshold, method, chunk_size)
    scope = {"agencies": sorted(set(agencies)), "sources": sorted(set(sources))}
    stats = session.execute(
        _scoped(select(func.count(Project.id), func.max(Project.id)), scope)
    ).one()
    if not stats[0]:
        raise ValidationFailed([("scope", "no projects in scope: import some first")])
    run = ScreenRun(
        kind="portfolio",
        representation=representation,
        threshold=float(threshold),
        method=method,
        chunk_size=chunk_size,
        scope=scope,
        max_project_id=int(stats[1]),
        project_count=int(stats[0]),
        status="queued",
        created_by=actor.username,
    )
    session.add(run)
    session.flush()
    record_change(
        session,
        actor,
        action="portfolio.screen",
        object_type="portfolio_screen_run",
        object_key=str(run.id),
        before=None,
        after=run_dict(run),
        summary=f"queued screen run {run.id} over {run.project_count} projects",
    )
    return run


def create_batch_run(
    session: Session,
    actor: Actor,
    *,
    batch_source: str,
    base_run_id: int | None = None,
    threshold: float | None = None,
    representation: str | None = None,
    method: str | None = None,
) -> ScreenRun:
    """A queued screen of the projects of ``batch_source`` (e.g. proposals imported with
    ``--source proposals-2026``) against the portfolio of ``base_run_id`` (default: the latest
    finished portfolio run), without recomputing the portfolio's own pairs."""
    require(actor, "portfolio.screen")
    base = (
        get_run(session, actor, base_run_id)
        if base_run_id is not None
        else session.scalar(
            select(ScreenRun)
            .where(ScreenRun.kind == "portfolio", ScreenRun.status == "done")
            .order_by(ScreenRun.id.desc())
            .limit(1)
        )
    )
    if base is None:
        raise ValidationFailed([("base_run", "no finished portfolio screen to compare against")])
    count = session.scalar(select(func.count(Project.id)).where(Project.source == batch_source))
    if not count:
        raise ValidationFailed([("batch_source", f"no projects from source {batch_source!r}")])
    rep = representation or base.representation
    meth = method or base.method
    thr = base.threshold if threshold is None else float(threshold)
    _check_params(rep, thr, meth, base.chunk_size)
    run = ScreenRun(
        kind="batch",
        representation=rep,
        threshold=thr,
        method=meth,
        chunk_size=base.chunk_size,
        scope={**base.scope, "exclude_sources": [batch_source]},
        max_project_id=base.max_project_id,
        project_count=int(count),
        base_run_id=base.id,
        batch_source=batch_source,
        status="queued",
        created_by=actor.username,
    )
    session.add(run)
    session.flush()
    record_change(
        session,
        actor,
        action="portfolio.screen",
        object_type="portfolio_screen_run",
        object_key=str(run.id),
        before=None,
        after=run_dict(run),
        summary=f"queued batch screen {run.id} of {batch_source} against run {base.id}",
    )
    return run


def run_dict(run: ScreenRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "kind": run.kind,
        "representation": run.representation,
        "threshold": run.threshold,
        "method": run.method,
        "chunk_size": run.chunk_size,
        "scope": run.scope,
        "max_project_id": run.max_project_id,
        "project_count": run.project_count,
        "base_run_id": run.base_run_id,
        "batch_source": run.batch_source,
        "status": run.status,
        "chunks_done": run.chunks_done,
        "chunks_total": run.chunks_total,
        "pair_count": run.pair_count,
        "error": run.error,
        "created_by": run.created_by,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def get_run(session: Session, actor: Actor, run_id: int) -> ScreenRun:
    require(actor, "portfolio.read")
    run = session.get(ScreenRun, run_id)
    if run is None:
        raise NotFound(f"no screen run {run_id}")
    return run


def list_runs(session: Session, actor: Actor) -> list[ScreenRun]:
    require(actor, "portfolio.read")
    return list(session.scalars(select(ScreenRun).order_by(ScreenRun.id.desc())))


def load_corpus(session: Session, run: ScreenRun, *, batch: bool = False) -> Corpus:
    """The run's projects in id order (for a batch run: ``batch=True`` gives the new ones)."""
    stmt = select(
        Project.id,
        Project.title,
        Project.abstract,
        Project.agency_id,
        Project.start_date,
        Project.end_date,
    )
    if batch:
        stmt = stmt.where(Project.source == run.batch_source)
    else:
        stmt = _scoped(stmt, run.scope).where(Project.id <= run.max_project_id)
    rows = session.execute(stmt.order_by(Project.id)).all()
    ids = [r[0] for r in rows]
    people: dict[int, set[int]] = defaultdict(set)
    wanted = set(ids)
    for project_id, investigator_id in session.execute(
        select(ProjectInvestigator.project_id, ProjectInvestigator.investigator_id)
    ):
        if project_id in wanted:
            people[project_id].add(investigator_id)
    return Corpus(
        ids=ids,
        texts=[project_text(r[1], r[2]) for r in rows],
        agency=[r[3] for r in rows],
        start=[r[4] for r in rows],
        end=[r[5] for r in rows],
        people={k: frozenset(v) for k, v in people.items()},
    )


def overlaps(
    a_start: dt.date | None, a_end: dt.date | None, b_start: dt.date | None, b_end: dt.date | None
) -> bool:
    """Whether two project periods share a day (an open end runs on; no dates: unknown, False).

    >>> overlaps(dt.date(2020, 1, 1), dt.date(2021, 1, 1), dt.date(2020, 6, 1), None)
    True
    """
    if (a_start is None and a_end is None) or (b_start is None and b_end is None):
        return False
    lo = max(a_start or dt.date.min, b_start or dt.date.min)
    hi = min(a_end or dt.date.max, b_end or dt.date.max)
    return lo <= hi


def pair_rows(
    run_id: int, pairs: Iterable[Pair], left: Corpus, right: Corpus
) -> list[dict[str, Any]]:
    """Rows for ``portfolio_pair`` with the flags, from index pairs into two corpora."""
    rows = []
    for pair in pairs:
        i, j = int(pair.left), int(pair.right)
        a, b = left.ids[i], right.ids[j]
        if a == b:
            continue
        shared = left.people.get(a, frozenset()) & right.people.get(b, frozenset())
        rows.append(
            {
                "run_id": run_id,
                "left_project_id": a,
                "right_project_id": b,
                "score": float(pair.score),
                "cross_agency": left.agency[i] != right.agency[j],
                "time_overlap": overlaps(left.start[i], left.end[i], right.start[j], right.end[j]),
                "shared_investigators": len(shared),
                "version": 1,
            }
        )
    return rows


def write_pairs(session: Session, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        session.execute(insert(ScreenPair), rows[start : start + 5000])


# ------------------------------------------------------------------------- running a run


ProgressFn = Callable[[int, int], None]
_FITTED: dict[tuple[Any, ...], Screener] = {}


def _fitted(run: ScreenRun, corpus: Corpus, base_key: tuple[Any, ...]) -> Screener:
    """A fitted screener for a portfolio, kept in this process: a batch screened against the
    same portfolio reuses it instead of refitting."""
    key = (*base_key, run.representation, run.method, run.threshold, len(corpus.ids))
    screener = _FITTED.get(key)
    if screener is None:
        screener = Screener(
            representation=run.representation,
            threshold=run.threshold,
            method=run.method,
            random_state=0,
        ).fit(corpus.texts)
        _FITTED.clear()  # keep one fitted portfolio: they can be large
        _FITTED[key] = screener
    return screener


class Interrupted(Exception):
    """Raised by :func:`execute_run` when ``stop_after`` chunks were written (for tests and
    for stopping a long run cleanly: resume it later)."""


def execute_run(
    database: Any,
    actor: Actor,
    run_id: int,
    *,
    progress: ProgressFn | None = None,
    stop_after: int | None = None,
) -> None:
    """Run (or resume) a screen: each chunk of pairs is written with the checkpoint in its own
    transaction on ``database`` (a :class:`~stcoord.db.session.Database`)."""
    with database.scope() as session:
        run = session.get(ScreenRun, run_id)
        if run is None:
            raise NotFound(f"no screen run {run_id}")
        require(actor, "portfolio.screen")
        if run.status == "done":
            raise Conflict(f"screen run {run_id} is already done", current=run_dict(run))
        run.status = "running"
        run.error = None
        run.started_at = run.started_at or utcnow()
        kind = run.kind
    try:
        if kind == "batch":
            _execute_batch(database, run_id, progress)
        else:
            _execute_portfolio(database, run_id, progress, stop_after)
    except Interrupted:
        raise
    except Exception as exc:
        with database.scope() as session:
            failed = session.get(ScreenRun, run_id)
            if failed is not None:
                failed.status = "failed"
                failed.error = f"{type(exc).__name__}: {exc}"[:2000]
        raise
    with database.scope() as session:
        run = session.get(ScreenRun, run_id)
        assert run is not None
        run.status = "done"
        run.finished_at = utcnow()
        record_change(
            session,
            actor,
            action="portfolio.screen.done",
            object_type="portfolio_screen_run",
            object_key=str(run.id),
            before=None,
            after={"pair_count": run.pair_count, "chunks": run.chunks_total},
            summary=f"screen run {run.id} found {run.pair_count} candidate pairs",
        )


def _execute_portfolio(
    database: Any, run_id: int, progress: ProgressFn | None, stop_after: int | None
) -> None:
    with database.scope(write=False) as session:
        run = session.get(ScreenRun, run_id)
        assert run is not None
        corpus = load_corpus(session, run)
        start, chunk_size = run.chunks_done, run.chunk_size
    screener = _fitted(run, corpus, ("run", run.id, run.max_project_id))
    chunks = screener.iter_pairs(start_chunk=start, chunk_size=chunk_size)
    for written, (done, total, pairs) in enumerate(chunks, start=1):
        rows = pair_rows(run_id, pairs, corpus, corpus)
        with database.scope() as session:
            current = session.get(ScreenRun, run_id)
            assert current is not None
            write_pairs(session, rows)
            current.chunks_done = done
            current.chunks_total = total
            current.pair_count += len(rows)
        if progress is not None:
            progress(done, total)
        if stop_after is not None and written >= stop_after and done < total:
            raise Interrupted(f"stopped after chunk {done} of {total}")
    with database.scope() as session:
        current = session.get(ScreenRun, run_id)
        assert current is not None
        if current.chunks_total == 0:  # nothing to sweep (e.g. one project)
            current.chunks_total = current.chunks_done = 1
            if progress is not None:
                progress(1, 1)


def _execute_batch(database: Any, run_id: int, progress: ProgressFn | None) -> None:
    with database.scope(write=False) as session:
        run = session.get(ScreenRun, run_id)
        assert run is not None
        base_corpus = load_corpus(session, run)
        new_corpus = load_corpus(session, run, batch=True)
        base = session.get(ScreenRun, run.base_run_id) if run.base_run_id else None
        base_key = ("run", base.id, base.max_project_id) if base else ("scope", run.id)
    if progress is not None:
        progress(0, 2)
    rows: list[dict[str, Any]] = []
    if base_corpus.ids:
        screener = _fitted(run, base_corpus, base_key)
        rows = pair_rows(
            run_id,
            screener.query(new_corpus.texts, threshold=run.threshold),
            new_corpus,
            base_corpus,
        )
    if progress is not None:
        progress(1, 2)
    if len(new_corpus.ids) > 1:
        inner = screen(
            new_corpus.texts,
            threshold=run.threshold,
            representation=run.representation,
            method=run.method,
        )
        rows += pair_rows(run_id, inner, new_corpus, new_corpus)
    with database.scope() as session:
        current = session.get(ScreenRun, run_id)
        assert current is not None
        write_pairs(session, rows)
        current.chunks_done = current.chunks_total = 2
        current.pair_count = len(rows)
    if progress is not None:
        progress(2, 2)


def resumable(run: ScreenRun) -> bool:
    return run.status in ("queued", "running", "failed")


# ------------------------------------------------------------------------------- pairs


@dataclass(frozen=True)
class PairFilter:
    run_id: int | None = None
    min_score: float | None = None
    cross_agency: bool | None = None
    shared_investigators: bool | None = None
    time_overlap: bool | None = None
    verdict: str | None = None  # a label, "none" (not adjudicated) or "any"
    assigned_to: int | None = None
    agency: str | None = None


SORTS: dict[str, Any] = {
    "score": ScreenPair.score,
    "id": ScreenPair.id,
    "shared": ScreenPair.shared_investigators,
    "verdict": ScreenPair.verdict,
}


def pairs_query(actor: Actor, flt: PairFilter) -> Select[Any]:
    require(actor, "portfolio.read")
    stmt = select(ScreenPair)
    if flt.run_id is not None:
        stmt = stmt.where(ScreenPair.run_id == flt.run_id)
    if flt.min_score is not None:
        stmt = stmt.where(ScreenPair.score >= flt.min_score)
    if flt.cross_agency is not None:
        stmt = stmt.where(ScreenPair.cross_agency.is_(flt.cross_agency))
    if flt.time_overlap is not None:
        stmt = stmt.where(ScreenPair.time_overlap.is_(flt.time_overlap))
    if flt.shared_investigators is True:
        stmt = stmt.where(ScreenPair.shared_investigators > 0)
    elif flt.shared_investigators is False:
        stmt = stmt.where(ScreenPair.shared_investigators == 0)
    if flt.verdict == "none":
        stmt = stmt.where(ScreenPair.verdict.is_(None))
    elif flt.verdict == "any":
        stmt = stmt.where(ScreenPair.verdict.is_not(None))
    elif flt.verdict:
        if flt.verdict not in VERDICTS:
            raise ValidationFailed([("verdict", f"use none, any or one of {', '.join(VERDICTS)}")])
        stmt = stmt.where(ScreenPair.verdict == flt.verdict)
    if flt.assigned_to is not None:
        stmt = stmt.where(ScreenPair.assigned_to_id == flt.assigned_to)
    if flt.agency:
        left, right = aliased(Project), aliased(Project)
        agency_ids = select(Agency.id).where(Agency.code == flt.agency)
        stmt = (
            stmt.join(left, left.id == ScreenPair.left_project_id)
            .join(right, right.id == ScreenPair.right_project_id)
            .where(or_(left.agency_id.in_(agency_ids), right.agency_id.in_(agency_ids)))
        )
    return stmt


def list_pairs(
    session: Session,
    actor: Actor,
    flt: PairFilter,
    *,
    sort: str | None = "-score",
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[ScreenPair], int]:
    """Pairs matching the filter, sorted (``-score`` by default; ties by id), with the total."""
    stmt = pairs_query(actor, flt)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    name = (sort or "-score").lstrip("-")
    if name not in SORTS:
        raise ValidationFailed([("sort", f"unknown column {name!r}; use one of {sorted(SORTS)}")])
    column = SORTS[name]
    order = column.desc() if (sort or "-score").startswith("-") else column.asc()
    stmt = stmt.order_by(
        order, ScreenPair.left_project_id, ScreenPair.right_project_id, ScreenPair.id
    )
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(session.scalars(stmt)), total


def get_pair(session: Session, actor: Actor, pair_id: int) -> ScreenPair:
    require(actor, "portfolio.read")
    pair = session.get(ScreenPair, pair_id)
    if pair is None:
        raise NotFound(f"no pair {pair_id}")
    return pair


def projects_by_id(session: Session, ids: Iterable[int]) -> dict[int, Project]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {p.id: p for p in session.scalars(select(Project).where(Project.id.in_(wanted)))}


def canonical_pairs(
    pairs: Iterable[tuple[int, int, float]], external: Callable[[int], str]
) -> list[dict[str, Any]]:
    """The ``--json`` form of a screen's pairs: each pair with its lower index first, sorted by
    score (highest first) then indices; IDs as the source's external IDs, score to 6 digits.
    The file path and the stored path both print through this, so they agree."""
    ordered = sorted(
        ((min(i, j), max(i, j), float(s)) for i, j, s in pairs),
        key=lambda t: (-round(t[2], SCORE_DIGITS), t[0], t[1]),
    )
    return [
        {"left": external(i), "right": external(j), "score": round(s, SCORE_DIGITS)}
        for i, j, s in ordered
    ]


def screen_records(
    records: Sequence[ProjectRecord],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    representation: str = "auto",
    method: str = "auto",
) -> list[dict[str, Any]]:
    """Screen a file's records without a database (``stcoord portfolio screen FILE``)."""
    _check_params(representation, threshold, method, 1)
    texts = [r.text for r in records]
    pairs = screen(texts, threshold=threshold, representation=representation, method=method)
    return canonical_pairs(
        ((p.left, p.right, p.score) for p in pairs), lambda i: records[i].external_id
    )


def stored_pairs(session: Session, actor: Actor, run_id: int) -> list[dict[str, Any]]:
    """A stored run's pairs in the same form as :func:`screen_records`."""
    get_run(session, actor, run_id)
    rows = session.execute(
        select(ScreenPair.left_project_id, ScreenPair.right_project_id, ScreenPair.score).where(
            ScreenPair.run_id == run_id
        )
    ).all()
    ids = sorted({r[0] for r in rows} | {r[1] for r in rows})
    external: dict[int, str] = {}
    for start in range(0, len(ids), 10_000):
        found = session.execute(
            select(Project.id, Project.external_id).where(
                Project.id.in_(ids[start : start + 10_000])
            )
        )
        external.update({int(pid): str(ext) for pid, ext in found})
    return canonical_pairs(((a, b, s) for a, b, s in rows), lambda pid: external[pid])
