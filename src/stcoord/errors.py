"""Errors services raise for a client's mistake; every interface maps them to a clear message
(the API to a 4xx with a machine-readable body)."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class Conflict(ServiceError):
    """A stale write or a duplicate; ``current`` carries the state the client should see."""

    status_code = 409
    code = "conflict"

    def __init__(self, message: str, current: Any = None) -> None:
        super().__init__(message)
        self.current = current

    def as_dict(self) -> dict[str, Any]:
        body = super().as_dict()
        if self.current is not None:
            body["error"]["current"] = self.current
        return body


class ValidationFailed(ServiceError):
    """Input that breaks rules; each problem names its location."""

    status_code = 422
    code = "validation_failed"

    def __init__(self, problems: list[tuple[str, str]] | list[dict[str, Any]]) -> None:
        details = [p if isinstance(p, dict) else {"path": p[0], "message": p[1]} for p in problems]
        text = "; ".join(f"{d.get('path', '')}: {d['message']}" for d in details)
        super().__init__(f"invalid input: {text}", details)
