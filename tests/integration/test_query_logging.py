"""Zero-setup logging: ``logging.getLogger("pgwire.query").setLevel(DEBUG)`` is all it takes."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import pgwire
from pgwire import querylog
from pgwire.testing.faultproxy import FaultProxy


@pytest.fixture(autouse=True)
def default_options() -> Iterator[None]:
    saved = (querylog.slow_threshold, querylog.log_args)
    querylog.configure(slow_threshold=None, log_args=False)
    yield
    querylog.configure(slow_threshold=saved[0], log_args=saved[1])


def _queries(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "pgwire.query"]


async def test_every_query_logs_one_debug_record(
    conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pgwire.query")

    await conn.fetchval("SELECT 1")
    await conn.execute("SELECT 2")
    await conn.fetch("SELECT g FROM generate_series(1, 3) g")

    records = _queries(caplog)
    assert [r.levelno for r in records] == [logging.DEBUG] * 3
    assert [r.pg_query for r in records] == [  # type: ignore[attr-defined]
        "SELECT 1",
        "SELECT 2",
        "SELECT g FROM generate_series(1, 3) g",
    ]


async def test_the_record_holds_status_duration_and_server(
    conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pgwire.query")

    await conn.fetch("SELECT g FROM generate_series(1, 3) g")

    (record,) = _queries(caplog)
    host, port = conn._addr
    assert record.pg_status == "SELECT 3"  # type: ignore[attr-defined]
    assert record.pg_server == f"{host}:{port}"  # type: ignore[attr-defined]
    assert record.pg_duration >= 0  # type: ignore[attr-defined]
    assert "[SELECT 3]" in record.getMessage()
    assert f"{host}:{port}" in record.getMessage()


async def test_arguments_are_left_out_unless_asked_for(
    conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pgwire.query")

    await conn.fetchval("SELECT $1::text", "s3cret")
    querylog.configure(log_args=True)
    await conn.fetchval("SELECT $1::text", "shown")

    hidden, shown = _queries(caplog)
    assert "s3cret" not in hidden.getMessage()
    assert hidden.pg_args is None  # type: ignore[attr-defined]
    assert "shown" in shown.getMessage()
    assert shown.pg_args == ("shown",)  # type: ignore[attr-defined]


async def test_a_failed_query_names_its_exception(
    conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pgwire.query")

    with pytest.raises(pgwire.DivisionByZeroError):
        await conn.fetchval("SELECT 1 / 0")

    (record,) = _queries(caplog)
    assert record.pg_status == "failed: DivisionByZeroError"  # type: ignore[attr-defined]


async def test_nothing_is_logged_while_the_logger_is_not_enabled(
    conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the handler takes everything; the logger stays WARNING
    logging.getLogger("pgwire.query").setLevel(logging.WARNING)
    try:
        await conn.fetchval("SELECT 1")
    finally:
        logging.getLogger("pgwire.query").setLevel(logging.NOTSET)

    assert _queries(caplog) == []


async def test_slow_queries_log_at_warning_without_debug(
    conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pgwire.query")
    querylog.configure(slow_threshold=0.05)

    await conn.fetchval("SELECT 1")
    await conn.execute("SELECT pg_sleep(0.1)")

    (record,) = _queries(caplog)
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("slow query")
    assert record.pg_query == "SELECT pg_sleep(0.1)"  # type: ignore[attr-defined]


def test_a_negative_slow_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="slow_threshold"):
        querylog.configure(slow_threshold=-1)


async def test_add_query_logger_still_gets_every_query(conn: Any) -> None:
    seen: list[Any] = []
    conn.add_query_logger(seen.append)

    await conn.fetchval("SELECT 1")
    await conn.fetchval("SELECT 2")
    for _ in range(5):
        if len(seen) == 2:
            break
        await __import__("asyncio").sleep(0)

    assert [q.query for q in seen] == ["SELECT 1", "SELECT 2"]


async def test_connect_logs_address_tls_and_authentication_at_info(
    dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pgwire")

    conn = await pgwire.connect(dsn)
    await conn.close()

    (record,) = [r for r in caplog.records if "connected to" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert "authentication" in record.getMessage()
    assert "TLS" in record.getMessage()


async def test_pool_growth_and_shrinkage_log_at_debug(
    dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pgwire")

    async with pgwire.create_pool(dsn, min_size=1, max_size=2) as pool:
        async with pool.acquire() as con:
            con.terminate()

    messages = [r.getMessage() for r in caplog.records if r.name == "pgwire.pool"]
    assert any("opened a connection" in m for m in messages)
    assert any("closed a connection" in m for m in messages)


def _statuses(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.pg_query, r.pg_status) for r in _queries(caplog)]  # type: ignore[attr-defined]


async def test_each_round_trip_of_an_iterated_cursor_logs_a_record(
    conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    query = "SELECT generate_series(1, 5)"
    async with conn.transaction():
        caplog.set_level(logging.DEBUG, logger="pgwire.query")
        rows = [r async for r in conn.cursor(query, prefetch=2)]
        caplog.set_level(logging.WARNING, logger="pgwire.query")
    assert len(rows) == 5
    assert _statuses(caplog) == [
        (query, "2 rows fetched, portal suspended"),
        (query, "2 rows fetched, portal suspended"),
        (query, "SELECT 1"),
    ]


async def test_each_call_on_a_cursor_object_logs_a_record(
    conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    query = "SELECT generate_series(1, $1::int)"
    async with conn.transaction():
        caplog.set_level(logging.DEBUG, logger="pgwire.query")
        cur = await conn.cursor(query, 10)
        await cur.fetch(3)
        await cur.fetchrow()
        await cur.forward(2)
        caplog.set_level(logging.WARNING, logger="pgwire.query")
    assert _statuses(caplog) == [
        (query, "cursor opened"),
        (query, "3 rows fetched, portal suspended"),
        (query, "1 row fetched, portal suspended"),
        (query, "MOVE 2"),
    ]


async def test_a_prepared_statements_cursor_logs_a_record(
    conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with conn.transaction():
        stmt = await conn.prepare("SELECT generate_series(1, 3)")
        caplog.set_level(logging.DEBUG, logger="pgwire.query")
        assert len([r async for r in stmt.cursor()]) == 3
        caplog.set_level(logging.WARNING, logger="pgwire.query")
    assert _statuses(caplog) == [("SELECT generate_series(1, 3)", "SELECT 3")]


async def test_a_cursor_notifies_tracing_observers(conn: Any) -> None:
    seen: list[str] = []

    class Seen(pgwire.tracing.Observer):
        def query_started(self, query: str, args: Any, target: Any) -> None:
            seen.append(query)

    observer = Seen()
    async with conn.transaction():
        pgwire.tracing.add_observer(observer)
        try:
            cur = await conn.cursor("SELECT 1")
            await cur.fetchrow()
        finally:
            pgwire.tracing.remove_observer(observer)
    assert seen == ["SELECT 1", "SELECT 1"]


async def test_fetchval_and_fetchrow_log_the_rows_fetched(
    conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pgwire.query")
    await conn.fetchval("SELECT 1")
    await conn.fetchrow("SELECT 1")
    await conn.fetchrow("SELECT 1 WHERE false")
    assert [s for _, s in _statuses(caplog)] == [
        "1 row fetched, portal suspended",
        "1 row fetched, portal suspended",
        "SELECT 0",
    ]


async def test_executemany_logs_how_many_executions_ran(
    conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await conn.execute("CREATE TEMP TABLE ql_many (a int)")
    caplog.set_level(logging.DEBUG, logger="pgwire.query")
    await conn.executemany("INSERT INTO ql_many VALUES ($1)", [(i,) for i in range(5)])
    (record,) = _queries(caplog)
    assert record.pg_status == "INSERT 0 1 (last of 5 executions)"  # type: ignore[attr-defined]
    assert "[INSERT 0 1 (last of 5 executions)]" in record.getMessage()


async def test_the_pools_health_check_ping_is_not_a_logged_query(
    dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with pgwire.create_pool(dsn, min_size=1, max_size=1, health_check_interval=0.05) as pool:
        await pool.fetchval("SELECT 1")
        await asyncio.sleep(0.2)  # idle past the interval: the next acquire pings
        caplog.set_level(logging.DEBUG, logger="pgwire")
        await pool.fetchval("SELECT 2")
        assert pool.get_stats().health_checks == 1
    assert [q for q, _ in _statuses(caplog)] == ["SELECT 2"]
    pool_messages = [r.getMessage() for r in caplog.records if r.name == "pgwire.pool"]
    assert any("pinging a connection" in m for m in pool_messages)


async def test_the_pools_release_reset_is_not_a_logged_query(
    dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with pgwire.create_pool(dsn, min_size=1, max_size=1) as pool:
        caplog.set_level(logging.DEBUG, logger="pgwire")
        async with pool.acquire() as con:
            await con.execute("SET search_path = public")
        assert pool.get_stats().resets == 1
    assert [q for q, _ in _statuses(caplog)] == ["SET search_path = public"]
    pool_messages = [r.getMessage() for r in caplog.records if r.name == "pgwire.pool"]
    assert any("resetting the session" in m for m in pool_messages)


async def test_a_pool_call_sent_again_logs_its_failed_attempt_as_retried_at_debug(
    dsn: str, conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    port = int(dsn.rsplit(":", 1)[1].split("/")[0])
    async with FaultProxy("127.0.0.1", port) as proxy:
        async with pgwire.create_pool(proxy.dsn(dsn), min_size=1, max_size=1) as pool:
            async with pool.acquire() as con:
                pid = con.get_server_pid()
            # The FATAL is held back until the statement was sent: it never started.
            proxy.stall()
            await conn.execute("SELECT pg_terminate_backend($1, 5000)", pid)
            querylog.configure(slow_threshold=0.0)  # every query is "slow": WARNING
            caplog.set_level(logging.DEBUG, logger="pgwire.query")
            call = asyncio.ensure_future(pool.fetchval("SELECT $1::int", 7))
            await asyncio.sleep(0.1)
            proxy.resume()
            assert await asyncio.wait_for(call, 10) == 7
            caplog.set_level(logging.WARNING, logger="pgwire.query")
    failed, ran = _queries(caplog)
    assert failed.levelno == logging.DEBUG
    assert failed.pg_status == (  # type: ignore[attr-defined]
        "failed: ConnectionClosedBeforeStartError, retried on another connection"
    )
    assert ran.levelno == logging.WARNING
    assert ran.pg_status == "1 row fetched, portal suspended"  # type: ignore[attr-defined]


def test_an_invalid_slow_query_environment_variable_warns_and_is_ignored() -> None:
    env = dict(os.environ, PGWIRE_SLOW_QUERY_SECONDS="fast")
    code = "import pgwire.querylog as q; print(q.slow_threshold)"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"
    assert "PGWIRE_SLOW_QUERY_SECONDS" in done.stderr
    assert "RuntimeWarning" in done.stderr
