"""API shapes of the mechanism registry (kept apart from the ORM models)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JurisdictionSummaryRead(BaseModel):
    code: str
    name: str
    names: dict[str, str]
    bodies: int
    seats: int
    mandates: int
    relations: int
    fields: int
    procedures: int


class BodySummaryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    name: str
    short_name: str | None
    names: dict[str, str]
    kind: str
    level: str
    parent: str | None = None
    established: str | None
    abolished: str | None
    unverified: bool
    version: int


class RelationRead(BaseModel):
    type: str
    from_body: str
    to_body: str
    description: str | None


class BodyDetailRead(BaseModel):
    jurisdiction: str
    body: dict[str, Any]
    version: int
    outgoing: list[RelationRead]
    incoming: list[RelationRead]
    children: list[str]


class BodyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(description="The version you edited; a stale one is a 409 conflict.")
    name: str | None = None
    short_name: str | None = None
    names: dict[str, str] | None = None
    legal_basis: str | None = None
    description: str | None = None
    note: str | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"version"})


class LoadResultRead(BaseModel):
    code: str
    created: bool
    changed: bool
    bodies_added: list[str]
    bodies_removed: list[str]
    bodies_changed: list[str]
