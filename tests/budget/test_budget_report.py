"""The budget supplement (HTML and PDF) on both databases, the data behind it, and the geometry
of the server-drawn charts: treemap areas proportional to amounts, Sankey flows conserved."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stcoord.auth.permissions import SYSTEM, Actor, Role
from stcoord.budget import report
from stcoord.budget.crosscut import UNCLASSIFIED
from stcoord.budget.pages import build_supplement_pdf, memo_paragraphs, supplement_html
from stcoord.db.session import Database
from stcoord.reports import budget_charts as bc
from tests.budget.conftest import SCHEME

SVG = "{http://www.w3.org/2000/svg}"


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# ---------------------------------------------------------------- the data behind the pages


def test_explorer_data_adds_up(budget_db: Database) -> None:
    with budget_db.scope(write=False) as session:
        data = report.explorer_data(
            session, SYSTEM, jurisdiction="US", classification=SCHEME, phase="enacted"
        )
        assert data.years == data.all_years == [2021, 2022, 2023]
        assert data.currency == "USD"
        by_agency = data.agency_year()
        assert by_agency.col_totals == {
            2021: Decimal(360),
            2022: Decimal(710),
            2023: Decimal(1060),
        }
        fields = data.field_year()
        assert fields is not None
        assert fields.col_totals == by_agency.col_totals  # (unclassified) closes the gap
        assert fields.rows[-1] == UNCLASSIFIED and fields.cell(UNCLASSIFIED, 2023) == 10
        cube = data.agency_field(2023)
        assert cube is not None
        assert cube.cell("NSF", "AI") == Decimal(300)  # 150 of N1 and all 150 of N2
        assert cube.row_totals["DOE"] == Decimal(600)
        assert fields.growth("AI", 2023, 2022) == pytest.approx(0.5)
        assert data.phase_year == 2023
        doe = next(p for p in data.phases if p.agency == "DOE")
        assert doe.amounts["request"] == Decimal(999) and doe.amounts["enacted"] == Decimal(600)


def test_explorer_data_can_read_the_cube_for_the_latest_year_only(budget_db: Database) -> None:
    with budget_db.scope(write=False) as session:
        full = report.explorer_data(session, SYSTEM, jurisdiction="US", classification=SCHEME)
        lean = report.explorer_data(
            session, SYSTEM, jurisdiction="US", classification=SCHEME, cube_years="latest"
        )
    assert lean.cube is not None and {r.keys["year"] for r in lean.cube.rows} == {2023}
    assert lean.agency_field(2023) == full.agency_field(2023)
    assert lean.field_year() == full.field_year()  # read by field and year instead


def test_a_liaison_gets_only_its_agency(budget_db: Database) -> None:
    with budget_db.scope(write=False) as session:
        from sqlalchemy import select

        from stcoord.budget.models import Agency

        nsf_body = session.scalar(select(Agency.body_id).where(Agency.code == "NSF"))
        liaison = Actor("li", Role.liaison, 99, frozenset({nsf_body}))
        data = report.explorer_data(session, liaison, jurisdiction="US", classification=SCHEME)
        assert set(data.agencies) == {"NSF"}
        assert data.agency_year().rows == ["NSF"]
        assert [p.agency for p in data.phases] == ["NSF"]
        assert [j.code for j in report.budget_jurisdictions(session, liaison)] == ["US"]
        assert report.budget_jurisdictions(session, liaison)[0].agencies == 1


def test_memo_paragraphs_are_plain_text() -> None:
    memo = "AI first.\nThen networks.\r\n\r\n<script>alert(1)</script>\n\n\n  Last.  "
    assert memo_paragraphs(memo) == [
        ["AI first.", "Then networks."],
        ["<script>alert(1)</script>"],
        ["Last."],
    ]
    assert memo_paragraphs(None) == []


# ---------------------------------------------------------------- the supplement


def test_supplement_html_has_every_section(budget_db: Database) -> None:
    with budget_db.scope(write=False) as session:
        html = supplement_html(
            session,
            SYSTEM,
            jurisdiction="US",
            classification=SCHEME,
            years=[2022, 2023],
            phase="enacted",
        )
    for ident in ("summary", "agencies", "fields", "cube", "charts", "phases", "unity", "notes"):
        assert f'id="{ident}"' in html, ident
    text = text_of(html)
    assert "NITRD Program Component Areas (FY2020-): FY2022–FY2023" in text
    assert "FY2021" not in text  # only the years asked for
    # agency x year: DOE 400 then 600, +50.0%; totals 710 and 1,060
    agencies = html[html.index('id="agencies"') : html.index('id="fields"')]
    assert re.search(r"DOE.*?400.*?600.*?\+50\.0%", text_of(agencies))
    assert "1,060" in agencies and "710" in agencies
    cube = html[html.index('id="cube"') : html.index('id="charts"')]
    assert cube.count("<table") == 2  # one agency x field table per year
    charts = html[html.index('id="charts"') : html.index('id="phases"')]
    for chart in ("chart-stack-agency", "chart-stack-field", "chart-treemap", "chart-sankey"):
        assert f'id="{chart}"' in charts, chart
    for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.S):
        ET.fromstring(svg)  # well-formed
    unity = html[html.index('id="unity"') : html.index('id="notes"')]
    assert "AI · Artificial Intelligence R&amp;D" in unity and "50.0%" in unity
    assert "toolbar screen-only" not in html  # no toolbar in the printable document


def test_supplement_pdf(budget_db: Database) -> None:
    with budget_db.scope(write=False) as session:
        pdf = build_supplement_pdf(
            session, SYSTEM, jurisdiction="US", classification=SCHEME, years=[2021, 2022, 2023]
        )
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 10_000


def test_supplement_routes(budget_db: Database, client) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import login, make_user

    make_user(budget_db, "coord", Role.coordinator)
    login(client, "coord")
    query = f"jurisdiction=US&classification={SCHEME}&years=2021,2022,2023&phase=enacted"
    page = client.get(f"/budget/supplement?{query}&lang=en")
    assert page.status_code == 200
    assert "Download PDF" in page.text and "/budget/supplement.pdf?" in page.text
    pdf = client.get(f"/budget/supplement.pdf?{query}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert client.get("/budget/supplement.pdf?years=twenty").status_code == 422


# ---------------------------------------------------------------- treemap geometry


def _inside(inner: bc.Rect, outer: bc.Rect, tol: float = 1e-6) -> bool:
    return (
        inner.x >= outer.x - tol
        and inner.y >= outer.y - tol
        and inner.x + inner.w <= outer.x + outer.w + tol
        and inner.y + inner.h <= outer.y + outer.h + tol
    )


def _overlap(a: bc.Rect, b: bc.Rect) -> float:
    w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    return max(w, 0) * max(h, 0)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.floats(min_value=0.01, max_value=1e9), min_size=1, max_size=40),
    st.floats(min_value=10, max_value=2000),
    st.floats(min_value=10, max_value=2000),
)
def test_squarify_areas_are_proportional_and_tile_the_box(
    values: list[float], width: float, height: float
) -> None:
    rects = bc.squarify(values, 5.0, 7.0, width, height)
    box = bc.Rect(5.0, 7.0, width, height)
    total = sum(values)
    for value, rect in zip(values, rects, strict=True):
        assert rect.area == pytest.approx(value / total * width * height, rel=1e-6, abs=1e-6)
        assert _inside(rect, box, tol=1e-6 * (width + height))
    assert sum(r.area for r in rects) == pytest.approx(width * height, rel=1e-9)
    for i, a in enumerate(rects[:12]):
        for b in rects[i + 1 : 12]:
            assert _overlap(a, b) <= 1e-6 * width * height


def test_squarify_keeps_rectangles_square_ish_and_skips_non_positive() -> None:
    rects = bc.squarify([6, 6, 4, 3, 2, 2, 1], 0, 0, 6, 4)  # the paper's example
    assert max(max(r.w / r.h, r.h / r.w) for r in rects) < 3
    empty = bc.squarify([0, 5, -1, math.nan], 0, 0, 10, 10)
    assert [r.area for r in empty] == [0, 100, 0, 0]


def test_treemap_layout_nests_items_in_groups_proportionally() -> None:
    groups = {"NSF": {"AI": 300.0, "LSN": 100.0}, "DOE": {"HCIA": 600.0}, "NIST": {"X": 0.0}}
    cells = bc.treemap_layout(groups, 640, 400)
    total_area = 640 * 400
    by_key = {(c.group, c.item): c for c in cells}
    assert ("NIST", None) not in by_key  # nothing to draw
    for (group, item), cell in by_key.items():
        assert cell.rect.area == pytest.approx(cell.amount / 1000 * total_area, rel=1e-9)
        if item is not None:
            assert _inside(cell.rect, by_key[(group, None)].rect)


def test_treemap_svg_is_well_formed_with_a_cell_per_item() -> None:
    svg = bc.treemap_svg(
        {"NSF": {"AI": 3.0, "LSN": 1.0}, "R&D <x>": {"AI": 2.0}},
        title="Treemap & co",
        colours={"AI": "#ff0000"},
    )
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    cells = root.findall(f"{SVG}g[@class='cell']")
    assert len(cells) == 3
    fills = {c.find(f"{SVG}rect").get("fill") for c in cells}  # type: ignore[union-attr]
    assert "#ff0000" in fills
    assert "R&amp;D &lt;x&gt;" in svg


# ---------------------------------------------------------------- Sankey geometry


def _check_conservation(layout: bc.SankeyLayout) -> None:
    nodes = {n.key: n for n in layout.nodes}
    for node in layout.nodes:
        ins = [link for link in layout.links if link.target == node.key]
        outs = [link for link in layout.links if link.source == node.key]
        if ins and outs:  # what enters a node leaves it
            assert sum(x.amount for x in ins) == pytest.approx(sum(x.amount for x in outs))
        if ins:
            assert sum(x.thickness for x in ins) == pytest.approx(node.h)
            # ribbons enter stacked from the node's top to its bottom, without gaps
            tops = sorted((x.y1, x.thickness) for x in ins)
            assert tops[0][0] == pytest.approx(node.y)
            for (y, t), (next_y, _) in itertools.pairwise(tops):
                assert next_y == pytest.approx(y + t)
        if outs:
            assert sum(x.thickness for x in outs) == pytest.approx(node.h)
            assert min(x.y0 for x in outs) == pytest.approx(node.y)
        assert node.h == pytest.approx(node.value * layout.scale)
    for link in layout.links:
        assert link.thickness == pytest.approx(link.amount * layout.scale)
        assert link.x0 == pytest.approx(nodes[link.source].x + nodes[link.source].w)
        assert link.x1 == pytest.approx(nodes[link.target].x)
    assert all(n.y >= 0 and n.y + n.h <= layout.height + 1e-6 for n in layout.nodes)


def test_sankey_flows_conserve_amounts_at_every_node() -> None:
    amounts = {
        ("NSF", "AI"): 150.0,
        ("NSF", "LSN"): 50.0,
        ("DOE", "HCIA"): 600.0,
        ("DOE", "AI"): 40.0,
        ("NIST", UNCLASSIFIED): 10.0,
        ("NIST", "ZERO"): 0.0,
    }
    flows = bc.three_level_flows("total", amounts)
    assert [f.target for f in flows if f.source == "total"] == ["DOE", "NSF", "NIST"]
    assert sum(f.amount for f in flows if f.source == "total") == pytest.approx(850)
    layout = bc.sankey_layout(flows, width=640, height=400)
    assert {n.key: n.column for n in layout.nodes}["total"] == 0
    assert {n.key: n.column for n in layout.nodes}["AI"] == 2
    _check_conservation(layout)
    total = next(n for n in layout.nodes if n.key == "total")
    ai = next(n for n in layout.nodes if n.key == "AI")
    assert ai.h / total.h == pytest.approx(190 / 850)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.sampled_from("ABCDEFG"), st.sampled_from(["f1", "f2", "f3", "f4"])),
        st.floats(min_value=0.5, max_value=1e7),
        min_size=1,
        max_size=20,
    )
)
def test_sankey_conservation_property(amounts: dict[tuple[str, str], float]) -> None:
    layout = bc.sankey_layout(bc.three_level_flows("total", amounts), width=700, height=500)
    _check_conservation(layout)


def test_sankey_svg_is_well_formed() -> None:
    flows = bc.three_level_flows("total", {("a<b", "AI"): 3.0, ("a<b", "LSN"): 1.0})
    root = ET.fromstring(bc.sankey_svg(flows, title="Flows & more", colours={"AI": "#123456"}))
    assert len(root.findall(f".//{SVG}path")) == 3
    assert len(root.findall(f".//{SVG}g[@class='node']")) == 4


def test_amount_units_and_top_n() -> None:
    assert bc.amount_unit(5e13) == (1e12, "trillions")
    assert bc.amount_unit(5e12) == (1e9, "billions")  # read as 5,000 billions
    assert bc.amount_unit(999.0) == (1.0, "units")
    assert bc.top_n({"a": 5, "b": 1}, 1, "other") == {"a": 5, "b": 1}  # nothing to fold
    assert bc.compact(2_500_000_000) == "2.5B"


def test_the_examples_in_the_docstrings_hold() -> None:
    import doctest

    from stcoord.budget import pages

    assert doctest.testmod(bc).failed == 0
    assert doctest.testmod(pages).failed == 0
