"""Portfolio test data: slices of the real NSF, NIH and program-inventory files, and a small
two-agency file with investigator IDs for the researcher checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stcoord.auth.permissions import SYSTEM
from stcoord.db.session import Database
from stcoord.portfolio.imports import ImportResult, import_projects
from stcoord.portfolio.mapping import get_mapping

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
NSF = DATA / "nsf" / "awards.jsonl"
NIH = DATA / "nih" / "nih_sample.csv"
INVENTORY = DATA / "us-program-inventory" / "programs.jsonl"
GROUPS = DATA / "nsf" / "collaborative-groups.json"
OTHERS = 120  # NSF awards outside any collaborative group kept in the slice


def group_pairs(groups: list[list[str]]) -> set[tuple[str, str]]:
    return {(a, b) for g in groups for a in g for b in g if a < b}


@pytest.fixture(scope="session")
def nsf_groups() -> list[list[str]]:
    return [list(g) for g in json.loads(GROUPS.read_text())["groups"]]


@pytest.fixture(scope="session")
def nsf_slice(tmp_path_factory: pytest.TempPathFactory, nsf_groups: list[list[str]]) -> Path:
    """Every award of the collaborative groups plus the first 120 others, in file order."""
    grouped = {a for g in nsf_groups for a in g}
    lines, others = [], 0
    for line in NSF.read_text(encoding="utf-8").rstrip("\n").split("\n"):
        award = json.loads(line)["award_id"]
        if award in grouped:
            lines.append(line)
        elif others < OTHERS:
            lines.append(line)
            others += 1
    path = tmp_path_factory.mktemp("nsf") / "awards-slice.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


TWO_AGENCY_MAPPING = """
format: stcoord-portfolio-mapping/1
key: test-two-agencies
source: grants
jurisdiction: US
currency: USD
fields:
  external_id: id
  title: title
  abstract: abstract
  agency: agency
  institution: institution
  amount: amount
  start_date: start
  end_date: end
investigators:
  list: people
  name: name
  id: orcid
  role: role
  id_scheme: orcid
"""

SOLAR = (
    "We develop perovskite solar cells with tandem silicon layers, study their degradation "
    "under humidity and heat, and build encapsulation methods that keep efficiency above "
    "twenty percent for ten years of outdoor operation in hot and humid climates."
)
OCEAN = (
    "Autonomous floats measure carbon, oxygen and nitrate in the deep Southern Ocean to "
    "estimate how much carbon the ocean takes up each year and how that changes with winds."
)
BIRDS = (
    "Citizen scientists record the songs of city birds so that we can learn how traffic noise "
    "changes the pitch and timing of their songs across twenty cities over five years."
)


def two_agency_records() -> list[dict[str, object]]:
    """Ana (ORCID 0000-0001) holds solar grants at DOE and NSF that run at the same time, and
    a third unrelated grant; Ben holds one grant."""
    ana = {"name": "Ana Lima", "orcid": "0000-0001", "role": "PI"}
    ben = {"name": "Ben Ode", "orcid": "0000-0002", "role": "PI"}
    return [
        {
            "id": "G1",
            "title": "Durable perovskite solar cells",
            "abstract": SOLAR,
            "agency": "DOE",
            "institution": "Sun University",
            "amount": 500000,
            "start": "2020-01-01",
            "end": "2022-12-31",
            "people": [ana],
        },
        {
            "id": "G2",
            "title": "Stable perovskite tandem solar cells",
            "abstract": SOLAR,
            "agency": "NSF",
            "institution": "Sun University",
            "amount": 400000,
            "start": "2021-07-01",
            "end": "2023-06-30",
            "people": [ana],
        },
        {
            "id": "G3",
            "title": "City bird songs",
            "abstract": BIRDS,
            "agency": "NSF",
            "institution": "Sun University",
            "amount": 300000,
            "start": "2023-01-01",
            "end": "2024-12-31",
            "people": [ana],
        },
        {
            "id": "G4",
            "title": "Southern Ocean carbon floats",
            "abstract": OCEAN,
            "agency": "NOAA",
            "institution": "Sea Institute",
            "amount": 2000000,
            "start": "2020-01-01",
            "end": "2020-12-31",
            "people": [ben],
        },
    ]


@pytest.fixture
def two_agency_file(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "grants.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in two_agency_records()) + "\n")
    mapping = tmp_path / "grants-mapping.yaml"
    mapping.write_text(TWO_AGENCY_MAPPING)
    return data, mapping


def import_file(
    db: Database, path: Path, *, mapping: str | Path | None = None, source: str | None = None
) -> ImportResult:
    with db.scope() as session, path.open("rb") as stream:
        return import_projects(
            session,
            SYSTEM,
            stream=stream,
            filename=path.name,
            mapping=get_mapping(str(mapping)) if mapping else None,
            source=source,
        )
