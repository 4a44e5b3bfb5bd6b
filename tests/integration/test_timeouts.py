"""Timeouts and task cancellation: the query is cancelled on the server, the connection lives."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

import pgwire

SLOW = "SELECT pg_sleep(30)"


@pytest.fixture
async def observer(dsn: str) -> AsyncIterator[pgwire.Connection]:
    """A second connection, to look at the first one from outside."""
    conn = await pgwire.connect(dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def backend_query(observer: pgwire.Connection, pid: int) -> tuple[str, str]:
    """(state, query) of the backend ``pid`` as pg_stat_activity shows it."""
    row = await observer.fetchrow("SELECT state, query FROM pg_stat_activity WHERE pid = $1", pid)
    assert row is not None
    return row["state"], row["query"]


async def assert_not_running_slow_query(observer: pgwire.Connection, pid: int) -> None:
    """The backend stops the slow query soon: the timed-out call raises first and the
    CancelRequest follows in the background."""
    for _ in range(100):
        state, query = await backend_query(observer, pid)
        if not (state == "active" and query == SLOW):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(("still running", state, query))


async def assert_usable(conn: pgwire.Connection) -> None:
    assert await conn.fetchval("SELECT $1::int", 12345) == 12345
    assert not conn.is_in_transaction()


# ---------------------------------------------------------------- timeouts


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.fetchval(SLOW, timeout=0.2), id="fetchval"),
        pytest.param(lambda c: c.fetch(SLOW, timeout=0.2), id="fetch"),
        pytest.param(lambda c: c.fetchrow(SLOW, timeout=0.2), id="fetchrow"),
        pytest.param(lambda c: c.execute(SLOW, timeout=0.2), id="execute-simple"),
        pytest.param(
            lambda c: c.execute("SELECT pg_sleep($1)", 30.0, timeout=0.2), id="execute-args"
        ),
        pytest.param(
            lambda c: c.executemany("SELECT pg_sleep($1)", [(30.0,)], timeout=0.2),
            id="executemany",
        ),
    ],
)
async def test_per_call_timeout_raises_timeout_error_quickly(
    conn: pgwire.Connection, call: object
) -> None:
    started = time.monotonic()

    with pytest.raises(asyncio.TimeoutError):
        await call(conn)  # type: ignore[operator]

    assert time.monotonic() - started < 3
    await assert_usable(conn)


async def test_timed_out_query_is_cancelled_on_the_server(
    conn: pgwire.Connection, observer: pgwire.Connection
) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await conn.fetchval(SLOW, timeout=0.2)

    await assert_not_running_slow_query(observer, conn.get_server_pid())


async def test_command_timeout_applies_to_every_call(dsn: str) -> None:
    conn = await pgwire.connect(dsn, command_timeout=0.2)
    try:
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await conn.fetchval(SLOW)
        assert time.monotonic() - started < 3
        await assert_usable(conn)
    finally:
        await conn.close()


async def test_per_call_timeout_overrides_command_timeout(dsn: str) -> None:
    conn = await pgwire.connect(dsn, command_timeout=0.1)
    try:
        assert await conn.fetchval("SELECT 1 FROM pg_sleep(0.3)", timeout=5) == 1
    finally:
        await conn.close()


async def test_prepared_statement_timeout(conn: pgwire.Connection) -> None:
    stmt = await conn.prepare("SELECT pg_sleep($1)")

    with pytest.raises(asyncio.TimeoutError):
        await stmt.fetchval(30.0, timeout=0.2)

    await assert_usable(conn)


async def test_timeout_inside_a_transaction_leaves_it_failed_not_broken(
    conn: pgwire.Connection,
) -> None:
    async with conn.transaction():
        with pytest.raises(asyncio.TimeoutError):
            await conn.fetchval(SLOW, timeout=0.2)
        with pytest.raises(pgwire.InFailedSQLTransactionError):
            await conn.fetchval("SELECT 1")

    await assert_usable(conn)


@pytest.mark.parametrize("bad", ["1", True, float("nan")])
async def test_invalid_timeout_is_a_value_error(conn: pgwire.Connection, bad: object) -> None:
    with pytest.raises(ValueError, match="invalid timeout value"):
        await conn.fetchval("SELECT 1", timeout=bad)  # type: ignore[arg-type]
    await assert_usable(conn)


@pytest.mark.parametrize("past", [0, -1])
async def test_timeout_of_zero_or_less_raises_timeout_error_before_sending_as_asyncpg(
    conn: pgwire.Connection, past: float
) -> None:
    await conn.execute("CREATE TEMP TABLE past_deadline (a int)")
    with pytest.raises(asyncio.TimeoutError):
        await conn.execute("INSERT INTO past_deadline VALUES (1)", timeout=past)
    with pytest.raises(asyncio.TimeoutError):
        await conn.fetchval("INSERT INTO past_deadline VALUES ($1) RETURNING a", 2, timeout=past)
    await assert_usable(conn)
    assert await conn.fetchval("SELECT count(*) FROM past_deadline") == 0


@pytest.mark.parametrize("bad", [-1, 0, "x", True])
async def test_invalid_command_timeout_is_a_value_error(dsn: str, bad: object) -> None:
    with pytest.raises(ValueError, match="invalid command_timeout value"):
        await pgwire.connect(dsn, command_timeout=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, "x", 1.5j])
async def test_invalid_statement_cache_size_is_a_value_error(dsn: str, bad: object) -> None:
    with pytest.raises(ValueError, match="statement_cache_size"):
        await pgwire.connect(dsn, statement_cache_size=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["x", None, float("nan")])
async def test_invalid_connect_timeout_is_a_value_error(dsn: str, bad: object) -> None:
    with pytest.raises(ValueError, match="invalid timeout"):
        await pgwire.connect(dsn, timeout=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("past", [0, -1])
async def test_connect_timeout_of_zero_or_less_raises_timeout_error_as_asyncpg(
    dsn: str, past: float
) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await pgwire.connect(dsn, timeout=past)


async def test_timeout_while_waiting_for_another_task_leaves_that_task_alone(
    conn: pgwire.Connection,
) -> None:
    first = asyncio.create_task(conn.fetchval("SELECT 1 FROM pg_sleep(0.4)"))
    await asyncio.sleep(0.05)

    with pytest.raises(asyncio.TimeoutError):
        await conn.fetchval("SELECT 2", timeout=0.1)

    assert await first == 1
    await assert_usable(conn)


# ---------------------------------------------------------------- cancellation


@pytest.mark.parametrize("delay", [0, 0.001, 0.005, 0.02, 0.1])
async def test_cancelled_task_leaves_the_connection_usable(
    conn: pgwire.Connection, delay: float
) -> None:
    task = asyncio.create_task(conn.fetchval(SLOW))
    await asyncio.sleep(delay)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    await assert_usable(conn)


async def test_cancelled_task_query_is_cancelled_on_the_server(
    conn: pgwire.Connection, observer: pgwire.Connection
) -> None:
    task = asyncio.create_task(conn.fetchval(SLOW))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await conn.fetchval("SELECT 'next'") == "next"
    await assert_not_running_slow_query(observer, conn.get_server_pid())


async def test_next_query_after_cancellation_gets_its_own_rows(conn: pgwire.Connection) -> None:
    for i in range(20):
        task = asyncio.create_task(conn.fetch("SELECT generate_series(1, 1000) AS n"))
        for _ in range(i % 4):
            await asyncio.sleep(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

        assert await conn.fetchval("SELECT $1::int", i) == i


async def test_cancelling_a_task_waiting_behind_another_does_not_disturb_it(
    conn: pgwire.Connection,
) -> None:
    first = asyncio.create_task(conn.fetchval("SELECT 1 FROM pg_sleep(0.2)"))
    await asyncio.sleep(0.02)
    second = asyncio.create_task(conn.fetchval("SELECT 2"))
    await asyncio.sleep(0.02)

    second.cancel()

    assert await first == 1
    with pytest.raises(asyncio.CancelledError):
        await second
    await assert_usable(conn)


async def test_wait_for_around_a_query_behaves_like_a_timeout(conn: pgwire.Connection) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(conn.fetchval(SLOW), 0.1)

    await assert_usable(conn)


async def test_concurrent_tasks_all_succeed_while_one_times_out(
    conn: pgwire.Connection,
) -> None:
    slow = asyncio.create_task(conn.fetchval(SLOW, timeout=0.2))
    fast = [asyncio.create_task(conn.fetchval("SELECT $1::int", i)) for i in range(10)]

    with pytest.raises(asyncio.TimeoutError):
        await slow
    assert await asyncio.gather(*fast) == list(range(10))
