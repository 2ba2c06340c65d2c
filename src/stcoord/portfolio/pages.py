"""HTML pages of the portfolio: overview and import, screen runs with a live progress job page
(HTMX polling), the ranked pair list with filters and exports, the pair page with highlighted
passages and the verdict form, precision over time, researcher checks and the topic landscape.

Routes call the portfolio services and render; a refused form (bad rows, a stale verdict) is
shown in the page with nothing written (the session is rolled back before rendering).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from stcoord.analytics.similarity import DEFAULT_THRESHOLD
from stcoord.auth.permissions import Actor, permits, require
from stcoord.errors import ServiceError, ValidationFailed
from stcoord.portfolio import adjudication, jobs, landscape, researchers, screening
from stcoord.portfolio.imports import import_projects
from stcoord.portfolio.mapping import shipped_mappings
from stcoord.portfolio.models import VERDICTS
from stcoord.portfolio.pairs_view import highlighted, pair_detail
from stcoord.portfolio.projects import (
    PAIR_EXPORT_HEADERS,
    agency_names,
    get_project,
    pair_export_rows,
    portfolio_agencies,
    portfolio_sources,
    project_read,
)
from stcoord.portfolio.screening import PairFilter, projects_by_id
from stcoord.reports.charts import DEFAULT_FONT, SCHEMA
from stcoord.tabular import MEDIA_TYPES, write_table
from stcoord.web.dependencies import CurrentActor, DbSession, Language, check_csrf
from stcoord.web.forms import Form, Refusal, form_text, redirect_with_flash, refused
from stcoord.web.i18n import translations
from stcoord.web.templating import PageRenderer

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
PAGE = 50


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


TERMS: dict[str, dict[str, str]] = {
    "verdict": {
        "duplication": N_("duplication"),
        "overlap": N_("overlap"),
        "fragmentation": N_("fragmentation"),
        "complementary": N_("complementary"),
        "unrelated": N_("unrelated"),
    },
    "verdict_help": {
        "duplication": N_("the same activities for the same beneficiaries"),
        "overlap": N_("similar goals, activities or beneficiaries"),
        "fragmentation": N_("several agencies in one area: not a problem by itself"),
        "complementary": N_("related work that fits together"),
        "unrelated": N_("not the same work"),
    },
    "status": {
        "queued": N_("queued"),
        "running": N_("running"),
        "done": N_("done"),
        "failed": N_("failed"),
    },
    "kind": {"portfolio": N_("portfolio"), "batch": N_("batch")},
}
FLASHES = {
    "imported": N_("The file was checked and its projects were saved."),
    "run": N_("The screen was started."),
    "resumed": N_("The screen was resumed from its last chunk."),
    "verdict": N_("The verdict was saved."),
    "assigned": N_("The pairs were assigned."),
    "threshold": N_("The threshold was saved."),
}


def _helpers(lang: str) -> dict[str, Any]:
    gettext = translations(lang).gettext

    def term(group: str, value: str | None) -> str:
        if value is None:
            return ""
        return gettext(TERMS.get(group, {}).get(value, value))

    def money(value: Decimal | float | None) -> str:
        if value is None:
            return "—"
        return f"{float(value):,.0f}"

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.1%}"

    return {"term": term, "money": money, "pct": pct, "verdicts": VERDICTS}


_page = PageRenderer(FLASHES, _helpers)


# ---------------------------------------------------------------------------- overview


def _shipped(key: str) -> Any:
    shipped = shipped_mappings()
    if key not in shipped:
        raise ValidationFailed([("mapping", f"no shipped mapping {key!r}")])
    return shipped[key]


def _overview(
    request: Request,
    session: Session,
    actor: Actor,
    lang: str,
    *,
    refusal: Refusal | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    require(actor, "portfolio.read")
    return _page(
        request,
        "portfolio/index.html",
        actor=actor,
        lang=lang,
        status_code=status_code,
        section="home",
        sources=portfolio_sources(session, actor),
        agencies=portfolio_agencies(session, actor),
        runs=screening.list_runs(session, actor)[:5],
        mappings=list(shipped_mappings().values()),
        may_import=permits(actor, "portfolio.import"),
        refusal=refusal,
    )


@router.get("/portfolio", response_class=HTMLResponse)
def overview(request: Request, session: DbSession, actor: CurrentActor, lang: Language) -> Response:
    return _overview(request, session, actor, lang)


@router.post("/portfolio/import", response_class=HTMLResponse)
def import_page(
    request: Request, session: DbSession, actor: CurrentActor, lang: Language, form: Form
) -> Response:
    """Upload a JSONL/CSV/XLSX file; every bad row is listed and nothing is written."""
    require(actor, "portfolio.import")
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed([("file", "choose a file")])
        mapping_key = form_text(form, "mapping")
        data = upload.file.read()
        import_projects(
            session,
            actor,
            stream=io.BytesIO(data),
            filename=upload.filename,
            mapping=_shipped(mapping_key) if mapping_key else None,
            source=form_text(form, "source") or None,
        )
    except ServiceError as exc:
        refusal = refused(session, exc)
        return _overview(request, session, actor, lang, refusal=refusal, status_code=422)
    return redirect_with_flash(request, "/portfolio", "imported")


@router.get("/portfolio/projects/{project_id}", response_class=HTMLResponse)
def project_page(
    request: Request, session: DbSession, actor: CurrentActor, lang: Language, project_id: int
) -> Response:
    project = project_read(session, get_project(session, actor, project_id))
    return _page(
        request, "portfolio/project.html", actor=actor, lang=lang, section="home", project=project
    )


# -------------------------------------------------------------------------------- runs


def _runs_page(
    request: Request,
    session: Session,
    actor: Actor,
    lang: str,
    *,
    refusal: Refusal | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return _page(
        request,
        "portfolio/runs.html",
        actor=actor,
        lang=lang,
        status_code=status_code,
        section="runs",
        runs=screening.list_runs(session, actor),
        sources=portfolio_sources(session, actor),
        agencies=portfolio_agencies(session, actor),
        may_screen=permits(actor, "portfolio.screen"),
        default_threshold=DEFAULT_THRESHOLD,
        representations=screening.REPRESENTATIONS,
        methods=screening.METHODS,
        refusal=refusal,
    )


@router.get("/portfolio/runs", response_class=HTMLResponse)
def runs_page(
    request: Request, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    return _runs_page(request, session, actor, lang)


def _float(form: FormData, name: str, default: float) -> float:
    text = form_text(form, name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValidationFailed([(name, f"not a number: {text!r}")]) from None
    if not math.isfinite(value):
        raise ValidationFailed([(name, "not a finite number")])
    return value


@router.post("/portfolio/runs", response_class=HTMLResponse)
def start_run(
    request: Request, session: DbSession, actor: CurrentActor, lang: Language, form: Form
) -> Response:
    try:
        if form_text(form, "batch_source"):
            base = form_text(form, "base_run")
            run = screening.create_batch_run(
                session,
                actor,
                batch_source=form_text(form, "batch_source"),
                base_run_id=int(base) if base.isdigit() else None,
                threshold=_float(form, "threshold", DEFAULT_THRESHOLD)
                if form_text(form, "threshold")
                else None,
            )
        else:
            run = screening.create_run(
                session,
                actor,
                representation=form_text(form, "representation") or "auto",
                threshold=_float(form, "threshold", DEFAULT_THRESHOLD),
                method=form_text(form, "method") or "auto",
                agencies=[a for a in form.getlist("agency") if isinstance(a, str) and a],
                sources=[s for s in form.getlist("source") if isinstance(s, str) and s],
                chunk_size=int(_float(form, "chunk_size", screening.DEFAULT_CHUNK)),
            )
    except ServiceError as exc:
        refusal = refused(session, exc)
        return _runs_page(request, session, actor, lang, refusal=refusal, status_code=422)
    session.commit()  # the job reads the run in its own transaction
    jobs.start(request.app.state.database, actor, run.id)
    return redirect_with_flash(request, f"/portfolio/runs/{run.id}", "run")


def _run_context(session: Session, actor: Actor, run_id: int) -> dict[str, Any]:
    run = screening.get_run(session, actor, run_id)
    percent = run.chunks_done / run.chunks_total if run.chunks_total else 0.0
    return {
        "run": run,
        "percent": percent,
        "live": run.status in ("queued", "running") and jobs.is_running_here(run.id),
        "may_resume": permits(actor, "portfolio.screen")
        and screening.resumable(run)
        and not jobs.is_running_here(run.id),
    }


@router.get("/portfolio/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request, session: DbSession, actor: CurrentActor, lang: Language, run_id: int
) -> Response:
    return _page(
        request,
        "portfolio/run.html",
        actor=actor,
        lang=lang,
        section="runs",
        **_run_context(session, actor, run_id),
    )


@router.get("/portfolio/runs/{run_id}/progress", response_class=HTMLResponse)
def run_progress(
    request: Request, session: DbSession, actor: CurrentActor, lang: Language, run_id: int
) -> Response:
    """The progress block alone, polled by HTMX while the run is live."""
    return _page(
        request,
        "portfolio/run.html",
        actor=actor,
        lang=lang,
        block_name="progress",
        **_run_context(session, actor, run_id),
    )


@router.post("/portfolio/runs/{run_id}/resume", response_class=HTMLResponse)
def resume_page(request: Request, session: DbSession, actor: CurrentActor, run_id: int) -> Response:
    require(actor, "portfolio.screen")
    run = screening.get_run(session, actor, run_id)
    if screening.resumable(run) and not jobs.is_running_here(run_id):
        jobs.start(request.app.state.database, actor, run_id)
    return redirect_with_flash(request, f"/portfolio/runs/{run_id}", "resumed")


# ------------------------------------------------------------------------------- pairs


def _bool(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _pair_filter(
    run: str | None,
    min_score: str | None,
    cross_agency: str | None,
    shared: str | None,
    verdict: str | None,
    assigned: str | None,
    actor: Actor,
) -> PairFilter:
    problems = []
    score = None
    if min_score:
        try:
            score = float(min_score)
        except ValueError:
            problems.append(("min_score", f"not a number: {min_score!r}"))
    if run and not run.isdigit():
        problems.append(("run", f"not a run number: {run!r}"))
    if problems:
        raise ValidationFailed(problems)
    assigned_to = None
    if assigned == "me":
        assigned_to = actor.user_id if actor.user_id is not None else -1
    elif assigned and assigned.isdigit():
        assigned_to = int(assigned)
    return PairFilter(
        run_id=int(run) if run else None,
        min_score=score,
        cross_agency=_bool(cross_agency),
        shared_investigators=_bool(shared),
        verdict=verdict or None,
        assigned_to=assigned_to,
    )


@router.get("/portfolio/pairs", response_class=HTMLResponse)
def pairs_page(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    run: str | None = None,
    min_score: str | None = None,
    cross_agency: str | None = None,
    shared: str | None = None,
    verdict: str | None = None,
    assigned: str | None = None,
    sort: str = "-score",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    flt = _pair_filter(run, min_score, cross_agency, shared, verdict, assigned, actor)
    rows, total = screening.list_pairs(
        session, actor, flt, sort=sort, limit=PAGE, offset=(page - 1) * PAGE
    )
    projects = projects_by_id(
        session, [p.left_project_id for p in rows] + [p.right_project_id for p in rows]
    )
    return _page(
        request,
        "portfolio/pairs.html",
        actor=actor,
        lang=lang,
        section="pairs",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PAGE)),
        projects=projects,
        agencies=agency_names(session, {p.agency_id for p in projects.values()}),
        runs=screening.list_runs(session, actor),
        reviewers=adjudication.reviewers(session, actor),
        may_assign=permits(actor, "portfolio.manage"),
        query=dict(request.query_params),
        sort=sort,
    )


def _export(
    session: Session,
    actor: Actor,
    fmt: str,
    run: str | None,
    min_score: str | None,
    cross_agency: str | None,
    shared: str | None,
    verdict: str | None,
    assigned: str | None,
    sort: str,
) -> Response:
    flt = _pair_filter(run, min_score, cross_agency, shared, verdict, assigned, actor)
    rows, _ = screening.list_pairs(session, actor, flt, sort=sort, limit=None)
    return Response(
        write_table(PAIR_EXPORT_HEADERS, pair_export_rows(session, rows), fmt),
        media_type=MEDIA_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="pairs.{fmt}"'},
    )


@router.get("/portfolio/pairs.csv")
def pairs_csv(
    session: DbSession,
    actor: CurrentActor,
    run: str | None = None,
    min_score: str | None = None,
    cross_agency: str | None = None,
    shared: str | None = None,
    verdict: str | None = None,
    assigned: str | None = None,
    sort: str = "-score",
) -> Response:
    return _export(
        session, actor, "csv", run, min_score, cross_agency, shared, verdict, assigned, sort
    )


@router.get("/portfolio/pairs.xlsx")
def pairs_xlsx(
    session: DbSession,
    actor: CurrentActor,
    run: str | None = None,
    min_score: str | None = None,
    cross_agency: str | None = None,
    shared: str | None = None,
    verdict: str | None = None,
    assigned: str | None = None,
    sort: str = "-score",
) -> Response:
    return _export(
        session, actor, "xlsx", run, min_score, cross_agency, shared, verdict, assigned, sort
    )


@router.post("/portfolio/pairs/assign", response_class=HTMLResponse)
def assign_page(request: Request, session: DbSession, actor: CurrentActor, form: Form) -> Response:
    ids = [int(v) for v in form.getlist("pair") if isinstance(v, str) and v.isdigit()]
    adjudication.assign(session, actor, pair_ids=ids, reviewer=form_text(form, "reviewer") or None)
    back = form_text(form, "back")
    return redirect_with_flash(
        request, back if back.startswith("/portfolio/") else "/portfolio/pairs", "assigned"
    )


def _pair_page(
    request: Request,
    session: Session,
    actor: Actor,
    lang: str,
    pair_id: int,
    *,
    refusal: Refusal | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    detail = pair_detail(session, actor, pair_id)
    left, right = highlighted(detail)
    return _page(
        request,
        "portfolio/pair.html",
        actor=actor,
        lang=lang,
        status_code=status_code,
        section="pairs",
        d=detail,
        left_segments=left,
        right_segments=right,
        refusal=refusal,
        form=form or {"label": detail["verdict"] or "", "comment": detail["verdict_comment"] or ""},
    )


@router.get("/portfolio/pairs/{pair_id}", response_class=HTMLResponse)
def pair_page(
    request: Request, session: DbSession, actor: CurrentActor, lang: Language, pair_id: int
) -> Response:
    return _pair_page(request, session, actor, lang, pair_id)


@router.post("/portfolio/pairs/{pair_id}/verdict", response_class=HTMLResponse)
def verdict_page(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    pair_id: int,
    form: Form,
) -> Response:
    version = form_text(form, "version")
    try:
        adjudication.record_verdict(
            session,
            actor,
            pair_id=pair_id,
            label=form_text(form, "label"),
            comment=form_text(form, "comment"),
            version=int(version) if version.isdigit() else None,
        )
    except ServiceError as exc:
        refusal = refused(session, exc)
        typed = {"label": form_text(form, "label"), "comment": form_text(form, "comment")}
        return _pair_page(
            request,
            session,
            actor,
            lang,
            pair_id,
            refusal=refusal,
            form=typed,
            status_code=exc.status_code,
        )
    return redirect_with_flash(request, f"/portfolio/pairs/{pair_id}", "verdict")


# --------------------------------------------------------------------------- precision


@router.get("/portfolio/precision", response_class=HTMLResponse)
def precision_page(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    run: str | None = None,
    by: str = "week",
) -> Response:
    report = adjudication.precision(
        session, actor, run_id=int(run) if run and run.isdigit() else None, by=by
    )
    gettext = translations(lang).gettext
    chart = precision_chart(report, gettext) if report.over_time else None
    return _page(
        request,
        "portfolio/precision.html",
        actor=actor,
        lang=lang,
        section="precision",
        report=report,
        by=by,
        run=run,
        chart=chart,
    )


# ----------------------------------------------------------------------- researcher checks


@router.get("/portfolio/checks", response_class=HTMLResponse)
def checks_page(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    run: str | None = None,
    all_agencies: str | None = None,
    threshold: str | None = None,
) -> Response:
    runs = [r for r in screening.list_runs(session, actor) if r.status == "done"]
    run_id = int(run) if run and run.isdigit() else (runs[0].id if runs else None)
    twice = (
        researchers.funded_twice(
            session, actor, run_id=run_id, cross_agency_only=all_agencies != "yes"
        )
        if run_id
        else []
    )
    limit, currency, heavy = researchers.concurrent_funding(
        session, actor, threshold=threshold or None
    )
    stored, stored_currency, version = researchers.get_threshold(session, actor)
    involved = {t.left_project_id for t in twice} | {t.right_project_id for t in twice}
    involved |= {p for c in heavy for p in c.projects}
    projects = projects_by_id(session, involved)
    return _page(
        request,
        "portfolio/checks.html",
        actor=actor,
        lang=lang,
        section="checks",
        runs=runs,
        run_id=run_id,
        all_agencies=all_agencies == "yes",
        twice=twice,
        heavy=heavy,
        limit=limit,
        currency=currency,
        stored=stored,
        stored_currency=stored_currency,
        version=version,
        projects=projects,
        agencies=agency_names(session, {p.agency_id for p in projects.values()}),
        may_manage=permits(actor, "portfolio.manage"),
    )


@router.post("/portfolio/checks/threshold", response_class=HTMLResponse)
def threshold_page(
    request: Request, session: DbSession, actor: CurrentActor, form: Form
) -> Response:
    version = form_text(form, "version")
    researchers.set_threshold(
        session,
        actor,
        amount=form_text(form, "amount"),
        currency=form_text(form, "currency") or "USD",
        version=int(version) if version.isdigit() and int(version) > 0 else None,
    )
    return redirect_with_flash(request, "/portfolio/checks", "threshold")


# ---------------------------------------------------------------------------- landscape


@router.get("/portfolio/landscape", response_class=HTMLResponse)
def landscape_page(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    n_topics: Annotated[int | None, Query(ge=2, le=200)] = None,
    source: Annotated[list[str] | None, Query()] = None,
    jurisdiction: str = "US",
    priorities: str | None = None,
) -> Response:
    view = landscape.build(
        session,
        actor,
        n_topics=n_topics,
        sources=source or [],
        jurisdiction=jurisdiction.upper(),
        priority_set=priorities or None,
    )
    gettext = translations(lang).gettext
    return _page(
        request,
        "portfolio/landscape.html",
        actor=actor,
        lang=lang,
        section="landscape",
        view=view,
        charts=landscape_charts(view, gettext),
        sources=portfolio_sources(session, actor),
        chosen_sources=source or [],
        n_topics=n_topics,
        jurisdiction=jurisdiction.upper(),
    )


def _frame(title: str) -> dict[str, Any]:
    """The frame of a Vega-Lite spec, as reports/charts.py builds them (a CJK-capable font)."""
    return {
        "$schema": SCHEMA,
        "background": "white",
        "title": title,
        "config": {
            "font": DEFAULT_FONT,
            "view": {"stroke": None},
            "axis": {"labelFontSize": 11, "titleFontSize": 11, "gridColor": "#e2e8f0"},
            "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom"},
        },
    }


# ------------------------------------------------------------------------------- charts


def landscape_charts(
    view: landscape.LandscapeView, gettext: Callable[[str], str]
) -> dict[str, dict[str, Any]]:
    """Vega-Lite specs: topics by money coloured by Herfindahl, and field share vs weight."""
    out: dict[str, dict[str, Any]] = {}
    if view.topics:
        spec = _frame(gettext("Money per topic"))
        spec.update(
            {
                "width": 520,
                "height": {"step": 18},
                "data": {
                    "values": [
                        {
                            "topic": f"{t.index}: {', '.join(t.terms[:3])}",
                            "money": float(t.money),
                            "herfindahl": t.herfindahl,
                            "agencies": t.agencies,
                        }
                        for t in view.topics[:30]
                    ]
                },
                "mark": "bar",
                "encoding": {
                    "y": {"field": "topic", "type": "nominal", "sort": "-x", "title": None},
                    "x": {"field": "money", "type": "quantitative", "title": gettext("Money")},
                    "color": {
                        "field": "herfindahl",
                        "type": "quantitative",
                        "title": gettext("Herfindahl"),
                        "scale": {"domain": [0, 1]},
                    },
                    "tooltip": [
                        {"field": "topic", "type": "nominal"},
                        {"field": "money", "type": "quantitative", "format": ",.0f"},
                        {"field": "agencies", "type": "quantitative"},
                        {"field": "herfindahl", "type": "quantitative", "format": ".2f"},
                    ],
                },
            }
        )
        out["topics"] = spec
    if view.fields:
        values = []
        for f in view.fields:
            values.append({"field": f.name, "measure": gettext("Share of money"), "value": f.share})
            values.append(
                {"field": f.name, "measure": gettext("Priority weight"), "value": f.weight}
            )
        spec = _frame(gettext("Money against priorities by strategic field"))
        spec.update(
            {
                "width": 520,
                "data": {"values": values},
                "mark": "bar",
                "encoding": {
                    "y": {"field": "field", "type": "nominal", "title": None},
                    "yOffset": {"field": "measure"},
                    "x": {"field": "value", "type": "quantitative", "axis": {"format": "%"}},
                    "color": {"field": "measure", "type": "nominal", "title": None},
                },
            }
        )
        out["fields"] = spec
    return out


def precision_chart(report: Any, gettext: Callable[[str], str]) -> dict[str, Any]:
    """Cumulative precision over time (a line) with the pairs adjudicated per period (bars)."""
    values = [
        {
            "period": p.period,
            "precision": p.cumulative.precision,
            "adjudicated": p.adjudicated,
        }
        for p in report.over_time
    ]
    spec = _frame(gettext("Cumulative precision"))
    spec.update(
        {
            "width": 520,
            "data": {"values": values},
            "encoding": {"x": {"field": "period", "type": "temporal", "title": None}},
            "layer": [
                {
                    "mark": {"type": "bar", "opacity": 0.3},
                    "encoding": {
                        "y": {
                            "field": "adjudicated",
                            "type": "quantitative",
                            "title": gettext("Adjudicated"),
                        }
                    },
                },
                {
                    "mark": {"type": "line", "point": True},
                    "encoding": {
                        "y": {
                            "field": "precision",
                            "type": "quantitative",
                            "axis": {"format": "%"},
                            "scale": {"domain": [0, 1]},
                            "title": gettext("Precision"),
                        }
                    },
                },
            ],
            "resolve": {"scale": {"y": "independent"}},
        }
    )
    return spec
