"""HTML pages of the mechanism registry: overview, mechanism, body, diagnosis, comparison, load.

Routes call the services and render; the small helpers below only shape what the services return
for the templates (chart data, evidence links, CSV rows). Words of the closed vocabularies are
translated through :data:`TERMS` (marked with ``N_`` so ``pybabel extract`` finds them).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import BaseModel
from sqlalchemy.orm import Session

from stcoord.analytics.composition import RuleCheck, RuleSyntaxError, SeatCount, evaluate_rule
from stcoord.analytics.diagnosis import Diagnosis, Message, Param
from stcoord.auth.permissions import Actor, permits, require
from stcoord.errors import Conflict, ValidationFailed
from stcoord.institutions import service
from stcoord.institutions.diagnosis import Comparison, diagnose_spec
from stcoord.institutions.mechanism_file import MechanismFileError, parse_mechanism
from stcoord.institutions.models import Body, Jurisdiction
from stcoord.reports.orgchart import ChartBody, ChartRelation, org_chart_svg
from stcoord.web.dependencies import CurrentActor, DbSession, Language, check_csrf
from stcoord.web.forms import redirect_with_flash
from stcoord.web.i18n import local_name, term_translator, translations
from stcoord.web.pagination import PageParams, page_params
from stcoord.web.read_cache import cached_read
from stcoord.web.templating import PageRenderer

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
Paging = Annotated[PageParams, Depends(page_params)]
CSV_MAX_ROWS = 100_000
CHART_MAX_BODIES = 400
DEFAULT_FIELD = "ai"


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


TERMS: dict[str, dict[str, str]] = {
    "level": {
        "head": N_("Head of government"),
        "supra_ministerial": N_("Supra-ministerial"),
        "ministerial": N_("Ministerial"),
        "agency": N_("Agency"),
        "advisory": N_("Advisory"),
        "legislative": N_("Legislative"),
    },
    "kind": {
        "head_of_government": N_("Head of government"),
        "cabinet": N_("Cabinet"),
        "party_central_committee": N_("Party Central Committee"),
        "party_commission": N_("Party commission"),
        "council": N_("Council"),
        "committee": N_("Committee"),
        "subcommittee": N_("Subcommittee"),
        "working_group": N_("Working group"),
        "coordination_office": N_("Coordination office"),
        "secretariat": N_("Secretariat"),
        "advisory_committee": N_("Advisory committee"),
        "expert_panel": N_("Expert panel"),
        "budget_office": N_("Budget office"),
        "ministry": N_("Ministry"),
        "funding_agency": N_("Funding agency"),
        "funding_instrument": N_("Funding instrument"),
        "research_institute": N_("Research institute"),
        "academy": N_("Academy"),
        "legislature": N_("Legislature"),
        "legislative_committee": N_("Legislative committee"),
    },
    "role": {
        "chair": N_("Chair"),
        "co_chair": N_("Co-chair"),
        "vice_chair": N_("Vice-chair"),
        "member": N_("Member"),
        "ex_officio": N_("Ex officio member"),
        "temporary_member": N_("Temporary member"),
        "director": N_("Director"),
        "secretary": N_("Secretary"),
    },
    "holder_type": {
        "head_of_government": N_("Head of government"),
        "deputy_head_of_government": N_("Deputy head of government"),
        "party_leader": N_("Party leader"),
        "minister": N_("Minister"),
        "agency_head": N_("Agency head"),
        "official": N_("Official"),
        "expert_academia": N_("Expert (academia)"),
        "expert_industry": N_("Expert (industry)"),
        "academy_president": N_("Academy president"),
        "budget_authority": N_("Budget authority"),
        "legislator": N_("Legislator"),
        "civil_society": N_("Civil society"),
    },
    "affair": {
        "administrative": N_("Administrative"),
        "technical": N_("Technical"),
        "budgetary": N_("Budgetary"),
    },
    "power": {
        "advise": N_("Advise"),
        "coordinate": N_("Coordinate"),
        "decide": N_("Decide"),
        "allocate": N_("Allocate"),
        "evaluate": N_("Evaluate"),
        "appoint": N_("Appoint"),
        "implement": N_("Implement"),
        "report": N_("Report"),
    },
    "relation": {
        "reports_to": N_("reports to"),
        "supports": N_("supports"),
        "advises": N_("advises"),
        "member_of": N_("is a member of"),
        "funds": N_("funds"),
        "transfers_budget_to": N_("transfers budget to"),
        "chairs": N_("chairs"),
    },
    "channel": {
        "interagency": N_("Interagency"),
        "industry": N_("Industry"),
        "academia": N_("Academia"),
        "public_comment": N_("Public comment"),
        "rfi": N_("Request for information"),
        "advisory": N_("Advisory review"),
        "legislature": N_("Legislature"),
    },
    "decision": {
        "consensus_then_chair": N_("Consensus, then the chair decides"),
        "consensus": N_("Consensus"),
        "unanimity": N_("Unanimity"),
        "majority": N_("Majority"),
        "two_thirds": N_("Two-thirds majority"),
        "chair_decides": N_("The chair decides"),
        "missing": N_("No decision rule"),
    },
    "gate": {
        "output_recorded": N_("Output recorded"),
        "channels_heard": N_("Channels heard"),
        "advisory_opinion": N_("Advisory opinion given"),
        "decision_by_body": N_("Decision by the body"),
        "prior_stages_closed": N_("Earlier stages closed"),
        "comments_answered": N_("Every comment answered"),
    },
    "verdict": {"met": N_("met"), "partial": N_("partly met"), "not_met": N_("not met")},
    "evidence": {
        "body": N_("Body"),
        "seat": N_("Seat"),
        "mandate": N_("Mandate"),
        "relation": N_("Relation"),
        "stage": N_("Stage"),
    },
    "check": {"composition": N_("Composition"), "decision": N_("Decision rule")},
    "group": {
        "ministries": N_("ministries"),
        "industry": N_("industry"),
        "academia": N_("academia"),
    },
    "chart": {"tree": N_("part of / reports to")},
}
FINDING_TITLES = {
    1: N_("Supra-ministerial coordination of administrative, technical and budgetary affairs"),
    2: N_("Unity of administrative and financial power"),
    3: N_("A high-level advisory body feeds top-level decisions"),
    4: N_("Consensus of ministries, industry and academia across the procedure"),
}
FLASHES = {"body_saved": N_("Your changes were saved.")}


def term_function(lang: str) -> Callable[[str, str | None], str]:
    """``term(group, value)``: a vocabulary word in ``lang`` (unknown words pass through)."""
    return term_translator(lang, TERMS)


def say_function(lang: str) -> Callable[[Message, Mapping[str, Body] | None], str]:
    """``say(message, bodies)``: a diagnosis sentence in ``lang``, bodies by their local names."""
    gettext = translations(lang).gettext
    term = term_function(lang)
    comma = "、" if lang in ("zh", "ja") else ", "

    def show(param: Param, params: Mapping[str, str], bodies: Mapping[str, Body] | None) -> str:
        kind, _, group = param.kind.partition(":")
        if kind == "body":
            body = (bodies or {}).get(param.value)
            return local_name(body, lang) if body is not None else param.english
        if kind == "term":
            return term(group, param.value)
        if kind == "terms":
            return comma.join(term(group, v.strip()) for v in param.value.split(","))
        if kind == "message":
            return gettext(param.value).format(**params)
        return param.value

    def say(message: Message, bodies: Mapping[str, Body] | None = None) -> str:
        plain = {p.name: show(p, {}, bodies) for p in message.params if p.kind != "message"}
        shown = {
            p.name: show(p, plain, bodies) if p.kind == "message" else plain[p.name]
            for p in message.params
        }
        try:
            return gettext(message.template).format(**shown)
        except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder
            return message.english()

    return say


def _helpers(lang: str) -> dict[str, Any]:
    gettext = translations(lang).gettext
    return {
        "term": term_function(lang),
        "say": say_function(lang),
        "finding_title": lambda n: gettext(FINDING_TITLES.get(n, str(n))),
    }


_page = PageRenderer(FLASHES, _helpers)


# ---------------------------------------------------------------- overview


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, session: DbSession, actor: CurrentActor, lang: Language) -> Response:
    def build() -> Response:
        rows = service.list_jurisdictions(session, actor)
        return _page(request, "index.html", actor=actor, lang=lang, jurisdictions=rows)

    return cached_read(request, session, actor, build, lang=lang)


# ---------------------------------------------------------------- loading a file


@router.get("/mechanisms/load", response_class=HTMLResponse)
def load_form(request: Request, actor: CurrentActor, lang: Language) -> Response:
    require(actor, "mechanism.write")
    return _page(request, "load.html", actor=actor, lang=lang)


@router.post("/mechanisms/load", response_class=HTMLResponse)
def load_file(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Validate the whole file first: a bad one lists every problem and writes nothing."""
    require(actor, "mechanism.write")
    filename = file.filename or "upload.yaml"
    text = file.file.read().decode("utf-8", errors="replace")
    try:
        spec = parse_mechanism(text, filename)
    except MechanismFileError as exc:
        return _page(
            request,
            "load.html",
            actor=actor,
            lang=lang,
            status_code=422,
            filename=filename,
            problems=exc.problems,
        )
    result = service.load_mechanism(session, actor, spec)
    return _page(request, "load.html", actor=actor, lang=lang, filename=filename, result=result)


# ---------------------------------------------------------------- one mechanism


@dataclass(frozen=True)
class BodyFilters:
    level: str | None = None
    kind: str | None = None
    q: str | None = None
    sort: str | None = None

    def as_kwargs(self) -> dict[str, str | None]:
        return {"level": self.level, "kind": self.kind, "q": self.q, "sort": self.sort}

    def query(self) -> str:
        """The filters as a query string (empty ones left out), e.g. for the CSV link."""
        return urlencode({k: v for k, v in self.as_kwargs().items() if v})


def body_filters(
    level: str | None = None, kind: str | None = None, q: str | None = None, sort: str | None = None
) -> BodyFilters:
    return BodyFilters(level or None, kind or None, (q or "").strip() or None, sort or None)


Filters = Annotated[BodyFilters, Depends(body_filters)]


_CHART_CACHE: dict[tuple[Any, ...], Markup] = {}
_CHART_CACHE_SIZE = 32


def chart_for(jurisdiction: Jurisdiction, lang: str) -> Markup | None:
    """The mechanism's org chart as inline SVG, labelled in ``lang`` (None if too large).

    Cached per mechanism state and language: laying out and measuring the chart was a quarter
    of the mechanism page's time (benchmarks/bench_serving.py), and it changes only when a
    body or relation does.
    """
    if len(jurisdiction.bodies) > CHART_MAX_BODIES:
        return None
    key = (
        jurisdiction.code,
        lang,
        jurisdiction.version,
        tuple((b.id, b.version, b.parent_id) for b in jurisdiction.bodies),
        tuple((r.from_body_id, r.to_body_id, r.type) for r in jurisdiction.relations),
    )
    if key not in _CHART_CACHE:
        if len(_CHART_CACHE) >= _CHART_CACHE_SIZE:
            _CHART_CACHE.clear()
        _CHART_CACHE[key] = _draw_chart(jurisdiction, lang)
    return _CHART_CACHE[key]


def _draw_chart(jurisdiction: Jurisdiction, lang: str) -> Markup:
    gettext = translations(lang).gettext
    key_of = {b.id: b.key for b in jurisdiction.bodies}
    bodies = [
        ChartBody(
            key=b.key,
            label=local_name(b, lang),
            level=b.level,
            kind=b.kind,
            parent=key_of.get(b.parent_id) if b.parent_id else None,
            sublabel=b.short_name if b.short_name and b.short_name != local_name(b, lang) else "",
            href=f"/mechanisms/{jurisdiction.code}/bodies/{b.key}",
            title=f"{local_name(b, lang)} ({b.name})" if local_name(b, lang) != b.name else b.name,
        )
        for b in jurisdiction.bodies
    ]
    relations = [
        ChartRelation(key_of[r.from_body_id], key_of[r.to_body_id], r.type)
        for r in jurisdiction.relations
    ]
    labels = {
        key: gettext(text)
        for group in ("level", "relation", "chart")
        for key, text in TERMS[group].items()
    }
    title = gettext("Org chart") + f": {local_name(jurisdiction, lang)}"
    return Markup(org_chart_svg(bodies, relations, labels=labels, title=title))


def mechanism_lookups(jurisdiction: Jurisdiction) -> dict[str, Any]:
    """Lookups the mechanism page needs: bodies by id and key, fields by key, filter options."""
    return {
        "body_by_id": {b.id: b for b in jurisdiction.bodies},
        "body_by_key": {b.key: b for b in jurisdiction.bodies},
        "field_by_key": {f.key: f for f in jurisdiction.fields},
        "levels": sorted({b.level for b in jurisdiction.bodies}),
        "kinds": sorted({b.kind for b in jurisdiction.bodies}),
    }


@router.get("/mechanisms/{code}", response_class=HTMLResponse)
def mechanism(
    request: Request,
    code: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    filters: Filters,
    paging: Paging,
) -> Response:
    """The mechanism with its org chart; an HTMX request for ``#bodies`` gets just the table."""
    return cached_read(
        request,
        session,
        actor,
        lambda: _mechanism_page(request, code, session, actor, lang, filters, paging),
        lang=lang,
    )


def _mechanism_page(
    request: Request,
    code: str,
    session: Session,
    actor: Actor,
    lang: str,
    filters: BodyFilters,
    paging: PageParams,
) -> Response:
    jurisdiction = service.get_jurisdiction(session, actor, code)
    rows, total = service.list_bodies(
        session, actor, code, **filters.as_kwargs(), limit=paging.limit, offset=paging.offset
    )
    context = {
        "j": jurisdiction,
        "code": jurisdiction.code,
        "rows": rows,
        "total": total,
        "paging": paging,
        "f": filters,
        **mechanism_lookups(jurisdiction),
    }
    if request.headers.get("hx-target") == "bodies":
        return _page(
            request, "mechanism.html", actor=actor, lang=lang, block_name="bodies", **context
        )
    chart = chart_for(jurisdiction, lang)
    return _page(request, "mechanism.html", actor=actor, lang=lang, chart=chart, **context)


CSV_COLUMNS = (
    "key",
    "name",
    "local_name",
    "short_name",
    "kind",
    "level",
    "parent",
    "established",
    "abolished",
    "seats",
    "unverified",
)


def bodies_csv(rows: list[service.BodyRow], lang: str) -> str:
    """The bodies table as CSV (with a BOM, so spreadsheet programs read CJK names right)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        local = local_name(r, lang)
        writer.writerow(
            [
                r.key,
                r.name,
                local,
                r.short_name or "",
                r.kind,
                r.level,
                r.parent or "",
                r.established or "",
                r.abolished or "",
                r.seats,
                "yes" if r.unverified else "",
            ]
        )
    return "\ufeff" + out.getvalue()


@router.get("/mechanisms/{code}/bodies.csv")
def bodies_csv_export(
    code: str, session: DbSession, actor: CurrentActor, lang: Language, filters: Filters
) -> Response:
    """The bodies table with the page's filters and sort, every matching row."""
    rows, _ = service.list_bodies(
        session, actor, code, **filters.as_kwargs(), limit=CSV_MAX_ROWS, offset=0
    )
    return Response(
        bodies_csv(rows, lang),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{code.lower()}-bodies.csv"'},
    )


# ---------------------------------------------------------------- one body


class BodyEditForm(BaseModel):
    version: int
    name: str
    short_name: str = ""
    legal_basis: str = ""
    description: str = ""
    note: str = ""

    def changes(self) -> dict[str, Any]:
        optional = ("short_name", "legal_basis", "description", "note")
        return {
            "name": self.name.strip(),
            **{f: getattr(self, f).strip() or None for f in optional},
        }


def may_edit(actor: Actor, body: Body) -> bool:
    """Whether to offer the edit form; the service decides on the write itself."""
    return permits(actor, "body.write", body)


def composition_checks(body: Body) -> list[tuple[str, RuleCheck | None]]:
    seats = [SeatCount(s.role, s.holder_type, s.count) for s in body.seats]
    checks: list[tuple[str, RuleCheck | None]] = []
    for rule in body.composition_rules:
        try:
            checks.append((rule.rule, evaluate_rule(rule.rule, seats)))
        except RuleSyntaxError:
            checks.append((rule.rule, None))
    return checks


def _body_context(session: DbSession, actor: Actor, code: str, key: str) -> dict[str, Any]:
    body = service.get_body(session, actor, code, key)
    return {
        "code": code.upper(),
        "body": body,
        "rels": service.body_relations(session, body),
        "body_by_id": {b.id: b for b in body.jurisdiction.bodies},
        "checks": composition_checks(body),
        "may_edit": may_edit(actor, body),
        "edit": None,
        "edit_error": None,
    }


@router.get("/mechanisms/{code}/bodies/{key}", response_class=HTMLResponse)
def body_page(
    request: Request, code: str, key: str, session: DbSession, actor: CurrentActor, lang: Language
) -> Response:
    def build() -> Response:
        context = _body_context(session, actor, code, key)
        return _page(request, "body.html", actor=actor, lang=lang, **context)

    return cached_read(request, session, actor, build, lang=lang)


@router.post("/mechanisms/{code}/bodies/{key}", response_class=HTMLResponse)
def edit_body(
    request: Request,
    code: str,
    key: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    form: Annotated[BodyEditForm, Form()],
) -> Response:
    """Save the edit form; a stale version or a bad value re-shows the form with what was typed."""
    try:
        service.update_body(
            session,
            actor,
            code=code,
            key=key,
            expected_version=form.version,
            changes=form.changes(),
        )
    except (Conflict, ValidationFailed) as exc:
        session.rollback()  # nothing of a refused edit may be committed
        context = _body_context(session, actor, code, key)
        context.update(edit=form, edit_error=exc)
        return _page(
            request, "body.html", actor=actor, lang=lang, status_code=exc.status_code, **context
        )
    return redirect_with_flash(request, f"/mechanisms/{code.upper()}/bodies/{key}", "body_saved")


# ---------------------------------------------------------------- diagnosis and comparison

_RELATION_PATH = re.compile(r"^relations\[(\d+)\]")
_STAGE_PATH = re.compile(r"^procedures/([^/]+)/stages/([^/]+)")


def evidence_bodies(jurisdiction: Jurisdiction) -> Callable[[str], list[Body]]:
    """``bodies_of(path)``: the bodies an evidence path names (a body, a relation's two ends,
    a procedure stage's actor), for linking evidence to body pages."""
    by_key = {b.key: b for b in jurisdiction.bodies}
    by_id = {b.id: b for b in jurisdiction.bodies}
    stages = {(p.key, s.key): s.actor_body_id for p in jurisdiction.procedures for s in p.stages}

    def bodies_of(path: str) -> list[Body]:
        parts = path.split("/")
        if parts[0] == "bodies" and len(parts) > 1 and parts[1] in by_key:
            return [by_key[parts[1]]]
        if match := _RELATION_PATH.match(path):
            index = int(match.group(1))
            if index < len(jurisdiction.relations):
                rel = jurisdiction.relations[index]
                return [by_id[rel.from_body_id], by_id[rel.to_body_id]]
        if (match := _STAGE_PATH.match(path)) and (match.group(1), match.group(2)) in stages:
            return [by_id[stages[(match.group(1), match.group(2))]]]
        return []

    return bodies_of


def evidence_href(code: str, bodies_of: Callable[[str], list[Body]]) -> Callable[[str], str]:
    """``href_of(path)``: where an evidence path points (a body's section, a procedure stage)."""
    sections = {"seats": "#seats", "mandates": "#mandates", "composition": "#rules"}

    def href_of(path: str) -> str:
        if match := _STAGE_PATH.match(path):
            return f"/mechanisms/{code}#stage-{match.group(1)}-{match.group(2)}"
        named = bodies_of(path)
        if not named:
            return ""
        part = path.split("/")[2].split("[")[0] if path.count("/") >= 2 else ""
        anchor = "#relations" if path.startswith("relations") else sections.get(part, "")
        return f"/mechanisms/{code}/bodies/{named[0].key}{anchor}"

    return href_of


def evidence_links(jurisdiction: Jurisdiction) -> dict[str, Any]:
    bodies_of = evidence_bodies(jurisdiction)
    return {
        "bodies_of": bodies_of,
        "href_of": evidence_href(jurisdiction.code, bodies_of),
        "named": {b.key: b for b in jurisdiction.bodies},
    }


def default_field(jurisdiction: Jurisdiction) -> str:
    keys = [f.key for f in jurisdiction.fields]
    return DEFAULT_FIELD if DEFAULT_FIELD in keys or not keys else keys[0]


def diagnose_loaded(jurisdiction: Jurisdiction, field_key: str) -> Diagnosis:
    return diagnose_spec(service.export_spec(jurisdiction), field_key)


@router.get("/mechanisms/{code}/diagnosis", response_class=HTMLResponse)
def diagnosis_page(
    request: Request,
    code: str,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    field: str | None = None,
) -> Response:
    def build() -> Response:
        jurisdiction = service.get_jurisdiction(session, actor, code)
        field_key = field or default_field(jurisdiction)
        return _page(
            request,
            "diagnosis.html",
            actor=actor,
            lang=lang,
            j=jurisdiction,
            field=field_key,
            diagnosis=diagnose_loaded(jurisdiction, field_key),
            field_by_key={f.key: f for f in jurisdiction.fields},
            **evidence_links(jurisdiction),
        )

    return cached_read(request, session, actor, build, lang=lang)


@dataclass(frozen=True)
class FieldOption:
    key: str
    name: str
    names: dict[str, str]


def field_options(jurisdictions: list[Jurisdiction]) -> list[FieldOption]:
    """The strategic fields of several jurisdictions, once each, in first-seen order."""
    seen: dict[str, FieldOption] = {}
    for j in jurisdictions:
        for f in j.fields:
            seen.setdefault(f.key, FieldOption(f.key, f.name, dict(f.names)))
    return list(seen.values())


def chosen_codes(codes: list[str], available: list[service.JurisdictionSummary]) -> list[str]:
    """The jurisdictions asked for (upper case, once each); by default the first three."""
    wanted = list(dict.fromkeys(c.strip().upper() for c in codes if c.strip()))
    return wanted or [j.code for j in available[:3]]


@router.get("/compare", response_class=HTMLResponse)
def compare_page(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    codes: Annotated[list[str] | None, Query()] = None,
    field: str = DEFAULT_FIELD,
) -> Response:
    def build() -> Response:
        available = service.list_jurisdictions(session, actor)
        chosen = chosen_codes(codes or [], available)
        context: dict[str, Any] = {"available": available, "chosen": chosen, "field": field}
        if 2 <= len(chosen) <= 3:
            loaded = [service.get_jurisdiction(session, actor, c) for c in chosen]
            diagnoses = tuple(diagnose_loaded(j, field) for j in loaded)
            context.update(
                jurisdictions=loaded,
                comparison=Comparison(field, tuple(j.code for j in loaded), diagnoses),
                fields=field_options(loaded),
                links={j.code: evidence_links(j) for j in loaded},
            )
        return _page(request, "compare.html", actor=actor, lang=lang, **context)

    return cached_read(request, session, actor, build, lang=lang)
