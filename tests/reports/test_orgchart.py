"""The org chart: well-formed SVG, one linked box per body, a legend, and a tidy layout."""

from __future__ import annotations

import doctest
import itertools
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from stcoord.reports import orgchart
from stcoord.reports.orgchart import (
    BOX_H,
    BOX_W,
    ChartBody,
    ChartRelation,
    layout,
    org_chart_svg,
    text_width,
    tree_parents,
    wrap,
)

SVG = "{http://www.w3.org/2000/svg}"
MECHANISM = [
    ChartBody("pm", "Prime Minister", "head", href="/b/pm"),
    ChartBody(
        "csti",
        "Council for Science, Technology and Innovation",
        "supra_ministerial",
        parent="pm",
        sublabel="CSTI",
        href="/b/csti",
    ),
    ChartBody("panel", "Basic Plan Expert Panel", "advisory", parent="csti", href="/b/panel"),
    ChartBody("mof", "Ministry of Finance", "ministerial", href="/b/mof"),
    ChartBody("mext", "Ministry of Education", "ministerial", href="/b/mext"),
    ChartBody("jst", "Japan Science and Technology Agency", "agency", href="/b/jst"),
    ChartBody("lost", "Orphan body", "agency", parent="no-such-body"),
]
RELATIONS = [
    ChartRelation("panel", "csti", "advises"),
    ChartRelation("mext", "jst", "funds"),
    ChartRelation("mof", "mext", "transfers_budget_to"),
    ChartRelation("jst", "mext", "reports_to"),
    ChartRelation("mext", "csti", "supports"),
]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed XML


def test_svg_is_well_formed_with_one_box_per_body_and_links() -> None:
    root = parse(org_chart_svg(MECHANISM, RELATIONS))
    assert root.tag == f"{SVG}svg"
    boxes = root.findall(f".//{SVG}rect[@class='box']")
    assert len(boxes) == len(MECHANISM)
    links = {a.get("href") for a in root.iter(f"{SVG}a")}
    assert links == {b.href for b in MECHANISM if b.href}
    nodes = {g.get("data-key") for g in root.iter() if g.get("class") == "node"}
    assert nodes == {b.key for b in MECHANISM}


def test_legend_names_the_levels_and_relations_in_the_given_language() -> None:
    labels = {"head": "政府の長", "ministerial": "府省", "advises": "助言 →", "tree": "所属・報告"}
    root = parse(org_chart_svg(MECHANISM, RELATIONS, labels=labels))
    legend = root.find(f".//{SVG}g[@class='legend']")
    assert legend is not None
    texts = [t.text for t in legend.iter(f"{SVG}text")]
    assert {"政府の長", "府省", "助言 →", "所属・報告"} <= set(texts)
    assert "agency" in texts  # no label given: the key, readable
    assert "transfers budget to" in texts


def test_relations_are_dashed_only_for_advice_and_money() -> None:
    root = parse(org_chart_svg(MECHANISM, RELATIONS))
    paths = [p for p in root.iter(f"{SVG}path") if "rel" in (p.get("class") or "")]
    kinds = sorted(p.get("class", "").split("rel-")[1] for p in paths)
    assert kinds == ["advises", "funds", "transfers_budget_to"]
    assert all(p.get("stroke-dasharray") for p in paths)


def test_orphans_and_reports_to_make_the_tree() -> None:
    parents = tree_parents(MECHANISM, RELATIONS)
    assert parents["csti"] == "pm"
    assert parents["lost"] is None  # unknown parent: a root
    assert parents["jst"] == "mext"  # no parent: hangs under whom it reports to
    assert parents["mof"] is None


def test_reports_to_never_closes_a_cycle() -> None:
    bodies = [ChartBody("a", "A", "agency", parent="b"), ChartBody("b", "B", "agency")]
    parents = tree_parents(bodies, [ChartRelation("b", "a", "reports_to")])
    assert parents == {"a": "b", "b": None}
    cyclic = [ChartBody("x", "X", "agency", parent="y"), ChartBody("y", "Y", "agency", parent="x")]
    parents = tree_parents(cyclic)
    assert list(parents.values()).count(None) == 1  # the loop is cut once
    assert len(parse(org_chart_svg(cyclic)).findall(f".//{SVG}rect[@class='box']")) == 2


def test_text_is_escaped_and_cjk_wrapped_inside_the_box() -> None:
    bodies = [
        ChartBody("x", 'R&D <"board">', "agency", title="a & b"),
        ChartBody("csti", "総合科学技術・イノベーション会議", "supra_ministerial", sublabel="CSTI"),
    ]
    root = parse(org_chart_svg(bodies))
    spans = [t.text or "" for t in root.iter(f"{SVG}tspan")]
    assert 'R&D <"board">' in spans
    lines = wrap("総合科学技術・イノベーション会議", 12, BOX_W - 16, 2)
    assert len(lines) == 2 and "".join(lines) == "総合科学技術・イノベーション会議"
    assert all(text_width(line, 12) <= BOX_W - 16 for line in lines)
    assert not lines[1].startswith("・")


def test_long_labels_are_cut_with_an_ellipsis() -> None:
    lines = wrap("word " * 40, 12, 100, 3)
    assert len(lines) == 3 and lines[-1].endswith("…")


def test_empty_mechanism_gives_a_valid_chart() -> None:
    root = parse(org_chart_svg([]))
    assert root.findall(f".//{SVG}rect[@class='box']") == []


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) < BOX_W and abs(a[1] - b[1]) < BOX_H


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=-1, max_value=60), st.sampled_from(orgchart.LEVEL_ORDER)),
        min_size=1,
        max_size=60,
    )
)
def test_layout_places_every_body_without_overlap(spec: list[tuple[int, str]]) -> None:
    bodies = [
        ChartBody(f"b{i}", f"Body {i}", level, parent=f"b{p}" if 0 <= p < i else None)
        for i, (p, level) in enumerate(spec)
    ]
    boxes, _, width, height = layout(bodies)
    assert set(boxes) == {b.key for b in bodies}
    for (_, a), (_, b) in itertools.combinations(boxes.items(), 2):
        assert not _overlap(a, b)
    assert all(
        0 <= x <= width - BOX_W + 0.01 and 0 <= y <= height - BOX_H + 0.01
        for x, y in boxes.values()
    )


def test_sixty_bodies_stay_legible() -> None:
    bodies = [ChartBody("root", "Council", "supra_ministerial")]
    for i in range(6):
        bodies.append(ChartBody(f"c{i}", f"Committee {i}", "supra_ministerial", parent="root"))
        bodies += [
            ChartBody(f"s{i}_{j}", f"Subcommittee {i}.{j}", "supra_ministerial", parent=f"c{i}")
            for j in range(8)
        ]
    bodies += [ChartBody(f"a{k}", f"Agency {k}", "agency") for k in range(5)]
    _, _, width, height = layout(bodies)
    assert len(bodies) == 60
    assert width < 2000 and height < 1400  # stacked leaves keep it compact


def test_module_examples() -> None:
    assert doctest.testmod(orgchart).failed == 0
