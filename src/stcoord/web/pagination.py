"""Pagination, sorting and filtering shared by every list in the API and the pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from stcoord.errors import ValidationFailed

T = TypeVar("T")
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int
    sort: str | None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    sort: Annotated[str | None, Query(description="Column; prefix - for descending.")] = None,
) -> PageParams:
    return PageParams(limit, offset, sort)


def sort_rows(rows: Sequence[T], sort: str | None, keys: dict[str, Callable[[T], Any]]) -> list[T]:
    """Sort in memory by a named column (``-name`` descending); unknown columns are an error."""
    if not sort:
        return list(rows)
    name = sort.lstrip("-")
    if name not in keys:
        raise ValidationFailed([("sort", f"unknown column {name!r}; use one of {sorted(keys)}")])
    key = keys[name]
    return sorted(rows, key=lambda r: (key(r) is None, key(r) or ""), reverse=sort.startswith("-"))


def slice_page(rows: Sequence[T], params: PageParams) -> tuple[list[T], int]:
    return list(rows[params.offset : params.offset + params.limit]), len(rows)
