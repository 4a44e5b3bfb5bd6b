"""Through PgBouncer in transaction pooling mode, with the default statement cache.

PgBouncer runs two server connections for any number of clients, so consecutive
statements of one client run on different backends: named prepared statements would
vanish or collide (asyncpg issues #121, #339, #945, #1058).  pgwire detects the pooler at
connect time and makes every execution self-contained (see :mod:`pgwire.pooler`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import pgwire
from pgwire.testing import TempServer
from pgwire.testing.pgbouncer import PgBouncer, pgbouncer_path

pytestmark = pytest.mark.skipif(
    pgbouncer_path() is None, reason="pgbouncer is not installed (Debian package pgbouncer)"
)


@pytest.fixture(scope="module")
def backend() -> Iterator[TempServer]:
    with TempServer() as server:
        server.psql("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        yield server


@pytest.fixture(scope="module")
def bouncer(backend: TempServer) -> Iterator[PgBouncer]:
    with PgBouncer(backend, pool_mode="transaction", pool_size=2) as pgbouncer:
        yield pgbouncer


@pytest.fixture
async def clients(bouncer: PgBouncer) -> AsyncIterator[list[Any]]:
    """Three connections through PgBouncer, sharing its two server connections."""
    conns = [await pgwire.connect(bouncer.dsn) for _ in range(3)]
    yield conns
    for conn in conns:
        await conn.close()


async def test_the_pooler_is_detected_at_connect(clients: list[Any]) -> None:
    assert all(conn._unnamed_statements for conn in clients)


async def test_a_direct_connection_keeps_named_statements(backend: TempServer) -> None:
    conn = await pgwire.connect(backend.dsn)
    try:
        assert conn._unnamed_statements is False
    finally:
        await conn.close()


async def test_cached_statements_work_from_interleaved_clients(clients: list[Any]) -> None:
    for i in range(30):
        for n, conn in enumerate(clients):
            assert await conn.fetchval("SELECT $1::int * 10 + $2::int", i, n) == i * 10 + n
            assert await conn.fetchval("SELECT $1::text || 'x'", str(i)) == f"{i}x"


async def test_concurrent_tasks_get_their_own_results(clients: list[Any]) -> None:
    async def work(conn: Any, base: int) -> list[int]:
        return [await conn.fetchval("SELECT $1::int + 0", base + i) for i in range(40)]

    results = await asyncio.gather(*(work(conn, 1000 * n) for n, conn in enumerate(clients)))
    assert results == [[1000 * n + i for i in range(40)] for n in range(3)]


async def test_transactions_keep_their_backend(clients: list[Any]) -> None:
    conn, other = clients[0], clients[1]
    async with conn.transaction():
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        await other.fetchval("SELECT $1::int", 1)
        await conn.execute("INSERT INTO notes VALUES ($1, $2)", 1, "kept")
        assert await conn.fetchval("SELECT pg_backend_pid()") == pid
    assert await other.fetchval("SELECT body FROM notes WHERE id = $1", 1) == "kept"


async def test_a_rolled_back_transaction_leaves_nothing(clients: list[Any]) -> None:
    conn = clients[0]
    with pytest.raises(RuntimeError):
        async with conn.transaction():
            await conn.execute("INSERT INTO notes VALUES ($1, $2)", 2, "gone")
            raise RuntimeError
    assert await clients[1].fetchval("SELECT count(*) FROM notes WHERE id = 2") == 0


async def test_prepared_statements_survive_across_transactions(clients: list[Any]) -> None:
    stmt = await clients[0].prepare("SELECT $1::int * 2")
    for i in range(10):
        await clients[1].fetchval("SELECT $1::int", i)
        assert await stmt.fetchval(i) == i * 2


async def test_executemany_and_cursors(clients: list[Any]) -> None:
    conn = clients[0]
    await conn.executemany(
        "INSERT INTO notes VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(i, f"n{i}") for i in range(100, 110)],
    )
    async with conn.transaction():
        rows = [r["id"] async for r in conn.cursor("SELECT id FROM notes WHERE id >= $1", 100)]
    assert sorted(rows) == list(range(100, 110))


async def test_a_pool_through_pgbouncer_serves_many_tasks(bouncer: PgBouncer) -> None:
    async with pgwire.create_pool(bouncer.dsn, min_size=4, max_size=4) as pool:
        values = await asyncio.gather(*(pool.fetchval("SELECT $1::int", i) for i in range(200)))
    assert values == list(range(200))


async def test_unnamed_statements_can_be_forced_without_a_pooler(backend: TempServer) -> None:
    conn = await pgwire.connect(backend.dsn, unnamed_statements=True)
    try:
        for i in range(3):
            assert await conn.fetchval("SELECT $1::int + 1", i) == i + 1
        assert await conn.fetchval("SELECT count(*) FROM pg_prepared_statements") == 0
    finally:
        await conn.close()


async def test_a_statement_dropped_on_the_server_is_prepared_again(backend: TempServer) -> None:
    # Session pooling keeps named statements; the driver re-prepares after DEALLOCATE ALL.
    with PgBouncer(backend, pool_mode="session") as pgbouncer:
        conn = await pgwire.connect(pgbouncer.dsn, unnamed_statements=False)
        try:
            assert await conn.fetchval("SELECT $1::int", 1) == 1
            await conn.execute("DEALLOCATE ALL")
            assert await conn.fetchval("SELECT $1::int", 2) == 2
        finally:
            await conn.close()


async def test_a_timed_out_query_is_cancelled_through_pgbouncer(clients: list[Any]) -> None:
    conn = clients[0]
    with pytest.raises(asyncio.TimeoutError):
        await conn.execute("SELECT pg_sleep(10)", timeout=0.2)
    assert await conn.fetchval("SELECT $1::int", 7) == 7
