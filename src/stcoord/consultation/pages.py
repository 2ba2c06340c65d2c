"""HTML pages of consultations.

For participants (usable on a phone): the list, a consultation's page (register with a sector and
organisation, comment on a section of the draft, write a statement, vote agree/disagree/pass with
HTMX), and the Delphi rating page with last round's median and spread. For the office: the live
dashboard, moderation, dispositions, Delphi rounds, and the two reports (HTML and PDF).

Routes call the consultation services; a refused form shows its reasons in the page with
nothing written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

import stcoord.flows  # noqa: F401  (the plan engine's gate sees consultation facts)
from stcoord.auth.permissions import Actor, PermissionDenied, permits, require
from stcoord.consultation import dashboard, delphi, reports, schemas, service
from stcoord.consultation.api import boxed, sort_keys
from stcoord.consultation.models import KINDS, OUTCOMES, SECTORS
from stcoord.errors import ServiceError, ValidationFailed
from stcoord.institutions.models import Body, Jurisdiction
from stcoord.plans.pages import Words, words_for
from stcoord.reports import charts
from stcoord.reports.pdf import html_to_pdf
from stcoord.web import vote_batcher
from stcoord.web.dependencies import CurrentActor, DbSession, Language, check_csrf
from stcoord.web.i18n import LANGUAGES, term_translator, translations
from stcoord.web.pagination import PageParams, page_params, slice_page, sort_rows
from stcoord.web.templating import PageRenderer

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
vote_router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)  # see api.py
Paging = Annotated[PageParams, Depends(page_params)]


def N_(message: str) -> str:
    return message


FLASHES = {
    "registered": N_("You are registered. You can now comment, write statements and vote."),
    "comment": N_("Your comment was received."),
    "statement": N_("Your statement was added."),
    "vote": N_("Your vote was recorded."),
    "moderated": N_("The moderation was recorded."),
    "answered": N_("The disposition was recorded."),
    "rated": N_("Your ratings were recorded."),
    "round_opened": N_("A new round is open."),
    "round_closed": N_("The round was closed and its statistics computed."),
    "status": N_("The consultation's status was changed."),
}


def _helpers(lang: str) -> dict[str, Any]:
    return {"term": term_function(lang), "SECTORS": SECTORS, "OUTCOMES": OUTCOMES, "KINDS": KINDS}


_page = PageRenderer(FLASHES, _helpers)


def _done(request: Request, url: str, flash: str) -> RedirectResponse:
    request.session["flash"] = flash
    return RedirectResponse(url, status_code=303)


def gate_words(session: Session, d: dashboard.Dashboard, lang: str) -> Words:
    """How the plan pages word an unmet gate condition (translated, bodies linked by their
    local names), for the stage this consultation belongs to."""
    plan = d.stage.plan
    code = session.scalars(
        select(Jurisdiction.code).where(Jurisdiction.id == plan.jurisdiction_id)
    ).one()
    bodies = session.scalars(select(Body).where(Body.jurisdiction_id == plan.jurisdiction_id))
    return words_for(lang, bodies, code, plan.stages)


# ---------------------------------------------------------------- vocabulary, chart, reports


def term_function(lang: str) -> Callable[[str, str | None], str]:
    """Translate a word of the consultation vocabularies (:data:`reports.TERMS`)."""
    return term_translator(lang, reports.TERMS)


@dataclass(frozen=True)
class Chart:
    """A spec for vega-embed and its server-rendered SVG (fallback and PDF)."""

    id: str
    spec: dict[str, Any]

    @property
    def svg(self) -> Markup:
        return Markup(charts.to_svg(self.spec))


def chart_for(d: dashboard.Dashboard, lang: str, *, with_names: bool = False) -> Chart | None:
    if not d.analysis.points:
        return None
    gettext = translations(lang).gettext
    term = term_function(lang)
    spec = reports.participants_chart(
        d.analysis.points,
        labels={
            "group": gettext("Opinion group"),
            "sector": gettext("Sector"),
            "x": gettext("First component"),
            "y": gettext("Second component"),
            "none": gettext("not clustered"),
        },
        sector_names={s: term("sector", s) for s in reports.TERMS["sector"]},
        explained=d.analysis.explained_variance,
        font=charts.font_for(lang),
        with_names=with_names,
    )
    return Chart("chart-participants", spec)


def render_report(template: str, lang: str, **context: Any) -> str:
    """A report template rendered to a standalone HTML document (no request needed)."""
    from stcoord.web.templating import templates

    trans = translations(lang)
    base = {
        "lang": lang,
        "_": trans.gettext,
        "ngettext": trans.ngettext,
        "LANGUAGES": LANGUAGES,
        "generated": dt.date.today(),
        "term": term_function(lang),
    }
    return templates.env.get_template(template).render(**base, **context)


def report_html(session: Session, actor: Actor, key: str, kind: str, lang: str) -> str:
    """The summary (``kind="summary"``) or the result of comments (``kind="result"``)."""
    c = service.get_consultation(session, actor, key)
    if kind == "result":
        plan_key, stage = service.stage_of(session, c)
        every = service.list_comments(session, actor, key=key, for_result=True)
        rows = [r for r in every if not r.comment.hidden]
        hidden = [r for r in every if r.comment.hidden]  # listed with their answer, not text
        counts = {
            o: sum(1 for r in every if r.disposition and r.disposition.outcome == o)
            for o in OUTCOMES
        }
        unanswered = sum(1 for r in every if r.disposition is None)
        return render_report(
            "consultation/report_result.html",
            lang,
            c=c,
            plan_key=plan_key,
            stage=stage,
            rows=rows,
            hidden=hidden,
            counts=counts,
            unanswered=unanswered,
            total=len(every),
        )
    d = dashboard.build(session, c)
    sectors, table = reports.sector_table(d)
    return render_report(
        "consultation/report_summary.html",
        lang,
        c=c,
        d=d,
        w=gate_words(session, d, lang),
        chart=chart_for(d, lang),
        sectors=sectors,
        table=table,
    )


# ---------------------------------------------------------------- list


CONSULTATION_SORTS = schemas.CONSULTATION_COLUMNS


@router.get("/consultations", response_class=HTMLResponse)
def consultation_list(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    paging: Paging,
    plan: str | None = None,
    status: str | None = None,
    kind: str | None = None,
) -> Response:
    rows = [
        schemas.consultation_row(r)
        for r in service.list_consultations(
            session, actor, plan_key=plan or None, status=status or None, kind=kind or None
        )
    ]
    rows = sort_rows(rows, paging.sort, sort_keys(CONSULTATION_SORTS))
    shown, total = slice_page(rows, paging)
    query = urlencode(
        {
            k: v
            for k, v in {"plan": plan, "status": status, "kind": kind, "sort": paging.sort}.items()
            if v
        }
    )
    return _page(
        request,
        "consultation/list.html",
        actor=actor,
        lang=lang,
        rows=shown,
        total=total,
        paging=paging,
        filters={"plan": plan or "", "status": status or "", "kind": kind or ""},
        export_query=query,
    )


# ---------------------------------------------------------------- a consultation (participants)


def _context(session: Session, actor: Actor, key: str) -> dict[str, Any]:
    c = service.get_consultation(session, actor, key)
    plan_key, stage = service.stage_of(session, c)
    me = service.my_participant(session, actor, c)
    statements = service.list_statements(session, actor, key=key, for_participant=me)
    my_comments = []
    if me is not None:
        my_comments = [
            r for r in service.list_comments(session, actor, key=key) if r.participant.id == me.id
        ]
    return {
        "c": c,
        "plan_key": plan_key,
        "stage": stage,
        "me": me,
        "sections": service.sections(session, c),
        "statements": statements,
        "my_comments": my_comments,
        "office": permits(actor, "consultation.office"),
        "may_take_part": permits(actor, "consultation.participate"),
        "error": None,
        "values": {},
    }


def _form(
    request: Request,
    session: DbSession,
    actor: Actor,
    lang: str,
    key: str,
    write: Callable[[], Any],
    flash: str,
    values: dict[str, str],
    url: str | None = None,
    template: str = "consultation/show.html",
    context: Callable[[], dict[str, Any]] | None = None,
) -> Response:
    """Run one service call; on a refusal show the page with every reason, nothing written."""
    try:
        write()
        session.flush()
    except ServiceError as exc:
        session.rollback()
        ctx = context() if context else _context(session, actor, key)
        ctx.update(error=exc, values=values)
        return _page(request, template, actor=actor, lang=lang, status_code=exc.status_code, **ctx)
    return _done(request, url or f"/consultations/{key}", flash)


@router.get("/consultations/{key}", response_class=HTMLResponse)
def consultation_page(
    request: Request, key: str, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    return _page(
        request, "consultation/show.html", actor=actor, lang=lang, **_context(session, actor, key)
    )


@router.post("/consultations/{key}/register", response_class=HTMLResponse)
def register(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    sector: Annotated[str, Form()],
    organisation: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
) -> Response:
    require(actor, "consultation.participate")
    return _form(
        request,
        session,
        actor,
        lang,
        key,
        lambda: service.register(
            session,
            actor,
            key=key,
            sector=sector,
            organisation=organisation.strip() or None,
            display_name=display_name.strip() or None,
        ),
        "registered",
        {"sector": sector, "organisation": organisation, "display_name": display_name},
    )


@router.post("/consultations/{key}/comments", response_class=HTMLResponse)
def add_comment(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    text: Annotated[str, Form()] = "",
    section: Annotated[str, Form()] = "",
) -> Response:
    require(actor, "consultation.participate")
    return _form(
        request,
        session,
        actor,
        lang,
        key,
        lambda: service.add_comment(
            session, actor, key=key, text=text, section_key=section or None
        ),
        "comment",
        {"text": text, "section": section},
        url=f"/consultations/{key}#comments",
    )


@router.post("/consultations/{key}/statements", response_class=HTMLResponse)
def add_statement(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    text: Annotated[str, Form()] = "",
) -> Response:
    require(actor, "consultation.participate")
    return _form(
        request,
        session,
        actor,
        lang,
        key,
        lambda: service.add_statement(session, actor, key=key, text=text),
        "statement",
        {"statement": text},
        url=f"/consultations/{key}#statements",
    )


@vote_router.post("/consultations/{key}/statements/{number}/vote", response_class=HTMLResponse)
async def vote(
    request: Request,
    key: str,
    number: int,
    lang: Language,
    value: Annotated[int, Form()],
) -> Response:
    """Vote; an HTMX request gets back the statement's card with the new counts.

    Recorded by the app's vote batcher (group commit, ``web/vote_batcher.py``),
    committed before this answers; the page is then read in a read-only session."""
    htmx = request.headers.get("hx-request") == "true"
    vote = vote_batcher.VoteIn(key, number, value, card=htmx)
    outcome = await vote_batcher.cast(request, vote)
    if isinstance(outcome.result, PermissionDenied):
        raise outcome.result
    error = outcome.result if isinstance(outcome.result, ServiceError) else None
    if not htmx and error is None:
        return _done(request, f"/consultations/{key}#s{number}", "vote")
    if error is None and outcome.card is not None:  # the card read in the vote's transaction
        card = outcome.card
        row = _CardRow(card, card.agree, card.disagree, card.passed, value)
        # a recorded vote means a registered participant and an open consultation
        return _card(request, outcome.actor, lang, {"key": key, "status": "open"}, True, row)
    return await run_in_threadpool(_vote_page, request, key, number, outcome.actor, lang, error)


def _card(
    request: Request,
    actor: Actor,
    lang: str,
    c: Any,
    me: Any,
    s: Any,
    vote_error: ServiceError | None = None,
) -> Response:
    """The statement's card HTMX swaps in after a vote."""
    return _page(
        request,
        "consultation/_statement.html",
        actor=actor,
        lang=lang,
        status_code=200,
        c=c,
        me=me,
        s=s,
        vote_error=vote_error,
    )


@dataclass(frozen=True)
class _CardRow:
    """A statement row as ``_statement.html`` reads it, from the vote batch's card."""

    statement: service.StatementCard
    agree: int
    disagree: int
    passed: int
    my_vote: int


def _vote_page(
    request: Request,
    key: str,
    number: int,
    actor: Actor,
    lang: str,
    error: ServiceError | None,
) -> Response:
    with request.app.state.database.scope(write=False) as session:
        if request.headers.get("hx-request") != "true":  # a refused form: the page, reasons
            assert error is not None
            ctx = _context(session, actor, key)
            ctx.update(error=error, values={})
            return _page(
                request,
                "consultation/show.html",
                actor=actor,
                lang=lang,
                status_code=error.status_code,
                **ctx,
            )
        c = service.get_consultation(session, actor, key)
        me = service.my_participant(session, actor, c)
        rows = service.list_statements(session, actor, key=key, for_participant=me, number=number)
        return _card(request, actor, lang, c, me, rows[0] if rows else None, error)


# ---------------------------------------------------------------- Delphi


def _delphi_context(session: Session, actor: Actor, key: str) -> dict[str, Any]:
    st = delphi.state(session, actor, key=key)
    return {
        "c": st.consultation,
        "st": st,
        "me": service.my_participant(session, actor, st.consultation),
        "office": permits(actor, "consultation.manage"),
        "error": None,
        "values": {},
    }


@router.get("/consultations/{key}/delphi", response_class=HTMLResponse)
def delphi_page(
    request: Request, key: str, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    return _page(
        request,
        "consultation/delphi.html",
        actor=actor,
        lang=lang,
        **_delphi_context(session, actor, key),
    )


@router.post("/consultations/{key}/delphi/ratings", response_class=HTMLResponse)
async def rate(
    request: Request, key: str, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    """Every rating of the form at once (``rating-<number>`` fields; blank ones are skipped)."""
    require(actor, "consultation.participate")
    form = await request.form()
    values = {k: str(v) for k, v in form.items()}

    def write() -> None:
        problems: list[tuple[str, str]] = []
        ratings: list[tuple[int, float, str | None]] = []
        for name, raw in values.items():
            if not name.startswith("rating-") or not raw.strip():
                continue
            number = name.removeprefix("rating-")
            try:
                ratings.append(
                    (int(number), float(raw), values.get(f"why-{number}", "").strip() or None)
                )
            except ValueError:
                problems.append((name, f"not a number: {raw!r}"))
        if problems:
            raise ValidationFailed(problems)
        if not ratings:
            raise ValidationFailed([("ratings", "rate at least one statement")])
        for number_, value, why in ratings:
            delphi.rate(session, actor, key=key, statement=number_, value=value, rationale=why)

    from starlette.concurrency import run_in_threadpool

    def run() -> Response:
        return _form(
            request,
            session,
            actor,
            lang,
            key,
            write,
            "rated",
            values,
            url=f"/consultations/{key}/delphi",
            template="consultation/delphi.html",
            context=lambda: _delphi_context(session, actor, key),
        )

    return await run_in_threadpool(run)


@router.post("/consultations/{key}/delphi/rounds", response_class=HTMLResponse)
def delphi_round(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    action: Annotated[str, Form()],
) -> Response:
    """Open the next round or close the open one (the office)."""
    require(actor, "consultation.manage")

    def write() -> Any:
        if action == "open":
            return delphi.open_round(session, actor, key=key)
        if action == "close":
            return delphi.close_round(session, actor, key=key)
        raise ValidationFailed([("action", "must be open or close")])

    return _form(
        request,
        session,
        actor,
        lang,
        key,
        write,
        "round_opened" if action == "open" else "round_closed",
        {},
        url=f"/consultations/{key}/delphi",
        template="consultation/delphi.html",
        context=lambda: _delphi_context(session, actor, key),
    )


# ---------------------------------------------------------------- the office


@router.get("/consultations/{key}/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request, key: str, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    """The live dashboard; HTMX refreshes its ``live`` block every 15 seconds."""
    d = dashboard.dashboard(session, actor, key)
    sectors, table = reports.sector_table(d)
    live = request.headers.get("hx-request") == "true"
    return _page(
        request,
        "consultation/dashboard.html",
        actor=actor,
        lang=lang,
        block_name="live" if live else None,
        c=d.consultation,
        d=d,
        w=gate_words(session, d, lang),
        chart=chart_for(d, lang, with_names=True),
        sectors=sectors,
        table=table,
    )


@router.post("/consultations/{key}/status", response_class=HTMLResponse)
def set_status(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    status: Annotated[str, Form()],
) -> Response:
    require(actor, "consultation.manage")
    return _form(
        request,
        session,
        actor,
        lang,
        key,
        lambda: service.set_status(session, actor, key=key, status=status),
        "status",
        {},
        url=f"/consultations/{key}/dashboard",
    )


def _moderation_context(session: Session, actor: Actor, key: str) -> dict[str, Any]:
    c = service.get_consultation(session, actor, key)
    require(actor, "consultation.moderate", c)
    return {
        "c": c,
        "statements": service.list_statements(session, actor, key=key, include_hidden=True),
        "comments": service.list_comments(session, actor, key=key),
        "error": None,
        "values": {},
    }


@router.get("/consultations/{key}/moderation", response_class=HTMLResponse)
def moderation_page(
    request: Request, key: str, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    return _page(
        request,
        "consultation/moderation.html",
        actor=actor,
        lang=lang,
        **_moderation_context(session, actor, key),
    )


@router.post("/consultations/{key}/moderation", response_class=HTMLResponse)
def moderate(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    target: Annotated[str, Form()],
    ident: Annotated[int, Form(alias="id")],
    hidden: Annotated[str, Form()] = "1",
    reason: Annotated[str, Form()] = "",
) -> Response:
    require(actor, "consultation.moderate")
    return _form(
        request,
        session,
        actor,
        lang,
        key,
        lambda: service.moderate(
            session,
            actor,
            key=key,
            target=target,
            ident=ident,
            hidden=hidden == "1",
            reason=reason,
        ),
        "moderated",
        {"reason": reason},
        url=f"/consultations/{key}/moderation",
        template="consultation/moderation.html",
        context=lambda: _moderation_context(session, actor, key),
    )


def _dispositions_context(
    request: Request,
    session: Session,
    actor: Actor,
    key: str,
    paging: PageParams,
    answered: str,
    sector: str,
    section: str,
) -> dict[str, Any]:
    c = service.get_consultation(session, actor, key)
    require(actor, "consultation.answer", c)
    flag = {"yes": True, "no": False}.get(answered)
    rows = service.list_comments(
        session,
        actor,
        key=key,
        answered=flag,
        sector=sector or None,
        section=section or None,
    )
    keys: dict[str, Callable[[Any], Any]] = {
        "id": lambda r: boxed(r.comment.id),
        "section": lambda r: boxed(r.comment.section_key),
        "sector": lambda r: boxed(r.participant.sector),
        "outcome": lambda r: boxed(r.disposition.outcome if r.disposition else None),
    }
    rows = sort_rows(rows, paging.sort, keys)
    shown, total = slice_page(rows, paging)
    query = urlencode(
        {
            k: v
            for k, v in {
                "answered": {"yes": "true", "no": "false"}.get(answered),
                "sector": sector,
                "section": section,
                "sort": paging.sort,
            }.items()
            if v
        }
    )
    return {
        "c": c,
        "rows": shown,
        "total": total,
        "paging": paging,
        "filters": {"answered": answered, "sector": sector, "section": section},
        "sections": service.sections(session, c),
        "export_query": query,
        "error": None,
        "values": {},
        "unanswered": len(service.list_comments(session, actor, key=key, answered=False)),
    }


@router.get("/consultations/{key}/dispositions", response_class=HTMLResponse)
def dispositions_page(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    paging: Paging,
    answered: str = "",
    sector: str = "",
    section: str = "",
) -> Response:
    ctx = _dispositions_context(request, session, actor, key, paging, answered, sector, section)
    return _page(request, "consultation/dispositions.html", actor=actor, lang=lang, **ctx)


@router.post("/consultations/{key}/comments/{comment_id}/disposition", response_class=HTMLResponse)
def answer(
    request: Request,
    key: str,
    comment_id: int,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    paging: Paging,
    outcome: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    require(actor, "consultation.answer")
    return _form(
        request,
        session,
        actor,
        lang,
        key,
        lambda: service.answer_comment(
            session, actor, key=key, comment_id=comment_id, outcome=outcome, reason=reason
        ),
        "answered",
        {"comment": str(comment_id), "outcome": outcome, "reason": reason},
        url=f"/consultations/{key}/dispositions?answered=no",
        template="consultation/dispositions.html",
        context=lambda: _dispositions_context(request, session, actor, key, paging, "", "", ""),
    )


# ---------------------------------------------------------------- reports


def _pdf(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{name}"'},
    )


@router.get("/consultations/{key}/reports/summary", response_class=HTMLResponse)
def summary_report(key: str, session: DbSession, actor: CurrentActor, lang: Language) -> Response:
    return HTMLResponse(report_html(session, actor, key, "summary", lang))


@router.get("/consultations/{key}/reports/summary.pdf")
def summary_pdf(key: str, session: DbSession, actor: CurrentActor, lang: Language) -> Response:
    html = report_html(session, actor, key, "summary", lang)
    return _pdf(html_to_pdf(html), f"{key}-summary-{lang}.pdf")


@router.get("/consultations/{key}/reports/result", response_class=HTMLResponse)
def result_report(key: str, session: DbSession, actor: CurrentActor, lang: Language) -> Response:
    return HTMLResponse(report_html(session, actor, key, "result", lang))


@router.get("/consultations/{key}/reports/result.pdf")
def result_pdf(key: str, session: DbSession, actor: CurrentActor, lang: Language) -> Response:
    html = report_html(session, actor, key, "result", lang)
    return _pdf(html_to_pdf(html), f"{key}-result-{lang}.pdf")
