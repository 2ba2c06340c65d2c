"""Route rules and fixture objects for the portfolio screening routes (merged into ``RULES``).

``setup`` imports four grants at three agencies and runs one screen (run 1) that finds one pair
(pair 1). Requests that would start a background screen are sent with parameters the service
refuses after the permission check (422), so no job thread outlives the test.
"""

from __future__ import annotations

import io
import json

from stcoord.db.session import Database
from tests.meta.route_rule import Rule

FORM = {"content-type": "application/x-www-form-urlencoded"}
RUN = {"run_id": "1"}
PAIR = {"pair_id": "1"}
PROJECT = {"project_id": "1"}
TEXT = (
    "Perovskite solar cells with tandem silicon layers: degradation under humidity and heat, "
    "and encapsulation that keeps efficiency above twenty percent for ten years outdoors."
)
GRANTS = [
    {
        "award_id": "R1",
        "title": "Durable perovskite cells",
        "abstract": TEXT,
        "effective_date": "01/01/2020",
        "expiration_date": "12/31/2022",
        "amount": "500000",
        "institution": "Sun University",
        "program_elements": [{"code": "1", "text": "Solar"}],
        "investigators": [{"first": "Ana", "last": "Lima", "role": "PI"}],
    },
    {
        "award_id": "R2",
        "title": "Stable perovskite cells",
        "abstract": TEXT,
        "effective_date": "07/01/2021",
        "expiration_date": "06/30/2023",
        "amount": "400000",
        "institution": "Sun University",
        "program_elements": [{"code": "1", "text": "Solar"}],
        "investigators": [{"first": "Ana", "last": "Lima", "role": "PI"}],
    },
]
UPLOAD = ("grants.jsonl", ("\n".join(json.dumps(g) for g in GRANTS) + "\n").encode(), "text/plain")

RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/portfolio/mappings"): Rule("portfolio.read"),
    ("POST", "/api/v1/portfolio/imports"): Rule("portfolio.import", files={"file": UPLOAD}),
    ("GET", "/api/v1/portfolio/projects"): Rule("portfolio.read", query="q=perovskite"),
    ("GET", "/api/v1/portfolio/projects/{project_id}"): Rule("portfolio.read", path=PROJECT),
    ("GET", "/api/v1/portfolio/runs"): Rule("portfolio.read"),
    ("POST", "/api/v1/portfolio/runs"): Rule("portfolio.screen", json={"threshold": 5}),
    ("POST", "/api/v1/portfolio/runs/batch"): Rule(
        "portfolio.screen", json={"batch_source": "no-such-source"}
    ),
    ("GET", "/api/v1/portfolio/runs/{run_id}"): Rule("portfolio.read", path=RUN),
    ("POST", "/api/v1/portfolio/runs/{run_id}/resume"): Rule(
        "portfolio.screen", path=RUN, expected=frozenset({409})
    ),
    ("GET", "/api/v1/portfolio/runs/{run_id}/canonical"): Rule("portfolio.read", path=RUN),
    ("GET", "/api/v1/portfolio/pairs"): Rule("portfolio.read", query="run=1&cross_agency=true"),
    ("GET", "/api/v1/portfolio/pairs/{pair_id}"): Rule("portfolio.read", path=PAIR),
    # an advisor may adjudicate only pairs assigned to them: 403 on this unassigned pair
    ("POST", "/api/v1/portfolio/pairs/{pair_id}/verdict"): Rule(
        "portfolio.adjudicate", path=PAIR, json={"label": "overlap"}, expected=frozenset({403})
    ),
    ("POST", "/api/v1/portfolio/pairs/assign"): Rule(
        "portfolio.manage", json={"pair_ids": [1], "reviewer": None}
    ),
    ("GET", "/api/v1/portfolio/precision"): Rule("portfolio.read"),
    ("GET", "/api/v1/portfolio/checks/funded-twice"): Rule("portfolio.read", query="run=1"),
    ("GET", "/api/v1/portfolio/checks/concurrent"): Rule(
        "portfolio.read", query="threshold=600000"
    ),
    ("GET", "/api/v1/portfolio/settings/concurrent-threshold"): Rule("portfolio.read"),
    ("PUT", "/api/v1/portfolio/settings/concurrent-threshold"): Rule(
        "portfolio.manage", json={"amount": "1000000", "currency": "USD"}
    ),
    ("GET", "/api/v1/portfolio/landscape"): Rule("portfolio.read", query="n_topics=2"),
    ("GET", "/portfolio"): Rule("portfolio.read"),
    ("POST", "/portfolio/import"): Rule("portfolio.import", files={"file": UPLOAD}, csrf=True),
    ("GET", "/portfolio/projects/{project_id}"): Rule("portfolio.read", path=PROJECT),
    ("GET", "/portfolio/runs"): Rule("portfolio.read"),
    ("POST", "/portfolio/runs"): Rule(
        "portfolio.screen", content="threshold=5", csrf=True, headers=FORM
    ),
    ("GET", "/portfolio/runs/{run_id}"): Rule("portfolio.read", path=RUN),
    ("GET", "/portfolio/runs/{run_id}/progress"): Rule("portfolio.read", path=RUN),
    ("POST", "/portfolio/runs/{run_id}/resume"): Rule(
        "portfolio.screen", path=RUN, csrf=True, headers=FORM, content=""
    ),
    ("GET", "/portfolio/pairs"): Rule("portfolio.read", query="run=1&verdict=none"),
    ("GET", "/portfolio/pairs.csv"): Rule("portfolio.read", query="run=1"),
    ("GET", "/portfolio/pairs.xlsx"): Rule("portfolio.read", query="run=1"),
    ("GET", "/portfolio/pairs/{pair_id}"): Rule("portfolio.read", path=PAIR),
    ("POST", "/portfolio/pairs/{pair_id}/verdict"): Rule(
        "portfolio.adjudicate",
        path=PAIR,
        content="label=overlap&comment=same+work",
        csrf=True,
        headers=FORM,
        expected=frozenset({403}),
    ),
    ("POST", "/portfolio/pairs/assign"): Rule(
        "portfolio.manage", content="pair=1", csrf=True, headers=FORM
    ),
    ("GET", "/portfolio/precision"): Rule("portfolio.read"),
    ("GET", "/portfolio/checks"): Rule("portfolio.read", query="run=1&threshold=600000"),
    ("POST", "/portfolio/checks/threshold"): Rule(
        "portfolio.manage", content="amount=1000000&currency=USD", csrf=True, headers=FORM
    ),
    ("GET", "/portfolio/landscape"): Rule("portfolio.read", query="n_topics=2"),
}


def setup(db: Database) -> None:
    """Create the objects the sample requests above refer to (runs after the plan fixture)."""
    from stcoord.auth.permissions import SYSTEM
    from stcoord.portfolio.imports import import_projects
    from stcoord.portfolio.screening import create_run, execute_run

    with db.scope() as session:
        import_projects(session, SYSTEM, stream=io.BytesIO(UPLOAD[1]), filename=UPLOAD[0])
        run = create_run(session, SYSTEM, threshold=0.5)
        assert run.id == 1
    execute_run(db, SYSTEM, 1)
