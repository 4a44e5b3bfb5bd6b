"""Server crashes: a backend killed with SIGKILL, fast and immediate shutdowns under load.

These tests run against a private server (killing a backend makes PostgreSQL restart
every session of the cluster). Calls caught in a crash fail with connection errors,
never hang and never succeed with a half result; a transaction caught in a crash is
never reported as committed; connections and pools recover by themselves once the
server is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import pgwire
from pgwire.testing import TempServer

#: What a call may fail with while its server goes away: the lost connection, the
#: server's own goodbye (57P01 admin shutdown, 57P02 crash of another process), or a
#: refused connection while the server restarts (57P03, connection refused).
CRASH_ERRORS = (
    OSError,
    asyncio.TimeoutError,
    pgwire.PostgresConnectionError,
    pgwire.OperatorInterventionError,
    pgwire.InterfaceError,
)


@pytest.fixture(scope="module")
def server() -> Iterator[TempServer]:
    # Commits must be on disk when reported (the default TempServer trades that for
    # speed); fsync can stay off: a killed process does not lose the OS page cache.
    with TempServer(settings={"synchronous_commit": "on"}) as s:
        yield s


@pytest.fixture
async def pool(server: TempServer) -> AsyncIterator[pgwire.Pool]:
    async with pgwire.create_pool(server.dsn, min_size=2, max_size=6, timeout=5) as p:
        yield p


async def wait_until_up(server: TempServer, deadline: float = 20.0) -> None:
    """Wait until the server accepts connections again (after crash recovery)."""
    end = time.monotonic() + deadline
    while True:
        try:
            conn = await pgwire.connect(server.dsn, timeout=2)
        except CRASH_ERRORS:
            if time.monotonic() > end:
                raise
            await asyncio.sleep(0.1)
            continue
        await conn.close()
        return


async def restart(server: TempServer, mode: str) -> None:
    await asyncio.get_running_loop().run_in_executor(None, lambda: server.restart(mode))  # type: ignore[arg-type]


def kill_backend(pid: int) -> None:
    # Killing one backend makes the postmaster end all the others (crash recovery),
    # so the target may already be gone.
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


async def fresh_table(server: TempServer, name: str) -> None:
    await wait_until_up(server)
    conn = await pgwire.connect(server.dsn)
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {name}; CREATE TABLE {name} (id int)")
    finally:
        await conn.close()


async def count_rows(server: TempServer, name: str) -> int:
    await wait_until_up(server)
    conn = await pgwire.connect(server.dsn)
    try:
        value: int = await conn.fetchval(f"SELECT count(*) FROM {name}")
        return value
    finally:
        await conn.close()


# ------------------------------------------------------------------ kill -9 of a backend


async def test_a_query_whose_backend_is_killed_fails_with_a_connection_error(
    server: TempServer,
) -> None:
    await wait_until_up(server)
    conn = await pgwire.connect(server.dsn)
    query = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(30)"))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    kill_backend(conn.get_server_pid())
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await asyncio.wait_for(query, 10)
    assert time.monotonic() - started < 2
    assert conn.is_closed()
    with pytest.raises(pgwire.InterfaceError):
        await conn.fetchval("SELECT 1")


async def test_every_pipelined_call_on_a_killed_backend_fails_and_none_is_mixed_up(
    server: TempServer,
) -> None:
    await wait_until_up(server)
    conn = await pgwire.connect(server.dsn)
    calls = [
        asyncio.ensure_future(conn.fetchval("SELECT $1::int FROM pg_sleep(0.05)", i))
        for i in range(40)
    ]
    await asyncio.sleep(0.3)
    kill_backend(conn.get_server_pid())
    results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 10)
    first_failure = next(i for i, r in enumerate(results) if isinstance(r, BaseException))
    assert results[:first_failure] == list(range(first_failure))
    assert all(isinstance(r, CRASH_ERRORS) for r in results[first_failure:]), results


async def test_a_transaction_whose_backend_is_killed_before_commit_is_not_committed(
    server: TempServer,
) -> None:
    await fresh_table(server, "crash_tx")
    conn = await pgwire.connect(server.dsn)
    with pytest.raises(CRASH_ERRORS):
        async with conn.transaction():
            await conn.execute("INSERT INTO crash_tx SELECT generate_series(1, 100)")
            kill_backend(conn.get_server_pid())
            await asyncio.sleep(0.2)
    assert await count_rows(server, "crash_tx") == 0


async def test_commits_under_repeated_kills_are_reported_only_when_durable(
    server: TempServer,
) -> None:
    """Many writers commit while backends are killed: every reported commit is there."""
    await fresh_table(server, "crash_commits")
    reported: list[int] = []

    async def writer(i: int) -> None:
        try:
            conn = await pgwire.connect(server.dsn, timeout=5)
        except CRASH_ERRORS:
            return
        try:
            async with conn.transaction():
                await conn.execute("INSERT INTO crash_commits VALUES ($1)", i)
                await conn.execute("SELECT pg_sleep(0.01)")
            reported.append(i)
        except CRASH_ERRORS:
            pass
        finally:
            conn.terminate()

    async def killer() -> None:
        for _ in range(3):
            await asyncio.sleep(0.15)
            with contextlib_suppress():
                probe = await pgwire.connect(server.dsn, timeout=2)
                pids = await probe.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    " AND pid <> pg_backend_pid()"
                )
                await probe.close()
                if pids:
                    kill_backend(pids[0]["pid"])

    writers = [writer(i) for i in range(60)]
    await asyncio.wait_for(asyncio.gather(killer(), *writers), 60)
    await wait_until_up(server)
    conn = await pgwire.connect(server.dsn)
    try:
        present = {r[0] for r in await conn.fetch("SELECT id FROM crash_commits")}
    finally:
        await conn.close()
    assert set(reported) <= present


class contextlib_suppress:
    """Swallow the connection errors of a crashing server."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        return exc_type is not None and issubclass(exc_type, CRASH_ERRORS)


async def test_a_pool_recovers_after_one_of_its_backends_is_killed(
    server: TempServer, pool: pgwire.Pool
) -> None:
    async with pool.acquire() as con:
        victim = con.get_server_pid()
        kill_backend(victim)
        with pytest.raises(CRASH_ERRORS):
            await con.fetchval("SELECT 1")
    await wait_until_up(server)
    values = await asyncio.wait_for(asyncio.gather(*(retrying(pool, i) for i in range(20))), 20)
    assert values == list(range(20))
    assert victim not in {await pool.fetchval("SELECT pg_backend_pid()") for _ in range(6)}


async def retrying(pool: pgwire.Pool, i: int) -> int:
    """A caller that retries on connection errors (what an application does)."""
    for _ in range(50):
        try:
            value: int = await pool.fetchval("SELECT $1::int", i)
            return value
        except CRASH_ERRORS:
            await asyncio.sleep(0.1)
    raise AssertionError("the pool did not recover")


async def test_a_pool_never_hands_out_a_connection_that_died_while_idle(
    server: TempServer, pool: pgwire.Pool
) -> None:
    await wait_until_up(server)
    pids = await asyncio.gather(*(pool.fetchval("SELECT pg_backend_pid()") for _ in range(4)))
    for pid in set(pids):
        kill_backend(pid)
    await wait_until_up(server)
    await asyncio.sleep(0.3)
    for _ in range(10):
        async with pool.acquire() as con:
            assert not con.is_closed()
            assert await con.fetchval("SELECT 1") == 1


# ------------------------------------------------------------------ whole-server shutdown


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_shutdown_under_load_sees_only_connection_errors_then_recovers(
    server: TempServer, pool: pgwire.Pool, mode: str
) -> None:
    await wait_until_up(server)
    wrong: list[Any] = []
    errors: list[BaseException] = []
    ok = 0
    stop = asyncio.Event()

    async def worker(i: int) -> None:
        nonlocal ok
        while not stop.is_set():
            try:
                value = await pool.fetchval("SELECT $1::int FROM pg_sleep(0.002)", i, timeout=10)
            except CRASH_ERRORS as exc:
                errors.append(exc)
                await asyncio.sleep(0.02)
                continue
            if value != i:
                wrong.append((i, value))
            ok += 1

    workers = [asyncio.ensure_future(worker(i)) for i in range(12)]
    await asyncio.sleep(0.3)
    await restart(server, mode)
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*workers), 30)
    assert wrong == []
    assert errors, "the shutdown went unnoticed"
    assert ok > 0
    values = await asyncio.wait_for(asyncio.gather(*(retrying(pool, i) for i in range(12))), 20)
    assert values == list(range(12))


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_a_transaction_open_during_shutdown_is_not_reported_committed(
    server: TempServer, mode: str
) -> None:
    await fresh_table(server, f"crash_shutdown_{mode}")
    conn = await pgwire.connect(server.dsn)
    with pytest.raises(CRASH_ERRORS):
        async with conn.transaction():
            await conn.execute(f"INSERT INTO crash_shutdown_{mode} VALUES (1)")
            await restart(server, mode)
    assert await count_rows(server, f"crash_shutdown_{mode}") == 0
