"""Forms on server-side pages: the posted fields, a refused form (why, and what was typed), and
one write posted from a form: on success a flash message and a redirect (post/redirect/get), on a
refusal a rollback and the page shown again with the reasons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from stcoord.errors import Conflict, NotFound, ServiceError, ValidationFailed

T = TypeVar("T")
R = TypeVar("R", bound="Refusal")


async def form_data(request: Request) -> FormData:
    """The posted form (parsed once; the CSRF check has read it already)."""
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]


def form_text(form: FormData, name: str) -> str:
    """A posted text field, stripped; "" when missing or a file."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class Refusal:
    """A refused form: why, which form (on a page with several), and what was typed (shown
    again in the form)."""

    error: ServiceError
    form: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return self.error.status_code

    @property
    def message(self) -> str:
        return self.error.message

    @property
    def problems(self) -> list[dict[str, Any]]:
        """Each problem with where it is (``path``, ``message``)."""
        return list(self.error.details)

    @property
    def conflict(self) -> bool:
        return isinstance(self.error, Conflict)


def refused(
    session: Session, error: ServiceError, form: str = "", values: dict[str, Any] | None = None
) -> Refusal:
    """Roll back the refused write (nothing of a refused form may be committed) and say why."""
    session.rollback()
    return Refusal(error, form, {} if values is None else values)


def redirect_with_flash(request: Request, url: str, flash: str) -> RedirectResponse:
    """See ``url`` next, with a one-off message (a key of the domain's flashes)."""
    request.session["flash"] = flash
    return RedirectResponse(url, status_code=303)


REFUSED: tuple[type[ServiceError], ...] = (ValidationFailed, Conflict, NotFound)


def post_form(
    request: Request,
    session: Session,
    *,
    form: str,
    values: dict[str, Any],
    write: Callable[[], T],
    flash: str | Callable[[T], str],
    redirect: str | Callable[[T], str],
    rerender: Callable[[R], Response],
    refusal: Callable[[ServiceError, str, dict[str, Any]], R],
    refuse: tuple[type[ServiceError], ...] = REFUSED,
) -> Response:
    """Run one write from a form. On one of the ``refuse`` errors roll back and show the page
    again (``rerender``) with the reasons and what was typed (a ``refusal``: :class:`Refusal` or
    a domain's subclass of it); otherwise flash and redirect (both may depend on what the write
    returned)."""
    try:
        result = write()
    except refuse as exc:
        session.rollback()
        return rerender(refusal(exc, form, values))
    message = flash(result) if callable(flash) else flash
    target = redirect(result) if callable(redirect) else redirect
    return redirect_with_flash(request, target, message)
