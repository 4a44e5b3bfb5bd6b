"""Pipelining you can trust: strict order, nothing run twice, no silent loss, no deadlock.

Each test is one of the failing inputs found by trying pgwire adversarially; they
run against both implementations like every integration test.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import pytest

import pgwire
import pgwire.gate


@pytest.fixture
async def observer(dsn: str) -> AsyncIterator[pgwire.Connection]:
    conn = await pgwire.connect(dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def wait_until_active(observer: pgwire.Connection, pid: int, needle: str) -> None:
    for _ in range(200):
        query = await observer.fetchval(
            "SELECT query FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", pid
        )
        if query is not None and needle in query:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"backend {pid} never ran {needle!r}")


# ------------------------------------------------------------------ 1. order


async def test_a_statement_on_first_use_runs_before_a_cached_one_submitted_after_it(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE acct (id int PRIMARY KEY, bal int)")
    await conn.execute("INSERT INTO acct VALUES (1, 100)")
    select = "SELECT bal FROM acct WHERE id = $1"
    assert await conn.fetchval(select, 1) == 100  # cached from now on
    async with conn.pipeline() as p:
        update = p.execute("UPDATE acct SET bal = bal - 30 WHERE id = $1", 1)  # first use
        balance = p.fetchval(select, 1)
    assert update.result() == "UPDATE 1"
    assert balance.result() == 70


async def test_gathered_calls_execute_in_submission_order_whatever_is_cached(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP SEQUENCE order_seq")
    # Half of the texts are cached before, half are on first use, in a mixed pattern.
    texts = [f"SELECT nextval('order_seq') + 0 * $1::int + {k}" for k in range(40)]
    for text in texts[::3]:
        await conn.fetchval(text, 0)
    await conn.execute("SELECT setval('order_seq', 1, false)")
    values = await asyncio.gather(*(conn.fetchval(text, 0) for text in texts))
    # Statement k ran as the (k+1)-th nextval of the sequence.
    assert [v - k for k, v in enumerate(values)] == list(range(1, 41))


# ------------------------------------------------------------------ 2, 3. no re-run


async def test_an_operator_cancel_fails_the_statement_and_nothing_is_sent_again(
    conn: pgwire.Connection, observer: pgwire.Connection
) -> None:
    await conn.execute("CREATE TEMP TABLE kv (k int PRIMARY KEY, v text)")
    insert = asyncio.ensure_future(conn.execute("INSERT INTO kv SELECT 1, 'old' FROM pg_sleep(2)"))
    update = asyncio.ensure_future(conn.execute("UPDATE kv SET v = 'new' WHERE k = 1"))
    await wait_until_active(observer, conn.get_server_pid(), "pg_sleep(2)")
    await observer.fetchval("SELECT pg_cancel_backend($1)", conn.get_server_pid())
    with pytest.raises(pgwire.QueryCanceledError):
        await insert
    assert await update == "UPDATE 0"
    assert await conn.fetch("SELECT * FROM kv") == []


async def test_a_script_that_committed_before_it_was_cancelled_is_not_run_again(
    conn: pgwire.Connection, observer: pgwire.Connection
) -> None:
    await conn.execute("DROP TABLE IF EXISTS once; CREATE TABLE once (v int)")
    try:
        call = asyncio.ensure_future(
            conn.execute("INSERT INTO once VALUES (1); COMMIT; SELECT pg_sleep(2)")
        )
        await wait_until_active(observer, conn.get_server_pid(), "pg_sleep(2)")
        await observer.fetchval("SELECT pg_cancel_backend($1)", conn.get_server_pid())
        with pytest.raises(pgwire.QueryCanceledError):
            await call
        assert await observer.fetchval("SELECT count(*) FROM once") == 1
    finally:
        await conn.execute("DROP TABLE once")


async def test_a_timed_out_script_that_committed_is_not_run_again(
    conn: pgwire.Connection, observer: pgwire.Connection
) -> None:
    await conn.execute("DROP TABLE IF EXISTS once_t; CREATE TABLE once_t (v int)")
    try:
        with pytest.raises(asyncio.TimeoutError):
            await conn.execute(
                "INSERT INTO once_t VALUES (1); COMMIT; SELECT pg_sleep(2)", timeout=0.3
            )
        # An operator cancel soon after pgwire's own is reported, not retried.
        call = asyncio.ensure_future(
            conn.execute("INSERT INTO once_t VALUES (2); COMMIT; SELECT pg_sleep(2)")
        )
        await wait_until_active(observer, conn.get_server_pid(), "VALUES (2)")
        await observer.fetchval("SELECT pg_cancel_backend($1)", conn.get_server_pid())
        with pytest.raises(pgwire.QueryCanceledError):
            await call
        rows = await observer.fetch("SELECT v FROM once_t ORDER BY v")
        assert [r["v"] for r in rows] == [1, 2]
    finally:
        await conn.execute("DROP TABLE once_t")


async def test_a_neighbours_timeout_never_cancels_a_call_behind_it(
    conn: pgwire.Connection,
) -> None:
    for _ in range(10):
        results = await asyncio.gather(
            conn.fetchval("SELECT 1 FROM pg_sleep(0.1)", timeout=0.02),
            *(conn.fetchval("SELECT $1::int FROM pg_sleep(0.01)", i) for i in range(5)),
            return_exceptions=True,
        )
        assert isinstance(results[0], asyncio.TimeoutError)
        assert results[1:] == [0, 1, 2, 3, 4]


# ------------------------------------------------------------------ 5. COPY


async def test_a_copy_right_after_a_neighbour_timed_out_is_not_cancelled(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE copied (v int)")
    for i in range(10):
        slow = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(0.05)", timeout=0.01))
        copy = asyncio.ensure_future(conn.copy_records_to_table("copied", records=[(i,), (i,)]))
        with pytest.raises(asyncio.TimeoutError):
            await slow
        assert await copy == "COPY 2"
    assert await conn.fetchval("SELECT count(*) FROM copied") == 20


# ------------------------------------------------------------------ 6. shared prepare


async def test_a_call_without_timeout_is_not_failed_by_anothers_timeout_on_the_same_query(
    conn: pgwire.Connection,
) -> None:
    query = "SELECT $1::int + 1000"
    await conn.fetchval("SELECT pg_sleep(0.3)")  # cached: goes out at once below
    results = await asyncio.gather(
        conn.fetchval("SELECT pg_sleep(0.3)"),
        conn.fetchval(query, 1, timeout=0.1),
        conn.fetchval(query, 2),
        return_exceptions=True,
    )
    assert isinstance(results[1], asyncio.TimeoutError)
    assert results[2] == 1002


# ------------------------------------------------------------------ 7. sibling savepoints


async def test_sibling_tasks_nested_blocks_run_one_after_another_and_lose_nothing(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE sib (task int)")

    async def child(n: int) -> None:
        try:
            async with conn.transaction():
                await conn.execute("INSERT INTO sib VALUES ($1)", n)
                await asyncio.sleep(0.01)
                if n % 2:
                    raise RuntimeError("roll back this one")
        except RuntimeError:
            pass

    async with conn.transaction():
        await asyncio.gather(*(child(n) for n in range(10)))
    rows = await conn.fetch("SELECT task FROM sib ORDER BY task")
    assert [r["task"] for r in rows] == [0, 2, 4, 6, 8]


async def test_a_nested_block_left_by_an_exception_rolls_back_to_its_savepoint(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE nest (v int)")
    async with conn.transaction():
        await conn.execute("INSERT INTO nest VALUES (1)")
        with pytest.raises(ZeroDivisionError):
            async with conn.transaction():
                await conn.execute("INSERT INTO nest VALUES (2)")
                1 / 0  # noqa: B018
        await conn.execute("INSERT INTO nest VALUES (3)")
    rows = await conn.fetch("SELECT v FROM nest ORDER BY v")
    assert [r["v"] for r in rows] == [1, 3]


# ------------------------------------------------------------------ 8. no deadlocks


async def test_a_transaction_started_through_wait_for_continues_in_the_caller(
    conn: pgwire.Connection,
) -> None:
    tr = conn.transaction()
    # On Python < 3.12 wait_for runs start() in a child task.
    await asyncio.wait_for(tr.start(), 5)
    assert await asyncio.wait_for(conn.fetchval("SELECT 1"), 5) == 1
    assert conn.is_in_transaction()
    await asyncio.wait_for(tr.rollback(), 5)
    assert not conn.is_in_transaction()


async def test_a_transaction_started_in_a_setup_task_is_continued_by_another(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE handed (v int)")
    tr = conn.transaction()
    await asyncio.ensure_future(tr.start())

    async def continue_it() -> None:
        await conn.execute("INSERT INTO handed VALUES (1)")
        await tr.commit()

    await asyncio.wait_for(asyncio.ensure_future(continue_it()), 5)
    assert await conn.fetchval("SELECT count(*) FROM handed") == 1


async def test_a_transaction_owner_awaiting_a_task_that_needs_the_connection_gets_an_error(
    conn: pgwire.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pgwire.gate, "OWNER_IDLE_LIMIT", 0.3)
    jobs: asyncio.Queue[int] = asyncio.Queue()

    async def worker() -> int:
        n = await jobs.get()
        return int(await conn.fetchval("SELECT $1::int", n))

    task = asyncio.ensure_future(
        worker(),
    )
    task.set_name("queue-worker")
    await asyncio.sleep(0)
    async with conn.transaction():
        await jobs.put(5)
        with pytest.raises(pgwire.InterfaceError, match="queue-worker.*deadlock"):
            await asyncio.wait_for(task, 5)
    assert await conn.fetchval("SELECT 2") == 2


async def test_a_transaction_of_a_released_pool_connection_cannot_touch_the_next_user(
    dsn: str,
) -> None:
    async with pgwire.create_pool(dsn, min_size=1, max_size=1) as pool:
        await pool.execute("CREATE TABLE IF NOT EXISTS pool_next (v int); TRUNCATE pool_next")
        try:
            conn = await pool.acquire()
            tr = conn.transaction()
            await tr.start()
            await pool.release(conn)
            async with pool.acquire() as other:
                async with other.transaction():
                    await other.execute("INSERT INTO pool_next VALUES (1)")
                    with pytest.raises(pgwire.InterfaceError, match="released"):
                        await tr.rollback()
            assert await pool.fetchval("SELECT count(*) FROM pool_next") == 1
        finally:
            await pool.execute("DROP TABLE pool_next")


# ------------------------------------------------------------------ 9. bare BEGIN


async def test_a_bare_begin_keeps_other_tasks_writes_out_of_its_transaction(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE bare (who text)")
    began = asyncio.Event()

    async def owner() -> None:
        await conn.execute("BEGIN")
        began.set()
        await conn.execute("INSERT INTO bare VALUES ('owner')")
        await asyncio.sleep(0.1)
        await conn.execute("ROLLBACK")

    async def neighbour() -> str:
        await began.wait()
        return await conn.execute("INSERT INTO bare VALUES ('neighbour')")

    _, status = await asyncio.gather(owner(), neighbour())
    assert status == "INSERT 0 1"
    rows = await conn.fetch("SELECT who FROM bare")
    assert [r["who"] for r in rows] == ["neighbour"]


async def test_a_bare_begin_whose_call_timed_out_is_rolled_back(
    conn: pgwire.Connection,
) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await conn.execute("SELECT pg_sleep(0.2); BEGIN", timeout=0.05)
    assert await conn.fetchval("SELECT 1") == 1
    assert not conn.is_in_transaction()


# ------------------------------------------------------------------ 10. close


async def test_close_cancels_a_query_still_running(conn: pgwire.Connection) -> None:
    call = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(30)"))
    await asyncio.sleep(0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await conn.close()
    assert loop.time() - started < 3
    with pytest.raises(pgwire.QueryCanceledError):
        await call


@pytest.mark.skipif(sys.version_info < (3, 10), reason="asyncio.timeout semantics")
async def test_close_honours_its_timeout(conn: pgwire.Connection) -> None:
    call = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(30)"))
    await asyncio.sleep(0.2)
    # Hold the backend in a state where the cancel cannot stop it quickly.
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        await conn.close(timeout=0.05)
    except asyncio.TimeoutError:
        pass
    assert loop.time() - started < 0.5
    assert conn.is_closed()
    with pytest.raises((pgwire.QueryCanceledError, pgwire.ConnectionDoesNotExistError)):
        await call


# ------------------------------------------------------------------ 4. pools


@pytest.mark.parametrize("routing", [False, True], ids=["pool", "routing-pool"])
async def test_a_pool_does_not_run_a_terminated_script_again(
    dsn: str, observer: pgwire.Connection, routing: bool
) -> None:
    from pgwire.pool_routing import create_routing_pool

    await observer.execute("DROP TABLE IF EXISTS term_once; CREATE TABLE term_once (v int)")
    pool = (
        create_routing_pool(dsn, min_size=1, max_size=1)
        if routing
        else pgwire.create_pool(dsn, min_size=1, max_size=1)
    )
    try:
        async with pool:
            async with pool.acquire() as conn:
                pid = conn.get_server_pid()
            call = asyncio.ensure_future(
                pool.execute("INSERT INTO term_once VALUES (1); COMMIT; SELECT pg_sleep(2)")
            )
            await wait_until_active(observer, pid, "pg_sleep(2)")
            await observer.fetchval("SELECT pg_terminate_backend($1)", pid)
            with pytest.raises((pgwire.AdminShutdownError, pgwire.ConnectionDoesNotExistError)):
                await call
            assert await observer.fetchval("SELECT count(*) FROM term_once") == 1
    finally:
        await observer.execute("DROP TABLE term_once")


async def test_a_long_lived_task_running_many_transactions_leaves_no_callbacks_behind(
    conn: pgwire.Connection,
) -> None:
    task = asyncio.current_task()
    assert task is not None
    for _ in range(50):
        async with conn.transaction():
            async with conn.transaction():
                await conn.execute("SELECT 1")
    # Only the gate's own watchers would pile up; none may be left once the blocks ended.
    assert not conn._gate._watched_tasks


async def test_a_cached_statement_evicted_by_calls_ahead_in_line_is_prepared_again(
    dsn: str,
) -> None:
    conn = await pgwire.connect(dsn, statement_cache_size=1)
    try:
        await conn.fetchval("SELECT 1")  # cached
        results = await asyncio.gather(
            conn.fetchval("SELECT 2"),  # first use: evicts "SELECT 1"
            conn.fetchval("SELECT 3"),
            conn.fetchval("SELECT 1"),
            conn.fetchval("SELECT 1"),
        )
        assert results == [2, 3, 1, 1]
    finally:
        await conn.close()


async def test_a_pipeline_statement_runs_before_a_call_made_after_it_was_added(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP SEQUENCE po_seq; CREATE TEMP TABLE po (who text, v bigint)")
    added = asyncio.Event()

    async def piped() -> None:
        async with conn.pipeline() as p:
            p.execute("INSERT INTO po VALUES ('pipe', nextval('po_seq'))")
            added.set()

    async def plain() -> None:
        await added.wait()
        await conn.execute("INSERT INTO po VALUES ('plain', nextval('po_seq'))")

    # piped() runs first; plain() was scheduled before the pipeline task was created.
    await asyncio.gather(piped(), plain())
    rows = await conn.fetch("SELECT who FROM po ORDER BY v")
    assert [r["who"] for r in rows] == ["pipe", "plain"]


async def test_a_pipeline_statement_cancelled_before_it_ran_holds_nobody_back(
    conn: pgwire.Connection,
) -> None:
    async with conn.pipeline() as p:
        doomed = p.fetchval("SELECT 1")
        doomed._task.cancel()
    assert await asyncio.wait_for(conn.fetchval("SELECT 2"), 5) == 2


async def test_close_cancels_every_statement_still_on_the_wire(
    conn: pgwire.Connection, observer: pgwire.Connection
) -> None:
    pid = conn.get_server_pid()
    calls = [asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(3)")) for _ in range(3)]
    await wait_until_active(observer, pid, "pg_sleep(3)")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await conn.close()  # no timeout: returns, never raises TimeoutError
    assert loop.time() - started < 2
    for result in await asyncio.gather(*calls, return_exceptions=True):
        assert isinstance(result, pgwire.QueryCanceledError), result
    assert not conn.is_in_transaction()
    assert (
        await observer.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid) == 0
    )


async def test_calls_waiting_for_their_turn_fail_at_once_when_the_session_is_terminated(
    conn: pgwire.Connection, observer: pgwire.Connection
) -> None:
    pid = conn.get_server_pid()
    slow = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(0.3)", timeout=0.05))
    await asyncio.sleep(0.1)  # timed out: its cancel is on its way or done
    # First use: holds the line for its Parse; the others queue behind it.
    waiting = [asyncio.ensure_future(conn.fetchval(f"SELECT {i} + $1::int", 0)) for i in range(5)]
    await asyncio.sleep(0)
    await observer.fetchval("SELECT pg_terminate_backend($1)", pid)
    results = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 5)
    assert all(
        isinstance(r, (pgwire.ConnectionDoesNotExistError, pgwire.InterfaceError)) or r == i
        for i, r in enumerate(results)
    ), results
    with pytest.raises(asyncio.TimeoutError):
        await slow


async def test_a_bare_begin_cancelled_right_after_its_answer_leaves_no_orphan_transaction(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE orphan (v int)")
    for _ in range(20):
        call = asyncio.ensure_future(conn.execute("BEGIN"))
        while conn._core.transaction_status != "T":
            await asyncio.sleep(0)
        call.cancel()  # the answer is in; the task has not resumed yet
        with pytest.raises(asyncio.CancelledError):
            await call
        # Nobody owns that transaction: it must not swallow the next statement.
        await conn.execute("INSERT INTO orphan VALUES (1)")
        assert not conn.is_in_transaction()
    assert await conn.fetchval("SELECT count(*) FROM orphan") == 20
