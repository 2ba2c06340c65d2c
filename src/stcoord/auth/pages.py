"""Login and logout pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stcoord.auth.service import authenticate
from stcoord.web.dependencies import CurrentActor, DbSession, Language, check_csrf
from stcoord.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect a freshly signed-in user to another site.
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, actor: CurrentActor, lang: Language, next: str | None = None
) -> Response:
    return render(request, "login.html", actor=actor, lang=lang, next=_safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    lang: Language,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    user = authenticate(session, username, password)
    if user is None:
        return render(
            request,
            "login.html",
            actor=actor,
            lang=lang,
            next=_safe_next(next),
            error="bad_credentials",
            status_code=401,
        )
    request.session.clear()
    request.session["user_id"] = user.id
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/", status_code=303)
