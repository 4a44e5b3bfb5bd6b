"""User code that must type-check under ``mypy --strict`` (checked by test_public_typing.py).

Never executed: it only states, through ``assert_type``, what the public API's
annotations promise to users.
"""

from __future__ import annotations

import sys
from typing import Any

import pgwire

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type


async def records(conn: pgwire.Connection) -> None:
    rows = await conn.fetch("SELECT 1 AS id, 'a' AS name")
    assert_type(rows, list[pgwire.Record])
    record = rows[0]
    user_id: int = record["id"]
    assert_type(record["name"], Any)
    assert_type(record[0], Any)
    assert_type(record[0:2], tuple[Any, ...])
    assert_type(record.get("missing", 0), Any)
    assert_type(dict(record), dict[str, Any])
    for key, value in record.items():
        assert_type(key, str)
        assert_type(value, Any)
    assert_type(list(record.keys()), list[str])
    first = await conn.fetchrow("SELECT 1 AS id")
    assert_type(first, pgwire.Record | None)
    if first is not None:
        user_id = first["id"]
    print(user_id)


async def queries(conn: pgwire.Connection) -> None:
    assert_type(await conn.execute("SELECT 1"), str)
    assert_type(await conn.fetchval("SELECT 1"), Any)
    statement = await conn.prepare("SELECT $1::int AS n")
    assert_type(statement, pgwire.PreparedStatement)
    assert_type(await statement.fetch(1), list[pgwire.Record])
    async with conn.transaction():
        await conn.executemany("SELECT $1", [(1,), (2,)])


async def pools(dsn: str) -> None:
    async with pgwire.create_pool(dsn, min_size=1, max_size=2) as pool:
        async with pool.acquire() as conn:
            row = await conn.fetchrow("SELECT 1 AS id")
            if row is not None:
                print(row["id"])
        assert_type(await pool.fetchval("SELECT 1"), Any)
