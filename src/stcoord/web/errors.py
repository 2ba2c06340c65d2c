"""The JSON error bodies of service errors and refused permissions, shared by the app's error
handlers (``web/app.py``) and the vote fast path (``web/vote_fastpath.py``)."""

from __future__ import annotations

from typing import Any

from stcoord.auth.permissions import PermissionDenied
from stcoord.errors import ServiceError


def error_response_body(exc: Exception, rid: str) -> tuple[int, dict[str, Any]]:
    """Status and body for a ServiceError or PermissionDenied (401 when nobody signed in)."""
    if isinstance(exc, ServiceError):
        status, body = exc.status_code, exc.as_dict()
    elif isinstance(exc, PermissionDenied):
        code = "unauthenticated" if exc.actor.is_anonymous else "forbidden"
        status, body = (
            (401 if exc.actor.is_anonymous else 403),
            {"error": {"code": code, "message": str(exc)}},
        )
    else:
        raise TypeError(f"not an error with a response body: {exc!r}")
    body["error"].setdefault("request_id", rid)
    return status, body
