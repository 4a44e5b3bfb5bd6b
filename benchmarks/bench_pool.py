"""Pool throughput: 100 concurrent tasks doing ``pool.fetchval('SELECT $1::int', i)``.

pgwire and asyncpg pools of the same size run in interleaved rounds on the same
event loop against the same server, so both see the same machine load. The
report gives queries per second per round, the medians and pgwire's ratio.

    python benchmarks/bench_pool.py [--dsn DSN] [--rounds 5] [--seconds 2]
                                    [--tasks 100] [--pool-size 10] [--uvloop]

Without ``--dsn`` (or ``$PGWIRE_TEST_DSN``) a throwaway ``TempServer`` is started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import pgwire


async def _run_round(pool: Any, tasks: int, seconds: float) -> float:
    """Queries per second of ``tasks`` workers hammering ``pool`` for ``seconds``."""
    count = 0
    stop_at = time.perf_counter() + seconds

    async def worker(i: int) -> None:
        nonlocal count
        fetchval = pool.fetchval
        while time.perf_counter() < stop_at:
            value = await fetchval("SELECT $1::int", i)
            assert value == i
            count += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(tasks)))
    return count / (time.perf_counter() - start)


async def _bench(dsn: str, args: argparse.Namespace) -> None:
    import asyncpg

    drivers: dict[str, Callable[..., Any]] = {
        "pgwire": pgwire.create_pool,
        "asyncpg": asyncpg.create_pool,
    }
    pools = {
        name: await create(dsn, min_size=args.pool_size, max_size=args.pool_size)
        for name, create in drivers.items()
    }
    results: dict[str, list[float]] = {name: [] for name in pools}
    try:
        for pool in pools.values():  # warm-up: statement caches, connections
            await _run_round(pool, args.tasks, 0.3)
        for r in range(args.rounds):
            order = list(pools) if r % 2 == 0 else list(reversed(pools))
            for name in order:
                qps = await _run_round(pools[name], args.tasks, args.seconds)
                results[name].append(qps)
                print(f"round {r + 1}  {name:8s} {qps:10.0f} q/s", flush=True)
    finally:
        for pool in pools.values():
            await pool.close()
    medians = {name: statistics.median(v) for name, v in results.items()}
    print()
    for name, value in medians.items():
        print(f"median {name:8s} {value:10.0f} q/s")
    print(f"pgwire / asyncpg: {medians['pgwire'] / medians['asyncpg']:.2f}x")
    print(f"pgwire pool stats: {pools['pgwire'].get_stats()}")


@contextlib.contextmanager
def _server(dsn: str | None) -> Iterator[str]:
    if dsn:
        yield dsn
        return
    from pgwire.testing import TempServer

    with TempServer() as server:
        yield server.dsn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=os.environ.get("PGWIRE_TEST_DSN"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        uvloop.install()
    with _server(args.dsn) as dsn:
        asyncio.run(_bench(dsn, args))


if __name__ == "__main__":
    main()
