"""A pool whose connections go through a :class:`FaultProxy`.

Broken connections are never handed out again, a caller sees either its own result or
a connection error, and after any fault the pool is healthy again by itself.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

import pgwire
import pgwire.connection
from pgwire.testing.faultproxy import FaultPlan, FaultProxy, StreamFaults

BROKEN = (pgwire.ConnectionDoesNotExistError, pgwire.InterfaceError)
GRACE = 0.5
BOUND = 3 * GRACE + 1.0


@pytest.fixture(autouse=True)
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgwire.connection, "CANCEL_GRACE", GRACE)
    monkeypatch.setattr(pgwire.connection, "CLOSE_GRACE", GRACE)


@pytest.fixture
async def proxy(dsn: str) -> AsyncIterator[FaultProxy]:
    target = urlsplit(dsn)
    async with FaultProxy(target.hostname or "127.0.0.1", target.port or 5432) as p:
        yield p


@pytest.fixture
async def pool(proxy: FaultProxy, dsn: str) -> AsyncIterator[pgwire.Pool]:
    async with pgwire.create_pool(proxy.dsn(dsn), min_size=2, max_size=5, timeout=2) as p:
        yield p


async def healthy(pool: pgwire.Pool, deadline: float = 10.0) -> None:
    """Wait until nothing is on loan and every pooled connection is open and answers."""
    end = time.monotonic() + deadline
    while pool.get_stats().in_use or pool._opening:
        assert time.monotonic() < end, f"pool did not settle: {pool.get_stats()}"
        await asyncio.sleep(0.02)
    for _ in range(pool.get_max_size() * 2):
        async with pool.acquire(timeout=5) as con:
            assert not con.is_closed()
            assert not con.is_in_transaction()
            assert await con.fetchval("SELECT 1", timeout=5) == 1


async def test_connections_cut_while_idle_are_replaced_before_anyone_sees_them(
    proxy: FaultProxy, pool: pgwire.Pool
) -> None:
    proxy.cut_all()
    await asyncio.sleep(0.1)
    values = await asyncio.gather(*(pool.fetchval("SELECT $1::int", i) for i in range(20)))
    assert values == list(range(20))


async def test_connections_cut_while_in_use_fail_their_callers_and_are_not_returned(
    proxy: FaultProxy, pool: pgwire.Pool
) -> None:
    async def user(i: int) -> int:
        async with pool.acquire() as con:
            value: int = await con.fetchval("SELECT $1::int FROM pg_sleep(0.5)", i)
            return value

    users = [asyncio.ensure_future(user(i)) for i in range(5)]
    await asyncio.sleep(0.2)
    proxy.cut_all()
    results = await asyncio.gather(*users, return_exceptions=True)
    assert all(isinstance(r, BROKEN) for r in results), results
    await healthy(pool)


async def test_acquire_against_a_black_hole_times_out_on_time_and_leaks_nothing(
    proxy: FaultProxy, pool: pgwire.Pool
) -> None:
    proxy.plan = FaultPlan(blackhole=True)
    proxy.cut_all()
    await asyncio.sleep(0.1)
    started = time.monotonic()
    with pytest.raises((asyncio.TimeoutError, *BROKEN)):
        await pool.fetchval("SELECT 1", timeout=0.5)
    assert time.monotonic() - started < 0.5 + 2 + BOUND
    proxy.plan = FaultPlan()
    await healthy(pool)
    assert pool.get_size() <= pool.get_max_size()


async def test_a_stalled_network_times_calls_out_and_the_pool_heals_afterwards(
    proxy: FaultProxy, pool: pgwire.Pool
) -> None:
    await healthy(pool)
    proxy.stall()
    started = time.monotonic()
    results = await asyncio.gather(
        *(pool.fetchval("SELECT 1", timeout=0.3) for _ in range(4)), return_exceptions=True
    )
    assert time.monotonic() - started < 0.3 + BOUND + 2
    assert all(isinstance(r, (asyncio.TimeoutError, *BROKEN)) for r in results), results
    proxy.resume()
    await healthy(pool)


async def test_random_cuts_and_splits_under_load_give_right_answers_or_connection_errors(
    proxy: FaultProxy, pool: pgwire.Pool
) -> None:
    rng = random.Random(2024)
    wrong: list[tuple[int, object]] = []
    outcomes = {"ok": 0, "broken": 0}

    chaos_over = asyncio.Event()

    async def worker(w: int) -> None:
        # Keep calling for as long as the chaos lasts, so faults always meet live calls.
        n = 0
        while n < 40 or not chaos_over.is_set():
            n += 1
            i = w * 100000 + n
            try:
                if n % 5 == 0:
                    async with pool.acquire(timeout=5) as con:
                        async with con.transaction():
                            value = await con.fetchval("SELECT $1::int", i, timeout=5)
                else:
                    value = await pool.fetchval("SELECT $1::int", i, timeout=5)
            except (*BROKEN, ConnectionError, asyncio.TimeoutError):
                # ConnectionError: the pool had to open a connection and the proxy cut it.
                outcomes["broken"] += 1
                continue
            outcomes["ok"] += 1
            if value != i:
                wrong.append((i, value))

    async def chaos() -> None:
        for _ in range(15):
            await asyncio.sleep(rng.uniform(0.01, 0.05))
            proxy.plan = FaultPlan(
                to_client=StreamFaults(
                    split=rng.random() < 0.5,
                    drop_after=rng.choice([None, rng.randrange(600, 3000)]),
                )
            )
            victims = proxy.open_connections
            if victims and rng.random() < 0.5:
                rng.choice(victims).cut()
        proxy.plan = FaultPlan()
        proxy.cut_all()  # at least once, every connection dies under live calls
        chaos_over.set()

    await asyncio.wait_for(asyncio.gather(chaos(), *(worker(w) for w in range(6))), 60)
    assert wrong == []
    assert outcomes["ok"] > 0 and outcomes["broken"] > 0, outcomes
    await healthy(pool)
