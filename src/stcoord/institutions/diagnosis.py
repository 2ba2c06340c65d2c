"""Diagnosis as a service: turn a stored (or unsaved) mechanism into plain facts and diagnose it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from stcoord.analytics.diagnosis import (
    BodyFact,
    Diagnosis,
    MandateFact,
    MechanismFacts,
    ProcedureFact,
    RelationFact,
    SeatFact,
    StageFact,
    diagnose,
)
from stcoord.auth.permissions import Actor
from stcoord.institutions.mechanism_file import MechanismFile
from stcoord.institutions.service import export_mechanism


def _scope(value: Any) -> str | tuple[str, ...]:
    return "all" if value == "all" else tuple(value)


def facts_from_spec(spec: MechanismFile) -> MechanismFacts:
    """The plain data the pure diagnosis reads, from a mechanism file spec."""
    return MechanismFacts(
        code=spec.jurisdiction.code,
        name=spec.jurisdiction.name,
        fields=tuple(f.key for f in spec.fields),
        bodies=tuple(
            BodyFact(
                key=b.key,
                name=b.short_name or b.name,
                level=str(b.level),
                kind=str(b.kind),
                parent=b.parent,
                abolished=b.abolished,
                seats=tuple(
                    SeatFact(str(s.role), str(s.holder_type), s.title, s.count, s.holder_body)
                    for s in b.seats
                ),
                mandates=tuple(
                    MandateFact(
                        str(m.affair),
                        str(m.power),
                        _scope(m.scope),
                        m.description or "",
                        m.instrument,
                        m.binding,
                    )
                    for m in b.mandates
                ),
                composition=tuple(c.rule for c in b.composition),
                decision_rule=str(b.decision.rule) if b.decision else None,
                quorum=b.decision.quorum if b.decision else None,
            )
            for b in spec.bodies
        ),
        relations=tuple(RelationFact(r.from_body, r.to_body, str(r.type)) for r in spec.relations),
        procedures=tuple(
            ProcedureFact(
                key=p.key,
                name=p.name,
                fields=_scope(p.fields),
                stages=tuple(
                    StageFact(
                        s.key,
                        s.name,
                        s.actor,
                        tuple(s.participants),
                        tuple(str(c) for c in s.channels),
                    )
                    for s in p.stages
                ),
            )
            for p in spec.procedures
        ),
    )


def diagnose_spec(spec: MechanismFile, field_key: str) -> Diagnosis:
    return diagnose(facts_from_spec(spec), field_key)


def diagnose_jurisdiction(session: Session, actor: Actor, code: str, field_key: str) -> Diagnosis:
    return diagnose_spec(export_mechanism(session, actor, code), field_key)


def diagnosis_as_dict(diagnosis: Diagnosis) -> dict[str, Any]:
    return asdict(diagnosis)


@dataclass(frozen=True)
class Comparison:
    """Several jurisdictions' diagnoses for one field, as one table."""

    field: str
    codes: tuple[str, ...]
    diagnoses: tuple[Diagnosis, ...]

    def rows(self) -> list[dict[str, Any]]:
        """One row per finding: its title and each jurisdiction's verdict."""
        rows = []
        for i, finding in enumerate(self.diagnoses[0].findings if self.diagnoses else ()):
            row: dict[str, Any] = {"finding": finding.finding, "title": finding.title}
            for code, diag in zip(self.codes, self.diagnoses, strict=True):
                row[code] = diag.findings[i].verdict
            rows.append(row)
        return rows


def compare_jurisdictions(
    session: Session, actor: Actor, codes: list[str], field_key: str
) -> Comparison:
    diagnoses = tuple(diagnose_jurisdiction(session, actor, c, field_key) for c in codes)
    return Comparison(field_key, tuple(d.code for d in diagnoses), diagnoses)
