"""Cancellation storm: thousands of calls cancelled at random points.

Calls of every kind (queries, prepared statements, transactions, COPY in both
directions, cursors) run concurrently on a few connections and most are cancelled
after a random delay, so cancellations land while queued, on the wire, mid-COPY and
mid-cursor. Nobody cancels on the server's side (no ``pg_cancel_backend``), so no
call may end with ``QueryCanceledError``: a cancelled task raises ``CancelledError``,
a timed-out call ``TimeoutError``, and a CancelRequest must never hit a call still
waiting for its result. Afterwards every connection is idle, usable and outside any
transaction, ``pg_stat_activity`` shows exactly the expected backends, all idle, and
the tables are read back as a multiset of keys: every write (transaction INSERT, COPY
row, executemany row) is present exactly once when its call reported success, at most
once otherwise, all or nothing per call, and no row belongs to no call.

:func:`storm` is also the engine of ``tests/stress`` (more calls, longer).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

import pgwire

#: What a cancelled or timed-out call may end with besides its result. Not
#: QueryCanceledError: the storm sends no operator cancel, so one would mean a
#: CancelRequest reached a call nobody cancelled.
EXPECTED = (asyncio.CancelledError, asyncio.TimeoutError)

#: Rows each COPY in (kind 3) and each executemany (kind 7) writes under its call's key.
COPY_ROWS = 2000
MANY_ROWS = 3


#: 0 fetchval, 1 fetch with a sleep, 2 transaction, 3 COPY in, 4 COPY out, 5 cursor,
#: 6 a call that times out, 7 executemany.
KINDS = (0, 1, 2, 3, 4, 5, 6, 7)


@dataclass
class StormReport:
    ops: int = 0
    cancelled: int = 0
    completed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    wrong_results: list[Any] = field(default_factory=list)
    committed: set[int] = field(default_factory=set)
    #: The kind of each call, and how it ended ("ok" or the exception's name), by call.
    kinds: dict[int, int] = field(default_factory=dict)
    outcomes: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0


async def storm(
    dsn: str,
    *,
    ops: int,
    connections: int,
    seed: int,
    app: str,
    table: str,
    kinds: tuple[int, ...] = KINDS,
) -> tuple[StormReport, list[pgwire.Connection]]:
    """Run ``ops`` calls over ``connections`` connections, cancelling most at random.

    ``kinds`` picks the calls (see :data:`KINDS`).
    """
    rng = random.Random(seed)
    report = StormReport()
    conns = [
        await pgwire.connect(dsn, server_settings={"application_name": app})
        for _ in range(connections)
    ]

    async def sink(_data: bytes) -> None:
        await asyncio.sleep(0)

    async def call(i: int, con: pgwire.Connection, kind: int) -> None:
        if kind == 0:
            assert await con.fetchval("SELECT $1::int", i) == i
        elif kind == 1:
            rows = await con.fetch("SELECT $1::int AS v FROM pg_sleep(0.002)", i)
            if [r["v"] for r in rows] != [i]:
                report.wrong_results.append((i, rows))
        elif kind == 2:
            async with con.transaction():
                await con.execute(f"INSERT INTO {table} VALUES ($1)", i)
                await con.execute("SELECT pg_sleep(0.002)")
            report.committed.add(i)
        elif kind == 3:
            await con.copy_records_to_table(
                f"{table}_copy", records=((i, n, "x" * 30) for n in range(COPY_ROWS))
            )
        elif kind == 4:
            await con.copy_from_query(
                "SELECT g, repeat('y', 30) FROM generate_series(1, 20000) g", output=sink
            )
        elif kind == 5:
            async with con.transaction():
                n = 0
                async for record in con.cursor(
                    "SELECT g FROM generate_series(1, 3000) g", prefetch=100
                ):
                    n += 1
                    if record[0] != n:
                        report.wrong_results.append((i, record))
        elif kind == 6:
            value = await con.fetchval("SELECT $1::int FROM pg_sleep(0.05)", i, timeout=0.01)
            report.wrong_results.append((i, "a timed-out call returned", value))
        else:
            await con.executemany(
                f"INSERT INTO {table}_copy VALUES ($1, $2, 'm')",
                [(i, n) for n in range(MANY_ROWS)],
            )

    started = time.monotonic()
    tasks: list[asyncio.Task[None]] = []
    for i in range(ops):
        con = conns[rng.randrange(connections)]
        kind = rng.choice(kinds)
        report.kinds[i] = kind
        task = asyncio.ensure_future(call(i, con, kind))
        tasks.append(task)
        if rng.random() < 0.75:
            asyncio.get_running_loop().call_later(rng.uniform(0, 0.03), task.cancel)
        if i % 50 == 49:
            await asyncio.sleep(rng.uniform(0, 0.02))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    report.seconds = time.monotonic() - started
    report.ops = ops
    for i, result in enumerate(results):
        if result is None:
            report.completed += 1
            report.outcomes[i] = "ok"
            continue
        report.outcomes[i] = type(result).__name__
        if isinstance(result, asyncio.CancelledError):
            report.cancelled += 1
        else:
            name = type(result).__name__
            report.errors[name] = report.errors.get(name, 0) + 1
            if not isinstance(result, EXPECTED):
                kind = report.kinds[i]
                report.wrong_results.append((f"call {i} (kind {kind}) raised", repr(result)))
    return report, conns


def account_for_writes(
    report: StormReport, main_keys: list[int], copy_keys: list[tuple[int, int]]
) -> list[str]:
    """Compare the rows in the tables with what each call reported; the problems found.

    ``main_keys`` are the ids in the transaction table, ``copy_keys`` the
    (id, n) pairs in the COPY/executemany table, duplicates included.
    """
    problems: list[str] = []
    main = Counter(main_keys)
    copied = Counter(copy_keys)
    for key, count in main.items():
        if count > 1:
            problems.append(f"transaction insert {key} stored {count} times")
        if report.kinds.get(key) != 2:
            problems.append(f"row {key} in the transaction table belongs to no transaction call")
    by_call: dict[int, Counter[int]] = {}
    for (key, n), count in copied.items():
        if count > 1:
            problems.append(f"row ({key}, {n}) stored {count} times")
        by_call.setdefault(key, Counter())[n] += count
    for i, kind in report.kinds.items():
        ok = report.outcomes.get(i) == "ok"
        if kind == 2 and ok and main[i] != 1:
            problems.append(f"committed transaction {i} stored {main[i]} times")
        if kind in (3, 7):
            expected = COPY_ROWS if kind == 3 else MANY_ROWS
            rows = by_call.pop(i, Counter())
            if rows and sorted(rows) != list(range(expected)):
                problems.append(f"call {i} (kind {kind}) left a partial write: {len(rows)} rows")
            if ok and not rows:
                problems.append(f"call {i} (kind {kind}) succeeded but wrote nothing")
    for key in by_call:
        problems.append(f"rows under {key} belong to no COPY or executemany call")
    return problems


async def check_aftermath(
    dsn: str, conns: list[pgwire.Connection], report: StormReport, app: str, table: str
) -> None:
    """Every connection idle and usable, no leaked backend, every reported commit present."""
    for con in conns:
        assert await con.fetchval("SELECT 7", timeout=15) == 7
        assert not con.is_closed()
        assert not con.is_in_transaction()
    await asyncio.sleep(0.05)
    for con in conns:
        assert con._core.is_idle()
        assert not con._gate.busy
    observer = await pgwire.connect(dsn)
    try:
        backends = await observer.fetch(
            "SELECT pid, state, xact_start FROM pg_stat_activity WHERE application_name = $1",
            app,
        )
        assert sorted(r["pid"] for r in backends) == sorted(c.get_server_pid() for c in conns)
        assert {r["state"] for r in backends} == {"idle"}
        assert all(r["xact_start"] is None for r in backends)
        main_keys = [r[0] for r in await observer.fetch(f"SELECT id FROM {table}")]
        copy_keys = [(r[0], r[1]) for r in await observer.fetch(f"SELECT id, n FROM {table}_copy")]
        assert account_for_writes(report, main_keys, copy_keys) == []
    finally:
        await observer.close()
    assert report.wrong_results == []


async def make_tables(conn: Any, table: str) -> None:
    await conn.execute(
        f"DROP TABLE IF EXISTS {table}, {table}_copy;"
        f"CREATE TABLE {table} (id int); CREATE TABLE {table}_copy (id int, n int, note text)"
    )


#: The kinds of call that run outside a transaction block.
NO_TRANSACTION = (0, 1, 3, 4, 6, 7)


async def run_and_check(
    dsn: str, conn: Any, *, ops: int, connections: int, seed: int, kinds: tuple[int, ...]
) -> StormReport:
    app = table = f"cancel_storm_{seed}_{connections}"
    await make_tables(conn, table)
    report, conns = await storm(
        dsn, ops=ops, connections=connections, seed=seed, app=app, table=table, kinds=kinds
    )
    try:
        await check_aftermath(dsn, conns, report, app, table)
    finally:
        for con in conns:
            await con.close()
        await conn.execute(f"DROP TABLE {table}, {table}_copy")
    return report


async def test_two_thousand_calls_cancelled_at_random_leave_everything_clean(
    dsn: str, conn: Any
) -> None:
    report = await run_and_check(dsn, conn, ops=2000, connections=4, seed=1, kinds=NO_TRANSACTION)
    assert report.cancelled > 1000
    assert report.completed > 100


async def test_a_storm_on_a_single_connection_leaves_it_clean(dsn: str, conn: Any) -> None:
    report = await run_and_check(dsn, conn, ops=600, connections=1, seed=2, kinds=NO_TRANSACTION)
    assert report.cancelled > 300


async def test_a_task_cancelled_while_begin_is_on_the_wire_leaves_no_transaction_open(
    conn: Any,
) -> None:
    async def body() -> None:
        async with conn.transaction():
            await asyncio.sleep(10)

    task = asyncio.ensure_future(body())
    await asyncio.sleep(0)  # BEGIN is written and awaited
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await conn.fetchval("SELECT 1") == 1
    assert not conn.is_in_transaction()


async def test_a_storm_with_transactions_cursors_and_copies_leaves_everything_clean(
    dsn: str, conn: Any
) -> None:
    report = await run_and_check(dsn, conn, ops=2000, connections=4, seed=3, kinds=KINDS)
    assert report.cancelled > 1000
