"""Reading projects: lists with filters, one project with its investigators, and the rows the
pair exports carry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from stcoord.auth.permissions import Actor, require
from stcoord.budget.models import Agency
from stcoord.errors import NotFound, ValidationFailed
from stcoord.portfolio.models import (
    Investigator,
    PortfolioProgram,
    Project,
    ProjectInvestigator,
    ScreenPair,
)
from stcoord.portfolio.schemas import ProjectRead

PROJECT_SORTS = {
    "id": Project.id,
    "title": Project.title,
    "amount": Project.amount,
    "start": Project.start_date,
    "source": Project.source,
}


def agency_names(session: Session, ids: Iterable[int] | None = None) -> dict[int, str]:
    stmt = select(Agency.id, Agency.code)
    wanted = sorted(set(ids)) if ids is not None else None
    if wanted is not None:
        stmt = stmt.where(Agency.id.in_(wanted))
    return {int(i): str(c) for i, c in session.execute(stmt)}


def portfolio_agencies(session: Session, actor: Actor) -> list[tuple[str, int]]:
    """Agencies with projects in the portfolio and their project counts."""
    require(actor, "portfolio.read")
    rows = session.execute(
        select(Agency.code, func.count(Project.id))
        .join(Project, Project.agency_id == Agency.id)
        .group_by(Agency.code)
        .order_by(Agency.code)
    )
    return [(str(c), int(n)) for c, n in rows]


def portfolio_sources(session: Session, actor: Actor) -> list[tuple[str, int]]:
    require(actor, "portfolio.read")
    rows = session.execute(
        select(Project.source, func.count(Project.id))
        .group_by(Project.source)
        .order_by(Project.source)
    )
    return [(str(s), int(n)) for s, n in rows]


def list_projects(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    agency: str | None = None,
    source: str | None = None,
    sort: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Project], int]:
    require(actor, "portfolio.read")
    stmt = select(Project)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(func.lower(Project.title).like(like), func.lower(Project.external_id).like(like))
        )
    if agency:
        stmt = stmt.where(Project.agency_id.in_(select(Agency.id).where(Agency.code == agency)))
    if source:
        stmt = stmt.where(Project.source == source)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    name = (sort or "id").lstrip("-")
    if name not in PROJECT_SORTS:
        raise ValidationFailed(
            [("sort", f"unknown column {name!r}; use one of {sorted(PROJECT_SORTS)}")]
        )
    column = PROJECT_SORTS[name]
    stmt = stmt.order_by(
        column.desc() if (sort or "").startswith("-") else column.asc(), Project.id
    )
    return list(session.scalars(stmt.limit(limit).offset(offset))), total


def investigators_of(
    session: Session, project_ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    ids = sorted(set(project_ids))
    if not ids:
        return out
    rows = session.execute(
        select(ProjectInvestigator.project_id, ProjectInvestigator.role, Investigator)
        .join(Investigator, Investigator.id == ProjectInvestigator.investigator_id)
        .where(ProjectInvestigator.project_id.in_(ids))
        .order_by(ProjectInvestigator.project_id, Investigator.name)
    )
    for pid, role, person in rows:
        out.setdefault(pid, []).append(
            {
                "id": person.id,
                "name": person.name,
                "role": role,
                "institution": person.institution,
                "identity": person.identity_key,
            }
        )
    return out


def project_read(session: Session, project: Project) -> ProjectRead:
    agency = agency_names(session, [project.agency_id]).get(project.agency_id, "")
    program = session.get(PortfolioProgram, project.program_id) if project.program_id else None
    return ProjectRead(
        id=project.id,
        source=project.source,
        external_id=project.external_id,
        kind=project.kind,
        title=project.title,
        abstract=project.abstract,
        agency=agency,
        program=program.name if program else None,
        institution=project.institution,
        amount=project.amount,
        currency=project.currency,
        start_date=project.start_date,
        end_date=project.end_date,
        field_codes=[str(c) for c in project.field_codes],
        language=project.language,
        investigators=investigators_of(session, [project.id]).get(project.id, []),
    )


def get_project(session: Session, actor: Actor, project_id: int) -> Project:
    require(actor, "portfolio.read")
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project {project_id}")
    return project


PAIR_EXPORT_HEADERS = [
    "pair",
    "run",
    "score",
    "left_source",
    "left_id",
    "left_title",
    "left_agency",
    "right_source",
    "right_id",
    "right_title",
    "right_agency",
    "cross_agency",
    "time_overlap",
    "shared_investigators",
    "assigned_to",
    "verdict",
    "verdict_comment",
    "verdict_by",
]


def pair_export_rows(session: Session, pairs: list[ScreenPair]) -> list[list[Any]]:
    from stcoord.auth.models import User

    projects = (
        {
            p.id: p
            for p in session.scalars(
                select(Project).where(
                    Project.id.in_(
                        sorted(
                            {x.left_project_id for x in pairs} | {x.right_project_id for x in pairs}
                        )
                    )
                )
            )
        }
        if pairs
        else {}
    )
    agencies = agency_names(session, {p.agency_id for p in projects.values()})
    users = {int(i): str(u) for i, u in session.execute(select(User.id, User.username))}
    rows = []
    for x in pairs:
        a, b = projects[x.left_project_id], projects[x.right_project_id]
        rows.append(
            [
                x.id,
                x.run_id,
                round(x.score, 6),
                a.source,
                a.external_id,
                a.title,
                agencies.get(a.agency_id, ""),
                b.source,
                b.external_id,
                b.title,
                agencies.get(b.agency_id, ""),
                x.cross_agency,
                x.time_overlap,
                x.shared_investigators,
                users.get(x.assigned_to_id) if x.assigned_to_id else "",
                x.verdict or "",
                x.verdict_comment or "",
                x.verdict_by or "",
            ]
        )
    return rows
