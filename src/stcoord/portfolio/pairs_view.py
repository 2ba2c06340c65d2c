"""One candidate pair for reading: both projects in full, the passages they share (for
highlighting side by side), the flags, the assignee and the verdict history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from stcoord.auth.models import User
from stcoord.auth.permissions import Actor, permits
from stcoord.portfolio.adjudication import verdict_history
from stcoord.portfolio.mapping import project_text
from stcoord.portfolio.projects import project_read
from stcoord.portfolio.screening import get_pair, get_run

MIN_PASSAGE_WORDS = 5


@dataclass(frozen=True)
class Segment:
    text: str
    passage: int | None  # index of the shared passage this text belongs to, None if not shared


def segments(text: str, spans: list[tuple[int, int, int]]) -> list[Segment]:
    """Cut ``text`` into plain and highlighted pieces; ``spans`` are (start, end, passage).

    >>> [(s.text, s.passage) for s in segments("abcdef", [(1, 3, 0)])]
    [('a', None), ('bc', 0), ('def', None)]
    """
    out: list[Segment] = []
    at = 0
    for start, end, index in sorted(spans):
        start, end = max(start, at), min(end, len(text))
        if end <= start:
            continue
        if start > at:
            out.append(Segment(text[at:start], None))
        out.append(Segment(text[start:end], index))
        at = end
    if at < len(text):
        out.append(Segment(text[at:], None))
    return out


def pair_detail(session: Session, actor: Actor, pair_id: int) -> dict[str, Any]:
    from stcoord.analytics.passages import matching_passages

    pair = get_pair(session, actor, pair_id)
    run = get_run(session, actor, pair.run_id)
    left = project_read(session, pair.left)
    right = project_read(session, pair.right)
    left_text = project_text(left.title, left.abstract)
    right_text = project_text(right.title, right.abstract)
    passages = matching_passages(left_text, right_text, min_words=MIN_PASSAGE_WORDS)
    shared_people = sorted(
        {i["id"] for i in left.investigators} & {i["id"] for i in right.investigators}
    )
    assignee = session.get(User, pair.assigned_to_id) if pair.assigned_to_id else None
    history = verdict_history(session, actor, pair.id)
    return {
        "id": pair.id,
        "run": {"id": run.id, "kind": run.kind, "threshold": run.threshold},
        "score": pair.score,
        "cross_agency": pair.cross_agency,
        "time_overlap": pair.time_overlap,
        "shared_investigators": pair.shared_investigators,
        "shared_investigator_ids": shared_people,
        "left": left.model_dump(mode="json"),
        "right": right.model_dump(mode="json"),
        "left_text": left_text,
        "right_text": right_text,
        "passages": [
            {
                "left_start": p.left_start,
                "left_end": p.left_end,
                "right_start": p.right_start,
                "right_end": p.right_end,
                "text": left_text[p.left_start : p.left_end],
            }
            for p in passages
        ],
        "assigned_to": assignee.username if assignee else None,
        "verdict": pair.verdict,
        "verdict_comment": pair.verdict_comment,
        "verdict_by": pair.verdict_by,
        "verdict_at": pair.verdict_at.isoformat() if pair.verdict_at else None,
        "version": pair.version,
        "may_adjudicate": permits(actor, "portfolio.adjudicate", pair),
        "history": [
            {"label": v.label, "comment": v.comment, "by": v.actor_name, "at": v.at.isoformat()}
            for v in history
        ],
    }


def highlighted(detail: dict[str, Any]) -> tuple[list[Segment], list[Segment]]:
    """The two texts of a :func:`pair_detail` cut into plain and shared pieces."""
    left = [(p["left_start"], p["left_end"], n) for n, p in enumerate(detail["passages"])]
    right = [(p["right_start"], p["right_end"], n) for n, p in enumerate(detail["passages"])]
    return segments(detail["left_text"], left), segments(detail["right_text"], right)
