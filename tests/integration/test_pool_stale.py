"""Stale pooled connections never reach callers: a backend the server ended while the
connection sat idle is noticed before reuse, or the statement is sent again on a fresh
connection when the server provably never started it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import pgwire
from pgwire.testing.faultproxy import FaultProxy

ROUNDS = 30


async def _use_all(pool: pgwire.Pool, n: int) -> list[int]:
    cons = [await pool.acquire() for _ in range(n)]
    pids = [c.get_server_pid() for c in cons]
    for c in cons:
        assert await c.fetchval("SELECT 1") == 1
    for c in cons:
        await pool.release(c)
    return pids


@pytest.mark.parametrize("wait_for_exit", [False, True], ids=["at-once", "after-exit"])
async def test_terminated_idle_connections_never_fail_the_next_calls(
    dsn: str, conn: Any, wait_for_exit: bool
) -> None:
    terminate = (
        "SELECT pg_terminate_backend(pid, 5000) FROM unnest($1::int[]) AS pid"
        if wait_for_exit
        else "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid"
    )
    async with pgwire.create_pool(dsn, min_size=3, max_size=3) as pool:
        for _ in range(ROUNDS):
            pids = await _use_all(pool, 3)
            await conn.execute(terminate, pids)
            for _ in range(3):
                assert await pool.fetchval("SELECT 1") == 1
            assert await asyncio.gather(*(pool.fetchval("SELECT 1") for _ in range(3))) == [1] * 3
        stats = pool.get_stats()
    print(stats)
    assert stats.connections_closed >= 3 * ROUNDS
    # Every closed connection was noticed at acquire or its statement was sent again.
    assert stats.stale_dropped + stats.retries >= 3 * ROUNDS


async def test_other_pool_shortcuts_never_fail_after_a_terminate(dsn: str, conn: Any) -> None:
    async with pgwire.create_pool(dsn, min_size=3, max_size=3) as pool:
        for _ in range(10):
            pids = await _use_all(pool, 3)
            await conn.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid", pids)
            rows = await asyncio.gather(*(pool.fetch("SELECT $1::int AS n", i) for i in range(3)))
            assert [r[0]["n"] for r in rows] == [0, 1, 2]
            assert await pool.execute("SELECT $1::int", 1) == "SELECT 1"


async def test_a_statement_crossing_the_servers_fatal_is_sent_again_elsewhere(
    dsn: str, conn: Any
) -> None:
    # The proxy holds the server's FATAL until the pool has sent the statement, so the
    # FATAL arrives before any reply to it: the server provably never started it.
    async with FaultProxy("127.0.0.1", int(dsn.rsplit(":", 1)[1].split("/")[0])) as proxy:
        async with pgwire.create_pool(proxy.dsn(dsn), min_size=1, max_size=1) as pool:
            (pid,) = await _use_all(pool, 1)
            proxy.stall()
            await conn.execute("SELECT pg_terminate_backend($1, 5000)", pid)
            call = asyncio.ensure_future(pool.fetchval("SELECT $1::int", 7))
            await asyncio.sleep(0.1)
            proxy.resume()
            assert await asyncio.wait_for(call, 10) == 7
            assert pool.get_stats().retries == 1


async def test_a_statement_answered_before_the_fatal_is_not_sent_again(
    dsn: str, conn: Any
) -> None:
    async with pgwire.create_pool(dsn, min_size=1, max_size=1) as pool:
        (pid,) = await _use_all(pool, 1)
        call = asyncio.ensure_future(pool.fetchval("SELECT pg_sleep(30)"))
        await asyncio.sleep(0.2)
        await conn.execute("SELECT pg_terminate_backend($1)", pid)
        with pytest.raises(pgwire.ConnectionDoesNotExistError) as caught:
            await asyncio.wait_for(call, 10)
        assert not isinstance(caught.value, pgwire.exceptions.ConnectionClosedBeforeStartError)
        assert isinstance(caught.value.__cause__, pgwire.AdminShutdownError)
        assert pool.get_stats().retries == 0


async def test_a_fatal_waiting_unread_on_an_idle_socket_is_read_before_reuse(
    pg_server: Any, dsn: str
) -> None:
    if not hasattr(pg_server, "psql"):
        pytest.skip("needs the TempServer's psql")
    async with pgwire.create_pool(dsn, min_size=1, max_size=1) as pool:
        (pid,) = await _use_all(pool, 1)
        # Blocking: the event loop does not run, so the FATAL and the EOF stay unread.
        pg_server.psql(f"SELECT pg_terminate_backend({pid}, 5000)")

        assert await pool.fetchval("SELECT 1") == 1

        stats = pool.get_stats()
    assert (stats.input_checks, stats.stale_dropped, stats.retries) == (1, 1, 0)
