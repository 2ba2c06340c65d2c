"""One route's sample request and the action it needs, for the route x role matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    action: str | None  # None: anyone may call it
    path: dict[str, str] = field(default_factory=dict)
    query: str = ""
    json: Any = None
    content: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] | None = None
    csrf: bool = False  # a form post: send the session's CSRF token as a browser would
    expected: frozenset[int] = frozenset()  # answers that are right for this route, not refusals
