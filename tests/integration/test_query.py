"""Running queries: execute, executemany, fetch*, record classes, arguments, listeners."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import pgwire


class MyRecord(pgwire.Record):
    """A user record class; it must be honoured wherever records are built."""

    def upper_name(self) -> str:
        return str(self["name"]).upper()


@pytest.fixture
async def users(conn: pgwire.Connection) -> pgwire.Connection:
    """``conn`` with a temporary ``users`` table holding alice, bob and carol."""
    await conn.execute(
        "CREATE TEMP TABLE users (id int PRIMARY KEY, name text NOT NULL);"
        "INSERT INTO users VALUES (1, 'alice'), (2, 'bob'), (3, 'carol')"
    )
    return conn


# ---------------------------------------------------------------- execute


@pytest.mark.parametrize(
    ("sql", "status"),
    [
        ("INSERT INTO users VALUES (4, 'dave')", "INSERT 0 1"),
        ("UPDATE users SET name = upper(name) WHERE id < 3", "UPDATE 2"),
        ("DELETE FROM users", "DELETE 3"),
        ("SELECT * FROM users", "SELECT 3"),
        ("CREATE TEMP TABLE other (x int)", "CREATE TABLE"),
        ("SET search_path = public", "SET"),
    ],
)
async def test_execute_returns_the_status_tag(
    users: pgwire.Connection, sql: str, status: str
) -> None:
    assert await users.execute(sql) == status


async def test_execute_runs_several_statements_and_returns_the_last_tag(
    conn: pgwire.Connection,
) -> None:
    status = await conn.execute(
        "CREATE TEMP TABLE t (x int); INSERT INTO t VALUES (1), (2); UPDATE t SET x = x + 1"
    )

    assert status == "UPDATE 2"
    assert await conn.fetchval("SELECT sum(x) FROM t") == 5


async def test_execute_with_arguments_returns_the_status_tag(users: pgwire.Connection) -> None:
    assert await users.execute("DELETE FROM users WHERE id > $1", 1) == "DELETE 2"


async def test_execute_with_arguments_refuses_several_statements(
    conn: pgwire.Connection,
) -> None:
    with pytest.raises(pgwire.PostgresSyntaxError):
        await conn.execute("SELECT $1::int; SELECT 2", 1)


async def test_execute_of_an_empty_query(conn: pgwire.Connection) -> None:
    assert await conn.execute("") == ""


# ---------------------------------------------------------------- executemany


async def test_executemany_runs_once_per_argument_set(users: pgwire.Connection) -> None:
    result = await users.executemany(
        "INSERT INTO users VALUES ($1, $2)", [(10, "x"), (11, "y"), (12, "z")]
    )

    assert result is None
    assert await users.fetchval("SELECT count(*) FROM users") == 6


async def test_executemany_accepts_a_generator(users: pgwire.Connection) -> None:
    await users.executemany(
        "INSERT INTO users VALUES ($1, $2)", ((i, f"u{i}") for i in range(20, 25))
    )

    assert await users.fetchval("SELECT count(*) FROM users WHERE id >= 20") == 5


async def test_executemany_with_no_argument_sets_does_nothing(users: pgwire.Connection) -> None:
    await users.executemany("INSERT INTO users VALUES ($1, $2)", [])

    assert await users.fetchval("SELECT count(*) FROM users") == 3


async def test_executemany_is_atomic_a_failing_row_rolls_back_all(
    users: pgwire.Connection,
) -> None:
    with pytest.raises(pgwire.UniqueViolationError):
        await users.executemany(
            "INSERT INTO users VALUES ($1, $2)", [(10, "x"), (1, "duplicate"), (11, "y")]
        )

    assert await users.fetchval("SELECT count(*) FROM users") == 3
    assert not users.is_in_transaction()


async def test_executemany_bad_argument_sends_nothing(users: pgwire.Connection) -> None:
    with pytest.raises(pgwire.DataError, match=r"\$1"):
        await users.executemany("INSERT INTO users VALUES ($1, $2)", [(10, "x"), ("ten", "y")])

    assert await users.fetchval("SELECT count(*) FROM users") == 3


# ---------------------------------------------------------------- fetch*


async def test_fetch_returns_every_row_as_a_record(users: pgwire.Connection) -> None:
    rows = await users.fetch("SELECT id, name FROM users ORDER BY id")

    assert [tuple(r) for r in rows] == [(1, "alice"), (2, "bob"), (3, "carol")]
    assert all(isinstance(r, pgwire.Record) for r in rows)
    assert rows[0]["name"] == "alice" and rows[0][0] == 1


async def test_fetch_of_no_rows_is_an_empty_list(users: pgwire.Connection) -> None:
    assert await users.fetch("SELECT * FROM users WHERE id < 0") == []


async def test_fetch_with_arguments(users: pgwire.Connection) -> None:
    rows = await users.fetch("SELECT name FROM users WHERE id = ANY($1) ORDER BY id", [1, 3])

    assert [r["name"] for r in rows] == ["alice", "carol"]


async def test_fetch_of_a_statement_without_result_is_an_empty_list(
    users: pgwire.Connection,
) -> None:
    assert await users.fetch("UPDATE users SET name = name") == []


async def test_fetchrow_returns_the_first_row(users: pgwire.Connection) -> None:
    row = await users.fetchrow("SELECT id, name FROM users ORDER BY id DESC")

    assert row is not None and dict(row) == {"id": 3, "name": "carol"}


async def test_fetchrow_of_no_rows_is_none(users: pgwire.Connection) -> None:
    assert await users.fetchrow("SELECT * FROM users WHERE id < 0") is None


async def test_fetchval_returns_the_first_column_of_the_first_row(
    users: pgwire.Connection,
) -> None:
    assert await users.fetchval("SELECT id, name FROM users ORDER BY id") == 1


async def test_fetchval_column_picks_another_column(users: pgwire.Connection) -> None:
    assert await users.fetchval("SELECT id, name FROM users ORDER BY id", column=1) == "alice"


async def test_fetchval_column_out_of_range_raises_index_error(conn: pgwire.Connection) -> None:
    with pytest.raises(IndexError):
        await conn.fetchval("SELECT 1", column=5)


async def test_fetchval_of_no_rows_is_none(users: pgwire.Connection) -> None:
    assert await users.fetchval("SELECT id FROM users WHERE id < 0") is None


async def test_fetchval_of_sql_null_is_none(conn: pgwire.Connection) -> None:
    assert await conn.fetchval("SELECT NULL::int") is None


async def test_fetchmany_returns_the_rows_of_every_execution(conn: pgwire.Connection) -> None:
    rows = await conn.fetchmany("SELECT $1::int * 10 AS x", [(1,), (2,), (3,)])

    assert [r["x"] for r in rows] == [10, 20, 30]


async def test_fetchmany_with_returning(users: pgwire.Connection) -> None:
    rows = await users.fetchmany(
        "INSERT INTO users VALUES ($1, $2) RETURNING id", [(7, "g"), (8, "h")]
    )

    assert [r["id"] for r in rows] == [7, 8]


async def test_duplicate_column_names_are_kept(conn: pgwire.Connection) -> None:
    row = await conn.fetchrow("SELECT 1 AS a, 2 AS a")

    assert row is not None and len(row) == 2 and row["a"] == 2


# ---------------------------------------------------------------- record_class


async def test_record_class_per_call_is_honoured(users: pgwire.Connection) -> None:
    rows = await users.fetch("SELECT name FROM users ORDER BY id", record_class=MyRecord)
    row = await users.fetchrow("SELECT name FROM users", record_class=MyRecord)

    assert type(rows[0]) is MyRecord and rows[0].upper_name() == "ALICE"
    assert type(row) is MyRecord


async def test_record_class_of_the_connection_is_the_default(dsn: str) -> None:
    conn = await pgwire.connect(dsn, record_class=MyRecord)
    try:
        row = await conn.fetchrow("SELECT 'x' AS name")
        assert type(row) is MyRecord and row.upper_name() == "X"
    finally:
        await conn.close()


async def test_record_class_of_fetchmany_is_honoured(conn: pgwire.Connection) -> None:
    rows = await conn.fetchmany("SELECT $1::text AS name", [("a",)], record_class=MyRecord)

    assert type(rows[0]) is MyRecord


@pytest.mark.parametrize("bad", [dict, tuple, "Record", None.__class__])
async def test_record_class_that_is_not_a_record_is_an_interface_error(
    conn: pgwire.Connection, bad: Any
) -> None:
    with pytest.raises(pgwire.InterfaceError):
        await conn.fetch("SELECT 1", record_class=bad)

    assert await conn.fetchval("SELECT 1") == 1


async def test_record_class_redefining_init_is_an_interface_error(dsn: str) -> None:
    class WithInit(pgwire.Record):
        def __init__(self) -> None:
            pass

    with pytest.raises(pgwire.InterfaceError):
        await pgwire.connect(dsn, record_class=WithInit)


async def test_record_class_at_connect_that_is_not_a_record_is_an_interface_error(
    dsn: str,
) -> None:
    with pytest.raises(pgwire.InterfaceError):
        await pgwire.connect(dsn, record_class=dict)  # type: ignore[arg-type]


# ---------------------------------------------------------------- arguments


async def test_wrong_argument_count_is_an_interface_error_naming_both_counts(
    conn: pgwire.Connection,
) -> None:
    with pytest.raises(pgwire.InterfaceError, match=r"expects 2 arguments.*1 was passed"):
        await conn.fetchval("SELECT $1::int + $2::int", 1)

    assert await conn.fetchval("SELECT $1::int + $2::int", 1, 2) == 3


async def test_arguments_to_a_query_without_parameters_are_an_interface_error(
    conn: pgwire.Connection,
) -> None:
    with pytest.raises(pgwire.InterfaceError, match=r"expects 0 arguments.*1 was passed"):
        await conn.fetchval("SELECT 1", 1)


async def test_wrong_argument_type_is_a_data_error_naming_position_and_type(
    conn: pgwire.Connection,
) -> None:
    with pytest.raises(pgwire.DataError, match=r"\$2") as info:
        await conn.fetchval("SELECT $1::int + $2::int", 1, "two")

    assert "int4" in str(info.value)
    assert await conn.fetchval("SELECT 40 + $1::int", 2) == 42


async def test_wrong_argument_type_outside_a_transaction_leaves_none_open(
    conn: pgwire.Connection,
) -> None:
    with pytest.raises(pgwire.DataError):
        await conn.execute("SELECT $1::int", object())

    assert not conn.is_in_transaction()


async def test_non_string_query_is_an_interface_error(conn: pgwire.Connection) -> None:
    with pytest.raises(pgwire.InterfaceError):
        await conn.fetch(b"SELECT 1")  # type: ignore[arg-type]


# ---------------------------------------------------------------- concurrency


async def test_concurrent_tasks_on_one_connection_all_get_their_own_results(
    conn: pgwire.Connection,
) -> None:
    results = await asyncio.gather(*(conn.fetchval("SELECT $1::int * 2", i) for i in range(50)))

    assert results == [i * 2 for i in range(50)]


async def test_a_failing_task_among_concurrent_ones_fails_alone(conn: pgwire.Connection) -> None:
    results = await asyncio.gather(
        conn.fetchval("SELECT 1"),
        conn.fetchval("SELECT 1/0"),
        conn.fetch("SELECT generate_series(1, 3) AS n"),
        return_exceptions=True,
    )

    assert results[0] == 1
    assert isinstance(results[1], pgwire.DivisionByZeroError)
    assert [r["n"] for r in results[2]] == [1, 2, 3]  # type: ignore[union-attr]


# ---------------------------------------------------------------- listeners


async def test_notices_reach_log_listeners(conn: pgwire.Connection) -> None:
    received: asyncio.Queue[tuple[Any, Any]] = asyncio.Queue()
    conn.add_log_listener(lambda c, message: received.put_nowait((c, message)))

    await conn.execute("DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$")

    source, message = await asyncio.wait_for(received.get(), 2)
    assert source is conn
    assert isinstance(message, pgwire.PostgresLogMessage)
    assert message.message == "hello 42"
    assert message.severity == "NOTICE"


async def test_warnings_reach_log_listeners_as_postgres_warning(conn: pgwire.Connection) -> None:
    received: asyncio.Queue[Any] = asyncio.Queue()
    conn.add_log_listener(lambda c, message: received.put_nowait(message))

    await conn.execute("DO $$ BEGIN RAISE WARNING 'careful'; END $$")

    message = await asyncio.wait_for(received.get(), 2)
    assert isinstance(message, pgwire.PostgresWarning)
    assert message.message == "careful"


async def test_removed_log_listener_is_not_called(conn: pgwire.Connection) -> None:
    calls: list[Any] = []

    def listener(c: Any, message: Any) -> None:
        calls.append(message)

    conn.add_log_listener(listener)
    conn.remove_log_listener(listener)

    await conn.execute("DO $$ BEGIN RAISE NOTICE 'unheard'; END $$")
    await asyncio.sleep(0.05)

    assert calls == []


async def test_notify_reaches_the_channel_listener(dsn: str, conn: pgwire.Connection) -> None:
    received: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
    await conn.add_listener("events", lambda *args: received.put_nowait(args))

    sender = await pgwire.connect(dsn)
    try:
        await sender.execute("""NOTIFY events, '{"id": 42}'""")
        source, pid, channel, payload = await asyncio.wait_for(received.get(), 2)
    finally:
        await sender.close()

    assert source is conn
    assert pid == sender.get_server_pid()
    assert (channel, payload) == ("events", '{"id": 42}')


async def test_async_listener_callbacks_are_awaited(conn: pgwire.Connection) -> None:
    done = asyncio.Event()

    async def listener(*args: Any) -> None:
        await asyncio.sleep(0)
        done.set()

    await conn.add_listener("async_events", listener)
    await conn.execute("NOTIFY async_events")

    await asyncio.wait_for(done.wait(), 2)


async def test_channel_names_are_case_sensitive_identifiers(conn: pgwire.Connection) -> None:
    received: asyncio.Queue[str] = asyncio.Queue()
    await conn.add_listener("Mixed Case", lambda c, pid, ch, payload: received.put_nowait(ch))

    await conn.execute("""NOTIFY "Mixed Case", 'x'""")

    assert await asyncio.wait_for(received.get(), 2) == "Mixed Case"


async def test_remove_listener_unlistens_the_channel(conn: pgwire.Connection) -> None:
    def listener(*args: Any) -> None:
        pass

    await conn.add_listener("gone", listener)
    await conn.remove_listener("gone", listener)

    assert await conn.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
