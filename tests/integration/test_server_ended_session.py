"""When the server ends a session, the next call says why and chains the server's error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import pgwire
from pgwire.exceptions import ConnectionClosedBeforeStartError


@pytest.fixture
async def observer(dsn: str) -> AsyncIterator[pgwire.Connection]:
    conn = await pgwire.connect(dsn)
    yield conn
    await conn.close()


async def _closed(conn: Any) -> None:
    for _ in range(500):
        if conn.is_closed():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server did not close the connection")


async def test_idle_session_timeout_is_named_in_the_next_calls_error(dsn: str) -> None:
    conn = await pgwire.connect(dsn, server_settings={"idle_session_timeout": "100"})
    await _closed(conn)

    with pytest.raises(pgwire.ConnectionDoesNotExistError, match="idle-session timeout") as info:
        await conn.fetchval("SELECT 1")

    assert isinstance(info.value.__cause__, pgwire.IdleSessionTimeoutError)


async def test_idle_in_transaction_timeout_is_the_cause_inside_a_transaction(dsn: str) -> None:
    conn = await pgwire.connect(
        dsn, server_settings={"idle_in_transaction_session_timeout": "100"}
    )
    with pytest.raises(pgwire.ConnectionDoesNotExistError) as info:
        async with conn.transaction():
            await conn.execute("SELECT 1")
            await _closed(conn)
            await conn.execute("SELECT 2")

    assert isinstance(info.value.__cause__, pgwire.IdleInTransactionSessionTimeoutError)


async def test_terminate_inside_a_transaction_block_surfaces_the_servers_error_as_cause(
    dsn: str, observer: pgwire.Connection
) -> None:
    conn = await pgwire.connect(dsn)
    with pytest.raises(pgwire.ConnectionDoesNotExistError) as info:
        async with conn.transaction():
            await conn.execute("SELECT 1")
            await observer.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())
            await _closed(conn)
    # The block's COMMIT could not be sent: it never ran, and says why.
    assert isinstance(info.value, ConnectionClosedBeforeStartError)
    assert isinstance(info.value.__cause__, pgwire.AdminShutdownError)


async def test_terminate_during_a_statement_in_a_transaction_block_raises_the_servers_error(
    dsn: str, observer: pgwire.Connection
) -> None:
    conn = await pgwire.connect(dsn)
    with pytest.raises(pgwire.PostgresError) as info:
        async with conn.transaction():
            running = asyncio.ensure_future(conn.execute("SELECT pg_sleep(30)"))
            await asyncio.sleep(0.2)
            await observer.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())
            await running
    err = info.value
    # The statement's own error, or the failed ROLLBACK's with the server's error as cause.
    server_error = err if isinstance(err, pgwire.AdminShutdownError) else err.__cause__
    assert isinstance(server_error, pgwire.AdminShutdownError), repr(err)


async def test_terminated_idle_connection_says_the_administrator_ended_it(
    dsn: str, observer: pgwire.Connection
) -> None:
    conn = await pgwire.connect(dsn)
    await observer.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())
    await _closed(conn)

    with pytest.raises(pgwire.ConnectionDoesNotExistError, match="administrator command") as info:
        await conn.execute("SELECT 1")

    assert isinstance(info.value.__cause__, pgwire.AdminShutdownError)


async def test_a_connection_closed_by_the_user_still_raises_interface_error(dsn: str) -> None:
    conn = await pgwire.connect(dsn)
    await conn.close()

    with pytest.raises(pgwire.InterfaceError, match="connection is closed"):
        await conn.fetchval("SELECT 1")
