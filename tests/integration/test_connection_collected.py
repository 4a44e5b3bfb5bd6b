"""A Connection the program dropped without ``close()``: collected, warned about, closed."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

import pgwire


async def test_connection_dropped_without_close_is_collected_warns_and_closes_its_socket(
    dsn: str,
) -> None:
    conn = await pgwire.connect(dsn)
    assert await conn.fetchval("SELECT $1::int", 1) == 1
    await conn.execute("LISTEN dropped_chan")
    pid = conn.get_server_pid()
    transport = conn._transport
    ref = weakref.ref(conn)

    with pytest.warns(ResourceWarning, match="unclosed connection"):
        del conn
        gc.collect()
    assert ref() is None
    assert transport.is_closing()

    observer = await pgwire.connect(dsn)
    try:
        for _ in range(500):
            if not await observer.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid
            ):
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail(f"backend {pid} still connected after its Connection was collected")
    finally:
        await observer.close()


async def test_dropped_connection_needs_no_cycle_collection(dsn: str) -> None:
    conn = await pgwire.connect(dsn)
    async with conn.transaction():
        await conn.fetch("SELECT $1::text", "x")
    ref = weakref.ref(conn)
    gc.collect()
    gc.disable()
    try:
        with pytest.warns(ResourceWarning):
            del conn
        assert ref() is None
    finally:
        gc.enable()
