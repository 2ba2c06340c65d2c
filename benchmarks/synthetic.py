"""A synthetic but realistic mechanism file, written straight to YAML text.

The tree: a head of government and a legislature (the two roots); a cabinet; a few
supra-ministerial councils with committees, subcommittees, working groups and coordination
offices; ministries with funding agencies, research institutes and funding instruments; advisory
committees and expert panels; legislative committees. Every body but the roots has a parent that
comes earlier in the file, so ``reports_to`` relations that point to an earlier body can never
form a cycle. Seats, mandates and relations are spread over the bodies to hit exact totals, and
every composition rule written is one the seats satisfy.

The text is emitted by hand (flow-style mappings, JSON-quoted strings, which YAML reads as
double-quoted scalars), so generating it costs little time and memory next to what is measured.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from stcoord.analytics.composition import SeatCount, evaluate_rule

FIELD_NAMES = [
    ("ai", "Artificial intelligence"),
    ("quantum", "Quantum information science"),
    ("semiconductors", "Semiconductors"),
    ("biotech", "Biotechnology"),
    ("space", "Space"),
    ("energy", "Clean energy"),
    ("materials", "Advanced materials"),
    ("health", "Health and life sciences"),
    ("climate", "Climate and environment"),
    ("ocean", "Ocean"),
    ("agri", "Agriculture and food"),
    ("cyber", "Cybersecurity"),
    ("comms", "Advanced communications"),
    ("robotics", "Robotics"),
    ("mobility", "Mobility"),
    ("fusion", "Fusion energy"),
    ("hpc", "High-performance computing"),
    ("data", "Data infrastructure"),
    ("manufacturing", "Advanced manufacturing"),
    ("disaster", "Disaster resilience"),
]


@dataclass
class Tier:
    """A family of bodies: kind, level, share of the bodies, and the tiers parents come from."""

    kind: str
    level: str
    label: str
    share: float  # of the bodies left after the fixed ones
    parents: tuple[str, ...]
    seat_weight: float
    mandate_weight: float


# Fixed-size tiers come first, in this order; proportional tiers share what is left.
FIXED = [
    ("head", "head_of_government", "head", "Head of Government", 1, ()),
    ("legislature", "legislature", "legislative", "National Legislature", 1, ()),
    ("cabinet", "cabinet", "head", "Cabinet", 1, ("head",)),
    ("council", "council", "supra_ministerial", "Council", 4, ("head",)),
    ("ministry", "ministry", "ministerial", "Ministry", 24, ("cabinet",)),
    ("budget", "budget_office", "ministerial", "Budget Office", 1, ("cabinet",)),
    ("advisory", "advisory_committee", "advisory", "Advisory Committee", 8, ("council",)),
    (
        "legcom",
        "legislative_committee",
        "legislative",
        "Legislative Committee",
        12,
        ("legislature",),
    ),
]
TIERS = {
    "committee": Tier("committee", "supra_ministerial", "Committee", 0.02, ("council",), 2.0, 2.0),
    "office": Tier(
        "coordination_office",
        "supra_ministerial",
        "Coordination Office",
        0.02,
        ("committee",),
        1,
        2,
    ),
    "subcommittee": Tier(
        "subcommittee", "supra_ministerial", "Subcommittee", 0.08, ("committee",), 1.5, 1.5
    ),
    "wg": Tier(
        "working_group", "supra_ministerial", "Working Group", 0.18, ("subcommittee",), 1, 1
    ),
    "panel": Tier(
        "expert_panel", "advisory", "Expert Panel", 0.05, ("advisory", "committee"), 1, 1
    ),
    "agency": Tier("funding_agency", "agency", "Agency", 0.20, ("ministry",), 1.2, 1.5),
    "institute": Tier(
        "research_institute", "agency", "Institute", 0.35, ("agency", "ministry"), 1, 1
    ),
    "instrument": Tier("funding_instrument", "agency", "Programme", 0.10, ("agency",), 0.5, 1),
}
FIXED_WEIGHTS = {"head": (0.5, 2), "legislature": (2, 2), "cabinet": (3, 2), "council": (6, 6)}
FIXED_WEIGHTS |= {"ministry": (3, 4), "budget": (2, 3), "advisory": (4, 2), "legcom": (3, 2)}

AFFAIRS = ("administrative", "technical", "budgetary")
POWERS_BY_LEVEL = {
    "head": ("decide", "appoint", "coordinate"),
    "supra_ministerial": ("coordinate", "decide", "evaluate", "allocate", "report"),
    "ministerial": ("implement", "allocate", "coordinate", "report"),
    "agency": ("implement", "allocate", "evaluate", "report"),
    "advisory": ("advise", "evaluate"),
    "legislative": ("allocate", "evaluate", "decide"),
}
EXPERTS = ("expert_academia", "expert_industry", "academy_president")
OTHER_RELATIONS = ("supports", "advises", "member_of", "funds", "transfers_budget_to")


@dataclass
class Body:
    key: str
    group: str
    kind: str
    level: str
    name: str
    parent: str | None
    seats: list[dict[str, object]] = field(default_factory=list)
    mandates: list[dict[str, object]] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    decision: bool = False


def _split(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to ``weights`` that add up to exactly ``total``."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    counts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _make_bodies(n_bodies: int, rng: random.Random) -> tuple[list[Body], list[float], list[float]]:
    bodies: list[Body] = []
    by_group: dict[str, list[str]] = {}
    seat_w: list[float] = []
    mandate_w: list[float] = []

    def add(group: str, kind: str, level: str, label: str, parents: tuple[str, ...]) -> None:
        n = len(by_group.get(group, [])) + 1
        key = group if group in ("head", "legislature", "cabinet", "budget") else f"{group}-{n}"
        pool = [k for g in parents for k in by_group.get(g, [])]
        parent = rng.choice(pool) if pool else None
        name = label if key == group else f"{label} {n}"
        bodies.append(Body(key, group, kind, level, name, parent))
        by_group.setdefault(group, []).append(key)

    for group, kind, level, label, count, parents in FIXED:
        for _ in range(count):
            add(group, kind, level, label, parents)
            seat_w.append(FIXED_WEIGHTS[group][0])
            mandate_w.append(FIXED_WEIGHTS[group][1])
    left = n_bodies - len(bodies)
    if left < 0:
        raise ValueError(f"need at least {len(bodies)} bodies")
    for (group, tier), count in zip(
        TIERS.items(), _split(left, [t.share for t in TIERS.values()]), strict=True
    ):
        for _ in range(count):
            add(group, tier.kind, tier.level, tier.label, tier.parents)
            seat_w.append(tier.seat_weight * rng.uniform(0.5, 1.5))
            mandate_w.append(tier.mandate_weight * rng.uniform(0.5, 1.5))
    return bodies, seat_w, mandate_w


def _seats(body: Body, n: int, ministries: list[str], rng: random.Random) -> None:
    for i in range(n):
        if i == 0:
            seat: dict[str, object] = {
                "role": "chair",
                "holder_type": "head_of_government" if body.level == "head" else "official",
                "title": f"Chair of {body.name}",
            }
        elif body.level in ("advisory",) or rng.random() < 0.35:
            seat = {
                "role": "member",
                "holder_type": rng.choice(EXPERTS),
                "title": f"Expert member {i}",
                "count": rng.randint(1, 4),
                "appointed_by": "chair",
                "term_years": 2,
            }
        elif rng.random() < 0.5:
            ministry = rng.choice(ministries)
            seat = {
                "role": "member",
                "holder_type": "minister",
                "title": f"Minister of {ministry}",
                "holder_body": ministry,
                "ex_officio_of": f"Minister of {ministry}",
            }
        else:
            seat = {
                "role": rng.choice(("member", "vice_chair", "secretary", "ex_officio")),
                "holder_type": rng.choice(("official", "agency_head", "budget_authority")),
                "title": f"Official {i}",
            }
        body.seats.append(seat)


def _rules(body: Body) -> None:
    if body.level not in ("head", "supra_ministerial", "advisory") or not body.seats:
        return
    counts = [
        SeatCount(str(s["role"]), str(s["holder_type"]), int(str(s.get("count", 1))))
        for s in body.seats
    ]
    members = sum(c.count for c in counts if c.role != "chair")
    for rule in (f"members <= {members + 2}", "experts >= third of members", "chair == 1"):
        if evaluate_rule(rule, counts).holds:
            body.rules.append(rule)
    body.decision = True


def _mandates(body: Body, n: int, fields: list[str], rng: random.Random) -> None:
    powers = POWERS_BY_LEVEL[body.level]
    for i in range(n):
        affair = AFFAIRS[i % 3] if body.level != "advisory" else "technical"
        power = rng.choice(powers)
        scope: object = "all" if rng.random() < 0.4 else rng.sample(fields, rng.randint(1, 3))
        mandate: dict[str, object] = {"affair": affair, "power": power, "scope": scope}
        if affair == "budgetary" and power == "allocate" and rng.random() < 0.3:
            mandate |= {"instrument": "Resource allocation policy", "binding": True}
        body.mandates.append(mandate)


def _relations(bodies: list[Body], n: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """``n`` distinct relations; ``reports_to`` always points to an earlier body (no cycles)."""
    index = {b.key: i for i, b in enumerate(bodies)}
    out: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for b in bodies:  # most bodies report to their parent
        if b.parent and len(out) < n * 0.4 and rng.random() < 0.8:
            rel = (b.key, b.parent, "reports_to")
            seen.add(rel)
            out.append(rel)
    advisory = [b.key for b in bodies if b.level == "advisory"]
    top = [b.key for b in bodies if b.level in ("head", "supra_ministerial")][:200]
    funders = [b.key for b in bodies if b.kind in ("ministry", "funding_agency", "budget_office")]
    while len(out) < n:
        roll = rng.random()
        if roll < 0.3:
            rel = (rng.choice(advisory), rng.choice(top), "advises")
        elif roll < 0.6:
            rel = (rng.choice(funders), rng.choice(bodies).key, rng.choice(("funds", "supports")))
        elif roll < 0.8:
            i, j = rng.sample(range(len(bodies)), 2)
            rel = (bodies[max(i, j)].key, bodies[min(i, j)].key, "reports_to")
        else:
            i, j = rng.sample(range(len(bodies)), 2)
            rel = (bodies[i].key, bodies[j].key, rng.choice(OTHER_RELATIONS))
        if rel[0] != rel[1] and rel not in seen:
            if rel[2] == "reports_to" and index[rel[0]] <= index[rel[1]]:
                continue
            seen.add(rel)
            out.append(rel)
    return out


def _q(value: object) -> str:
    """A YAML scalar or flow collection: JSON is valid YAML flow syntax."""
    return json.dumps(value, ensure_ascii=False)


def _flow(mapping: dict[str, object]) -> str:
    return "{" + ", ".join(f"{k}: {_q(v)}" for k, v in mapping.items()) + "}"


@dataclass(frozen=True)
class SyntheticSizes:
    bodies: int = 5000
    seats: int = 25000
    mandates: int = 15000
    relations: int = 10000
    procedures: int = 6
    code: str = "SYN"
    seed: int = 20261125


def synthetic_mechanism(sizes: SyntheticSizes, changed: frozenset[int] = frozenset()) -> str:
    """The YAML text of a synthetic mechanism; bodies whose index is in ``changed`` get a
    different description and seat title (to time a reload that touches a few bodies)."""
    rng = random.Random(sizes.seed)
    fields = [key for key, _ in FIELD_NAMES]
    bodies, seat_w, mandate_w = _make_bodies(sizes.bodies, rng)
    ministries = [b.key for b in bodies if b.kind == "ministry"]
    seat_counts = _split(sizes.seats, seat_w)
    mandate_counts = _split(sizes.mandates, mandate_w)
    for body, n_seats, n_mandates in zip(bodies, seat_counts, mandate_counts, strict=True):
        _seats(body, n_seats, ministries, rng)
        _rules(body)
        _mandates(body, n_mandates, fields, rng)
    relations = _relations(bodies, sizes.relations, rng)

    out = [
        "# Synthetic mechanism generated by benchmarks/synthetic.py (not reference data).",
        "format: stcoord-mechanism/1",
        "jurisdiction:",
        f"  code: {sizes.code}",
        "  name: Synthetia",
        "  names: {ja: シンセティア, zh: 合成国}",
        "  sources: [benchmarks/synthetic.py]",
        "fields:",
    ]
    for key, name in FIELD_NAMES:
        out.append(f"  - {{key: {key}, name: {_q(name)}, sources: [synthetic]}}")
    out.append("bodies:")
    for i, b in enumerate(bodies):
        out.append(f"  - key: {b.key}")
        out.append(f"    name: {_q(b.name)}")
        if i % 3 == 0:
            out.append(
                f"    names: {{ja: {_q(b.name + '（日本語）')}, zh: {_q(b.name + '（中文）')}}}"
            )
        out.append(f"    kind: {b.kind}")
        out.append(f"    level: {b.level}")
        if b.parent:
            out.append(f"    parent: {b.parent}")
        out.append(f"    established: {2000 + i % 25}-0{1 + i % 9}-1{i % 10}")
        out.append(f"    legal_basis: {_q(f'Act No. {i} on {b.name}')}")
        description = f"{b.name}: a {b.kind.replace('_', ' ')} at the {b.level} level."
        if i in changed:
            description += " Revised."
        out.append(f"    description: {_q(description)}")
        out.append(f"    sources: [{_q(f'https://example.org/gazette/{i}')}]")
        if b.seats:
            out.append("    seats:")
            for j, seat in enumerate(b.seats):
                if i in changed and j == 0:
                    seat = {**seat, "title": f"{seat['title']} (revised)"}
                out.append(f"      - {_flow(seat)}")
        if b.rules:
            out.append("    composition:")
            out.extend(f"      - rule: {_q(rule)}" for rule in b.rules)
        if b.decision:
            out.append("    decision: {rule: consensus_then_chair, quorum: majority of members}")
        if b.mandates:
            out.append("    mandates:")
            out.extend(f"      - {_flow(m)}" for m in b.mandates)
    out.append("relations:")
    for src, dst, kind in relations:
        out.append(f"  - {{from: {src}, to: {dst}, type: {kind}}}")
    out.append("procedures:")
    councils = [b.key for b in bodies if b.kind == "council"]
    committees = [b.key for b in bodies if b.kind == "committee"]
    for p in range(sizes.procedures):
        field_keys = [fields[p % len(fields)]]
        out.append(f"  - key: plan-{p + 1}")
        out.append(f"    name: {_q(f'Strategic plan {p + 1}')}")
        out.append(f"    fields: {_q(field_keys)}")
        out.append("    stages:")
        actor = councils[p % len(councils)]
        stages = [
            ("consult", "Consultation", committees[p % len(committees)], ["rfi", "academia"]),
            ("draft", "Interagency draft", actor, ["interagency"]),
            ("advise", "Advisory opinion", actor, ["advisory"]),
            ("comment", "Public comment", actor, ["public_comment"]),
            ("decide", "Decision", actor, []),
        ]
        for key, name, who, channels in stages:
            part = ministries[p % len(ministries) : p % len(ministries) + 3]
            out.append(
                f"      - {{key: {key}, name: {_q(name)}, actor: {who}, "
                f"participants: {_q(part)}, channels: {_q(channels)}}}"
            )
    return "\n".join(out) + "\n"


def changed_indexes(sizes: SyntheticSizes, fraction: float) -> frozenset[int]:
    """A deterministic ``fraction`` of the body indexes, spread over the file."""
    n = max(1, round(sizes.bodies * fraction))
    step = sizes.bodies / n
    return frozenset(int(i * step) for i in range(n))
