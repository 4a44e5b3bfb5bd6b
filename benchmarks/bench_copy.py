"""COPY and cursor throughput, pgwire against asyncpg, interleaved in one loop.

Measures, for ``--rows`` rows (default 1M):

* ``copy_records_to_table`` of (int, text, timestamptz, numeric) records: rows/s;
* ``copy_from_query`` of the table into a file: rows/s and peak RSS growth;
* iteration of ``cursor()`` over the table (``--prefetch`` rows per round trip):
  rows/s and peak RSS growth.

Runs alternate between the drivers (pgwire, asyncpg, pgwire, ...) so that
machine noise hits both alike; the best run of each is reported with the
pgwire/asyncpg ratio. Uses ``--dsn`` / ``$PGWIRE_TEST_DSN`` or a TempServer.

    python benchmarks/bench_copy.py [--rows N] [--repeat R] [--prefetch P]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import decimal
import os
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pgwire

try:
    import asyncpg
except ImportError:  # the comparison is optional
    asyncpg = None

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


class PeakRSS:
    """Samples the process RSS from a thread; ``growth`` is peak minus start, in bytes."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.start = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss())
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss())

    @property
    def growth(self) -> int:
        return self.peak - self.start


def make_records(n: int) -> list[tuple[int, str, datetime.datetime, decimal.Decimal]]:
    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    step = datetime.timedelta(seconds=1)
    return [(i, f"name {i}", base + i * step, decimal.Decimal(i) / 100) for i in range(n)]


async def bench_copy_records(conn: Any, records: list[Any], table: str) -> float:
    await conn.execute(f"TRUNCATE {table}")
    t0 = time.perf_counter()
    await conn.copy_records_to_table(table, records=records)
    return time.perf_counter() - t0


async def bench_copy_out(conn: Any, table: str, path: str) -> tuple[float, int]:
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        await conn.copy_from_query(f"SELECT * FROM {table}", output=path)
        elapsed = time.perf_counter() - t0
    return elapsed, mem.growth


async def bench_cursor(conn: Any, table: str, prefetch: int) -> tuple[float, int]:
    count = 0
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        async with conn.transaction():
            async for _ in conn.cursor(f"SELECT * FROM {table}", prefetch=prefetch):
                count += 1
        elapsed = time.perf_counter() - t0
    return elapsed, mem.growth


async def interleave(
    drivers: dict[str, Any], repeat: int, run: Callable[[str, Any], Awaitable[Any]]
) -> dict[str, list[Any]]:
    results: dict[str, list[Any]] = {name: [] for name in drivers}
    for _ in range(repeat):
        for name, conn in drivers.items():
            results[name].append(await run(name, conn))
    return results


def report(title: str, rows: int, results: dict[str, list[Any]], with_mem: bool) -> None:
    print(f"\n{title}")
    best: dict[str, float] = {}
    for name, runs in results.items():
        times = [r[0] if with_mem else r for r in runs]
        best[name] = min(times)
        line = f"  {name:8s} {rows / best[name]:>12,.0f} rows/s  (best of {len(runs)})"
        if with_mem:
            line += f"  peak RSS growth {max(r[1] for r in runs) / 2**20:6.1f} MiB"
        print(line)
    if "asyncpg" in best:
        print(f"  ratio pgwire/asyncpg (rows/s): {best['asyncpg'] / best['pgwire']:.2f}x")


async def main(dsn: str, rows: int, repeat: int, prefetch: int) -> None:
    drivers: dict[str, Any] = {"pgwire": await pgwire.connect(dsn)}
    if asyncpg is not None:
        drivers["asyncpg"] = await asyncpg.connect(dsn)
    setup = drivers["pgwire"]
    tables = {name: f"bench_copy_{name}" for name in drivers}
    for table in tables.values():
        await setup.execute(
            f"DROP TABLE IF EXISTS {table};"
            f"CREATE UNLOGGED TABLE {table} (i int, t text, ts timestamptz, n numeric)"
        )
    records = make_records(rows)
    print(f"{rows:,} rows, pgwire implementation: {pgwire._impl.IMPL}")
    try:
        results = await interleave(
            drivers, repeat, lambda name, conn: bench_copy_records(conn, records, tables[name])
        )
        report("copy_records_to_table (int, text, timestamptz, numeric)", rows, results, False)
        records.clear()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "out.txt")
            results = await interleave(
                drivers, repeat, lambda name, conn: bench_copy_out(conn, tables[name], path)
            )
            report("copy_from_query -> file", rows, results, True)
        results = await interleave(
            drivers, repeat, lambda name, conn: bench_cursor(conn, tables[name], prefetch)
        )
        report(f"cursor iteration (prefetch={prefetch})", rows, results, True)
    finally:
        for table in tables.values():
            await setup.execute(f"DROP TABLE IF EXISTS {table}")
        for conn in drivers.values():
            await conn.close()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=os.environ.get("PGWIRE_TEST_DSN"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--prefetch", type=int, default=1000)
    args = parser.parse_args()
    if args.dsn:
        asyncio.run(main(args.dsn, args.rows, args.repeat, args.prefetch))
        return
    from pgwire.testing import TempServer

    with TempServer() as server:
        asyncio.run(main(server.dsn, args.rows, args.repeat, args.prefetch))


if __name__ == "__main__":
    cli()
