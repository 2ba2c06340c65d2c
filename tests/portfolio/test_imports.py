"""Importing the real NSF, NIH and program-inventory files, bad rows, idempotent re-import."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from stcoord.audit.models import AuditRecord
from stcoord.budget.models import Agency
from stcoord.db.session import Database
from stcoord.errors import ValidationFailed
from stcoord.portfolio.models import Investigator, Project, ProjectInvestigator
from tests.portfolio.conftest import DATA, INVENTORY, NIH, import_file


def _count(db: Database, model: type) -> int:
    with db.scope(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_nih_file_imports_as_it_is_with_investigator_ids(db: Database) -> None:
    result = import_file(db, NIH)
    assert (result.mapping, result.rows, result.created) == ("nih-exporter", 100, 100)
    with db.scope(write=False) as session:
        project = session.scalars(select(Project).where(Project.external_id == "8693362")).one()
        assert project.title == "Statistical Methods for Prospective Evaluation of Biomarkers"
        assert project.amount == Decimal("326324.00")
        assert str(project.start_date) == "2009-09-04"
        assert str(project.end_date) == "2018-04-30"
        # a row with an empty PROJECT_START falls back to the budget period
        first = session.scalars(select(Project).where(Project.external_id == "8693991")).one()
        assert first.amount is None and str(first.start_date) == "2014-07-01"
        # four PIs, one of them the contact, identified by their NIH PI IDs
        multi = session.execute(
            select(Investigator.identity_key, ProjectInvestigator.role)
            .join(ProjectInvestigator)
            .join(Project)
            .where(Project.external_id.in_(select(Project.external_id)))
            .where(Investigator.identity_key == "id:nih-pi:10108300")
        ).all()
        assert multi == [("id:nih-pi:10108300", "Contact PI")]
        person = session.scalars(
            select(Investigator).where(Investigator.identity_key == "id:nih-pi:10108300")
        ).one()
        assert person.name == "TALIMA ROSS PEARSON"
        agency = session.scalars(
            select(Agency).where(Agency.code == "National Institutes of Health")
        ).one()
        assert agency.body_id is not None  # linked to the US mechanism's NIH body


def test_program_inventory_imports_programs_with_their_objectives(db: Database) -> None:
    result = import_file(db, INVENTORY)
    assert (result.mapping, result.created) == ("us-program-inventory", 2682)
    with db.scope(write=False) as session:
        program = session.scalars(select(Project).where(Project.external_id == "10.001")).one()
        assert program.kind == "program"
        assert program.abstract.startswith("There are over 600 research and development projects")
        assert program.amount == Decimal("379881117.00")  # SAM actual obligations, FY2024
        tax = session.scalars(select(Project).where(Project.external_id == "TC.001")).one()
        assert tax.amount is None
        agencies = session.scalar(
            select(func.count(func.distinct(Project.agency_id))).where(
                Project.source == "us-program-inventory"
            )
        )
        assert agencies == 56


def test_nsf_slice_resolves_investigators_by_name_and_institution(
    db: Database, nsf_slice: Path
) -> None:
    result = import_file(db, nsf_slice)
    rows = nsf_slice.read_text().rstrip("\n").split("\n")
    assert result.created == len(rows) and result.mapping == "nsf-awards"
    awards = [json.loads(line) for line in rows]
    people = {
        (p["first"].split(" ")[0].lower(), p["last"].lower(), a["institution"])
        for a in awards
        for p in a["investigators"]
    }
    assert _count(db, Investigator) == len(people)
    with db.scope(write=False) as session:
        project = session.scalars(select(Project).where(Project.external_id == "1800011")).one()
        assert (project.start_date.isoformat(), project.end_date.isoformat()) == (
            "2018-07-01",
            "2021-06-30",
        )
        assert project.field_codes == ["6878"] and project.amount == Decimal("479676.00")
        key = session.scalars(
            select(Investigator.identity_key)
            .join(ProjectInvestigator)
            .where(ProjectInvestigator.project_id == project.id)
        ).one()
        assert key == "name:watson donald|university delaware"


def test_reimport_is_idempotent_and_updates_changed_rows(
    db: Database, nsf_slice: Path, tmp_path: Path
) -> None:
    first = import_file(db, nsf_slice)
    again = import_file(db, nsf_slice)
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
    lines = nsf_slice.read_text().rstrip("\n").split("\n")
    record = json.loads(lines[0])
    record["title"] = "A changed title"
    changed = tmp_path / "changed.jsonl"
    changed.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    third = import_file(db, changed)
    assert (third.created, third.updated, third.unchanged) == (0, 1, first.created - 1)
    with db.scope(write=False) as session:
        project = session.scalars(
            select(Project).where(Project.external_id == record["award_id"])
        ).one()
        assert (project.title, project.version) == ("A changed title", 2)
        assert _count(db, Project) == first.created
        audits = session.scalar(
            select(func.count()).where(AuditRecord.action == "portfolio.import")
        )
        assert audits == 3


def test_bad_rows_are_reported_with_location_and_nothing_is_written(
    db: Database, nsf_slice: Path, tmp_path: Path
) -> None:
    lines = nsf_slice.read_text().rstrip("\n").split("\n")[:5]
    bad = [json.loads(line) for line in lines]
    bad[1]["title"] = ""
    bad[2]["effective_date"] = "2018-13-45"
    bad[3]["amount"] = "lots"
    bad[4]["award_id"] = bad[0]["award_id"]
    text = "\n".join(json.dumps(r) for r in bad) + "\n{not json\n"
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    with pytest.raises(ValidationFailed) as caught:
        import_file(db, path)
    found = {(d["row"], d["column"]) for d in caught.value.details}
    assert found == {
        (2, "title"),
        (3, "effective_date"),
        (4, "amount"),
        (5, "external_id"),
        (6, ""),
    }
    assert "not a date (%m/%d/%Y)" in caught.value.message
    assert _count(db, Project) == 0 and _count(db, Investigator) == 0


def test_xlsx_and_csv_files_import_through_a_mapping(db: Database, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            "APPLICATION_ID",
            "PROJECT_TITLE",
            "ABSTRACT_TEXT",
            "PI_IDS",
            "PI_NAMEs",
            "TOTAL_COST",
            "PROJECT_START",
            "PROJECT_END",
            "ORG_NAME",
        ]
    )
    sheet.append(
        [1, "Title one", "Text one", "11;", "DOE, JANE;", 100, "01/01/2020", "12/31/2020", "Uni"]
    )
    sheet.append(
        [2, "Title two", "Text two", "11;", "DOE, JANE;", 50, "06/01/2020", "05/31/2021", "Uni"]
    )
    path = tmp_path / "nih.xlsx"
    book.save(path)
    result = import_file(db, path, mapping="nih-exporter", source="nih-xlsx")
    assert (result.created, result.investigators_created, result.links) == (2, 1, 2)
    bad = tmp_path / "bad.csv"
    bad.write_text("APPLICATION_ID,PROJECT_TITLE,PI_IDS,PI_NAMEs\n3,,1;2;,ONE;\n")
    with pytest.raises(ValidationFailed) as caught:
        import_file(db, bad, mapping="nih-exporter")
    assert {(d["row"], d["column"]) for d in caught.value.details} == {
        (2, "PROJECT_TITLE"),
        (2, "investigators"),
    }


def test_japanese_review_sheets_import_once_per_project(db: Database, tmp_path: Path) -> None:
    source = DATA / "jp-administrative-review-2024" / "related_projects.csv"
    lines = source.read_text(encoding="utf-8").split("\n")[:400]
    path = tmp_path / "related_projects.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ids = {line.split(",")[2] for line in lines[1:] if line}
    result = import_file(db, path)
    assert result.mapping == "jp-administrative-review" and result.created == len(ids)
    with db.scope(write=False) as session:
        project = session.scalars(select(Project).where(Project.external_id == "1")).one()
        assert (project.title, project.language, project.currency) == (
            "内閣人事局経費",
            "ja",
            "JPY",
        )
        cao = session.scalars(select(Agency).where(Agency.code == "内閣府")).one()
        assert cao.jurisdiction_code == "JP" and cao.body_id is not None  # the Cabinet Office body
