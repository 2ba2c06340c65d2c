"""JSON routes for accounts and API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from stcoord.auth import service
from stcoord.auth.permissions import Role, require
from stcoord.web.dependencies import CurrentActor, DbSession, check_csrf

router = APIRouter(tags=["accounts"], dependencies=[Depends(check_csrf)])


class MeRead(BaseModel):
    username: str
    role: str
    body_ids: list[int]
    authenticated: bool


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=80)
    password: str
    role: Role
    display_name: str = ""
    body_ids: list[int] = Field(default_factory=list)


class UserRead(BaseModel):
    username: str
    display_name: str
    role: str
    is_active: bool
    body_ids: list[int]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)


class TokenRead(BaseModel):
    id: int
    name: str
    token: str = Field(description="Shown once; store it safely.")


@router.get("/me", response_model=MeRead)
def me(actor: CurrentActor) -> dict[str, Any]:
    return {
        "username": actor.username,
        "role": actor.role.value,
        "body_ids": sorted(actor.body_ids),
        "authenticated": not actor.is_anonymous,
    }


@router.get("/users", response_model=list[UserRead])
def list_users(session: DbSession, actor: CurrentActor) -> list[dict[str, Any]]:
    return [service.user_snapshot(u) for u in service.list_users(session, actor)]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(data: UserCreate, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    require(actor, "user.manage")
    user = service.create_user(
        session,
        actor,
        username=data.username,
        password=data.password,
        role=data.role,
        display_name=data.display_name,
        body_ids=data.body_ids,
    )
    return service.user_snapshot(user)


@router.post("/tokens", response_model=TokenRead, status_code=201)
def create_token(data: TokenCreate, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    issued = service.create_token(session, actor, name=data.name)
    return {"id": issued.id, "name": issued.name, "token": issued.token}


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, session: DbSession, actor: CurrentActor) -> None:
    service.revoke_token(session, actor, token_id=token_id)
