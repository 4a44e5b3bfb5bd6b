"""LISTEN/NOTIFY details, termination listeners and query loggers."""

from __future__ import annotations

import asyncio
import logging

import pytest

import pgwire


async def _wait_for(predicate, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def test_channel_names_with_mixed_case_and_spaces_are_quoted(dsn, conn):
    received = []
    await conn.add_listener("Mixed Case chan", lambda *a: received.append(a[2:]))
    other = await pgwire.connect(dsn)
    try:
        await other.execute("""NOTIFY "Mixed Case chan", 'hi'""")
    finally:
        await other.close()
    await _wait_for(lambda: received)
    assert received == [("Mixed Case chan", "hi")]


async def test_notifications_arriving_during_a_long_query_are_delivered(dsn, conn):
    received = []
    await conn.add_listener("during", lambda *a: received.append(a[3]))
    other = await pgwire.connect(dsn)
    try:
        sleeper = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(0.3)"))
        await asyncio.sleep(0.05)
        await other.execute("NOTIFY during, 'while busy'")
        await sleeper
    finally:
        await other.close()
    await _wait_for(lambda: received)
    assert received == ["while busy"]


async def test_a_listener_that_raises_is_logged_and_the_connection_keeps_working(
    dsn, conn, caplog
):
    def broken(*args):
        raise RuntimeError("listener bug")

    await conn.add_listener("broken", broken)
    other = await pgwire.connect(dsn)
    try:
        with caplog.at_level(logging.ERROR, logger="pgwire"):
            await other.execute("NOTIFY broken")
            await _wait_for(lambda: "listener" in caplog.text)
    finally:
        await other.close()
    assert "listener bug" in caplog.text
    assert await conn.fetchval("SELECT 1") == 1


async def test_non_callable_listener_is_an_interface_error(conn):
    with pytest.raises(pgwire.InterfaceError):
        await conn.add_listener("x", "not callable")


async def test_termination_listener_is_called_once_when_the_connection_closes(dsn):
    conn = await pgwire.connect(dsn)
    calls = []
    conn.add_termination_listener(lambda c: calls.append(c))
    await conn.close()
    await _wait_for(lambda: calls)
    assert calls == [conn]


async def test_termination_listener_sees_a_server_side_termination(dsn, conn):
    victim = await pgwire.connect(dsn)
    calls = []
    victim.add_termination_listener(lambda c: calls.append(c))
    await conn.execute("SELECT pg_terminate_backend($1)", victim.get_server_pid())
    await _wait_for(lambda: calls)
    assert victim.is_closed()


async def test_query_logger_receives_query_args_elapsed_and_exception(conn):
    logged = []
    conn.add_query_logger(logged.append)
    await conn.fetchval("SELECT $1::int", 7)
    with pytest.raises(pgwire.DivisionByZeroError):
        await conn.execute("SELECT 1/0")
    conn.remove_query_logger(logged.append)
    await conn.fetchval("SELECT 2")
    await _wait_for(lambda: len(logged) >= 2)
    await asyncio.sleep(0.05)
    assert len(logged) == 2
    ok, failed = logged
    assert (ok.query, ok.args, ok.exception) == ("SELECT $1::int", (7,), None)
    assert ok.elapsed >= 0
    assert ok.conn_addr == conn._addr
    assert isinstance(failed.exception, pgwire.DivisionByZeroError)


async def test_query_logger_context_manager_stops_logging_at_exit(conn):
    logged = []
    with conn.query_logger(logged.append):
        await conn.execute("SELECT 1")
    await conn.execute("SELECT 2")
    await asyncio.sleep(0.05)
    assert [q.query for q in logged] == ["SELECT 1"]


async def test_logging_bridge_reports_slow_queries_as_warnings(conn, caplog):
    conn.add_query_logger(pgwire.LoggingQueryLogger(slow_threshold=0.05))
    with caplog.at_level(logging.DEBUG, logger="pgwire.query"):
        await conn.execute("SELECT 1")
        await conn.execute("SELECT pg_sleep(0.1)")
        await asyncio.sleep(0.05)
    levels = {r.getMessage().split(":")[0]: r.levelno for r in caplog.records}
    assert any(lvl == logging.WARNING and "slow query" in msg for msg, lvl in levels.items())
    assert any(
        lvl == logging.DEBUG and msg.startswith("query took") for msg, lvl in levels.items()
    )


async def test_logging_bridge_does_not_log_arguments_unless_asked(conn, caplog):
    conn.add_query_logger(pgwire.LoggingQueryLogger())
    with caplog.at_level(logging.DEBUG, logger="pgwire.query"):
        await conn.fetchval("SELECT $1::text", "s3cret")
        await asyncio.sleep(0.05)
    assert "SELECT $1::text" in caplog.text
    assert "s3cret" not in caplog.text
