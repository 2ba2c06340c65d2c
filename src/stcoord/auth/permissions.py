"""The one permission choke point.

Every read of protected rows goes through :func:`restrict`, every write starts with
:func:`require`. The policy is one table (:data:`POLICY`): action -> role -> scope, where a
scope is ``ALL`` or ``OWN_BODIES`` (a liaison's bodies) or ``OWN_RECORDS`` (the actor's own).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Select, false

log = logging.getLogger("stcoord.auth.denied")


class Role(StrEnum):
    admin = "admin"
    coordinator = "coordinator"
    liaison = "liaison"
    advisor = "advisor"
    stakeholder = "stakeholder"
    viewer = "viewer"
    anonymous = "anonymous"


class Scope(StrEnum):
    ALL = "all"
    OWN_BODIES = "own_bodies"
    OWN_RECORDS = "own_records"


EVERYONE: dict[Role, Scope] = {role: Scope.ALL for role in Role}
SIGNED_IN: dict[Role, Scope] = {role: Scope.ALL for role in Role if role is not Role.anonymous}

# Everyone signed in can read the changes they made; the central office reads all of them.
AUDIT_READERS: dict[Role, Scope] = {
    role: Scope.ALL if role in (Role.admin, Role.coordinator) else Scope.OWN_RECORDS
    for role in Role
    if role is not Role.anonymous
}

POLICY: dict[str, dict[Role, Scope]] = {
    "mechanism.read": EVERYONE,
    "mechanism.write": {Role.admin: Scope.ALL, Role.coordinator: Scope.ALL},
    "body.write": {
        Role.admin: Scope.ALL,
        Role.coordinator: Scope.ALL,
        Role.liaison: Scope.OWN_BODIES,
    },
    "audit.read": AUDIT_READERS,
    "user.manage": {Role.admin: Scope.ALL},
    "user.read": {Role.admin: Scope.ALL, Role.coordinator: Scope.ALL},
    "token.manage": SIGNED_IN,
    "plan.read": EVERYONE,
    # Budget lines are internal working data: the office and its advisers see all of them,
    # a liaison sees and submits only the agency it represents.
    "budget.read": {
        Role.admin: Scope.ALL,
        Role.coordinator: Scope.ALL,
        Role.advisor: Scope.ALL,
        Role.viewer: Scope.ALL,
        Role.liaison: Scope.OWN_BODIES,
    },
    "budget.submit": {
        Role.admin: Scope.ALL,
        Role.coordinator: Scope.ALL,
        Role.liaison: Scope.OWN_BODIES,
    },
    "budget.manage": {Role.admin: Scope.ALL, Role.coordinator: Scope.ALL},
    "plan.manage": {Role.admin: Scope.ALL, Role.coordinator: Scope.ALL},
    "task.report": {
        Role.admin: Scope.ALL,
        Role.coordinator: Scope.ALL,
        Role.liaison: Scope.OWN_BODIES,
    },
    # Advisory reports are public; an advisor files and edits the reports and recommendations
    # of the advisory bodies they sit on (their user body scopes, as for liaisons); the office
    # records the government's responses, statuses and links to plan tasks.
    "advisory.read": EVERYONE,
    "advisory.write": {
        Role.admin: Scope.ALL,
        Role.coordinator: Scope.ALL,
        Role.advisor: Scope.OWN_BODIES,
    },
    "advisory.respond": {Role.admin: Scope.ALL, Role.coordinator: Scope.ALL},
    # Consultations: anyone reads them; every signed-in person takes part with their own input
    # only (the office may record input on someone's behalf, e.g. a letter or an import);
    # the office runs them, moderates, answers every comment and watches the live dashboard.
    "consultation.read": EVERYONE,
    "consultation.participate": {
        role: Scope.ALL if role in (Role.admin, Role.coordinator) else Scope.OWN_RECORDS
        for role in Role
        if role is not Role.anonymous
    },
    "consultation.manage": {Role.admin: Scope.ALL, Role.coordinator: Scope.ALL},
    "consultation.moderate": {Role.admin: Scope.ALL, Role.coordinator: Scope.ALL},
    "consultation.answer": {Role.admin: Scope.ALL, Role.coordinator: Scope.ALL},
    "consultation.office": {
        Role.admin: Scope.ALL,
        Role.coordinator: Scope.ALL,
        Role.advisor: Scope.ALL,
    },
    # Portfolio screening (docs/portfolio.md): the office imports, screens, assigns pairs and
    # sets the concurrent-funding threshold; advisers and viewers read everything; a reviewer
    # (an advisor) adjudicates only the pairs assigned to them (OWN_RECORDS: a pair's actor_id
    # is its assignee). Liaisons and stakeholders do not see other agencies' projects.
    "portfolio.read": {
        Role.admin: Scope.ALL,
        Role.coordinator: Scope.ALL,
        Role.advisor: Scope.ALL,
        Role.viewer: Scope.ALL,
    },
    "portfolio.import": {Role.admin: Scope.ALL, Role.coordinator: Scope.ALL},
    "portfolio.screen": {Role.admin: Scope.ALL, Role.coordinator: Scope.ALL},
    "portfolio.manage": {Role.admin: Scope.ALL, Role.coordinator: Scope.ALL},
    "portfolio.adjudicate": {
        Role.admin: Scope.ALL,
        Role.coordinator: Scope.ALL,
        Role.advisor: Scope.OWN_RECORDS,
    },
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, the anonymous public, or the system (seed, migrations)."""

    username: str
    role: Role
    user_id: int | None = None
    body_ids: frozenset[int] = field(default_factory=frozenset)
    request_id: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.role is Role.anonymous


ANONYMOUS = Actor(username="anonymous", role=Role.anonymous)
SYSTEM = Actor(username="system", role=Role.admin)


class PermissionDenied(Exception):
    """The actor may not do this; ``action`` names what was refused."""

    def __init__(self, actor: Actor, action: str, detail: str = "") -> None:
        self.actor = actor
        self.action = action
        message = f"{actor.username} ({actor.role}) may not {action}"
        super().__init__(f"{message}: {detail}" if detail else message)


def scope_of(actor: Actor, action: str) -> Scope | None:
    """The scope in which ``actor`` may perform ``action``, or None."""
    if action not in POLICY:
        raise KeyError(f"unknown action {action!r}: add it to POLICY")
    return POLICY[action].get(actor.role)


def allowed(actor: Actor, action: str) -> bool:
    return scope_of(actor, action) is not None


def permits(actor: Actor, action: str, obj: Any = None) -> bool:
    """Whether ``actor`` may do ``action`` on ``obj`` (to decide what to offer; logs nothing)."""
    scope = scope_of(actor, action)
    return scope is not None and _in_scope(actor, scope, obj)


def require(actor: Actor, action: str, obj: Any = None) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` may do ``action`` on ``obj``.

    ``obj`` matters for scoped roles: a liaison may change a body only if it is one of theirs.
    Every refusal is logged.
    """
    if not permits(actor, action, obj):
        target = getattr(obj, "key", None) or getattr(obj, "id", None) or ""
        log.warning(
            "denied action=%s actor=%s role=%s target=%s request=%s",
            action,
            actor.username,
            actor.role,
            target,
            actor.request_id,
        )
        raise PermissionDenied(actor, action, f"{type(obj).__name__} {target}" if obj else "")


def _in_scope(actor: Actor, scope: Scope, obj: Any) -> bool:
    if scope is Scope.ALL or obj is None:
        return True
    if scope is Scope.OWN_BODIES:
        return bool(_body_ids_of(obj) & actor.body_ids)
    if scope is Scope.OWN_RECORDS:
        return getattr(obj, "actor_id", None) == actor.user_id is not None
    return False


def _body_ids_of(obj: Any) -> set[int]:
    """The bodies an object belongs to: a body itself, or what it names as responsible."""
    if type(obj).__name__ == "Body":
        return {int(obj.id)}
    if hasattr(obj, "responsible_body_ids"):
        return set(obj.responsible_body_ids)
    body_id = getattr(obj, "body_id", None)
    return {body_id} if body_id is not None else set()


S = TypeVar("S", bound=Select[Any])


def restrict(stmt: S, actor: Actor, action: str, model: Any) -> S:
    """Narrow a ``select()`` over ``model`` to the rows ``actor`` may ``action``."""
    scope = scope_of(actor, action)
    if scope is None:
        return stmt.where(false())
    if scope is Scope.OWN_BODIES:
        ids = sorted(actor.body_ids)
        if hasattr(model, "in_bodies"):  # models with several responsible bodies say how
            return stmt.where(model.in_bodies(ids))
        column = model.id if model.__name__ == "Body" else model.body_id
        return stmt.where(column.in_(ids))
    if scope is Scope.OWN_RECORDS:
        return stmt.where(model.actor_id == actor.user_id)
    return stmt
