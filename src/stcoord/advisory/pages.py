"""HTML pages of advisory bodies: adoption per body with a chart, reports, the tracker list
(filters, sorting, pages, CSV/XLSX), forms for advisers (file a report, add or import
recommendations) and for the office (record a response, update the status, link tasks), and the
tracker report as HTML and PDF.

Every form posts to a route that calls one service; a refusal (invalid input, a stale version)
rolls back and shows the page again with the reasons and what was typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from stcoord.advisory import schemas, service, tracker
from stcoord.analytics.adoption import BodyAdoption
from stcoord.auth.permissions import Actor, permits
from stcoord.errors import NotFound, ValidationFailed
from stcoord.institutions.models import Body, Jurisdiction
from stcoord.plans.models import Plan, Task
from stcoord.reports import charts
from stcoord.reports.pdf import html_to_pdf
from stcoord.tabular import MEDIA_TYPES, write_table
from stcoord.web.dependencies import CurrentActor, DbSession, Language, check_csrf
from stcoord.web.forms import Refusal, post_form
from stcoord.web.i18n import LANGUAGES, local_name, term_translator, translations
from stcoord.web.pagination import PageParams, page_params, slice_page, sort_rows
from stcoord.web.templating import PageRenderer

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
Paging = Annotated[PageParams, Depends(page_params)]

# ---------------------------------------------------------------- the tracker report


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


ADVISORY_TERMS: dict[str, dict[str, str]] = {
    "position": {
        "accept": N_("accepted"),
        "partly_accept": N_("partly accepted"),
        "reject": N_("rejected"),
        "under_consideration": N_("under consideration"),
        "none": N_("no response yet"),
    },
    "rec_status": {
        "open": N_("open"),
        "partly_addressed": N_("partly addressed"),
        "fully_addressed": N_("fully addressed"),
    },
}
POSITION_ORDER = ("accept", "partly_accept", "under_consideration", "reject", "none")
POSITION_COLOURS = ("#15803d", "#65a30d", "#d97706", "#b91c1c", "#94a3b8")


def term_function(lang: str) -> Callable[[str, str | None], str]:
    """``term(group, value)``: a position or status word in ``lang`` (None: "no response yet")."""
    return term_translator(lang, ADVISORY_TERMS, none="none")


def money(amount: Decimal | None, currency: str | None) -> str:
    if amount is None:
        return ""
    text = f"{amount:,.2f}".removesuffix(".00")
    return f"{text} {currency or ''}".strip()


def percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def helpers(lang: str) -> dict[str, Any]:
    """Functions every advisory template uses."""
    return {
        "term": term_function(lang),
        "money": money,
        "percent": percent,
        "day": lambda d: d.isoformat() if d else "—",
        "POSITIONS": [p for p in POSITION_ORDER if p != "none"],
        "STATUSES": ("open", "partly_addressed", "fully_addressed"),
    }


@dataclass(frozen=True)
class AdoptionBar:
    label: str
    adoption: BodyAdoption


def adoption_chart(
    bars: Sequence[AdoptionBar],
    *,
    position_labels: Mapping[str, str],
    title: str | None = None,
    axis_title: str = "Share of recommendations",
    legend_title: str = "Government position",
    font: str = charts.DEFAULT_FONT,
) -> dict[str, Any]:
    """Stacked horizontal bars: each body's recommendations by the government's position.

    >>> from stcoord.analytics.adoption import Outcome, adoption_by_body
    >>> a = adoption_by_body([Outcome("US:pcast", "accept", "open")])[0]
    >>> spec = adoption_chart([AdoptionBar("PCAST", a)], position_labels={})
    >>> [(v["position"], v["count"]) for v in spec["data"]["values"]][:2]
    [('accept', 1), ('partly_accept', 0)]
    """
    counts = {
        "accept": lambda a: a.accepted,
        "partly_accept": lambda a: a.partly_accepted,
        "under_consideration": lambda a: a.under_consideration,
        "reject": lambda a: a.rejected,
        "none": lambda a: a.unanswered,
    }
    values = [
        {
            "body": f"{bar.label} (n={bar.adoption.total})",
            "position": position,
            "label": position_labels.get(position, position),
            "order": i,
            "count": counts[position](bar.adoption),
            "share": round(counts[position](bar.adoption) / bar.adoption.total, 4)
            if bar.adoption.total
            else 0.0,
        }
        for bar in bars
        for i, position in enumerate(POSITION_ORDER)
    ]
    spec: dict[str, Any] = {
        "$schema": charts.SCHEMA,
        "background": "white",
        "config": {
            "font": font,
            "view": {"stroke": None},
            "axis": {"labelFontSize": 11, "titleFontSize": 11, "gridColor": "#e2e8f0"},
            "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom"},
            "title": {"fontSize": 13, "anchor": "start"},
        },
        "width": charts.WIDTH - 240,
        "height": {"step": 28},
        "data": {"values": values},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {
                "field": "body",
                "type": "nominal",
                "sort": None,
                "title": None,
                "axis": {"labelLimit": 260},
            },
            "x": {
                "field": "share",
                "type": "quantitative",
                "stack": "zero",
                "scale": {"domain": [0, 1]},
                "axis": {"format": "%", "title": axis_title},
            },
            "color": {
                "field": "label",
                "type": "nominal",
                "title": legend_title,
                "scale": {
                    "domain": [position_labels.get(p, p) for p in POSITION_ORDER],
                    "range": list(POSITION_COLOURS),
                },
            },
            "order": {"field": "order", "type": "quantitative"},
            "tooltip": [
                {"field": "body", "type": "nominal", "title": " "},
                {"field": "label", "type": "nominal", "title": legend_title},
                {"field": "count", "type": "quantitative"},
                {"field": "share", "type": "quantitative", "format": ".0%"},
            ],
        },
    }
    if title:
        spec["title"] = title
    return spec


def body_label(section_body: Body | None, key: str, lang: str) -> str:
    if section_body is None:
        return key
    return section_body.short_name or local_name(section_body, lang) or key


def chart_for(sections: Sequence[tracker.BodySection], lang: str) -> dict[str, Any]:
    """The adoption chart of the body sections, labelled in ``lang``."""
    gettext = translations(lang).gettext
    term = term_function(lang)
    return adoption_chart(
        [AdoptionBar(f"{s.code} {body_label(s.body, s.key, lang)}", s.adoption) for s in sections],
        position_labels={p: term("position", p) for p in POSITION_ORDER},
        axis_title=gettext("Share of recommendations"),
        legend_title=gettext("Government position"),
        font=charts.font_for(lang),
    )


def tracker_html(
    session: Session,
    actor: Actor,
    lang: str,
    filters: service.TrackerFilter = service.TrackerFilter(),
    *,
    pdf_href: str = "/advisory/tracker.pdf",
    max_rows: int = tracker.REPORT_MAX_ROWS,
) -> str:
    """The tracker as a standalone HTML document (the page and the PDF are the same)."""
    from stcoord.web.templating import templates

    data, omitted = tracker._capped(tracker.tracker_data(session, actor, filters), max_rows)
    trans = translations(lang)
    chart = chart_for(data.bodies, lang) if data.bodies else None
    return templates.env.get_template("advisory/tracker_report.html").render(
        lang=lang,
        _=trans.gettext,
        ngettext=trans.ngettext,
        name_in=lambda obj: local_name(obj, lang),
        LANGUAGES=LANGUAGES,
        generated=dt.date.today(),
        data=data,
        chart_svg=charts.to_svg(chart) if chart else None,
        pdf_href=pdf_href,
        omitted=omitted,
        body_label=lambda s: body_label(s.body, s.key, lang),
        **helpers(lang),
    )


def build_tracker_pdf(
    session: Session,
    actor: Actor,
    lang: str = "en",
    filters: service.TrackerFilter = service.TrackerFilter(),
    *,
    max_rows: int = tracker.REPORT_MAX_ROWS,
) -> bytes:
    """The advisory tracker as PDF (A4, CJK fonts for Chinese and Japanese)."""
    return html_to_pdf(tracker_html(session, actor, lang, filters, max_rows=max_rows))


FLASHES = {
    "filed": N_("The report was filed."),
    "added": N_("The recommendation was added."),
    "imported": N_("The recommendations were imported."),
    "responded": N_("The response was recorded."),
    "status": N_("The status was updated."),
    "linked": N_("The task was linked."),
    "unlinked": N_("The task link was removed."),
}


_page = PageRenderer(FLASHES, helpers)


def _date(text: str, path: str, problems: list[tuple[str, str]]) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append((path, f"not a date (use YYYY-MM-DD): {text!r}"))
        return None


def _int(text: str, path: str, problems: list[tuple[str, str]]) -> int | None:
    try:
        return int(text)
    except ValueError:
        problems.append((path, f"not a whole number: {text!r}"))
        return None


def _check(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise ValidationFailed(problems)


def _rec_url(key: str, number: str) -> str:
    return f"/advisory/reports/{quote(key)}/recommendations/{quote(number)}"


# ---------------------------------------------------------------- overview


@router.get("/advisory", response_class=HTMLResponse)
def advisory_index(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    jurisdiction: str | None = None,
) -> Response:
    """Adoption rate per advisory body (chart and table) and the latest reports."""
    code = (jurisdiction or "").strip().upper() or None
    sections = tracker.adoption_sections(session, actor, jurisdiction=code)
    spec = chart_for(sections, lang) if sections else None
    chart = {"id": "adoption-chart", "spec": spec, "svg": charts.to_svg(spec)} if spec else None
    reports = service.list_reports(session, actor, jurisdiction=code)
    codes = sorted({b.jurisdiction.code for b in service.advisory_bodies(session, actor)})
    return _page(
        request,
        "advisory/index.html",
        actor=actor,
        lang=lang,
        sections=sections,
        chart=chart,
        reports=reports[:50],
        report_total=len(reports),
        jurisdiction=code,
        jurisdictions=codes,
        may_file=bool(service.writable_bodies(session, actor)),
        body_label=lambda s: body_label(s.body, s.key, lang),
    )


# ---------------------------------------------------------------- tracker list


def _filters(
    body: str | None, status: str | None, position: str | None, report: str | None
) -> service.TrackerFilter:
    """The list's filters from its query (blank or spaces: no filter)."""
    return service.TrackerFilter(
        body=(body or "").strip() or None,
        status=(status or "").strip() or None,
        position=(position or "").strip() or None,
        report=(report or "").strip() or None,
    )


# The list's own query names, in the order its links spell them.
_LIST_QUERY = ("body", "status", "position", "report")


@router.get("/advisory/recommendations", response_class=HTMLResponse)
def tracker_list(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    paging: Paging,
    body: str | None = None,
    status: str | None = None,
    position: str | None = None,
    report: str | None = None,
) -> Response:
    filters = _filters(body, status, position, report)
    # Sort and page plain keys; load whole rows (response, tasks) for the page only.
    keys = sort_rows(
        service.tracker_keys(session, actor, filters), paging.sort, service.TRACKER_SORTS
    )
    page, total = slice_page(keys, paging)
    shown = service.tracker_rows_for(session, actor, [k.id for k in page])
    named = {k: getattr(filters, k) for k in _LIST_QUERY}
    query = urlencode({k: v for k, v in {**named, "sort": paging.sort}.items() if v})
    return _page(
        request,
        "advisory/recommendations.html",
        actor=actor,
        lang=lang,
        rows=shown,
        total=total,
        paging=paging,
        filters=filters,
        bodies=service.advisory_bodies(session, actor),
        export_query=query,
    )


@router.get("/advisory/recommendations.{fmt}")
def tracker_export(
    fmt: str,
    session: DbSession,
    actor: CurrentActor,
    body: str | None = None,
    status: str | None = None,
    position: str | None = None,
    report: str | None = None,
    sort: str | None = None,
) -> Response:
    if fmt not in MEDIA_TYPES:
        raise NotFound(f"no export format {fmt!r}; use csv or xlsx")
    rows = sort_rows(
        service.tracker_rows(session, actor, _filters(body, status, position, report)),
        sort,
        service.TRACKER_SORTS,
    )
    data = write_table(schemas.TRACKER_COLUMNS, [schemas.tracker_cells(r) for r in rows], fmt)
    return Response(
        data,
        media_type=MEDIA_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="advisory-tracker.{fmt}"'},
    )


# ---------------------------------------------------------------- the tracker report


@router.get("/advisory/tracker", response_class=HTMLResponse)
def tracker_page(
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    body: str | None = None,
    jurisdiction: str | None = None,
) -> Response:
    query = urlencode({k: v for k, v in {"body": body, "jurisdiction": jurisdiction}.items() if v})
    html = tracker_html(
        session,
        actor,
        lang,
        service.TrackerFilter(body=body or None, jurisdiction=jurisdiction or None),
        pdf_href="/advisory/tracker.pdf" + (f"?{query}" if query else ""),
    )
    return HTMLResponse(html)


@router.get("/advisory/tracker.pdf")
def tracker_pdf(
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    body: str | None = None,
    jurisdiction: str | None = None,
) -> Response:
    filters = service.TrackerFilter(body=body or None, jurisdiction=jurisdiction or None)
    pdf = build_tracker_pdf(session, actor, lang, filters)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": 'inline; filename="advisory-tracker.pdf"'},
    )


# ---------------------------------------------------------------- filing a report


def _new_report_page(
    request: Request,
    session: Session,
    actor: Actor,
    lang: str,
    refusal: Refusal | None = None,
) -> Response:
    return _page(
        request,
        "advisory/report_new.html",
        actor=actor,
        lang=lang,
        status_code=refusal.error.status_code if refusal else 200,
        bodies=service.writable_bodies(session, actor),
        refusal=refusal,
        values=refusal.values if refusal else {},
    )


@router.get("/advisory/reports/new", response_class=HTMLResponse)
def new_report(
    request: Request, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    from stcoord.auth.permissions import require

    require(actor, service.WRITE)
    return _new_report_page(request, session, actor, lang)


@router.post("/advisory/reports", response_class=HTMLResponse)
def file_report(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    body: Annotated[str, Form()],
    key: Annotated[str, Form()],
    title: Annotated[str, Form()],
    published_on: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "",
    summary: Annotated[str, Form()] = "",
) -> Response:
    """File a report of an advisory body (``CODE:key``)."""
    from stcoord.auth.permissions import require

    require(actor, service.WRITE)
    values = {
        "body": body,
        "key": key,
        "title": title,
        "published_on": published_on,
        "url": url,
        "source": source,
        "summary": summary,
    }

    def write() -> Any:
        problems: list[tuple[str, str]] = []
        code, _, body_key = body.partition(":")
        if not code or not body_key:
            problems.append(("body", "choose an advisory body"))
        when = _date(published_on, "published_on", problems)
        _check(problems)
        return service.file_report(
            session,
            actor,
            code=code,
            body=body_key,
            key=key,
            title=title,
            published_on=when,
            url=url.strip() or None,
            source=source.strip() or None,
            summary=summary.strip() or None,
        )

    return post_form(
        request,
        session,
        form="file-report",
        values=values,
        write=write,
        flash="filed",
        redirect=lambda r: f"/advisory/reports/{quote(r.key)}",
        refusal=Refusal,
        rerender=lambda refusal: _new_report_page(request, session, actor, lang, refusal),
    )


# ---------------------------------------------------------------- a report


def _report_page(
    request: Request,
    session: Session,
    actor: Actor,
    lang: str,
    key: str,
    refusal: Refusal | None = None,
) -> Response:
    report = service.get_report(session, actor, key)
    rows = service.tracker_rows(session, actor, service.TrackerFilter(report=key))
    rows.sort(key=lambda r: service.number_key(r.rec.number))
    return _page(
        request,
        "advisory/report.html",
        actor=actor,
        lang=lang,
        status_code=refusal.error.status_code if refusal else 200,
        report=report,
        rows=rows,
        may_write=permits(actor, service.WRITE, report),
        refusal=refusal,
        values=refusal.values if refusal else {},
    )


@router.get("/advisory/reports/{key}", response_class=HTMLResponse)
def report_page(
    request: Request, key: str, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    return _report_page(request, session, actor, lang, key)


@router.post("/advisory/reports/{key}/recommendations", response_class=HTMLResponse)
def add_recommendation(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    number: Annotated[str, Form()],
    text: Annotated[str, Form()],
    addressed_to: Annotated[str, Form()] = "",
) -> Response:
    values = {"number": number, "text": text, "addressed_to": addressed_to}

    def write() -> Any:
        keys = [k.strip() for k in addressed_to.replace(",", ";").split(";") if k.strip()]
        return service.add_recommendation(
            session, actor, report_key=key, number=number, text=text, addressed_to=keys
        )

    return post_form(
        request,
        session,
        form="add-recommendation",
        values=values,
        write=write,
        flash="added",
        redirect=f"/advisory/reports/{quote(key)}",
        refusal=Refusal,
        rerender=lambda refusal: _report_page(request, session, actor, lang, key, refusal),
    )


@router.post("/advisory/reports/{key}/import", response_class=HTMLResponse)
async def import_recommendations(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Import recommendations from CSV/XLSX; any bad row refuses the file with its location."""
    from starlette.concurrency import run_in_threadpool

    data = await file.read()
    name = file.filename or "upload.csv"

    def run() -> Response:
        return post_form(
            request,
            session,
            form="import",
            values={"file": name},
            write=lambda: service.import_recommendations(
                session, actor, report_key=key, data=data, filename=name
            ),
            flash="imported",
            redirect=f"/advisory/reports/{quote(key)}",
            refusal=Refusal,
            rerender=lambda refusal: _report_page(request, session, actor, lang, key, refusal),
        )

    return await run_in_threadpool(run)


# ---------------------------------------------------------------- a recommendation


def _plan_tasks(session: Session, row: service.TrackerRow) -> list[tuple[str, str, str]]:
    """(plan key, task code, title) of the tasks the link form offers: those of the plans of
    the report's jurisdiction not linked yet (capped)."""
    linked = {(t.plan_key, t.code) for t in row.tasks}
    rows = session.execute(
        select(Plan.key, Task.code, Task.title)
        .join(Plan, Plan.id == Task.plan_id)
        .join(Jurisdiction, Jurisdiction.id == Plan.jurisdiction_id)
        .where(Jurisdiction.code == row.rec.report.jurisdiction_code)
        .order_by(Plan.key, Task.code)
        .limit(2000)
    )
    return [(p, c, t) for p, c, t in rows if (p, c) not in linked]


def _rec_page(
    request: Request,
    session: Session,
    actor: Actor,
    lang: str,
    key: str,
    number: str,
    refusal: Refusal | None = None,
) -> Response:
    rec = service.get_recommendation(session, actor, key, number)
    rows = service.tracker_rows(session, actor, service.TrackerFilter(report=key))
    row = next(r for r in rows if r.rec.id == rec.id)
    office = permits(actor, service.RESPOND, rec)
    return _page(
        request,
        "advisory/recommendation.html",
        actor=actor,
        lang=lang,
        status_code=refusal.error.status_code if refusal else 200,
        rec=rec,
        report=rec.report,
        row=row,
        office=office,
        tasks=_plan_tasks(session, row) if office else [],
        refusal=refusal,
        values=refusal.values if refusal else {},
        today=dt.date.today(),
    )


@router.get("/advisory/reports/{key}/recommendations/{number}", response_class=HTMLResponse)
def recommendation_page(
    request: Request,
    key: str,
    number: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
) -> Response:
    return _rec_page(request, session, actor, lang, key, number)


def _rec_form(
    request: Request,
    session: Session,
    actor: Actor,
    lang: str,
    key: str,
    number: str,
    form: str,
    values: dict[str, Any],
    write: Callable[[], Any],
    flash: str,
) -> Response:
    return post_form(
        request,
        session,
        form=form,
        values=values,
        write=write,
        flash=flash,
        redirect=_rec_url(key, number),
        refusal=Refusal,
        rerender=lambda refusal: _rec_page(request, session, actor, lang, key, number, refusal),
    )


@router.post(
    "/advisory/reports/{key}/recommendations/{number}/respond", response_class=HTMLResponse
)
def respond(
    request: Request,
    key: str,
    number: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    version: Annotated[str, Form()],
    position: Annotated[str, Form()],
    text: Annotated[str, Form()],
    on_date: Annotated[str, Form()] = "",
    responding_body: Annotated[str, Form()] = "",
) -> Response:
    """Record the government's response (the office)."""
    values = {
        "position": position,
        "text": text,
        "on_date": on_date,
        "responding_body": responding_body,
    }

    def write() -> Any:
        problems: list[tuple[str, str]] = []
        when = _date(on_date, "on_date", problems) or dt.date.today()
        expected = _int(version, "version", problems)
        _check(problems)
        return service.respond(
            session,
            actor,
            report_key=key,
            number=number,
            position=position,
            text=text,
            on_date=when,
            responding_body=responding_body.strip() or None,
            expected_version=expected,
        )

    return _rec_form(
        request, session, actor, lang, key, number, "respond", values, write, "responded"
    )


@router.post("/advisory/reports/{key}/recommendations/{number}/status", response_class=HTMLResponse)
def set_status(
    request: Request,
    key: str,
    number: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    version: Annotated[str, Form()],
    status: Annotated[str, Form()],
    on_date: Annotated[str, Form()] = "",
    benefit: Annotated[str, Form()] = "",
    benefit_amount: Annotated[str, Form()] = "",
    benefit_currency: Annotated[str, Form()] = "",
    evidence: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Move the recommendation towards closure with the benefit claimed (the office)."""
    values = {
        "status": status,
        "on_date": on_date,
        "benefit": benefit,
        "benefit_amount": benefit_amount,
        "benefit_currency": benefit_currency,
        "evidence": evidence,
        "note": note,
    }

    def write() -> Any:
        problems: list[tuple[str, str]] = []
        when = _date(on_date, "on_date", problems) or dt.date.today()
        expected = _int(version, "version", problems)
        _check(problems)
        return service.set_status(
            session,
            actor,
            report_key=key,
            number=number,
            status=status,
            on_date=when,
            benefit=benefit,
            benefit_amount=benefit_amount.strip() or None,
            benefit_currency=benefit_currency,
            evidence=evidence,
            note=note,
            expected_version=expected,
        )

    return _rec_form(request, session, actor, lang, key, number, "status", values, write, "status")


@router.post("/advisory/reports/{key}/recommendations/{number}/tasks", response_class=HTMLResponse)
def link_task(
    request: Request,
    key: str,
    number: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    version: Annotated[str, Form()],
    task: Annotated[str, Form(description="plan/task")],
    unlink: Annotated[str, Form()] = "",
) -> Response:
    """Link (or with ``unlink=1`` remove the link to) a plan task, given as ``plan/code``."""
    values = {"task": task}

    def write() -> Any:
        problems: list[tuple[str, str]] = []
        expected = _int(version, "version", problems)
        plan_key, _, code = task.strip().partition("/")
        if not plan_key or not code:
            problems.append(("task", "choose a task (plan/code)"))
        _check(problems)
        change = service.unlink_task if unlink else service.link_task
        return change(
            session,
            actor,
            report_key=key,
            number=number,
            plan_key=plan_key,
            task_code=code,
            expected_version=expected,
        )

    flash = "unlinked" if unlink else "linked"
    return _rec_form(request, session, actor, lang, key, number, "link", values, write, flash)
