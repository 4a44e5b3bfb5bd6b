"""COPY TO STDOUT: ``copy_from_table`` and ``copy_from_query`` against a real server."""

from __future__ import annotations

import asyncio
import io
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from server_checks import assert_copy_stopped

import pgwire

_ids = itertools.count()


@pytest.fixture
async def users(conn: Any) -> AsyncIterator[str]:
    """A table with rows (1, 'Alice'), (2, NULL), (3, 'O''Brien, "B"')."""
    name = f"out_users_{next(_ids)}"
    await conn.execute(
        f"CREATE TABLE {name} (id int, name text);"
        f"INSERT INTO {name} VALUES (1, 'Alice'), (2, NULL), (3, 'O''Brien, \"B\"')"
    )
    yield name
    await conn.execute(f"DROP TABLE {name}")


# ---------------------------------------------------------------- outputs


async def test_output_path_receives_the_data(conn: Any, users: str, tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    result = await conn.copy_from_table(users, output=str(path))
    assert result == "COPY 3"
    assert path.read_bytes().splitlines()[:2] == [b"1\tAlice", b"2\t\\N"]


async def test_output_binary_file_object(conn: Any, users: str) -> None:
    buf = io.BytesIO()
    await conn.copy_from_table(users, output=buf, columns=["id"])
    assert buf.getvalue() == b"1\n2\n3\n"


async def test_output_file_object_with_async_write(conn: Any, users: str) -> None:
    class AsyncWriter:
        def __init__(self) -> None:
            self.data = bytearray()

        async def write(self, chunk: bytes) -> None:
            await asyncio.sleep(0)
            self.data += chunk

    writer = AsyncWriter()
    await conn.copy_from_table(users, output=writer, columns=["id"])
    assert bytes(writer.data) == b"1\n2\n3\n"


async def test_output_sync_callable(conn: Any, users: str) -> None:
    chunks: list[bytes] = []
    await conn.copy_from_table(users, output=chunks.append, columns=["id"])
    assert b"".join(chunks) == b"1\n2\n3\n"


async def test_output_coroutine_function(conn: Any, users: str) -> None:
    chunks: list[bytes] = []

    async def consume(chunk: bytes) -> None:
        chunks.append(chunk)

    await conn.copy_from_table(users, output=consume, columns=["id"])
    assert b"".join(chunks) == b"1\n2\n3\n"


async def test_output_of_unsupported_type_is_rejected(conn: Any, users: str) -> None:
    with pytest.raises(TypeError, match="output must be"):
        await conn.copy_from_table(users, output=42)


# ---------------------------------------------------------------- options


async def test_csv_with_header_quotes_where_needed(conn: Any, users: str) -> None:
    buf = io.BytesIO()
    await conn.copy_from_table(users, output=buf, format="csv", header=True)
    assert buf.getvalue() == b'id,name\n1,Alice\n2,\n3,"O\'Brien, ""B"""\n'


async def test_delimiter_null_and_force_quote_all(conn: Any, users: str) -> None:
    buf = io.BytesIO()
    await conn.copy_from_table(
        users, output=buf, format="csv", delimiter=";", null="NULL", force_quote=True
    )
    assert buf.getvalue().splitlines()[:2] == [b'"1";"Alice"', b'"2";NULL']


async def test_force_quote_columns_and_custom_quote_escape(conn: Any, users: str) -> None:
    buf = io.BytesIO()
    await conn.copy_from_table(
        users, output=buf, format="csv", quote="'", escape="\\", force_quote=["name"]
    )
    assert buf.getvalue().splitlines() == [b"1,'Alice'", b"2,", b"3,'O\\'Brien, \"B\"'"]


async def test_encoding_option_encodes_the_output(conn: Any) -> None:
    buf = io.BytesIO()
    await conn.copy_from_query("SELECT 'café'", output=buf, encoding="latin1")
    assert buf.getvalue() == "café\n".encode("latin-1")


async def test_binary_format_has_the_pgcopy_signature(conn: Any, users: str) -> None:
    buf = io.BytesIO()
    await conn.copy_from_table(users, output=buf, format="binary")
    assert buf.getvalue().startswith(b"PGCOPY\n\xff\r\n\x00")


async def test_schema_and_quoted_names(conn: Any) -> None:
    await conn.execute('CREATE SCHEMA IF NOT EXISTS "Out S"; CREATE TABLE "Out S"."A b" ("C" int)')
    await conn.execute('INSERT INTO "Out S"."A b" VALUES (9)')
    try:
        buf = io.BytesIO()
        await conn.copy_from_table("A b", schema_name="Out S", columns=["C"], output=buf)
        assert buf.getvalue() == b"9\n"
    finally:
        await conn.execute('DROP SCHEMA "Out S" CASCADE')


# ---------------------------------------------------------------- queries


async def test_query_with_arguments(conn: Any, users: str) -> None:
    buf = io.BytesIO()
    result = await conn.copy_from_query(
        f"SELECT id FROM {users} WHERE id >= $1 AND coalesce(name, '') <> $2 ORDER BY id",
        2,
        "x",
        output=buf,
    )
    assert result == "COPY 2"
    assert buf.getvalue() == b"2\n3\n"


async def test_query_arguments_are_quoted_safely(conn: Any) -> None:
    buf = io.BytesIO()
    evil = "'); DROP TABLE nothing; --"
    # "$1" inside a literal, an identifier or a comment is not a parameter.
    await conn.copy_from_query(
        "SELECT $1::text AS \"$1\", '$1' /* $1 */ -- $1\n, $2::int, $3::text",
        evil,
        None,
        "it's",
        output=buf,
    )
    assert buf.getvalue() == f"{evil}\t$1\t\\N\tit's\n".encode()


async def test_query_error_is_raised_and_connection_usable(conn: Any) -> None:
    with pytest.raises(pgwire.DivisionByZeroError):
        await conn.copy_from_query("SELECT 1/0", output=io.BytesIO())
    assert await conn.fetchval("SELECT 1") == 1


# ---------------------------------------------------------------- streaming and failures


async def test_large_output_with_a_slow_consumer_is_complete(conn: Any) -> None:
    received = 0

    async def slow(chunk: bytes) -> None:
        nonlocal received
        received += chunk.count(b"\n")
        await asyncio.sleep(0.001)

    result = await conn.copy_from_query(
        "SELECT i, repeat('x', 100) FROM generate_series(1, 200000) i", output=slow
    )
    assert result == "COPY 200000"
    assert received == 200_000


#: A COPY TO of 3 million rows that counts the rows the server produced.
COUNTED = "SELECT nextval('copy_produced') FROM generate_series(1, 3000000)"


async def test_consumer_raising_stops_the_copy(dsn: str, conn: Any) -> None:
    await conn.execute("CREATE TEMP SEQUENCE copy_produced")

    async def broken(chunk: bytes) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        await conn.copy_from_query(COUNTED, output=broken)
    await assert_copy_stopped(dsn, conn.get_server_pid())
    assert await conn.fetchval("SELECT 2") == 2
    assert await conn.fetchval("SELECT last_value FROM copy_produced") < 3_000_000


async def test_cancelling_the_task_mid_copy_stops_it_and_leaves_the_connection_usable(
    dsn: str, conn: Any
) -> None:
    await conn.execute("CREATE TEMP SEQUENCE copy_produced")
    first = asyncio.Event()

    async def stuck(chunk: bytes) -> None:
        first.set()
        await asyncio.sleep(3600)

    task = asyncio.ensure_future(conn.copy_from_query(COUNTED, output=stuck))
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await assert_copy_stopped(dsn, conn.get_server_pid())
    assert await conn.fetchval("SELECT 3") == 3
    assert await conn.fetchval("SELECT last_value FROM copy_produced") < 3_000_000


async def test_timeout_stops_a_slow_copy(dsn: str, conn: Any) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await conn.copy_from_query("SELECT pg_sleep(60)", output=io.BytesIO(), timeout=0.3)
    await assert_copy_stopped(dsn, conn.get_server_pid())
    assert await conn.fetchval("SELECT 4") == 4
