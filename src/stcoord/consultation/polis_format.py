"""Polis's export formats, read and written without a database.

Polis's openData export (github.com/compdemocracy/openData) is a folder of CSV files:

- ``comments.csv``: ``timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,
  comment-body``. ``moderated`` is ``1`` accepted, ``0`` not yet moderated, ``-1`` moderated
  out; moderated-out comments take no part in the math.
- ``votes.csv``: ``timestamp,datetime,comment-id,voter-id,vote``; ``vote`` is ``1`` agree,
  ``-1`` disagree, ``0`` pass (the export flips Polis's internal sign, where ``-1`` is agree).
- ``participants-votes.csv``: ``participant,group-id,n-comments,n-votes,n-agree,n-disagree``
  (some exports add ``xid`` after ``participant``) then one column per comment id holding
  that participant's vote (blank if none). ``group-id``
  is the opinion group of Polis's last math run (blank for participants not clustered).
- ``summary.csv``: ``key,value`` lines (topic, url, voters, voters-in-conv, commenters,
  comments, groups, conversation-description).

The 2025 report export names each file ``<date>-<report>-<name>.csv``, calls the matrix
``participant-votes.csv`` and adds ``comment-groups.csv``: ``comment-id,comment,total-votes,
total-agrees,total-disagrees,total-passes`` then ``group-<x>-votes,-agrees,-disagrees,-passes``
for groups ``a``, ``b``, ... (group ``a`` is group-id ``0``); its totals count only the
participants in a group (voters-in-conv), unlike comments.csv. Its timestamps are in seconds.

The polis-math fixtures of red-dwarf (``votes.json``, ``comments.json``, ``math-pca2.json``)
are read too; their ``vote`` is already ``1`` for agree, as the comments' ``agree_count`` shows.

>>> export = read_export("../shared/data/polis/15-per-hour-seattle")  # doctest: +SKIP
>>> len(export.votes), len(export.excluded_statements())  # doctest: +SKIP
(8877, 8)
"""

from __future__ import annotations

import csv
import json
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stcoord.analytics.consensus import Analysis, ClusteringState, Vote, state_from_groups
from stcoord.errors import ValidationFailed

COMMENTS_HEADER = (
    "timestamp",
    "datetime",
    "comment-id",
    "author-id",
    "agrees",
    "disagrees",
    "moderated",
    "comment-body",
)
VOTES_HEADER = ("timestamp", "datetime", "comment-id", "voter-id", "vote")
MATRIX_FIXED = ("participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree")
# some exports add the participant's external id after ``participant``
_MATRIX_NOT_VOTES = frozenset((*MATRIX_FIXED, "xid"))
COMMENT_GROUPS_FIXED = (
    "comment-id",
    "comment",
    "total-votes",
    "total-agrees",
    "total-disagrees",
    "total-passes",
)
# file kinds by the end of their name, most specific first
_KINDS = (
    ("participants-votes.csv", "matrix"),
    ("participant-votes.csv", "matrix"),
    ("comment-groups.csv", "comment_groups"),
    ("comments.csv", "comments"),
    ("votes.csv", "votes"),
    ("summary.csv", "summary"),
)


@dataclass(frozen=True)
class PolisComment:
    id: str
    body: str
    author: str = ""
    moderated: int = 1  # 1 accepted, 0 unmoderated, -1 moderated out
    agrees: int = 0
    disagrees: int = 0
    timestamp: int | None = None
    datetime: str = ""
    is_meta: bool = False


@dataclass(frozen=True)
class PolisVote:
    participant: str
    statement: str
    value: int  # 1 agree, -1 disagree, 0 pass
    timestamp: int | None = None
    datetime: str = ""


@dataclass(frozen=True)
class PolisParticipant:
    """A row of ``participants-votes.csv``."""

    id: str
    group: int | None
    n_comments: int
    n_votes: int
    n_agree: int
    n_disagree: int
    votes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupCounts:
    votes: int
    agrees: int
    disagrees: int
    passes: int


@dataclass(frozen=True)
class CommentGroups:
    """A row of ``comment-groups.csv``: totals and counts per group (``0`` is group ``a``)."""

    statement: str
    body: str
    total: GroupCounts
    groups: dict[int, GroupCounts] = field(default_factory=dict)


@dataclass(frozen=True)
class PolisExport:
    """Everything read from one export folder; missing files leave their part empty."""

    summary: dict[str, str] = field(default_factory=dict)
    comments: tuple[PolisComment, ...] = ()
    votes: tuple[PolisVote, ...] = ()
    participants: tuple[PolisParticipant, ...] = ()
    comment_groups: tuple[CommentGroups, ...] = ()
    files: dict[str, str] = field(default_factory=dict)  # kind -> file name read
    math: dict[str, Any] | None = None  # math-pca2.json of a polis-math case, if present

    def excluded_statements(self) -> tuple[str, ...]:
        """Comments moderated out (``moderated = -1``), plus Polis's ``mod-out`` if known."""
        out = {c.id for c in self.comments if c.moderated == -1}
        if self.math:
            out.update(str(t) for t in self.math.get("mod-out") or ())
        return tuple(sorted(out, key=_natural))

    def analysis_votes(self) -> list[Vote]:
        """Votes for :func:`stcoord.analytics.consensus.analyze`, oldest first (so the last
        vote on a statement wins); from ``votes.csv`` or, without it, the participant matrix.
        Each vote carries its time in seconds when the export has one (exports write
        milliseconds or seconds: a timestamp of 10^11 or more is taken as milliseconds), so
        that ``analyze`` can replay Polis's runs."""
        if self.votes:
            ordered = sorted(
                self.votes, key=lambda v: v.timestamp if v.timestamp is not None else 0
            )
            return [
                Vote(v.participant, v.statement, v.value, time=_seconds(v.timestamp))
                for v in ordered
            ]
        return [Vote(p.id, s, value) for p in self.participants for s, value in p.votes.items()]

    def recorded_groups(self) -> dict[str, int]:
        """Participant -> group-id as Polis recorded it (participants-votes.csv or math)."""
        if self.math:
            bc = self.math["base-clusters"]
            b2p = dict(zip(bc["id"], bc["members"], strict=True))
            return {
                str(p): int(g["id"])
                for g in self.math["group-clusters"]
                for b in g["members"]
                for p in b2p[b]
            }
        return {p.id: p.group for p in self.participants if p.group is not None}


def _seconds(timestamp: int | None) -> float | None:
    """An export's timestamp in seconds (openData and polis-math write milliseconds, the 2025
    export seconds; 10^11 seconds would be the year 5138)."""
    if timestamp is None:
        return None
    return timestamp / 1000.0 if abs(timestamp) >= 10**11 else float(timestamp)


def _natural(value: str) -> tuple[int, int, str]:
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


def _int(value: str, path: str, row: int, column: str, problems: list[dict[str, Any]]) -> int:
    try:
        return int(float(value)) if "." in value else int(value)
    except ValueError:
        problems.append(
            {"path": path, "row": row, "column": column, "message": f"not a number: {value!r}"}
        )
        return 0


def _opt_int(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _check_header(
    path: str, header: Sequence[str], required: Iterable[str], problems: list[dict[str, Any]]
) -> bool:
    missing = [c for c in required if c not in header]
    if missing:
        problems.append(
            {"path": path, "row": 1, "message": f"missing column(s): {', '.join(missing)}"}
        )
        return False
    return True


def _vote_value(
    raw: str, path: str, row: int, column: str, problems: list[dict[str, Any]]
) -> int | None:
    try:
        value = int(float(raw))
    except ValueError:
        value = 99
    if value not in (-1, 0, 1):
        problems.append(
            {
                "path": path,
                "row": row,
                "column": column,
                "message": f"vote must be 1, -1 or 0: {raw!r}",
            }
        )
        return None
    return value


def read_comments(path: Path, problems: list[dict[str, Any]]) -> tuple[PolisComment, ...]:
    out = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not _check_header(path.name, reader.fieldnames or (), ("comment-id",), problems):
            return ()
        for n, r in enumerate(reader, start=2):
            cid = (r.get("comment-id") or "").strip()
            if not cid:
                problems.append(
                    {"path": path.name, "row": n, "column": "comment-id", "message": "empty"}
                )
                continue
            out.append(
                PolisComment(
                    id=cid,
                    body=r.get("comment-body") or "",
                    author=(r.get("author-id") or "").strip(),
                    moderated=_int(r.get("moderated") or "0", path.name, n, "moderated", problems),
                    agrees=_int(r.get("agrees") or "0", path.name, n, "agrees", problems),
                    disagrees=_int(r.get("disagrees") or "0", path.name, n, "disagrees", problems),
                    timestamp=_opt_int(r.get("timestamp")),
                    datetime=r.get("datetime") or "",
                )
            )
    return tuple(out)


def read_votes(path: Path, problems: list[dict[str, Any]]) -> tuple[PolisVote, ...]:
    out = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        if not _check_header(path.name, header, ("comment-id", "voter-id", "vote"), problems):
            return ()
        i_c, i_p, i_v = header.index("comment-id"), header.index("voter-id"), header.index("vote")
        i_t = header.index("timestamp") if "timestamp" in header else None
        i_d = header.index("datetime") if "datetime" in header else None
        for n, r in enumerate(reader, start=2):
            if not r:
                continue
            try:
                cid, pid, raw = r[i_c].strip(), r[i_p].strip(), r[i_v].strip()
            except IndexError:
                problems.append({"path": path.name, "row": n, "message": "too few columns"})
                continue
            value = _vote_value(raw, path.name, n, "vote", problems)
            if value is None:
                continue
            if not cid or not pid:
                problems.append(
                    {"path": path.name, "row": n, "message": "empty comment-id or voter-id"}
                )
                continue
            out.append(
                PolisVote(
                    participant=pid,
                    statement=cid,
                    value=value,
                    timestamp=_opt_int(r[i_t]) if i_t is not None else None,
                    datetime=r[i_d] if i_d is not None else "",
                )
            )
    return tuple(out)


def read_participant_votes(
    path: Path, problems: list[dict[str, Any]]
) -> tuple[PolisParticipant, ...]:
    out = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        if not _check_header(path.name, header, ("participant", "group-id"), problems):
            return ()
        fixed = {h: header.index(h) for h in MATRIX_FIXED if h in header}
        vote_cols = [(i, h) for i, h in enumerate(header) if h not in _MATRIX_NOT_VOTES]
        for n, r in enumerate(reader, start=2):
            if not r:
                continue

            def cell(name: str, row: list[str] = r) -> str:
                i = fixed.get(name)
                return row[i].strip() if i is not None and i < len(row) else ""

            votes: dict[str, int] = {}
            for i, h in vote_cols:
                raw = r[i].strip() if i < len(r) else ""
                if raw == "":
                    continue
                value = _vote_value(raw, path.name, n, h, problems)
                if value is not None:
                    votes[h] = value
            out.append(
                PolisParticipant(
                    id=cell("participant"),
                    group=_opt_int(cell("group-id")),
                    n_comments=_opt_int(cell("n-comments")) or 0,
                    n_votes=_opt_int(cell("n-votes")) or 0,
                    n_agree=_opt_int(cell("n-agree")) or 0,
                    n_disagree=_opt_int(cell("n-disagree")) or 0,
                    votes=votes,
                )
            )
    return tuple(out)


def read_comment_groups(path: Path, problems: list[dict[str, Any]]) -> tuple[CommentGroups, ...]:
    out = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        if not _check_header(path.name, header, COMMENT_GROUPS_FIXED, problems):
            return ()
        letters = sorted(
            {h.split("-")[1] for h in header if h.startswith("group-") and h.endswith("-votes")},
            key=lambda s: (len(s), s),
        )
        for n, r in enumerate(reader, start=2):

            def num(col: str, row: dict[str, str] = r, n: int = n) -> int:
                return _int((row.get(col) or "0").strip() or "0", path.name, n, col, problems)

            groups = {
                _group_index(x): GroupCounts(
                    num(f"group-{x}-votes"),
                    num(f"group-{x}-agrees"),
                    num(f"group-{x}-disagrees"),
                    num(f"group-{x}-passes"),
                )
                for x in letters
            }
            out.append(
                CommentGroups(
                    statement=(r.get("comment-id") or "").strip(),
                    body=r.get("comment") or "",
                    total=GroupCounts(
                        num("total-votes"),
                        num("total-agrees"),
                        num("total-disagrees"),
                        num("total-passes"),
                    ),
                    groups=groups,
                )
            )
    return tuple(out)


def read_summary(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return {r[0]: (r[1] if len(r) > 1 else "") for r in csv.reader(fh) if r}


def _group_letter(index: int) -> str:
    letters = string.ascii_lowercase
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = letters[rem] + out
    return out


def _group_index(letter: str) -> int:
    value = 0
    for ch in letter:
        value = value * 26 + (ord(ch) - ord("a") + 1)
    return value - 1


def read_export(directory: str | Path) -> PolisExport:
    """Read a Polis export folder (openData, 2025 report export or a polis-math case).

    Raises :class:`~stcoord.errors.ValidationFailed` listing every bad cell (file, row, column)
    and ``FileNotFoundError`` when the folder holds no Polis file.
    """
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder")
    if (root / "votes.json").exists():
        return _read_math_case(root)
    found: dict[str, Path] = {}
    for path in sorted(root.iterdir()):
        name = path.name
        for suffix, kind in _KINDS:
            if (name == suffix or name.endswith("-" + suffix)) and kind not in found:
                found[kind] = path
                break
    if not ({"votes", "matrix"} & set(found)):
        raise FileNotFoundError(
            f"{root}: no votes.csv or participants-votes.csv (is this a Polis export folder?)"
        )
    problems: list[dict[str, Any]] = []
    export = PolisExport(
        summary=read_summary(found["summary"]) if "summary" in found else {},
        comments=read_comments(found["comments"], problems) if "comments" in found else (),
        votes=read_votes(found["votes"], problems) if "votes" in found else (),
        participants=(
            read_participant_votes(found["matrix"], problems) if "matrix" in found else ()
        ),
        comment_groups=(
            read_comment_groups(found["comment_groups"], problems)
            if "comment_groups" in found
            else ()
        ),
        files={k: p.name for k, p in found.items()},
    )
    if problems:
        raise ValidationFailed(problems)
    return export


def _read_math_case(root: Path) -> PolisExport:
    def load(name: str) -> Any:
        path = root / name
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    raw_votes = load("votes.json") or []
    problems: list[dict[str, Any]] = []
    votes = []
    for n, v in enumerate(raw_votes):
        pid = v.get("participant_id", v.get("pid"))
        tid = v.get("statement_id", v.get("tid"))
        value = v.get("vote")
        if pid is None or tid is None or value not in (-1, 0, 1):
            problems.append({"path": "votes.json", "row": n, "message": f"bad vote: {v!r}"})
            continue
        ts = v.get("modified")
        votes.append(
            PolisVote(str(pid), str(tid), int(value), int(float(ts)) if ts is not None else None)
        )
    if problems:
        raise ValidationFailed(problems)
    comments = tuple(
        PolisComment(
            id=str(c.get("statement_id", c.get("tid"))),
            body=c.get("txt") or "",
            author=str(c.get("participant_id", c.get("pid", ""))),
            moderated=int(c.get("moderated", c.get("mod", 0))),
            agrees=int(c.get("agree_count") or 0),
            disagrees=int(c.get("disagree_count") or 0),
            is_meta=bool(c.get("is_meta")),
        )
        for c in load("comments.json") or []
    )
    conv = load("conversation.json") or {}
    summary = {
        "topic": str(conv.get("topic") or ""),
        "conversation-id": str(conv.get("conversation_id") or ""),
    }
    return PolisExport(
        summary=summary,
        comments=comments,
        votes=tuple(votes),
        files={"votes": "votes.json"},
        math=load("math-pca2.json"),
    )


def state_from_recorded_groups(
    export: PolisExport, analysis: Analysis | None = None
) -> ClusteringState:
    """A clustering state that continues from Polis's last run (``analyze(previous=...)``).

    With Polis's math (a polis-math case) its own base clusters and in-conversation set are
    used; with an openData export the base clusters come from ``analysis`` (a run from
    scratch on the same votes) and the groups from ``group-id``.
    """
    groups = export.recorded_groups()
    if export.math:
        bc = export.math["base-clusters"]
        bases = [tuple(str(p) for p in mem) for mem in bc["members"]]
        in_conv = [str(p) for p in export.math.get("in-conv") or groups]
        placeholder = Analysis((), (), (), (), (), {}, (0.0, 0.0))
        return state_from_groups(
            analysis or placeholder, groups, base_clusters=bases, in_conversation=in_conv
        )
    if analysis is None:
        raise ValueError("an analysis of the votes is needed to continue from group-id alone")
    return state_from_groups(analysis, groups)


# ---------------------------------------------------------------------------------------------
# Writing


def write_export(
    directory: str | Path,
    analysis: Analysis,
    votes: Sequence[PolisVote] | Sequence[Vote],
    *,
    comments: Sequence[PolisComment] = (),
    summary: Mapping[str, str] | None = None,
    prefix: str = "",
) -> dict[str, Path]:
    """Write ``comments.csv``, ``votes.csv``, ``participants-votes.csv`` (with our groups as
    ``group-id``), ``summary.csv`` and ``comment-groups.csv`` into ``directory``.

    ``prefix`` (e.g. ``"2025-08-29-0002-abc-"``) names the files as the 2025 export does; with
    a prefix the matrix is called ``participant-votes.csv`` as there. Returns kind -> path.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    pvotes = [
        v if isinstance(v, PolisVote) else PolisVote(v.participant, v.statement, v.value)
        for v in votes
    ]
    last: dict[tuple[str, str], int] = {}
    for v in sorted(pvotes, key=lambda v: v.timestamp if v.timestamp is not None else 0):
        last[(v.participant, v.statement)] = v.value
    statement_ids = sorted({s for _, s in last} | {c.id for c in comments}, key=_natural)
    participant_ids = sorted({p for p, _ in last}, key=_natural)
    group_of = analysis.group_of()
    authored: dict[str, int] = {}
    for c in comments:
        authored[c.author] = authored.get(c.author, 0) + 1

    paths: dict[str, Path] = {}

    def open_csv(kind: str, name: str) -> Any:
        path = root / f"{prefix}{name}"
        paths[kind] = path
        return path.open("w", newline="", encoding="utf-8")

    counts: dict[str, list[int]] = {s: [0, 0, 0] for s in statement_ids}  # agree, disagree, pass
    for (_, s), value in last.items():
        counts[s][0 if value == 1 else 1 if value == -1 else 2] += 1

    with open_csv("comments", "comments.csv") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COMMENTS_HEADER)
        by_id = {c.id: c for c in comments}
        for s in statement_ids:
            c = by_id.get(s) or PolisComment(id=s, body="")
            moderated = -1 if s in analysis.excluded_statements else c.moderated
            w.writerow(
                [
                    "" if c.timestamp is None else c.timestamp,
                    c.datetime,
                    s,
                    c.author,
                    counts[s][0],
                    counts[s][1],
                    moderated,
                    c.body,
                ]
            )

    with open_csv("votes", "votes.csv") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(VOTES_HEADER)
        for v in pvotes:
            ts = "" if v.timestamp is None else v.timestamp
            w.writerow([ts, v.datetime, v.statement, v.participant, v.value])

    matrix_name = "participant-votes.csv" if prefix else "participants-votes.csv"
    with open_csv("matrix", matrix_name) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([*MATRIX_FIXED, *statement_ids])
        rows: dict[str, dict[str, int]] = {}
        for (p, s), value in last.items():
            rows.setdefault(p, {})[s] = value
        for p in participant_ids:
            mine = rows.get(p, {})
            group = group_of.get(p)
            w.writerow(
                [
                    p,
                    "" if group is None else group,
                    authored.get(p, 0),
                    len(mine),
                    sum(1 for x in mine.values() if x == 1),
                    sum(1 for x in mine.values() if x == -1),
                    *(mine.get(s, "") for s in statement_ids),
                ]
            )

    with open_csv("comment_groups", "comment-groups.csv") as fh:
        w = csv.writer(fh, lineterminator="\n")
        letters = [_group_letter(g.id) for g in analysis.groups]
        w.writerow(
            [
                *COMMENT_GROUPS_FIXED,
                *(
                    f"group-{x}-{what}"
                    for x in letters
                    for what in ("votes", "agrees", "disagrees", "passes")
                ),
            ]
        )
        per_group: dict[tuple[int, str], list[int]] = {}
        for (p, s), value in last.items():
            g = group_of.get(p)
            if g is None:
                continue
            cell = per_group.setdefault((g, s), [0, 0, 0])
            cell[0 if value == 1 else 1 if value == -1 else 2] += 1
        bodies = {c.id: c.body for c in comments}
        for s in statement_ids:
            cells = [per_group.get((grp.id, s), [0, 0, 0]) for grp in analysis.groups]
            a, d, ps = (sum(c[i] for c in cells) for i in range(3))  # grouped voters, as Polis
            out: list[Any] = [s, bodies.get(s, ""), a + d + ps, a, d, ps]
            for ga, gd, gp in cells:
                out.extend([ga + gd + gp, ga, gd, gp])
            w.writerow(out)

    info = dict(summary or {})
    info.setdefault("voters", str(len(participant_ids)))
    info["voters-in-conv"] = str(len(analysis.in_conversation))
    info.setdefault("commenters", str(len({c.author for c in comments if c.author})))
    info["comments"] = str(len(statement_ids))
    info["groups"] = str(len(analysis.groups))
    with open_csv("summary", "summary.csv") as fh:
        w = csv.writer(fh, lineterminator="\n")
        for key, text in info.items():
            w.writerow([key, text])
    return paths
