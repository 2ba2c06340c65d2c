"""Route rules and fixture objects for the advisory routes (merged into ``RULES``)."""

from __future__ import annotations

from stcoord.db.session import Database
from tests.meta.route_rule import Rule

RULES: dict[tuple[str, str], Rule] = {}


def setup(db: Database) -> None:
    """Create the objects the sample requests above refer to (runs after the plan fixture)."""
