"""Org charts of coordination mechanisms, drawn as SVG text from plain data.

:func:`org_chart_svg` is pure: it takes bodies and relations (no database, no web) and returns an
``<svg>`` document. Bodies form a tidy tree by ``parent``; a body without a parent hangs under the
body it ``reports_to``, else it is a root. Three or more childless siblings are stacked in a
column, and the trees are arranged in bands by their root's level (head of government first,
legislature last), so a mechanism of ~60 bodies stays legible (wide ones scroll horizontally).
Boxes are coloured by level, with a legend; the tree is drawn in solid lines, and ``advises``,
``funds`` and ``transfers_budget_to`` relations in dashed coloured arrows. Every box may link to
a page.

Example:

>>> svg = org_chart_svg(
...     [ChartBody("pm", "Prime Minister", "head"),
...      ChartBody("csti", "CSTI", "supra_ministerial", parent="pm", href="/b/csti"),
...      ChartBody("panel", "Expert panel", "advisory")],
...     [ChartRelation("panel", "csti", "advises")],
... )
>>> svg.count('class="box"'), 'href="/b/csti"' in svg, 'class="legend"' in svg
(3, True, True)
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

BOX_W, BOX_H = 176.0, 60.0
H_GAP = 18.0  # between sibling subtrees
ROOT_GAP = 28.0  # between the trees of a forest
ROW_GAP = 24.0  # between rows of trees of one level
BAND_GAP = 44.0  # between the bands of trees whose roots have different levels
ROW_WIDTH = 1100.0  # a band wraps into rows this wide (or as wide as its widest tree)
V_GAP = 40.0  # between a parent and its children
STACK_MIN = 3  # this many childless siblings are stacked in a column
STACK_INDENT = 24.0
STACK_GAP = 10.0
MARGIN = 16.0
FONT, SMALL, LINE_H = 12.0, 10.0, 15.0
PAD = 8.0  # text padding inside a box
FONT_FAMILY = "system-ui, 'Noto Sans CJK JP', 'Noto Sans CJK SC', sans-serif"
TREE_COLOUR = "#94a3b8"

LEVEL_ORDER = ("head", "supra_ministerial", "ministerial", "agency", "advisory", "legislative")
LEVEL_COLOURS: dict[str, tuple[str, str]] = {  # level -> (fill, stroke)
    "head": ("#fde2e2", "#b91c1c"),
    "supra_ministerial": ("#ede4fb", "#6d28d9"),
    "ministerial": ("#dbeafe", "#1d4ed8"),
    "agency": ("#dcfce7", "#15803d"),
    "advisory": ("#fef3c7", "#b45309"),
    "legislative": ("#e5e7eb", "#4b5563"),
}
OTHER_COLOURS = ("#f1f5f9", "#64748b")
RELATION_COLOURS: dict[str, str] = {
    "advises": "#c2410c",
    "funds": "#047857",
    "transfers_budget_to": "#be185d",
}
NO_LINE_START = frozenset("・、。，．）」』】〉》ー…:;,.)")


@dataclass(frozen=True)
class ChartBody:
    """One box: ``label`` in the reader's language, ``sublabel`` e.g. a short name."""

    key: str
    label: str
    level: str
    kind: str = ""
    parent: str | None = None
    sublabel: str = ""
    href: str | None = None
    title: str = ""


@dataclass(frozen=True)
class ChartRelation:
    source: str
    target: str
    type: str


Point = tuple[float, float]


@dataclass
class _Block:
    """A laid-out subtree: its size, where a connector from above enters, and its contents."""

    width: float
    height: float
    entry: float
    boxes: dict[str, Point] = field(default_factory=dict)
    lines: list[list[Point]] = field(default_factory=list)

    def place(self, into: _Block, dx: float, dy: float) -> None:
        into.boxes.update({k: (x + dx, y + dy) for k, (x, y) in self.boxes.items()})
        into.lines.extend([[(x + dx, y + dy) for x, y in line] for line in self.lines])


# ---------------------------------------------------------------- tree


def tree_parents(
    bodies: Sequence[ChartBody], relations: Iterable[ChartRelation] = ()
) -> dict[str, str | None]:
    """Each body's parent in the chart: its ``parent``, else whom it reports to, else None.

    Unknown parents make a body a root; links that would close a cycle are dropped.
    """
    keys = {b.key for b in bodies}
    parent_of: dict[str, str | None] = {}
    for body in bodies:
        if body.key not in parent_of:
            wanted = body.parent if body.parent in keys else None
            ok = wanted and not _closes_cycle(parent_of, body.key, wanted)
            parent_of[body.key] = wanted if ok else None
    for rel in relations:
        if (
            rel.type == "reports_to"
            and rel.source in keys
            and rel.target in keys
            and parent_of.get(rel.source) is None
            and not _closes_cycle(parent_of, rel.source, rel.target)
        ):
            parent_of[rel.source] = rel.target
    return parent_of


def _closes_cycle(parent_of: Mapping[str, str | None], child: str, parent: str) -> bool:
    seen: set[str] = set()
    current: str | None = parent
    while current is not None and current not in seen:
        if current == child:
            return True
        seen.add(current)
        current = parent_of.get(current)
    return False


def _children(
    bodies: Sequence[ChartBody], parent_of: Mapping[str, str | None]
) -> tuple[list[str], dict[str, list[str]]]:
    roots: list[str] = []
    children: dict[str, list[str]] = {k: [] for k in parent_of}
    for key in dict.fromkeys(b.key for b in bodies):
        parent = parent_of[key]
        (children[parent] if parent else roots).append(key)
    return roots, children


# ---------------------------------------------------------------- layout


def _leaf(key: str) -> _Block:
    return _Block(BOX_W, BOX_H, BOX_W / 2, {key: (0.0, 0.0)})


def _column(keys: Sequence[str]) -> _Block:
    """Childless siblings stacked top to bottom, joined by a spine on their left."""
    spine = STACK_INDENT / 2
    block = _Block(STACK_INDENT + BOX_W, 0.0, spine)
    for i, key in enumerate(keys):
        top = i * (BOX_H + STACK_GAP)
        block.boxes[key] = (STACK_INDENT, top)
        block.lines.append([(spine, top + BOX_H / 2), (STACK_INDENT, top + BOX_H / 2)])
    block.height = len(keys) * BOX_H + (len(keys) - 1) * STACK_GAP
    block.lines.append([(spine, 0.0), (spine, block.height - BOX_H / 2)])
    return block


def _units(kids: Sequence[str], blocks: dict[str, _Block], leaf: set[str]) -> list[_Block]:
    leaves = [k for k in kids if k in leaf]
    if len(leaves) < STACK_MIN:
        return [blocks.pop(k) for k in kids]
    for k in leaves:
        blocks.pop(k)
    return [_column(leaves), *(blocks.pop(k) for k in kids if k not in leaf)]


def _side_by_side(units: Sequence[_Block], gap: float, top: float) -> tuple[_Block, list[float]]:
    row = _Block(0.0, 0.0, 0.0)
    entries, x = [], 0.0
    for unit in units:
        unit.place(row, x, top)
        entries.append(x + unit.entry)
        x += unit.width + gap
    row.width = x - gap
    row.height = top + max(u.height for u in units)
    return row, entries


def _with_parent(key: str, units: Sequence[_Block]) -> _Block:
    """A parent box centred over its children's entries, joined by a bus line."""
    row, entries = _side_by_side(units, H_GAP, BOX_H + V_GAP)
    centre = (entries[0] + entries[-1]) / 2
    shift = max(0.0, BOX_W / 2 - centre)
    block = _Block(max(row.width + shift, centre + shift + BOX_W / 2), row.height, centre + shift)
    row.place(block, shift, 0.0)
    block.boxes[key] = (centre + shift - BOX_W / 2, 0.0)
    bus = BOX_H + V_GAP / 2
    cx = centre + shift
    block.lines.append([(cx, BOX_H), (cx, bus)])
    block.lines.append([(entries[0] + shift, bus), (entries[-1] + shift, bus)])
    block.lines.extend([(e + shift, bus), (e + shift, BOX_H + V_GAP)] for e in entries)
    return block


def _bands(
    roots: Sequence[str], blocks: Mapping[str, _Block], level_of: Mapping[str, str]
) -> _Block:
    """The trees of the forest in bands by their root's level, each band wrapped into rows."""
    order = {level: i for i, level in enumerate(LEVEL_ORDER)}
    ranked = sorted(roots, key=lambda k: order.get(level_of[k], len(order)))
    max_w = max([ROW_WIDTH, *(blocks[k].width for k in roots)])
    forest = _Block(0.0, 0.0, 0.0)
    x = y = row_h = 0.0
    band = level_of[ranked[0]] if ranked else ""
    for key in ranked:
        unit = blocks[key]
        new_band = level_of[key] != band
        if new_band or (x and x + unit.width > max_w):
            y += row_h + (BAND_GAP if new_band else ROW_GAP)
            x = row_h = 0.0
            band = level_of[key]
        unit.place(forest, x, y)
        forest.width = max(forest.width, x + unit.width)
        x += unit.width + ROOT_GAP
        row_h = max(row_h, unit.height)
    forest.height = y + row_h
    return forest


def layout(
    bodies: Sequence[ChartBody], relations: Iterable[ChartRelation] = ()
) -> tuple[dict[str, Point], list[list[Point]], float, float]:
    """Top-left corner of every box, the tree's connector polylines, and the total size."""
    parent_of = tree_parents(bodies, relations)
    roots, children = _children(bodies, parent_of)
    order, stack = [], list(reversed(roots))
    while stack:  # depth-first, iteratively: mechanisms may be deep
        key = stack.pop()
        order.append(key)
        stack.extend(reversed(children[key]))
    leaf = {k for k in order if not children[k]}
    blocks: dict[str, _Block] = {}
    for key in reversed(order):
        kids = children[key]
        blocks[key] = _with_parent(key, _units(kids, blocks, leaf)) if kids else _leaf(key)
    forest = _bands(roots, blocks, {b.key: b.level for b in bodies})
    return forest.boxes, forest.lines, forest.width, forest.height


# ---------------------------------------------------------------- text


def _char_width(ch: str, size: float) -> float:
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return size
    if ch in "il.,:;'|!()[] ":
        return size * 0.32
    return size * (0.66 if ch.isupper() or ch in "mwMW@%" else 0.55)


def text_width(text: str, size: float = FONT) -> float:
    """An estimate of the rendered width of ``text`` (CJK characters are full width)."""
    return sum(_char_width(ch, size) for ch in text)


def _tokens(text: str) -> list[str]:
    """Words, single spaces, and each wide (CJK) character on its own: the places to break."""
    tokens: list[str] = []
    word = ""
    for ch in " ".join(text.split()):
        wide = unicodedata.east_asian_width(ch) in ("W", "F")
        if ch == " " or wide:
            if word:
                tokens.append(word)
            tokens.append(ch)
            word = ""
        else:
            word += ch
    return [*tokens, word] if word else tokens


def _ellipsize(line: str, size: float, width: float) -> str:
    while line and text_width(line + "…", size) > width:
        line = line[:-1]
    return line.rstrip() + "…"


def wrap(text: str, size: float, width: float, max_lines: int) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines of ``width``; ellipsize the last one."""
    lines: list[str] = []
    current = ""
    for token in _tokens(text):
        candidate = current + token
        fits = text_width(candidate.rstrip(), size) <= width
        if fits or not current.strip() or token == " " or token[0] in NO_LINE_START:
            current = candidate
            continue
        lines.append(current.rstrip())
        current = token
    lines.extend(_split_long(current.strip(), size, width))
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _ellipsize(lines[max_lines - 1], size, width)]
    return [
        line if text_width(line, size) <= width else _ellipsize(line, size, width) for line in lines
    ]


def _split_long(text: str, size: float, width: float) -> list[str]:
    out = []
    while text and text_width(text, size) > width and " " not in text:
        cut = len(text)
        while cut > 1 and text_width(text[:cut], size) > width:
            cut -= 1
        out.append(text[:cut])
        text = text[cut:]
    return [*out, text] if text else out


# ---------------------------------------------------------------- SVG


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _polyline(points: Sequence[Point]) -> str:
    return "M" + " L".join(f"{_n(x)},{_n(y)}" for x, y in points)


def _box_svg(body: ChartBody, x: float, y: float) -> str:
    fill, stroke = LEVEL_COLOURS.get(body.level, OTHER_COLOURS)
    label_lines = wrap(body.label, FONT, BOX_W - 2 * PAD, 2 if body.sublabel else 3)
    sub = wrap(body.sublabel, SMALL, BOX_W - 2 * PAD, 1) if body.sublabel else []
    total = len(label_lines) * LINE_H + len(sub) * (LINE_H - 2)
    baseline = y + (BOX_H - total) / 2 + FONT
    cx = _n(x + BOX_W / 2)
    spans = []
    for i, line in enumerate(label_lines):
        spans.append(f'<tspan x="{cx}" y="{_n(baseline + i * LINE_H)}">{escape(line)}</tspan>')
    text = (
        f'<text class="label" font-size="{_n(FONT)}" text-anchor="middle">{"".join(spans)}</text>'
    )
    if sub:
        sub_y = baseline + len(label_lines) * LINE_H - 1
        text += (
            f'<text class="sublabel" x="{cx}" y="{_n(sub_y)}" font-size="{_n(SMALL)}" '
            f'text-anchor="middle" fill="#475569">{escape(sub[0])}</text>'
        )
    rect = (
        f'<rect class="box" x="{_n(x)}" y="{_n(y)}" width="{_n(BOX_W)}" height="{_n(BOX_H)}" '
        f'rx="6" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
    )
    title = f"<title>{escape(body.title or body.label)}</title>"
    data = f'class="node" data-key="{_attr(body.key)}" data-level="{_attr(body.level)}"'
    if body.href:
        return f'<a href="{_attr(body.href)}" {data}>{title}{rect}{text}</a>'
    return f"<g {data}>{title}{rect}{text}</g>"


def _anchor_points(a: Point, b: Point) -> tuple[Point, Point, Point, Point]:
    """Start, two control points and end of a curve from box ``a`` to box ``b``."""
    (ax, ay), (bx, by) = a, b
    if abs(ax - bx) < BOX_W / 2:  # one above the other: curve out to the right
        start, end = (ax + BOX_W, ay + BOX_H / 2), (bx + BOX_W, by + BOX_H / 2)
        bulge = 40.0 + abs(ay - by) / 8
        return start, (start[0] + bulge, start[1]), (end[0] + bulge, end[1]), end
    if by > ay + BOX_H:
        start, end = (ax + BOX_W / 2, ay + BOX_H), (bx + BOX_W / 2, by)
    elif by + BOX_H < ay:
        start, end = (ax + BOX_W / 2, ay), (bx + BOX_W / 2, by + BOX_H)
    else:
        side = BOX_W if bx > ax else 0.0
        start, end = (ax + side, ay + BOX_H / 2), (bx + BOX_W - side, by + BOX_H / 2)
        mid = (start[0] + end[0]) / 2
        return start, (mid, start[1]), (mid, end[1]), end
    mid = (start[1] + end[1]) / 2
    return start, (start[0], mid), (end[0], mid), end


def _relation_svg(rel: ChartRelation, boxes: Mapping[str, Point], chart_id: str) -> str:
    start, c1, c2, end = _anchor_points(boxes[rel.source], boxes[rel.target])
    d = f"M{_n(start[0])},{_n(start[1])} C{_n(c1[0])},{_n(c1[1])} {_n(c2[0])},{_n(c2[1])} "
    d += f"{_n(end[0])},{_n(end[1])}"
    colour = RELATION_COLOURS[rel.type]
    return (
        f'<path class="rel rel-{rel.type}" d="{d}" fill="none" stroke="{colour}" '
        f'stroke-width="1.3" stroke-dasharray="6 4" opacity="0.75" '
        f'marker-end="url(#{chart_id}-arrow-{rel.type})" data-from="{_attr(rel.source)}" '
        f'data-to="{_attr(rel.target)}"/>'
    )


def _markers(chart_id: str) -> str:
    return "".join(
        f'<marker id="{chart_id}-arrow-{kind}" viewBox="0 0 8 8" refX="7" refY="4" '
        f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M0,0 L8,4 L0,8 z" fill="{colour}"/></marker>'
        for kind, colour in RELATION_COLOURS.items()
    )


def _label(labels: Mapping[str, str], key: str) -> str:
    return labels.get(key) or key.replace("_", " ")


def _legend_items(
    levels: Iterable[str], relations: Iterable[str], labels: Mapping[str, str]
) -> Iterator[tuple[str, str]]:
    for level in levels:
        fill, stroke = LEVEL_COLOURS.get(level, OTHER_COLOURS)
        yield (
            _label(labels, level),
            f'<rect x="0" y="-10" width="14" height="12" rx="3" fill="{fill}" stroke="{stroke}"/>',
        )
    yield (
        _label(labels, "tree"),
        f'<line x1="0" y1="-4" x2="18" y2="-4" stroke="{TREE_COLOUR}" stroke-width="1.5"/>',
    )
    for kind in relations:
        colour = RELATION_COLOURS[kind]
        yield (
            _label(labels, kind),
            f'<line x1="0" y1="-4" x2="18" y2="-4" stroke="{colour}" stroke-width="1.5" '
            f'stroke-dasharray="5 3"/>',
        )


def _legend(
    levels: Iterable[str], relations: Iterable[str], labels: Mapping[str, str], width: float
) -> tuple[str, float]:
    """The legend as one ``<g>``, wrapped into rows of ``width``; returns it and its height."""
    parts, x, y = [], 0.0, 14.0
    for text, swatch in _legend_items(levels, relations, labels):
        item_w = 24 + text_width(text, FONT) + 18
        if x and x + item_w > width:
            x, y = 0.0, y + 20
        parts.append(
            f'<g class="legend-item" transform="translate({_n(x)},{_n(y)})">{swatch}'
            f'<text x="24" y="0" font-size="{_n(FONT)}">{escape(text)}</text></g>'
        )
        x += item_w
    return f'<g class="legend">{"".join(parts)}</g>', y + 8


def org_chart_svg(
    bodies: Sequence[ChartBody],
    relations: Sequence[ChartRelation] = (),
    *,
    labels: Mapping[str, str] | None = None,
    title: str = "Organisation chart",
    chart_id: str = "orgchart",
) -> str:
    """The org chart as an SVG document (see the module docstring).

    ``labels`` translates legend entries: level keys, relation types and ``"tree"``.
    """
    labels = labels or {}
    known = {b.key: b for b in bodies}
    boxes, lines, width, height = layout(bodies, relations)
    overlay = [
        r
        for r in relations
        if r.type in RELATION_COLOURS
        and r.source in boxes
        and r.target in boxes
        and r.source != r.target
    ]
    present = {known[k].level for k in boxes}
    levels = [lv for lv in LEVEL_ORDER if lv in present] + sorted(present - set(LEVEL_ORDER))
    kinds = [k for k in RELATION_COLOURS if any(r.type == k for r in overlay)]
    legend, legend_h = _legend(levels, kinds, labels, max(width, 560.0))
    top = MARGIN + legend_h + 12
    total_w = max(width, 560.0) + 2 * MARGIN + 60  # room for curves bulging right
    total_h = top + height + MARGIN
    tree = "".join(f'<path d="{_polyline(line)}"/>' for line in lines)
    body_svg = "".join(_box_svg(known[k], x + MARGIN, y + top) for k, (x, y) in boxes.items())
    shifted = {k: (x + MARGIN, y + top) for k, (x, y) in boxes.items()}
    rel_svg = "".join(_relation_svg(r, shifted, chart_id) for r in overlay)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="orgchart" id="{_attr(chart_id)}" '
        f'width="{_n(total_w)}" height="{_n(total_h)}" viewBox="0 0 {_n(total_w)} {_n(total_h)}" '
        f'role="group" aria-label="{_attr(title)}" font-family="{_attr(FONT_FAMILY)}">'
        f"<title>{escape(title)}</title><defs>{_markers(chart_id)}</defs>"
        f'<g transform="translate({_n(MARGIN)},{_n(MARGIN)})">{legend}</g>'
        f'<g class="tree" transform="translate({_n(MARGIN)},{_n(top)})" fill="none" '
        f'stroke="{TREE_COLOUR}" stroke-width="1.5">{tree}</g>'
        f'<g class="relations">{rel_svg}</g><g class="bodies">{body_svg}</g></svg>'
    )
