"""Server errors become the right exception classes; a dead session is reported as closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import pgwire

CONNECTION_GONE = (pgwire.ConnectionDoesNotExistError, pgwire.AdminShutdownError)


@pytest.fixture
async def schema(conn: pgwire.Connection) -> pgwire.Connection:
    await conn.execute(
        """
        CREATE TEMP TABLE parents (id int PRIMARY KEY);
        CREATE TEMP TABLE children (
            id int PRIMARY KEY,
            parent_id int REFERENCES parents (id),
            name text NOT NULL,
            age int CONSTRAINT age_positive CHECK (age > 0)
        );
        INSERT INTO parents VALUES (1);
        INSERT INTO children VALUES (1, 1, 'kid', 5);
        """
    )
    return conn


@pytest.fixture
async def observer(dsn: str) -> AsyncIterator[pgwire.Connection]:
    conn = await pgwire.connect(dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def assert_usable(conn: pgwire.Connection) -> None:
    assert await conn.fetchval("SELECT $1::text", "still here") == "still here"


# ---------------------------------------------------------------- error classes


async def test_unique_violation(schema: pgwire.Connection) -> None:
    with pytest.raises(pgwire.UniqueViolationError) as info:
        await schema.execute("INSERT INTO children VALUES (1, 1, 'twin', 5)")

    err = info.value
    assert err.sqlstate == "23505"
    assert err.constraint_name == "children_pkey"
    assert err.table_name == "children"
    assert err.detail == "Key (id)=(1) already exists."
    assert "already exists" in str(err)  # the detail is part of the text
    await assert_usable(schema)


async def test_foreign_key_violation(schema: pgwire.Connection) -> None:
    with pytest.raises(pgwire.ForeignKeyViolationError) as info:
        await schema.execute("INSERT INTO children VALUES ($1, $2, 'orphan', 1)", 2, 99)

    assert info.value.sqlstate == "23503"
    assert info.value.constraint_name == "children_parent_id_fkey"


async def test_not_null_violation_names_the_column(schema: pgwire.Connection) -> None:
    with pytest.raises(pgwire.NotNullViolationError) as info:
        await schema.execute("INSERT INTO children (id) VALUES (3)")

    assert info.value.column_name == "name"


async def test_check_violation_names_the_constraint(schema: pgwire.Connection) -> None:
    with pytest.raises(pgwire.CheckViolationError) as info:
        await schema.execute("INSERT INTO children VALUES (4, 1, 'x', -1)")

    assert info.value.constraint_name == "age_positive"


async def test_integrity_errors_share_a_base_class(schema: pgwire.Connection) -> None:
    with pytest.raises(pgwire.IntegrityConstraintViolationError):
        await schema.execute("INSERT INTO children VALUES (1, 1, 'twin', 5)")


async def test_undefined_table(conn: pgwire.Connection) -> None:
    with pytest.raises(pgwire.UndefinedTableError) as info:
        await conn.fetch("SELECT * FROM no_such_table")

    assert info.value.sqlstate == "42P01"
    assert info.value.message == 'relation "no_such_table" does not exist'
    assert info.value.position == "15"


async def test_syntax_error_reports_position_and_query(conn: pgwire.Connection) -> None:
    with pytest.raises(pgwire.PostgresSyntaxError) as info:
        await conn.execute("SELEC 1")

    assert info.value.sqlstate == "42601"
    assert info.value.position == "1"
    assert info.value.query == "SELEC 1"
    await assert_usable(conn)


async def test_error_from_plpgsql_carries_detail_hint_and_custom_sqlstate(
    conn: pgwire.Connection,
) -> None:
    with pytest.raises(pgwire.RaiseError) as info:
        await conn.execute(
            "DO $$ BEGIN RAISE EXCEPTION 'custom failure' "
            "USING DETAIL = 'some detail', HINT = 'some hint', ERRCODE = 'P0001'; END $$"
        )

    err = info.value
    assert (err.message, err.detail, err.hint) == ("custom failure", "some detail", "some hint")
    assert "PL/pgSQL" in err.context
    assert err.as_dict()["hint"] == "some hint"


async def test_error_with_a_user_defined_sqlstate_is_unknown_postgres_error(
    conn: pgwire.Connection,
) -> None:
    with pytest.raises(pgwire.PostgresError) as info:
        await conn.execute("DO $$ BEGIN RAISE EXCEPTION 'odd' USING ERRCODE = 'XY123'; END $$")

    assert info.value.sqlstate == "XY123"


async def test_division_by_zero_in_fetch_leaves_the_connection_usable(
    conn: pgwire.Connection,
) -> None:
    with pytest.raises(pgwire.DivisionByZeroError):
        await conn.fetch("SELECT 1 / 0")

    await assert_usable(conn)


async def test_error_in_the_middle_of_a_result_discards_the_rows(conn: pgwire.Connection) -> None:
    with pytest.raises(pgwire.DivisionByZeroError):
        await conn.fetch("SELECT 10 / (3 - n) FROM generate_series(1, 5) n")

    assert await conn.fetch("SELECT 1 AS x") == [(1,)]


async def test_invalid_text_representation_from_the_server(conn: pgwire.Connection) -> None:
    with pytest.raises(pgwire.InvalidTextRepresentationError):
        await conn.fetchval("SELECT 'abc'::int")


async def test_query_canceled_by_statement_timeout(conn: pgwire.Connection) -> None:
    await conn.execute("SET statement_timeout = 50")

    with pytest.raises(pgwire.QueryCanceledError):
        await conn.execute("SELECT pg_sleep(5)")

    await conn.execute("RESET statement_timeout")
    await assert_usable(conn)


# ---------------------------------------------------------------- the session dies


async def test_terminated_backend_makes_the_next_call_fail_and_closes(
    dsn: str, observer: pgwire.Connection
) -> None:
    conn = await pgwire.connect(dsn)
    closed = asyncio.Event()
    conn.add_termination_listener(lambda c: closed.set())

    assert await observer.fetchval("SELECT pg_terminate_backend($1)", conn.get_server_pid())
    await asyncio.wait_for(closed.wait(), 5)

    assert conn.is_closed()
    # asyncpg raises InterfaceError("connection is closed") once it knows.
    with pytest.raises((*CONNECTION_GONE, pgwire.InterfaceError)):
        await conn.fetchval("SELECT 1")


async def test_terminated_backend_fails_the_query_in_flight(
    dsn: str, observer: pgwire.Connection
) -> None:
    conn = await pgwire.connect(dsn)
    task = asyncio.create_task(conn.fetchval("SELECT pg_sleep(30)"))
    await asyncio.sleep(0.1)

    await observer.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())

    with pytest.raises(CONNECTION_GONE):
        await asyncio.wait_for(task, 5)
    conn.terminate()


async def test_connection_reports_closed_after_the_in_flight_query_failed(
    dsn: str, observer: pgwire.Connection
) -> None:
    conn = await pgwire.connect(dsn)
    task = asyncio.create_task(conn.fetchval("SELECT pg_sleep(30)"))
    await asyncio.sleep(0.1)
    await observer.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())
    with pytest.raises(CONNECTION_GONE):
        await asyncio.wait_for(task, 5)

    for _ in range(100):
        if conn.is_closed():
            break
        await asyncio.sleep(0.01)
    assert conn.is_closed()


async def test_pending_operations_fail_when_the_backend_is_terminated(
    dsn: str, observer: pgwire.Connection
) -> None:
    conn = await pgwire.connect(dsn)
    tasks = [asyncio.create_task(conn.fetchval("SELECT pg_sleep(30)")) for _ in range(3)]
    await asyncio.sleep(0.1)

    await observer.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())

    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
    assert all(isinstance(r, (*CONNECTION_GONE, pgwire.InterfaceError)) for r in results), results
    conn.terminate()


async def test_terminated_session_raises_connection_does_not_exist_caused_by_server_error(
    dsn: str, observer: pgwire.Connection
) -> None:
    conn = await pgwire.connect(dsn)
    task = asyncio.create_task(conn.fetchval("SELECT pg_sleep(30)"))
    await asyncio.sleep(0.1)
    await observer.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())

    with pytest.raises(pgwire.ConnectionDoesNotExistError) as info:
        await asyncio.wait_for(task, 5)
    assert "terminating connection due to administrator command" in str(info.value)
    assert isinstance(info.value.__cause__, pgwire.AdminShutdownError)
    conn.terminate()


async def test_termination_listeners_have_run_when_the_failing_call_returns(
    dsn: str, observer: pgwire.Connection
) -> None:
    conn = await pgwire.connect(dsn)
    seen: list[object] = []
    conn.add_termination_listener(seen.append)
    task = asyncio.create_task(conn.fetchval("SELECT pg_sleep(30)"))
    await asyncio.sleep(0.1)
    await observer.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())

    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await asyncio.wait_for(task, 5)
    assert seen == [conn]
    conn.terminate()
