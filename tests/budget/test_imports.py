"""Budget import through mapping files, on both databases.

The expected totals of the two real files are computed here with the csv and json modules from
the files themselves, not through the importer, and compared with SQL sums over budget_line.
Amounts are compared in integer cents (budget_line keeps two decimals; SQLite stores NUMERIC as
a float, so each amount is rounded to cents before summing).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stcoord.audit.models import AuditRecord
from stcoord.auth.permissions import SYSTEM, Actor, PermissionDenied, Role
from stcoord.budget.imports import (
    BudgetMapping,
    import_budget,
    mapping_files,
    parse_mapping,
    shipped_mapping,
)
from stcoord.budget.models import (
    PHASES,
    Agency,
    BudgetField,
    BudgetLine,
    BudgetShare,
    Classification,
    Program,
)
from stcoord.db.session import Database
from stcoord.errors import ValidationFailed

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
JP_FILE = DATA / "jp-administrative-review-2024" / "budget_summary.csv"
US_FILE = DATA / "us-program-inventory" / "programs.jsonl"
CENT = Decimal("0.01")


def cents(value: Any) -> int:
    """Text or a JSON number as integer cents, rounded half up."""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    return int(number.quantize(CENT, rounding=ROUND_HALF_UP) * 100)


def sql_totals(session: Session, source: str) -> tuple[int, dict[str, int]]:
    """Line count and per-phase sums in cents of one source, summed by the database."""
    columns = [getattr(BudgetLine, p) for p in PHASES]
    row = session.execute(
        select(
            func.count(BudgetLine.id),
            *[func.sum(c) for c in columns],
        ).where(BudgetLine.source == source)
    ).one()
    return row[0], {p: cents(v or 0) for p, v in zip(PHASES, row[1:], strict=True)}


def run_import(
    db: Database,
    mapping: BudgetMapping,
    data: bytes,
    filename: str,
    source: str,
    classification: str | None = None,
) -> Any:
    with db.scope() as session:
        return import_budget(
            session,
            SYSTEM,
            mapping=mapping,
            data=data,
            filename=filename,
            source=source,
            classification_key=classification,
        )


def table_counts(db: Database) -> dict[str, int]:
    with db.scope(write=False) as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (BudgetLine, BudgetShare, Agency, Program, AuditRecord, Classification)
        }


# ------------------------------------------------------------------ the real files


def expected_japan() -> tuple[int, dict[str, int]]:
    """Summary rows only; enacted = initial + supplementary; actual for executed years;
    next year's request on fiscal_year + 1."""
    totals = dict.fromkeys(PHASES, 0)
    keys: set[tuple[int, str, str]] = set()
    with JP_FILE.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["会計区分"] or not row["当初予算（合計）"]:
                continue
            year = int(row["予算年度"])
            keys.add((year, row["府省庁"], row["予算事業ID"]))
            keys.add((year + 1, row["府省庁"], row["予算事業ID"]))
            totals["enacted"] += cents(row["当初予算（合計）"]) + cents(row["補正予算（合計）"])
            if year < int(row["事業年度"]):
                totals["actual"] += cents(row["執行額（合計）"])
            totals["request"] += cents(row["翌年度要求額（合計）"])
    return len(keys), totals


def expected_us() -> tuple[int, dict[str, int]]:
    """One line per obligation year; actual where the year carries no estimate."""
    totals = dict.fromkeys(PHASES, 0)
    lines = 0
    with US_FILE.open(encoding="utf-8") as handle:
        for text in handle:
            for obligation in json.loads(text).get("obligations") or []:
                lines += 1
                if obligation["sam_estimate"] == 0:
                    totals["actual"] += cents(obligation["sam_actual"])
                totals["estimate"] += cents(obligation["sam_estimate"])
    return lines, totals


def test_japan_totals_equal_the_file(db: Database) -> None:
    lines, totals = expected_japan()
    result = run_import(
        db,
        shipped_mapping("jp-administrative-review-2024"),
        JP_FILE.read_bytes(),
        JP_FILE.name,
        "jp-arr-2024",
    )
    assert result.lines == lines
    assert {p: int(v * 100) for p, v in result.totals.items()} == totals
    with db.scope(write=False) as session:
        assert sql_totals(session, "jp-arr-2024") == (lines, totals)
        # FY2025 lines carry only the request made in the 2024 sheets
        fy2025 = session.execute(
            select(func.count(), func.count(BudgetLine.enacted)).where(
                BudgetLine.fiscal_year == 2025
            )
        ).one()
        assert fy2025[0] > 5000 and fy2025[1] == 0
        agencies = session.scalar(
            select(func.count(func.distinct(BudgetLine.agency_id))).where(
                BudgetLine.source == "jp-arr-2024"
            )
        )
        assert agencies == 37
        assert session.scalar(
            select(func.count()).where(BudgetLine.steered_by == "CSTI")
        )  # SIP, BRIDGE, Moonshot


def test_us_inventory_totals_equal_the_file_and_shares_follow_categories(db: Database) -> None:
    lines, totals = expected_us()
    result = run_import(
        db, shipped_mapping("us-program-inventory"), US_FILE.read_bytes(), US_FILE.name, "us-fpi"
    )
    assert result.lines == lines
    with db.scope(write=False) as session:
        assert sql_totals(session, "us-fpi") == (lines, totals)
        # 10.001 lists Agricultural R&D and Agricultural Technical Assistance: half rd, half other
        shares = dict(
            session.execute(
                select(BudgetField.key, BudgetShare.share)
                .join(BudgetShare, BudgetShare.field_id == BudgetField.id)
                .join(BudgetLine, BudgetLine.id == BudgetShare.line_id)
                .where(BudgetLine.line_key == "10.001", BudgetLine.fiscal_year == 2024)
            ).all()
        )
        assert shares == {"rd": 0.5, "other": 0.5}
        line = session.scalars(
            select(BudgetLine).where(
                BudgetLine.line_key == "10.001", BudgetLine.fiscal_year == 2024
            )
        ).one()
        assert line.actual == Decimal("379881117.00") and line.estimate is None
        assert line.classification_id is not None


def test_importing_twice_gives_the_same_lines_and_one_audit_record_each(db: Database) -> None:
    mapping = shipped_mapping("jp-administrative-review-2024")
    data = JP_FILE.read_bytes()
    first = run_import(db, mapping, data, JP_FILE.name, "jp")
    with db.scope(write=False) as session:
        once = sql_totals(session, "jp")
        agencies = session.scalar(select(func.count()).select_from(Agency))
    second = run_import(db, mapping, data, JP_FILE.name, "jp")
    assert (second.lines, second.totals) == (first.lines, first.totals)
    with db.scope(write=False) as session:
        assert sql_totals(session, "jp") == once
        assert session.scalar(select(func.count()).select_from(Agency)) == agencies
        audits = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "budget.import", AuditRecord.object_key == "jp")
            .order_by(AuditRecord.id)
        ).all()
    assert len(audits) == 2
    assert audits[1].object_type == "budget_source"
    assert audits[1].before == {"lines": first.lines}
    assert audits[1].after["lines"] == first.lines
    assert audits[1].after["totals"]["enacted"] == str(first.totals["enacted"])


# ------------------------------------------------------------------ problems


LONG = parse_mapping(
    """
format: stcoord-budget-mapping/1
key: test-long
name: long layout
jurisdiction: US
currency: USD
fiscal_year: fiscal_year
agency: agency
line_key: line_key
title: title
phase: {column: phase, amount: amount}
shares: {classification: nitrd-pca-fy2020, prefix: "share:"}
"""
)


def csv_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


HEADER = ["fiscal_year", "agency", "line_key", "title", "phase", "amount", "share:AI", "share:CSP"]


def test_a_bad_file_reports_every_bad_row_and_writes_nothing(db: Database) -> None:
    data = csv_bytes(
        [
            HEADER,
            [2025, "NSF", "L1", "Good line", "enacted", "100", "60", "40"],
            [2025, "NSF", "L2", "Unknown phase", "requested", "100", "100", ""],
            [2025, "NSF", "L3", "Negative", "enacted", "-5", "100", ""],
            [2025, "NSF", "L1", "Good line", "enacted", "200", "60", "40"],  # duplicate
            [2025, "NSF", "L4", "Shares short", "enacted", "10", "50", "40"],
            ["20x4", "NSF", "L5", "Bad year", "enacted", "10", "100", ""],
            [2025, "NSF", "L6", "Not a number", "actual", "12abc", "100", ""],
        ]
    )
    before = table_counts(db)
    with pytest.raises(ValidationFailed) as failure:
        run_import(db, LONG, data, "bad.csv", "bad")
    found = [(d["row"], d["column"]) for d in failure.value.details]
    assert found == [
        (3, "phase"),
        (4, "amount"),
        (5, "amount"),  # the duplicate line's enacted conflicts with row 2's
        (6, "share:AI, share:CSP"),
        (7, "fiscal_year"),
        (8, "amount"),
    ]
    messages = " | ".join(d["message"] for d in failure.value.details)
    assert "unknown phase 'requested'" in messages
    assert "negative amount" in messages
    assert "conflicts with 100.00 given for this line at row 2" in messages
    assert "90.00%" in messages
    assert "not a fiscal year: '20x4'" in messages
    assert "not a number: '12abc'" in messages
    assert table_counts(db) == before


def test_a_missing_column_stops_at_the_header_an_unknown_field_code_does_not(
    db: Database,
) -> None:
    data = csv_bytes(
        [
            ["fiscal_year", "agency", "title", "phase", "amount", "share:AI", "share:QUANTUM"],
            [2025, "NSF", "x", "enacted", "1", "100", ""],
        ]
    )
    with pytest.raises(ValidationFailed) as failure:
        run_import(db, LONG, data, "bad.csv", "bad")
    found = [(d["row"], d["column"], d["message"]) for d in failure.value.details]
    assert found == [
        (1, "line_key", "column missing (needed for line_key)"),
        (1, "share:QUANTUM", "unknown field code 'QUANTUM'"),
    ]
    data = csv_bytes([[*HEADER, "share:QUANTUM"], [2025, "NSF", "L1", "x", "enacted", "-1", "100"]])
    with pytest.raises(ValidationFailed) as failure:
        run_import(db, LONG, data, "bad.csv", "bad")
    assert [(d["row"], d["column"]) for d in failure.value.details] == [
        (1, "share:QUANTUM"),
        (2, "amount"),
    ]


def test_problems_are_capped_with_a_count_of_the_rest(db: Database) -> None:
    rows: list[list[Any]] = [HEADER]
    rows += [[2025, "NSF", f"L{i}", "t", "enacted", "-1", "", ""] for i in range(1500)]
    with pytest.raises(ValidationFailed) as failure:
        run_import(db, LONG, csv_bytes(rows), "many.csv", "many")
    details = failure.value.details
    assert len(details) == 1001
    assert details[999]["row"] == 1001
    assert details[-1]["message"] == "... and 500 more problems"


def test_dry_run_returns_problems_and_lines_of_other_sources_are_not_overwritten(
    db: Database,
) -> None:
    good = csv_bytes([HEADER, [2025, "NSF", "L1", "Line", "enacted", "100", "60", "40"]])
    run_import(db, LONG, good, "a.csv", "first")
    with db.scope() as session:
        result = import_budget(
            session,
            SYSTEM,
            mapping=LONG,
            data=good,
            filename="b.csv",
            source="second",
            dry_run=True,
        )
    assert not result.written and result.problem_count == 1
    assert result.problems[0]["row"] == 2
    assert "already exists from source 'first'" in result.problems[0]["message"]


def test_only_coordinators_and_admins_import(db: Database) -> None:
    viewer = Actor(username="v", role=Role.viewer)
    with db.scope() as session, pytest.raises(PermissionDenied):
        import_budget(
            session,
            viewer,
            mapping=LONG,
            data=b"",
            filename="x.csv",
            source="x",
        )


# ------------------------------------------------------------------ the merge rule


WIDE = """
format: stcoord-budget-mapping/1
key: test-wide
name: wide layout with next year's request
jurisdiction: JP
currency: JPY
fiscal_year: year
agency: ministry
line_key: id
title: name
phases:
  enacted: {sum: [initial, supplementary]}
  request: {column: next_request, year_offset: 1}
merge: MERGE
"""
WIDE_HEADER = ["year", "ministry", "id", "name", "initial", "supplementary", "next_request"]


def lines_of(db: Database, source: str) -> dict[tuple[int, str], tuple[Any, ...]]:
    with db.scope(write=False) as session:
        return {
            (y, k): (t, e, r)
            for y, k, t, e, r in session.execute(
                select(
                    BudgetLine.fiscal_year,
                    BudgetLine.line_key,
                    BudgetLine.title,
                    BudgetLine.enacted,
                    BudgetLine.request,
                ).where(BudgetLine.source == source)
            )
        }


def test_next_years_request_merges_onto_the_next_years_line(db: Database) -> None:
    mapping = parse_mapping(WIDE.replace("MERGE", "strict"))
    data = csv_bytes(
        [
            WIDE_HEADER,
            [2023, "MEXT", "P1", "Old name", "100", "5", "120"],
            [2024, "MEXT", "P1", "New name", "110", "", "130"],
        ]
    )
    result = run_import(db, mapping, data, "w.csv", "wide")
    assert (result.records, result.merged, result.lines) == (4, 1, 3)
    assert lines_of(db, "wide") == {
        (2023, "P1"): ("Old name", Decimal("105.00"), None),
        (2024, "P1"): ("New name", Decimal("110.00"), Decimal("120.00")),
        (2025, "P1"): ("New name", None, Decimal("130.00")),
    }


def test_conflicting_phases_are_a_problem_unless_the_mapping_sums(db: Database) -> None:
    rows = [
        WIDE_HEADER,
        [2024, "MEXT", "P1", "Name", "100", "", ""],
        [2024, "MEXT", "P1", "Name", "50", "", ""],
        [2024, "MEXT", "P2", "Same twice", "7", "", ""],
        [2024, "MEXT", "P2", "Same twice", "7", "", ""],
    ]
    with pytest.raises(ValidationFailed) as failure:
        run_import(
            db, parse_mapping(WIDE.replace("MERGE", "strict")), csv_bytes(rows), "c.csv", "c"
        )
    assert [(d["row"], d["column"]) for d in failure.value.details] == [
        (3, "initial+supplementary")
    ]
    run_import(db, parse_mapping(WIDE.replace("MERGE", "sum")), csv_bytes(rows), "c.csv", "c")
    got = lines_of(db, "c")
    assert got[(2024, "P1")][1] == Decimal("150.00")
    assert got[(2024, "P2")][1] == Decimal("14.00")


# ------------------------------------------------------------------ formats


def test_xlsx_input_through_the_generic_mapping(db: Database) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            "fiscal_year",
            "agency",
            "program",
            "line_key",
            "title",
            "enacted",
            "actual",
            "share:AI",
            "share:LSN",
            "steered_by",
        ]
    )
    sheet.append([2024, "NSF", "CISE", "N-1", "AI institutes", 1250000.5, 1000000, 60, 40, ""])
    sheet.append([2024.0, "NSF", "CISE", 2, "Networking", "2,000", None, None, 100, "AI memo"])
    sheet.append([None] * 10)  # an empty row is skipped
    sheet.append([2025, "DOE", None, "D-1", "Exascale", 300, None, None, None, None])
    out = io.BytesIO()
    book.save(out)
    mapping = shipped_mapping("generic")
    result = run_import(db, mapping, out.getvalue(), "lines.xlsx", "xlsx", "nitrd-pca-fy2020")
    assert result.lines == 3 and result.totals["enacted"] == Decimal("1252300.50")
    with db.scope(write=False) as session:
        rows = session.execute(
            select(BudgetLine.line_key, BudgetLine.steered_by, Program.code)
            .outerjoin(Program, Program.id == BudgetLine.program_id)
            .where(BudgetLine.source == "xlsx")
            .order_by(BudgetLine.line_key)
        ).all()
        assert [tuple(r) for r in rows] == [
            ("2", "AI memo", "CISE"),
            ("D-1", None, None),
            ("N-1", None, "CISE"),
        ]
        share_total = session.scalar(select(func.sum(BudgetShare.enacted)))
        assert share_total == Decimal("1250000.50") + Decimal("2000.00")


def test_jsonl_explode_reads_parent_and_element(db: Database) -> None:
    mapping = parse_mapping(
        """
format: stcoord-budget-mapping/1
key: test-jsonl
name: exploded
jurisdiction: US
currency: USD
explode: years
filter: {element: kind, not_equals: skip}
fiscal_year: {element: fy}
agency: {path: org.name}
line_key: {path: org.code}
phases:
  actual: {element: spent, scale: 1000}
"""
    )
    lines = [
        {
            "org": {"name": "NSF", "code": "A"},
            "years": [{"fy": "2023", "spent": 1.5}, {"fy": 2024, "spent": 2, "kind": "skip"}],
        },
        {"org": {"name": "NSF", "code": "B"}, "years": []},
        {"org": {"name": "NSF", "code": "C"}},
    ]
    data = ("\n".join(json.dumps(x) for x in lines) + "\n\nnot json\n").encode()
    with db.scope() as session:
        result = import_budget(
            session,
            SYSTEM,
            mapping=mapping,
            data=data,
            filename="x.jsonl",
            source="j",
            dry_run=True,
        )
    assert (result.rows, result.skipped, result.lines) == (4, 1, 1)
    assert result.totals["actual"] == Decimal("1500.00")
    assert [(p["row"], p["message"][:14]) for p in result.problems] == [(5, "not valid JSON")]


def test_shipped_mappings_parse_and_mapping_errors_name_their_line() -> None:
    keys = {p.stem for p in mapping_files()}
    assert {"jp-administrative-review-2024", "us-program-inventory", "generic"} <= keys
    for key in keys:
        assert shipped_mapping(key).key == key
    with pytest.raises(ValidationFailed) as failure:
        parse_mapping(
            "format: stcoord-budget-mapping/1\nkey: k\nname: n\njurisdiction: US\n"
            "currency: USD\nfiscal_year: y\nagency: a\nline_key: k\n"
            "phases:\n  enacted: {column: x, sum: [a, b]}\n",
            "m.yaml",
        )
    assert failure.value.details[0]["path"].startswith("m.yaml:10: phases.enacted")


def test_a_dry_run_leaves_no_trace_and_a_real_run_loads_the_shipped_classification(
    db: Database,
) -> None:
    record = {
        "agency": "NSF",
        "sub-agency": "NSF",
        "cfda": "47.070",
        "title": "CISE",
        "categories": ["Science and Technology - Research - General", "Education - X"],
        "obligations": [{"x": "2024", "sam_estimate": 0.0, "sam_actual": 1000.0}],
    }
    data = (json.dumps(record) + "\n").encode()
    mapping = shipped_mapping("us-program-inventory")
    before = table_counts(db)
    with db.scope() as session:
        result = import_budget(
            session,
            SYSTEM,
            mapping=mapping,
            data=data,
            filename="p.jsonl",
            source="p",
            dry_run=True,
        )
    assert result.lines == 1 and not result.written
    assert table_counts(db) == before
    run_import(db, mapping, data, "p.jsonl", "p")
    with db.scope(write=False) as session:
        shares = dict(
            session.execute(
                select(BudgetField.key, BudgetShare.actual).join(
                    BudgetShare, BudgetShare.field_id == BudgetField.id
                )
            ).all()
        )
    assert shares == {"rd": Decimal("500.00"), "other": Decimal("500.00")}
