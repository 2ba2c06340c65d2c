"""Data calls on both databases: templates, checked uploads, submission status, scoping."""

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from stcoord.auth.permissions import SYSTEM, Role
from stcoord.budget import datacalls
from stcoord.budget.models import BudgetLine
from stcoord.db.session import Database
from stcoord.errors import ValidationFailed
from stcoord.tabular import read_table
from tests.helpers import token_for

HEADER = "line_key,title,program,request,estimate,enacted,actual,steered_by,share:AI,share:LSN\n"


def open_call(db: Database) -> None:
    with db.scope() as session:
        datacalls.open_data_call(
            session,
            SYSTEM,
            key="fy2024",
            jurisdiction="US",
            fiscal_year=2024,
            classification="nitrd-pca-fy2020",
            title="FY2024 NITRD data call",
            currency="USD",
            agencies=["NSF", "DOE"],
        )


def upload(db: Database, text: str, agency: str = "NSF", stated: str | None = None):  # type: ignore[no-untyped-def]
    headers, rows = read_table(text.encode(), "sheet.csv")
    with db.scope() as session:
        return datacalls.upload(
            session,
            SYSTEM,
            key="fy2024",
            agency_code=agency,
            headers=headers,
            rows=rows,
            stated_total=Decimal(stated) if stated else None,
        )


def lines(db: Database) -> int:
    with db.scope(write=False) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(BudgetLine)
                .where(BudgetLine.data_call_id.is_not(None))
            )
            or 0
        )


def test_template_lists_last_years_lines_and_every_field(budget_db: Database) -> None:
    open_call(budget_db)
    with budget_db.scope(write=False) as session:
        headers, rows = datacalls.template(session, SYSTEM, "fy2024", "NSF")
    assert headers[:8] == [
        "line_key",
        "title",
        "program",
        "request",
        "estimate",
        "enacted",
        "actual",
        "steered_by",
    ]
    assert "share:AI" in headers and len(headers) == 8 + 11
    # last year's (FY2023) lines come prefilled, amounts and shares left to fill
    assert [r[:4] for r in rows] == [
        ["N1", "NSF N1", "NSF-prog", ""],
        ["N2", "NSF N2", "NSF-prog", ""],
    ]


def test_a_clean_upload_replaces_the_agencys_lines(budget_db: Database) -> None:
    open_call(budget_db)
    good = HEADER + "N1,Core AI,AI-core,120,,,,,60,40\nN2,Networks,,80,,,,,,100%\n"
    result = upload(budget_db, good, stated="200")
    assert (result.lines, result.total_request) == (2, Decimal("200"))
    assert upload(budget_db, good).lines == 2  # re-upload replaces, never duplicates
    assert lines(budget_db) == 2
    with budget_db.scope(write=False) as session:
        status = {s.agency: s for s in datacalls.submission_status(session, SYSTEM, "fy2024")}
    assert (status["NSF"].status, status["NSF"].line_count) == ("submitted", 2)
    assert status["DOE"].status == "pending"


def test_every_problem_is_reported_and_nothing_written(budget_db: Database) -> None:
    open_call(budget_db)
    bad = HEADER.replace("share:LSN", "share:XYZ") + "N1,A,,-5,,,,,50,\n"
    with pytest.raises(ValidationFailed) as info:
        upload(budget_db, bad)
    assert info.value.details[0]["message"] == "unknown field code 'XYZ'"
    bad = HEADER + "N1,A,,-5,,,,,50,20\nN1,B,,10,,,,,100,\n,C,,ten,,,,,x,\nN4,D,,,,,,,,\n"
    with pytest.raises(ValidationFailed) as info:
        upload(budget_db, bad, stated="999")
    found = [(d["row"], d["column"], d["message"]) for d in info.value.details]
    assert (2, "request", "negative amount -5") in found
    assert (2, "shares", "field shares sum to 70.00%, not 100%") in found
    assert (3, "line_key", "duplicate of row 2") in found
    assert (4, "request", "not an amount: 'ten'") in found
    assert (4, "share:AI", "not a percentage: 'x'") in found
    assert (4, "line_key", "is required") in found
    assert (5, "amounts", "no amount in any phase") in found
    assert lines(budget_db) == 0
    with pytest.raises(ValidationFailed) as info:
        upload(budget_db, HEADER + "N1,A,,100,,,,,100,\n", stated="99")
    assert "lines total 100 but the agency states 99" in info.value.details[0]["message"]


def test_liaison_uploads_for_own_agency_only_over_http(
    client: TestClient, budget_db: Database
) -> None:
    open_call(budget_db)
    li = {"authorization": f"Bearer {token_for(budget_db, 'li', Role.liaison, [('US', 'nsf')])}"}
    sheet = (HEADER + "N1,Core AI,,120,,,,,100,\n").encode()
    mine = client.post(
        "/api/v1/budget/datacalls/fy2024/submissions/NSF",
        headers=li,
        files={"file": ("nsf.csv", sheet, "text/csv")},
    )
    assert mine.status_code == 200 and mine.json()["lines"] == 1
    theirs = client.post(
        "/api/v1/budget/datacalls/fy2024/submissions/DOE",
        headers=li,
        files={"file": ("doe.csv", sheet, "text/csv")},
    )
    assert theirs.status_code == 403
    status = client.get("/api/v1/budget/datacalls/fy2024", headers=li).json()
    assert [s["agency"] for s in status["submissions"]] == ["NSF"]
    template = client.get("/api/v1/budget/datacalls/fy2024/template/NSF.xlsx", headers=li)
    assert template.status_code == 200 and template.content[:2] == b"PK"
    assert client.get("/api/v1/budget/datacalls/fy2024").status_code == 401
