"""A single connection under network faults injected by :class:`FaultProxy`.

Every operation ends within its timeout plus a bounded grace, a broken connection fails
with a connection error (never with another operation's rows), and a transaction cut
short is never reported as committed. The cancel grace is shortened so the suite stays
fast; the bounds are stated in terms of it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest

import pgwire
import pgwire.connection
from pgwire.testing.faultproxy import FaultPlan, FaultProxy, StreamFaults

#: The errors a call may raise when the network breaks under it.
BROKEN = (pgwire.ConnectionDoesNotExistError, pgwire.InterfaceError)
#: What a call may raise when bytes were corrupted: the above, a protocol error, a
#: timeout, a value that no longer decodes, or a server error (a corrupted request the
#: server rejected).
GARBLED = (*BROKEN, pgwire.InternalClientError, asyncio.TimeoutError, pgwire.PostgresError)

GRACE = 0.5
#: Time a timed-out call may take beyond its timeout: connecting for the CancelRequest,
#: waiting for the server to take it, waiting for the query to end, plus scheduling slack.
BOUND = 3 * GRACE + 1.0
#: A timed call raises within this many seconds of its deadline, whatever the network does.
DEADLINE_SLACK = 0.3


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
def via(proxy: FaultProxy, dsn: str) -> str:
    """The DSN that goes through the proxy."""
    return proxy.dsn(dsn)


@pytest.fixture
async def table(conn: Any) -> AsyncIterator[str]:
    name = f"faults_{random.randrange(1 << 30)}"
    await conn.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, note text)")
    yield name
    await conn.execute(f"DROP TABLE {name}")


class Clock:
    def __init__(self) -> None:
        self.start = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start


# ------------------------------------------------------------------ clean pass-through


async def test_results_are_exact_when_every_chunk_is_split_at_random_boundaries(
    proxy: FaultProxy, via: str
) -> None:
    proxy.plan = FaultPlan(
        to_server=StreamFaults(split=True), to_client=StreamFaults(split=True), seed=7
    )
    conn = await pgwire.connect(via)
    try:
        results = await asyncio.gather(
            *(conn.fetch("SELECT $1::int * g FROM generate_series(1, 50) g", i) for i in range(20))
        )
        for i, rows in enumerate(results):
            assert [r[0] for r in rows] == [i * g for g in range(1, 51)]
    finally:
        await conn.close()


async def test_copy_and_cursor_are_exact_through_random_splits(
    proxy: FaultProxy, via: str, table: str
) -> None:
    proxy.plan = FaultPlan(
        to_server=StreamFaults(split=True), to_client=StreamFaults(split=True), seed=11
    )
    conn = await pgwire.connect(via)
    try:
        await conn.copy_records_to_table(table, records=[(i, f"n{i}") for i in range(500)])
        async with conn.transaction():
            ids = [r["id"] async for r in conn.cursor(f"SELECT id FROM {table} ORDER BY id")]
        assert ids == list(range(500))
    finally:
        await conn.close()


# ------------------------------------------------------------------ connect


async def test_connect_to_a_black_hole_times_out_on_time(proxy: FaultProxy, via: str) -> None:
    proxy.plan = FaultPlan(blackhole=True)
    clock = Clock()
    with pytest.raises(asyncio.TimeoutError):
        await pgwire.connect(via, timeout=0.5)
    assert clock.elapsed < 0.5 + 0.5


@pytest.mark.parametrize("cut_at", [0, 1, 8, 9, 30, 100, 200])
async def test_connect_cut_by_the_server_side_fails_with_a_connection_error(
    proxy: FaultProxy, via: str, cut_at: int
) -> None:
    proxy.plan = FaultPlan(to_client=StreamFaults(drop_after=cut_at))
    with pytest.raises((*BROKEN, OSError)):
        await pgwire.connect(via, timeout=5)


@pytest.mark.parametrize("cut_at", [0, 4, 8, 20, 40])
async def test_connect_cut_on_the_client_side_fails_with_a_connection_error(
    proxy: FaultProxy, via: str, cut_at: int
) -> None:
    proxy.plan = FaultPlan(to_server=StreamFaults(drop_after=cut_at))
    with pytest.raises((*BROKEN, OSError)):
        await pgwire.connect(via, timeout=5)


# ------------------------------------------------------------------ queries


async def test_a_connection_cut_mid_result_fails_the_call_and_stays_closed(
    proxy: FaultProxy, via: str
) -> None:
    conn = await pgwire.connect(via)
    received = proxy.connections[-1].to_client
    proxy.connections[-1].plan = FaultPlan()
    proxy.cut_all()
    with pytest.raises(BROKEN):
        await conn.fetch("SELECT g FROM generate_series(1, 100000) g")
    assert conn.is_closed()
    with pytest.raises(pgwire.InterfaceError):
        await conn.fetchval("SELECT 1")
    assert received > 0


@pytest.mark.parametrize("cut_after", [10, 500, 5000, 20000])
async def test_pipelined_calls_behind_a_cut_all_fail_and_none_gets_another_result(
    proxy: FaultProxy, dsn: str, cut_after: int
) -> None:
    conn = await pgwire.connect(proxy.dsn(dsn))
    startup_bytes = proxy.connections[-1].to_client
    await conn.close()
    proxy.plan = FaultPlan(to_client=StreamFaults(drop_after=startup_bytes + cut_after))
    conn = await pgwire.connect(proxy.dsn(dsn))
    try:
        calls = [
            conn.fetch("SELECT $1::int AS who, g FROM generate_series(1, 100) g", i)
            for i in range(30)
        ]
        results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 10)
    finally:
        await conn.close()
    failed = 0
    for i, result in enumerate(results):
        if isinstance(result, BaseException):
            assert isinstance(result, BROKEN), result
            failed += 1
        else:
            assert [tuple(r) for r in result] == [(i, g) for g in range(1, 101)]
    assert failed > 0
    assert all(isinstance(r, BaseException) for r in results[len(results) - failed :])


async def _closed_within(conn: pgwire.Connection, seconds: float) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while not conn.is_closed() and loop.time() < end:
        await asyncio.sleep(0.05)
    return conn.is_closed()


async def test_a_stalled_network_raises_a_timed_call_at_its_deadline(
    proxy: FaultProxy, via: str
) -> None:
    conn = await pgwire.connect(via)
    proxy.stall()
    clock = Clock()
    with pytest.raises(asyncio.TimeoutError):
        await conn.fetchval("SELECT 1", timeout=0.3)
    assert clock.elapsed < 0.3 + DEADLINE_SLACK
    # The server never answered: the connection is aborted in the background.
    assert await _closed_within(conn, BOUND)
    proxy.resume()


@pytest.mark.parametrize("lost", ["blackhole", "drop"])
async def test_a_timed_out_call_whose_cancel_request_is_lost_raises_at_its_deadline(
    proxy: FaultProxy, via: str, lost: Any
) -> None:
    proxy.plan = FaultPlan(cancel=lost)
    conn = await pgwire.connect(via)
    clock = Clock()
    with pytest.raises(asyncio.TimeoutError):
        await conn.fetchval("SELECT pg_sleep(30)", timeout=0.3)
    assert clock.elapsed < 0.3 + DEADLINE_SLACK
    assert await _closed_within(conn, BOUND)


async def test_a_cancel_through_the_proxy_keeps_the_connection_usable(
    proxy: FaultProxy, via: str
) -> None:
    conn = await pgwire.connect(via)
    try:
        with pytest.raises(asyncio.TimeoutError):
            await conn.fetchval("SELECT pg_sleep(30)", timeout=0.2)
        assert await conn.fetchval("SELECT 42") == 42
        assert any(c.is_cancel for c in proxy.connections)
    finally:
        await conn.close()


async def test_close_on_a_stalled_network_returns_within_its_grace(
    proxy: FaultProxy, via: str
) -> None:
    conn = await pgwire.connect(via)
    proxy.stall()
    clock = Clock()
    try:
        await conn.close()
    except asyncio.TimeoutError:
        pass  # the server's goodbye never came: the transport was aborted
    assert clock.elapsed < GRACE + 0.5
    assert conn.is_closed()
    proxy.resume()


async def test_a_call_after_a_task_was_cancelled_on_a_stalled_network_ends_in_bounded_time(
    proxy: FaultProxy, via: str
) -> None:
    conn = await pgwire.connect(via)
    try:
        proxy.stall()
        task = asyncio.ensure_future(conn.fetchval("SELECT 1"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        follower = asyncio.ensure_future(conn.fetchval("SELECT 2"))
        done, _ = await asyncio.wait({follower}, timeout=BOUND + 2)
        proxy.resume()
        assert done, "the next call is still waiting"
        with pytest.raises(BROKEN):
            follower.result()
    finally:
        proxy.resume()
        conn.terminate()


# ------------------------------------------------------------------ corruption


@pytest.mark.parametrize("kind", ["corrupt_at", "duplicate_at"])
async def test_a_garbled_byte_anywhere_in_a_reply_never_hangs_and_never_lies(
    proxy: FaultProxy, dsn: str, kind: str
) -> None:
    conn = await pgwire.connect(proxy.dsn(dsn))
    startup = proxy.connections[-1].to_client
    await conn.close()
    rng = random.Random(kind)
    outcomes: dict[str, int] = {}
    for _ in range(12):
        offset = startup + rng.randrange(300)
        proxy.plan = FaultPlan(to_client=StreamFaults(**{kind: offset}))
        clock = Clock()
        try:
            conn = await pgwire.connect(proxy.dsn(dsn), timeout=2)
        except (*GARBLED, OSError) as exc:
            outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1
            continue
        try:
            # A corrupted length makes the reply look unfinished: only a timeout ends that.
            rows = await conn.fetch(
                "SELECT $1::text AS t FROM generate_series(1, 5)", "x" * 20, timeout=0.5
            )
            assert len(rows) == 5
            outcomes["ok"] = outcomes.get("ok", 0) + 1
        except GARBLED as exc:
            outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1
        finally:
            conn.terminate()
        assert clock.elapsed < 2 + 1 + BOUND
    assert outcomes.get("ok", 0) < 12, outcomes


# ------------------------------------------------------------------ transactions


async def test_a_transaction_cut_before_commit_is_not_committed(
    proxy: FaultProxy, via: str, conn: Any, table: str
) -> None:
    client = await pgwire.connect(via)
    with pytest.raises(BROKEN):
        async with client.transaction():
            await client.execute(f"INSERT INTO {table} VALUES (1, 'a')")
            proxy.cut_all()
            await asyncio.sleep(0.05)
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0


async def test_commit_reported_only_when_the_row_is_really_there(
    proxy: FaultProxy, dsn: str, conn: Any, table: str
) -> None:
    """Cut the server's replies at every offset of a short transaction.

    A commit that returns means the row exists; a commit that raised may or may not
    have reached the server (that is the honest answer), but it must raise.
    """
    probe = await pgwire.connect(proxy.dsn(dsn))
    start = proxy.connections[-1].to_client
    async with probe.transaction():
        await probe.execute(f"INSERT INTO {table} VALUES (0, 'probe')")
    length = proxy.connections[-1].to_client - start
    await probe.close()
    committed = failed = 0
    cuts = [*range(0, length, max(1, length // 20)), length - 1, length, length + 1]
    for i, cut in enumerate(cuts, start=1):
        proxy.plan = FaultPlan(to_client=StreamFaults(drop_after=start + cut))
        client = await pgwire.connect(proxy.dsn(dsn))
        try:
            async with client.transaction():
                await client.execute(f"INSERT INTO {table} VALUES ({i}, 'x')")
        except BROKEN:
            failed += 1
        else:
            committed += 1
            assert await conn.fetchval(f"SELECT count(*) FROM {table} WHERE id = $1", i) == 1
        finally:
            client.terminate()
    assert failed > 0 and committed > 0


# ------------------------------------------------------------------ COPY and cursors


async def test_copy_in_cut_midway_fails_and_loads_nothing(
    proxy: FaultProxy, dsn: str, conn: Any, table: str
) -> None:
    client = await pgwire.connect(proxy.dsn(dsn))
    sent = proxy.connections[-1].to_server
    proxy.connections[-1].plan = FaultPlan()
    await client.close()
    proxy.plan = FaultPlan(to_server=StreamFaults(drop_after=sent + 20000))
    client = await pgwire.connect(proxy.dsn(dsn))
    try:
        with pytest.raises(BROKEN):
            await client.copy_records_to_table(
                table, records=[(i, "y" * 50) for i in range(5000)], timeout=10
            )
    finally:
        client.terminate()
    await asyncio.sleep(0.2)  # let the server roll the COPY back
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0


async def test_copy_out_cut_midway_fails_with_a_connection_error(
    proxy: FaultProxy, dsn: str
) -> None:
    proxy.plan = FaultPlan(to_client=StreamFaults(drop_after=30000))
    client = await pgwire.connect(proxy.dsn(dsn))
    chunks: list[bytes] = []

    async def sink(data: bytes) -> None:
        chunks.append(data)

    try:
        with pytest.raises(BROKEN):
            await client.copy_from_query(
                "SELECT g, repeat('z', 40) FROM generate_series(1, 100000) g",
                output=sink,
                timeout=10,
            )
    finally:
        client.terminate()


async def test_cursor_cut_midway_fails_with_a_connection_error(
    proxy: FaultProxy, dsn: str
) -> None:
    proxy.plan = FaultPlan(to_client=StreamFaults(drop_after=20000))
    client = await pgwire.connect(proxy.dsn(dsn))
    seen: list[int] = []
    try:
        with pytest.raises(BROKEN):
            async with client.transaction():
                async for record in client.cursor(
                    "SELECT g FROM generate_series(1, 100000) g", prefetch=100
                ):
                    seen.append(record[0])
    finally:
        client.terminate()
    assert seen == list(range(1, len(seen) + 1))


# ------------------------------------------------------------------ LISTEN


async def test_a_listening_connection_cut_tells_its_termination_listener(
    proxy: FaultProxy, via: str
) -> None:
    client = await pgwire.connect(via)
    terminated = asyncio.Event()
    client.add_termination_listener(lambda _c: terminated.set())
    await client.add_listener("faults_chan", lambda *a: None)
    proxy.cut_all()
    await asyncio.wait_for(terminated.wait(), 2)
    assert client.is_closed()
