"""The seed document's COPY and cursor examples, written as it writes them, on pgwire.

Only the surrounding set-up (tables, the CSV file, the pool) is added; the
example bodies are copied unchanged, with ``import pgwire as asyncpg``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import pgwire as asyncpg


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[Any]:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await conn.execute(
                "DROP TABLE IF EXISTS users, big_table, huge_table;"
                "CREATE TABLE users (id int, name text);"
                "CREATE TABLE big_table AS SELECT i AS id FROM generate_series(1, 1000) i;"
                "CREATE TABLE huge_table AS SELECT i AS id FROM generate_series(1, 12000) i;"
            )
        yield pool
        async with pool.acquire() as conn:
            await conn.execute("DROP TABLE users, big_table, huge_table")
    finally:
        await pool.close()


async def test_import_from_a_file_like_object(
    pool: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("users.csv").write_text("id,name\n1,Alice\n2,Bob\n")

    # fmt: off
    # Import from a file-like object
    async with pool.acquire() as conn:
        result = await conn.copy_to_table(
            'users',
            source=open('users.csv', 'rb'),
            format='csv',
            header=True
        )
        print(f"Imported {result} rows")
    # fmt: on

    assert capsys.readouterr().out == "Imported COPY 2 rows\n"


async def test_copy_from_python_records(pool: Any) -> None:
    async with pool.acquire() as conn:
        # fmt: off
        # Copy from Python records
        records = [(1, 'Alice'), (2, 'Bob'), (3, 'Charlie')]
        await conn.copy_records_to_table(
            'users',
            records=records,
            columns=['id', 'name']
        )
        # fmt: on

        assert await conn.fetchval("SELECT string_agg(name, ',' ORDER BY id) FROM users") == (
            "Alice,Bob,Charlie"
        )


async def test_streaming_with_a_server_side_cursor(pool: Any) -> None:
    seen: list[Any] = []
    process = seen.append

    # fmt: off
    async with pool.acquire() as conn:
        async with conn.transaction():
            async for record in conn.cursor("SELECT * FROM big_table"):
                process(record)
    # fmt: on

    assert [r["id"] for r in seen] == list(range(1, 1001))


async def test_large_result_sets_with_prefetch(pool: Any) -> None:
    seen: list[Any] = []
    process_batch = seen.append

    async with pool.acquire() as conn:
        # fmt: off
        async with conn.transaction():
            async for batch in conn.cursor(
                "SELECT * FROM huge_table",
                prefetch=5000
            ):
                process_batch(batch)
        # fmt: on

    # As with asyncpg, each item is one record; prefetch sets the rows per round trip.
    assert len(seen) == 12000
    assert seen[-1]["id"] == 12000
