"""Rendering server-side pages: one Jinja environment, per-request language and user."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2_fragments.fastapi import Jinja2Blocks

from stcoord.auth.permissions import Actor, allowed
from stcoord.web.dependencies import csrf_token
from stcoord.web.i18n import LANGUAGES, local_name, translations

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Blocks(directory=str(TEMPLATES_DIR))
templates.env.globals["LANGUAGES"] = LANGUAGES


def url_with(request: Request, **changes: Any) -> str:
    """The current URL with some query parameters replaced (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return f"{request.url.path}?{query}" if query else request.url.path


class _LazyToken:
    """The session's CSRF token, made only when a template prints it: a page without a form
    then sets no session cookie (signing one cost about a third of an anonymous page's CPU in
    benchmarks/bench_serving.py)."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def __str__(self) -> str:
        return csrf_token(self.request)

    def __html__(self) -> str:
        return str(self)


def flash_from(request: Request, flashes: Mapping[str, str], lang: str) -> str | None:
    """The one-off message a redirect left in the session (popped), translated into ``lang``."""
    if "session" not in request.scope:
        return None
    message = flashes.get(request.session.pop("flash", None) or "")
    return translations(lang).gettext(message) if message else None


def render(
    request: Request,
    template: str,
    *,
    actor: Actor,
    lang: str,
    status_code: int = 200,
    block_name: str | None = None,
    **context: Any,
) -> HTMLResponse:
    trans = translations(lang)
    base = {
        "request": request,
        "actor": actor,
        "lang": lang,
        "_": trans.gettext,
        "ngettext": trans.ngettext,
        "name_in": lambda obj: local_name(obj, lang),
        "can": lambda action: allowed(actor, action),
        "csrf_token": _LazyToken(request),
        "url_with": lambda **kw: url_with(request, **kw),
    }
    response = templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code, block_name=block_name
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax")
    assert isinstance(response, HTMLResponse)
    return response


class PageRenderer:
    """A domain's page renderer: :func:`render` with the one-off message a redirect left (from
    the domain's ``flashes``) and the domain's template helpers for the language."""

    def __init__(
        self,
        flashes: Mapping[str, str],
        helpers: Callable[[str], Mapping[str, Any]] | None = None,
    ) -> None:
        self.flashes = flashes
        self.helpers = helpers

    def __call__(
        self, request: Request, template: str, *, actor: Actor, lang: str, **context: Any
    ) -> HTMLResponse:
        """:func:`render`; ``context`` holds its ``status_code`` and ``block_name`` too."""
        flash = flash_from(request, self.flashes, lang)
        extra = self.helpers(lang) if self.helpers is not None else {}
        return render(request, template, actor=actor, lang=lang, flash=flash, **extra, **context)
