"""``stcoord seed``: load the reference mechanisms and demo data; running it twice is a no-op.

The demo data's real parts (NSF awards, a Polis conversation) are read at seed time from the
shared data folder (``--data-dir``, ``STCOORD_DATA_DIR``, default ``../shared/data``); nothing of
it is shipped in the package. A missing file skips that part with one line in the result."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stcoord.auth.models import User
from stcoord.auth.permissions import SYSTEM, Actor, Role
from stcoord.auth.service import create_user
from stcoord.budget.classifications import seed_classifications
from stcoord.config import get_settings
from stcoord.institutions.mechanism_file import parse_mechanism
from stcoord.institutions.models import Body, Jurisdiction
from stcoord.institutions.service import LoadResult, load_mechanism
from stcoord.plans.plan_file import load_plan, parse_plan
from stcoord.reference import mechanism_files, plan_files

DEMO_PASSWORD = "demo-password"
# (username, role, liaison bodies as (jurisdiction, body key))
DEMO_USERS: list[tuple[str, Role, list[tuple[str, str]]]] = [
    ("coordinator", Role.coordinator, []),
    ("mext-liaison", Role.liaison, [("JP", "mext")]),
    ("advisor", Role.advisor, []),
    ("stakeholder", Role.stakeholder, []),
    ("viewer", Role.viewer, []),
]


@dataclass(frozen=True)
class SeedResult:
    mechanisms: list[LoadResult]
    users_created: list[str]
    plans_created: list[str]
    classifications_created: list[str]
    demo_created: list[str] = field(default_factory=list)
    demo_skipped: list[str] = field(default_factory=list)


def seed_reference(session: Session, actor: Actor = SYSTEM) -> list[LoadResult]:
    """Load every shipped mechanism file (all or nothing, in the caller's transaction)."""
    results = []
    for path in mechanism_files():
        spec = parse_mechanism(path.read_text(encoding="utf-8"), str(path.name))
        results.append(load_mechanism(session, actor, spec))
    return results


def seed_demo_users(session: Session, actor: Actor = SYSTEM) -> list[str]:
    """Demo accounts for trying the roles locally; skipped where they exist."""
    created = []
    for username, role, bodies in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            continue
        body_ids = [
            body_id
            for code, key in bodies
            for body_id in session.scalars(
                select(Body.id).join(Jurisdiction).where(Jurisdiction.code == code, Body.key == key)
            )
        ]
        if role is Role.liaison and not body_ids:
            continue
        create_user(
            session, actor, username=username, password=DEMO_PASSWORD, role=role, body_ids=body_ids
        )
        created.append(username)
    return created


def seed_plans(session: Session, actor: Actor = SYSTEM) -> list[str]:
    """Replay the reference plans through the procedure engine; existing plans are left alone."""
    created = []
    for path in plan_files():
        spec = parse_plan(path.read_text(encoding="utf-8"), path.name)
        if load_plan(session, actor, spec, path.name):
            created.append(spec.key)
    return created


def seed(
    session: Session,
    *,
    demo_users: bool = False,
    demo_data: bool = False,
    data_dir: Path | None = None,
) -> SeedResult:
    """Seed everything; ``data_dir`` (default: the ``data_dir`` setting) is where the demo
    data's real files are read from."""
    mechanisms = seed_reference(session)
    users = seed_demo_users(session) if demo_users else []
    plans = seed_plans(session)
    schemes = [r.key for r in seed_classifications(session, SYSTEM) if r.created]
    demo = DemoLines()
    if demo_data:
        demo = seed_demo_data(session, get_settings().data_dir if data_dir is None else data_dir)
    return SeedResult(mechanisms, users, plans, schemes, demo.created, demo.skipped)


# ------------------------------------------------------------------ demo data (--demo-data)

# Files read from the data folder, and the subset rule for the awards (docs/demo-data.md)
NSF_AWARDS = Path("nsf", "awards.jsonl")
NSF_GROUPS = Path("nsf", "collaborative-groups.json")
DEMO_POLIS = Path("polis", "brexit-consensus")
POLIS_FILES = ("comments.csv", "votes.csv")  # the export files the import needs
GROUP_STEP, OTHER_STEP = 5, 40  # every 5th collaborative group, every 40th award in no group
DEMO_MAPPING = "nsf-awards"
ILLUSTRATIVE = "illustrative demo value"
DEMO_PLAN, DEMO_STAGE = "jp-6th-basic-plan", "integrated_strategy"
DEMO_CONVERSATION = "demo-polis-brexit"
DEMO_PUBLIC_COMMENT = "demo-public-comment"
DEMO_REPORT = "demo-naiac-illustrative"
AI_PLAN = "us-ai-rd-strategic-plan"
POLIS_ATTRIBUTION = (
    "Data was gathered using the Polis software (compdemocracy.org/polis) and is sub-licensed "
    "under CC BY 4.0 with Attribution to The Computational Democracy Project. The data and more "
    "information about how the data was collected can be found at the following link(s): "
    "https://compdemocracy.org/case-studies/2017-brexit-consensus"
)
# (handle, sector, organisation, comment); the first is answered, the second left open
DEMO_COMMENTS = [
    (
        "demo:industry-association",
        "industry",
        "Example industry association (illustrative demo value)",
        "Illustrative demo value: the strategy should publish the yearly budget figures behind "
        "each target so that industry can plan matching investment.",
    ),
    (
        "demo:university-network",
        "academia",
        "Example university network (illustrative demo value)",
        "Illustrative demo value: support for doctoral students should be reported by field, "
        "not only as a national total.",
    ),
]
# (number, text, addressed to, response position or None, linked task or None, status)
DEMO_RECOMMENDATIONS: list[tuple[str, str, list[str], str | None, str | None, str]] = [
    (
        "1",
        "Illustrative demo value: sustain long-term funding for fundamental AI research across "
        "the research agencies.",
        ["nsf", "doe_sc", "darpa"],
        "accept",
        "US-T01",
        "partly_addressed",
    ),
    (
        "2",
        "Illustrative demo value: build a shared national resource of AI research data and "
        "compute open to academic researchers.",
        ["ostp", "nsf"],
        "partly_accept",
        "US-T07",
        "open",
    ),
    (
        "3",
        "Illustrative demo value: publish each agency's AI R&D spending every year in one "
        "crosscut table.",
        ["nitrd_nco"],
        "accept",
        "US-T02",
        "fully_addressed",
    ),
    (
        "4",
        "Illustrative demo value: merge all federal AI R&D programs into a single new agency.",
        ["ostp"],
        "reject",
        None,
        "open",
    ),
    (
        "5",
        "Illustrative demo value: double the number of AI fellowships and traineeships within "
        "three years.",
        ["nsf"],
        None,
        None,
        "open",
    ),
]


@dataclass
class DemoLines:
    """What a demo part loaded, and the parts it skipped because a data file is missing."""

    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _missing(part: str, path: Path) -> str:
    return f"{part}: skipped, {path} not found (set --data-dir or STCOORD_DATA_DIR)"


def demo_awards(data_dir: Path) -> tuple[list[str], bytes]:
    """The demo subset of ``<data_dir>/nsf/awards.jsonl``: every award of every 5th group of
    ``collaborative-groups.json`` plus every 40th award of those in no group, in file order,
    as (award ids, JSON lines with each record unchanged)."""
    groups = json.loads((data_dir / NSF_GROUPS).read_text(encoding="utf-8"))["groups"]
    lines = [line for line in (data_dir / NSF_AWARDS).read_bytes().split(b"\n") if line.strip()]
    ids = [str(json.loads(line)["award_id"]) for line in lines]
    grouped = {str(i) for group in groups for i in group}
    keep = {str(i) for group in groups[::GROUP_STEP] for i in group}
    keep.update([i for i in ids if i not in grouped][::OTHER_STEP])
    chosen = [(i, line) for i, line in zip(ids, lines, strict=True) if i in keep]
    return [i for i, _ in chosen], b"".join(line + b"\n" for _, line in chosen)


class _InSession:
    """Stands in for a :class:`~stcoord.db.session.Database` so that a screen run executes
    inside the seed's one transaction (the caller commits; each "scope" only flushes)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @contextmanager
    def scope(self, *, write: bool = True) -> Iterator[Session]:
        yield self.session
        self.session.flush()


def seed_demo_portfolio(session: Session, data_dir: Path, actor: Actor = SYSTEM) -> DemoLines:
    """Import the demo subset of the NSF awards in ``data_dir`` (unless all are there) and,
    when no portfolio screen exists yet, run one to the end so the pair list has flagged
    pairs. Skipped, with a line saying why, when a file is missing."""
    from stcoord.portfolio import screening
    from stcoord.portfolio.imports import import_projects
    from stcoord.portfolio.mapping import get_mapping
    from stcoord.portfolio.models import Project, ScreenRun

    for name in (NSF_AWARDS, NSF_GROUPS):
        if not (data_dir / name).is_file():
            return DemoLines(skipped=[_missing("portfolio", data_dir / name)])
    done: list[str] = []
    mapping = get_mapping(DEMO_MAPPING)
    ids, records = demo_awards(data_dir)
    have = session.scalar(
        select(func.count(Project.id)).where(
            Project.source == mapping.source, Project.external_id.in_(ids)
        )
    )
    if (have or 0) < len(ids):
        result = import_projects(
            session, actor, stream=io.BytesIO(records), filename="awards.jsonl", mapping=mapping
        )
        done.append(
            f"portfolio: {result.created} NSF awards imported from {data_dir / NSF_AWARDS} "
            "(demo subset)"
        )
    if session.scalar(select(ScreenRun.id).where(ScreenRun.kind == "portfolio").limit(1)) is None:
        run = screening.create_run(session, actor, sources=[mapping.source])
        screening.execute_run(_InSession(session), actor, run.id)
        done.append(f"portfolio: screen run {run.id} flagged {run.pair_count} candidate pairs")
    return DemoLines(created=done)


def seed_demo_consultations(session: Session, data_dir: Path, actor: Actor = SYSTEM) -> DemoLines:
    """A statement-and-vote conversation holding the real Polis conversation in ``data_dir``
    (skipped, with a line saying why, when its folder is missing), and a small public-comment
    consultation, on an open stage of a reference plan; each only if missing."""
    from stcoord.consultation import service as consultation
    from stcoord.consultation.models import Consultation
    from stcoord.consultation.polis_format import read_export
    from stcoord.consultation.polis_import import import_export
    from stcoord.plans.models import Plan, PlanStage

    existing = set(
        session.scalars(
            select(Consultation.key).where(
                Consultation.key.in_([DEMO_CONVERSATION, DEMO_PUBLIC_COMMENT])
            )
        )
    )
    stage_status = session.scalar(
        select(PlanStage.status)
        .join(Plan, Plan.id == PlanStage.plan_id)
        .where(Plan.key == DEMO_PLAN, PlanStage.key == DEMO_STAGE)
    )
    if stage_status in (None, "closed"):  # the plan has moved on: leave it alone
        return DemoLines()
    out = DemoLines()
    done = out.created
    polis = data_dir / DEMO_POLIS
    absent = [p for p in (polis, *(polis / n for n in POLIS_FILES)) if not p.exists()]
    if DEMO_CONVERSATION not in existing and absent:
        out.skipped.append(_missing(f"consultation {DEMO_CONVERSATION}", absent[0]))
    elif DEMO_CONVERSATION not in existing:
        export = read_export(polis)
        topic = export.summary.get("topic", polis.name)
        consultation.create_consultation(
            session,
            actor,
            key=DEMO_CONVERSATION,
            plan_key=DEMO_PLAN,
            stage_key=DEMO_STAGE,
            kind="conversation",
            title=f"Demo conversation with real Polis votes: {topic}",
            description=(
                f"A real Polis openData conversation ({topic!r}, 2017), unrelated to this plan: "
                "loaded as demo data to show the opinion groups of the live dashboard. "
                + POLIS_ATTRIBUTION
            ),
        )
        result = import_export(session, actor, key=DEMO_CONVERSATION, export=export)
        done.append(
            f"consultation {DEMO_CONVERSATION}: {result.participants} participants, "
            f"{result.statements} statements, {result.votes} votes imported from Polis"
        )
    if DEMO_PUBLIC_COMMENT not in existing:
        consultation.create_consultation(
            session,
            actor,
            key=DEMO_PUBLIC_COMMENT,
            plan_key=DEMO_PLAN,
            stage_key=DEMO_STAGE,
            kind="public_comment",
            title=f"Public comment on the Integrated Innovation Strategy ({ILLUSTRATIVE})",
            description=(
                "Illustrative demo value: this consultation, its participants and comments "
                "were invented for the stcoord demo."
            ),
            channels=["public_comment"],
        )
        comments = []
        for handle, sector, organisation, text in DEMO_COMMENTS:
            consultation.register(
                session,
                actor,
                key=DEMO_PUBLIC_COMMENT,
                sector=sector,
                organisation=organisation,
                display_name=organisation,
                handle=handle,
            )
            comments.append(
                consultation.add_comment(
                    session, actor, key=DEMO_PUBLIC_COMMENT, text=text, participant=handle
                )
            )
        consultation.answer_comment(
            session,
            actor,
            key=DEMO_PUBLIC_COMMENT,
            comment_id=comments[0].id,
            outcome="partly_adopted",
            reason=(
                "Illustrative demo value: the yearly figures will be published for the main "
                "targets; a breakdown for every target is out of scope this year."
            ),
        )
        done.append(f"consultation {DEMO_PUBLIC_COMMENT}: {len(comments)} comments")
    return out


def seed_demo_advisory(session: Session, actor: Actor = SYSTEM) -> list[str]:
    """An advisory report (invented, marked so) with numbered recommendations, the
    government's responses, task links and statuses; only if it is missing."""
    from stcoord.advisory import service as advisory
    from stcoord.advisory.models import AdvisoryReport

    if session.scalar(select(AdvisoryReport.id).where(AdvisoryReport.key == DEMO_REPORT)):
        return []
    advisory.file_report(
        session,
        actor,
        code="US",
        body="naiac",
        key=DEMO_REPORT,
        title=(
            f"Recommendations on the National AI R&D Strategic Plan ({ILLUSTRATIVE}; "
            "not a real NAIAC report)"
        ),
        published_on=dt.date(2024, 5, 1),
        summary=(
            "Illustrative demo value: the report, its date, recommendations, responses and "
            "statuses were invented for the stcoord demo; they are not official texts."
        ),
        unverified=True,
    )
    for number, text, addressed_to, position, task, status in DEMO_RECOMMENDATIONS:
        advisory.add_recommendation(
            session,
            actor,
            report_key=DEMO_REPORT,
            number=number,
            text=text,
            addressed_to=addressed_to,
        )
        if position is not None:
            advisory.respond(
                session,
                actor,
                report_key=DEMO_REPORT,
                number=number,
                position=position,
                text=f"Illustrative demo value: response to recommendation {number}.",
                on_date=dt.date(2024, 8, 1),
                responding_body="ostp",
            )
        if task is not None:
            advisory.link_task(
                session,
                actor,
                report_key=DEMO_REPORT,
                number=number,
                plan_key=AI_PLAN,
                task_code=task,
            )
        if status != "open":
            advisory.set_status(
                session,
                actor,
                report_key=DEMO_REPORT,
                number=number,
                status=status,
                on_date=dt.date(2025, 1, 15),
                evidence=f"Illustrative demo value: evidence for recommendation {number}.",
            )
    return [f"advisory report {DEMO_REPORT}: {len(DEMO_RECOMMENDATIONS)} recommendations"]


def seed_demo_data(session: Session, data_dir: Path, actor: Actor = SYSTEM) -> DemoLines:
    """Demo data for the portfolio, consultation and advisory pages (after the reference
    mechanisms and plans it builds on), the real parts read from ``data_dir``; what exists is
    left alone, so a rerun is a no-op, and a part whose file is missing is skipped."""
    portfolio = seed_demo_portfolio(session, data_dir, actor)
    consultations = seed_demo_consultations(session, data_dir, actor)
    return DemoLines(
        created=[
            *portfolio.created,
            *consultations.created,
            *seed_demo_advisory(session, actor),
        ],
        skipped=[*portfolio.skipped, *consultations.skipped],
    )
