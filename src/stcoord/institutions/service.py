"""Use cases of the mechanism registry. Services never commit; the caller's scope does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session, aliased, selectinload

from stcoord.audit.service import changed_fields, record_change
from stcoord.auth.permissions import Actor, require, restrict
from stcoord.errors import Conflict, NotFound, ValidationFailed
from stcoord.institutions.mechanism_file import (
    BodySpec,
    CompositionRuleSpec,
    DecisionRuleSpec,
    FieldSpec,
    GateSpec,
    JurisdictionSpec,
    MandateSpec,
    MechanismFile,
    ProcedureSpec,
    RelationSpec,
    SeatSpec,
    StageSpec,
)
from stcoord.institutions.models import (
    Body,
    CompositionRule,
    Jurisdiction,
    Mandate,
    ProcedureStage,
    ProcedureTemplate,
    Relation,
    Seat,
    StrategicField,
)

SOURCED = ("sources", "unverified", "note")


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class JurisdictionSummary:
    code: str
    name: str
    names: dict[str, str]
    bodies: int
    seats: int
    mandates: int
    relations: int
    fields: int
    procedures: int


def _count_per_jurisdiction(model: Any, via_body: bool) -> Any:
    """A correlated count of ``model`` rows belonging to the outer query's jurisdiction."""
    if via_body:
        return (
            select(func.count(model.id))
            .join(Body, Body.id == model.body_id)
            .where(Body.jurisdiction_id == Jurisdiction.id)
            .scalar_subquery()
        )
    return (
        select(func.count(model.id))
        .where(model.jurisdiction_id == Jurisdiction.id)
        .scalar_subquery()
    )


def list_jurisdictions(session: Session, actor: Actor) -> list[JurisdictionSummary]:
    """Every jurisdiction with the counts of what its mechanism holds, in one statement."""
    require(actor, "mechanism.read")
    stmt = select(
        Jurisdiction.code,
        Jurisdiction.name,
        Jurisdiction.names,
        _count_per_jurisdiction(Body, False),
        _count_per_jurisdiction(Seat, True),
        _count_per_jurisdiction(Mandate, True),
        _count_per_jurisdiction(Relation, False),
        _count_per_jurisdiction(StrategicField, False),
        _count_per_jurisdiction(ProcedureTemplate, False),
    ).order_by(Jurisdiction.code)
    return [
        JurisdictionSummary(code, name, dict(names), *counts)
        for code, name, names, *counts in session.execute(stmt).all()
    ]


def get_jurisdiction(session: Session, actor: Actor, code: str) -> Jurisdiction:
    """A jurisdiction with its whole mechanism loaded in a fixed number of queries."""
    require(actor, "mechanism.read")
    stmt = (
        select(Jurisdiction)
        .where(Jurisdiction.code == code.upper())
        .options(
            selectinload(Jurisdiction.bodies).selectinload(Body.seats),
            selectinload(Jurisdiction.bodies).selectinload(Body.mandates),
            selectinload(Jurisdiction.bodies).selectinload(Body.composition_rules),
            selectinload(Jurisdiction.fields),
            selectinload(Jurisdiction.relations),
            selectinload(Jurisdiction.procedures).selectinload(ProcedureTemplate.stages),
        )
    )
    jurisdiction = session.scalar(stmt)
    if jurisdiction is None:
        raise NotFound(f"no mechanism for jurisdiction {code!r}")
    return jurisdiction


def get_body(session: Session, actor: Actor, code: str, key: str) -> Body:
    require(actor, "mechanism.read")
    stmt = (
        select(Body)
        .join(Jurisdiction)
        .where(Jurisdiction.code == code.upper(), Body.key == key)
        .options(
            selectinload(Body.seats),
            selectinload(Body.mandates),
            selectinload(Body.composition_rules),
        )
    )
    body = session.scalar(stmt)
    if body is None:
        raise NotFound(f"no body {key!r} in jurisdiction {code!r}")
    return body


def body_keys(session: Session, jurisdiction_id: int) -> dict[int, str]:
    """Body id -> key for one jurisdiction, without loading the bodies."""
    stmt = select(Body.id, Body.key).where(Body.jurisdiction_id == jurisdiction_id)
    return {body_id: key for body_id, key in session.execute(stmt).all()}


@dataclass(frozen=True)
class BodyRelations:
    outgoing: list[Relation]
    incoming: list[Relation]
    children: list[Body]


def body_relations(session: Session, body: Body) -> BodyRelations:
    """The relations that start or end at ``body``, and its child bodies."""
    rels = session.scalars(
        select(Relation)
        .where((Relation.from_body_id == body.id) | (Relation.to_body_id == body.id))
        .options(selectinload(Relation.from_body), selectinload(Relation.to_body))
        .order_by(Relation.position)
    ).all()
    children = session.scalars(
        select(Body).where(Body.parent_id == body.id).order_by(Body.position)
    ).all()
    return BodyRelations(
        outgoing=[r for r in rels if r.from_body_id == body.id],
        incoming=[r for r in rels if r.to_body_id == body.id],
        children=list(children),
    )


# ---------------------------------------------------------------- export


def _sourced(row: Any) -> dict[str, Any]:
    return {"sources": list(row.sources), "unverified": row.unverified, "note": row.note}


def export_spec(jurisdiction: Jurisdiction) -> MechanismFile:
    """The mechanism as a file spec: what ``load`` would need to rebuild this exact state."""
    key_of = {b.id: b.key for b in jurisdiction.bodies}
    return MechanismFile(
        jurisdiction=JurisdictionSpec(
            code=jurisdiction.code,
            name=jurisdiction.name,
            names=dict(jurisdiction.names),
            **_sourced(jurisdiction),
        ),
        fields=[
            FieldSpec(
                key=f.key,
                name=f.name,
                names=dict(f.names),
                description=f.description,
                classification=f.classification,
                **_sourced(f),
            )
            for f in jurisdiction.fields
        ],
        bodies=[body_spec(b, key_of) for b in jurisdiction.bodies],
        relations=[
            RelationSpec.model_validate(
                {
                    "from": key_of[r.from_body_id],
                    "to": key_of[r.to_body_id],
                    "type": r.type,
                    "description": r.description,
                    **_sourced(r),
                }
            )
            for r in jurisdiction.relations
        ],
        procedures=[_procedure_spec(p, key_of) for p in jurisdiction.procedures],
    )


def body_spec(body: Body, key_of: dict[int, str]) -> BodySpec:
    return BodySpec(
        key=body.key,
        name=body.name,
        short_name=body.short_name,
        names=dict(body.names),
        kind=body.kind,
        level=body.level,
        parent=key_of.get(body.parent_id) if body.parent_id else None,
        legal_basis=body.legal_basis,
        established=body.established,
        abolished=body.abolished,
        description=body.description,
        seats=[
            SeatSpec(
                role=s.role,
                holder_type=s.holder_type,
                title=s.title,
                names=dict(s.names),
                count=s.count,
                holder_body=key_of.get(s.holder_body_id) if s.holder_body_id else None,
                appointed_by=s.appointed_by,
                confirmation=s.confirmation,
                ex_officio_of=s.ex_officio_of,
                term_years=s.term_years,
                rotating_among=list(s.rotating_among),
                **_sourced(s),
            )
            for s in body.seats
        ],
        composition=[
            CompositionRuleSpec(rule=c.rule, **_sourced(c)) for c in body.composition_rules
        ],
        decision=DecisionRuleSpec.model_validate(body.decision) if body.decision else None,
        mandates=[
            MandateSpec(
                affair=m.affair,
                power=m.power,
                scope=m.scope,
                description=m.description,
                instrument=m.instrument,
                binding=m.binding,
                **_sourced(m),
            )
            for m in body.mandates
        ],
        **_sourced(body),
    )


def _procedure_spec(proc: ProcedureTemplate, key_of: dict[int, str]) -> ProcedureSpec:
    return ProcedureSpec(
        key=proc.key,
        name=proc.name,
        names=dict(proc.names),
        fields=proc.fields,
        legal_basis=proc.legal_basis,
        stages=[
            StageSpec(
                key=s.key,
                name=s.name,
                names=dict(s.names),
                actor=key_of[s.actor_body_id],
                participants=list(s.participants),
                outputs=list(s.outputs),
                channels=list(s.channels),
                gate=[GateSpec.model_validate(g) for g in s.gate],
                planned=s.planned,
                **_sourced(s),
            )
            for s in proc.stages
        ],
        **_sourced(proc),
    )


def export_mechanism(session: Session, actor: Actor, code: str) -> MechanismFile:
    return export_spec(get_jurisdiction(session, actor, code))


# ---------------------------------------------------------------- loading


@dataclass(frozen=True)
class LoadResult:
    code: str
    created: bool
    changed: bool
    bodies_added: list[str]
    bodies_removed: list[str]
    bodies_changed: list[str]


def _comparable(spec: MechanismFile) -> dict[str, Any]:
    return spec.model_dump(mode="json")


def load_mechanism(session: Session, actor: Actor, spec: MechanismFile) -> LoadResult:
    """Make the stored mechanism of ``spec.jurisdiction.code`` equal to ``spec``.

    Idempotent: loading the same spec twice writes nothing the second time. Bodies keep their
    ids across loads (they are matched by key), so links to them (liaison scopes) survive.
    The change and its audit record land in the caller's transaction.
    """
    require(actor, "mechanism.write")
    code = spec.jurisdiction.code
    existing = session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    before = export_spec(get_jurisdiction(session, actor, code)) if existing else None
    new_state = _comparable(spec)
    old_state = _comparable(before) if before else None
    if old_state == new_state:
        return LoadResult(code, False, False, [], [], [])
    # The comparison loaded the whole mechanism into the session; the bulk deletes below would
    # otherwise have to reconcile every one of those objects.
    session.expunge_all()

    old_bodies = {b["key"]: b for b in old_state["bodies"]} if old_state else {}
    new_bodies = {b["key"]: b for b in new_state["bodies"]}
    added = [k for k in new_bodies if k not in old_bodies]
    removed = [k for k in old_bodies if k not in new_bodies]
    changed = [k for k in new_bodies if k in old_bodies and old_bodies[k] != new_bodies[k]]

    jurisdiction = existing or Jurisdiction(code=code)
    _write_mechanism(session, jurisdiction, spec)

    audit_before, audit_after = _audit_diff(old_state, new_state, added, removed, changed)
    record_change(
        session,
        actor,
        action="mechanism.load",
        object_type="jurisdiction",
        object_key=code,
        before=audit_before,
        after=audit_after,
        summary=f"{len(added)} bodies added, {len(removed)} removed, {len(changed)} changed",
    )
    return LoadResult(code, existing is None, True, added, removed, changed)


def _audit_diff(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    added: list[str],
    removed: list[str],
    changed: list[str],
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    if old is None:
        return None, {"jurisdiction": new["jurisdiction"], "bodies_added": added}
    old_bodies = {b["key"]: b for b in old["bodies"]}
    new_bodies = {b["key"]: b for b in new["bodies"]}
    before: dict[str, Any] = {"bodies": {k: old_bodies[k] for k in removed + changed}}
    after: dict[str, Any] = {"bodies": {k: new_bodies[k] for k in added + changed}}
    for section in ("jurisdiction", "fields", "relations", "procedures"):
        if old[section] != new[section]:
            before[section], after[section] = old[section], new[section]
    return before, after


def _sourced_values(spec: Any) -> dict[str, Any]:
    return {"sources": list(spec.sources), "unverified": spec.unverified, "note": spec.note}


def _write_mechanism(session: Session, jurisdiction: Jurisdiction, spec: MechanismFile) -> None:
    j = spec.jurisdiction
    jurisdiction.name, jurisdiction.names = j.name, dict(j.names)
    jurisdiction.sources, jurisdiction.unverified, jurisdiction.note = (
        list(j.sources),
        j.unverified,
        j.note,
    )
    if jurisdiction.id is None:
        session.add(jurisdiction)
    else:
        jurisdiction.version += 1
    session.flush()
    jid = jurisdiction.id
    _replace_fields(session, jid, spec.fields)
    body_ids = _sync_bodies(session, jid, spec.bodies)
    _replace_body_parts(session, body_ids, spec.bodies)
    session.execute(delete(Relation).where(Relation.jurisdiction_id == jid))
    _bulk_insert(
        session,
        Relation,
        [
            {
                "jurisdiction_id": jid,
                "position": i,
                "from_body_id": body_ids[r.from_body],
                "to_body_id": body_ids[r.to_body],
                "type": r.type,
                "description": r.description,
                **_sourced_values(r),
            }
            for i, r in enumerate(spec.relations)
        ],
    )
    _replace_procedures(session, jid, body_ids, spec.procedures)
    session.expire_all()  # the Core writes above bypassed the identity map


def _bulk_insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    # render_nulls keeps rows with None values in one multi-row INSERT; without it SQLAlchemy
    # splits them by which columns are NULL (16,800 statements for a 5,000-body file).
    if rows:
        session.execute(insert(model).execution_options(render_nulls=True), rows)


def _replace_fields(session: Session, jid: int, fields: list[FieldSpec]) -> None:
    session.execute(delete(StrategicField).where(StrategicField.jurisdiction_id == jid))
    _bulk_insert(
        session,
        StrategicField,
        [
            {
                "jurisdiction_id": jid,
                "key": f.key,
                "position": i,
                "name": f.name,
                "names": dict(f.names),
                "description": f.description,
                "classification": f.classification,
                **_sourced_values(f),
            }
            for i, f in enumerate(fields)
        ],
    )


def _body_values(spec: BodySpec, position: int) -> dict[str, Any]:
    return {
        "key": spec.key,
        "position": position,
        "name": spec.name,
        "short_name": spec.short_name,
        "names": dict(spec.names),
        "kind": spec.kind,
        "level": spec.level,
        "legal_basis": spec.legal_basis,
        "established": spec.established,
        "abolished": spec.abolished,
        "description": spec.description,
        "decision": spec.decision.model_dump(mode="json") if spec.decision else None,
        **_sourced_values(spec),
    }


def _sync_bodies(session: Session, jid: int, bodies: list[BodySpec]) -> dict[str, int]:
    """Upsert bodies by key, delete the ones the file no longer has; return key -> id."""
    existing = {
        key: body_id
        for key, body_id in session.execute(
            select(Body.key, Body.id).where(Body.jurisdiction_id == jid)
        ).all()
    }
    wanted = {b.key for b in bodies}
    gone = [body_id for key, body_id in existing.items() if key not in wanted]
    if gone:
        session.execute(delete(Body).where(Body.id.in_(gone)))
    new_rows = [
        {"jurisdiction_id": jid, **_body_values(b, i)}
        for i, b in enumerate(bodies)
        if b.key not in existing
    ]
    _bulk_insert(session, Body, new_rows)
    for i, spec in enumerate(bodies):
        if spec.key in existing:
            row = session.get(Body, existing[spec.key])
            assert row is not None
            values = _body_values(spec, i)
            if any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                row.version += 1
    session.flush()
    current = {
        key: (body_id, parent_id)
        for key, body_id, parent_id in session.execute(
            select(Body.key, Body.id, Body.parent_id).where(Body.jurisdiction_id == jid)
        ).all()
    }
    ids = {key: body_id for key, (body_id, _) in current.items()}
    moves = [
        {"b_id": ids[b.key], "p_id": ids[b.parent] if b.parent else None}
        for b in bodies
        if current[b.key][1] != (ids[b.parent] if b.parent else None)
    ]
    if moves:
        stmt = (
            update(Body)
            .where(Body.id == bindparam("b_id"))
            .values(parent_id=bindparam("p_id"))
            .execution_options(synchronize_session=False)
        )
        session.connection().execute(stmt, moves)
    return ids


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _replace_body_parts(session: Session, ids: dict[str, int], bodies: list[BodySpec]) -> None:
    """Replace seats, composition rules and mandates of every body of the mechanism."""
    all_ids = list(ids.values())
    for model in (Seat, CompositionRule, Mandate):
        for chunk in _chunks(all_ids, 900):
            session.execute(delete(model).where(model.body_id.in_(chunk)))
    seats, rules, mandates = [], [], []
    for b in bodies:
        bid = ids[b.key]
        for i, s in enumerate(b.seats):
            seats.append(
                {
                    "body_id": bid,
                    "position": i,
                    "role": s.role,
                    "holder_type": s.holder_type,
                    "title": s.title,
                    "names": dict(s.names),
                    "count": s.count,
                    "holder_body_id": ids[s.holder_body] if s.holder_body else None,
                    "appointed_by": s.appointed_by,
                    "confirmation": s.confirmation,
                    "ex_officio_of": s.ex_officio_of,
                    "term_years": s.term_years,
                    "rotating_among": list(s.rotating_among),
                    **_sourced_values(s),
                }
            )
        for i, c in enumerate(b.composition):
            rules.append({"body_id": bid, "position": i, "rule": c.rule, **_sourced_values(c)})
        for i, m in enumerate(b.mandates):
            mandates.append(
                {
                    "body_id": bid,
                    "position": i,
                    "affair": m.affair,
                    "power": m.power,
                    "scope": m.scope,
                    "description": m.description,
                    "instrument": m.instrument,
                    "binding": m.binding,
                    **_sourced_values(m),
                }
            )
    _bulk_insert(session, Seat, seats)
    _bulk_insert(session, CompositionRule, rules)
    _bulk_insert(session, Mandate, mandates)


def _replace_procedures(
    session: Session, jid: int, ids: dict[str, int], procedures: list[ProcedureSpec]
) -> None:
    session.execute(delete(ProcedureTemplate).where(ProcedureTemplate.jurisdiction_id == jid))
    session.flush()
    for i, p in enumerate(procedures):
        template = ProcedureTemplate(
            jurisdiction_id=jid,
            key=p.key,
            position=i,
            name=p.name,
            names=dict(p.names),
            fields=p.fields,
            legal_basis=p.legal_basis,
            **_sourced_values(p),
        )
        session.add(template)
        session.flush()
        _bulk_insert(
            session,
            ProcedureStage,
            [
                {
                    "template_id": template.id,
                    "seq": seq,
                    "key": s.key,
                    "name": s.name,
                    "names": dict(s.names),
                    "actor_body_id": ids[s.actor],
                    "participants": list(s.participants),
                    "outputs": list(s.outputs),
                    "channels": list(s.channels),
                    "gate": [g.model_dump(mode="json", exclude_defaults=True) for g in s.gate],
                    "planned": s.planned,
                    **_sourced_values(s),
                }
                for seq, s in enumerate(p.stages, start=1)
            ],
        )


# ---------------------------------------------------------------- editing one body


EDITABLE_BODY_FIELDS = ("name", "short_name", "names", "legal_basis", "description", "note")


def body_snapshot(body: Body) -> dict[str, Any]:
    return {field: getattr(body, field) for field in (*EDITABLE_BODY_FIELDS, "version")}


def update_body(
    session: Session,
    actor: Actor,
    *,
    code: str,
    key: str,
    expected_version: int,
    changes: dict[str, Any],
) -> Body:
    """Edit a body's descriptive facts. A stale ``expected_version`` is a :class:`Conflict`."""
    body = get_body(session, actor, code, key)
    require(actor, "body.write", body)
    unknown = sorted(set(changes) - set(EDITABLE_BODY_FIELDS))
    if unknown:
        raise ValidationFailed([(name, "this field cannot be edited here") for name in unknown])
    if "name" in changes and not str(changes["name"] or "").strip():
        raise ValidationFailed([("name", "must not be empty")])
    if body.version != expected_version:
        raise Conflict(
            f"body {key!r} was changed by someone else (version {body.version}, "
            f"you edited version {expected_version})",
            current=body_snapshot(body),
        )
    before = body_snapshot(body)
    for name, value in changes.items():
        setattr(body, name, value)
    body.version += 1
    session.flush()
    diff_before, diff_after = changed_fields(before, body_snapshot(body))
    record_change(
        session,
        actor,
        action="body.update",
        object_type="body",
        object_key=f"{code}/{key}",
        before=diff_before,
        after=diff_after,
    )
    _ensure_still_visible(session, actor, body)
    return body


def _ensure_still_visible(session: Session, actor: Actor, body: Body) -> None:
    """NetBox's rule: after a write, the object must still be inside the actor's scope."""
    stmt = restrict(select(Body.id).where(Body.id == body.id), actor, "body.write", Body)
    if session.scalar(stmt) is None:
        raise Conflict("the change would move the body outside what you may edit")


# ---------------------------------------------------------------- body lists

BODY_SORTS = {
    "key": Body.key,
    "name": Body.name,
    "kind": Body.kind,
    "level": Body.level,
    "established": Body.established,
    "position": Body.position,
}


_PARENT = aliased(Body)  # built once: aliased() per call cost ~15% of a body-list request


@dataclass(frozen=True)
class BodyRow:
    key: str
    name: str
    short_name: str | None
    names: dict[str, str]
    kind: str
    level: str
    parent: str | None
    established: str | None
    abolished: str | None
    unverified: bool
    version: int
    seats: int


def list_bodies(
    session: Session,
    actor: Actor,
    code: str,
    *,
    level: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    sort: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[BodyRow], int]:
    """Bodies of a mechanism, filtered, sorted and paginated in SQL."""
    require(actor, "mechanism.read")
    jid = session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == code.upper()))
    if jid is None:
        raise NotFound(f"no mechanism for jurisdiction {code!r}")
    parent = _PARENT
    seat_count = (
        select(func.coalesce(func.sum(Seat.count), 0))
        .where(Seat.body_id == Body.id)
        .scalar_subquery()
    )
    stmt = (
        select(Body, parent.key, seat_count)
        .outerjoin(parent, parent.id == Body.parent_id)
        .where(Body.jurisdiction_id == jid)
    )
    if level:
        stmt = stmt.where(Body.level == level)
    if kind:
        stmt = stmt.where(Body.kind == kind)
    if q:
        pattern = f"%{q.lower()}%"
        stmt = stmt.where(
            func.lower(Body.name).like(pattern)
            | func.lower(func.coalesce(Body.short_name, "")).like(pattern)
            | func.lower(Body.key).like(pattern)
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    name = (sort or "position").lstrip("-")
    if name not in BODY_SORTS:
        raise ValidationFailed(
            [("sort", f"unknown column {name!r}; use one of {sorted(BODY_SORTS)}")]
        )
    column = BODY_SORTS[name]
    order = column.desc() if (sort or "").startswith("-") else column.asc()
    rows = session.execute(stmt.order_by(order, Body.id).limit(limit).offset(offset)).all()
    return [
        BodyRow(
            key=b.key,
            name=b.name,
            short_name=b.short_name,
            names=dict(b.names),
            kind=b.kind,
            level=b.level,
            parent=parent_key,
            established=b.established,
            abolished=b.abolished,
            unverified=b.unverified,
            version=b.version,
            seats=int(seats),
        )
        for b, parent_key, seats in rows
    ], total
