"""Concurrent tasks share one connection: their operations are pipelined, never mixed up."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

import pgwire


async def test_concurrent_fetches_on_one_connection_each_get_their_own_result(conn):
    results = await asyncio.gather(*(conn.fetchval("SELECT $1::int * 2", i) for i in range(200)))
    assert results == [i * 2 for i in range(200)]


async def test_an_error_fails_only_its_own_operation(conn):
    async def ok(i):
        return await conn.fetchval("SELECT $1::int", i)

    async def bad():
        return await conn.fetchval("SELECT 1 / $1::int", 0)

    tasks = [ok(0), bad(), ok(2), bad(), ok(4)]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] == 0 and results[2] == 2 and results[4] == 4
    assert isinstance(results[1], pgwire.DivisionByZeroError)
    assert isinstance(results[3], pgwire.DivisionByZeroError)
    assert not conn.is_in_transaction()


def _count_writes(conn):
    writes = []
    original = conn._transport.write

    def counting_write(data):
        writes.append(len(data))
        return original(data)

    conn._transport.write = counting_write
    return writes


async def test_operations_queued_behind_another_in_one_loop_iteration_share_one_write(conn):
    await conn.fetchval("SELECT $1::int", 0)  # prepare and cache the statement
    writes = _count_writes(conn)
    try:
        results = await asyncio.gather(*(conn.fetchval("SELECT $1::int", i) for i in range(50)))
    finally:
        del conn._transport.write
    assert results == list(range(50))
    # The first goes out at once (the connection was idle), the other 49 together.
    assert len(writes) == 2


async def test_an_operation_on_an_idle_connection_is_written_before_the_task_yields(conn):
    await conn.fetchval("SELECT $1::int", 0)
    writes = _count_writes(conn)
    try:
        task = asyncio.ensure_future(conn.fetchval("SELECT $1::int", 7))
        await asyncio.sleep(0)  # lets the task run up to its first real wait
        written_before_any_other_callback = len(writes)
        assert await task == 7
    finally:
        del conn._transport.write
    assert written_before_any_other_callback == 1


async def test_an_operation_admitted_before_a_transaction_never_runs_inside_it(conn):
    # A statement seen for the first time needs a Parse round trip before its Bind:
    # a transaction that starts meanwhile must not send BEGIN ahead of that Bind.
    outsider = asyncio.ensure_future(
        conn.fetchval("SELECT current_setting('transaction_isolation') AS outsider")
    )
    await asyncio.sleep(0)  # the outsider is admitted and its Parse is on the wire
    async with conn.transaction(isolation="serializable"):
        inside = await conn.fetchval("SELECT current_setting('transaction_isolation')")
    assert inside == "serializable"
    assert await outsider == "read committed"


async def test_a_transaction_cancelled_while_earlier_operations_finish_releases_the_connection(
    conn,
):
    slow = asyncio.ensure_future(conn.fetchval("SELECT 1 FROM pg_sleep(0.3)"))
    await asyncio.sleep(0.05)

    async def block():
        async with conn.transaction():
            pass

    waiting = asyncio.ensure_future(block())
    await asyncio.sleep(0.05)  # it owns the connection and waits for the slow query
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await slow == 1
    assert await asyncio.wait_for(conn.fetchval("SELECT 2"), 5) == 2
    assert not conn.is_in_transaction()


async def test_a_transaction_holds_the_connection_until_it_ends(conn):
    await conn.execute("CREATE TEMP TABLE IF NOT EXISTS pipe_tx (v int)")
    await conn.execute("TRUNCATE pipe_tx")
    entered = asyncio.Event()

    async def writer():
        async with conn.transaction():
            await conn.execute("INSERT INTO pipe_tx VALUES (1)")
            entered.set()
            await asyncio.sleep(0.2)
            raise RuntimeError("roll back")

    async def reader():
        await entered.wait()
        # Runs after the rollback, never inside the writer's transaction.
        return await conn.fetchval("SELECT count(*) FROM pipe_tx")

    results = await asyncio.gather(writer(), reader(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert results[1] == 0


async def test_tasks_spawned_inside_a_transaction_run_in_it(conn):
    await conn.execute("CREATE TEMP TABLE IF NOT EXISTS pipe_child (v int)")
    async with conn.transaction():
        await conn.execute("INSERT INTO pipe_child VALUES (1)")
        counts = await asyncio.gather(
            *(conn.fetchval("SELECT count(*) FROM pipe_child") for _ in range(3))
        )
        assert counts == [1, 1, 1]
        await conn.execute("DELETE FROM pipe_child")


async def test_a_second_transaction_from_another_task_waits_for_the_first(conn):
    order = []

    async def block(name, pause):
        async with conn.transaction():
            order.append(f"{name} begin")
            await asyncio.sleep(pause)
            await conn.fetchval("SELECT 1")
            order.append(f"{name} end")

    await asyncio.gather(block("a", 0.1), block("b", 0))
    assert order == ["a begin", "a end", "b begin", "b end"]


async def test_a_timeout_while_queued_behind_a_slow_query_is_quick_and_harmless(conn):
    slow = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(0.5)::text || 'done'"))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        await conn.fetchval("SELECT 'queued'", timeout=0.1)
    assert time.monotonic() - started < 0.4
    assert await slow == "done"
    assert await conn.fetchval("SELECT 'after'") == "after"


async def test_cancelling_the_running_query_leaves_queued_ones_their_results(conn):
    slow = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(10)"))
    await asyncio.sleep(0.05)
    queued = [asyncio.ensure_future(conn.fetchval("SELECT $1::int", i)) for i in range(20)]
    await asyncio.sleep(0.05)
    slow.cancel()
    assert await asyncio.gather(*queued) == list(range(20))
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert await conn.fetchval("SELECT 'usable'") == "usable"


async def test_a_timed_out_running_query_is_cancelled_on_the_server_and_neighbours_succeed(conn):
    slow = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(10)", timeout=0.2))
    await asyncio.sleep(0.05)
    queued = [asyncio.ensure_future(conn.fetchval("SELECT $1::int + 1", i)) for i in range(20)]
    with pytest.raises(asyncio.TimeoutError):
        await slow
    assert await asyncio.gather(*queued) == [i + 1 for i in range(20)]


async def test_random_schedule_of_successes_errors_timeouts_and_cancels(conn):
    """Every task gets its own result or its own error; the connection ends idle."""
    rng = random.Random(20261126)
    await conn.execute("CREATE TEMP TABLE IF NOT EXISTS pipe_log (task int)")
    await conn.execute("TRUNCATE pipe_log")

    async def task(i, kind):
        if kind == "value":
            assert await conn.fetchval("SELECT $1::int", i) == i
            return "ok"
        if kind == "row":
            row = await conn.fetchrow("SELECT $1::int AS a, $1::text AS b", i)
            assert (row["a"], row["b"]) == (i, str(i))
            return "ok"
        if kind == "insert":
            await conn.execute("INSERT INTO pipe_log VALUES ($1)", i)
            return "ok"
        if kind == "error":
            with pytest.raises(pgwire.DivisionByZeroError):
                await conn.fetchval("SELECT $1::int / 0", i)
            return "error"
        if kind == "timeout":
            try:
                await conn.fetchval(
                    "SELECT pg_sleep(0.05)::text || $1::text", str(i), timeout=0.01
                )
            except asyncio.TimeoutError:
                return "timeout"
            return "ok"
        raise AssertionError(kind)

    kinds = ["value", "row", "insert", "error", "timeout", "cancel"]
    tasks = []
    inserted = set()
    for i in range(600):
        kind = rng.choice(kinds)
        if kind == "cancel":
            t = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(0.02)"))
            asyncio.get_running_loop().call_later(rng.random() * 0.05, t.cancel)
            tasks.append(t)
        else:
            if kind == "insert":
                inserted.add(i)
            tasks.append(asyncio.ensure_future(task(i, kind)))
        if rng.random() < 0.1:
            await asyncio.sleep(rng.random() * 0.01)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for r in results:
        assert r in ("ok", "error", "timeout", None) or isinstance(r, asyncio.CancelledError), r
    logged = {r["task"] for r in await conn.fetch("SELECT task FROM pipe_log")}
    assert logged == inserted
    assert await conn.fetchval("SELECT 'idle'") == "idle"
    assert not conn.is_in_transaction()
    assert conn._core.pending == 0


async def test_pipeline_block_returns_per_statement_results(conn):
    async with conn.pipeline() as p:
        a = p.fetchval("SELECT $1::int + 1", 1)
        b = p.fetchrow("SELECT $1::text AS t", "x")
        c = p.fetch("SELECT generate_series(1, $1::int) AS n", 3)
        d = p.execute("SELECT 1")
    assert a.result() == 2
    assert b.result()["t"] == "x"
    assert [r["n"] for r in c.result()] == [1, 2, 3]
    assert d.result() == "SELECT 1"
    assert [r.done() for r in p.results] == [True] * 4


async def test_pipeline_error_stays_with_its_statement(conn):
    async with conn.pipeline() as p:
        ok1 = p.fetchval("SELECT 1")
        bad = p.fetchval("SELECT 1 / 0")
        ok2 = p.fetchval("SELECT 2")
    assert ok1.result() == 1 and ok2.result() == 2
    assert isinstance(bad.exception(), pgwire.DivisionByZeroError)
    with pytest.raises(pgwire.DivisionByZeroError):
        bad.result()


async def test_pipeline_of_prepared_statements_takes_one_write(conn):
    await conn.fetchval("SELECT $1::int * 3", 0)
    writes = []
    original = conn._transport.write
    conn._transport.write = lambda data: (writes.append(data), original(data))[1]
    try:
        async with conn.pipeline() as p:
            results = [p.fetchval("SELECT $1::int * 3", i) for i in range(10)]
    finally:
        conn._transport.write = original
    assert [r.result() for r in results] == [i * 3 for i in range(10)]
    assert len(writes) == 1


async def test_pipeline_result_before_the_block_ends_is_an_interface_error(conn):
    async with conn.pipeline() as p:
        r = p.fetchval("SELECT 1")
        with pytest.raises(pgwire.InterfaceError):
            r.result()


async def test_adding_to_a_pipeline_outside_its_block_is_an_interface_error(conn):
    p = conn.pipeline()
    with pytest.raises(pgwire.InterfaceError):
        p.fetchval("SELECT 1")
