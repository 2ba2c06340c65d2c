"""Adjudication of candidate pairs with GAO's vocabulary, assignment to reviewers, and the
screen's precision over time.

A verdict is one of duplication, overlap, fragmentation, complementary or unrelated
(GAO-15-49SP), with a comment; every verdict is kept (``portfolio_verdict``) and audited, and the
pair carries the latest. A pair is *confirmed* when its latest verdict is duplication or overlap.
Precision = confirmed / adjudicated; flagged per confirmed = adjudicated / confirmed (the 2013 US
screen of ~600k grant summaries flagged about 8 pairs for each one confirmed).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stcoord.audit.service import record_change
from stcoord.auth.models import User
from stcoord.auth.permissions import POLICY, Actor, Role, require
from stcoord.db.base import utcnow
from stcoord.errors import Conflict, NotFound, ValidationFailed
from stcoord.portfolio.models import CONFIRMED, VERDICTS, ScreenPair, ScreenRun, Verdict

PERIODS = ("day", "week", "month")


def _pair_state(pair: ScreenPair) -> dict[str, object]:
    return {
        "verdict": pair.verdict,
        "comment": pair.verdict_comment,
        "assigned_to_id": pair.assigned_to_id,
        "version": pair.version,
    }


def record_verdict(
    session: Session,
    actor: Actor,
    *,
    pair_id: int,
    label: str,
    comment: str = "",
    version: int | None = None,
) -> ScreenPair:
    """Give a pair a verdict. ``version`` (the pair's version the reviewer saw) makes a stale
    form a 409 conflict instead of overwriting someone else's verdict."""
    pair = session.get(ScreenPair, pair_id)
    if pair is None:
        raise NotFound(f"no pair {pair_id}")
    require(actor, "portfolio.adjudicate", pair)
    label = (label or "").strip().lower()
    problems = []
    if label not in VERDICTS:
        problems.append(("label", f"use one of {', '.join(VERDICTS)}"))
    if len(comment or "") > 10_000:
        problems.append(("comment", "at most 10,000 characters"))
    if problems:
        raise ValidationFailed(problems)
    if version is not None and version != pair.version:
        raise Conflict(
            f"pair {pair_id} changed since you opened it (now version {pair.version})",
            current=_pair_state(pair),
        )
    before = _pair_state(pair)
    now = utcnow()
    pair.verdict = label
    pair.verdict_comment = comment or ""
    pair.verdict_by = actor.username
    pair.verdict_at = now
    pair.version += 1
    session.add(
        Verdict(
            pair_id=pair.id,
            label=label,
            comment=comment or "",
            actor_id=actor.user_id,
            actor_name=actor.username,
            at=now,
        )
    )
    session.flush()
    record_change(
        session,
        actor,
        action="portfolio.verdict",
        object_type="portfolio_pair",
        object_key=str(pair.id),
        before=before,
        after=_pair_state(pair),
        summary=f"pair {pair.id}: {label}",
    )
    return pair


def verdict_history(session: Session, actor: Actor, pair_id: int) -> list[Verdict]:
    require(actor, "portfolio.read")
    return list(
        session.scalars(
            select(Verdict).where(Verdict.pair_id == pair_id).order_by(Verdict.at, Verdict.id)
        )
    )


def reviewers(session: Session, actor: Actor) -> list[User]:
    """Active users who may adjudicate (the office and advisers)."""
    require(actor, "portfolio.read")
    roles = [r.value for r in POLICY["portfolio.adjudicate"]]
    return list(
        session.scalars(
            select(User)
            .where(User.is_active.is_(True), User.role.in_(roles))
            .order_by(User.username)
        )
    )


def assign(session: Session, actor: Actor, *, pair_ids: Sequence[int], reviewer: str | None) -> int:
    """Assign pairs to a reviewer (a username; None unassigns); returns how many changed."""
    require(actor, "portfolio.manage")
    user_id: int | None = None
    if reviewer:
        user = session.scalar(select(User).where(User.username == reviewer))
        if user is None or not user.is_active:
            raise ValidationFailed([("reviewer", f"no active user {reviewer!r}")])
        if Role(user.role) not in POLICY["portfolio.adjudicate"]:
            raise ValidationFailed([("reviewer", f"{reviewer} may not adjudicate pairs")])
        user_id = user.id
    if not pair_ids:
        raise ValidationFailed([("pairs", "choose at least one pair")])
    pairs = list(session.scalars(select(ScreenPair).where(ScreenPair.id.in_(list(pair_ids)))))
    missing = sorted(set(pair_ids) - {p.id for p in pairs})
    if missing:
        raise NotFound(f"no pairs {missing}")
    changed = [p for p in pairs if p.assigned_to_id != user_id]
    for pair in changed:
        pair.assigned_to_id = user_id
        pair.version += 1
    if changed:
        record_change(
            session,
            actor,
            action="portfolio.assign",
            object_type="portfolio_pair",
            object_key=",".join(str(p.id) for p in changed)[:200],
            before=None,
            after={"pairs": [p.id for p in changed], "reviewer": reviewer},
            summary=f"assigned {len(changed)} pairs to {reviewer or 'nobody'}",
        )
    return len(changed)


# ----------------------------------------------------------------------------- precision


@dataclass(frozen=True)
class Tally:
    flagged: int
    adjudicated: int
    confirmed: int
    by_label: dict[str, int]

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.adjudicated if self.adjudicated else None

    @property
    def flagged_per_confirmed(self) -> float | None:
        """Adjudicated pairs per confirmed one (1 / precision)."""
        return self.adjudicated / self.confirmed if self.confirmed else None

    def as_dict(self) -> dict[str, object]:
        return {
            "flagged": self.flagged,
            "adjudicated": self.adjudicated,
            "confirmed": self.confirmed,
            "by_label": self.by_label,
            "precision": self.precision,
            "flagged_per_confirmed": self.flagged_per_confirmed,
        }


@dataclass(frozen=True)
class RunPrecision:
    run_id: int
    kind: str
    threshold: float
    representation: str
    created_at: dt.datetime
    tally: Tally


@dataclass(frozen=True)
class PeriodPrecision:
    period: str  # 2026-11-23 (the day, or the Monday of the week, or the month's first day)
    adjudicated: int  # in this period
    confirmed: int
    cumulative: Tally


@dataclass(frozen=True)
class PrecisionReport:
    runs: list[RunPrecision]
    over_time: list[PeriodPrecision]
    total: Tally


def _period(at: dt.datetime, by: str) -> str:
    day = at.date()
    if by == "week":
        day = day - dt.timedelta(days=day.weekday())
    elif by == "month":
        day = day.replace(day=1)
    return day.isoformat()


def precision(
    session: Session, actor: Actor, *, run_id: int | None = None, by: str = "week"
) -> PrecisionReport:
    """Precision per run and cumulative over time from the latest verdict of each pair."""
    require(actor, "portfolio.read")
    if by not in PERIODS:
        raise ValidationFailed([("by", f"use one of {', '.join(PERIODS)}")])
    runs_stmt = select(ScreenRun).order_by(ScreenRun.id)
    if run_id is not None:
        runs_stmt = runs_stmt.where(ScreenRun.id == run_id)
    runs = list(session.scalars(runs_stmt))
    if run_id is not None and not runs:
        raise NotFound(f"no screen run {run_id}")
    counts: dict[int, dict[str | None, int]] = defaultdict(lambda: defaultdict(int))
    stmt = select(ScreenPair.run_id, ScreenPair.verdict, func.count()).group_by(
        ScreenPair.run_id, ScreenPair.verdict
    )
    if run_id is not None:
        stmt = stmt.where(ScreenPair.run_id == run_id)
    for rid, label, n in session.execute(stmt):
        counts[rid][label] += n

    def tally(by_label: dict[str | None, int]) -> Tally:
        labels = {k: v for k, v in by_label.items() if k is not None}
        return Tally(
            flagged=sum(by_label.values()),
            adjudicated=sum(labels.values()),
            confirmed=sum(v for k, v in labels.items() if k in CONFIRMED),
            by_label={k: labels.get(k, 0) for k in VERDICTS},
        )

    per_run = [
        RunPrecision(r.id, r.kind, r.threshold, r.representation, r.created_at, tally(counts[r.id]))
        for r in runs
    ]
    total_counts: dict[str | None, int] = defaultdict(int)
    for c in counts.values():
        for k, v in c.items():
            total_counts[k] += v
    flagged_total = sum(total_counts.values())
    timeline = select(ScreenPair.verdict, ScreenPair.verdict_at).where(
        ScreenPair.verdict.is_not(None)
    )
    if run_id is not None:
        timeline = timeline.where(ScreenPair.run_id == run_id)
    periods: dict[str, dict[str | None, int]] = defaultdict(lambda: defaultdict(int))
    for label, at in session.execute(timeline):
        if at is None:
            continue
        periods[_period(at, by)][label] += 1
    over_time = []
    running: dict[str | None, int] = defaultdict(int)
    for key in sorted(periods):
        for label, n in periods[key].items():
            running[label] += n
        cumulative = tally(dict(running))
        over_time.append(
            PeriodPrecision(
                period=key,
                adjudicated=sum(periods[key].values()),
                confirmed=sum(v for k, v in periods[key].items() if k in CONFIRMED),
                cumulative=Tally(
                    flagged=flagged_total,
                    adjudicated=cumulative.adjudicated,
                    confirmed=cumulative.confirmed,
                    by_label=cumulative.by_label,
                ),
            )
        )
    return PrecisionReport(per_run, over_time, tally(total_counts))
