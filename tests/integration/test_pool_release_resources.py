"""Statements and cursors made through a pool connection stop working once it is released."""

from __future__ import annotations

import pytest

import pgwire


@pytest.fixture
async def pool(dsn):
    async with pgwire.create_pool(dsn, min_size=1, max_size=1) as pool:
        yield pool


async def test_prepared_statement_after_release_is_an_interface_error(pool):
    async with pool.acquire() as conn:
        stmt = await conn.prepare("SELECT 1")
        assert await stmt.fetchval() == 1
    with pytest.raises(pgwire.InterfaceError, match="released back to the pool"):
        await stmt.fetchval()


async def test_prepared_statement_stays_dead_when_the_connection_is_reacquired(pool):
    async with pool.acquire() as conn:
        stmt = await conn.prepare("SELECT 2")
    async with pool.acquire() as conn2:
        assert await conn2.fetchval("SELECT 3") == 3
        with pytest.raises(pgwire.InterfaceError):
            await stmt.fetchval()


async def test_cursor_after_release_is_an_interface_error(pool):
    conn = await pool.acquire()
    try:
        tr = conn.transaction()
        await tr.start()
        cur = await conn.cursor("SELECT generate_series(1, 10)")
    finally:
        await pool.release(conn)
    with pytest.raises(pgwire.InterfaceError):
        await cur.fetch(1)
