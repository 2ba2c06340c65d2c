"""The Delphi engine: rounds of ratings on a consultation's statements, the previous round's
median and spread fed back to raters, and a convergence rule that stops the survey.

A Delphi consultation keeps in ``settings`` its rating scale (``scale_min``..``scale_max``) and
its convergence rule (``max_iqr``, ``max_median_shift``, ``min_w``, ``max_rounds``). Closing a
round stores, per statement, the number of ratings, median, quartiles and interquartile range,
and for the round Kendall's W (agreement of the raters' rankings); the statistics and the rule
are :mod:`stcoord.analytics.delphi` (pure). The survey finishes when a round converges or the
last allowed round closes; no further round opens after that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stcoord.analytics import delphi as stats
from stcoord.audit.service import record_change
from stcoord.auth.permissions import Actor, require
from stcoord.consultation import service
from stcoord.consultation.models import Consultation, DelphiRating, DelphiRound, Statement
from stcoord.errors import ValidationFailed

DEFAULTS: dict[str, float | None] = {
    "scale_min": 1,
    "scale_max": 9,
    "max_iqr": 1.0,
    "max_median_shift": 0.5,
    "min_w": None,  # a number in 0..1 also requires Kendall's W to reach it
    "max_rounds": 4,
}


def check_settings(settings: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Fill in defaults and check a Delphi consultation's scale and convergence rule."""
    out = {**DEFAULTS, **settings}
    problems: list[tuple[str, str]] = []
    for name in DEFAULTS:
        value = out[name]
        if name == "min_w" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append((f"settings.{name}", "must be a number"))
    if problems:
        return out, problems
    if out["scale_max"] <= out["scale_min"]:
        problems.append(("settings.scale_max", "must be above scale_min"))
    if out["min_w"] is not None and not 0 <= out["min_w"] <= 1:
        problems.append(("settings.min_w", "must be between 0 and 1"))
    if out["max_rounds"] < 1 or int(out["max_rounds"]) != out["max_rounds"]:
        problems.append(("settings.max_rounds", "must be a whole number of at least 1"))
    if out["max_iqr"] < 0 or out["max_median_shift"] < 0:
        problems.append(("settings.max_iqr", "spreads and shifts must not be negative"))
    unknown = sorted(set(settings) - set(DEFAULTS))
    problems += [(f"settings.{k}", "unknown setting") for k in unknown]
    return out, problems


def rule_of(c: Consultation) -> stats.ConvergenceRule:
    s = {**DEFAULTS, **c.settings}
    return stats.ConvergenceRule(
        max_iqr=float(s["max_iqr"]),
        max_median_shift=float(s["max_median_shift"]),
        min_w=None if s["min_w"] is None else float(s["min_w"]),
        max_rounds=int(s["max_rounds"]),
    )


def _rounds(session: Session, c: Consultation) -> list[DelphiRound]:
    return list(
        session.scalars(
            select(DelphiRound)
            .where(DelphiRound.consultation_id == c.id)
            .order_by(DelphiRound.number)
        )
    )


def _delphi(session: Session, actor: Actor, key: str) -> Consultation:
    c = service.get_consultation(session, actor, key)
    if c.kind not in ("delphi", "expert_panel"):
        raise ValidationFailed([("kind", f"consultation {key!r} is not a Delphi survey")])
    return c


def finished(c: Consultation, rounds: list[DelphiRound]) -> str | None:
    """Why the survey is over (``converged`` or ``max_rounds``), or None while it runs."""
    closed = [r for r in rounds if r.status == "closed"]
    if not closed:
        return None
    if closed[-1].summary.get("converged"):
        return "converged"
    if closed[-1].summary.get("stop") or len(closed) >= int(
        {**DEFAULTS, **c.settings}["max_rounds"]
    ):
        return "max_rounds"
    return None


def open_round(session: Session, actor: Actor, *, key: str) -> DelphiRound:
    """Open the next round, unless one is open or the survey has finished."""
    c = _delphi(session, actor, key)
    require(actor, "consultation.manage", c)
    rounds = _rounds(session, c)
    if any(r.status == "open" for r in rounds):
        raise ValidationFailed([("round", "a round is already open")])
    done = finished(c, rounds)
    if done:
        raise ValidationFailed([("round", f"the survey has finished ({done})")])
    if c.status != "open":
        raise ValidationFailed([("consultation", f"consultation {key!r} is closed")])
    has_items = session.scalar(
        select(Statement.id)
        .where(Statement.consultation_id == c.id, Statement.hidden.is_(False))
        .limit(1)
    )
    if has_items is None:
        raise ValidationFailed([("statements", "add the statements to rate first")])
    r = DelphiRound(consultation_id=c.id, number=len(rounds) + 1, status="open", summary={})
    session.add(r)
    session.flush()
    record_change(
        session,
        actor,
        action="delphi.open_round",
        object_type="consultation",
        object_key=key,
        before=None,
        after={"round": r.number},
    )
    return r


def _open(session: Session, c: Consultation) -> DelphiRound:
    r = session.scalar(
        select(DelphiRound).where(DelphiRound.consultation_id == c.id, DelphiRound.status == "open")
    )
    if r is None:
        raise ValidationFailed([("round", "no round is open")])
    return r


def rate(
    session: Session,
    actor: Actor,
    *,
    key: str,
    statement: int,
    value: float,
    rationale: str | None = None,
    participant: str | None = None,
) -> DelphiRating:
    """Rate a statement in the open round (rating again replaces the rating)."""
    c = _delphi(session, actor, key)
    p = service._acting_participant(session, actor, c, participant)
    r = _open(session, c)
    s = service.statement_by_number(session, c, statement)
    settings = {**DEFAULTS, **c.settings}
    if s.hidden:
        raise ValidationFailed([("statement", f"statement {statement} was moderated out")])
    if not settings["scale_min"] <= value <= settings["scale_max"]:
        raise ValidationFailed(
            [("value", f"must be between {settings['scale_min']} and {settings['scale_max']}")]
        )
    rating = session.scalar(
        select(DelphiRating).where(
            DelphiRating.round_id == r.id,
            DelphiRating.statement_id == s.id,
            DelphiRating.participant_id == p.id,
        )
    )
    before = None
    if rating is None:
        rating = DelphiRating(
            round_id=r.id, statement_id=s.id, participant_id=p.id, value=value, rationale=rationale
        )
        session.add(rating)
    else:
        before = {"value": rating.value, "rationale": rating.rationale}
        rating.value, rating.rationale = value, rationale
        rating.updated_at = dt.datetime.now(dt.UTC)
    record_change(
        session,
        actor,
        action="delphi.rate",
        object_type="consultation",
        object_key=f"{key}/round/{r.number}/statement/{statement}",
        before=before,
        after={"participant": p.handle, "value": value, "rationale": rationale},
    )
    service.note_heard(session, actor, c, p)
    return rating


def _ratings(session: Session, r: DelphiRound) -> list[tuple[int, int, float]]:
    """(participant id, statement number, value) of a round."""
    return [
        (int(p), int(n), float(v))
        for p, n, v in session.execute(
            select(DelphiRating.participant_id, Statement.number, DelphiRating.value)
            .join(Statement, Statement.id == DelphiRating.statement_id)
            .where(DelphiRating.round_id == r.id)
        ).all()
    ]


def by_item(ratings: list[tuple[int, int, float]]) -> dict[str, dict[str, float]]:
    """Statement number -> {participant id: rating}, as :mod:`stcoord.analytics.delphi` takes
    them (so Kendall's W pairs each expert's ratings)."""
    out: dict[str, dict[str, float]] = {}
    for p, n, v in ratings:
        out.setdefault(str(n), {})[str(p)] = v
    return out


def round_summary(
    ratings: list[tuple[int, int, float]],
    previous: list[tuple[int, int, float]] | None,
    rule: stats.ConvergenceRule,
    number: int,
) -> dict[str, Any]:
    """The statistics stored on a closed round (JSON-ready) and the convergence verdict."""
    current = by_item(ratings)
    items = stats.round_statistics(current)
    verdict = stats.converged(
        by_item(previous) if previous else None, current, rule, round_number=number
    )
    w = verdict.w
    return {
        "round": number,
        "raters": len({p for p, _, _ in ratings}),
        "items": {
            i: {
                "n": st.n,
                "median": st.median,
                "q1": st.q1,
                "q3": st.q3,
                "iqr": st.iqr,
                "mean": round(st.mean, 4),
                "converged": verdict.items[i].converged,
            }
            for i, st in sorted(items.items(), key=lambda kv: int(kv[0]))
        },
        "kendalls_w": round(w.w, 4) if w else None,
        "kendalls_w_p": round(w.p_value, 6) if w else None,
        "w_raters": w.raters if w else 0,
        "converged": verdict.converged,
        "stop": verdict.stop,
        "reasons": list(verdict.panel_reasons),
        "item_reasons": {k: list(v) for k, v in verdict.reasons.items()},
    }


def close_round(session: Session, actor: Actor, *, key: str) -> DelphiRound:
    """Close the open round: store its statistics and check the convergence rule."""
    c = _delphi(session, actor, key)
    require(actor, "consultation.manage", c)
    r = _open(session, c)
    ratings = _ratings(session, r)
    if not ratings:
        raise ValidationFailed([("round", f"round {r.number} has no ratings yet")])
    previous = next((x for x in reversed(_rounds(session, c)) if x.status == "closed"), None)
    r.summary = round_summary(
        ratings, _ratings(session, previous) if previous else None, rule_of(c), r.number
    )
    r.status = "closed"
    r.closed_at = dt.datetime.now(dt.UTC)
    record_change(
        session,
        actor,
        action="delphi.close_round",
        object_type="consultation",
        object_key=key,
        before={"round": r.number, "status": "open"},
        after={
            "round": r.number,
            "status": "closed",
            "kendalls_w": r.summary["kendalls_w"],
            "converged": r.summary["converged"],
        },
    )
    return r


@dataclass
class DelphiState:
    consultation: Consultation
    rounds: list[DelphiRound]
    open_round: DelphiRound | None
    finished: str | None
    statements: list[Statement]
    feedback: dict[int, dict[str, Any]] = field(default_factory=dict)  # previous round's stats
    mine: dict[int, float] = field(default_factory=dict)  # my ratings in the open round
    my_previous: dict[int, float] = field(default_factory=dict)  # my ratings last round
    settings: dict[str, Any] = field(default_factory=dict)


def state(session: Session, actor: Actor, *, key: str) -> DelphiState:
    """Rounds, the open one, and what a rater sees: last round's median and quartiles per
    statement beside their own previous rating."""
    c = _delphi(session, actor, key)
    rounds = _rounds(session, c)
    open_r = next((r for r in rounds if r.status == "open"), None)
    closed = [r for r in rounds if r.status == "closed"]
    statements = list(
        session.scalars(
            select(Statement)
            .where(Statement.consultation_id == c.id, Statement.hidden.is_(False))
            .order_by(Statement.number)
        )
    )
    out = DelphiState(
        c, rounds, open_r, finished(c, rounds), statements, settings={**DEFAULTS, **c.settings}
    )
    if closed:
        out.feedback = {int(i): v for i, v in closed[-1].summary.get("items", {}).items()}
    me = service.my_participant(session, actor, c)
    if me is not None:

        def my_ratings(r: DelphiRound) -> dict[int, float]:
            return {n: v for p, n, v in _ratings(session, r) if p == me.id}

        if open_r is not None:
            out.mine = my_ratings(open_r)
        if closed:
            out.my_previous = my_ratings(closed[-1])
    return out


def state_json(s: DelphiState) -> dict[str, Any]:
    return {
        "consultation": s.consultation.key,
        "settings": s.settings,
        "finished": s.finished,
        "open_round": s.open_round.number if s.open_round else None,
        "rounds": [
            {
                "round": r.number,
                "status": r.status,
                "kendalls_w": r.summary.get("kendalls_w"),
                "converged": r.summary.get("converged"),
                "reasons": r.summary.get("reasons", []),
                "raters": r.summary.get("raters"),
                "items": r.summary.get("items", {}),
            }
            for r in s.rounds
        ],
        "statements": [{"number": st.number, "text": st.text} for st in s.statements],
        "feedback": {str(k): v for k, v in s.feedback.items()},
        "mine": {str(k): v for k, v in s.mine.items()},
        "my_previous": {str(k): v for k, v in s.my_previous.items()},
    }
