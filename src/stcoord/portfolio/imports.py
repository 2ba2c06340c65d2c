"""Import projects into the portfolio: stream a file through a mapping and upsert by
``(source, external_id)`` in batches, inside the caller's one transaction.

Every record is checked; once a problem is found nothing more is written (the rest is still
checked so every bad row is reported), and :class:`~stcoord.errors.ValidationFailed` at the end
rolls back what was flushed. Re-importing the same file changes nothing (projects whose values
are unchanged keep their version). One audit record per import carries the counts and the file's
SHA-256.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.orm import Session, selectinload

from stcoord.audit.service import record_change
from stcoord.auth.permissions import Actor, require
from stcoord.budget.models import Agency
from stcoord.errors import ValidationFailed
from stcoord.institutions.models import Body, Jurisdiction
from stcoord.portfolio.mapping import (
    PortfolioMapping,
    ProjectRecord,
    identity_key,
    name_key,
    read_records,
)
from stcoord.portfolio.models import (
    Investigator,
    PortfolioProgram,
    Project,
    ProjectInvestigator,
)

BATCH = 500
_CENT = Decimal("0.01")
MAX_LISTED = 1000
PROJECT_FIELDS = (
    "kind",
    "title",
    "abstract",
    "agency_id",
    "program_id",
    "institution",
    "amount",
    "currency",
    "start_date",
    "end_date",
    "field_codes",
    "language",
)


@dataclass(frozen=True)
class ImportResult:
    source: str
    mapping: str
    filename: str
    rows: int
    created: int
    updated: int
    unchanged: int
    agencies_created: list[str]
    investigators_created: int
    links: int
    problems: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Hashing:
    """Wraps a binary stream, hashing what is read (the audit keeps the file's SHA-256)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.sha = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.sha.update(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self.stream.readline(size)
        self.sha.update(data)
        return data

    def __iter__(self) -> Iterator[bytes]:
        for line in self.stream:
            self.sha.update(line)
            yield line

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return bool(getattr(self.stream, "closed", False))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def flush(self) -> None:
        return None


class _Writer:
    def __init__(self, session: Session, mapping: PortfolioMapping) -> None:
        self.session = session
        self.mapping = mapping
        self.agencies: dict[str, int] = {}
        self.programs: dict[tuple[int, str], int] = {}
        self.loaded_agencies: set[int] = set()
        self.agencies_created: list[str] = []
        self.created = self.updated = self.unchanged = self.links = self.people = 0
        jurisdiction = session.scalar(
            select(Jurisdiction).where(Jurisdiction.code == mapping.jurisdiction)
        )
        self.bodies: dict[str, int] = {}
        if jurisdiction is not None:
            for body in session.scalars(
                select(Body).where(Body.jurisdiction_id == jurisdiction.id)
            ):
                for label in (body.key, body.name, body.short_name, *body.names.values()):
                    if isinstance(label, str) and label:
                        self.bodies.setdefault(label.lower(), body.id)

    def agency_id(self, record: ProjectRecord) -> int:
        code = record.agency_code[:120]
        if code in self.agencies:
            return self.agencies[code]
        agency = self.session.scalar(
            select(Agency).where(
                Agency.jurisdiction_code == self.mapping.jurisdiction, Agency.code == code
            )
        )
        if agency is None:
            agency = Agency(
                jurisdiction_code=self.mapping.jurisdiction,
                code=code,
                name=record.agency_name[:300],
                names={},
                body_id=self.bodies.get(code.lower())
                or self.bodies.get(record.agency_name.lower()),
            )
            self.session.add(agency)
            self.session.flush()
            self.agencies_created.append(code)
        self.agencies[code] = agency.id
        return agency.id

    def resolve_programs(self, batch: list[ProjectRecord]) -> None:
        """Find or create the programs a batch cites, with one query per new agency and one
        flush (a lookup per record would flush the pending projects each time)."""
        agencies = {self.agency_id(r) for r in batch}
        fresh = agencies - self.loaded_agencies
        if fresh:
            for program in self.session.scalars(
                select(PortfolioProgram).where(PortfolioProgram.agency_id.in_(fresh))
            ):
                self.programs[(program.agency_id, program.code)] = program.id
            self.loaded_agencies |= fresh
        new: dict[tuple[int, str], PortfolioProgram] = {}
        for record in batch:
            if not record.program_code:
                continue
            key = (self.agency_id(record), record.program_code[:120])
            if key not in self.programs and key not in new:
                new[key] = PortfolioProgram(
                    agency_id=key[0], code=key[1], name=record.program_name or key[1]
                )
        if new:
            self.session.add_all(new.values())
            self.session.flush()
            self.programs.update({k: p.id for k, p in new.items()})

    def program_id(self, agency_id: int, record: ProjectRecord) -> int | None:
        if not record.program_code:
            return None
        return self.programs[(agency_id, record.program_code[:120])]

    def write(self, batch: list[ProjectRecord]) -> None:
        session = self.session
        self.resolve_programs(batch)
        keys = [(r.source, r.external_id) for r in batch]
        existing = {
            (p.source, p.external_id): p
            for p in session.scalars(
                select(Project)
                .where(tuple_(Project.source, Project.external_id).in_(keys))
                .options(selectinload(Project.links).joinedload(ProjectInvestigator.investigator))
            )
        }
        changed_ids: list[int] = []
        projects: list[tuple[ProjectRecord, Project]] = []
        for record in batch:
            agency_id = self.agency_id(record)
            values = {
                "kind": record.kind,
                "title": record.title,
                "abstract": record.abstract,
                "agency_id": agency_id,
                "program_id": self.program_id(agency_id, record),
                "institution": record.institution,
                "amount": record.amount.quantize(_CENT) if record.amount is not None else None,
                "currency": record.currency,
                "start_date": record.start_date,
                "end_date": record.end_date,
                "field_codes": list(record.field_codes),
                "language": record.language,
            }
            project = existing.get((record.source, record.external_id))
            if project is None:
                project = Project(source=record.source, external_id=record.external_id, **values)
                session.add(project)
                self.created += 1
                projects.append((record, project))
                continue
            before = {k: getattr(project, k) for k in PROJECT_FIELDS}
            people = {identity_key(i, record.institution) for i in record.investigators}
            old_people = {link.investigator.identity_key for link in project.links}
            if before == values and people == old_people:
                self.unchanged += 1
                continue
            for k, v in values.items():
                setattr(project, k, v)
            project.version += 1
            self.updated += 1
            changed_ids.append(project.id)
            projects.append((record, project))
        if changed_ids:
            session.execute(
                delete(ProjectInvestigator).where(ProjectInvestigator.project_id.in_(changed_ids))
            )
            for pid in changed_ids:
                project = session.get(Project, pid)
                if project is not None:
                    session.expire(project, ["links"])
        session.flush()
        self._link(projects)

    def _link(self, projects: list[tuple[ProjectRecord, Project]]) -> None:
        wanted: dict[str, tuple[ProjectRecord, Any]] = {}
        for record, _project in projects:
            for inv in record.investigators:
                wanted.setdefault(identity_key(inv, record.institution), (record, inv))
        if not wanted:
            return
        known = dict(
            self.session.execute(
                select(Investigator.identity_key, Investigator.id).where(
                    Investigator.identity_key.in_(list(wanted))
                )
            ).all()
        )
        new = [
            {
                "identity_key": key,
                "id_scheme": inv.id_scheme,
                "person_id": inv.person_id,
                "name": inv.name[:300],
                "name_key": name_key(inv),
                "institution": record.institution,
            }
            for key, (record, inv) in wanted.items()
            if key not in known
        ]
        if new:
            made = self.session.execute(
                insert(Investigator).returning(Investigator.identity_key, Investigator.id), new
            )
            known.update({str(k): int(v) for k, v in made})
        self.people += len(new)
        rows = []
        for record, project in projects:
            seen: set[int] = set()
            for inv in record.investigators:
                iid = known[identity_key(inv, record.institution)]
                if iid in seen:
                    continue
                seen.add(iid)
                rows.append({"project_id": project.id, "investigator_id": iid, "role": inv.role})
        if rows:
            self.session.execute(insert(ProjectInvestigator), rows)
        self.links += len(rows)


def import_projects(
    session: Session,
    actor: Actor,
    *,
    stream: IO[bytes],
    filename: str,
    mapping: PortfolioMapping | None = None,
    source: str | None = None,
) -> ImportResult:
    """Import (or update) the projects of one file; all or nothing.

    Raises :class:`ValidationFailed` listing every bad row (row number and field) when any row
    is bad; the caller's transaction then rolls back whatever was flushed.
    """
    require(actor, "portfolio.import")
    if filename.lower().endswith(".xlsx"):  # a zip: openpyxl needs to seek
        data = stream.read()
        digest = hashlib.sha256(data)
        source_stream: Any = io.BytesIO(data)
    else:
        hashing = _Hashing(stream)
        digest = hashing.sha
        source_stream = hashing
    chosen_out: list[PortfolioMapping] = []
    problems: list[dict[str, Any]] = []
    batch: list[ProjectRecord] = []
    writer: _Writer | None = None
    rows = 0
    reader = read_records(source_stream, filename, mapping, source=source, chosen_out=chosen_out)
    for record, found in reader:
        rows += 1
        if found:
            problems.extend(found)
            continue
        assert record is not None
        if problems:
            continue  # keep checking, write nothing more
        if writer is None:
            writer = _Writer(session, chosen_out[0])
        batch.append(record)
        if len(batch) >= BATCH:
            writer.write(batch)
            batch = []
    if problems:
        listed = problems[:MAX_LISTED]
        if len(problems) > MAX_LISTED:
            listed.append({"path": "", "message": f"... and {len(problems) - MAX_LISTED} more"})
        raise ValidationFailed(listed)
    if rows == 0:
        raise ValidationFailed([(filename, "the file holds no records")])
    assert writer is not None
    chosen = chosen_out[0]
    if batch:
        writer.write(batch)
    used_source = source or chosen.source
    result = ImportResult(
        source=used_source,
        mapping=chosen.key,
        filename=filename,
        rows=rows,
        created=writer.created,
        updated=writer.updated,
        unchanged=writer.unchanged,
        agencies_created=writer.agencies_created,
        investigators_created=writer.people,
        links=writer.links,
    )
    record_change(
        session,
        actor,
        action="portfolio.import",
        object_type="portfolio_source",
        object_key=used_source,
        before=None,
        after={**result.as_dict(), "sha256": digest.hexdigest()},
        summary=(
            f"imported {filename}: {writer.created} new, {writer.updated} updated, "
            f"{writer.unchanged} unchanged projects"
        ),
    )
    return result


def records_of(
    stream: IO[bytes], filename: str, mapping: PortfolioMapping | None = None
) -> list[ProjectRecord]:
    """All records of a file (for screening a file without a database); bad rows raise."""
    records: list[ProjectRecord] = []
    problems: list[dict[str, Any]] = []
    for record, found in read_records(stream, filename, mapping):
        problems.extend(found)
        if record is not None:
            records.append(record)
    if problems:
        raise ValidationFailed(problems[:MAX_LISTED])
    return records


def iter_batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
