"""HTML error pages (the API answers JSON instead)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from stcoord.auth.permissions import ANONYMOUS
from stcoord.web.dependencies import request_language
from stcoord.web.templating import render


def error_page(request: Request, status: int, error: dict[str, Any]) -> HTMLResponse:
    return render(
        request,
        "error.html",
        actor=ANONYMOUS,
        lang=request_language(request),
        status_code=status,
        status=status,
        error=error,
    )
