"""The baseline for bench_serving.py: bare Starlette routes running the app's queries in Core.

No FastAPI, no ORM, no dependencies, sessions, permissions or response models: each route opens
a connection, runs the same SQL statements as the service it mirrors, and returns JSON of the
same shape. The statements mirror:

* ``GET /bare/mechanisms``: ``institutions.service.list_jurisdictions`` (six grouped counts and
  the jurisdiction rows), paged like ``/api/v1/mechanisms``;
* ``GET /bare/mechanisms/{code}/bodies``: ``institutions.service.list_bodies`` (jurisdiction id,
  total count, then the page with the parent's key and the seat total, which the API's response
  model leaves out, so it is left out here too).

Run by bench_serving.py as
``uvicorn --app-dir benchmarks bare_starlette:create_app --factory`` with
``STCOORD_DATABASE_URL`` set; it only reads.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Engine, MetaData, Table, create_engine, event, func, select
from sqlalchemy.engine import Connection
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def make_engine(url: str) -> Engine:
    """A plain engine; SQLite gets the same connection pragmas as the app's engine."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if not url.startswith("sqlite"):
        return create_engine(url)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


class Queries:
    """The reflected tables and the two read queries."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        meta = MetaData()
        names = ["jurisdiction", "body", "seat", "mandate", "relation"]
        meta.reflect(engine, only=[*names, "strategic_field", "procedure_template"])
        self.t: dict[str, Table] = dict(meta.tables)

    def _counts(self, conn: Connection, name: str, via_body: bool) -> dict[int, int]:
        table, body = self.t[name], self.t["body"]
        if via_body:
            stmt = (
                select(body.c.jurisdiction_id, func.count(table.c.id))
                .join(body, body.c.id == table.c.body_id)
                .group_by(body.c.jurisdiction_id)
            )
        else:
            stmt = select(table.c.jurisdiction_id, func.count(table.c.id)).group_by(
                table.c.jurisdiction_id
            )
        return {jid: n for jid, n in conn.execute(stmt).all()}

    def jurisdictions(self) -> list[dict[str, Any]]:
        j = self.t["jurisdiction"]
        with self.engine.connect() as conn:
            counts = {
                "bodies": self._counts(conn, "body", False),
                "seats": self._counts(conn, "seat", True),
                "mandates": self._counts(conn, "mandate", True),
                "relations": self._counts(conn, "relation", False),
                "fields": self._counts(conn, "strategic_field", False),
                "procedures": self._counts(conn, "procedure_template", False),
            }
            rows = conn.execute(select(j.c.id, j.c.code, j.c.name, j.c.names).order_by(j.c.code))
            return [
                {
                    "code": r.code,
                    "name": r.name,
                    "names": r.names,
                    **{what: by_id.get(r.id, 0) for what, by_id in counts.items()},
                }
                for r in rows
            ]

    def bodies(self, code: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int] | None:
        j, b, s = self.t["jurisdiction"], self.t["body"], self.t["seat"]
        parent = b.alias("parent")
        with self.engine.connect() as conn:
            jid = conn.scalar(select(j.c.id).where(j.c.code == code.upper()))
            if jid is None:
                return None
            seats = (
                select(func.coalesce(func.sum(s.c.count), 0))
                .where(s.c.body_id == b.c.id)
                .scalar_subquery()
            )
            stmt = (
                select(b, parent.c.key.label("parent_key"), seats.label("seat_total"))
                .outerjoin(parent, parent.c.id == b.c.parent_id)
                .where(b.c.jurisdiction_id == jid)
            )
            total = conn.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            page = conn.execute(
                stmt.order_by(b.c.position, b.c.id).limit(limit).offset(offset)
            ).all()
        items = [
            {
                "key": r.key,
                "name": r.name,
                "short_name": r.short_name,
                "names": r.names,
                "kind": r.kind,
                "level": r.level,
                "parent": r.parent_key,
                "established": r.established,
                "abolished": r.abolished,
                "unverified": r.unverified,
                "version": r.version,
            }
            for r in page
        ]
        return items, total


def create_app() -> Starlette:
    queries = Queries(make_engine(os.environ["STCOORD_DATABASE_URL"]))

    def mechanisms(request: Request) -> JSONResponse:
        limit = int(request.query_params.get("limit", 50))
        offset = int(request.query_params.get("offset", 0))
        rows = queries.jurisdictions()
        page = rows[offset : offset + limit]
        return JSONResponse({"items": page, "total": len(rows), "limit": limit, "offset": offset})

    def bodies(request: Request) -> JSONResponse:
        limit = int(request.query_params.get("limit", 50))
        offset = int(request.query_params.get("offset", 0))
        found = queries.bodies(request.path_params["code"], limit, offset)
        if found is None:
            return JSONResponse({"error": {"code": "not_found"}}, status_code=404)
        items, total = found
        return JSONResponse({"items": items, "total": total, "limit": limit, "offset": offset})

    # Plain ``def`` endpoints: Starlette runs them in its thread pool, as FastAPI does the app's.
    return Starlette(
        routes=[
            Route("/bare/mechanisms", mechanisms),
            Route("/bare/mechanisms/{code}/bodies", bodies),
        ]
    )
