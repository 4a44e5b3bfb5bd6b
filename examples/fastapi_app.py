"""A FastAPI service on a pgwire pool: the seed's pattern with the lifespan API.

Run it with::

    pip install pgwire fastapi uvicorn
    DATABASE_URL=postgresql://user:pass@localhost/mydb uvicorn examples.fastapi_app:app

The pool opens when the application starts and closes when it stops (the
``lifespan`` context replaces the deprecated ``on_event`` hooks). Each
request borrows one connection through the ``get_db`` dependency and gives
it back when the response is sent. Routes return :class:`pgwire.Record`
objects as they are: FastAPI serialises them to JSON objects, because a
record is a mapping (``keys()`` and ``record[key]``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel

import pgwire

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@localhost/postgres")

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id serial PRIMARY KEY,
    name text NOT NULL,
    email text UNIQUE NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""


class NewUser(BaseModel):
    name: str
    email: str


async def get_db(request: Request) -> AsyncIterator[pgwire.Connection]:
    """One pooled connection for the duration of a request."""
    async with request.app.state.pool.acquire() as conn:
        yield conn


Db = Annotated[pgwire.Connection, Depends(get_db)]


def create_app(database_url: str = DATABASE_URL, **pool_options: Any) -> FastAPI:
    """The application; ``pool_options`` go to :func:`pgwire.create_pool`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await pgwire.create_pool(database_url, min_size=5, max_size=20, **pool_options)
        await pool.execute(SCHEMA)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(title="pgwire example", lifespan=lifespan)

    @app.get("/users/{user_id}", response_model=None)
    async def get_user(user_id: int, db: Db) -> pgwire.Record:
        row = await db.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
        if row is None:
            raise HTTPException(status_code=404, detail=f"no user {user_id}")
        return row

    @app.get("/users", response_model=None)
    async def list_users(db: Db, limit: int = 100) -> list[pgwire.Record]:
        return await db.fetch("SELECT * FROM users ORDER BY id LIMIT $1", limit)

    @app.post("/users", status_code=201, response_model=None)
    async def create_user(user: NewUser, db: Db) -> pgwire.Record | None:
        try:
            return await db.fetchrow(
                "INSERT INTO users (name, email) VALUES ($1, $2) RETURNING *",
                user.name,
                user.email,
            )
        except pgwire.UniqueViolationError:
            raise HTTPException(status_code=409, detail="email already registered") from None

    return app


app = create_app()
