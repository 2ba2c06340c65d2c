"""HTML pages of strategic plans: list, plan with its stage timeline, goal tree, task, drafts and
their diff, alignment, and the two reports (plan dossier, progress report) as HTML and PDF.

Routes call the plan services and render; every form posts to a route that calls one service,
and a refusal (a gate that does not hold, invalid input, a stale write) is shown in the page with
nothing written. Words of the closed vocabularies go through :data:`PLAN_TERMS` (and the
mechanism pages' ``TERMS``); English messages the engine produces (unmet gate conditions, status
reasons) are matched against their known shapes and translated, falling back to the English text.

For the CLI: :func:`build_dossier_pdf` and :func:`build_progress_pdf` return a report's PDF bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from stcoord.advisory import service as advisory_service
from stcoord.advisory.models import Recommendation
from stcoord.advisory.pages import term_function as advisory_term_function
from stcoord.analytics.gates import Unmet
from stcoord.analytics.textdiff import SectionDiff
from stcoord.analytics.vocabulary import Channel
from stcoord.auth.permissions import Actor, permits, require
from stcoord.errors import Conflict, ValidationFailed
from stcoord.institutions.models import Body, Jurisdiction
from stcoord.institutions.pages import TERMS
from stcoord.plans import reports, service
from stcoord.plans.reports import (
    DossierData,
    GoalTree,
    IndicatorSeries,
    PlanOverview,
    PlanRow,
    ProgressData,
)
from stcoord.plans.service import GateBlocked
from stcoord.plans.status import alignment
from stcoord.reports import charts
from stcoord.reports.pdf import html_to_pdf
from stcoord.web import forms
from stcoord.web.dependencies import CurrentActor, DbSession, Language, check_csrf
from stcoord.web.i18n import LANGUAGES, local_name, term_translator, translations
from stcoord.web.pagination import PageParams, page_params, slice_page, sort_rows
from stcoord.web.templating import PageRenderer, templates

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)

Paging = Annotated[PageParams, Depends(page_params)]
Today = Annotated[
    dt.date | None, Query(description="Reference date for statuses (YYYY-MM-DD); default today.")
]
# Long lists in the reports are cut (with a count of the rest), so that a plan of 10,000 tasks
# still prints in seconds; the spreadsheet exports and the pages have every row.
REPORT_MAX_TASKS = 200  # rows of the per-task and late/at-risk tables of a progress report
REPORT_MAX_ISSUES = 300  # alignment issues listed in a dossier
REPORT_MAX_LATE = 100  # overdue milestones (and indicators behind) in a progress report
REPORT_FULL_TREE = 150  # a progress report lists goals of every level up to this many nodes


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


def pgettext(context: str, message: str) -> str:
    """Mark a message with a context for extraction (``msgctxt``): the same English word that
    needs another translation here; :func:`term_function` translates it with its context."""
    return message


PLAN_TERMS: dict[str, dict[str, str]] = {
    "status": {
        "done": N_("done"),
        "on_track": N_("on track"),
        "at_risk": N_("at risk"),
        "late": N_("late"),
        "no_data": N_("no data"),
    },
    "stage_status": {"pending": N_("pending"), "open": N_("open"), "closed": N_("closed")},
    "plan_status": {"active": N_("active"), "completed": N_("completed")},
    "event": {
        "opened": N_("Plan opened"),
        "output": N_("Output recorded"),
        "input": N_("Input recorded"),
        "decision": N_("Decision recorded"),
        "advanced": N_("Stage closed"),
        "draft": N_("Draft saved"),
    },
    "goal_kind": {
        "goal": N_("Goal"),
        "objective": N_("Objective"),
        "target": pgettext("goal kind", "Target"),  # a node of the tree, not a target value
    },
    "outcome": {"approved": N_("approved"), "rejected": N_("rejected"), "deferred": N_("deferred")},
    "direction": {"increase": N_("increase"), "decrease": N_("decrease")},
    "change": {
        "added": N_("added"),
        "removed": N_("removed"),
        "changed": N_("changed"),
        "unchanged": N_("unchanged"),
    },
    "problem": {
        "no lead body": N_("No lead body"),
        "no indicator": N_("No indicator"),
        "no budget link": N_("No budget link"),
    },
}
# words translated with a context: the same English word needs another translation there
TERM_CONTEXTS = {("goal_kind", "target"): "goal kind"}
FLASHES = {
    "input": N_("The input was recorded."),
    "output": N_("The output was recorded."),
    "decision": N_("The decision was recorded."),
    "advanced": N_("The stage was closed and the next one opened."),
    "completed": N_("The last stage was closed: the plan has completed its procedure."),
    "progress": N_("The progress report was filed."),
    "milestone": N_("The milestone was marked completed."),
}

# Messages of analytics.gates (unmet conditions) and analytics.rollup (status reasons), by shape.
UNMET_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^output not recorded: (?P<output>.+)$"), N_("Output not recorded: %(output)s")),
    (re.compile(r"^no output recorded$"), N_("No output recorded yet")),
    (re.compile(r"^no input yet from (?P<channels>.+)$"), N_("No input yet from: %(channels)s")),
    (
        re.compile(r"^the opinion of (?P<body>\S+) is not on record$"),
        N_("The opinion of %(body)s is not on record"),
    ),
    (re.compile(r"^no advisory opinion on record$"), N_("No advisory opinion on record")),
    (
        re.compile(r"^no valid approving decision by (?P<body>\S+) is on record$"),
        N_("No valid approving decision by %(body)s is on record"),
    ),
    (
        re.compile(r"^no valid approving decision on record$"),
        N_("No valid approving decision on record"),
    ),
    (
        re.compile(r"^earlier stages not closed: (?P<stages>.+)$"),
        N_("Earlier stages not closed: %(stages)s"),
    ),
    (
        re.compile(r"^(?P<count>\d+) comment\(s\) have no official disposition yet$"),
        N_("%(count)s comment(s) have no official disposition yet"),
    ),
]
REASON_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?P<count>\d+) milestone\(s\) overdue$"), N_("%(count)s milestone(s) overdue")),
    (
        re.compile(r"^a milestone falls due within (?P<days>\d+) days$"),
        N_("a milestone falls due within %(days)s days"),
    ),
    (re.compile(r"^an indicator is behind its trajectory$"), N_("an indicator is behind target")),
    (
        re.compile(r"^(?P<progress>\d+%) of the way, (?P<expected>\d+%) expected by now$"),
        N_("%(progress)s of the way, %(expected)s expected by now"),
    ),
    (
        re.compile(r"^deadline passed short of the target$"),
        N_("the deadline passed short of the target"),
    ),
]


# ---------------------------------------------------------------- words and numbers


def local_title(obj: Any, lang: str) -> str:
    """A plan's, goal's, stage's or indicator's title in ``lang`` where the data has it."""
    names = getattr(obj, "names", None) or {}
    return str(names.get(lang) or getattr(obj, "title", None) or getattr(obj, "name", "") or "")


def term_function(lang: str) -> Callable[[str, str | None], str]:
    """``term(group, value)``: a vocabulary word in ``lang`` (unknown words pass through)."""
    return term_translator(lang, PLAN_TERMS, TERMS, contexts=TERM_CONTEXTS)


def number(value: float | None) -> str:
    """``22,500``, ``6.3``, ``0.25``; a dash for no value."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100):d}%"


def day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


@dataclass(frozen=True)
class Words:
    """Per-language helpers handed to every plan template."""

    lang: str
    bodies: dict[str, Body]
    code: str
    stage_names: dict[str, str]

    @property
    def gettext(self) -> Callable[[str], str]:
        return translations(self.lang).gettext

    def body_link(self, key: str) -> Markup:
        body = self.bodies.get(key)
        if body is None:
            return Markup("<code>{}</code>").format(key)
        return Markup('<a href="/mechanisms/{}/bodies/{}">{}</a>').format(
            self.code, body.key, local_name(body, self.lang)
        )

    def _translate(
        self, patterns: list[tuple[re.Pattern[str], str]], message: str
    ) -> Markup | None:
        term = term_function(self.lang)
        for pattern, text in patterns:
            match = pattern.match(message)
            if match is None:
                continue
            values: dict[str, Any] = {}
            for name, value in match.groupdict().items():
                if name == "body":
                    values[name] = self.body_link(value)
                elif name == "channels":
                    values[name] = ", ".join(term("channel", c.strip()) for c in value.split(","))
                elif name == "stages":
                    values[name] = ", ".join(
                        self.stage_names.get(s.strip(), s.strip()) for s in value.split(",")
                    )
                else:
                    values[name] = value
            return Markup(escape(self.gettext(text))) % values
        return None

    def unmet(self, item: Unmet | dict[str, str]) -> Markup:
        """An unmet gate condition, translated (the engine's English text if its shape is new)."""
        message = item["message"] if isinstance(item, dict) else item.message
        return self._translate(UNMET_MESSAGES, message) or Markup(
            '<span lang="en">{}</span>'
        ).format(message)

    def reason(self, message: str) -> Markup:
        return self._translate(REASON_MESSAGES, message) or Markup(
            '<span lang="en">{}</span>'
        ).format(message)


def words_for(lang: str, bodies: Iterable[Body], code: str, stages: Iterable[Any] = ()) -> Words:
    return Words(
        lang=lang,
        bodies={b.key: b for b in bodies},
        code=code,
        stage_names={s.key: local_title(s, lang) for s in stages},
    )


def helpers(lang: str) -> dict[str, Any]:
    """Template helpers shared by pages and printed reports."""
    return {
        "term": term_function(lang),
        "title_of": lambda obj: local_title(obj, lang),
        "num": number,
        "pct": percent,
        "day": day,
    }


_page = PageRenderer(FLASHES, helpers)


# ---------------------------------------------------------------- charts


@dataclass(frozen=True)
class Chart:
    """A chart as a Vega-Lite spec (for vega-embed) and as server-rendered SVG (the fallback
    without JavaScript, and what reports print)."""

    id: str
    spec: dict[str, Any]

    @property
    def svg(self) -> Markup:
        return Markup(charts.to_svg(self.spec))


def status_labels(lang: str) -> dict[str, str]:
    term = term_function(lang)
    return {s: term("status", s) for s in charts.STATUSES}


def goals_chart(tree: GoalTree, lang: str) -> Chart | None:
    """Progress of the top goals (or, under a single top goal, of its children)."""
    nodes = tree.roots
    if len(nodes) == 1:
        nodes = [n for n in tree.nodes if n.depth == 1] or nodes
    if not nodes:
        return None
    gettext = translations(lang).gettext
    spec = charts.progress_by_goal(
        [
            charts.GoalBar(
                n.goal.code, local_title(n.goal, lang), n.status.progress, n.status.status
            )
            for n in nodes[:40]
        ],
        status_labels=status_labels(lang),
        axis_title=gettext("Progress"),
        status_title=gettext("Status"),
        font=charts.font_for(lang),
    )
    return Chart("chart-goals", spec)


def indicator_chart(series: IndicatorSeries, lang: str, index: int = 0) -> Chart:
    gettext = translations(lang).gettext
    ind = series.indicator
    spec = charts.indicator_trend(
        points=[charts.Point(m.on_date, m.value) for m in series.measurements],
        baseline=ind.baseline,
        target=ind.target,
        baseline_date=ind.baseline_date,
        deadline=ind.deadline,
        unit=ind.unit,
        labels={
            "measured": gettext("Measured"),
            "target": gettext("Target"),
            "baseline": gettext("Baseline"),
            "expected": gettext("Expected path"),
            "date": gettext("Date"),
        },
        font=charts.font_for(lang),
    )
    return Chart(f"chart-ind-{index}", spec)


def stages_chart(overview: PlanOverview, lang: str) -> Chart:
    gettext = translations(lang).gettext
    spec = charts.stage_dates(
        [
            charts.StageSpan(
                f"{s.stage.seq}. {local_title(s.stage, lang)}",
                s.stage.planned_start,
                s.stage.planned_end,
                s.stage.actual_start,
                s.stage.actual_end,
            )
            for s in overview.stages
        ],
        today=overview.today,
        labels={
            "planned": gettext("Planned"),
            "actual": gettext("Actual"),
            "ongoing": gettext("Actual (still open)"),
            "start": gettext("Start"),
            "end": gettext("End"),
            "stage": gettext("Stage"),
        },
        font=charts.font_for(lang),
    )
    return Chart("chart-stages", spec)


# ---------------------------------------------------------------- form values


def _date(value: str | None, path: str, problems: list[tuple[str, str]]) -> dt.date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append((path, f"not a date (use YYYY-MM-DD): {text!r}"))
        return None


def _number(value: str | None, path: str, problems: list[tuple[str, str]]) -> float | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        problems.append((path, f"not a number: {text!r}"))
        return None


def _int(value: str | None, path: str, problems: list[tuple[str, str]]) -> int:
    number_ = _number(value, path, problems)
    if number_ is not None and not number_.is_integer():
        problems.append((path, f"not a whole number: {value!r}"))
    return int(number_ or 0)


def _check(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise ValidationFailed(problems)


class Refusal(forms.Refusal):
    """A refused form; ``gate``: the plan's stage gate blocked it."""

    @property
    def gate(self) -> bool:
        return isinstance(self.error, GateBlocked)


PLAN_REFUSALS = (GateBlocked, ValidationFailed, Conflict)


# ---------------------------------------------------------------- list of plans


PLAN_SORTS: dict[str, Callable[[PlanRow], Any]] = {
    "key": lambda r: r.plan.key,
    "jurisdiction": lambda r: r.jurisdiction.code,
    "status": lambda r: r.plan.status,
    "stage": lambda r: r.closed,
    "progress": lambda r: r.progress.progress,
    "start": lambda r: r.plan.period_start,
}


def _sorted_plans(rows: list[PlanRow], sort: str | None, lang: str) -> list[PlanRow]:
    keys = {**PLAN_SORTS, "title": lambda r: local_title(r.plan, lang)}
    return sort_rows(rows, sort, keys)


@router.get("/plans", response_class=HTMLResponse)
def plan_list(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    paging: Paging,
    today: Today = None,
    jurisdiction: str | None = None,
) -> Response:
    code = (jurisdiction or "").strip().upper() or None
    rows = _sorted_plans(reports.plan_rows(session, actor, code, today), paging.sort, lang)
    shown, total = slice_page(rows, paging)
    options = list(session.scalars(select(Jurisdiction).order_by(Jurisdiction.code)))
    query = urlencode({k: v for k, v in {"jurisdiction": code, "sort": paging.sort}.items() if v})
    return _page(
        request,
        "plans/list.html",
        actor=actor,
        lang=lang,
        rows=shown,
        total=total,
        paging=paging,
        jurisdiction=code,
        jurisdictions=options,
        csv_query=query,
    )


PLAN_CSV_COLUMNS = (
    "key",
    "title",
    "local_title",
    "jurisdiction",
    "status",
    "current_stage",
    "current_stage_name",
    "stages_closed",
    "stages",
    "progress_percent",
    "progress_status",
    "period_start",
    "period_end",
)


def plans_csv(rows: list[PlanRow], lang: str) -> str:
    """The plans table as CSV (with a BOM, so spreadsheet programs read CJK titles right)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PLAN_CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.plan.key,
                r.plan.title,
                local_title(r.plan, lang),
                r.jurisdiction.code,
                r.plan.status,
                r.current.key if r.current else "",
                local_title(r.current, lang) if r.current else "",
                r.closed,
                r.stages,
                round(r.progress.progress * 100, 1),
                r.progress.status,
                r.plan.period_start or "",
                r.plan.period_end or "",
            ]
        )
    return "\ufeff" + out.getvalue()


@router.get("/plans.csv")
def plan_list_csv(
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    today: Today = None,
    jurisdiction: str | None = None,
    sort: str | None = None,
) -> Response:
    """The plans table with the page's filter and sort, every row."""
    code = (jurisdiction or "").strip().upper() or None
    rows = _sorted_plans(reports.plan_rows(session, actor, code, today), sort, lang)
    return Response(
        plans_csv(rows, lang),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="plans.csv"'},
    )


# ---------------------------------------------------------------- one plan


def seat_groups(body: Body) -> list[tuple[str, str, int]]:
    """A body's seats as (role, holder type, number of seats), in the order of the file."""
    groups: dict[tuple[str, str], int] = {}
    for seat in sorted(body.seats, key=lambda s: s.position):
        key = (seat.role, seat.holder_type)
        groups[key] = groups.get(key, 0) + seat.count
    return [(role, holder, count) for (role, holder), count in groups.items()]


def default_decision_body(overview: PlanOverview) -> str | None:
    """The body whose decision the open stage's gate waits for, else the stage's actor."""
    current = overview.current
    if current is None:
        return None
    for condition in current.stage.gate:
        if condition.get("kind") == "decision_by_body" and condition.get("body"):
            return str(condition["body"])
    return current.actor.key if current.actor else None


def _plan_context(
    session: Session,
    actor: Actor,
    key: str,
    lang: str,
    today: dt.date | None,
    decision_body: str | None = None,
) -> dict[str, Any]:
    overview = reports.plan_overview(session, actor, key, today)
    manage = permits(actor, "plan.manage", overview.plan)
    by_key = overview.body_by_key
    chosen = decision_body if decision_body in by_key else default_decision_body(overview)
    decider = by_key.get(chosen) if chosen else None
    if decider is not None:
        decider = session.scalar(
            select(Body).where(Body.id == decider.id).options(selectinload(Body.seats))
        )
    heard = {
        s.stage.id: {i.channel for i in s.inputs} for s in overview.stages
    }  # channels with input, per stage
    return {
        "o": overview,
        "plan": overview.plan,
        "code": overview.jurisdiction.code,
        "w": words_for(
            lang, overview.bodies.values(), overview.jurisdiction.code, overview.plan.stages
        ),
        "may_manage": manage,
        "heard": heard,
        "channels": list(Channel),
        "decider": decider,
        "seats": seat_groups(decider) if decider is not None else [],
        "stages_chart": stages_chart(overview, lang),
        "stage_by_id": {s.stage.id: s.stage for s in overview.stages},
        "refusal": None,
    }


@router.get("/plans/{key}", response_class=HTMLResponse)
def plan_page(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    today: Today = None,
    decision_body: str | None = None,
) -> Response:
    context = _plan_context(session, actor, key, lang, today, decision_body)
    return _page(request, "plans/plan.html", actor=actor, lang=lang, **context)


def _plan_form(
    request: Request,
    session: Session,
    actor: Actor,
    lang: str,
    key: str,
    form: str,
    values: dict[str, Any],
    write: Callable[[], Any],
    flash: str | Callable[[Any], str],
) -> Response:
    """A form on the plan page."""
    return forms.post_form(
        request,
        session,
        form=form,
        values=values,
        write=write,
        flash=flash,
        redirect=f"/plans/{key}#{form}",
        refusal=Refusal,
        refuse=PLAN_REFUSALS,
        rerender=lambda refusal: _refused(request, session, actor, lang, key, refusal),
    )


def _refused(
    request: Request, session: Session, actor: Actor, lang: str, key: str, refusal: Refusal
) -> Response:
    chosen = refusal.values.get("body") if refusal.form == "record-decision" else None
    context = _plan_context(session, actor, key, lang, None, chosen)
    context["refusal"] = refusal
    return _page(
        request,
        "plans/plan.html",
        actor=actor,
        lang=lang,
        status_code=refusal.error.status_code,
        **context,
    )


@router.post("/plans/{key}/inputs", response_class=HTMLResponse)
def record_input(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    channel: Annotated[str, Form()],
    summary: Annotated[str, Form()],
    body: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form()] = "",
    on_date: Annotated[str, Form()] = "",
) -> Response:
    """Record input heard at the open stage through a channel."""
    service.require_manage(actor)
    values = {
        "channel": channel,
        "summary": summary,
        "body": body,
        "organisation": organisation,
        "on_date": on_date,
    }

    def write() -> Any:
        problems: list[tuple[str, str]] = []
        when = _date(on_date, "on_date", problems)
        _check(problems)
        return service.record_input(
            session,
            actor,
            plan_key=key,
            channel=channel.strip(),
            summary=summary,
            body=body.strip() or None,
            organisation=organisation.strip() or None,
            on_date=when,
        )

    return _plan_form(request, session, actor, lang, key, "record-input", values, write, "input")


@router.post("/plans/{key}/outputs", response_class=HTMLResponse)
def record_output(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    name: Annotated[str, Form()],
    on_date: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
) -> Response:
    """Record an output of the open stage (a report, a draft, a decision document)."""
    service.require_manage(actor)
    values = {"name": name, "on_date": on_date, "reference": reference}

    def write() -> Any:
        problems: list[tuple[str, str]] = []
        when = _date(on_date, "on_date", problems)
        _check(problems)
        return service.record_output(
            session,
            actor,
            plan_key=key,
            name=name.strip(),
            on_date=when,
            reference=reference.strip() or None,
        )

    return _plan_form(request, session, actor, lang, key, "record-output", values, write, "output")


@router.post("/plans/{key}/decisions", response_class=HTMLResponse)
def record_decision(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    body: Annotated[str, Form()],
    on_date: Annotated[str, Form()],
    outcome: Annotated[str, Form()] = "approved",
    role: Annotated[list[str] | None, Form()] = None,
    holder_type: Annotated[list[str] | None, Form()] = None,
    present: Annotated[list[str] | None, Form()] = None,
    consensus: Annotated[str, Form()] = "",
    chair_decided: Annotated[str, Form()] = "",
    votes_for: Annotated[str, Form()] = "",
    votes_against: Annotated[str, Form()] = "",
    minutes: Annotated[str, Form()] = "",
) -> Response:
    """Record a decision; the service refuses it with every reason when the body may not decide,
    the quorum is not met or the decision rule is not followed."""
    service.require_manage(actor)
    roles, holders, counts = role or [], holder_type or [], present or []
    values = {
        "body": body,
        "on_date": on_date,
        "outcome": outcome,
        "present": dict(zip(zip(roles, holders, strict=False), counts, strict=False)),
        "consensus": bool(consensus),
        "chair_decided": bool(chair_decided),
        "votes_for": votes_for,
        "votes_against": votes_against,
        "minutes": minutes,
    }

    def write() -> Any:
        problems: list[tuple[str, str]] = []
        when = _date(on_date, "on_date", problems)
        if when is None and not problems:
            problems.append(("on_date", "must be given"))
        if not (len(roles) == len(holders) == len(counts)):
            problems.append(("attendees", "each attendee row needs a role, holder type and count"))
        attendees: list[dict[str, Any]] = []
        for i, (r, h, c) in enumerate(zip(roles, holders, counts, strict=False)):
            present_ = _int(c, f"present[{i}]", problems)
            if present_ < 0:
                problems.append((f"present[{i}]", "a count present cannot be negative"))
            attendees.append({"role": r, "holder_type": h, "present": present_})
        for_, against = (
            _int(votes_for, "votes_for", problems),
            _int(votes_against, "votes_against", problems),
        )
        _check(problems)
        assert when is not None
        return service.record_decision(
            session,
            actor,
            plan_key=key,
            body=body.strip(),
            on_date=when,
            attendees=attendees,
            outcome=outcome,
            votes_for=for_,
            votes_against=against,
            consensus=bool(consensus),
            chair_decided=bool(chair_decided),
            minutes=minutes.strip() or None,
        )

    return _plan_form(
        request, session, actor, lang, key, "record-decision", values, write, "decision"
    )


@router.post("/plans/{key}/advance", response_class=HTMLResponse)
def advance(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    on_date: Annotated[str, Form()] = "",
) -> Response:
    """Close the open stage if its gate holds; otherwise show every unmet condition."""
    service.require_manage(actor)

    def write() -> Any:
        problems: list[tuple[str, str]] = []
        when = _date(on_date, "on_date", problems)
        _check(problems)
        return service.advance(session, actor, plan_key=key, on_date=when)

    return _plan_form(
        request,
        session,
        actor,
        lang,
        key,
        "advance",
        {"on_date": on_date},
        write,
        lambda nxt: "advanced" if nxt is not None else "completed",
    )


# ---------------------------------------------------------------- goal tree


@router.get("/plans/{key}/goals", response_class=HTMLResponse)
def goals_page(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    today: Today = None,
    status: str | None = None,
) -> Response:
    """The goal → objective → target tree with progress, status, tasks and indicators."""
    tree = reports.goal_tree(session, actor, key, today)
    jurisdiction = session.get(Jurisdiction, tree.plan.jurisdiction_id)
    assert jurisdiction is not None
    bodies = reports.jurisdiction_bodies(session, tree.plan.jurisdiction_id).values()
    shown = status if status in PLAN_TERMS["status"] else None
    return _page(
        request,
        "plans/goals.html",
        actor=actor,
        lang=lang,
        plan=tree.plan,
        tree=tree,
        code=jurisdiction.code,
        w=words_for(lang, bodies, jurisdiction.code),
        chart=goals_chart(tree, lang),
        status_filter=shown,
        counts=tree.task_counts(),
    )


# ---------------------------------------------------------------- one task


def _task_recommendations(
    session: Session, actor: Actor, key: str, code: str
) -> list[Recommendation] | None:
    """The advisory recommendations the task carries out; None when the actor may not read
    advisory data (the page then leaves the section out rather than failing)."""
    if not permits(actor, advisory_service.READ):
        return None
    return advisory_service.recommendations_for_task(session, actor, plan_key=key, task_code=code)


def _task_context(
    session: Session, actor: Actor, key: str, code: str, lang: str, today: dt.date | None
) -> dict[str, Any]:
    detail = reports.task_detail(session, actor, key, code, today)
    jurisdiction = session.get(Jurisdiction, detail.plan.jurisdiction_id)
    assert jurisdiction is not None
    bodies = reports.jurisdiction_bodies(session, detail.plan.jurisdiction_id).values()
    return {
        "d": detail,
        "plan": detail.plan,
        "task": detail.task,
        "code": jurisdiction.code,
        "w": words_for(lang, bodies, jurisdiction.code),
        "may_report": permits(actor, "task.report", detail.task),
        "charts": [indicator_chart(s, lang, i) for i, s in enumerate(detail.indicators)],
        "recommendations": _task_recommendations(session, actor, key, code),
        "advisory_term": advisory_term_function(lang),
        "refusal": None,
    }


@router.get("/plans/{key}/tasks/{code}", response_class=HTMLResponse)
def task_page(
    request: Request,
    key: str,
    code: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    today: Today = None,
) -> Response:
    context = _task_context(session, actor, key, code, lang, today)
    return _page(request, "plans/task.html", actor=actor, lang=lang, **context)


def _task_form(
    request: Request,
    session: Session,
    actor: Actor,
    lang: str,
    key: str,
    code: str,
    form: str,
    values: dict[str, Any],
    write: Callable[[], Any],
    flash: str,
) -> Response:
    """A form on the task page."""

    def rerender(refusal: Refusal) -> Response:
        context = _task_context(session, actor, key, code, lang, None)
        context["refusal"] = refusal
        return _page(
            request,
            "plans/task.html",
            actor=actor,
            lang=lang,
            status_code=refusal.error.status_code,
            **context,
        )

    return forms.post_form(
        request,
        session,
        form=form,
        values=values,
        write=write,
        flash=flash,
        redirect=f"/plans/{key}/tasks/{code}#{form}",
        refusal=Refusal,
        refuse=PLAN_REFUSALS,
        rerender=rerender,
    )


@router.post("/plans/{key}/tasks/{code}/progress", response_class=HTMLResponse)
def file_progress(
    request: Request,
    key: str,
    code: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    period: Annotated[str, Form()],
    percent_complete: Annotated[str, Form()],
    narrative: Annotated[str, Form()] = "",
) -> Response:
    """File a periodic progress report (liaisons of the lead or a supporting body)."""
    require(actor, "task.report", service.get_task(session, actor, key, code))
    values = {"period": period, "percent_complete": percent_complete, "narrative": narrative}

    def write() -> Any:
        problems: list[tuple[str, str]] = []
        pct = _number(percent_complete, "percent_complete", problems)
        if pct is None and not problems:
            problems.append(("percent_complete", "must be given"))
        _check(problems)
        assert pct is not None
        return service.file_progress(
            session,
            actor,
            plan_key=key,
            task_code=code,
            period=period.strip(),
            percent_complete=pct,
            narrative=narrative.strip() or None,
        )

    return _task_form(
        request, session, actor, lang, key, code, "file-progress", values, write, "progress"
    )


@router.post(
    "/plans/{key}/tasks/{code}/milestones/{milestone}/complete", response_class=HTMLResponse
)
def complete_milestone(
    request: Request,
    key: str,
    code: str,
    milestone: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    completed_on: Annotated[str, Form()],
    version: Annotated[str, Form()] = "",
) -> Response:
    """Mark a milestone completed; a stale version (someone else changed it) is a conflict."""
    require(actor, "task.report", service.get_task(session, actor, key, code))
    values = {"milestone": milestone, "completed_on": completed_on}

    def write() -> Any:
        problems: list[tuple[str, str]] = []
        when = _date(completed_on, "completed_on", problems)
        if when is None and not problems:
            problems.append(("completed_on", "must be given"))
        expected = _int(version, "version", problems) if version.strip() else None
        _check(problems)
        assert when is not None
        return service.complete_milestone(
            session,
            actor,
            plan_key=key,
            task_code=code,
            code=milestone,
            completed_on=when,
            expected_version=expected,
        )

    return _task_form(
        request,
        session,
        actor,
        lang,
        key,
        code,
        f"milestone-{milestone}",
        values,
        write,
        "milestone",
    )


# ---------------------------------------------------------------- drafts


def _plan_frame(session: Session, actor: Actor, key: str) -> tuple[Any, Jurisdiction]:
    plan = service.get_plan(session, actor, key)
    jurisdiction = session.get(Jurisdiction, plan.jurisdiction_id)
    assert jurisdiction is not None
    return plan, jurisdiction


@router.get("/plans/{key}/drafts", response_class=HTMLResponse)
def drafts_page(
    request: Request, key: str, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    plan, jurisdiction = _plan_frame(session, actor, key)
    drafts = reports.draft_versions(session, actor, key)
    return _page(
        request,
        "plans/drafts.html",
        actor=actor,
        lang=lang,
        plan=plan,
        code=jurisdiction.code,
        drafts=drafts,
    )


@dataclass(frozen=True)
class DiffCounts:
    added: int
    removed: int
    changed: int
    unchanged: int


def diff_counts(sections: list[SectionDiff]) -> DiffCounts:
    count = {k: 0 for k in ("added", "removed", "changed", "unchanged")}
    for s in sections:
        count[s.change] += 1
    return DiffCounts(**count)


@router.get("/plans/{key}/drafts/diff", response_class=HTMLResponse)
def draft_diff_page(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    old: Annotated[int, Query()],
    new: Annotated[int, Query()],
) -> Response:
    """Section-by-section differences between two versions, words inserted and deleted."""
    plan, jurisdiction = _plan_frame(session, actor, key)
    comparison = service.compare_drafts(session, actor, key, old, new)
    return _page(
        request,
        "plans/diff.html",
        actor=actor,
        lang=lang,
        plan=plan,
        code=jurisdiction.code,
        cmp=comparison,
        counts=diff_counts(comparison.sections),
        drafts=service.list_drafts(session, actor, key),
    )


@router.get("/plans/{key}/drafts/{version}", response_class=HTMLResponse)
def draft_page(
    request: Request,
    key: str,
    version: int,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
) -> Response:
    plan, jurisdiction = _plan_frame(session, actor, key)
    draft = service.get_draft(session, actor, key, version)
    versions = [d.version for d in service.list_drafts(session, actor, key)]
    return _page(
        request,
        "plans/draft.html",
        actor=actor,
        lang=lang,
        plan=plan,
        code=jurisdiction.code,
        draft=draft,
        versions=versions,
    )


# ---------------------------------------------------------------- alignment


@router.get("/plans/{key}/alignment", response_class=HTMLResponse)
def alignment_page(
    request: Request,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    paging: Paging,
) -> Response:
    """Tasks without a lead body, indicator or budget link; bodies named without a mandate."""
    plan, jurisdiction = _plan_frame(session, actor, key)
    report = alignment(session, actor, key)
    task_issues = [i for i in report.issues if i.task is not None]
    body_issues = [i for i in report.issues if i.task is None]
    shown, total = slice_page(task_issues, paging)
    bodies = reports.jurisdiction_bodies(session, plan.jurisdiction_id).values()
    return _page(
        request,
        "plans/alignment.html",
        actor=actor,
        lang=lang,
        plan=plan,
        code=jurisdiction.code,
        report=report,
        task_issues=shown,
        total=total,
        paging=paging,
        body_issues=body_issues,
        issue_tasks=body_issue_tasks,
        w=words_for(lang, bodies, jurisdiction.code),
    )


# ---------------------------------------------------------------- reports

_BODY_ISSUE = re.compile(r"^named in (?P<count>\d+) task\(s\) \((?P<tasks>[^)]*)\)")


def body_issue_tasks(problem: str) -> tuple[int, list[str]]:
    """(number of tasks, first task codes) of an alignment issue about a body's mandate."""
    match = _BODY_ISSUE.match(problem)
    if match is None:
        return 0, []
    return int(match.group("count")), [c.strip() for c in match.group("tasks").split(",")]


def render_report(template: str, lang: str, **context: Any) -> str:
    """A report template rendered to a standalone HTML document (no request needed)."""
    trans = translations(lang)
    base = {
        "lang": lang,
        "_": trans.gettext,
        "ngettext": trans.ngettext,
        "name_in": lambda obj: local_name(obj, lang),
        "LANGUAGES": LANGUAGES,
        "generated": dt.date.today(),
        "issue_tasks": body_issue_tasks,
        **helpers(lang),
    }
    return templates.env.get_template(template).render(**base, **context)


def dossier_html(
    session: Session, actor: Actor, plan_key: str, lang: str, today: dt.date | None = None
) -> str:
    data: DossierData = reports.dossier_data(session, actor, plan_key, today)
    o = data.overview
    return render_report(
        "reports/dossier.html",
        lang,
        data=data,
        o=o,
        plan=o.plan,
        code=o.jurisdiction.code,
        w=words_for(lang, o.bodies.values(), o.jurisdiction.code, o.plan.stages),
        stages_chart=stages_chart(o, lang),
        goals_chart=goals_chart(data.tree, lang),
        max_issues=REPORT_MAX_ISSUES,
    )


def progress_html(
    session: Session, actor: Actor, plan_key: str, lang: str, today: dt.date | None = None
) -> str:
    data: ProgressData = reports.progress_data(session, actor, plan_key, today)
    plan = data.tree.plan
    jurisdiction = session.get(Jurisdiction, plan.jurisdiction_id)
    assert jurisdiction is not None
    bodies = reports.jurisdiction_bodies(session, plan.jurisdiction_id).values()
    return render_report(
        "reports/progress.html",
        lang,
        data=data,
        plan=plan,
        code=jurisdiction.code,
        w=words_for(lang, bodies, jurisdiction.code),
        goals_chart=goals_chart(data.tree, lang),
        trend_charts=[indicator_chart(s, lang, i) for i, s in enumerate(data.charted)],
        goal_by_id={n.goal.id: n.goal for n in data.tree.nodes},
        max_tasks=REPORT_MAX_TASKS,
        max_late=REPORT_MAX_LATE,
        max_depth=99 if len(data.tree.nodes) <= REPORT_FULL_TREE else 1,
    )


def build_dossier_pdf(
    session: Session, actor: Actor, plan_key: str, lang: str = "en", today: dt.date | None = None
) -> bytes:
    """The plan dossier as PDF: summary, stages with planned vs actual dates, decisions with
    their quorum reports, drafts, goal tree with statuses, alignment issues."""
    return html_to_pdf(dossier_html(session, actor, plan_key, lang, today))


def build_progress_pdf(
    session: Session, actor: Actor, plan_key: str, lang: str = "en", today: dt.date | None = None
) -> bytes:
    """The progress report as PDF: progress by goal, per-task status, indicator trends against
    their targets, and what is late or at risk."""
    return html_to_pdf(progress_html(session, actor, plan_key, lang, today))


def _pdf(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{name}"'},
    )


@router.get("/plans/{key}/reports/dossier", response_class=HTMLResponse)
def dossier_page(
    key: str, session: DbSession, actor: CurrentActor, lang: Language, today: Today = None
) -> Response:
    return HTMLResponse(dossier_html(session, actor, key, lang, today))


@router.get("/plans/{key}/reports/dossier.pdf")
def dossier_pdf(
    key: str, session: DbSession, actor: CurrentActor, lang: Language, today: Today = None
) -> Response:
    return _pdf(build_dossier_pdf(session, actor, key, lang, today), f"{key}-dossier-{lang}.pdf")


@router.get("/plans/{key}/reports/progress", response_class=HTMLResponse)
def progress_page(
    key: str, session: DbSession, actor: CurrentActor, lang: Language, today: Today = None
) -> Response:
    return HTMLResponse(progress_html(session, actor, key, lang, today))


@router.get("/plans/{key}/reports/progress.pdf")
def progress_pdf(
    key: str, session: DbSession, actor: CurrentActor, lang: Language, today: Today = None
) -> Response:
    return _pdf(build_progress_pdf(session, actor, key, lang, today), f"{key}-progress-{lang}.pdf")
