"""The pool under faults: cancellation storms, timeouts, killed backends, a server restart."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from server_checks import open_sockets, settled_backends

import pgwire
from pgwire.testing import TempServer

#: What a call may fail with while the server goes away: a lost connection, the
#: server's "terminating connection due to administrator command" (57P01), or
#: "the database system is shutting down / starting up" (57P03) when connecting.
CONNECTION_ERRORS = (OSError, pgwire.PostgresConnectionError, pgwire.OperatorInterventionError)


async def _backends(conn: Any, app: str) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        "SELECT pid, state FROM pg_stat_activity WHERE application_name = $1", app
    )
    return rows


async def _settle(pool: pgwire.Pool) -> None:
    """Wait until every connection is back and background work is done."""
    for _ in range(100):
        stats = pool.get_stats()
        if stats.in_use == 0 and stats.waiting == 0 and pool._opening == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"pool did not settle: {pool.get_stats()}")


async def test_1000_acquirers_with_random_cancellations_leak_nothing(dsn: str, conn: Any) -> None:
    app = "pool-cancel-storm"
    rng = random.Random(1234)
    sockets_before = open_sockets()
    async with pgwire.create_pool(
        dsn, min_size=2, max_size=10, server_settings={"application_name": app}
    ) as pool:

        async def worker(i: int) -> None:
            async with pool.acquire(timeout=rng.choice([None, 0.001, 0.05, 1.0])) as con:
                if i % 3 == 0:
                    async with con.transaction():
                        await con.execute("SELECT pg_sleep(0.002)")
                else:
                    await con.fetchval("SELECT $1::int", i)

        tasks = [asyncio.ensure_future(worker(i)) for i in range(1000)]
        for _ in range(300):
            await asyncio.sleep(rng.random() * 0.003)
            rng.choice(tasks).cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await _settle(pool)

        unexpected = [
            r
            for r in results
            if isinstance(r, BaseException)
            and not isinstance(r, (asyncio.CancelledError, asyncio.TimeoutError))
        ]
        assert unexpected == []
        assert any(isinstance(r, asyncio.CancelledError) for r in results)
        stats = pool.get_stats()
        assert stats.in_use == 0
        assert stats.idle == stats.size <= 10
        backends = await _backends(conn, app)
        assert len(backends) == stats.size
        assert {b["state"] for b in backends} <= {"idle"}
        # The server's view and the process's own: one socket per pooled connection.
        assert len(open_sockets() - sockets_before) == stats.size
        assert await pool.fetchval("SELECT 1") == 1
    assert await settled_backends(dsn, app, 0) == []
    assert open_sockets() - sockets_before == set()


async def test_acquire_timeouts_under_contention_leak_nothing(dsn: str) -> None:
    app = "pool-acquire-timeouts"
    sockets_before = open_sockets()
    async with pgwire.create_pool(
        dsn, min_size=0, max_size=2, server_settings={"application_name": app}
    ) as pool:

        async def hold() -> None:
            async with pool.acquire() as con:
                await con.execute("SELECT pg_sleep(0.05)")

        async def impatient() -> None:
            async with pool.acquire(timeout=0.01):
                pass

        results = await asyncio.gather(
            *(hold() for _ in range(4)),
            *(impatient() for _ in range(50)),
            return_exceptions=True,
        )
        await _settle(pool)
        assert all(r is None or isinstance(r, asyncio.TimeoutError) for r in results)
        size = pool.get_size()
        assert pool.get_idle_size() == size <= 2
        backends = await settled_backends(dsn, app, size)
        assert [state for _, state in backends] == ["idle"] * size
        assert len(open_sockets() - sockets_before) == size
        assert await pool.fetchval("SELECT 1") == 1
    assert await settled_backends(dsn, app, 0) == []
    assert open_sockets() - sockets_before == set()


async def test_cancelled_acquirer_that_was_just_handed_a_connection_gives_it_back(
    dsn: str,
) -> None:
    async with pgwire.create_pool(dsn, min_size=1, max_size=1) as pool:
        holder = await pool.acquire()
        waiter = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0.01)
        await pool.release(holder)  # hands the connection to the waiter's future...
        waiter.cancel()  # ...which is cancelled before it could run
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert pool.get_idle_size() == 1
        assert await pool.fetchval("SELECT 1") == 1


async def test_terminated_idle_backends_do_not_break_the_next_acquires(
    dsn: str, conn: Any
) -> None:
    app = "pool-terminated"
    async with pgwire.create_pool(
        dsn, min_size=3, max_size=3, server_settings={"application_name": app}
    ) as pool:
        await conn.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE application_name = $1",
            app,
        )
        values = await asyncio.gather(*(pool.fetchval("SELECT $1::int", i) for i in range(9)))
        assert values == list(range(9))
        await _settle(pool)
        assert len(await _backends(conn, app)) == pool.get_size()


# ------------------------------------------------------------------ server restart


@pytest.fixture(scope="module")
def own_server() -> Iterator[TempServer]:
    """A private server: restarting the shared one would disturb other tests."""
    with TempServer() as server:
        yield server


@pytest.fixture
async def restart_pool(own_server: TempServer) -> AsyncIterator[pgwire.Pool]:
    async with pgwire.create_pool(own_server.dsn, min_size=2, max_size=4) as pool:
        yield pool


async def _restart(server: TempServer) -> None:
    await asyncio.get_running_loop().run_in_executor(None, server.restart)


async def test_server_restart_under_load_fails_in_flight_calls_then_recovers(
    own_server: TempServer, restart_pool: pgwire.Pool
) -> None:
    pool = restart_pool
    in_flight = [asyncio.ensure_future(pool.fetchval("SELECT pg_sleep(30)")) for _ in range(4)]
    await asyncio.sleep(0.2)
    await _restart(own_server)
    results = await asyncio.gather(*in_flight, return_exceptions=True)
    assert all(isinstance(r, CONNECTION_ERRORS) for r in results), results
    values = await asyncio.gather(*(pool.fetchval("SELECT $1::int", i) for i in range(20)))
    assert values == list(range(20))
    await _settle(pool)


async def test_pool_recovers_min_size_by_itself_after_a_restart(
    own_server: TempServer, restart_pool: pgwire.Pool
) -> None:
    pool = restart_pool
    old = {await pool.fetchval("SELECT pg_backend_pid()")}
    await _restart(own_server)
    for _ in range(60):
        await asyncio.sleep(0.1)
        if pool.get_size() == 2 and pool.get_stats().connections_opened >= 4:
            break
    assert pool.get_size() == 2
    assert await pool.fetchval("SELECT pg_backend_pid()") not in old


async def test_continuous_load_through_a_restart_sees_only_connection_errors(
    own_server: TempServer, restart_pool: pgwire.Pool
) -> None:
    pool = restart_pool
    errors: list[BaseException] = []
    restarted = asyncio.Event()

    async def worker(i: int) -> None:
        while not restarted.is_set():
            try:
                assert await pool.fetchval("SELECT $1::int", i) == i
            except CONNECTION_ERRORS as exc:
                errors.append(exc)
                await asyncio.sleep(0.01)

    workers = [asyncio.ensure_future(worker(i)) for i in range(8)]
    await asyncio.sleep(0.1)
    await _restart(own_server)
    restarted.set()
    await asyncio.gather(*workers)
    values = await asyncio.gather(*(pool.fetchval("SELECT $1::int", i) for i in range(8)))
    assert values == list(range(8))
