"""Charts of the budget crosscut: Vega-Lite specs for bars, server-side SVG for what Vega-Lite
lacks (a squarified treemap and a Sankey diagram). Everything here is pure: plain numbers and
already-translated labels in, a spec (dict) or an SVG string out.

- :func:`stacked_bars`: amounts per category (a year, a field) stacked by series (an agency, a
  field); :func:`grouped_bars`: series side by side per category (request, enacted and actual
  per agency; scenarios per agency).
- :func:`treemap_layout` / :func:`treemap_svg`: a two-level squarified treemap (Bruls, Huizing
  and van Wijk 2000): groups (agencies) split into items (fields), every rectangle's area
  proportional to its amount.
- :func:`sankey_layout` / :func:`sankey_svg`: columns of nodes joined by ribbons as thick as the
  money they carry; :func:`three_level_flows` builds total → agency → field flows that conserve
  amounts at every node.

Amounts are shown in a unit chosen from the largest one (:func:`amount_unit`), so axes read
"1,250" rather than "1250000000".

>>> rects = squarify([6, 6, 4, 3, 2, 2, 1], 0, 0, 6, 4)
>>> [round(r.area, 6) for r in rects]
[6.0, 6.0, 4.0, 3.0, 2.0, 2.0, 1.0]
>>> flows = three_level_flows("Total", {("NSF", "AI"): 3.0, ("NSF", "LSN"): 1.0})
>>> flows
[Flow(source='Total', target='NSF', amount=4.0), Flow(source='NSF', target='AI', amount=3.0), \
Flow(source='NSF', target='LSN', amount=1.0)]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any, NamedTuple

from stcoord.reports.charts import DEFAULT_FONT, SCHEMA, WIDTH
from stcoord.reports.orgchart import text_width

# Tableau 10 and a few more: distinct hues for agencies and fields.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#1d4ed8",
    "#0891b2",
    "#65a30d",
    "#c2410c",
    "#7c3aed",
    "#be185d",
)
OTHER_COLOUR = "#94a3b8"
UNITS = ((1e12, "trillions"), (1e9, "billions"), (1e6, "millions"), (1e3, "thousands"))


def palette(keys: Sequence[str], other: str | None = None) -> dict[str, str]:
    """A colour for each key, in order (cycling after 15); ``other`` gets grey."""
    colours = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(k for k in keys if k != other)}
    if other is not None:
        colours[other] = OTHER_COLOUR
    return colours


def amount_unit(largest: float) -> tuple[float, str]:
    """The divisor and unit word for amounts up to ``largest`` (``"units"`` below 10,000).

    >>> amount_unit(2.5e9), amount_unit(1234.0)
    ((1000000.0, 'millions'), (1.0, 'units'))
    """
    for divisor, word in UNITS:
        if abs(largest) >= 10 * divisor:
            return divisor, word
    return 1.0, "units"


def compact(value: float) -> str:
    """A short amount for chart labels: ``1.2k``, ``34M``, ``5.6B``, ``7.8T``.

    >>> compact(1234), compact(56_000_000), compact(12.5)
    ('1.2k', '56M', '12.5')
    """
    for divisor, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= divisor:
            scaled = value / divisor
            return f"{scaled:.1f}{suffix}" if abs(scaled) < 10 else f"{scaled:,.0f}{suffix}"
    return f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


def top_n(amounts: Mapping[str, float], n: int, other: str) -> dict[str, float]:
    """The ``n`` largest entries and the rest summed under ``other`` (the total is kept).

    >>> top_n({"a": 5, "b": 3, "c": 1, "d": 1}, 2, "other")
    {'a': 5, 'b': 3, 'other': 2}
    """
    ranked = sorted(amounts.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) <= n + 1:
        return dict(ranked)
    kept = dict(ranked[:n])
    kept[other] = sum(v for _, v in ranked[n:])
    return kept


# ---------------------------------------------------------------- Vega-Lite specs


def _frame(font: str, title: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "$schema": SCHEMA,
        "background": "white",
        "config": {
            "font": font,
            "view": {"stroke": None},
            "axis": {"labelFontSize": 11, "titleFontSize": 11, "gridColor": "#e2e8f0"},
            "legend": {"labelFontSize": 11, "titleFontSize": 11, "labelLimit": 220},
            "title": {"fontSize": 13, "anchor": "start"},
        },
    }
    if title:
        spec["title"] = title
    return spec


class Datum(NamedTuple):
    """One bar segment: ``amount`` of ``series`` in ``category``."""

    category: str
    series: str
    amount: float


def _colour(series_order: Sequence[str], colours: Mapping[str, str] | None) -> dict[str, Any]:
    scale: dict[str, Any] = {"domain": list(series_order)}
    if colours:
        scale["range"] = [colours.get(s, OTHER_COLOUR) for s in series_order]
    return scale


def stacked_bars(
    data: Sequence[Datum],
    *,
    category_title: str,
    amount_title: str,
    series_title: str,
    categories: Sequence[str] | None = None,
    series: Sequence[str] | None = None,
    colours: Mapping[str, str] | None = None,
    horizontal: bool = False,
    title: str | None = None,
    font: str = DEFAULT_FONT,
    width: int = WIDTH,
) -> dict[str, Any]:
    """Bars per category, stacked by series in ``series`` order (bottom first).

    >>> spec = stacked_bars([Datum("2023", "NSF", 1.0)], category_title="Year",
    ...                     amount_title="USD", series_title="Agency")
    >>> spec["mark"]["type"], spec["encoding"]["y"]["stack"]
    ('bar', 'zero')
    """
    cats = list(categories) if categories is not None else list(dict.fromkeys(d[0] for d in data))
    names = list(series) if series is not None else list(dict.fromkeys(d[1] for d in data))
    order = {s: i for i, s in enumerate(names)}
    values = [
        {"category": c, "series": s, "amount": round(a, 6), "order": order.get(s, len(order))}
        for c, s, a in data
    ]
    category = {
        "field": "category",
        "type": "nominal",
        "sort": cats,
        "title": category_title or None,
        "axis": {"labelAngle": 0, "labelLimit": 200} if not horizontal else {"labelLimit": 240},
    }
    amount = {
        "field": "amount",
        "type": "quantitative",
        "title": amount_title,
        "stack": "zero",
        "axis": {"format": ",~r"},
    }
    spec = _frame(font, title)
    spec.update(
        {
            "width": width - 260 if horizontal else width - 160,
            "height": {"step": 22} if horizontal else 260,
            "data": {"values": values},
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "x" if not horizontal else "y": category,
                "y" if not horizontal else "x": amount,
                "color": {
                    "field": "series",
                    "type": "nominal",
                    "title": series_title,
                    "scale": _colour(names, colours),
                    "legend": {"orient": "right" if not horizontal else "bottom"},
                },
                "order": {"field": "order", "type": "quantitative"},
                "tooltip": [
                    {"field": "category", "type": "nominal", "title": category_title},
                    {"field": "series", "type": "nominal", "title": series_title},
                    {
                        "field": "amount",
                        "type": "quantitative",
                        "title": amount_title,
                        "format": ",.2f",
                    },
                ],
            },
        }
    )
    return spec


def grouped_bars(
    data: Sequence[Datum],
    *,
    category_title: str,
    amount_title: str,
    series_title: str,
    categories: Sequence[str] | None = None,
    series: Sequence[str] | None = None,
    colours: Mapping[str, str] | None = None,
    title: str | None = None,
    font: str = DEFAULT_FONT,
    width: int = WIDTH,
) -> dict[str, Any]:
    """Horizontal bars, one per series side by side within each category.

    >>> spec = grouped_bars([Datum("NSF", "enacted", 1.0)], category_title="Agency",
    ...                     amount_title="USD", series_title="Phase")
    >>> spec["encoding"]["yOffset"]["field"]
    'series'
    """
    cats = list(categories) if categories is not None else list(dict.fromkeys(d[0] for d in data))
    names = list(series) if series is not None else list(dict.fromkeys(d[1] for d in data))
    values = [{"category": c, "series": s, "amount": round(a, 6)} for c, s, a in data]
    spec = _frame(font, title)
    spec.update(
        {
            "width": width - 260,
            "height": {"step": max(8, 30 // max(1, len(names)) + 4), "for": "position"},
            "data": {"values": values},
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "y": {
                    "field": "category",
                    "type": "nominal",
                    "sort": cats,
                    "title": category_title or None,
                    "axis": {"labelLimit": 240},
                },
                "yOffset": {"field": "series", "type": "nominal", "sort": names},
                "x": {
                    "field": "amount",
                    "type": "quantitative",
                    "title": amount_title,
                    "axis": {"format": ",~r"},
                },
                "color": {
                    "field": "series",
                    "type": "nominal",
                    "title": series_title,
                    "scale": _colour(names, colours),
                    "legend": {"orient": "bottom"},
                },
                "tooltip": [
                    {"field": "category", "type": "nominal", "title": category_title},
                    {"field": "series", "type": "nominal", "title": series_title},
                    {
                        "field": "amount",
                        "type": "quantitative",
                        "title": amount_title,
                        "format": ",.2f",
                    },
                ],
            },
        }
    )
    return spec


# ---------------------------------------------------------------- squarified treemap


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def area(self) -> float:
        return self.w * self.h


def _worst(row: Sequence[float], side: float) -> float:
    """The worst aspect ratio of a row of areas laid along a side of length ``side``."""
    total = sum(row)
    if total <= 0 or side <= 0:
        return math.inf
    return max(side * side * max(row) / (total * total), total * total / (side * side * min(row)))


def squarify(
    values: Sequence[float], x: float, y: float, width: float, height: float
) -> list[Rect]:
    """Rectangles tiling ``(x, y, width, height)`` with areas proportional to ``values``, as
    square as the squarified algorithm makes them; returned in the order of ``values``.
    Values <= 0 (or not finite) get an empty rectangle at the origin corner.

    >>> [round(r.w * r.h, 6) for r in squarify([1, 3], 0, 0, 2, 2)]
    [1.0, 3.0]
    """
    out = [Rect(x, y, 0.0, 0.0) for _ in values]
    positive = [(i, float(v)) for i, v in enumerate(values) if math.isfinite(v) and v > 0]
    total = sum(v for _, v in positive)
    if not positive or width <= 0 or height <= 0:
        return out
    factor = width * height / total
    items = sorted(((i, v * factor) for i, v in positive), key=lambda t: -t[1])
    start = 0
    while start < len(items):
        side = min(width, height)
        end = start + 1
        row = [items[start][1]]
        while end < len(items):
            candidate = [*row, items[end][1]]
            if _worst(candidate, side) > _worst(row, side):
                break
            row = candidate
            end += 1
        row_total = sum(row)
        last = end == len(items)
        if width >= height:  # a column along the left edge
            column = width if last else row_total / height
            offset = y
            for index, area in items[start:end]:
                h = area / column if column else 0.0
                out[index] = Rect(x, offset, column, h)
                offset += h
            x, width = x + column, width - column
        else:  # a row along the top edge
            band = height if last else row_total / width
            offset = x
            for index, area in items[start:end]:
                w = area / band if band else 0.0
                out[index] = Rect(offset, y, w, band)
                offset += w
            y, height = y + band, height - band
        start = end
    return out


@dataclass(frozen=True)
class TreemapCell:
    """A group's rectangle (``item`` None) or an item's rectangle inside its group."""

    group: str
    item: str | None
    amount: float
    rect: Rect


def treemap_layout(
    groups: Mapping[str, Mapping[str, float]], width: float, height: float
) -> list[TreemapCell]:
    """Two-level squarified treemap: groups tile the whole area by their totals, items tile
    their group's rectangle; every area is proportional to its amount. Amounts <= 0 are left
    out. Groups first (largest first), then every item.

    >>> cells = treemap_layout({"NSF": {"AI": 3, "LSN": 1}, "DOE": {"HCIA": 4}}, 100, 80)
    >>> [(c.group, c.item, round(c.rect.area)) for c in cells]
    [('DOE', None, 4000), ('NSF', None, 4000), ('DOE', 'HCIA', 4000), ('NSF', 'AI', 3000), \
('NSF', 'LSN', 1000)]
    """
    totals = {
        g: sum(v for v in items.values() if v > 0)
        for g, items in groups.items()
        if any(v > 0 for v in items.values())
    }
    ranked = sorted(totals, key=lambda g: (-totals[g], g))
    outer = squarify([totals[g] for g in ranked], 0.0, 0.0, width, height)
    cells = [TreemapCell(g, None, totals[g], r) for g, r in zip(ranked, outer, strict=True)]
    for g, box in zip(ranked, outer, strict=True):
        kids = sorted(
            ((k, v) for k, v in groups[g].items() if v > 0), key=lambda kv: (-kv[1], kv[0])
        )
        inner = squarify([v for _, v in kids], box.x, box.y, box.w, box.h)
        cells += [TreemapCell(g, k, v, r) for (k, v), r in zip(kids, inner, strict=True)]
    return cells


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _fit(text: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` ('' when not even one letter fits)."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…" if text else ""


def _backdrop(x: float, y: float, w: float, h: float) -> str:
    """A translucent white box behind a label (a stroke halo needs ``paint-order``, which
    WeasyPrint does not draw)."""
    return (
        f'<rect class="backdrop" x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" '
        f'rx="2" fill="white" fill-opacity="0.8"/>'
    )


def _svg_open(width: float, height: float, font: str, css_class: str, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" role="img" '
        f'width="{_n(width)}" height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'font-family="{escape(font)}, sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{_n(width)}" height="{_n(height)}" fill="white"/>',
    ]


def treemap_svg(
    groups: Mapping[str, Mapping[str, float]],
    *,
    width: float = WIDTH,
    height: float = 380,
    title: str = "",
    label: Callable[[str], str] = str,
    colours: Mapping[str, str] | None = None,
    fmt: Callable[[float], str] = compact,
    font: str = DEFAULT_FONT,
) -> str:
    """The treemap as an ``<svg>``: items coloured by ``colours`` (looked up by item, then by
    group), thin white lines between items, thick ones between groups, a label and amount in
    every rectangle big enough to hold them, and a tooltip (``<title>``) on each."""
    colours = colours or {}
    cells = treemap_layout(groups, width, height)
    parts = _svg_open(width, height, font, "treemap", title)
    group_cells = [c for c in cells if c.item is None]
    for c in cells:
        if c.item is None:
            continue
        r = c.rect
        fill = colours.get(c.item) or colours.get(c.group) or OTHER_COLOUR
        tip = f"{label(c.group)} › {label(c.item)}: {fmt(c.amount)}"
        parts.append(
            f'<g class="cell"><title>{escape(tip)}</title>'
            f'<rect x="{_n(r.x)}" y="{_n(r.y)}" width="{_n(r.w)}" height="{_n(r.h)}" '
            f'fill="{fill}" stroke="white" stroke-width="1"/>'
        )
        name = _fit(label(c.item), 10, r.w - 6)
        if r.h >= 30 and name:
            parts.append(
                f'<text x="{_n(r.x + 3)}" y="{_n(r.y + r.h - 16)}" font-size="10" '
                f'fill="#0f172a">{escape(name)}</text>'
            )
        amount = _fit(fmt(c.amount), 10, r.w - 6)
        if r.h >= 18 and amount:
            parts.append(
                f'<text x="{_n(r.x + 3)}" y="{_n(r.y + r.h - 4)}" font-size="10" '
                f'fill="#1e293b">{escape(amount)}</text>'
            )
        parts.append("</g>")
    for c in group_cells:
        r = c.rect
        parts.append(
            f'<rect class="group" x="{_n(r.x)}" y="{_n(r.y)}" width="{_n(r.w)}" '
            f'height="{_n(r.h)}" fill="none" stroke="white" stroke-width="3"/>'
        )
        name = _fit(f"{label(c.group)} · {fmt(c.amount)}", 11, r.w - 10)
        if name and r.h >= 16:
            parts.append(_backdrop(r.x + 2, r.y + 2, text_width(name, 11.5) + 6, 15))
            parts.append(
                f'<text class="group-label" x="{_n(r.x + 5)}" y="{_n(r.y + 13.5)}" '
                f'font-size="11" font-weight="700" fill="#0f172a">{escape(name)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------- Sankey diagram


class Flow(NamedTuple):
    source: str
    target: str
    amount: float


def three_level_flows(
    root: str, amounts: Mapping[tuple[str, str], float], order: Sequence[str] | None = None
) -> list[Flow]:
    """Flows root → group → item from (group, item) amounts; each group's inflow is the sum of
    its outflows, so amounts are conserved at every node. Amounts <= 0 are left out. Groups in
    ``order`` (else by amount, largest first)."""
    totals: dict[str, float] = {}
    for (group, _), amount in amounts.items():
        if amount > 0:
            totals[group] = totals.get(group, 0.0) + amount
    groups = [g for g in (order or []) if g in totals] or sorted(
        totals, key=lambda g: (-totals[g], g)
    )
    flows = []
    for g in groups:
        flows.append(Flow(root, g, totals[g]))
        flows += [Flow(g, i, a) for (gg, i), a in amounts.items() if gg == g and a > 0]
    return flows


@dataclass(frozen=True)
class SankeyNode:
    key: str
    column: int
    value: float  # the larger of what flows in and what flows out
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class SankeyLink:
    source: str
    target: str
    amount: float
    x0: float  # right edge of the source node
    y0: float  # top of the ribbon where it leaves the source
    x1: float  # left edge of the target node
    y1: float  # top of the ribbon where it reaches the target
    thickness: float


@dataclass(frozen=True)
class SankeyLayout:
    nodes: list[SankeyNode]
    links: list[SankeyLink]
    width: float
    height: float
    scale: float  # pixels per unit of amount


def _columns(flows: Sequence[Flow]) -> dict[str, int]:
    """Each node's column: the length of the longest path reaching it (sources are column 0)."""
    keys = list(dict.fromkeys(k for f in flows for k in (f.source, f.target)))
    column = dict.fromkeys(keys, 0)
    for _ in range(len(keys)):  # Bellman-Ford style relaxation; flows form a DAG
        changed = False
        for f in flows:
            if column[f.target] < column[f.source] + 1:
                column[f.target] = column[f.source] + 1
                changed = True
        if not changed:
            break
    return column


def sankey_layout(
    flows: Sequence[Flow],
    *,
    width: float = WIDTH,
    height: float = 400,
    node_width: float = 12.0,
    gap: float = 6.0,
    left: float = 0.0,
    right: float = 0.0,
) -> SankeyLayout:
    """Nodes in columns (by longest path from a source), stacked top-down in order of first
    appearance with ``gap`` between them and centred vertically; one scale (pixels per unit)
    for every node and ribbon, so a node's height is its value and ribbons leaving or entering
    a node add up to its height. ``left`` and ``right`` are margins kept for labels.

    >>> layout = sankey_layout([Flow("T", "A", 3), Flow("T", "B", 1)], height=100, gap=0)
    >>> [(n.key, n.h) for n in layout.nodes]
    [('T', 100.0), ('A', 75.0), ('B', 25.0)]
    """
    flows = [f for f in flows if f.amount > 0 and math.isfinite(f.amount)]
    column = _columns(flows)
    inflow: dict[str, float] = {}
    outflow: dict[str, float] = {}
    for f in flows:
        outflow[f.source] = outflow.get(f.source, 0.0) + f.amount
        inflow[f.target] = inflow.get(f.target, 0.0) + f.amount
    value = {k: max(inflow.get(k, 0.0), outflow.get(k, 0.0)) for k in column}
    ncols = max(column.values(), default=0) + 1
    by_column: list[list[str]] = [[] for _ in range(ncols)]
    for k in column:
        by_column[column[k]].append(k)
    scale = min(
        (
            (height - gap * (len(keys) - 1)) / total
            for keys in by_column
            if (total := sum(value[k] for k in keys)) > 0
        ),
        default=0.0,
    )
    scale = max(scale, 0.0)
    span = max(width - left - right - node_width, 0.0)
    nodes: dict[str, SankeyNode] = {}
    for c, keys in enumerate(by_column):
        used = sum(value[k] for k in keys) * scale + gap * (len(keys) - 1)
        y = max((height - used) / 2, 0.0)
        x = left + (span * c / (ncols - 1) if ncols > 1 else 0.0)
        for k in keys:
            h = value[k] * scale
            nodes[k] = SankeyNode(k, c, value[k], x, y, node_width, h)
            y += h + gap
    out_offset = {k: n.y for k, n in nodes.items()}
    in_offset = {k: n.y for k, n in nodes.items()}
    # ribbons leave a node in the order of their targets and enter in the order of their sources
    indexed = list(enumerate(flows))
    y0_of: dict[int, float] = {}
    for i, f in sorted(indexed, key=lambda t: (t[1].source, nodes[t[1].target].y)):
        y0_of[i] = out_offset[f.source]
        out_offset[f.source] += f.amount * scale
    links = []
    for i, f in sorted(indexed, key=lambda t: (t[1].target, nodes[t[1].source].y)):
        s, t = nodes[f.source], nodes[f.target]
        thickness = f.amount * scale
        links.append(
            SankeyLink(
                f.source,
                f.target,
                f.amount,
                s.x + s.w,
                y0_of[i],
                t.x,
                in_offset[f.target],
                thickness,
            )
        )
        in_offset[f.target] += thickness
    return SankeyLayout(list(nodes.values()), links, width, height, scale)


def sankey_svg(
    flows: Sequence[Flow],
    *,
    width: float = WIDTH,
    height: float = 420,
    title: str = "",
    label: Callable[[str], str] = str,
    colours: Mapping[str, str] | None = None,
    fmt: Callable[[float], str] = compact,
    font: str = DEFAULT_FONT,
    label_width: float = 170.0,
) -> str:
    """The Sankey diagram as an ``<svg>``: ribbons coloured by their target (else their
    source), nodes labelled with their name and amount on their right (the last column's labels
    sit in a right margin of ``label_width``), a tooltip on every ribbon and node."""
    colours = colours or {}
    layout = sankey_layout(flows, width=width, height=height - 8, right=label_width, left=2)
    parts = _svg_open(width, height, font, "sankey", title)
    parts.append('<g transform="translate(0,4)">')
    for link in layout.links:
        xm = (link.x0 + link.x1) / 2
        t = link.thickness
        fill = colours.get(link.target) or colours.get(link.source) or OTHER_COLOUR
        tip = f"{label(link.source)} → {label(link.target)}: {fmt(link.amount)}"
        parts.append(
            f'<path class="link" d="M{_n(link.x0)},{_n(link.y0)} '
            f"C{_n(xm)},{_n(link.y0)} {_n(xm)},{_n(link.y1)} {_n(link.x1)},{_n(link.y1)} "
            f"L{_n(link.x1)},{_n(link.y1 + t)} "
            f"C{_n(xm)},{_n(link.y1 + t)} {_n(xm)},{_n(link.y0 + t)} {_n(link.x0)},"
            f'{_n(link.y0 + t)} Z" fill="{fill}" fill-opacity="0.45">'
            f"<title>{escape(tip)}</title></path>"
        )
    last = max((n.column for n in layout.nodes), default=0)
    for node in layout.nodes:
        fill = colours.get(node.key) or ("#334155" if node.column < last else OTHER_COLOUR)
        tip = f"{label(node.key)}: {fmt(node.value)}"
        parts.append(
            f'<g class="node"><title>{escape(tip)}</title>'
            f'<rect x="{_n(node.x)}" y="{_n(node.y)}" width="{_n(node.w)}" '
            f'height="{_n(max(node.h, 0.5))}" fill="{fill}"/>'
        )
        room = label_width - 8 if node.column == last else 150.0
        text = _fit(f"{label(node.key)} {fmt(node.value)}", 10.5, room)
        if text and node.h >= 7:
            x, y = node.x + node.w + 3, node.y + node.h / 2
            parts.append(_backdrop(x, y - 7, text_width(text, 11) + 4, 14))
            parts.append(
                f'<text x="{_n(x + 2)}" y="{_n(y + 3.5)}" font-size="10.5" '
                f'fill="#0f172a">{escape(text)}</text>'
            )
        parts.append("</g>")
    parts.append("</g></svg>")
    return "".join(parts)
