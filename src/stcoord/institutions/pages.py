"""HTML pages of the mechanism registry."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from stcoord.institutions import service
from stcoord.web.dependencies import CurrentActor, DbSession, Language, check_csrf
from stcoord.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, session: DbSession, actor: CurrentActor, lang: Language) -> Response:
    rows = service.list_jurisdictions(session, actor)
    return render(request, "index.html", actor=actor, lang=lang, jurisdictions=rows)
