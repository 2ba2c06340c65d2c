"""The office's live view of a consultation: who has been heard (by sector, against the channels
the stage requires), the plan gate, opinion groups from the votes, representative statements,
group-informed consensus, divisive statements and agreement by sector.

The analysis itself is :func:`stcoord.analytics.consensus.analyze` (pure); this module loads the
votes in one query, leaves moderated statements out of the math, and maps ids back to texts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from stcoord.analytics import consensus
from stcoord.analytics.gates import Unmet, unmet_conditions
from stcoord.auth.permissions import Actor, require
from stcoord.consultation.models import (
    SECTORS,
    ChannelInput,
    Comment,
    Consultation,
    Disposition,
    Participant,
    Statement,
    Vote,
)
from stcoord.consultation.service import (
    OPEN_CHANNELS,
    SECTOR_CHANNEL,
    get_consultation,
    stage_of,
)
from stcoord.plans import workflow
from stcoord.plans.models import Plan, PlanStage, StageInput


def N_(message: str) -> str:
    """Mark a message for extraction; pages and reports translate it."""
    return message


@dataclass(frozen=True)
class SectorHeard:
    sector: str
    participants: int
    organisations: tuple[str, ...]
    comments: int
    statements: int
    voters: int
    votes: int


@dataclass(frozen=True)
class ChannelStatus:
    channel: str
    required: bool  # named by the stage's channels_heard gate
    heard: bool  # any input on the stage through this channel (consultations or by hand)
    through_this: bool  # heard through this consultation
    sectors: tuple[str, ...]  # sectors that count for this channel


@dataclass(frozen=True)
class GroupView:
    id: int
    label: str  # A, B, C...
    size: int
    representative: list[dict[str, Any]]
    sectors: dict[str, int]


@dataclass
class ConsultationAnalysis:
    """The opinion map of a consultation, with statement texts (None fields: too few votes)."""

    participants: int = 0
    voters: int = 0
    statements: int = 0
    votes: int = 0
    excluded: list[int] = field(default_factory=list)
    groups: list[GroupView] = field(default_factory=list)
    consensus: list[dict[str, Any]] = field(default_factory=list)
    divisive: list[dict[str, Any]] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)  # participants on PC1/PC2
    explained_variance: tuple[float, float] = (0.0, 0.0)
    sector_agreement: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None  # why there is no opinion map yet


@dataclass
class Dashboard:
    consultation: Consultation
    plan_key: str
    plan_title: str
    stage: PlanStage
    heard: list[SectorHeard]
    channels: list[ChannelStatus]
    gate: list[Unmet]
    comments: int
    answered: int
    hidden: int
    analysis: ConsultationAnalysis

    @property
    def unanswered(self) -> int:
        return self.comments - self.answered


def group_label(index: int) -> str:
    """Groups are named A, B, C... as in Polis's report.

    >>> [group_label(i) for i in (0, 1, 25, 26)]
    ['A', 'B', 'Z', 'G27']
    """
    return chr(ord("A") + index) if index < 26 else f"G{index + 1}"


def heard_by_sector(session: Session, c: Consultation) -> list[SectorHeard]:
    """Per sector: participants, their organisations, and their comments, statements and votes."""
    people = session.execute(
        select(Participant.id, Participant.sector, Participant.organisation).where(
            Participant.consultation_id == c.id
        )
    ).all()
    sector_of = {pid: sector for pid, sector, _ in people}

    def per_participant(model: Any, column: Any) -> dict[int, int]:
        return dict(
            session.execute(
                select(column, func.count())
                .where(model.consultation_id == c.id, column.is_not(None))
                .group_by(column)
            ).all()
        )

    comments = per_participant(Comment, Comment.participant_id)
    statements = per_participant(Statement, Statement.participant_id)
    votes = per_participant(Vote, Vote.participant_id)
    out = []
    for sector in SECTORS:
        ids = [pid for pid, s in sector_of.items() if s == sector]
        orgs = sorted({o for pid, s, o in people if s == sector and o})
        out.append(
            SectorHeard(
                sector=sector,
                participants=len(ids),
                organisations=tuple(orgs),
                comments=sum(comments.get(i, 0) for i in ids),
                statements=sum(statements.get(i, 0) for i in ids),
                voters=sum(1 for i in ids if votes.get(i)),
                votes=sum(votes.get(i, 0) for i in ids),
            )
        )
    return out


def required_channels(stage: PlanStage) -> list[str]:
    """The channels the stage's ``channels_heard`` gate names (its own channels by default)."""
    wanted: list[str] = []
    for g in stage.gate:
        if g.get("kind") == "channels_heard":
            wanted += list(g.get("channels") or stage.channels)
    return list(dict.fromkeys(wanted))


def channel_status(session: Session, c: Consultation, stage: PlanStage) -> list[ChannelStatus]:
    required = required_channels(stage)
    heard = set(session.scalars(select(StageInput.channel).where(StageInput.stage_id == stage.id)))
    mine = set(
        session.scalars(select(ChannelInput.channel).where(ChannelInput.consultation_id == c.id))
    )
    channels = list(dict.fromkeys([*required, *c.channels]))
    return [
        ChannelStatus(
            channel=ch,
            required=ch in required,
            heard=ch in heard,
            through_this=ch in mine,
            sectors=tuple(SECTORS)
            if ch in OPEN_CHANNELS
            else tuple(s for s, v in SECTOR_CHANNEL.items() if v == ch),
        )
        for ch in channels
    ]


def stage_gate(session: Session, c: Consultation) -> list[Unmet]:
    """Every unmet condition of the consultation's stage (as the plan engine checks it)."""
    plan = session.scalar(
        select(Plan).where(Plan.id == c.plan_id).options(selectinload(Plan.stages))
    )
    assert plan is not None
    facts = workflow.plan_facts(session, plan)
    stage = next(s for s in plan.stages if s.id == c.stage_id)
    stage_facts = next(f for f in facts.stages if f.seq == stage.seq)
    return unmet_conditions(stage_facts, facts)


def votes_of(session: Session, c: Consultation) -> list[consensus.Vote]:
    """Every vote as the analytics core takes it: participant id and statement number."""
    rows = session.execute(
        select(Vote.participant_id, Statement.number, Vote.value)
        .join(Statement, Statement.id == Vote.statement_id)
        .where(Vote.consultation_id == c.id)
    ).all()
    return [consensus.Vote(str(p), str(n), int(v)) for p, n, v in rows]


def analyse(session: Session, c: Consultation, *, max_groups: int = 5) -> ConsultationAnalysis:
    """Opinion groups, representative statements, consensus, divisive statements, agreement by
    sector and the participants' positions; moderated statements are left out of the math."""
    statements = {
        s.number: s
        for s in session.scalars(select(Statement).where(Statement.consultation_id == c.id))
    }
    people = {
        p.id: p
        for p in session.scalars(select(Participant).where(Participant.consultation_id == c.id))
    }
    votes = votes_of(session, c)
    excluded = sorted(n for n, s in statements.items() if s.hidden)
    result = ConsultationAnalysis(
        participants=len(people),
        voters=len({v.participant for v in votes}),
        statements=len(statements) - len(excluded),
        votes=len(votes),
        excluded=excluded,
    )
    if result.voters < 2 or result.statements < 2:
        result.message = N_(
            "Too few votes for an opinion map yet: "
            "at least two participants must vote on two statements."
        )
        return result
    analysis = consensus.analyze(
        votes, excluded_statements=[str(n) for n in excluded], max_groups=max_groups
    )

    def text(number: str) -> str:
        s = statements.get(int(number))
        return s.text if s else number

    sector_of = {str(pid): p.sector for pid, p in people.items()}
    group_of = analysis.group_of()
    for i, g in enumerate(analysis.groups):
        result.groups.append(
            GroupView(
                id=g.id,
                label=group_label(i),
                size=len(g.members),
                representative=[
                    {
                        "statement": int(r.statement),
                        "text": text(r.statement),
                        "direction": r.direction,
                        "repness": round(r.repness, 3),
                        "agree_share": round(r.agree_share, 3),
                        "disagree_share": round(r.disagree_share, 3),
                        "votes": r.votes,
                    }
                    for r in g.representative
                ],
                sectors=dict(Counter(sector_of.get(m, "unknown") for m in g.members)),
            )
        )
    label_of = {g.id: group_label(i) for i, g in enumerate(analysis.groups)}
    result.consensus = [
        {
            "statement": int(s.statement),
            "text": text(s.statement),
            "direction": s.direction,
            "score": round(s.score, 4),
        }
        for s in analysis.consensus
    ]
    result.divisive = [
        {
            "statement": int(s.statement),
            "text": text(s.statement),
            "score": round(s.score, 4),
            "agree_by_group": {
                label_of.get(g.id, str(g.id)): round(a, 3)
                for g, a in zip(analysis.groups, s.agree_by_group, strict=False)
            },
        }
        for s in analysis.divisive
    ]
    result.points = [
        {
            "participant": int(pid),
            "name": people[int(pid)].display_name if int(pid) in people else pid,
            "sector": sector_of.get(pid, "unknown"),
            "group": label_of.get(group_of[pid], "") if pid in group_of else "",
            "x": round(x, 4),
            "y": round(y, 4),
        }
        for pid, (x, y) in sorted(analysis.coordinates.items(), key=lambda kv: int(kv[0]))
    ]
    result.explained_variance = (
        round(analysis.explained_variance[0], 4),
        round(analysis.explained_variance[1], 4),
    )
    hidden = {str(n) for n in excluded}
    result.sector_agreement = [
        {
            "statement": int(r.statement),
            "text": text(r.statement),
            "sector": r.sector,
            "agree": r.agree,
            "disagree": r.disagree,
            "passes": r.passes,
            "votes": r.votes,
            "agree_share": round(r.agree_share, 3),
        }
        for r in consensus.sector_breakdown(votes, sector_of)
        if r.statement not in hidden
    ]
    return result


def dashboard(session: Session, actor: Actor, key: str) -> Dashboard:
    """Everything the office's live page shows, in a handful of set-based queries."""
    c = get_consultation(session, actor, key)
    require(actor, "consultation.office", c)
    return build(session, c)


def build(session: Session, c: Consultation) -> Dashboard:
    """The dashboard's facts for a consultation the caller may see (see :func:`dashboard`)."""
    plan_key, stage = stage_of(session, c)
    plan_title = session.scalar(select(Plan.title).where(Plan.id == c.plan_id)) or plan_key
    total, answered, hidden = session.execute(
        select(
            func.count(Comment.id),
            func.count(Disposition.id),
            func.coalesce(func.sum(case((Comment.hidden.is_(True), 1), else_=0)), 0),
        )
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(Comment.consultation_id == c.id)
    ).one()
    return Dashboard(
        consultation=c,
        plan_key=plan_key,
        plan_title=plan_title,
        stage=stage,
        heard=heard_by_sector(session, c),
        channels=channel_status(session, c, stage),
        gate=stage_gate(session, c),
        comments=int(total),
        answered=int(answered),
        hidden=int(hidden or 0),
        analysis=analyse(session, c),
    )


def dashboard_json(d: Dashboard) -> dict[str, Any]:
    """The dashboard as plain JSON (API and ``stcoord consult dashboard --json``)."""
    a = d.analysis
    return {
        "consultation": d.consultation.key,
        "title": d.consultation.title,
        "kind": d.consultation.kind,
        "status": d.consultation.status,
        "plan": d.plan_key,
        "stage": d.stage.key,
        "heard": [
            {
                "sector": h.sector,
                "participants": h.participants,
                "organisations": list(h.organisations),
                "comments": h.comments,
                "statements": h.statements,
                "voters": h.voters,
                "votes": h.votes,
            }
            for h in d.heard
        ],
        "channels": [
            {
                "channel": ch.channel,
                "required": ch.required,
                "heard": ch.heard,
                "through_this_consultation": ch.through_this,
                "sectors": list(ch.sectors),
            }
            for ch in d.channels
        ],
        "gate": [{"kind": u.kind, "message": u.message} for u in d.gate],
        "comments": {
            "total": d.comments,
            "answered": d.answered,
            "unanswered": d.unanswered,
            "hidden": d.hidden,
        },
        "analysis": {
            "participants": a.participants,
            "voters": a.voters,
            "statements": a.statements,
            "votes": a.votes,
            "excluded_statements": a.excluded,
            "message": a.message,
            "explained_variance": list(a.explained_variance),
            "groups": [
                {
                    "id": g.id,
                    "label": g.label,
                    "size": g.size,
                    "sectors": g.sectors,
                    "representative": g.representative,
                }
                for g in a.groups
            ],
            "consensus": a.consensus,
            "divisive": a.divisive,
            "sector_agreement": a.sector_agreement,
            "points": a.points,
        },
    }
