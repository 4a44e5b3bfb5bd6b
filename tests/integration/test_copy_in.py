"""COPY FROM STDIN: ``copy_to_table`` and ``copy_records_to_table`` against a real server."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import io
import itertools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from server_checks import assert_copy_stopped

import pgwire

_ids = itertools.count()


@pytest.fixture
async def users(conn: Any) -> AsyncIterator[str]:
    """A fresh ``(id int primary key, name text)`` table; its name."""
    name = f"users_{next(_ids)}"
    await conn.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, name text)")
    yield name
    await conn.execute(f"DROP TABLE IF EXISTS {name}")


async def rows(conn: Any, table: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await conn.fetch(f'SELECT * FROM "{table}" ORDER BY 1')]


# ---------------------------------------------------------------- sources


async def test_source_path_is_read_and_status_tag_returned(
    conn: Any, users: str, tmp_path: Path
) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(b"id,name\n1,Alice\n2,Bob\n")
    result = await conn.copy_to_table(users, source=str(path), format="csv", header=True)
    assert result == "COPY 2"
    assert await rows(conn, users) == [(1, "Alice"), (2, "Bob")]


async def test_source_pathlike_is_accepted(conn: Any, users: str, tmp_path: Path) -> None:
    path = tmp_path / "users.txt"
    path.write_bytes(b"1\tAlice\n")
    assert await conn.copy_to_table(users, source=path) == "COPY 1"


async def test_source_binary_file_object(conn: Any, users: str) -> None:
    result = await conn.copy_to_table(users, source=io.BytesIO(b"1\tAlice\n2\t\\N\n"))
    assert result == "COPY 2"
    assert await rows(conn, users) == [(1, "Alice"), (2, None)]


async def test_source_file_object_with_async_read(conn: Any, users: str) -> None:
    class AsyncReader:
        def __init__(self, data: bytes) -> None:
            self._buf = io.BytesIO(data)

        async def read(self, n: int) -> bytes:
            await asyncio.sleep(0)
            return self._buf.read(n)

    assert await conn.copy_to_table(users, source=AsyncReader(b"1\tA\n2\tB\n")) == "COPY 2"


async def test_source_async_iterable_of_bytes(conn: Any, users: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        # Chunk borders fall in the middle of rows: the server reassembles them.
        for part in (b"1\tAl", b"ice\n2", b"\tBob\n"):
            yield part

    assert await conn.copy_to_table(users, source=chunks()) == "COPY 2"
    assert await rows(conn, users) == [(1, "Alice"), (2, "Bob")]


async def test_source_bytes_object(conn: Any, users: str) -> None:
    assert await conn.copy_to_table(users, source=b"7\tSeven\n") == "COPY 1"


async def test_source_of_unsupported_type_is_rejected(conn: Any, users: str) -> None:
    with pytest.raises(TypeError, match="source must be"):
        await conn.copy_to_table(users, source=12345)
    assert await conn.fetchval("SELECT 1") == 1


async def test_large_source_is_streamed_completely(conn: Any, users: str) -> None:
    count = 200_000

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, count, 10_000):
            yield b"".join(b"%d\tname %d\n" % (i, i) for i in range(start, start + 10_000))

    assert await conn.copy_to_table(users, source=chunks()) == f"COPY {count}"
    assert await conn.fetchval(f"SELECT count(*) FROM {users}") == count


# ---------------------------------------------------------------- options


async def test_columns_select_a_subset(conn: Any, users: str) -> None:
    await conn.copy_to_table(users, source=b"5\n", columns=["id"])
    assert await rows(conn, users) == [(5, None)]


async def test_schema_name_qualifies_the_table(conn: Any) -> None:
    await conn.execute('CREATE SCHEMA IF NOT EXISTS "Copy Schema"')
    await conn.execute('CREATE TABLE "Copy Schema"."My Table" (v text)')
    try:
        result = await conn.copy_to_table("My Table", schema_name="Copy Schema", source=b"x\n")
        assert result == "COPY 1"
    finally:
        await conn.execute('DROP SCHEMA "Copy Schema" CASCADE')


async def test_identifiers_cannot_inject_sql(conn: Any, users: str) -> None:
    evil = f'{users}" (id) FROM STDIN; DROP TABLE {users}; --'
    with pytest.raises(pgwire.UndefinedTableError):
        await conn.copy_to_table(evil, source=b"1\n")
    with pytest.raises(pgwire.UndefinedColumnError):
        await conn.copy_to_table(users, source=b"1\n", columns=['id") FROM STDIN; --'])
    assert await conn.fetchval(f"SELECT count(*) FROM {users}") == 0


async def test_delimiter_and_null(conn: Any, users: str) -> None:
    await conn.copy_to_table(users, source=b"1|NULL\n2|Bob\n", delimiter="|", null="NULL")
    assert await rows(conn, users) == [(1, None), (2, "Bob")]


async def test_csv_quote_and_escape(conn: Any, users: str) -> None:
    data = b"1,'it!'s, quoted'\n"
    await conn.copy_to_table(users, source=data, format="csv", quote="'", escape="!")
    assert await rows(conn, users) == [(1, "it's, quoted")]


async def test_csv_force_not_null_reads_empty_as_empty_string(conn: Any, users: str) -> None:
    await conn.copy_to_table(users, source=b"1,\n", format="csv", force_not_null=["name"])
    assert await rows(conn, users) == [(1, "")]


async def test_csv_force_null_reads_quoted_empty_as_null(conn: Any, users: str) -> None:
    await conn.copy_to_table(users, source=b'1,""\n', format="csv", force_null=["name"])
    assert await rows(conn, users) == [(1, None)]


async def test_encoding_option_decodes_the_source(conn: Any, users: str) -> None:
    await conn.copy_to_table(users, source="1\tcafé\n".encode("latin-1"), encoding="latin1")
    assert await rows(conn, users) == [(1, "café")]


async def test_where_filters_rows(conn: Any, users: str) -> None:
    await conn.copy_to_table(users, source=b"1\ta\n2\tb\n3\tc\n", where="id % 2 = 1")
    assert [r[0] for r in await rows(conn, users)] == [1, 3]


async def test_freeze_in_the_transaction_that_created_the_table(conn: Any) -> None:
    async with conn.transaction():
        await conn.execute("CREATE TABLE frozen (v int)")
        assert await conn.copy_to_table("frozen", source=b"1\n", freeze=True) == "COPY 1"
    await conn.execute("DROP TABLE frozen")


async def test_binary_format_round_trips(conn: Any, users: str) -> None:
    await conn.execute(f"INSERT INTO {users} VALUES (1, 'a'), (2, NULL)")
    buf = io.BytesIO()
    await conn.copy_from_table(users, output=buf, format="binary")
    await conn.execute(f"TRUNCATE {users}")
    await conn.copy_to_table(users, source=buf.getvalue(), format="binary")
    assert await rows(conn, users) == [(1, "a"), (2, None)]


async def test_oids_option_is_passed_to_the_server(conn: Any, users: str) -> None:
    # PostgreSQL 12 removed table OIDs: the server refuses the option it receives.
    with pytest.raises(pgwire.PostgresError, match="(?i)oid"):
        await conn.copy_to_table(users, source=b"1\ta\n", oids=True)


async def test_header_match_checks_column_names(conn: Any, users: str) -> None:
    with pytest.raises(pgwire.BadCopyFileFormatError):
        await conn.copy_to_table(users, source=b"id,nom\n1,a\n", format="csv", header="match")


# ---------------------------------------------------------------- failures


async def test_constraint_violation_names_the_line_and_commits_nothing(
    conn: Any, users: str
) -> None:
    with pytest.raises(pgwire.UniqueViolationError) as info:
        await conn.copy_to_table(users, source=b"1\ta\n2\tb\n1\tc\n")
    assert "line 3" in (info.value.context or "")
    assert await rows(conn, users) == []


async def test_malformed_row_names_the_line(conn: Any, users: str) -> None:
    with pytest.raises(pgwire.InvalidTextRepresentationError) as info:
        await conn.copy_to_table(users, source=b"1\ta\nx\tb\n")
    assert "line 2" in (info.value.context or "")
    assert await conn.fetchval("SELECT 1") == 1


async def test_source_raising_aborts_the_copy_and_is_reraised(
    dsn: str, conn: Any, users: str
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"1\ta\n"
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        await conn.copy_to_table(users, source=chunks())
    await assert_copy_stopped(dsn, conn.get_server_pid())
    assert await rows(conn, users) == []
    assert await conn.fetchval("SELECT 2") == 2


async def test_cancelling_the_task_mid_copy_commits_nothing(
    dsn: str, conn: Any, users: str
) -> None:
    sent_first = asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"1\ta\n"
        sent_first.set()
        await asyncio.sleep(3600)
        yield b"2\tb\n"

    task = asyncio.ensure_future(conn.copy_to_table(users, source=chunks()))
    await sent_first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await assert_copy_stopped(dsn, conn.get_server_pid())
    assert await rows(conn, users) == []
    assert await conn.fetchval("SELECT 3") == 3


async def test_timeout_mid_copy_aborts_it(dsn: str, conn: Any, users: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"1\ta\n"
        await asyncio.sleep(3600)

    with pytest.raises(asyncio.TimeoutError):
        await conn.copy_to_table(users, source=chunks(), timeout=0.3)
    await assert_copy_stopped(dsn, conn.get_server_pid())
    assert await rows(conn, users) == []
    assert await conn.fetchval("SELECT 4") == 4


async def test_failure_inside_a_transaction_fails_the_transaction(conn: Any, users: str) -> None:
    tr = conn.transaction()
    await tr.start()
    with pytest.raises(pgwire.UniqueViolationError):
        await conn.copy_to_table(users, source=b"1\ta\n1\tb\n")
    with pytest.raises(pgwire.InFailedSQLTransactionError):
        await conn.fetchval("SELECT 1")
    await tr.rollback()
    assert await conn.fetchval("SELECT 5") == 5


# ---------------------------------------------------------------- records


async def test_records_list_with_columns(conn: Any, users: str) -> None:
    records = [(1, "Alice"), (2, "Bob"), (3, None)]
    result = await conn.copy_records_to_table(users, records=records, columns=["id", "name"])
    assert result == "COPY 3"
    assert await rows(conn, users) == [(1, "Alice"), (2, "Bob"), (3, None)]


async def test_records_generator_is_consumed_lazily(conn: Any, users: str) -> None:
    result = await conn.copy_records_to_table(
        users, records=((i, f"n{i}") for i in range(100_000))
    )
    assert result == "COPY 100000"


async def test_records_async_iterable(conn: Any, users: str) -> None:
    async def records() -> AsyncIterator[tuple[int, str]]:
        for i in range(2500):
            yield (i, str(i))

    assert await conn.copy_records_to_table(users, records=records()) == "COPY 2500"


async def test_records_with_many_types(conn: Any) -> None:
    await conn.execute(
        "CREATE TEMP TABLE typed (i bigint, t text, ts timestamptz, n numeric, "
        "u uuid, b bytea, f float8, ok bool, d date, a int[], j jsonb)"
    )
    ts = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    record = (
        2**40,
        "héllo",
        ts,
        decimal.Decimal("12345.678"),
        uuid.UUID(int=7),
        b"\x00\xff",
        1.5,
        True,
        datetime.date(2020, 1, 2),
        [1, None, 3],
        '{"a": 1}',
    )
    await conn.copy_records_to_table("typed", records=[record])
    row = await conn.fetchrow("SELECT * FROM typed")
    assert tuple(row)[:10] == record[:10]
    assert await conn.fetchval("SELECT j->>'a' FROM typed") == "1"


async def test_records_schema_and_where(conn: Any) -> None:
    await conn.execute('CREATE SCHEMA IF NOT EXISTS "Rec"; CREATE TABLE "Rec"."T t" (v int)')
    try:
        result = await conn.copy_records_to_table(
            "T t", schema_name="Rec", records=[(1,), (2,), (3,)], where="v > 1"
        )
        assert result == "COPY 2"
    finally:
        await conn.execute('DROP SCHEMA "Rec" CASCADE')


async def test_record_value_of_wrong_type_names_record_and_column(conn: Any, users: str) -> None:
    with pytest.raises(pgwire.DataError, match=r"record 1 for column 'id'"):
        await conn.copy_records_to_table(users, records=[(1, "a"), ("two", "b")])
    assert await rows(conn, users) == []
    assert await conn.fetchval("SELECT 6") == 6


async def test_record_of_wrong_length_is_rejected(conn: Any, users: str) -> None:
    with pytest.raises(pgwire.DataError, match="expected 2 values"):
        await conn.copy_records_to_table(users, records=[(1, "a", "extra")])
    assert await rows(conn, users) == []


async def test_records_constraint_violation_commits_nothing(conn: Any, users: str) -> None:
    with pytest.raises(pgwire.UniqueViolationError):
        await conn.copy_records_to_table(users, records=[(1, "a"), (1, "b")])
    assert await rows(conn, users) == []


async def test_records_unknown_column_is_reported(conn: Any, users: str) -> None:
    with pytest.raises(pgwire.UndefinedColumnError):
        await conn.copy_records_to_table(users, records=[(1,)], columns=["nope"])
