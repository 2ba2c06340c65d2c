"""Unity of administrative and financial power, measured in money (finding 2 in numbers).

Per field, how much of the money passed through the coordinating body's allocation or review
(lines with ``steered_by``: funds held by the Cabinet Office such as SIP, lines shaped by a
priorities memo) against money the ministries set alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stcoord.auth.permissions import Actor, require, restrict
from stcoord.budget.crosscut import UNCLASSIFIED
from stcoord.budget.models import PHASES, BudgetField, BudgetLine, BudgetShare, Classification
from stcoord.errors import ValidationFailed


@dataclass(frozen=True)
class UnityRow:
    field: str
    field_name: str
    strategic_field: str | None
    steered: Decimal
    total: Decimal

    @property
    def steered_share(self) -> float | None:
        return float(self.steered / self.total) if self.total else None


def unity_check(
    session: Session,
    actor: Actor,
    *,
    jurisdiction: str,
    classification: str,
    fiscal_year: int,
    phase: str = "enacted",
) -> list[UnityRow]:
    require(actor, "budget.read")
    if phase not in PHASES:
        raise ValidationFailed([("phase", f"unknown phase {phase!r}")])
    amount = getattr(BudgetShare, phase)
    stmt = (
        select(
            BudgetField.key,
            BudgetField.name,
            BudgetField.strategic_field,
            func.sum(amount).filter(BudgetShare.steered.is_(True)),
            func.sum(amount),
        )
        .join(BudgetField, BudgetField.id == BudgetShare.field_id)
        .join(Classification, Classification.id == BudgetField.classification_id)
        .where(
            Classification.key == classification,
            BudgetShare.fiscal_year == fiscal_year,
            BudgetShare.jurisdiction_code == jurisdiction,
        )
        .group_by(BudgetField.key, BudgetField.name, BudgetField.strategic_field, BudgetField.seq)
        .order_by(BudgetField.seq)
    )
    stmt = restrict(stmt, actor, "budget.read", BudgetShare)
    rows = [
        UnityRow(k, n, s, steered or Decimal(0), total or Decimal(0))
        for k, n, s, steered, total in session.execute(stmt).all()
    ]
    line_amount = getattr(BudgetLine, phase)
    rest = select(
        func.sum(line_amount).filter(BudgetLine.steered_by.is_not(None)), func.sum(line_amount)
    ).where(
        BudgetLine.jurisdiction_code == jurisdiction,
        BudgetLine.fiscal_year == fiscal_year,
        BudgetLine.has_shares.is_(False),
    )
    steered, total = session.execute(restrict(rest, actor, "budget.read", BudgetLine)).one()
    if total:
        rows.append(UnityRow(UNCLASSIFIED, UNCLASSIFIED, None, steered or Decimal(0), total))
    return rows
