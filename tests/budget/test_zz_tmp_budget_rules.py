"""TEMPORARY (delete before handing back): the budget pages' rules for the route matrix."""

from tests.meta import test_route_permissions as meta
from tests.meta.test_route_permissions import Rule

FORM = {"content-type": "application/x-www-form-urlencoded"}
BUDGET_PAGE_RULES = {
    ("GET", "/budget"): Rule("budget.read"),
    ("GET", "/budget/crosscut"): Rule("budget.read", query="jurisdiction=XA"),
    ("GET", "/budget/crosscut.csv"): Rule("budget.read", query="jurisdiction=XA"),
    ("GET", "/budget/crosscut.xlsx"): Rule("budget.read", query="jurisdiction=XA"),
    ("GET", "/budget/unity"): Rule(
        "budget.read", query="jurisdiction=XA&classification=nitrd-pca-fy2020&year=2024"
    ),
    ("GET", "/budget/datacalls"): Rule("budget.read"),
    ("GET", "/budget/datacalls/new"): Rule("budget.manage"),
    ("POST", "/budget/datacalls"): Rule(
        "budget.manage",
        csrf=True,
        headers=FORM,
        content="key=dc3&title=t&jurisdiction=XA&fiscal_year=2025"
        "&classification=nitrd-pca-fy2020&currency=USD&agencies=RES",
    ),
    ("GET", "/budget/datacalls/{key}"): Rule("budget.read", path={"key": "dc"}),
    ("POST", "/budget/datacalls/{key}/submissions/{agency}"): Rule(
        "budget.submit",
        path={"key": "dc", "agency": "RES"},
        csrf=True,
        files={"file": ("res.csv", b"line_key,title,request\nR1,Research,10\n", "text/csv")},
    ),
    ("GET", "/budget/priorities"): Rule("budget.read"),
    ("GET", "/budget/priorities/new"): Rule("budget.manage"),
    ("POST", "/budget/priorities"): Rule(
        "budget.manage",
        csrf=True,
        headers=FORM,
        content="key=p8&title=t&classification=nitrd-pca-fy2020&fiscal_year=2024"
        "&method=direct&w:AI=1&action=save",
    ),
    ("GET", "/budget/priorities/{key}"): Rule("budget.read", path={"key": "p1"}),
    ("POST", "/budget/priorities/{key}/memo"): Rule(
        "budget.manage", path={"key": "p1"}, csrf=True, headers=FORM, content="version=1&memo=m"
    ),
    ("GET", "/budget/scenarios"): Rule("budget.read"),
    ("POST", "/budget/scenarios"): Rule(
        "budget.manage",
        csrf=True,
        headers=FORM,
        content="key=s8&title=t&priorities=p1&base_year=2024&envelope=100",
    ),
    ("GET", "/budget/scenarios/compare"): Rule("budget.read", query="keys=nope"),
    ("GET", "/budget/scenarios/{key}"): Rule("budget.read", path={"key": "nope"}),
    ("GET", "/budget/supplement"): Rule(
        "budget.read", query="jurisdiction=XA&classification=nitrd-pca-fy2020"
    ),
    ("GET", "/budget/supplement.pdf"): Rule(
        "budget.read", query="jurisdiction=XA&classification=nitrd-pca-fy2020"
    ),
}


def test_budget_pages_have_rules(app) -> None:  # type: ignore[no-untyped-def]
    mine = {r for r in meta.app_routes(app) if r[1].startswith("/budget")}
    assert mine == set(BUDGET_PAGE_RULES), mine ^ set(BUDGET_PAGE_RULES)


def test_budget_pages_against_every_role(client, db, caplog) -> None:  # type: ignore[no-untyped-def]
    saved = dict(meta.RULES)
    meta.RULES.clear()
    meta.RULES.update(BUDGET_PAGE_RULES)
    try:
        meta.test_every_role_gets_what_the_policy_says(client, db, caplog)
    finally:
        meta.RULES.clear()
        meta.RULES.update(saved)
