"""Use cases of consultations: open and close them, register participants, take comments,
statements and votes, moderate, and answer every comment with a disposition.

Services never commit. Every change writes an audit record in the same transaction.
Stakeholders write only their own input: a participant row belongs to one user, and
``consultation.participate`` is scoped to the actor's own records (the office may record input
on someone's behalf, e.g. a letter received or an imported conversation).

A participant's first input through a channel the consultation counts for records, once per
consultation and channel, a :class:`~stcoord.plans.models.StageInput` on the plan's stage: that
is what the plan engine's ``channels_heard`` gate reads (:func:`channels_for`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from stcoord.analytics.vocabulary import Channel
from stcoord.audit.service import record_change, record_changes
from stcoord.auth.permissions import Actor, PermissionDenied, require
from stcoord.consultation.models import (
    KINDS,
    OUTCOMES,
    SECTORS,
    VOTE_VALUES,
    ChannelInput,
    Comment,
    Consultation,
    Disposition,
    Participant,
    Statement,
    Vote,
)
from stcoord.errors import Conflict, NotFound, ServiceError, ValidationFailed
from stcoord.plans.models import Draft, DraftSection, Plan, PlanStage, StageInput

# The channel each sector is heard through; open channels (public comment, RFI) hear everyone.
SECTOR_CHANNEL = {"ministry": "interagency", "industry": "industry", "academia": "academia"}
OPEN_CHANNELS = ("public_comment", "rfi")
COUNTABLE_CHANNELS = ("interagency", "industry", "academia", "public_comment", "rfi")
MAX_TEXT = 4000
MAX_STATEMENT = 500


def channels_for(consultation_channels: list[str], sector: str) -> list[str]:
    """The channels a participant of ``sector`` is heard through in a consultation.

    >>> channels_for(["public_comment", "industry", "academia"], "industry")
    ['public_comment', 'industry']
    >>> channels_for(["interagency"], "individual")
    []
    """
    own = SECTOR_CHANNEL.get(sector)
    return [c for c in consultation_channels if c in OPEN_CHANNELS or c == own]


# ---------------------------------------------------------------- consultations


def snapshot(c: Consultation) -> dict[str, Any]:
    return {
        "kind": c.kind,
        "title": c.title,
        "status": c.status,
        "opens_on": c.opens_on.isoformat() if c.opens_on else None,
        "closes_on": c.closes_on.isoformat() if c.closes_on else None,
        "channels": list(c.channels),
        "settings": dict(c.settings),
        "version": c.version,
    }


def get_consultation(session: Session, actor: Actor, key: str) -> Consultation:
    require(actor, "consultation.read")
    c = session.scalar(select(Consultation).where(Consultation.key == key))
    if c is None:
        raise NotFound(f"no consultation {key!r}")
    return c


@dataclass(frozen=True)
class ConsultationRow:
    consultation: Consultation
    plan_key: str
    stage_key: str
    participants: int
    comments: int
    unanswered: int
    statements: int
    votes: int


def list_consultations(
    session: Session,
    actor: Actor,
    *,
    plan_key: str | None = None,
    status: str | None = None,
    kind: str | None = None,
) -> list[ConsultationRow]:
    """Consultations with their counts, newest first (the caller sorts and pages)."""
    require(actor, "consultation.read")
    stmt = (
        select(Consultation, Plan.key, PlanStage.key)
        .join(Plan, Plan.id == Consultation.plan_id)
        .join(PlanStage, PlanStage.id == Consultation.stage_id)
        .order_by(Consultation.id.desc())
    )
    if plan_key:
        stmt = stmt.where(Plan.key == plan_key)
    if status:
        stmt = stmt.where(Consultation.status == status)
    if kind:
        stmt = stmt.where(Consultation.kind == kind)
    rows = session.execute(stmt).all()
    ids = [r[0].id for r in rows]

    def counts(model: Any) -> dict[int, int]:
        if not ids:
            return {}
        return dict(
            session.execute(
                select(model.consultation_id, func.count())
                .where(model.consultation_id.in_(ids))
                .group_by(model.consultation_id)
            ).all()
        )

    people, comments, statements, votes = (
        counts(Participant),
        counts(Comment),
        counts(Statement),
        counts(Vote),
    )
    answered = (
        dict(
            session.execute(
                select(Comment.consultation_id, func.count())
                .join(Disposition, Disposition.comment_id == Comment.id)
                .where(Comment.consultation_id.in_(ids))
                .group_by(Comment.consultation_id)
            ).all()
        )
        if ids
        else {}
    )
    return [
        ConsultationRow(
            c,
            pk,
            sk,
            people.get(c.id, 0),
            comments.get(c.id, 0),
            comments.get(c.id, 0) - answered.get(c.id, 0),
            statements.get(c.id, 0),
            votes.get(c.id, 0),
        )
        for c, pk, sk in rows
    ]


def _check_channels(channels: list[str]) -> list[tuple[str, str]]:
    return [
        (f"channels[{i}]", f"unknown channel {c!r}; use one of {list(COUNTABLE_CHANNELS)}")
        for i, c in enumerate(channels)
        if c not in COUNTABLE_CHANNELS or c not in Channel.__members__
    ]


def create_consultation(
    session: Session,
    actor: Actor,
    *,
    key: str,
    plan_key: str,
    kind: str,
    title: str,
    stage_key: str | None = None,
    channels: list[str] | None = None,
    description: str | None = None,
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
    draft_version: int | None = None,
    settings: dict[str, Any] | None = None,
) -> Consultation:
    """Open a consultation on a stage of a plan (the open stage unless ``stage_key`` says).

    ``channels`` default to the stage's channels that a consultation can hear.
    """
    require(actor, "consultation.manage")
    plan = session.scalar(select(Plan).where(Plan.key == plan_key))
    if plan is None:
        raise ValidationFailed([("plan", f"unknown plan {plan_key!r}")])
    stages = list(session.scalars(select(PlanStage).where(PlanStage.plan_id == plan.id)))
    if stage_key is None:
        stage = next((s for s in stages if s.status == "open"), None)
        if stage is None:
            raise ValidationFailed([("stage", f"plan {plan_key!r} has no open stage")])
    else:
        stage = next((s for s in stages if s.key == stage_key), None)
        if stage is None:
            raise ValidationFailed([("stage", f"plan {plan_key!r} has no stage {stage_key!r}")])
    if channels is None:
        channels = [c for c in stage.channels if c in COUNTABLE_CHANNELS]
    problems = _check_channels(channels)
    if kind not in KINDS:
        problems.append(("kind", f"unknown kind {kind!r}; use one of {list(KINDS)}"))
    if not title.strip():
        problems.append(("title", "must not be empty"))
    if opens_on and closes_on and closes_on < opens_on:
        problems.append(("closes_on", "closes before it opens"))
    if stage.status == "closed":
        problems.append(("stage", f"stage {stage.key!r} is already closed"))
    draft_id = None
    if draft_version is not None:
        draft_id = session.scalar(
            select(Draft.id).where(Draft.plan_id == plan.id, Draft.version == draft_version)
        )
        if draft_id is None:
            problems.append(("draft_version", f"plan {plan_key!r} has no draft {draft_version}"))
    settings = dict(settings or {})
    if kind == "delphi":
        from stcoord.consultation.delphi import check_settings

        settings, more = check_settings(settings)
        problems += more
    if problems:
        raise ValidationFailed(problems)
    if session.scalar(select(Consultation.id).where(Consultation.key == key)) is not None:
        raise Conflict(f"a consultation with key {key!r} already exists")
    c = Consultation(
        key=key,
        plan_id=plan.id,
        stage_id=stage.id,
        draft_id=draft_id,
        kind=kind,
        title=title.strip(),
        description=description,
        status="open",
        opens_on=opens_on,
        closes_on=closes_on,
        channels=list(dict.fromkeys(channels)),
        settings=settings,
        created_by=actor.username,
    )
    session.add(c)
    session.flush()
    record_change(
        session,
        actor,
        action="consultation.create",
        object_type="consultation",
        object_key=key,
        before=None,
        after={"plan": plan_key, "stage": stage.key, **snapshot(c)},
    )
    return c


def set_status(
    session: Session,
    actor: Actor,
    *,
    key: str,
    status: str,
    expected_version: int | None = None,
) -> Consultation:
    """Close (or reopen) a consultation; a stale version is a :class:`Conflict`."""
    c = get_consultation(session, actor, key)
    require(actor, "consultation.manage", c)
    if status not in ("open", "closed"):
        raise ValidationFailed([("status", "must be open or closed")])
    if expected_version is not None and c.version != expected_version:
        raise Conflict(
            f"consultation {key!r} was changed by someone else (version {c.version})",
            current=snapshot(c),
        )
    if c.status == status:
        return c
    before = c.status
    c.status = status
    c.version += 1
    record_change(
        session,
        actor,
        action=f"consultation.{'close' if status == 'closed' else 'reopen'}",
        object_type="consultation",
        object_key=key,
        before={"status": before},
        after={"status": status},
    )
    return c


def stage_of(session: Session, c: Consultation) -> tuple[str, PlanStage]:
    plan_key = session.scalar(select(Plan.key).where(Plan.id == c.plan_id))
    stage = session.get(PlanStage, c.stage_id)
    assert plan_key is not None and stage is not None
    return plan_key, stage


def sections(session: Session, c: Consultation) -> list[DraftSection]:
    """The sections of the draft under consultation (empty when none is attached)."""
    if c.draft_id is None:
        return []
    return list(
        session.scalars(
            select(DraftSection)
            .where(DraftSection.draft_id == c.draft_id)
            .order_by(DraftSection.seq)
        )
    )


# ---------------------------------------------------------------- participants


def participant_snapshot(p: Participant) -> dict[str, Any]:
    return {
        "handle": p.handle,
        "display_name": p.display_name,
        "sector": p.sector,
        "organisation": p.organisation,
    }


def my_participant(session: Session, actor: Actor, c: Consultation) -> Participant | None:
    if actor.user_id is None:
        return None
    return session.scalar(
        select(Participant).where(
            Participant.consultation_id == c.id, Participant.user_id == actor.user_id
        )
    )


def register(
    session: Session,
    actor: Actor,
    *,
    key: str,
    sector: str,
    organisation: str | None = None,
    display_name: str | None = None,
    handle: str | None = None,
) -> Participant:
    """Register the signed-in actor in a consultation (or update their sector/organisation).

    The office may register someone else by ``handle`` (input received by letter, an import).
    """
    c = get_consultation(session, actor, key)
    if sector not in SECTORS:
        raise ValidationFailed([("sector", f"unknown sector {sector!r}; use one of {SECTORS}")])
    if handle is not None:
        require(actor, "consultation.manage", c)
        existing = session.scalar(
            select(Participant).where(
                Participant.consultation_id == c.id, Participant.handle == handle
            )
        )
        user_id = None
    else:
        if actor.user_id is None:
            require(actor, "consultation.participate")  # anonymous: refused
            raise ValidationFailed([("user", "sign in to take part")])
        existing = my_participant(session, actor, c)
        handle, user_id = f"user:{actor.username}", actor.user_id
    if existing is not None:
        require(actor, "consultation.participate", existing)
        before = participant_snapshot(existing)
        existing.sector = sector
        existing.organisation = organisation or existing.organisation
        existing.display_name = display_name or existing.display_name
        after = participant_snapshot(existing)
        if after != before:
            record_change(
                session,
                actor,
                action="participant.update",
                object_type="consultation",
                object_key=key,
                before=before,
                after=after,
            )
        return existing
    p = Participant(
        consultation_id=c.id,
        handle=handle,
        user_id=user_id,
        display_name=(display_name or actor.username if user_id else display_name or handle),
        sector=sector,
        organisation=organisation,
    )
    require(actor, "consultation.participate", p)
    session.add(p)
    session.flush()
    record_change(
        session,
        actor,
        action="participant.register",
        object_type="consultation",
        object_key=key,
        before=None,
        after=participant_snapshot(p),
    )
    return p


def _acting_participant(
    session: Session, actor: Actor, c: Consultation, handle: str | None
) -> Participant:
    """The participant whose input this is: the actor's own, or (for the office) ``handle``."""
    if handle is not None:
        p = session.scalar(
            select(Participant).where(
                Participant.consultation_id == c.id, Participant.handle == handle
            )
        )
        if p is None:
            raise ValidationFailed([("participant", f"no participant {handle!r}")])
    else:
        require(actor, "consultation.participate")
        found = my_participant(session, actor, c)
        if found is None:
            raise ValidationFailed(
                [("participant", "register with your sector and organisation first")]
            )
        p = found
    require(actor, "consultation.participate", p)
    if c.status != "open":
        raise ValidationFailed([("consultation", f"consultation {c.key!r} is closed")])
    return p


def note_heard(session: Session, actor: Actor, c: Consultation, p: Participant) -> None:
    """Record on the plan's stage, once per channel, that this consultation heard it."""
    wanted = channels_for(list(c.channels), p.sector)
    if not wanted:
        return
    have = set(
        session.scalars(
            select(ChannelInput.channel).where(
                ChannelInput.consultation_id == c.id, ChannelInput.channel.in_(wanted)
            )
        )
    )
    for channel in wanted:
        if channel in have:
            continue
        row = StageInput(
            stage_id=c.stage_id,
            channel=channel,
            organisation=p.organisation,
            summary=f"Heard through consultation {c.key}: {c.title}",
            on_date=dt.date.today(),
            recorded_by=actor.username,
        )
        session.add(row)
        session.flush()
        session.add(ChannelInput(consultation_id=c.id, channel=channel, stage_input_id=row.id))
        record_change(
            session,
            actor,
            action="consultation.heard",
            object_type="consultation",
            object_key=c.key,
            before=None,
            after={"channel": channel, "sector": p.sector, "organisation": p.organisation},
        )


# ---------------------------------------------------------------- comments and dispositions


def add_comment(
    session: Session,
    actor: Actor,
    *,
    key: str,
    text: str,
    section_key: str | None = None,
    participant: str | None = None,
) -> Comment:
    """A comment on the draft (on one section when ``section_key`` names one)."""
    c = get_consultation(session, actor, key)
    p = _acting_participant(session, actor, c, participant)
    problems = []
    if not text.strip():
        problems.append(("text", "must not be empty"))
    elif len(text) > MAX_TEXT:
        problems.append(("text", f"is longer than {MAX_TEXT} characters"))
    section_id = None
    if section_key:
        section_id = session.scalar(
            select(DraftSection.id).where(
                DraftSection.draft_id == c.draft_id, DraftSection.key == section_key
            )
        )
        if section_id is None or c.draft_id is None:
            problems.append(("section", f"the draft has no section {section_key!r}"))
    if problems:
        raise ValidationFailed(problems)
    comment = Comment(
        consultation_id=c.id,
        participant_id=p.id,
        section_id=section_id,
        section_key=section_key or None,
        text=text.strip(),
    )
    session.add(comment)
    session.flush()
    record_change(
        session,
        actor,
        action="comment.create",
        object_type="consultation",
        object_key=f"{key}/comment/{comment.id}",
        before=None,
        after={"participant": p.handle, "section": section_key, "text": comment.text},
    )
    note_heard(session, actor, c, p)
    return comment


def get_comment(session: Session, actor: Actor, key: str, comment_id: int) -> Comment:
    c = get_consultation(session, actor, key)
    comment = session.scalar(
        select(Comment).where(Comment.id == comment_id, Comment.consultation_id == c.id)
    )
    if comment is None:
        raise NotFound(f"consultation {key!r} has no comment {comment_id}")
    return comment


@dataclass(frozen=True)
class CommentRow:
    comment: Comment
    participant: Participant
    section_heading: str | None
    disposition: Disposition | None


def list_comments(
    session: Session,
    actor: Actor,
    *,
    key: str,
    section: str | None = None,
    sector: str | None = None,
    answered: bool | None = None,
    include_hidden: bool = True,
    for_result: bool = False,
) -> list[CommentRow]:
    """Comments with their author, section and disposition, in the order they arrived.

    Hidden comments are listed for the office only, except ``for_result``: the published
    result of comments lists them with their disposition (the caller withholds their text).
    """
    c = get_consultation(session, actor, key)
    stmt = (
        select(Comment, Participant, DraftSection.heading, Disposition)
        .join(Participant, Participant.id == Comment.participant_id)
        .outerjoin(DraftSection, DraftSection.id == Comment.section_id)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(Comment.consultation_id == c.id)
        .order_by(Comment.id)
    )
    from stcoord.auth.permissions import permits

    if not for_result and (not include_hidden or not permits(actor, "consultation.moderate")):
        stmt = stmt.where(Comment.hidden.is_(False))
    if section:
        stmt = stmt.where(Comment.section_key == section)
    if sector:
        stmt = stmt.where(Participant.sector == sector)
    if answered is True:
        stmt = stmt.where(Disposition.id.is_not(None))
    elif answered is False:
        stmt = stmt.where(Disposition.id.is_(None))
    return [CommentRow(*row) for row in session.execute(stmt).all()]


def answer_comment(
    session: Session,
    actor: Actor,
    *,
    key: str,
    comment_id: int,
    outcome: str,
    reason: str,
    expected_version: int | None = None,
) -> Disposition:
    """Record (or revise) the official disposition of a comment, with its reason."""
    comment = get_comment(session, actor, key, comment_id)
    require(actor, "consultation.answer", comment)
    problems = []
    if outcome not in OUTCOMES:
        problems.append(("outcome", f"unknown outcome {outcome!r}; use one of {list(OUTCOMES)}"))
    if not reason.strip():
        problems.append(("reason", "every disposition needs a reason"))
    if problems:
        raise ValidationFailed(problems)
    d = session.scalar(select(Disposition).where(Disposition.comment_id == comment.id))
    object_key = f"{key}/comment/{comment.id}"
    if d is None:
        d = Disposition(
            comment_id=comment.id, outcome=outcome, reason=reason.strip(), decided_by=actor.username
        )
        session.add(d)
        session.flush()
        record_change(
            session,
            actor,
            action="disposition.create",
            object_type="consultation",
            object_key=object_key,
            before=None,
            after={"outcome": outcome, "reason": d.reason},
        )
        return d
    if expected_version is not None and d.version != expected_version:
        raise Conflict(
            f"the disposition of comment {comment.id} was changed by someone else",
            current={"outcome": d.outcome, "reason": d.reason, "version": d.version},
        )
    before = {"outcome": d.outcome, "reason": d.reason}
    d.outcome, d.reason, d.decided_by = outcome, reason.strip(), actor.username
    d.decided_at = dt.datetime.now(dt.UTC)
    d.version += 1
    record_change(
        session,
        actor,
        action="disposition.update",
        object_type="consultation",
        object_key=object_key,
        before=before,
        after={"outcome": outcome, "reason": d.reason},
    )
    return d


def unanswered_by_stage(session: Session, stage_ids: list[int]) -> dict[int, int]:
    """Comments without a disposition, per plan stage (what the ``comments_answered`` gate
    counts)."""
    if not stage_ids:
        return {}
    rows = session.execute(
        select(Consultation.stage_id, func.count(Comment.id))
        .join(Comment, Comment.consultation_id == Consultation.id)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(Consultation.stage_id.in_(stage_ids), Disposition.id.is_(None))
        .group_by(Consultation.stage_id)
    ).all()
    return {int(stage_id): int(n) for stage_id, n in rows}


# ---------------------------------------------------------------- statements and votes


def statement_by_number(session: Session, c: Consultation, number: int) -> Statement:
    s = session.scalar(
        select(Statement).where(Statement.consultation_id == c.id, Statement.number == number)
    )
    if s is None:
        raise NotFound(f"consultation {c.key!r} has no statement {number}")
    return s


def add_statement(
    session: Session,
    actor: Actor,
    *,
    key: str,
    text: str,
    participant: str | None = None,
) -> Statement:
    """A short statement others can vote on (numbered in order, like Polis's comment ids)."""
    c = get_consultation(session, actor, key)
    p = _acting_participant(session, actor, c, participant)
    text = text.strip()
    if not text:
        raise ValidationFailed([("text", "must not be empty")])
    if len(text) > MAX_STATEMENT:
        raise ValidationFailed([("text", f"is longer than {MAX_STATEMENT} characters")])
    duplicate = session.scalar(
        select(Statement.number).where(Statement.consultation_id == c.id, Statement.text == text)
    )
    if duplicate is not None:
        raise Conflict(f"the same statement already exists (number {duplicate})")
    number = (
        session.scalar(select(func.max(Statement.number)).where(Statement.consultation_id == c.id))
        or 0
    ) + 1
    s = Statement(consultation_id=c.id, number=number, participant_id=p.id, text=text)
    session.add(s)
    session.flush()
    record_change(
        session,
        actor,
        action="statement.create",
        object_type="consultation",
        object_key=f"{key}/statement/{number}",
        before=None,
        after={"participant": p.handle, "text": text},
    )
    note_heard(session, actor, c, p)
    return s


@dataclass(frozen=True)
class VoteResult:
    statement: int
    value: int
    changed: bool  # False when the same vote was cast again


@dataclass(frozen=True)
class _Owner:
    """What the permission check needs to know about a participant (whose input it is)."""

    actor_id: int | None
    handle: str


def cast_vote(
    session: Session,
    actor: Actor,
    *,
    key: str,
    statement: int,
    value: int,
    participant: str | None = None,
) -> VoteResult:
    """Agree (1), disagree (-1) or pass (0) on a statement; voting again changes the vote.

    The hot path of a conversation: one query finds the consultation, the participant, the
    statement, an earlier vote and whether every channel is already heard; then one insert or
    update and the audit record (benchmarks/bench_votes.py).
    """
    require(actor, "consultation.read")
    if value not in VOTE_VALUES:
        raise ValidationFailed([("value", "must be 1 (agree), -1 (disagree) or 0 (pass)")])
    if participant is None:
        require(actor, "consultation.participate")
        who = Participant.user_id == (actor.user_id if actor.user_id is not None else -1)
    else:
        who = Participant.handle == participant
    heard = (
        select(func.count(ChannelInput.id))
        .where(ChannelInput.consultation_id == Consultation.id)
        .scalar_subquery()
    )
    row = session.execute(
        select(
            Consultation.id,
            Consultation.status,
            Consultation.channels,
            Participant.id,
            Participant.user_id,
            Participant.handle,
            Participant.sector,
            Statement.id,
            Statement.hidden,
            Vote.id,
            Vote.value,
            heard,
        )
        .select_from(Consultation)
        .outerjoin(Participant, (Participant.consultation_id == Consultation.id) & who)
        .outerjoin(
            Statement,
            (Statement.consultation_id == Consultation.id) & (Statement.number == statement),
        )
        .outerjoin(
            Vote, (Vote.participant_id == Participant.id) & (Vote.statement_id == Statement.id)
        )
        .where(Consultation.key == key)
    ).first()
    if row is None:
        raise NotFound(f"no consultation {key!r}")
    (cid, status, channels, pid, uid, handle, sector, sid, hidden, vid, old, n_heard) = row
    if pid is None:
        if participant is not None:
            raise ValidationFailed([("participant", f"no participant {participant!r}")])
        raise ValidationFailed(
            [("participant", "register with your sector and organisation first")]
        )
    require(actor, "consultation.participate", _Owner(uid, handle))
    if status != "open":
        raise ValidationFailed([("consultation", f"consultation {key!r} is closed")])
    if sid is None:
        raise NotFound(f"consultation {key!r} has no statement {statement}")
    if hidden:
        raise ValidationFailed([("statement", f"statement {statement} was moderated out")])
    if vid is not None and old == value:
        return VoteResult(statement, value, False)
    now = dt.datetime.now(dt.UTC)
    if vid is None:
        session.execute(
            insert(Vote).values(
                consultation_id=cid,
                statement_id=sid,
                participant_id=pid,
                value=value,
                updated_at=now,
            )
        )
    else:
        session.execute(update(Vote).where(Vote.id == vid).values(value=value, updated_at=now))
    record_change(
        session,
        actor,
        action="vote.cast" if vid is None else "vote.change",
        object_type="consultation",
        object_key=f"{key}/statement/{statement}",
        before=None if vid is None else {"value": old},
        after={"participant": handle, "value": value},
    )
    if n_heard < len(channels) and channels_for(list(channels), sector):  # maybe newly heard
        c = session.get(Consultation, cid)
        p = session.get(Participant, pid)
        assert c is not None and p is not None
        note_heard(session, actor, c, p)
    return VoteResult(statement, value, True)


@dataclass(frozen=True)
class Ballot:
    """One vote to record with :func:`record_votes`: who votes (already authenticated) on what."""

    actor: Actor
    key: str
    statement: int
    value: int
    participant: str | None = None  # the office votes on someone's behalf; else the actor's own


def record_votes(
    session: Session, ballots: Sequence[Ballot]
) -> list[VoteResult | ServiceError | PermissionDenied]:
    """Record many votes in the caller's transaction: :func:`cast_vote` for each, in order.

    The same checks (the actor may participate and votes only as their own participant, the
    consultation is open, the statement exists and is not hidden), the same rows and audit
    records, but set-based for the group commit of ``web/vote_batcher.py``: one query
    each for the consultations, participants, statements and earlier votes, then one INSERT of
    the new votes, one executemany UPDATE of the changed ones and one of the audit records. A
    refused vote gets its error in its slot and writes nothing; the others go on. A participant
    voting twice on a statement in one call is applied in order (the second is a change).

    >>> record_votes(session, [Ballot(me, "k", 1, 1), Ballot(me, "k", 99, 1)])  # doctest: +SKIP
    [VoteResult(statement=1, value=1, changed=True), NotFound("... has no statement 99")]
    """
    results: list[VoteResult | ServiceError | PermissionDenied | None] = [None] * len(ballots)
    live: list[int] = []  # ballots that passed the checks that need no database
    for i, b in enumerate(ballots):
        try:
            require(b.actor, "consultation.read")
            if b.value not in VOTE_VALUES:
                raise ValidationFailed([("value", "must be 1 (agree), -1 (disagree) or 0 (pass)")])
            if b.participant is None:
                require(b.actor, "consultation.participate")
            live.append(i)
        except (ServiceError, PermissionDenied) as exc:
            results[i] = exc
    heard = (
        select(func.count(ChannelInput.id))
        .where(ChannelInput.consultation_id == Consultation.id)
        .scalar_subquery()
    )
    consultations = {
        row.key: row
        for row in session.execute(
            select(
                Consultation.id,
                Consultation.key,
                Consultation.status,
                Consultation.channels,
                heard.label("heard"),
            ).where(Consultation.key.in_({ballots[i].key for i in live}))
        )
    }
    cids = {c.id for c in consultations.values()}
    user_ids = {ballots[i].actor.user_id for i in live} - {None}
    handles = {ballots[i].participant for i in live} - {None}
    by_user: dict[tuple[int, int], Any] = {}
    by_handle: dict[tuple[int, str], Any] = {}
    for p in session.execute(
        select(
            Participant.id,
            Participant.consultation_id,
            Participant.user_id,
            Participant.handle,
            Participant.sector,
        ).where(
            Participant.consultation_id.in_(cids),
            Participant.user_id.in_(user_ids) | Participant.handle.in_(handles),
        )
    ):
        if p.user_id is not None:
            by_user[(p.consultation_id, p.user_id)] = p
        by_handle[(p.consultation_id, p.handle)] = p
    statements = {
        (s.consultation_id, s.number): s
        for s in session.execute(
            select(
                Statement.id, Statement.consultation_id, Statement.number, Statement.hidden
            ).where(
                Statement.consultation_id.in_(cids),
                Statement.number.in_({ballots[i].statement for i in live}),
            )
        )
    }

    def find(b: Ballot) -> tuple[Any, Any, Any]:
        """The ballot's consultation, participant and statement rows (None: not found)."""
        c = consultations.get(b.key)
        if c is None:
            return None, None, None
        if b.participant is None:
            uid = b.actor.user_id if b.actor.user_id is not None else -1
            return c, by_user.get((c.id, uid)), statements.get((c.id, b.statement))
        return c, by_handle.get((c.id, b.participant)), statements.get((c.id, b.statement))

    found = {i: find(ballots[i]) for i in live}
    pairs = {(p.id, s.id) for _, p, s in found.values() if p is not None and s is not None}
    # (participant id, statement id) -> [vote id or None if inserted in this call, value]
    votes: dict[tuple[int, int], list[Any]] = {
        (v.participant_id, v.statement_id): [v.id, v.value]
        for v in session.execute(
            select(Vote.id, Vote.participant_id, Vote.statement_id, Vote.value).where(
                tuple_(Vote.participant_id, Vote.statement_id).in_(pairs)
            )
        )
    }
    inserts: dict[tuple[int, int], dict[str, Any]] = {}
    updates: dict[int, dict[str, Any]] = {}
    audits: list[dict[str, Any]] = []
    # (consultation id, participant id) -> (actor, the consultation's channels, sector)
    maybe_heard: dict[tuple[int, int], tuple[Actor, list[str], str]] = {}
    now = dt.datetime.now(dt.UTC)
    for i in live:
        b = ballots[i]
        c, p, s = found[i]
        try:
            if c is None:
                raise NotFound(f"no consultation {b.key!r}")
            if p is None:
                if b.participant is not None:
                    raise ValidationFailed([("participant", f"no participant {b.participant!r}")])
                raise ValidationFailed(
                    [("participant", "register with your sector and organisation first")]
                )
            require(b.actor, "consultation.participate", _Owner(p.user_id, p.handle))
            if c.status != "open":
                raise ValidationFailed([("consultation", f"consultation {b.key!r} is closed")])
            if s is None:
                raise NotFound(f"consultation {b.key!r} has no statement {b.statement}")
            if s.hidden:
                raise ValidationFailed(
                    [("statement", f"statement {b.statement} was moderated out")]
                )
        except (ServiceError, PermissionDenied) as exc:
            results[i] = exc
            continue
        earlier = votes.get((p.id, s.id))
        if earlier is not None and earlier[1] == b.value:
            results[i] = VoteResult(b.statement, b.value, False)
            continue
        if earlier is None:
            votes[(p.id, s.id)] = [None, b.value]
            inserts[(p.id, s.id)] = {
                "consultation_id": c.id,
                "statement_id": s.id,
                "participant_id": p.id,
                "value": b.value,
                "updated_at": now,
            }
        elif earlier[0] is None:  # inserted earlier in this call: insert the latest value
            inserts[(p.id, s.id)]["value"] = b.value
        else:
            updates[earlier[0]] = {"id": earlier[0], "value": b.value, "updated_at": now}
        audits.append(
            {
                "actor": b.actor,
                "action": "vote.cast" if earlier is None else "vote.change",
                "object_type": "consultation",
                "object_key": f"{b.key}/statement/{b.statement}",
                "before": None if earlier is None else {"value": earlier[1]},
                "after": {"participant": p.handle, "value": b.value},
            }
        )
        if earlier is not None:
            earlier[1] = b.value
        if c.heard < len(c.channels):
            maybe_heard.setdefault((c.id, p.id), (b.actor, list(c.channels), p.sector))
        results[i] = VoteResult(b.statement, b.value, True)
    if inserts:
        session.execute(insert(Vote), list(inserts.values()))
    if updates:
        session.execute(update(Vote), list(updates.values()))  # executemany by primary key
    record_changes(session, audits)
    _note_heard_many(session, maybe_heard)
    return [r for r in results if r is not None]


def _note_heard_many(
    session: Session, voters: dict[tuple[int, int], tuple[Actor, list[str], str]]
) -> None:
    """:func:`note_heard` for the voters whose sector brings a channel not heard yet (one query
    for what was heard; most voters bring nothing new and cost nothing more)."""
    if not voters:
        return
    heard: dict[int, set[str]] = {cid: set() for cid, _ in voters}
    for cid, channel in session.execute(
        select(ChannelInput.consultation_id, ChannelInput.channel).where(
            ChannelInput.consultation_id.in_(heard)
        )
    ):
        heard[cid].add(channel)
    for (cid, pid), (actor, channels, sector) in voters.items():
        new = set(channels_for(channels, sector)) - heard[cid]
        if not new:
            continue
        consultation = session.get(Consultation, cid)
        participant = session.get(Participant, pid)
        assert consultation is not None and participant is not None
        note_heard(session, actor, consultation, participant)
        heard[cid] |= new


@dataclass(frozen=True)
class StatementRow:
    statement: Statement
    author: Participant | None
    agree: int
    disagree: int
    passed: int
    my_vote: int | None = None

    @property
    def votes(self) -> int:
        return self.agree + self.disagree + self.passed


def list_statements(
    session: Session,
    actor: Actor,
    *,
    key: str,
    include_hidden: bool = False,
    for_participant: Participant | None = None,
    number: int | None = None,
) -> list[StatementRow]:
    """Statements with their vote counts (and the participant's own vote when given); only
    statement ``number`` when given (a card redrawn after a vote counts one statement's votes)."""
    c = get_consultation(session, actor, key)
    stmt = (
        select(Statement, Participant)
        .outerjoin(Participant, Participant.id == Statement.participant_id)
        .where(Statement.consultation_id == c.id)
        .order_by(Statement.number)
    )
    from stcoord.auth.permissions import permits

    if not (include_hidden and permits(actor, "consultation.moderate")):
        stmt = stmt.where(Statement.hidden.is_(False))
    if number is not None:
        stmt = stmt.where(Statement.number == number)
    rows = session.execute(stmt).all()
    votes = Vote.consultation_id == c.id
    if number is not None:
        votes = Vote.statement_id.in_([s.id for s, _ in rows])
    tallies: dict[tuple[int, int], int] = {
        (sid, value): n
        for sid, value, n in session.execute(
            select(Vote.statement_id, Vote.value, func.count())
            .where(votes)
            .group_by(Vote.statement_id, Vote.value)
        ).all()
    }
    mine: dict[int, int] = {}
    if for_participant is not None:
        mine = dict(
            session.execute(
                select(Vote.statement_id, Vote.value).where(
                    Vote.participant_id == for_participant.id, votes
                )
            ).all()
        )
    return [
        StatementRow(
            s,
            author,
            tallies.get((s.id, 1), 0),
            tallies.get((s.id, -1), 0),
            tallies.get((s.id, 0), 0),
            mine.get(s.id),
        )
        for s, author in rows
    ]


@dataclass(frozen=True)
class StatementCard:
    """What a statement's card shows right after a vote: its text and its counts."""

    number: int
    text: str
    agree: int
    disagree: int
    passed: int


def statement_cards(
    session: Session, wanted: Sequence[tuple[Actor, str, int]]
) -> dict[tuple[str, int], StatementCard]:
    """The cards of (consultation key, statement number) pairs, in two queries, as each actor
    may read them (for redrawing the cards of a batch of votes in its own transaction)."""
    pairs = set()
    for a, key, number in wanted:
        require(a, "consultation.read")
        pairs.add((key, number))
    if not pairs:
        return {}
    rows = session.execute(
        select(Consultation.key, Statement.id, Statement.number, Statement.text)
        .join(Consultation, Consultation.id == Statement.consultation_id)
        .where(tuple_(Consultation.key, Statement.number).in_(pairs))
    ).all()
    tallies: dict[tuple[int, int], int] = {
        (sid, value): n
        for sid, value, n in session.execute(
            select(Vote.statement_id, Vote.value, func.count())
            .where(Vote.statement_id.in_([r.id for r in rows]))
            .group_by(Vote.statement_id, Vote.value)
        )
    }
    return {
        (r.key, r.number): StatementCard(
            r.number,
            r.text,
            tallies.get((r.id, 1), 0),
            tallies.get((r.id, -1), 0),
            tallies.get((r.id, 0), 0),
        )
        for r in rows
    }


# ---------------------------------------------------------------- moderation


def moderate(
    session: Session,
    actor: Actor,
    *,
    key: str,
    target: str,
    ident: int,
    hidden: bool,
    reason: str | None = None,
) -> Statement | Comment:
    """Hide (or show again) a statement (by number) or a comment (by id), with a reason."""
    c = get_consultation(session, actor, key)
    require(actor, "consultation.moderate", c)
    obj: Statement | Comment
    if target == "statement":
        obj = statement_by_number(session, c, ident)
    elif target == "comment":
        obj = get_comment(session, actor, key, ident)
    else:
        raise ValidationFailed([("target", "must be statement or comment")])
    if hidden and not (reason or "").strip():
        raise ValidationFailed([("reason", "hiding needs a reason")])
    before = {"hidden": obj.hidden, "reason": obj.hidden_reason}
    obj.hidden = hidden
    obj.hidden_reason = (reason or "").strip() or None
    obj.hidden_by = actor.username
    record_change(
        session,
        actor,
        action=f"{target}.{'hide' if hidden else 'show'}",
        object_type="consultation",
        object_key=f"{key}/{target}/{ident}",
        before=before,
        after={"hidden": hidden, "reason": obj.hidden_reason},
    )
    return obj
