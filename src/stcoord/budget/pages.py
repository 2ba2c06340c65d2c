"""HTML pages of the budget: the landing page, the crosscut explorer with its charts and exports,
data calls with checked uploads, priorities (direct or AHP), allocation scenarios and their
comparison, the unity-of-powers check, and the budget supplement as HTML and PDF.

Routes call the budget services (and the read helpers of ``budget/report.py``) and render; a
form post calls one service, and a refusal (invalid input, a duplicate, a stale memo) is shown
in the page with what was typed and nothing written. Budget data is not public: every page
needs ``budget.read`` (the services check it; a liaison sees only its own agency's money).

For the CLI: :func:`build_supplement_pdf` returns the supplement's PDF bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from stcoord.analytics.ahp import RANDOM_INDEX
from stcoord.auth.permissions import Actor, permits, require
from stcoord.budget import datacalls, priorities, report, scenarios
from stcoord.budget.classifications import get_classification
from stcoord.budget.crosscut import DIMENSIONS, UNCLASSIFIED, Crosscut, CrosscutRow, crosscut
from stcoord.budget.models import PHASES, Agency, BudgetField, Classification, PrioritySet, Scenario
from stcoord.budget.report import ExplorerData, Pivot, Supplement
from stcoord.budget.unity import UnityRow, unity_check
from stcoord.errors import Conflict, NotFound, ValidationFailed
from stcoord.reports import budget_charts as bc
from stcoord.reports import charts
from stcoord.reports.pdf import html_to_pdf
from stcoord.tabular import MEDIA_TYPES, TableError, read_table, write_table
from stcoord.web.dependencies import CurrentActor, DbSession, Language, check_csrf
from stcoord.web.forms import Form, Refusal, form_text, redirect_with_flash, refused
from stcoord.web.i18n import LANGUAGES, local_name, term_translator, translations
from stcoord.web.templating import PageRenderer, templates

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
TABLE_PAGE = 200  # crosscut rows per page; the exports have every row
PAGE_SVG_WIDTH = 1000  # server-drawn charts on a page (the PDF uses reports.charts.WIDTH)
TOP_AGENCIES = 10  # agencies named in charts; the rest are summed as "other agencies"
MAX_AHP_ITEMS = max(RANDOM_INDEX)
SAATY = ["9", "8", "7", "6", "5", "4", "3", "2", "1", "1/2", "1/3", "1/4", "1/5", "1/6", "1/7"]
SAATY += ["1/8", "1/9"]


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


TERMS: dict[str, dict[str, str]] = {
    "phase": {
        "request": N_("request"),
        "estimate": N_("estimate"),
        "enacted": N_("enacted"),
        "actual": N_("actual"),
    },
    "dimension": {
        "agency": N_("Agency"),
        "field": N_("Field"),
        "year": N_("Fiscal year"),
        "program": N_("Program"),
    },
    "submission": {"pending": N_("pending"), "submitted": N_("submitted")},
    "call": {"open": N_("open"), "closed": N_("closed")},
    "outcome": {
        "optimal": N_("optimal"),
        "infeasible": N_("infeasible"),
        "unbounded": N_("unbounded"),
        "error": N_("error"),
    },
    "method": {"direct": N_("Direct weights"), "ahp": N_("AHP pairwise comparison")},
    "unit": {
        "thousands": N_("%(currency)s thousands"),
        "millions": N_("%(currency)s millions"),
        "billions": N_("%(currency)s billions"),
        "trillions": N_("%(currency)s trillions"),
    },
}
FLASHES = {
    "datacall": N_("The data call was opened."),
    "uploaded": N_("The file was checked and its lines were saved."),
    "priorities": N_("The priorities were saved."),
    "memo": N_("The priorities memo was saved."),
    "scenario": N_("The scenario was solved and saved."),
}
OTHER_AGENCIES = N_("Other agencies")
TOTAL = N_("Total")


# ---------------------------------------------------------------- words and numbers


def money(value: Decimal | float | None) -> str:
    """``1,234,567`` (whole amounts and large ones), ``12.50``; a dash for no value."""
    if value is None:
        return "—"
    number = float(value)
    if not math.isfinite(number):
        return "—"
    return f"{number:,.0f}" if abs(number) >= 1000 or number == int(number) else f"{number:,.2f}"


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}%}"


def growth(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1%}"


def number(value: float | None, digits: int = 4) -> str:
    """A price or a ratio: ``0.3``, ``1.25e-05``; a dash for none."""
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"


def term_function(lang: str) -> Callable[[str, str | None], str]:
    return term_translator(lang, TERMS)


def field_label(f: BudgetField | None, lang: str) -> str:
    if f is None:
        return ""
    return str((f.names or {}).get(lang) or f.name)


@dataclass(frozen=True)
class Words:
    """Names of agencies and fields in the page's language, and the amount unit."""

    lang: str
    agencies: Mapping[str, Agency] = field(default_factory=dict)
    fields: Mapping[str, BudgetField] = field(default_factory=dict)
    currency: str | None = None

    @property
    def gettext(self) -> Callable[[str], str]:
        return translations(self.lang).gettext

    def agency(self, code: str) -> str:
        if code == UNCLASSIFIED:
            return self.gettext("(unclassified)")
        agency = self.agencies.get(code)
        return local_name(agency, self.lang) if agency is not None else code

    def agency_code(self, code: str) -> str:
        """An agency's code (short, for legends); "other agencies" translated."""
        return self.gettext(OTHER_AGENCIES) if code == OTHER_AGENCIES else code

    def field(self, key: str) -> str:
        if key == UNCLASSIFIED:
            return self.gettext("(unclassified)")
        return field_label(self.fields.get(key), self.lang) or key

    def key(self, dim: str, value: Any) -> str:
        """A crosscut key as a person reads it."""
        if value == UNCLASSIFIED:
            return self.gettext("(unclassified)")
        if dim == "agency":
            name = self.agency(value)
            return value if name == value else f"{value} · {name}"
        if dim == "field":
            name = self.field(value)
            return value if name == value else f"{value} · {name}"
        if dim == "year":
            return self.gettext("FY%(year)s") % {"year": value}
        return str(value) or "—"

    def unit(self, largest: float) -> tuple[float, str]:
        """(divisor, "USD millions") for amounts up to ``largest``."""
        divisor, word = bc.amount_unit(largest)
        if word == "units":
            return divisor, self.currency or self.gettext("amount")
        message = TERMS["unit"][word]
        return divisor, (self.gettext(message) % {"currency": self.currency or ""}).strip()

    def amount_title(self, largest: float) -> tuple[float, str]:
        divisor, unit = self.unit(largest)
        return divisor, self.gettext("Amount (%(unit)s)") % {"unit": unit}


def helpers(lang: str) -> dict[str, Any]:
    return {
        "term": term_function(lang),
        "money": money,
        "pct": percent,
        "growth": growth,
        "num": number,
        "field_label": lambda f: field_label(f, lang),
        "PHASES": PHASES,
    }


_page = PageRenderer(FLASHES, helpers)


def _split(values: Iterable[str] | None) -> list[str]:
    """``a,b`` and repeated parameters alike, blanks dropped."""
    return [v.strip() for item in values or [] for v in str(item).split(",") if v.strip()]


def _int_list(values: Iterable[str] | None, name: str) -> list[int]:
    try:
        return sorted({int(v) for v in _split(values)})
    except ValueError:
        raise ValidationFailed([(name, N_("write years as numbers, e.g. 2022,2023"))]) from None


# ---------------------------------------------------------------- charts


@dataclass(frozen=True)
class VegaChart:
    """A Vega-Lite chart: its spec for vega-embed and its server-rendered SVG (the fallback
    without JavaScript, and what the PDF prints)."""

    id: str
    spec: dict[str, Any]

    @property
    def svg(self) -> Markup:
        return Markup(charts.to_svg(self.spec))


@dataclass(frozen=True)
class SvgChart:
    """A chart drawn server-side (treemap, Sankey), with its colour legend."""

    id: str
    svg: Markup
    caption: str = ""
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # (colour, key, label)


def field_colours(keys: Sequence[str]) -> dict[str, str]:
    return bc.palette([k for k in keys if k != UNCLASSIFIED], other=UNCLASSIFIED)


def _top_agencies(totals: Mapping[str, Decimal], n: int = TOP_AGENCIES) -> list[str]:
    ranked = sorted(totals, key=lambda a: (-totals[a], a))
    return ranked if len(ranked) <= n + 1 else ranked[:n]


def stack_chart(
    data: ExplorerData, stack: str, w: Words, font: str, chart_id: str = "chart-stack"
) -> VegaChart | None:
    """Amounts per year stacked by agency (the largest ten, then the rest) or by field."""
    gettext = w.gettext
    label: Callable[[str], str]
    by_field = data.field_year() if stack == "field" else None
    if by_field is not None:
        table = by_field
        series_keys = table.rows
        label = w.field
        colours = {
            w.field(k): c for k, c in field_colours([*data.field_keys, UNCLASSIFIED]).items()
        }
        series_title = gettext("Field")
    else:
        table = data.agency_year()
        top = _top_agencies(table.row_totals)
        series_keys = top + ([OTHER_AGENCIES] if len(top) < len(table.rows) else [])
        label = w.agency_code  # codes keep the legend short
        colours = {label(k): c for k, c in bc.palette(series_keys, other=OTHER_AGENCIES).items()}
        series_title = gettext("Agency")
    if not table.cells:
        return None
    amounts: dict[tuple[str, Any], float] = {}
    for (row, col), amount in table.cells.items():
        key = row if row in series_keys else OTHER_AGENCIES
        amounts[(key, col)] = amounts.get((key, col), 0.0) + float(amount)
    divisor, title = w.amount_title(max(float(v) for v in table.col_totals.values()))
    values = [
        bc.Datum(w.key("year", year), label(key), amount / divisor)
        for (key, year), amount in amounts.items()
    ]
    spec = bc.stacked_bars(
        values,
        category_title=gettext("Fiscal year"),
        amount_title=title,
        series_title=series_title,
        categories=[w.key("year", y) for y in table.cols],
        series=[label(k) for k in series_keys],
        colours=colours,
        font=font,
    )
    return VegaChart(chart_id, spec)


def phase_chart(
    data: ExplorerData, w: Words, font: str, chart_id: str = "chart-phases"
) -> VegaChart | None:
    """Request, estimate, enacted and actual side by side per agency, in one fiscal year."""
    rows = [r for r in data.phases if any(v for v in r.amounts.values())]
    used = [p for p in PHASES if any(r.amounts.get(p) for r in rows)]
    if not rows or data.phase_year is None:
        return None
    largest = {r.agency: max(float(v or 0) for v in r.amounts.values()) for r in rows}
    shown = sorted(largest, key=lambda a: (-largest[a], a))[:12]
    divisor, title = w.amount_title(max(largest.values()))
    term = term_function(w.lang)
    values = [
        bc.Datum(r.agency, term("phase", p), float(r.amounts[p] or 0) / divisor)
        for r in rows
        if r.agency in shown
        for p in used
    ]
    spec = bc.grouped_bars(
        values,
        category_title=w.gettext("Agency"),
        amount_title=title,
        series_title=w.gettext("Phase"),
        categories=shown,
        series=[term("phase", p) for p in used],
        colours=dict(
            zip(
                [term("phase", p) for p in PHASES],
                ["#94a3b8", "#f59e0b", "#1d4ed8", "#15803d"],
                strict=True,
            )
        ),
        font=font,
    )
    return VegaChart(chart_id, spec)


def _nested(table: Pivot, top: list[str] | None = None) -> dict[str, dict[str, float]]:
    """{row: {column: amount}} of a pivot, rows outside ``top`` summed as other agencies."""
    out: dict[str, dict[str, float]] = {}
    for (row, col), amount in table.cells.items():
        key = row if top is None or row in top else OTHER_AGENCIES
        inner = out.setdefault(key, {})
        inner[col] = inner.get(col, 0.0) + float(amount)
    return out


def treemap_chart(
    data: ExplorerData,
    first: str,
    w: Words,
    font: str,
    year: int | None = None,
    width: int = charts.WIDTH,
) -> SvgChart | None:
    """Agency → field (or field → agency), each rectangle sized by its amount."""
    table = data.agency_field(year)
    if table is None or not table.cells:
        return None
    top = _top_agencies(table.row_totals, 14)
    by_agency = _nested(table, top)
    colours = field_colours([*data.field_keys, UNCLASSIFIED])
    divisor, unit = w.unit(float(table.total))
    fmt = _scaled(divisor)

    def label(k: str) -> str:
        return w.gettext(k) if k == OTHER_AGENCIES else (k if k != UNCLASSIFIED else w.field(k))

    if first == "field":
        groups: dict[str, dict[str, float]] = {}
        for agency, fields in by_agency.items():
            for f, amount in fields.items():
                groups.setdefault(f, {})[agency] = amount
        title = w.gettext("Treemap: fields, then agencies (%(unit)s)") % {"unit": unit}
    else:
        groups = by_agency
        title = w.gettext("Treemap: agencies, then fields (%(unit)s)") % {"unit": unit}
    svg = bc.treemap_svg(
        groups,
        title=title,
        label=label,
        colours=colours,
        fmt=fmt,
        font=font,
        width=width,
        height=round(width * 0.45),
    )
    return SvgChart("chart-treemap", Markup(svg), title, _legend(table.cols, colours, w))


def _legend(
    keys: Iterable[str], colours: Mapping[str, str], w: Words
) -> list[tuple[str, str, str]]:
    return [(colours.get(k, bc.OTHER_COLOUR), k, w.field(k)) for k in keys]


def _scaled(divisor: float) -> Callable[[float | Decimal], str]:
    def fmt(value: float | Decimal) -> str:
        scaled = float(value) / divisor
        return f"{scaled:,.0f}" if abs(scaled) >= 100 else f"{scaled:,.1f}"

    return fmt


def sankey_chart(
    data: ExplorerData,
    w: Words,
    font: str,
    year: int | None = None,
    width: int = charts.WIDTH,
) -> SvgChart | None:
    """The total through the agencies (the largest ten, then the rest) to the fields."""
    table = data.agency_field(year)
    if table is None or not table.cells:
        return None
    top = _top_agencies(table.row_totals)
    nested = _nested(table, top)
    amounts = {
        (f"a:{agency}", f"f:{f}"): amount
        for agency, fields in nested.items()
        for f, amount in fields.items()
    }
    order = [f"a:{a}" for a in [*top, OTHER_AGENCIES]]
    flows = bc.three_level_flows("total", amounts, order)
    # the fields' column follows the classification's order (nodes appear in flow order)
    field_order = {f"f:{k}": i for i, k in enumerate([*data.field_keys, UNCLASSIFIED])}
    ordered = [f for f in flows if f.source == "total"] + sorted(
        (f for f in flows if f.source != "total"), key=lambda f: field_order.get(f.target, 999)
    )
    fields_shown = {f.target for f in ordered if f.source != "total"}
    colours = {f"f:{k}": c for k, c in field_colours([*data.field_keys, UNCLASSIFIED]).items()}
    divisor, unit = w.unit(float(table.total))

    def label(key: str) -> str:
        if key == "total":
            return w.gettext(TOTAL)
        kind, _, value = key.partition(":")
        if value == OTHER_AGENCIES:
            return w.gettext(OTHER_AGENCIES)
        return value if kind == "a" else (value if value != UNCLASSIFIED else w.field(value))

    title = w.gettext("From the total through agencies to fields (%(unit)s)") % {"unit": unit}
    svg = bc.sankey_svg(
        ordered,
        title=title,
        label=label,
        colours=colours,
        fmt=_scaled(divisor),
        font=font,
        width=width,
        height=max(360, 26 * len(fields_shown)),
    )
    legend = _legend(table.cols, colours_of(colours), w)
    return SvgChart("chart-sankey", Markup(svg), title, legend)


def colours_of(prefixed: Mapping[str, str]) -> dict[str, str]:
    return {k.partition(":")[2]: c for k, c in prefixed.items()}


def unity_chart(rows: list[UnityRow], w: Words, font: str) -> VegaChart | None:
    """Per field: steered money and money set by ministries alone, stacked."""
    if not rows or not any(r.total for r in rows):
        return None
    divisor, title = w.amount_title(max(float(r.total) for r in rows))
    steered, alone = w.gettext("Steered by the coordinating body"), w.gettext("Set by ministries")
    values = [
        item
        for r in rows
        for item in (
            bc.Datum(w.key("field", r.field), steered, float(r.steered) / divisor),
            bc.Datum(w.key("field", r.field), alone, float(r.total - r.steered) / divisor),
        )
    ]
    spec = bc.stacked_bars(
        values,
        category_title="",  # the labels are the fields' names
        amount_title=title,
        series_title=" ",
        categories=[w.key("field", r.field) for r in rows],
        series=[steered, alone],
        colours={steered: "#6d28d9", alone: "#cbd5e1"},
        horizontal=True,
        font=font,
    )
    return VegaChart("chart-unity", spec)


# ---------------------------------------------------------------- landing page


@router.get("/budget", response_class=HTMLResponse)
def budget_home(
    request: Request, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    """What budget data there is, and where to go from here."""
    schemes = report.classifications_of(session, actor)
    return _page(
        request,
        "budget/index.html",
        actor=actor,
        lang=lang,
        jurisdictions=report.budget_jurisdictions(session, actor),
        classifications=schemes,
        default_scheme={
            j: s.key
            for j in {c.jurisdiction_code for c in schemes}
            if (s := report.default_classification(session, actor, j)) is not None
        },
        calls=report.data_calls(session, actor)[:5],
        priority_sets=priorities.list_priorities(session, actor),
        scenario_rows=scenarios.list_scenarios(session, actor),
        may_manage=permits(actor, "budget.manage"),
    )


# ---------------------------------------------------------------- the crosscut explorer


@dataclass(frozen=True)
class CrosscutQuery:
    """The explorer's filters, as chosen or defaulted."""

    jurisdiction: str
    classification: str | None
    by: list[str]
    phase: str
    years: list[int]
    agencies: list[str]
    stack: str = "agency"
    tree: str = "agency"
    dropped_field: bool = False  # "field" was asked for without a classification

    def params(self) -> dict[str, Any]:
        return {
            "jurisdiction": self.jurisdiction,
            "classification": self.classification or "",
            "by": ",".join(self.by),
            "phase": self.phase,
            "years": ",".join(map(str, self.years)),
            "agencies": ",".join(self.agencies),
        }

    def query(self) -> str:
        return urlencode({k: v for k, v in self.params().items() if v})

    def link(self, path: str = "/budget/crosscut", **changes: Any) -> str:
        """The explorer with these filters and some changes (sort, offset, chart choices)."""
        params = {**self.params(), "stack": self.stack, "tree": self.tree, **changes}
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return f"{path}?{query}"


@dataclass(frozen=True)
class RawCrosscutQuery:
    jurisdiction: str | None
    classification: str | None
    by: list[str]
    phase: str
    years: list[str]
    agencies: list[str]
    stack: str
    tree: str


def raw_crosscut_query(
    jurisdiction: str | None = None,
    classification: str | None = None,
    by: Annotated[list[str] | None, Query()] = None,
    phase: str = "enacted",
    years: Annotated[list[str] | None, Query()] = None,
    agencies: Annotated[list[str] | None, Query()] = None,
    stack: str = "agency",
    tree: str = "agency",
) -> RawCrosscutQuery:
    return RawCrosscutQuery(
        (jurisdiction or "").strip().upper() or None,
        (classification or "").strip() or None,
        _split(by),
        phase,
        _split(years),
        _split(agencies),
        stack,
        tree,
    )


RawQuery = Annotated[RawCrosscutQuery, Depends(raw_crosscut_query)]


def resolve_query(session: Session, actor: Actor, raw: RawCrosscutQuery) -> CrosscutQuery:
    """Fill in defaults: the jurisdiction with the most lines, the classification in force in
    the latest year shown, grouping by agency and year."""
    jurisdiction = raw.jurisdiction
    if jurisdiction is None:
        known = report.jurisdiction_codes(session, actor)
        jurisdiction = known[0] if known else "US"
    years = _int_list(raw.years, "years")
    scheme = raw.classification
    if scheme is None:
        found = report.default_classification(
            session, actor, jurisdiction, max(years) if years else None
        )
        scheme = found.key if found else None
    by = list(dict.fromkeys(raw.by)) or ["agency", "year"]
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValidationFailed([("by", f"unknown dimension {d!r}") for d in unknown])
    dropped = "field" in by and scheme is None
    if dropped:
        by.remove("field")
    return CrosscutQuery(
        jurisdiction=jurisdiction,
        classification=scheme,
        by=by or ["agency"],
        phase=raw.phase,
        years=years,
        agencies=raw.agencies,
        stack=raw.stack if raw.stack in ("agency", "field") else "agency",
        tree=raw.tree if raw.tree in ("agency", "field") else "agency",
        dropped_field=dropped,
    )


def run_crosscut(session: Session, actor: Actor, q: CrosscutQuery) -> Crosscut:
    """The crosscut of the query. When years are chosen and grouped by, the year before each
    is read too, so the first year shown still has its growth; those rows are then dropped."""
    asked = set(q.years)
    extra = {y - 1 for y in asked} - asked if "year" in q.by else set()
    result = crosscut(
        session,
        actor,
        jurisdiction=q.jurisdiction,
        by=q.by,
        phase=q.phase,
        classification=q.classification,
        years=sorted(asked | extra) or None,
        agencies=q.agencies or None,
    )
    if not extra:
        return result
    rows = [r for r in result.rows if r.keys["year"] in asked]
    return replace(result, rows=rows, total=sum((r.amount for r in rows), Decimal(0)))


SORT_KEYS = ("amount", "share", "growth")


def sort_crosscut(rows: list[CrosscutRow], sort: str | None, by: list[str]) -> list[CrosscutRow]:
    """Rows by a grouping key or by amount, share of year or growth (``-`` for descending);
    rows without a value go last either way."""
    name = (sort or "").lstrip("-")
    if name not in (*by, *SORT_KEYS):  # the service's order, (unclassified) last
        return sorted(rows, key=lambda r: any(v == UNCLASSIFIED for v in r.keys.values()))
    desc = (sort or "").startswith("-")

    def value(r: CrosscutRow) -> Any:
        if name == "amount":
            return r.amount
        if name == "share":
            return r.share_of_year
        if name == "growth":
            return r.growth
        return str(r.keys[name])

    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    return sorted(present, key=value, reverse=desc) + missing


def words_for(
    session: Session,
    actor: Actor,
    lang: str,
    jurisdiction: str,
    scheme: Classification | None,
    currency: str | None = None,
) -> Words:
    return Words(
        lang,
        {a.code: a for a in report.budget_agencies(session, actor, jurisdiction)},
        {f.key: f for f in scheme.fields} if scheme is not None else {},
        currency if currency is not None else report.currency_of(session, actor, jurisdiction),
    )


@router.get("/budget/crosscut", response_class=HTMLResponse)
def crosscut_page(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    raw: RawQuery,
    sort: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The crosscut: filters, a sortable table with exports, and the charts."""
    q = resolve_query(session, actor, raw)
    result = run_crosscut(session, actor, q)
    reusable = {"agency", "year"} <= set(q.by) and "field" not in q.by
    data = report.explorer_data(
        session,
        actor,
        jurisdiction=q.jurisdiction,
        phase=q.phase,
        classification=q.classification,
        years=q.years,
        agencies=q.agencies,
        cube_years="latest",  # the treemap and the Sankey show the latest year
        field_years=q.stack == "field",
        by_agency_year=result if reusable else None,
    )
    w = Words(lang, data.agencies, {f.key: f for f in data.fields}, data.currency)
    font = charts.font_for(lang)
    rows = sort_crosscut(list(result.rows), sort, q.by)
    return _page(
        request,
        "budget/crosscut.html",
        actor=actor,
        lang=lang,
        q=q,
        result=result,
        rows=rows[offset : offset + TABLE_PAGE],
        total_rows=len(rows),
        offset=offset,
        page_size=TABLE_PAGE,
        sort=sort,
        data=data,
        w=w,
        jurisdictions=report.jurisdiction_codes(session, actor),
        schemes=report.classifications_of(session, actor),
        stack=stack_chart(data, q.stack, w, font),
        phases_chart=phase_chart(data, w, font),
        treemap=treemap_chart(data, q.tree, w, font, data.phase_year, width=PAGE_SVG_WIDTH),
        sankey=sankey_chart(data, w, font, data.phase_year, width=PAGE_SVG_WIDTH),
        dimensions=DIMENSIONS,
    )


def crosscut_table(result: Crosscut) -> tuple[list[str], list[list[Any]]]:
    headers = [*result.by, "amount", "share_of_year", "growth"]
    return headers, [
        [*(r.keys[d] for d in result.by), r.amount, r.share_of_year, r.growth] for r in result.rows
    ]


def _export(session: Session, actor: Actor, raw: RawCrosscutQuery, fmt: str) -> Response:
    q = resolve_query(session, actor, raw)
    headers, rows = crosscut_table(run_crosscut(session, actor, q))
    if fmt == "xlsx":  # spreadsheets want numbers, not Decimal
        rows = [[float(v) if isinstance(v, Decimal) else v for v in row] for row in rows]
    name = f"crosscut-{q.jurisdiction.lower()}-{'-'.join(q.by)}-{q.phase}.{fmt}"
    return Response(
        write_table(headers, rows, fmt),
        media_type=MEDIA_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.get("/budget/crosscut.csv")
def crosscut_csv(session: DbSession, actor: CurrentActor, raw: RawQuery) -> Response:
    """The explorer's table as CSV: the same filters, every row."""
    return _export(session, actor, raw, "csv")


@router.get("/budget/crosscut.xlsx")
def crosscut_xlsx(session: DbSession, actor: CurrentActor, raw: RawQuery) -> Response:
    """The explorer's table as an XLSX workbook: the same filters, every row."""
    return _export(session, actor, raw, "xlsx")


# ---------------------------------------------------------------- unity of powers


@router.get("/budget/unity", response_class=HTMLResponse)
def unity_page(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    jurisdiction: str | None = None,
    classification: str | None = None,
    year: int | None = None,
    phase: str = "enacted",
) -> Response:
    """Per field: money steered by the coordinating body against the total."""
    raw = RawCrosscutQuery(
        (jurisdiction or "").strip().upper() or None,
        (classification or "").strip() or None,
        [],
        phase,
        [str(year)] if year else [],
        [],
        "agency",
        "agency",
    )
    q = resolve_query(session, actor, raw)
    years = report.budget_years(session, actor, q.jurisdiction)
    chosen = year or (years[-1] if years else None)
    scheme = get_classification(session, q.classification) if q.classification else None
    rows = (
        unity_check(
            session,
            actor,
            jurisdiction=q.jurisdiction,
            classification=scheme.key,
            fiscal_year=chosen,
            phase=phase,
        )
        if scheme is not None and chosen is not None
        else []
    )
    w = words_for(session, actor, lang, q.jurisdiction, scheme)
    steered = sum((r.steered for r in rows), Decimal(0))
    total = sum((r.total for r in rows), Decimal(0))
    return _page(
        request,
        "budget/unity.html",
        actor=actor,
        lang=lang,
        q=q,
        year=chosen,
        years=years,
        rows=rows,
        steered=steered,
        total=total,
        w=w,
        chart=unity_chart(rows, w, charts.font_for(lang)),
        jurisdictions=report.jurisdiction_codes(session, actor),
        schemes=report.classifications_of(session, actor),
    )


# ---------------------------------------------------------------- data calls


@router.get("/budget/datacalls", response_class=HTMLResponse)
def datacalls_page(
    request: Request, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    return _page(
        request,
        "budget/datacalls.html",
        actor=actor,
        lang=lang,
        calls=report.data_calls(session, actor),
        may_manage=permits(actor, "budget.manage"),
    )


def _new_call_context(
    session: Session, actor: Actor, jurisdiction: str | None, values: Mapping[str, Any]
) -> dict[str, Any]:
    known = report.jurisdiction_codes(session, actor)
    schemes = report.classifications_of(session, actor)
    code = (jurisdiction or "").upper() or (known[0] if known else "US")
    years = report.budget_years(session, actor, code)
    return {
        "jurisdiction": code,
        "jurisdiction_codes": sorted(set(known) | {s.jurisdiction_code for s in schemes}),
        "schemes": [s for s in schemes if s.jurisdiction_code == code] or schemes,
        "agency_rows": report.budget_agencies(session, actor, code),
        "values": {
            "fiscal_year": (years[-1] + 1) if years else dt.date.today().year + 1,
            "currency": report.currency_of(session, actor, code) or "",
            **values,
        },
    }


@router.get("/budget/datacalls/new", response_class=HTMLResponse)
def new_datacall_form(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    jurisdiction: str | None = None,
) -> Response:
    """The form coordinators open a data call with."""
    require(actor, "budget.manage")
    context = _new_call_context(session, actor, jurisdiction, {})
    return _page(request, "budget/datacall_new.html", actor=actor, lang=lang, **context)


@router.post("/budget/datacalls", response_class=HTMLResponse)
def open_datacall(
    request: Request, session: DbSession, actor: CurrentActor, lang: Language, form: Form
) -> Response:
    require(actor, "budget.manage")
    values: dict[str, Any] = {
        name: form_text(form, name)
        for name in ("key", "title", "jurisdiction", "fiscal_year", "classification", "currency")
    }
    values["due"] = form_text(form, "due")
    values["agencies"] = [a for a in form.getlist("agencies") if isinstance(a, str) and a]
    problems: list[tuple[str, str]] = []
    if not KEY_PATTERN.match(values["key"]):
        problems.append(("key", N_("use lower-case letters, digits, - and _")))
    if not values["title"]:
        problems.append(("title", N_("is required")))
    if len(values["currency"]) != 3:
        problems.append(("currency", N_("a three-letter code such as USD")))
    try:
        year = int(values["fiscal_year"])
    except ValueError:
        problems.append(("fiscal_year", N_("a year such as 2026")))
        year = 0
    due = None
    if values["due"]:
        try:
            due = dt.date.fromisoformat(values["due"])
        except ValueError:
            problems.append(("due", N_("a date YYYY-MM-DD")))
    try:
        if problems:
            raise ValidationFailed(problems)
        call = datacalls.open_data_call(
            session,
            actor,
            key=values["key"],
            jurisdiction=values["jurisdiction"].upper(),
            fiscal_year=year,
            classification=values["classification"],
            title=values["title"],
            currency=values["currency"].upper(),
            agencies=values["agencies"],
            due=due,
        )
    except (ValidationFailed, Conflict, NotFound) as exc:
        refusal = refused(session, exc)
        context = _new_call_context(session, actor, values["jurisdiction"], values)
        return _page(
            request,
            "budget/datacall_new.html",
            actor=actor,
            lang=lang,
            status_code=exc.status_code,
            refusal=refusal,
            **context,
        )
    return redirect_with_flash(request, f"/budget/datacalls/{call.key}", "datacall")


def _datacall_context(session: Session, actor: Actor, key: str) -> dict[str, Any]:
    call = datacalls.get_data_call(session, actor, key)
    agencies = report.call_agencies(session, actor, key)
    scheme = session.get(Classification, call.classification_id)
    return {
        "call": call,
        "scheme": scheme,
        "status_rows": datacalls.submission_status(session, actor, key),
        "agency_rows": agencies,
        "may_submit": [a for a in agencies if permits(actor, "budget.submit", a)],
        "upload": None,
        "refusal": None,
    }


@router.get("/budget/datacalls/{key}", response_class=HTMLResponse)
def datacall_page(
    request: Request, key: str, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    """Who has submitted, the templates, and an upload form per agency one may submit for."""
    context = _datacall_context(session, actor, key)
    return _page(request, "budget/datacall.html", actor=actor, lang=lang, **context)


@router.post("/budget/datacalls/{key}/submissions/{agency}", response_class=HTMLResponse)
def upload_submission(
    request: Request,
    key: str,
    agency: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    form: Form,
) -> Response:
    """Check the whole file first: a refused one re-shows the page with every problem (row,
    column, message) and status 422; nothing is written."""
    require(actor, "budget.submit", report.call_agency(session, actor, key, agency))
    upload = form.get("file")
    stated_text = form_text(form, "stated_total").replace(",", "")
    filename = upload.filename if isinstance(upload, UploadFile) else ""
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed([("file", N_("choose a CSV or XLSX file to upload"))])
        stated = None
        if stated_text:
            try:
                stated = Decimal(stated_text)
            except InvalidOperation:
                raise ValidationFailed(
                    [("stated_total", f"not an amount: {stated_text!r}")]
                ) from None
        try:
            headers, rows = read_table(upload.file.read(), upload.filename)
        except TableError as exc:
            raise ValidationFailed([("file", str(exc))]) from None
        datacalls.upload(
            session,
            actor,
            key=key,
            agency_code=agency,
            headers=headers,
            rows=rows,
            stated_total=stated,
        )
    except ValidationFailed as exc:
        refusal = refused(session, exc)
        context = _datacall_context(session, actor, key)
        context.update(
            upload={"agency": agency, "filename": filename, "stated_total": stated_text},
            refusal=refusal,
        )
        return _page(
            request, "budget/datacall.html", actor=actor, lang=lang, status_code=422, **context
        )
    return redirect_with_flash(request, f"/budget/datacalls/{key}#status", "uploaded")


# ---------------------------------------------------------------- priorities


@router.get("/budget/priorities", response_class=HTMLResponse)
def priorities_page(
    request: Request, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    rows = priorities.list_priorities(session, actor)
    schemes = {s.id: s for s in report.classifications_of(session, actor)}
    return _page(
        request,
        "budget/priorities.html",
        actor=actor,
        lang=lang,
        rows=rows,
        scheme_of=schemes,
        schemes=list(schemes.values()),
        may_manage=permits(actor, "budget.manage"),
    )


@dataclass
class PriorityForm:
    """What the priorities form holds: the set's facts, direct weights or AHP judgements."""

    classification: str
    method: str = "direct"
    items: list[str] = field(default_factory=list)
    key: str = ""
    title: str = ""
    fiscal_year: str = ""
    memo: str = ""
    weights: dict[str, str] = field(default_factory=dict)
    judgements: dict[tuple[str, str], str] = field(default_factory=dict)

    def judgement(self, a: str, b: str) -> str:
        return self.judgements.get((a, b), "1")

    def judgement_list(self) -> list[list[str]]:
        return [[a, b, v] for (a, b), v in self.judgements.items()]

    def weight_values(self) -> dict[str, float]:
        problems = []
        out = {}
        for k, v in self.weights.items():
            if not v:
                continue
            try:
                out[k] = float(v)
            except ValueError:
                problems.append((f"w:{k}", f"not a number: {v!r}"))
        if problems:
            raise ValidationFailed(problems)
        return out


def _priority_form(
    session: Session, actor: Actor, classification: str | None, method: str, items: list[str]
) -> tuple[PriorityForm, Classification]:
    schemes = report.classifications_of(session, actor)
    if not schemes:
        raise NotFound("no classification is loaded: run stcoord seed")
    scheme = get_classification(session, classification) if classification else schemes[0]
    keys = [f.key for f in scheme.fields]
    chosen = [k for k in keys if k in set(items)] or keys[:MAX_AHP_ITEMS]
    return PriorityForm(
        scheme.key, method if method in ("direct", "ahp") else "direct", chosen
    ), scheme


def _priority_form_page(
    request: Request,
    session: Session,
    actor: Actor,
    lang: str,
    form: PriorityForm,
    scheme: Classification,
    *,
    status_code: int = 200,
    preview: Any = None,
    refusal: Refusal | None = None,
) -> HTMLResponse:
    return _page(
        request,
        "budget/priorities_new.html",
        actor=actor,
        lang=lang,
        status_code=status_code,
        form=form,
        scheme=scheme,
        fields_by_key={f.key: f for f in scheme.fields},
        schemes=report.classifications_of(session, actor),
        saaty=SAATY,
        preview=preview,
        refusal=refusal,
        max_items=MAX_AHP_ITEMS,
    )


@router.get("/budget/priorities/new", response_class=HTMLResponse)
def new_priorities_form(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    classification: str | None = None,
    method: str = "direct",
    items: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """Direct weights, or a matrix of Saaty-scale selects for the fields compared."""
    require(actor, "budget.manage")
    form, scheme = _priority_form(session, actor, classification, method, _split(items))
    form.fiscal_year = str(dt.date.today().year + 1)
    return _priority_form_page(request, session, actor, lang, form, scheme)


@router.post("/budget/priorities", response_class=HTMLResponse)
def save_priorities(
    request: Request, session: DbSession, actor: CurrentActor, lang: Language, form: Form
) -> Response:
    """Save a priority set, or (``action=check``) only compute the weights and the consistency
    ratio and show them with the form."""
    require(actor, "budget.manage")
    items = [v for v in form.getlist("items") if isinstance(v, str)]
    pf, scheme = _priority_form(
        session, actor, form_text(form, "classification") or None, form_text(form, "method"), items
    )
    pf.key, pf.title = form_text(form, "key"), form_text(form, "title")
    pf.fiscal_year, pf.memo = form_text(form, "fiscal_year"), form_text(form, "memo")
    pf.weights = {k: form_text(form, f"w:{k}") for k in (f.key for f in scheme.fields)}
    pf.judgements = {
        (a, b): form_text(form, f"j:{a}:{b}") or "1"
        for i, a in enumerate(pf.items)
        for b in pf.items[i + 1 :]
    }
    try:
        if pf.method == "direct":
            weights = pf.weight_values()
            preview = priorities.compute("direct", [f.key for f in scheme.fields], weights, None)
        else:
            weights = None
            preview = priorities.compute("ahp", pf.items, None, pf.judgement_list())
        if form_text(form, "action") == "check":
            return _priority_form_page(request, session, actor, lang, pf, scheme, preview=preview)
        problems = []
        if not KEY_PATTERN.match(pf.key):
            problems.append(("key", N_("use lower-case letters, digits, - and _")))
        if not pf.title:
            problems.append(("title", N_("is required")))
        if not pf.fiscal_year.isdigit():
            problems.append(("fiscal_year", N_("a year such as 2026")))
        if problems:
            raise ValidationFailed(problems)
        row = priorities.set_priorities(
            session,
            actor,
            key=pf.key,
            title=pf.title,
            classification=scheme.key,
            fiscal_year=int(pf.fiscal_year),
            method=pf.method,
            weights=weights,
            judgements=pf.judgement_list() if pf.method == "ahp" else None,
            items=pf.items if pf.method == "ahp" else None,
            memo=pf.memo or None,
        )
    except (ValidationFailed, Conflict, NotFound) as exc:
        refusal = refused(session, exc)
        return _priority_form_page(
            request,
            session,
            actor,
            lang,
            pf,
            scheme,
            status_code=exc.status_code,
            refusal=refusal,
        )
    return redirect_with_flash(request, f"/budget/priorities/{row.key}", "priorities")


def saaty_text(value: Any) -> str:
    """A judgement as people write it on Saaty's scale: ``3``, ``1/3`` (also for 0.333).

    >>> saaty_text(3.0), saaty_text(0.3333), saaty_text("1/5")
    ('3', '1/3', '1/5')
    """
    try:
        number = Fraction(str(value)).limit_denominator(9)
    except (ValueError, ZeroDivisionError):
        return str(value)
    if number.denominator == 1:
        return str(number.numerator)
    if number.numerator == 1:
        return f"1/{number.denominator}"
    return f"{float(number):g}"


def memo_paragraphs(memo: str | None) -> list[list[str]]:
    """The memo as paragraphs (split at blank lines), each a list of its lines; plain text,
    escaped when shown (never HTML)."""
    text = (memo or "").replace("\r\n", "\n").replace("\r", "\n")
    return [
        [line.strip() for line in block.strip().split("\n")]
        for block in re.split(r"\n\s*\n", text)
        if block.strip()
    ]


def _priority_context(session: Session, actor: Actor, key: str) -> dict[str, Any]:
    row = priorities.get_priorities(session, actor, key)
    scheme = session.get(Classification, row.classification_id)
    assert scheme is not None
    judged: dict[tuple[str, str], str] = {}
    items: list[str] = []
    for a, b, value in row.judgements:
        judged[(a, b)] = saaty_text(value)
        items += [x for x in (a, b) if x not in items]
    order = {f.key: i for i, f in enumerate(scheme.fields)}
    items.sort(key=lambda k: order.get(k, 999))
    return {
        "row": row,
        "scheme": scheme,
        "fields_by_key": {f.key: f for f in scheme.fields},
        "weights": sorted(row.weights.items(), key=lambda kv: (-kv[1], kv[0])),
        "max_weight": max(row.weights.values(), default=0) or 1,
        "items": items,
        "judged": judged,
        "warning": priorities.consistency_warning(row),
        "paragraphs": memo_paragraphs(row.memo),
        "may_manage": permits(actor, "budget.manage"),
        "memo_edit": None,
        "refusal": None,
        "used_by": [
            s for s in scenarios.list_scenarios(session, actor) if s.priority_set_id == row.id
        ],
    }


@router.get("/budget/priorities/{key}", response_class=HTMLResponse)
def priority_page(
    request: Request, key: str, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    """Weights, the consistency of the judgements, and the priorities memo as a document."""
    context = _priority_context(session, actor, key)
    return _page(request, "budget/priority.html", actor=actor, lang=lang, **context)


@router.post("/budget/priorities/{key}/memo", response_class=HTMLResponse)
def save_memo(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    form: Form,
) -> Response:
    """Edit the memo; if someone changed it meanwhile, show theirs and keep what was typed."""
    require(actor, "budget.manage")
    memo = form.get("memo")
    text = memo if isinstance(memo, str) else ""
    try:
        version = int(form_text(form, "version"))
    except ValueError:
        version = -1
    try:
        priorities.update_memo(session, actor, key=key, expected_version=version, memo=text)
    except (Conflict, ValidationFailed) as exc:
        refusal = refused(session, exc)
        context = _priority_context(session, actor, key)
        context.update(memo_edit=text, refusal=refusal)
        return _page(
            request,
            "budget/priority.html",
            actor=actor,
            lang=lang,
            status_code=exc.status_code,
            **context,
        )
    return redirect_with_flash(request, f"/budget/priorities/{key}#memo", "memo")


# ---------------------------------------------------------------- scenarios


def _scenario_form_context(
    session: Session, actor: Actor, values: Mapping[str, Any]
) -> dict[str, Any]:
    sets = priorities.list_priorities(session, actor)
    chosen = next((p for p in sets if p.key == values.get("priorities")), sets[0] if sets else None)
    scheme = session.get(Classification, chosen.classification_id) if chosen else None
    jurisdiction = scheme.jurisdiction_code if scheme else "US"
    years = report.budget_years(session, actor, jurisdiction)
    base_totals = {
        r.keys["year"]: r.amount
        for r in crosscut(
            session, actor, jurisdiction=jurisdiction, by=["year"], phase="enacted"
        ).rows
    }
    base_year = years[-1] if years else None
    return {
        "sets": sets,
        "chosen": chosen,
        "scheme": scheme,
        "years": years,
        "base_totals": base_totals,
        "values": {
            "priorities": chosen.key if chosen else "",
            "base_year": str(base_year or ""),
            "envelope": str(round(float(base_totals.get(base_year, 0)))) if base_year else "",
            "band": "10",
            "phase": "enacted",
            "min": {},
            **values,
        },
    }


def _scenario_list_page(
    request: Request,
    session: Session,
    actor: Actor,
    lang: str,
    values: Mapping[str, Any],
    *,
    status_code: int = 200,
    refusal: Refusal | None = None,
) -> HTMLResponse:
    rows = scenarios.list_scenarios(session, actor)
    sets = {p.id: p for p in priorities.list_priorities(session, actor)}
    return _page(
        request,
        "budget/scenarios.html",
        actor=actor,
        lang=lang,
        status_code=status_code,
        rows=rows,
        set_of=sets,
        may_manage=permits(actor, "budget.manage"),
        refusal=refusal,
        **_scenario_form_context(session, actor, values),
    )


@router.get("/budget/scenarios", response_class=HTMLResponse)
def scenarios_page(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    priorities: str | None = None,
) -> Response:
    """Saved scenarios, a comparison picker, and the form to run a new one."""
    values = {"priorities": priorities} if priorities else {}
    return _scenario_list_page(request, session, actor, lang, values)


def _percent_value(text: str, name: str, problems: list[tuple[str, str]]) -> float | None:
    if not text:
        return None
    try:
        value = float(text.rstrip("%")) / 100
    except ValueError:
        problems.append((name, f"not a percentage: {text!r}"))
        return None
    if not 0 <= value <= 1:
        problems.append((name, N_("between 0 and 100%")))
    return value


@router.post("/budget/scenarios", response_class=HTMLResponse)
def run_scenario(
    request: Request, session: DbSession, actor: CurrentActor, lang: Language, form: Form
) -> Response:
    """Solve and save an allocation; invalid parameters re-show the form with what was typed."""
    require(actor, "budget.manage")
    values: dict[str, Any] = {
        name: form_text(form, name)
        for name in ("key", "title", "priorities", "base_year", "envelope", "band", "phase")
    }
    values["spend_all"] = bool(form_text(form, "spend_all"))
    values["min"] = {
        k[4:]: form_text(form, k) for k in form if k.startswith("min:") and form_text(form, k)
    }
    problems: list[tuple[str, str]] = []
    if not KEY_PATTERN.match(values["key"]):
        problems.append(("key", N_("use lower-case letters, digits, - and _")))
    try:
        base_year = int(values["base_year"])
    except ValueError:
        problems.append(("base_year", N_("a year such as 2024")))
        base_year = 0
    try:
        envelope = float(values["envelope"].replace(",", ""))
    except ValueError:
        problems.append(("envelope", N_("an amount such as 1000000")))
        envelope = 0.0
    band = _percent_value(values["band"] or "10", "band", problems)
    shares = {
        k: v
        for k, text in values["min"].items()
        if (v := _percent_value(text, f"min:{k}", problems)) is not None
    }
    if values["phase"] not in PHASES:
        problems.append(("phase", N_("request, estimate, enacted or actual")))
    try:
        if problems:
            raise ValidationFailed(problems)
        row = scenarios.run_scenario(
            session,
            actor,
            key=values["key"],
            title=values["title"] or values["key"],
            priorities=values["priorities"],
            parameters=scenarios.ScenarioParameters(
                base_year=base_year,
                envelope=envelope,
                band=band if band is not None else 0.10,
                spend_all=values["spend_all"],
                min_shares=shares or None,
                phase=values["phase"],
            ),
        )
    except (ValidationFailed, Conflict, NotFound) as exc:
        refusal = refused(session, exc)
        return _scenario_list_page(
            request,
            session,
            actor,
            lang,
            values,
            status_code=exc.status_code,
            refusal=refusal,
        )
    return redirect_with_flash(request, f"/budget/scenarios/{row.key}", "scenario")


@dataclass(frozen=True)
class ScenarioView:
    """A saved scenario with its priority set and the base year's money to compare with."""

    scenario: Scenario
    priority_set: PrioritySet | None
    scheme: Classification | None
    base_agency: dict[str, Decimal]
    base_field: dict[str, Decimal]

    @property
    def result(self) -> dict[str, Any]:
        return self.scenario.result

    @property
    def optimal(self) -> bool:
        return self.result.get("status") == "optimal"


def scenario_view(session: Session, actor: Actor, key: str) -> ScenarioView:
    row = scenarios.get_scenario(session, actor, key)
    prio = session.get(PrioritySet, row.priority_set_id)
    scheme = session.get(Classification, prio.classification_id) if prio else None
    phase = str(row.parameters.get("phase") or "enacted")
    base_agency: dict[str, Decimal] = {}
    base_field: dict[str, Decimal] = {}
    if scheme is not None:
        common: dict[str, Any] = {
            "jurisdiction": scheme.jurisdiction_code,
            "phase": phase,
            "years": [row.base_year],
        }
        base_agency = {
            r.keys["agency"]: r.amount
            for r in crosscut(session, actor, by=["agency"], **common).rows
        }
        base_field = {
            r.keys["field"]: r.amount
            for r in crosscut(
                session, actor, by=["field"], classification=scheme.key, **common
            ).rows
        }
    return ScenarioView(row, prio, scheme, base_agency, base_field)


def scenario_charts(view: ScenarioView, w: Words, font: str) -> list[VegaChart]:
    """Base year against the allocation, per agency and per field."""
    result = view.result
    if not view.optimal:
        return []
    base = w.gettext("FY%(year)s (base year)") % {"year": view.scenario.base_year}
    allocated = w.gettext("Allocated")
    colours = {base: "#94a3b8", allocated: "#1d4ed8"}
    out = []
    for chart_id, totals, before, labeller, title in (
        ("chart-agencies", result.get("agency_totals") or {}, view.base_agency, str, "Agency"),
        ("chart-fields", result.get("field_totals") or {}, view.base_field, w.field, "Field"),
    ):
        keys = sorted(set(totals) | {k for k in before if k != UNCLASSIFIED})
        if not keys:
            continue
        largest = max(
            [float(totals.get(k) or 0) for k in keys] + [float(before.get(k) or 0) for k in keys]
        )
        divisor, amount_title = w.amount_title(largest)
        values = [
            item
            for k in keys
            for item in (
                bc.Datum(labeller(k), base, float(before.get(k) or 0) / divisor),
                bc.Datum(labeller(k), allocated, float(totals.get(k) or 0) / divisor),
            )
        ]
        spec = bc.grouped_bars(
            values,
            category_title=w.gettext(title) if title == "Agency" else "",
            amount_title=amount_title,
            series_title=" ",
            categories=[labeller(k) for k in keys],
            series=[base, allocated],
            colours=colours,
            font=font,
        )
        out.append(VegaChart(chart_id, spec))
    return out


@router.get("/budget/scenarios/compare", response_class=HTMLResponse)
def compare_page(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    keys: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """Scenarios side by side: status, objective, envelope price, totals per agency and field."""
    chosen = list(dict.fromkeys(_split(keys)))
    available = scenarios.list_scenarios(session, actor)
    cmp = scenarios.compare(session, actor, chosen) if chosen else None
    by_key = {s.key: s for s in available}
    sets = {p.id: p for p in priorities.list_priorities(session, actor)}
    fields: dict[str, BudgetField] = {}
    currency = None
    for key in chosen:
        prio = sets.get(by_key[key].priority_set_id) if key in by_key else None
        scheme = session.get(Classification, prio.classification_id) if prio else None
        if scheme is not None:
            fields.update({f.key: f for f in scheme.fields})
            currency = currency or report.currency_of(session, actor, scheme.jurisdiction_code)
    w = Words(lang, {}, fields, currency)
    chart = None
    if cmp and cmp["agencies"]:
        largest = max(float(r.get(k) or 0) for r in cmp["agencies"] for k in chosen)
        divisor, amount_title = w.amount_title(largest)
        values = [
            bc.Datum(r["agency"], k, float(r.get(k) or 0) / divisor)
            for r in cmp["agencies"]
            for k in chosen
        ]
        spec = bc.grouped_bars(
            values,
            category_title=w.gettext("Agency"),
            amount_title=amount_title,
            series_title=w.gettext("Scenario"),
            series=chosen,
            colours=bc.palette(chosen),
            font=charts.font_for(lang),
        )
        chart = VegaChart("chart-compare", spec)
    return _page(
        request,
        "budget/compare.html",
        actor=actor,
        lang=lang,
        chosen=chosen,
        available=available,
        by_key=by_key,
        set_of=sets,
        cmp=cmp,
        chart=chart,
        w=w,
    )


def _float(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


@router.get("/budget/scenarios/{key}", response_class=HTMLResponse)
def scenario_page(
    request: Request, key: str, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    """The explained answer: totals, binding constraints and their prices, or the conflict."""
    view = scenario_view(session, actor, key)
    w = Words(
        lang,
        {},
        {f.key: f for f in view.scheme.fields} if view.scheme else {},
        report.currency_of(session, actor, view.scheme.jurisdiction_code) if view.scheme else None,
    )
    result = view.result
    agency_rows = [
        (a, _float(view.base_agency.get(a)), (result.get("agency_totals") or {}).get(a))
        for a in sorted(set(result.get("agency_totals") or {}) | set(view.base_agency))
    ]
    field_keys = [f.key for f in view.scheme.fields] if view.scheme else []
    fields_present = set(result.get("field_totals") or {}) | set(view.base_field)
    field_rows = [
        (f, _float(view.base_field.get(f)), (result.get("field_totals") or {}).get(f))
        for f in [*field_keys, UNCLASSIFIED, *sorted(fields_present - {*field_keys, UNCLASSIFIED})]
        if f in fields_present
    ]
    return _page(
        request,
        "budget/scenario.html",
        actor=actor,
        lang=lang,
        view=view,
        s=view.scenario,
        result=result,
        params=view.scenario.parameters,
        agency_rows=agency_rows,
        field_rows=field_rows,
        weights=(view.priority_set.weights if view.priority_set else {}),
        marginal=result.get("field_marginal_values") or {},
        charts_=scenario_charts(view, w, charts.font_for(lang)),
        w=w,
        others=[s for s in scenarios.list_scenarios(session, actor) if s.key != key],
    )


# ---------------------------------------------------------------- the budget supplement


def supplement_params(
    jurisdiction: str, classification: str | None, years: str | None, phase: str
) -> dict[str, Any]:
    return {
        "jurisdiction": jurisdiction.strip().upper() or "US",
        "classification": (classification or "").strip() or None,
        "years": _int_list([years] if years else [], "years"),
        "phase": phase,
    }


def _render_document(template: str, lang: str, **context: Any) -> str:
    """A standalone document (no request needed): the same for the browser and WeasyPrint."""
    trans = translations(lang)
    base = {
        "lang": lang,
        "_": trans.gettext,
        "ngettext": trans.ngettext,
        "LANGUAGES": LANGUAGES,
        "generated": dt.date.today(),
        **helpers(lang),
    }
    return templates.env.get_template(template).render(**base, **context)


def supplement_html(
    session: Session,
    actor: Actor,
    *,
    jurisdiction: str = "US",
    classification: str | None = None,
    years: list[int] | None = None,
    phase: str = "enacted",
    lang: str = "en",
    screen: bool = False,
) -> str:
    """The budget supplement as an HTML document (``screen`` adds the browser's toolbar)."""
    jurisdiction = jurisdiction.upper()
    if classification is None:
        found = report.default_classification(
            session, actor, jurisdiction, max(years) if years else None
        )
        if found is None:
            raise ValidationFailed(
                [("classification", f"no classification of {jurisdiction} is loaded")]
            )
        classification = found.key
    sup: Supplement = report.supplement_data(
        session,
        actor,
        jurisdiction=jurisdiction,
        classification=classification,
        years=years,
        phase=phase,
    )
    data = sup.data
    w = Words(lang, data.agencies, {f.key: f for f in data.fields}, data.currency)
    font = charts.font_for(lang)
    query = urlencode(
        {
            "jurisdiction": jurisdiction,
            "classification": classification,
            "years": ",".join(map(str, data.years)),
            "phase": phase,
        }
    )
    agency_year = data.agency_year()
    divisor, unit = w.unit(max((float(v) for v in agency_year.cells.values()), default=0.0))
    return _render_document(
        "budget/supplement.html",
        lang,
        sup=sup,
        data=data,
        w=w,
        fmt=_scaled(divisor),
        unit_label=unit,
        agency_counts={
            y: sum(1 for (_, year), v in agency_year.cells.items() if year == y and v)
            for y in agency_year.cols
        },
        agency_year=agency_year,
        field_year=data.field_year(),
        by_year=[(y, data.agency_field(y)) for y in data.years],
        stack_agency=stack_chart(data, "agency", w, font, "chart-stack-agency"),
        stack_field=stack_chart(data, "field", w, font, "chart-stack-field"),
        phases_chart=phase_chart(data, w, font),
        treemap=treemap_chart(data, "agency", w, font, data.phase_year),
        sankey=sankey_chart(data, w, font, data.phase_year),
        unity_rows=sup.unity,
        unity=unity_chart(sup.unity, w, font),
        screen=screen,
        query=query,
    )


def build_supplement_pdf(
    session: Session,
    actor: Actor,
    *,
    jurisdiction: str = "US",
    classification: str | None = None,
    years: list[int] | None = None,
    phase: str = "enacted",
    lang: str = "en",
) -> bytes:
    """The budget supplement as PDF (A4): agency x field x year tables, growth, shares, the
    charts (stacked bars, treemap, Sankey, request vs enacted vs actual) and the unity check."""
    return html_to_pdf(
        supplement_html(
            session,
            actor,
            jurisdiction=jurisdiction,
            classification=classification,
            years=years,
            phase=phase,
            lang=lang,
        )
    )


@router.get("/budget/supplement", response_class=HTMLResponse)
def supplement_page(
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    jurisdiction: str = "US",
    classification: str | None = None,
    years: str | None = None,
    phase: str = "enacted",
) -> Response:
    params = supplement_params(jurisdiction, classification, years, phase)
    return HTMLResponse(supplement_html(session, actor, lang=lang, screen=True, **params))


@router.get("/budget/supplement.pdf")
def supplement_pdf(
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    jurisdiction: str = "US",
    classification: str | None = None,
    years: str | None = None,
    phase: str = "enacted",
) -> Response:
    params = supplement_params(jurisdiction, classification, years, phase)
    name = f"budget-supplement-{params['jurisdiction'].lower()}-{params['phase']}-{lang}.pdf"
    return Response(
        build_supplement_pdf(session, actor, lang=lang, **params),
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{name}"'},
    )
