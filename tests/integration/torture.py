"""Pipelining torture: many tasks on few connections, and an account of every write.

Each call writes rows under its own keys and records what it reported (success, a
definite failure, or an unknown outcome: a timeout, a cancellation, a broken
connection). Calls mix statements on first use with cached ones, scripts containing
COMMIT, ``transaction()`` blocks with savepoints, sibling tasks' nested blocks, bare
``BEGIN``, order probes (gathered calls, and ``pipeline()`` statements racing a call
made after them) and random timeouts and task cancellations, while a chaos task
sends operator cancels (``pg_cancel_backend``) and terminations
(``pg_terminate_backend``). Afterwards the table is compared with the reports:

* *duplicates*: a key stored more than once (work done twice);
* *lost*: a key reported written but absent;
* *phantom*: a key reported failed (or rolled back) but present;
* *misordered*: statements of one ``gather`` that ran out of submission order;
* *innocent cancels*: a ``QueryCanceledError`` in a call nobody cancelled;
* *hangs*: a call still running 30 s after its start.

:func:`torture` is used by ``test_torture.py`` (bounded) and ``tests/stress`` (large).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pgwire

HANG = 30.0

UNKNOWN = (
    asyncio.TimeoutError,
    asyncio.CancelledError,
    pgwire.ConnectionDoesNotExistError,
    pgwire.InterfaceError,
    pgwire.AdminShutdownError,
)


@dataclass
class TortureReport:
    calls: int = 0
    operations: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    duplicates: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)
    phantom: list[int] = field(default_factory=list)
    misordered: list[Any] = field(default_factory=list)
    innocent_cancels: list[str] = field(default_factory=list)
    hangs: int = 0
    unexpected: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (
            self.duplicates
            or self.lost
            or self.phantom
            or self.misordered
            or self.innocent_cancels
            or self.hangs
            or self.unexpected
            or self.leftovers
        )

    def summary(self) -> str:
        return (
            f"{self.calls} calls, {self.operations} operations in {self.seconds:.1f}s: "
            f"{len(self.duplicates)} duplicated, {len(self.lost)} lost, "
            f"{len(self.phantom)} phantom writes, {len(self.misordered)} misordered, "
            f"{len(self.innocent_cancels)} innocent cancels, {self.hangs} hangs, "
            f"{len(self.unexpected)} unexpected errors, {len(self.leftovers)} leftovers; "
            f"outcomes {dict(self.outcomes)}"
        )


class _Slot:
    """One connection of the run; replaced when a termination kills it."""

    def __init__(self, conn: pgwire.Connection) -> None:
        self.conn = conn
        #: Loop times at which an operator cancel was sent to this connection's backend.
        self.operator_cancels: list[float] = []
        self._lock = asyncio.Lock()

    async def connection(self, dsn: str, app: str) -> pgwire.Connection:
        """The slot's connection, a new one when the last was terminated."""
        if self.conn.is_closed():
            async with self._lock:
                if self.conn.is_closed():
                    self.conn = await pgwire.connect(
                        dsn, server_settings={"application_name": app}
                    )
                    self.operator_cancels = []
        return self.conn


async def torture(
    dsn: str, *, calls: int, connections: int = 3, seed: int = 0, table: str = "torture"
) -> TortureReport:
    """Run ``calls`` calls over ``connections`` connections and account for every write."""
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    report = TortureReport()
    app = f"pgwire-torture-{seed}"
    admin = await pgwire.connect(dsn)
    await admin.execute(
        f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (k bigint, note text);"
        f"DROP SEQUENCE IF EXISTS {table}_seq; CREATE SEQUENCE {table}_seq"
    )
    slots = [
        _Slot(await pgwire.connect(dsn, server_settings={"application_name": app}))
        for _ in range(connections)
    ]
    keys = itertools.count(1)
    #: key -> "ok" (reported written), "no" (reported not written), "?" (unknown)
    claims: dict[int, str] = {}
    ops = [0]

    def claim(key: int, outcome: str) -> None:
        claims[key] = outcome

    async def insert(conn: pgwire.Connection, key: int, variant: int, **kw: Any) -> None:
        # A few distinct texts: some are cached, some on first use on each connection.
        ops[0] += 1
        await conn.execute(f"INSERT INTO {table} VALUES ($1, 'v{variant}')", key, **kw)

    async def one_call(slot: _Slot, kind: int, timeout: float | None) -> None:
        conn = await slot.connection(dsn, app)
        if kind == 0:  # a single statement, first use or cached
            key = next(keys)
            claim(key, "?")
            try:
                await insert(conn, key, rng.randrange(20), timeout=timeout)
            except pgwire.QueryCanceledError:
                # One statement in its own implicit transaction: the error rolled it back.
                claim(key, "no")
                raise
            claim(key, "ok")
        elif kind == 1:  # a script that commits, then keeps the backend busy
            key = next(keys)
            claim(key, "?")
            ops[0] += 1
            await conn.execute(
                f"INSERT INTO {table} VALUES ({key}, 'script'); COMMIT; "
                f"SELECT pg_sleep({rng.choice((0, 0.001, 0.01))})",
                timeout=timeout,
            )
            claim(key, "ok")
        elif kind == 2:  # a transaction with a savepoint rolled back on purpose
            kept, undone = next(keys), next(keys)
            claim(kept, "?")
            claim(undone, "?")
            async with conn.transaction():
                await insert(conn, kept, rng.randrange(20))
                try:
                    async with conn.transaction():
                        await insert(conn, undone, rng.randrange(20))
                        raise _Rollback
                except _Rollback:
                    pass
                claim(undone, "no")
            claim(kept, "ok")
        elif kind == 3:  # sibling tasks' nested blocks inside one transaction
            family = [next(keys) for _ in range(4)]
            for key in family:
                claim(key, "?")

            async def child(key: int, keep: bool) -> None:
                try:
                    async with conn.transaction():
                        await insert(conn, key, rng.randrange(20))
                        await asyncio.sleep(0)
                        if not keep:
                            raise _Rollback
                except _Rollback:
                    claim(key, "no")

            async with conn.transaction():
                await asyncio.gather(*(child(k, i % 2 == 0) for i, k in enumerate(family)))
            for i, key in enumerate(family):
                if i % 2 == 0:
                    claim(key, "ok")
        elif kind == 4:  # a bare BEGIN from one task
            key = next(keys)
            claim(key, "?")
            ops[0] += 3
            await conn.execute("BEGIN")
            try:
                await conn.execute(f"INSERT INTO {table} VALUES ($1, 'bare')", key)
                status = await conn.execute("COMMIT" if rng.random() < 0.5 else "ROLLBACK")
                # COMMIT of a failed transaction reports ROLLBACK.
                claim(key, "ok" if status == "COMMIT" else "no")
            finally:
                if conn.is_in_transaction() and not conn.is_closed():
                    await conn.execute("ROLLBACK")
        elif kind == 6:  # a pipeline whose statements race a call made after them
            n = 4
            texts = [
                f"SELECT nextval('{table}_seq') + 0 * $1::int + {rng.randrange(30)}"
                for _ in range(n)
            ]
            ops[0] += n + 1
            after: list[asyncio.Task[Any]] = []
            try:
                async with conn.pipeline() as p:
                    results = [p.fetchval(t, 0) for t in texts]
                    after.append(asyncio.ensure_future(conn.fetchval(texts[0], 0)))
            finally:
                await asyncio.gather(*after, return_exceptions=True)
            values = []
            for r, t in zip(results, texts, strict=True):
                if r.exception() is None:
                    values.append(int(r.result()) - int(t.rsplit("+ ", 1)[1]))
            (late,) = await asyncio.gather(*after, return_exceptions=True)
            if not isinstance(late, BaseException):
                values.append(int(late) - int(texts[0].rsplit("+ ", 1)[1]))
            if values != sorted(values):
                report.misordered.append(("pipeline", values))
        else:  # an order probe: gathered statements, mixed first use and cached
            n = 5
            texts = [
                f"SELECT nextval('{table}_seq') + 0 * $1::int + {rng.randrange(30)}"
                for _ in range(n)
            ]
            ops[0] += n
            results = await asyncio.gather(
                *(conn.fetchval(t, 0) for t in texts), return_exceptions=True
            )
            seen = [
                int(r) - int(t.rsplit("+ ", 1)[1])
                for r, t in zip(results, texts, strict=True)
                if not isinstance(r, BaseException)
            ]
            if seen != sorted(seen):
                report.misordered.append(seen)

    async def run_call(slot: _Slot, kind: int, timeout: float | None, cancel: bool) -> None:
        started = loop.time()
        call = asyncio.ensure_future(one_call(slot, kind, timeout))
        if cancel:
            loop.call_later(rng.uniform(0, 0.02), call.cancel)
        done, _ = await asyncio.wait({call}, timeout=HANG)
        if not done:
            report.hangs += 1
            call.cancel()
            return
        if call.cancelled():
            report.outcomes["CancelledError"] += 1
            return
        exc = call.exception()
        if exc is None:
            report.outcomes["ok"] += 1
            return
        report.outcomes[type(exc).__name__] += 1
        if isinstance(exc, pgwire.QueryCanceledError):
            # Only an operator's cancel may fail a call with it: pgwire never lets its
            # own CancelRequest reach a call whose caller is still waiting.
            if not any(t >= started - 0.05 for t in slot.operator_cancels):
                report.innocent_cancels.append(f"kind {kind}: {exc}")
        elif not isinstance(exc, (*UNKNOWN, pgwire.PostgresError)):
            report.unexpected.append(f"kind {kind}: {exc!r}")

    async def chaos(stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(rng.uniform(0.002, 0.02))
            slot = rng.choice(slots)
            if slot.conn.is_closed():
                continue
            pid = slot.conn.get_server_pid()
            if rng.random() < 0.02:
                await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            else:
                slot.operator_cancels.append(loop.time())
                await admin.fetchval("SELECT pg_cancel_backend($1)", pid)

    started = time.monotonic()
    stop = asyncio.Event()
    chaos_task = asyncio.ensure_future(chaos(stop))
    tasks: list[asyncio.Task[None]] = []
    for _ in range(calls):
        slot = rng.choice(slots)
        kind = rng.randrange(8)
        timeout = rng.choice((None, None, None, 0.005, 0.05)) if kind in (0, 1) else None
        cancel = rng.random() < 0.2
        tasks.append(asyncio.ensure_future(run_call(slot, kind, timeout, cancel)))
        # Keep a few dozen calls in flight, so the chaos meets live calls all along.
        while sum(not t.done() for t in tasks[-100:]) > 40:
            await asyncio.sleep(0.002)
    await asyncio.gather(*tasks)
    stop.set()
    await chaos_task
    report.calls = calls
    report.operations = ops[0]
    # Let abandoned operations and cancels settle, then check every connection.
    await asyncio.sleep(0.2)
    for slot in slots:
        conn = slot.conn
        if conn.is_closed():
            continue
        try:
            assert await conn.fetchval("SELECT 7", timeout=15) == 7
        except Exception as exc:  # noqa: BLE001 - a terminate may still land
            if not conn.is_closed():
                report.leftovers.append(f"connection unusable: {exc!r}")
            continue
        if conn.is_in_transaction():
            report.leftovers.append("connection left in a transaction")
    rows = await admin.fetch(f"SELECT k, count(*) AS n FROM {table} GROUP BY k")
    stored = {r["k"]: r["n"] for r in rows}
    for key, n in stored.items():
        if n > 1:
            report.duplicates.append(key)
    for key, outcome in claims.items():
        present = key in stored
        if outcome == "ok" and not present:
            report.lost.append(key)
        elif outcome == "no" and present:
            report.phantom.append(key)
    await asyncio.sleep(0.3)
    busy = await admin.fetch(
        "SELECT pid, state, query FROM pg_stat_activity "
        "WHERE application_name = $1 AND state <> 'idle'",
        app,
    )
    report.leftovers.extend(f"backend {r['pid']} {r['state']}: {r['query']}" for r in busy)
    for slot in slots:
        await slot.conn.close()
    await admin.execute(f"DROP TABLE {table}; DROP SEQUENCE {table}_seq")
    await admin.close()
    report.seconds = time.monotonic() - started
    return report


class _Rollback(Exception):
    """Raised inside a block to roll it back on purpose."""
