"""Adoption of advisory recommendations: per advisory body, how many the government accepted
(fully or in part), rejected or left unanswered, and how many it has carried out to closure.

Pure computation over plain records; the advisory service gathers the records.

>>> rows = adoption_by_body([
...     Outcome("US:pcast", "accept", "fully_addressed"),
...     Outcome("US:pcast", "partly_accept", "open"),
...     Outcome("US:pcast", None, "open"),
...     Outcome("US:pcast", "reject", "open"),
... ])
>>> r = rows[0]
>>> r.total, r.accepted, r.partly_accepted, r.rejected, r.unanswered
(4, 1, 1, 1, 1)
>>> r.adoption_rate, r.acceptance_rate, r.fully_addressed_share
(0.5, 0.25, 0.25)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

POSITIONS = ("accept", "partly_accept", "reject", "under_consideration")
STATUSES = ("open", "partly_addressed", "fully_addressed")


@dataclass(frozen=True)
class Outcome:
    """One recommendation: the body that made it, the government's position and its status.

    ``position`` is None while the government has not responded.
    """

    body: str
    position: str | None
    status: str


@dataclass(frozen=True)
class BodyAdoption:
    """Counts and shares of one body's recommendations (shares of ``total``; 0 when empty)."""

    body: str
    total: int
    accepted: int
    partly_accepted: int
    rejected: int
    under_consideration: int
    unanswered: int
    open: int
    partly_addressed: int
    fully_addressed: int

    def _share(self, count: int) -> float:
        return count / self.total if self.total else 0.0

    @property
    def adoption_rate(self) -> float:
        """Share the government accepted fully or in part."""
        return self._share(self.accepted + self.partly_accepted)

    @property
    def acceptance_rate(self) -> float:
        """Share accepted in full."""
        return self._share(self.accepted)

    @property
    def partly_accepted_share(self) -> float:
        return self._share(self.partly_accepted)

    @property
    def rejected_share(self) -> float:
        return self._share(self.rejected)

    @property
    def fully_addressed_share(self) -> float:
        """Share carried out to closure."""
        return self._share(self.fully_addressed)

    @property
    def partly_addressed_share(self) -> float:
        return self._share(self.partly_addressed)

    @property
    def closure_rate(self) -> float:
        """Share addressed at least in part."""
        return self._share(self.fully_addressed + self.partly_addressed)

    def as_dict(self) -> dict[str, float | int | str]:
        """Counts and rounded shares, for JSON and tables."""
        return {
            "body": self.body,
            "total": self.total,
            "accepted": self.accepted,
            "partly_accepted": self.partly_accepted,
            "rejected": self.rejected,
            "under_consideration": self.under_consideration,
            "unanswered": self.unanswered,
            "open": self.open,
            "partly_addressed": self.partly_addressed,
            "fully_addressed": self.fully_addressed,
            "adoption_rate": round(self.adoption_rate, 4),
            "acceptance_rate": round(self.acceptance_rate, 4),
            "partly_accepted_share": round(self.partly_accepted_share, 4),
            "rejected_share": round(self.rejected_share, 4),
            "fully_addressed_share": round(self.fully_addressed_share, 4),
            "partly_addressed_share": round(self.partly_addressed_share, 4),
            "closure_rate": round(self.closure_rate, 4),
        }


def adoption_by_body(outcomes: Iterable[Outcome]) -> list[BodyAdoption]:
    """Count each body's recommendations by position and status, bodies in first-seen order.

    Unknown positions or statuses raise ``ValueError`` (they would silently vanish from the
    counts otherwise).

    >>> adoption_by_body([Outcome("XA:panel", "reject", "open")])[0].adoption_rate
    0.0
    >>> adoption_by_body([])
    []
    """
    counts: dict[str, dict[str, int]] = {}
    for o in outcomes:
        if o.position is not None and o.position not in POSITIONS:
            raise ValueError(f"unknown position {o.position!r}; use one of {POSITIONS}")
        if o.status not in STATUSES:
            raise ValueError(f"unknown status {o.status!r}; use one of {STATUSES}")
        c = counts.setdefault(o.body, dict.fromkeys((*POSITIONS, "none", *STATUSES), 0))
        c[o.position or "none"] += 1
        c[o.status] += 1
    return [
        BodyAdoption(
            body=body,
            total=sum(c[s] for s in STATUSES),
            accepted=c["accept"],
            partly_accepted=c["partly_accept"],
            rejected=c["reject"],
            under_consideration=c["under_consideration"],
            unanswered=c["none"],
            open=c["open"],
            partly_addressed=c["partly_addressed"],
            fully_addressed=c["fully_addressed"],
        )
        for body, c in counts.items()
    ]
