"""Budget lines for tests: three US agencies over three years under the FY2020 NITRD fields."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from stcoord.budget.lines import LineRecord, replace_lines
from stcoord.budget.models import Agency, BudgetField, Classification
from stcoord.db.session import Database
from stcoord.institutions.models import Body, Jurisdiction

SCHEME = "nitrd-pca-fy2020"


def fields(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return dict(
        session.execute(
            select(BudgetField.key, BudgetField.id)
            .join(Classification)
            .where(Classification.key == SCHEME)
        ).all()
    )


def line(
    year: int,
    agency: str,
    key: str,
    enacted: str,
    shares: dict[int, float],
    request: str | None = None,
    steered: str | None = None,
) -> LineRecord:
    return LineRecord(
        fiscal_year=year,
        agency=agency,
        line_key=key,
        title=f"{agency} {key}",
        currency="USD",
        amounts={"enacted": Decimal(enacted), "request": Decimal(request) if request else None},
        program=f"{agency}-prog",
        shares=shares,
        steered_by=steered,
    )


@pytest.fixture
def budget_db(db: Database) -> Database:
    with db.scope() as session:
        f = fields(session)
        records = []
        for year, scale in ((2021, 1), (2022, 2), (2023, 3)):
            records += [
                line(year, "NSF", "N1", str(100 * scale), {f["AI"]: 0.5, f["LSN"]: 0.5}),
                line(year, "NSF", "N2", str(50 * scale), {f["AI"]: 1.0}, steered="AI memo"),
                line(year, "DOE", "D1", str(200 * scale), {f["HCIA"]: 1.0}, request="999"),
                line(year, "NIST", "S1", "10", {}),  # unclassified money
            ]
        replace_lines(
            session,
            jurisdiction="US",
            source="test",
            records=records,
            classification_id=session.scalar(
                select(Classification.id).where(Classification.key == SCHEME)
            ),
        )
        nsf_body = session.scalars(
            select(Body.id).join(Jurisdiction).where(Jurisdiction.code == "US", Body.key == "nsf")
        ).one()
        session.scalars(select(Agency).where(Agency.code == "NSF")).one().body_id = nsf_body
    return db
