"""Pool behaviours asyncpg users rely on: what callbacks receive, warnings, timings."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

import pgwire
from pgwire.pool_proxy import PoolConnectionProxy


async def test_notification_listener_receives_the_pool_proxy(dsn: str) -> None:
    got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    async with pgwire.create_pool(dsn, min_size=1, max_size=1) as pool:
        async with pool.acquire() as con:

            def on_notify(c: Any, *_: Any) -> None:
                got.set_result(c)

            await con.add_listener("proxy_chan", on_notify)
            await con.execute("NOTIFY proxy_chan")
            assert await asyncio.wait_for(got, 5) is con
            await con.remove_listener("proxy_chan", on_notify)


async def test_log_listener_receives_the_pool_proxy(dsn: str) -> None:
    got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def on_log(c: Any, message: Any) -> None:
        got.set_result(c)

    async with pgwire.create_pool(dsn, min_size=1, max_size=1) as pool:
        async with pool.acquire() as con:
            con.add_log_listener(on_log)
            await con.execute("DO $$ BEGIN RAISE NOTICE 'hello'; END $$")
            assert await asyncio.wait_for(got, 5) is con
            con.remove_log_listener(on_log)


async def test_termination_listener_receives_the_pool_proxy(dsn: str) -> None:
    got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    async with pgwire.create_pool(dsn, min_size=1, max_size=1) as pool:
        con = await pool.acquire()
        try:
            con.add_termination_listener(lambda c: got.set_result(c))
            pid = con.get_server_pid()
            async with pgwire.create_pool(dsn, min_size=1, max_size=1) as admin:
                await admin.execute("SELECT pg_terminate_backend($1)", pid)
            received = await asyncio.wait_for(got, 5)
        finally:
            await pool.release(con)
        assert received is con


async def test_releasing_with_a_log_listener_attached_warns(dsn: str) -> None:
    async with pgwire.create_pool(dsn, min_size=1, max_size=1) as pool:
        con = await pool.acquire()
        con.add_log_listener(lambda *_: None)
        with pytest.warns(pgwire.InterfaceWarning, match="has 1 active log listener"):
            await pool.release(con)


@pytest.mark.parametrize("name", ["fetch", "execute", "add_listener", "copy_to_table", "reset"])
def test_proxy_methods_carry_connection_docstrings_and_signatures(name: str) -> None:
    original = getattr(pgwire.Connection, name)
    proxied = getattr(PoolConnectionProxy, name)
    assert proxied.__doc__ == original.__doc__
    assert inspect.signature(proxied) == inspect.signature(original)


async def test_max_inactive_connection_lifetime_closes_an_idle_connection_on_time(
    dsn: str,
) -> None:
    # The bound is generous (the machine may be loaded); before the maintainer timed each
    # expiry it noticed one only at its next 1-second round: up to a second late.
    loop = asyncio.get_running_loop()
    lifetime = 0.1
    async with pgwire.create_pool(
        dsn, min_size=0, max_size=1, max_inactive_connection_lifetime=lifetime
    ) as pool:
        for _ in range(2):
            closed: asyncio.Future[float] = loop.create_future()
            async with pool.acquire() as con:
                con.add_termination_listener(lambda _c, f=closed: f.set_result(loop.time()))
            released = loop.time()
            idle_for = await asyncio.wait_for(closed, 5) - released
            assert lifetime - 0.01 <= idle_for < lifetime + 0.5, idle_for
