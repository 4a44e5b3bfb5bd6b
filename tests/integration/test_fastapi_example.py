"""examples/fastapi_app.py: driven in-process through httpx's ASGI transport."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from fastapi.encoders import jsonable_encoder  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fastapi_app.py"
SCHEMA = "fastapi_example"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
async def client(dsn: str) -> AsyncIterator[Any]:
    """A client for the example app, its pool open (lifespan entered), in a private schema."""
    import pgwire

    admin = await pgwire.connect(dsn)
    await admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
    app = load_example().create_app(dsn, server_settings={"search_path": SCHEMA})
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                yield c
    finally:
        await admin.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
        await admin.close()


async def test_created_user_comes_back_as_a_json_object(client: Any) -> None:
    response = await client.post("/users", json={"name": "Ada", "email": "ada@example.org"})
    assert response.status_code == 201
    created = response.json()
    assert created["name"] == "Ada"
    assert created["email"] == "ada@example.org"
    assert isinstance(created["id"], int)
    assert isinstance(created["created_at"], str)


async def test_a_record_returned_by_a_route_serialises_to_json(client: Any) -> None:
    created = (await client.post("/users", json={"name": "Bo", "email": "bo@example.org"})).json()
    response = await client.get(f"/users/{created['id']}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == created


async def test_a_list_of_records_serialises_to_a_json_array(client: Any) -> None:
    await client.post("/users", json={"name": "Cy", "email": "cy@example.org"})
    response = await client.get("/users")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list) and body
    assert all(set(user) == {"id", "name", "email", "created_at"} for user in body)


async def test_missing_user_is_404(client: Any) -> None:
    response = await client.get("/users/999999")
    assert response.status_code == 404


async def test_duplicate_email_is_409(client: Any) -> None:
    user = {"name": "Di", "email": "di@example.org"}
    assert (await client.post("/users", json=user)).status_code == 201
    assert (await client.post("/users", json=user)).status_code == 409


async def test_jsonable_encoder_turns_a_record_into_a_dict(conn: Any) -> None:
    record = await conn.fetchrow("SELECT 1 AS id, 'x' AS name, NULL::int AS missing")
    assert jsonable_encoder(record) == {"id": 1, "name": "x", "missing": None}
