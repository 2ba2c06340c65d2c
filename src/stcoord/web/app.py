"""The FastAPI application: API under /api/v1, HTML pages, static files, error mapping."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from stcoord.auth.permissions import PermissionDenied
from stcoord.config import Settings, get_settings
from stcoord.db.session import Database, database_for
from stcoord.errors import ServiceError
from stcoord.institutions.mechanism_file import MechanismFileError
from stcoord.web.dependencies import CsrfFailed, request_id
from stcoord.web.errors import error_response_body
from stcoord.web.read_cache import ReadCache
from stcoord.web.vote_fastpath import VoteFastPath

STATIC_DIR = Path(__file__).parent / "static"
log = logging.getLogger("stcoord.web")


@contextlib.asynccontextmanager
async def freeze_startup_objects(app: FastAPI) -> AsyncIterator[None]:
    """Move what importing and building the app allocated out of the garbage collector's reach.

    Those objects (modules, routes, models: hundreds of thousands) live as long as the server,
    yet every full collection walked them all: ~100 ms stalls, landing in the middle of a burst
    of votes (benchmarks/bench_votes.py). Once per process (tests start many apps)."""
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True
    yield


_frozen = False


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the app; tests pass their own settings and database."""
    settings = settings or get_settings()
    app = FastAPI(
        title="stcoord",
        version="0.1.0",
        description="Macro-level S&T coordination: mechanisms, diagnosis, plans, budgets.",
        docs_url="/api/docs",
        swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=freeze_startup_objects,
    )
    app.state.settings = settings
    app.state.database = database or database_for(settings.database_url)
    app.state.read_cache = ReadCache() if settings.read_cache else None
    app.state.write_queue = anyio.Lock()  # SQLite writers wait here, not in worker threads
    # Added first, so it runs inside the session middleware (middleware added later is outer).
    app.add_middleware(VoteFastPath)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="stcoord_session",
        same_site="lax",
        https_only=settings.session_https_only,
    )
    _install_error_handlers(app)
    _mount_routes(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    return app


def _mount_routes(app: FastAPI) -> None:
    # First: the vote routes, the hot path of a conversation (routes are matched in order).
    from stcoord.consultation.api import vote_router as consultation_votes_api
    from stcoord.consultation.pages import vote_router as consultation_votes_pages

    app.include_router(consultation_votes_api, prefix="/api/v1")
    app.include_router(consultation_votes_pages)
    from stcoord.audit.api import router as audit_api
    from stcoord.auth.api import router as auth_api
    from stcoord.auth.pages import router as auth_pages
    from stcoord.budget.api import router as budget_api
    from stcoord.budget.pages import router as budget_pages
    from stcoord.institutions.api import router as institutions_api
    from stcoord.institutions.pages import router as institutions_pages
    from stcoord.plans.api import router as plans_api
    from stcoord.plans.pages import router as plans_pages

    for router in (institutions_api, plans_api, budget_api, auth_api, audit_api):
        app.include_router(router, prefix="/api/v1")
    for router in (institutions_pages, auth_pages, plans_pages, budget_pages):
        app.include_router(router)
    from stcoord.advisory.api import router as advisory_api
    from stcoord.advisory.pages import router as advisory_pages

    app.include_router(advisory_api, prefix="/api/v1")
    app.include_router(advisory_pages)
    from stcoord.consultation.api import router as consultation_api
    from stcoord.consultation.pages import router as consultation_pages

    app.include_router(consultation_api, prefix="/api/v1")
    app.include_router(consultation_pages)
    from stcoord.portfolio.api import router as portfolio_api
    from stcoord.portfolio.pages import router as portfolio_pages

    app.include_router(portfolio_api, prefix="/api/v1")
    app.include_router(portfolio_pages)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def _error(request: Request, status: int, body: dict[str, Any]) -> Response:
    body["error"].setdefault("request_id", request_id(request))
    if wants_json(request):
        return JSONResponse(body, status_code=status)
    from stcoord.web.error_pages import error_page

    return error_page(request, status, body["error"])


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        return _error(request, *error_response_body(exc, request_id(request)))

    @app.exception_handler(MechanismFileError)
    async def file_error(request: Request, exc: MechanismFileError) -> Response:
        details = [p.as_dict() for p in exc.problems]
        body = {"error": {"code": "invalid_file", "message": str(exc), "details": details}}
        return _error(request, 422, body)

    @app.exception_handler(PermissionDenied)
    async def denied(request: Request, exc: PermissionDenied) -> Response:
        if exc.actor.is_anonymous and not wants_json(request) and request.method == "GET":
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return _error(request, *error_response_body(exc, request_id(request)))

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        message = "missing or wrong CSRF token: reload the page and try again"
        return _error(request, 403, {"error": {"code": "csrf", "message": message}})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        body = {
            "error": {"code": "validation_failed", "message": "invalid request", "details": details}
        }
        return _error(request, 422, body)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(
            request, exc.status_code, {"error": {"code": code, "message": str(exc.detail)}}
        )
