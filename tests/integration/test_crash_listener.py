"""``pgwire.listener.Listener``: LISTEN subscriptions that survive crashes and restarts.

A plain ``add_listener`` dies with its connection and notifications sent meanwhile are
lost without a word (asyncpg #519). The listener re-subscribes by itself and calls
``on_reconnect`` once it listens again, so the application knows to re-read its state.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import pgwire
from pgwire.listener import Listener
from pgwire.testing import TempServer
from pgwire.testing.faultproxy import FaultPlan, FaultProxy


@pytest.fixture(scope="module")
def server() -> Iterator[TempServer]:
    with TempServer() as s:
        yield s


class Inbox:
    """Collects notifications and reconnect calls, and waits for them."""

    def __init__(self) -> None:
        self.payloads: list[str] = []
        self.reconnects = 0
        self._changed = asyncio.Event()

    def on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.payloads.append(payload)
        self._changed.set()

    def on_reconnect(self, _listener: Listener) -> None:
        self.reconnects += 1
        self._changed.set()

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        async def loop() -> None:
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), timeout)


@pytest.fixture
async def notifier(server: TempServer) -> AsyncIterator[Any]:
    async def notify(channel: str, payload: str) -> None:
        for _ in range(100):
            try:
                conn = await pgwire.connect(server.dsn, timeout=2)
            except (OSError, pgwire.PostgresError, asyncio.TimeoutError):
                await asyncio.sleep(0.1)
                continue
            try:
                await conn.execute(f"NOTIFY {channel}, '{payload}'")
                return
            finally:
                await conn.close()
        raise AssertionError("the server did not come back")

    yield notify


async def test_notifications_are_delivered_to_the_callback(
    server: TempServer, notifier: Any
) -> None:
    inbox = Inbox()
    async with Listener(server.dsn, ["jobs"], inbox.on_notify):
        await notifier("jobs", "one")
        await inbox.wait_for(lambda: inbox.payloads == ["one"])


async def test_after_its_backend_is_killed_the_listener_resubscribes_and_says_so(
    server: TempServer, notifier: Any
) -> None:
    inbox = Inbox()
    async with Listener(
        server.dsn, ["jobs"], inbox.on_notify, on_reconnect=inbox.on_reconnect
    ) as listener:
        os.kill(listener.connection.get_server_pid(), signal.SIGKILL)
        await inbox.wait_for(lambda: inbox.reconnects == 1)
        assert listener.is_connected()
        await notifier("jobs", "after-crash")
        await inbox.wait_for(lambda: "after-crash" in inbox.payloads)
        assert listener.reconnects == 1


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_after_a_server_restart_the_listener_resubscribes(
    server: TempServer, notifier: Any, mode: str
) -> None:
    inbox = Inbox()
    async with Listener(
        server.dsn, ["jobs", "other"], inbox.on_notify, on_reconnect=inbox.on_reconnect
    ):
        await asyncio.get_running_loop().run_in_executor(None, lambda: server.restart(mode))  # type: ignore[arg-type]
        await inbox.wait_for(lambda: inbox.reconnects >= 1, timeout=20)
        await notifier("other", "back")
        await inbox.wait_for(lambda: "back" in inbox.payloads)


async def test_a_listener_on_a_pool_resubscribes_on_a_new_pooled_connection(
    server: TempServer, notifier: Any
) -> None:
    inbox = Inbox()
    async with pgwire.create_pool(server.dsn, min_size=1, max_size=3) as pool:
        async with Listener(
            pool, ["jobs"], inbox.on_notify, on_reconnect=inbox.on_reconnect
        ) as listener:
            old = listener.connection.get_server_pid()
            os.kill(old, signal.SIGKILL)
            await inbox.wait_for(lambda: inbox.reconnects == 1)
            assert listener.connection.get_server_pid() != old
            await notifier("jobs", "pooled")
            await inbox.wait_for(lambda: "pooled" in inbox.payloads)
        assert pool.get_stats().in_use == 0


async def test_a_silent_network_is_detected_by_the_ping_and_survived(
    server: TempServer, notifier: Any
) -> None:
    inbox = Inbox()
    async with FaultProxy(server.host, server.port) as proxy:
        async with Listener(
            proxy.dsn(server.dsn),
            ["jobs"],
            inbox.on_notify,
            on_reconnect=inbox.on_reconnect,
            ping_interval=0.2,
            ping_timeout=0.3,
            timeout=1,
        ) as listener:
            proxy.stall()
            await asyncio.sleep(1.0)
            assert not listener.is_connected()
            proxy.resume()
            await inbox.wait_for(lambda: inbox.reconnects >= 1)
            await notifier("jobs", "healed")
            await inbox.wait_for(lambda: "healed" in inbox.payloads)


async def test_close_while_reconnecting_stops_everything(server: TempServer) -> None:
    inbox = Inbox()
    async with FaultProxy(server.host, server.port) as proxy:
        listener = await Listener(
            proxy.dsn(server.dsn), ["jobs"], inbox.on_notify, min_delay=0.05, timeout=0.5
        ).start()
        proxy.plan = FaultPlan(blackhole=True)
        proxy.cut_all()
        await asyncio.sleep(0.3)
        assert not listener.is_connected()
        await asyncio.wait_for(listener.close(), 2)
        assert listener.connection is None
