"""The topic landscape of the portfolio and its money against the mechanism's priorities.

Topics come from :func:`stcoord.analytics.landscape.topic_landscape` over the projects' texts;
per topic the page shows the projects, the money, how many agencies fund it and how concentrated
the money is among them (Herfindahl: 1 = one agency, 1/n = n equal agencies). Money is mapped
onto the strategic fields of the jurisdiction's mechanism (their names and descriptions from
``institutions``) and compared with priority weights: those of the latest budget priority set
whose classification links fields to the mechanism's strategic fields (``budget_field.
strategic_field``), else equal weights over the mechanism's fields.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stcoord.auth.permissions import Actor, require
from stcoord.budget.models import Agency, BudgetField, Classification, PrioritySet
from stcoord.errors import NotFound, ValidationFailed
from stcoord.institutions.models import Jurisdiction, StrategicField
from stcoord.portfolio.mapping import project_text
from stcoord.portfolio.models import Project

MAX_PROJECTS = 200_000  # a landscape over more projects is a batch job, not a page
MIN_FIELD_SCORE = 0.05  # a project's best field cosine must exceed this to count


@dataclass(frozen=True)
class TopicRow:
    index: int
    terms: list[str]
    projects: int
    money: Decimal
    agencies: int
    herfindahl: float | None
    top_agencies: list[tuple[str, Decimal]]


@dataclass(frozen=True)
class FieldRow:
    key: str
    name: str
    money: float
    share: float
    weight: float
    gap: float  # share - weight: negative = under-funded against the priority


@dataclass(frozen=True)
class LandscapeView:
    jurisdiction: str
    projects: int
    money: Decimal
    topics: list[TopicRow]
    fields: list[FieldRow]
    weights_from: str  # "priority set <key>" or "equal weights"
    unmapped_money: float = 0.0
    notes: list[str] = field(default_factory=list)


def _mechanism_fields(session: Session, jurisdiction: str) -> list[StrategicField]:
    j = session.scalar(select(Jurisdiction).where(Jurisdiction.code == jurisdiction))
    if j is None:
        raise NotFound(f"no jurisdiction {jurisdiction!r}")
    return list(
        session.scalars(
            select(StrategicField)
            .where(StrategicField.jurisdiction_id == j.id)
            .order_by(StrategicField.position, StrategicField.id)
        )
    )


def priority_weights(
    session: Session, jurisdiction: str, field_keys: Sequence[str], priority_set: str | None
) -> tuple[dict[str, float], str]:
    """Weights over the mechanism's fields from a budget priority set, else equal weights."""
    stmt = (
        select(PrioritySet, Classification)
        .join(Classification, Classification.id == PrioritySet.classification_id)
        .where(Classification.jurisdiction_code == jurisdiction)
        .order_by(PrioritySet.fiscal_year.desc(), PrioritySet.id.desc())
    )
    if priority_set:
        stmt = stmt.where(PrioritySet.key == priority_set)
    keys = set(field_keys)
    for pset, scheme in session.execute(stmt).all():
        links = {
            str(k): v
            for k, v in session.execute(
                select(BudgetField.key, BudgetField.strategic_field).where(
                    BudgetField.classification_id == scheme.id
                )
            )
        }
        weights: dict[str, float] = defaultdict(float)
        for budget_key, w in (pset.weights or {}).items():
            target = links.get(budget_key)
            if target in keys:
                weights[target] += float(w)
        total = sum(weights.values())
        if total > 0:
            return {k: weights.get(k, 0.0) / total for k in field_keys}, f"priority set {pset.key}"
    if priority_set:
        raise ValidationFailed(
            [("priorities", f"priority set {priority_set!r} names no field of the mechanism")]
        )
    n = len(field_keys)
    return ({k: 1.0 / n for k in field_keys} if n else {}), "equal weights"


_CACHE: dict[tuple[Any, ...], LandscapeView] = {}


def build(
    session: Session,
    actor: Actor,
    *,
    n_topics: int | None = None,
    sources: Sequence[str] = (),
    jurisdiction: str = "US",
    priority_set: str | None = None,
    min_field_score: float = MIN_FIELD_SCORE,
) -> LandscapeView:
    """Topics, per-topic agencies / Herfindahl / money, and money by strategic field with gaps.

    Each project's money goes to the strategic field whose name and description its text is
    most similar to (TF-IDF cosine above ``min_field_score``), else it stays unmapped."""
    from stcoord.analytics import landscape as core

    require(actor, "portfolio.read")
    stmt = select(
        Project.id, Project.title, Project.abstract, Project.agency_id, Project.amount
    ).order_by(Project.id)
    if sources:
        stmt = stmt.where(Project.source.in_(list(sources)))
    rows = session.execute(stmt.limit(MAX_PROJECTS + 1)).all()
    if len(rows) > MAX_PROJECTS:
        raise ValidationFailed(
            [("sources", f"more than {MAX_PROJECTS} projects: narrow the scope")]
        )
    fields = _mechanism_fields(session, jurisdiction)
    weights, weights_from = priority_weights(
        session, jurisdiction, [f.key for f in fields], priority_set
    )
    key = (
        tuple(sorted(sources)),
        n_topics,
        len(rows),
        rows[-1][0] if rows else 0,
        sum(float(r[4] or 0) for r in rows),
        jurisdiction,
        tuple(sorted(weights.items())),
        min_field_score,
    )
    if key in _CACHE:
        return _CACHE[key]
    codes = {int(i): str(c) for i, c in session.execute(select(Agency.id, Agency.code))}
    texts = [project_text(r[1], r[2]) for r in rows]
    amounts = [float(r[4] or 0) for r in rows]
    agencies = [codes.get(r[3], "") for r in rows]
    topics: list[TopicRow] = []
    notes: list[str] = []
    if len(texts) >= 2:
        result = core.topic_landscape(texts, n_topics=n_topics, random_state=0)
        spread = {f.topic: f for f in core.fragmentation(result.labels, agencies, amounts)}
        for topic in result.topics:
            frag = spread.get(int(topic.index))
            topics.append(
                TopicRow(
                    index=int(topic.index),
                    terms=list(topic.terms)[:8],
                    projects=int(topic.size),
                    money=Decimal(str(frag.total)) if frag else Decimal(0),
                    agencies=frag.n_agencies if frag else 0,
                    herfindahl=frag.hhi if frag and frag.total > 0 else None,
                    top_agencies=[
                        (a, Decimal(str(round(v, 2)))) for a, v in (frag.by_agency if frag else ())
                    ][:3],
                )
            )
        topics.sort(key=lambda t: (-t.money, -t.projects, t.index))
    else:
        notes.append("too few projects for topics")
    field_rows: list[FieldRow] = []
    unmapped = 0.0
    if fields and texts:
        matches = core.map_to_fields(
            texts,
            {f.key: f"{f.name}. {f.description or ''}".strip() for f in fields},
            min_score=min_field_score,
        )
        money_by_field: dict[str, float] = {f.key: 0.0 for f in fields}
        for match, amount in zip(matches, amounts, strict=True):
            if match.field is None:
                unmapped += amount
            else:
                money_by_field[match.field] += amount
        names = {f.key: f.name for f in fields}
        field_rows = [
            FieldRow(
                key=g.field,
                name=names.get(g.field, g.field),
                money=float(g.money),
                share=float(g.money_share),
                weight=float(g.priority_share),
                gap=float(g.gap),
            )
            for g in core.priority_gaps(money_by_field, weights)
        ]
    view = LandscapeView(
        jurisdiction=jurisdiction,
        projects=len(rows),
        money=sum((Decimal(str(r[4] or 0)) for r in rows), Decimal(0)),
        topics=topics,
        fields=field_rows,
        weights_from=weights_from,
        unmapped_money=unmapped,
        notes=notes,
    )
    _CACHE.clear()
    _CACHE[key] = view
    return view


def as_json(view: LandscapeView) -> dict[str, Any]:
    return {
        "jurisdiction": view.jurisdiction,
        "projects": view.projects,
        "money": float(view.money),
        "weights_from": view.weights_from,
        "unmapped_money": view.unmapped_money,
        "topics": [
            {
                "index": t.index,
                "terms": t.terms,
                "projects": t.projects,
                "money": float(t.money),
                "agencies": t.agencies,
                "herfindahl": t.herfindahl,
                "top_agencies": [[a, float(m)] for a, m in t.top_agencies],
            }
            for t in view.topics
        ],
        "fields": [f.__dict__ for f in view.fields],
        "notes": view.notes,
    }
