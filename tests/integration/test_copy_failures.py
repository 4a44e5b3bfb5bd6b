"""COPY FROM STDIN ended by the client: CopyFail always goes out, the session survives.

Also: the statement ``copy_records_to_table`` prepares to learn the column types does
not stay on the server when the statement cache is off, and a column type without a
binary encoder is refused with asyncpg's exception class.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

import pgwire

_ids = itertools.count()


@pytest.fixture
async def table(conn: pgwire.Connection) -> AsyncIterator[str]:
    name = f"copy_fail_{next(_ids)}"
    await conn.execute(f"CREATE TABLE {name} (id int)")
    yield name
    await conn.execute(f"DROP TABLE IF EXISTS {name}")


class UnprintableError(Exception):
    """An exception whose ``__str__`` itself raises."""

    def __str__(self) -> str:
        raise RuntimeError("__str__ failed")


def failing_records(exc: BaseException) -> Any:
    async def records() -> AsyncIterator[tuple[int]]:
        yield (1,)
        raise exc

    return records()


async def test_exception_whose_str_raises_still_ends_copy_with_copyfail(
    conn: pgwire.Connection, table: str
) -> None:
    with pytest.raises(UnprintableError):
        await conn.copy_records_to_table(table, records=failing_records(UnprintableError()))
    assert await asyncio.wait_for(conn.fetchval(f"SELECT count(*) FROM {table}"), 10) == 0
    assert not conn.is_in_transaction()


async def test_exception_with_10kb_message_ends_copy_and_keeps_the_connection(
    conn: pgwire.Connection, table: str
) -> None:
    with pytest.raises(ValueError, match="^x{10000}$"):
        await conn.copy_records_to_table(table, records=failing_records(ValueError("x" * 10000)))
    assert not conn.is_closed()
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0


async def test_copy_source_failing_with_10kb_multibyte_message_keeps_the_connection(
    conn: pgwire.Connection, table: str
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"1\n"
        raise ValueError("é" * 6000)

    with pytest.raises(ValueError):
        await conn.copy_to_table(table, source=chunks())
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0


async def test_copy_records_leaves_no_prepared_statement_without_statement_cache(
    dsn: str,
) -> None:
    conn = await pgwire.connect(dsn, statement_cache_size=0)
    try:
        await conn.execute("CREATE TEMP TABLE no_cache (id int)")
        for i in range(3):
            await conn.copy_records_to_table("no_cache", records=[(i,)])
        names = await conn.fetch(
            "SELECT statement FROM pg_prepared_statements"
            " WHERE statement LIKE '%no_cache%' AND statement NOT LIKE '%pg_prepared%'"
        )
        assert names == []
        assert await conn.fetchval("SELECT count(*) FROM no_cache") == 3
    finally:
        await conn.close()


async def test_copy_from_query_with_arguments_leaves_no_prepared_statement_without_cache(
    dsn: str,
) -> None:
    conn = await pgwire.connect(dsn, statement_cache_size=0)
    try:
        for _ in range(3):
            await conn.copy_from_query("SELECT $1::int AS marker_q", 7, output=lambda _: None)
        statements = await conn.fetch(
            "SELECT statement FROM pg_prepared_statements"
            " WHERE statement LIKE '%marker_q%' AND statement NOT LIKE '%pg_prepared%'"
        )
        assert statements == []
    finally:
        await conn.close()


async def test_copy_records_into_type_without_binary_encoder_raises_internal_client_error(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE tsv (a tsvector)")
    with pytest.raises(pgwire.InternalClientError, match=r"no binary format encoder.*tsvector"):
        await conn.copy_records_to_table("tsv", records=[("a b",)])
    assert await conn.fetchval("SELECT count(*) FROM tsv") == 0
