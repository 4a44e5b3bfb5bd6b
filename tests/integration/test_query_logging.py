"""Zero-setup logging: ``logging.getLogger("pgwire.query").setLevel(DEBUG)`` is all it takes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

import pgwire
from pgwire import querylog


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
