"""Driver comparison harness: pgwire (compiled and pure) against asyncpg, psycopg and pg8000.

Usage::

    python benchmarks/run.py                      # own TempServer, every driver and workload
    python benchmarks/run.py --dsn postgresql://... --rounds 5 --duration 3 --loop uvloop
    python benchmarks/run.py --drivers pgwire,asyncpg --workloads select1,series
    python benchmarks/run.py --chart benchmarks/chart.png   # also a PNG bar chart (only then)

Every (round, workload, driver) measurement runs in a fresh child process (so
the compiled and the pure pgwire never share a process, and no driver warms
another's caches); rounds interleave the drivers so machine noise hits them
alike. Each child runs its workload for ``--duration`` seconds on one event
loop and reports operations per second (or rows per second). The table shows
the median over rounds, its ratio to asyncpg, and the min/max over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import importlib.util
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

DRIVERS = ("pgwire-compiled", "pgwire-pure", "asyncpg", "psycopg", "pg8000")

SERIES_SQL = (
    "SELECT i, 'row ' || i, now() + i * interval '1 second', (i / 7.0)::numeric(12, 4),"
    " i * 1.5::float8 FROM generate_series(1, 1000) AS i"
)
ARRAY_SQL = "SELECT ARRAY(SELECT generate_series(1, 100)) FROM generate_series(1, 100)"
BYTEA_SQL = "SELECT repeat('x', 1048576)::bytea"
PG_TYPE_SQL = "SELECT * FROM pg_type"
MEMORY_SQL = (
    "SELECT i, 'row ' || i, now() + i * interval '1 second', (i / 7.0)::numeric(12, 4),"
    " i * 1.5::float8 FROM generate_series(1, 1000000) AS i"
)
BULK_ROWS = 100_000


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    unit: str  # "q/s", "rows/s" or "MB"


WORKLOADS = {
    w.name: w
    for w in (
        Workload("select1", "SELECT 1, {concurrency} connections", "q/s"),
        Workload("pg_type", "SELECT * FROM pg_type", "q/s"),
        Workload("series", "generate_series 1000 x 5 cols", "q/s"),
        Workload("int4_array", "int4[100] x 100 rows", "q/s"),
        Workload("bytea", "1 MB bytea", "q/s"),
        Workload("executemany", "executemany 100k rows", "rows/s"),
        Workload("copy_records", "COPY records 100k rows", "rows/s"),
        Workload("pool", "100 tasks / pool of {concurrency}", "q/s"),
        Workload("pipeline", "100 tasks / 1 connection", "q/s"),
        Workload("memory", "peak RSS, 1M rows x 5 cols", "MB"),
    )
}
DEFAULT_WORKLOADS = [name for name in WORKLOADS if name != "memory"]


def title(workload: str, concurrency: int = 10) -> str:
    """The workload's title, with the connection count the run used (``--concurrency``)."""
    text = WORKLOADS[workload].title.format(concurrency=concurrency)
    return text.replace("1 connections", "1 connection") if concurrency == 1 else text


class Skip(Exception):
    """The driver cannot run this workload."""


# --- driver adapters (child process side) --------------------------------------------------


class Driver:
    """The few operations the workloads need, for one driver."""

    placeholder = "$"
    #: Tasks may share one connection (pipelining); otherwise they take turns with a lock.
    pipelines = False

    async def connect(self, dsn: str) -> Any:
        raise NotImplementedError

    async def close(self, conn: Any) -> None:
        await conn.close()

    async def fetch(self, conn: Any, sql: str) -> int:
        """Run ``sql`` and return the number of rows fetched."""
        raise NotImplementedError

    async def execute(self, conn: Any, sql: str) -> None:
        raise NotImplementedError

    async def executemany(self, conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
        raise Skip("executemany")

    async def copy_records(self, conn: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
        raise Skip("copy_records_to_table")

    async def pool_run(self, dsn: str, tasks: int, size: int, duration: float) -> int:
        raise Skip("pool")


class AsyncpgLike(Driver):
    """asyncpg, and pgwire through its asyncpg-compatible API."""

    def __init__(self, module: Any) -> None:
        self.module = module
        # asyncpg raises "another operation is in progress" for a shared connection.
        self.pipelines = module.__name__ == "pgwire"

    async def connect(self, dsn: str) -> Any:
        return await self.module.connect(dsn)

    async def fetch(self, conn: Any, sql: str) -> int:
        return len(await conn.fetch(sql))

    async def execute(self, conn: Any, sql: str) -> None:
        await conn.execute(sql)

    async def executemany(self, conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
        await conn.executemany(sql, rows)

    async def copy_records(self, conn: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
        if not hasattr(conn, "copy_records_to_table"):
            raise Skip("copy_records_to_table")
        await conn.copy_records_to_table(table, records=rows)

    async def pool_run(self, dsn: str, tasks: int, size: int, duration: float) -> int:
        if not hasattr(self.module, "create_pool"):
            raise Skip("pool")
        pool = await self.module.create_pool(dsn, min_size=size, max_size=size)
        try:
            return await _run_tasks(tasks, duration, lambda: pool.fetchval("SELECT 1"))
        finally:
            await pool.close()


class Psycopg(Driver):
    placeholder = "%s"

    def __init__(self) -> None:
        import psycopg

        self.psycopg = psycopg

    async def connect(self, dsn: str) -> Any:
        return await self.psycopg.AsyncConnection.connect(dsn, autocommit=True)

    async def fetch(self, conn: Any, sql: str) -> int:
        cur = await conn.execute(sql, binary=True)
        return len(await cur.fetchall())

    async def execute(self, conn: Any, sql: str) -> None:
        await conn.execute(sql)

    async def executemany(self, conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
        async with conn.cursor() as cur:
            await cur.executemany(sql, rows)

    async def copy_records(self, conn: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
        async with conn.cursor() as cur:
            async with cur.copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "text", "float8"])
                for row in rows:
                    await copy.write_row(row)

    async def pool_run(self, dsn: str, tasks: int, size: int, duration: float) -> int:
        try:
            import psycopg_pool
        except ImportError:
            raise Skip("psycopg_pool is not installed") from None
        pool = psycopg_pool.AsyncConnectionPool(dsn, min_size=size, max_size=size, open=False)
        await pool.open()

        async def one() -> None:
            async with pool.connection() as conn:
                await conn.execute("SELECT 1")

        try:
            return await _run_tasks(tasks, duration, one)
        finally:
            await pool.close()


class Pg8000(Driver):
    """pg8000 is synchronous: its calls block the loop, so concurrency is one."""

    placeholder = "%s"

    def __init__(self) -> None:
        import pg8000.native

        self.native = pg8000.native

    async def connect(self, dsn: str) -> Any:
        url = urlparse(dsn)
        return self.native.Connection(
            user=unquote(url.username or "postgres"),
            password=unquote(url.password) if url.password else None,
            host=url.hostname or "localhost",
            port=url.port or 5432,
            database=(url.path or "/postgres")[1:] or "postgres",
        )

    async def close(self, conn: Any) -> None:
        conn.close()

    async def fetch(self, conn: Any, sql: str) -> int:
        return len(conn.run(sql))

    async def execute(self, conn: Any, sql: str) -> None:
        conn.run(sql)

    async def executemany(self, conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
        stmt = conn.prepare(
            sql.replace("%s", ":p0", 1).replace("%s", ":p1", 1).replace("%s", ":p2", 1)
        )
        conn.run("BEGIN")
        for a, b, c in rows:
            stmt.run(p0=a, p1=b, p2=c)
        conn.run("COMMIT")


def make_driver(name: str) -> Driver:
    if name.startswith("pgwire"):
        import pgwire
        import pgwire._impl

        wanted = "compiled" if name == "pgwire-compiled" else "python"
        if pgwire._impl.IMPL != wanted:
            raise Skip(f"pgwire runs the {pgwire._impl.IMPL} implementation here")
        return AsyncpgLike(pgwire)
    if name == "asyncpg":
        import asyncpg

        return AsyncpgLike(asyncpg)
    if name == "psycopg":
        return Psycopg()
    if name == "pg8000":
        try:
            return Pg8000()
        except ImportError:
            raise Skip("pg8000 is not installed") from None
    raise Skip(f"unknown driver {name}")


# --- workloads (child process side) ----------------------------------------------------------


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) ``pid`` has used; 0.0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_cpu(postmaster: int) -> float:
    """CPU seconds of the PostgreSQL server: the postmaster and every child process."""
    total = _process_cpu(postmaster)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class CpuMeter:
    """Client (this process) and server CPU seconds over the timed part of a workload.

    Server CPU is read from ``/proc`` when the postmaster's pid is known (the
    harness's own TempServer, or ``--server-pid``); terminated backends' time is
    lost, so connections are opened before the meter starts.
    """

    def __init__(self) -> None:
        self.server_pid: int | None = None
        self.client = 0.0
        self.server: float | None = None
        self.units = 0
        self._start: tuple[float, float | None] = (0.0, None)

    def start(self) -> None:
        t = os.times()
        server = _server_cpu(self.server_pid) if self.server_pid else None
        self._start = (t.user + t.system, server)

    def stop(self, units: int) -> None:
        t = os.times()
        client0, server0 = self._start
        self.client = t.user + t.system - client0
        if server0 is not None and self.server_pid:
            self.server = _server_cpu(self.server_pid) - server0
        self.units = units


METER = CpuMeter()


async def _run_tasks(
    tasks: int, duration: float, op: Callable[[], Awaitable[Any]], *, metered: bool = True
) -> int:
    """Run ``tasks`` concurrent loops of ``op`` for ``duration`` seconds; operations done."""
    deadline = time.perf_counter() + duration
    done = 0

    async def loop() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await op()
            done += 1

    if metered:
        METER.start()
    await asyncio.gather(*(loop() for _ in range(tasks)))
    if metered:
        METER.stop(done)
    return done


async def _timed(duration: float, op: Callable[[], Awaitable[int]]) -> float:
    """Repeat ``op`` (returning units done) for at least ``duration`` s; units per second."""
    await op()  # warm-up: prepares statements, fills caches
    units = 0
    METER.start()
    start = time.perf_counter()
    while True:
        units += await op()
        elapsed = time.perf_counter() - start
        if elapsed >= duration:
            METER.stop(units)
            return units / elapsed


def _bulk_rows() -> list[tuple[Any, ...]]:
    return [(i, f"name {i}", i * 0.5) for i in range(BULK_ROWS)]


async def run_workload(driver: Driver, workload: str, dsn: str, args: argparse.Namespace) -> float:
    duration: float = args.duration
    if workload == "pool":
        done = await driver.pool_run(dsn, 100, args.concurrency, duration)
        return done / duration
    if workload == "pipeline":
        if isinstance(driver, Pg8000):
            raise Skip("pg8000 has no asyncio connection")
        conn = await driver.connect(dsn)
        try:
            await driver.fetch(conn, "SELECT 1")
            lock = None if driver.pipelines else asyncio.Lock()

            async def shared() -> int:
                if lock is None:
                    return await driver.fetch(conn, "SELECT 1")
                async with lock:
                    return await driver.fetch(conn, "SELECT 1")

            done = await _run_tasks(100, duration, shared)
            return done / duration
        finally:
            await driver.close(conn)
    if workload == "select1":
        conns = [await driver.connect(dsn) for _ in range(args.concurrency)]
        try:
            if isinstance(driver, Pg8000):
                conns = conns[:1]
            for conn in conns:
                await driver.fetch(conn, "SELECT 1")
            METER.start()
            start = time.perf_counter()
            done = await asyncio.gather(
                *(
                    _run_tasks(1, duration, lambda c=c: driver.fetch(c, "SELECT 1"), metered=False)
                    for c in conns
                )
            )
            elapsed = time.perf_counter() - start
            METER.stop(sum(done))
            return sum(done) / elapsed
        finally:
            for conn in conns:
                await driver.close(conn)
    conn = await driver.connect(dsn)
    try:
        if workload in ("series", "int4_array", "bytea", "pg_type"):
            sql = {
                "series": SERIES_SQL,
                "int4_array": ARRAY_SQL,
                "bytea": BYTEA_SQL,
                "pg_type": PG_TYPE_SQL,
            }[workload]

            async def query() -> int:
                await driver.fetch(conn, sql)
                return 1

            return await _timed(duration, query)
        if workload == "memory":
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            await driver.fetch(conn, MEMORY_SQL)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return max(peak, before) / 1024.0
        rows = _bulk_rows()
        await driver.execute(conn, "CREATE TEMP TABLE bench_rows (a int4, b text, c float8)")
        p = driver.placeholder
        if workload == "executemany":
            sql = f"INSERT INTO bench_rows VALUES ({p}1, {p}2, {p}3)"
            if p == "%s":
                sql = "INSERT INTO bench_rows VALUES (%s, %s, %s)"

            async def bulk() -> int:
                await driver.executemany(conn, sql, rows)
                return len(rows)
        elif workload == "copy_records":

            async def bulk() -> int:
                await driver.copy_records(conn, "bench_rows", rows)
                return len(rows)
        else:
            raise Skip(f"unknown workload {workload}")

        async def truncate_then_bulk() -> int:
            await driver.execute(conn, "TRUNCATE bench_rows")
            return await bulk()

        return await _timed(duration, truncate_then_bulk)
    finally:
        await driver.close(conn)


def child_main(args: argparse.Namespace) -> None:
    if args.loop == "uvloop":
        import uvloop

        uvloop.install()
    METER.server_pid = args.server_pid
    try:
        driver = make_driver(args.child_driver)
        value = asyncio.run(run_workload(driver, args.child_workload, args.dsn, args))
        result: dict[str, float] = {"value": value}
        if METER.units:
            result["client_cpu"] = METER.client / METER.units
            if METER.server is not None:
                result["server_cpu"] = METER.server / METER.units
        print(json.dumps(result))
    except Skip as exc:
        print(json.dumps({"skip": str(exc)}))


# --- parent: rounds, table --------------------------------------------------------------


def child_env(driver: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PGWIRE_REQUIRE_COMPILED", None)
    if driver == "pgwire-compiled":
        env["PGWIRE_IMPL"] = "compiled"
    elif driver == "pgwire-pure":
        env["PGWIRE_IMPL"] = "python"
    return env


Measurement = dict[str, float]


def measure(driver: str, workload: str, dsn: str, args: argparse.Namespace) -> Measurement | str:
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--child-driver",
        driver,
        "--child-workload",
        workload,
        "--dsn",
        dsn,
        "--duration",
        str(args.duration),
        "--concurrency",
        str(args.concurrency),
        "--loop",
        args.loop,
    ]
    if args.server_pid:
        cmd += ["--server-pid", str(args.server_pid)]
    proc = subprocess.run(
        cmd, env=child_env(driver), capture_output=True, text=True, timeout=600, check=False
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"error: {tail}"
    result = json.loads(lines[-1])
    if "skip" in result:
        return f"skip: {result['skip']}"
    return {key: float(value) for key, value in result.items()}


def fmt(value: float, unit: str) -> str:
    if unit == "MB":
        return f"{value:.0f} MB"
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e4:
        return f"{value / 1e3:.1f}k"
    return f"{value:.0f}"


def ratios_to_asyncpg(
    results: dict[str, dict[str, list[float | str]]], drivers: list[str], workloads: list[str]
) -> dict[str, dict[str, float]]:
    """``{workload: {driver: median ratio to asyncpg}}``, higher is better.

    For ``memory`` the ratio is inverted (asyncpg's peak RSS over the driver's).
    Workloads without an asyncpg median, and drivers without values, are left out.
    """
    out: dict[str, dict[str, float]] = {}
    for workload in workloads:
        base_values = [v for v in results[workload].get("asyncpg", []) if isinstance(v, float)]
        if not base_values:
            continue
        base = statistics.median(base_values)
        row: dict[str, float] = {}
        for driver in drivers:
            values = [v for v in results[workload].get(driver, []) if isinstance(v, float)]
            if values and base:
                median = statistics.median(values)
                inverted = WORKLOADS[workload].unit == "MB"
                row[driver] = base / median if inverted else median / base
        out[workload] = row
    return out


def write_chart(
    results: dict[str, dict[str, list[float | str]]],
    drivers: list[str],
    workloads: list[str],
    path: str,
    subtitle: str,
    concurrency: int = 10,
) -> None:
    """Write a PNG bar chart: one bar group per workload, one bar per driver, y = ratio.

    Drivers that measured nothing (skipped, not installed) are left out.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    ratios = ratios_to_asyncpg(results, drivers, workloads)
    shown = [w for w in workloads if w in ratios]
    drivers = [d for d in drivers if any(d in ratios[w] for w in shown)]
    width = 0.8 / max(len(drivers), 1)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.3 * len(shown) + 2), 5.0))
    for i, driver in enumerate(drivers):
        xs = [j + (i - (len(drivers) - 1) / 2) * width for j in range(len(shown))]
        ys = [ratios[w].get(driver, 0.0) for w in shown]
        ax.bar(xs, ys, width, label=driver)
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xticks(range(len(shown)))
    ax.set_xticklabels([title(w, concurrency) for w in shown], rotation=25, ha="right")
    ax.set_ylabel("ratio to asyncpg (higher is better)")
    ax.set_title(f"pgwire benchmarks: median ratio to asyncpg\n{subtitle}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format=chart_format(path))
    plt.close(fig)


def report(
    results: dict[str, dict[str, list[float | str]]],
    drivers: list[str],
    workloads: list[str],
    concurrency: int = 10,
) -> str:
    lines = [
        "| workload | " + " | ".join(drivers) + " |",
        "|---|" + "---|" * len(drivers),
    ]
    ratios: dict[str, list[float]] = {d: [] for d in drivers}
    for workload in workloads:
        unit = WORKLOADS[workload].unit
        base_values = [v for v in results[workload].get("asyncpg", []) if isinstance(v, float)]
        base = statistics.median(base_values) if base_values else None
        cells = []
        for driver in drivers:
            values = [v for v in results[workload].get(driver, []) if isinstance(v, float)]
            if not values:
                notes = [v for v in results[workload].get(driver, []) if isinstance(v, str)]
                cells.append(notes[0][:40] if notes else "-")
                continue
            median = statistics.median(values)
            cell = fmt(median, unit) if unit == "MB" else f"{fmt(median, unit)} {unit}"
            if base:
                ratio = median / base if unit != "MB" else base / median
                ratios[driver].append(ratio)
                cell += f" ({ratio:.2f}x)"
            cell += f" [{fmt(min(values), unit)}..{fmt(max(values), unit)}]"
            cells.append(cell)
        lines.append(f"| {title(workload, concurrency)} | " + " | ".join(cells) + " |")
    geo = []
    for driver in drivers:
        r = ratios[driver]
        geo.append(f"{math.exp(sum(map(math.log, r)) / len(r)):.2f}x" if r else "-")
    lines.append("| geometric mean vs asyncpg | " + " | ".join(geo) + " |")
    return "\n".join(lines)


def _postmaster_pid(datadir: Any) -> int | None:
    try:
        with open(os.path.join(str(datadir), "postmaster.pid")) as f:
            return int(f.readline())
    except (OSError, ValueError):
        return None


def cpu_report(
    cpu: dict[str, dict[str, list[Measurement]]],
    drivers: list[str],
    workloads: list[str],
    concurrency: int = 10,
) -> str:
    """A table of median client and server CPU microseconds per operation.

    A server column near the wall time per operation means the workload is
    bound by the server, whatever the driver does.
    """
    lines = [
        "| workload | " + " | ".join(drivers) + " |",
        "|---|" + "---|" * len(drivers),
    ]
    for workload in workloads:
        if WORKLOADS[workload].unit == "MB":
            continue
        scale = 1000 if WORKLOADS[workload].unit == "rows/s" else 1
        cells = []
        for driver in drivers:
            runs = cpu[workload].get(driver, [])
            client = [m["client_cpu"] for m in runs if "client_cpu" in m]
            server = [m["server_cpu"] for m in runs if "server_cpu" in m]
            if not client:
                cells.append("-")
                continue
            cell = f"{statistics.median(client) * scale * 1e6:.0f}"
            cell += f" / {statistics.median(server) * scale * 1e6:.0f} µs" if server else " / - µs"
            cells.append(cell)
        lines.append(f"| {title(workload, concurrency)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: The modules each driver needs in the child processes.
DRIVER_MODULES = {
    "pgwire-compiled": "pgwire",
    "pgwire-pure": "pgwire",
    "asyncpg": "asyncpg",
    "psycopg": "psycopg",
    "pg8000": "pg8000",
}


def _names(parser: argparse.ArgumentParser, option: str, text: str, known: Any) -> list[str]:
    """The comma-separated names of ``option``; an unknown one is a usage error (status 2)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        parser.error(f"{option} names nothing; choose from {', '.join(known)}")
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            parser.error(f"{option}: unknown name {name!r}; {hint}choose from {', '.join(known)}")
    return names


def missing_modules(drivers: list[str], loop: str, chart: bool) -> list[str]:
    """The modules the run needs that cannot be imported here (checked before any server)."""
    needed = [DRIVER_MODULES[d] for d in drivers]
    if loop == "uvloop":
        needed.append("uvloop")
    if chart:
        needed.append("matplotlib")
    missing: list[str] = []
    for module in dict.fromkeys(needed):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(module)
    return missing


def chart_format(path: str) -> str:
    """The chart's file format, named by the suffix of ``path`` (``'png'``); ``''`` without one."""
    return os.path.splitext(path)[1].lstrip(".").lower()


def chart_formats() -> list[str]:
    """The file formats matplotlib can write (``'png'``, ``'svg'``, ``'pdf'``, ...)."""
    from matplotlib.backend_bases import FigureCanvasBase

    return sorted(FigureCanvasBase.get_supported_filetypes())


def _check_dsn(parser: argparse.ArgumentParser, dsn: str) -> None:
    """A DSN pgwire cannot parse is a usage error (each driver would fail on it alike)."""
    try:
        from pgwire import ClientConfigurationError
        from pgwire.connect_params import parse_connect_arguments
    except ImportError:
        return  # pgwire unusable in this process; the children report it
    try:
        parse_connect_arguments(dsn=dsn)
    except ClientConfigurationError as exc:
        parser.error(f"--dsn: {' '.join(str(exc).split())}")


def _check_server_pid(parser: argparse.ArgumentParser, pid: int) -> None:
    if pid < 0:
        parser.error(f"--server-pid: must be a process id, not {pid}")
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        parser.error(f"--server-pid {pid}: no such process on this machine")
    except PermissionError:
        pass  # it exists, owned by another user


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Everything the parent can check before it starts a server or a child.

    Unknown driver or workload names, a DSN that cannot be parsed, a
    ``--server-pid`` of no process, a ``--chart`` or ``--json`` path that is a
    directory or in a missing one, a chart format matplotlib cannot write and
    a chart without asyncpg (its ratios are to asyncpg) are usage errors
    (status 2); a missing dependency is a failure (status 1).
    """
    args.drivers = ",".join(_names(parser, "--drivers", args.drivers, DRIVERS))
    args.workloads = ",".join(_names(parser, "--workloads", args.workloads, WORKLOADS))
    if args.dsn:
        _check_dsn(parser, args.dsn)
    if args.server_pid:
        _check_server_pid(parser, args.server_pid)
    for option, path in (("--chart", args.chart), ("--json", args.json)):
        if path and os.path.isdir(path):
            parser.error(f"{option} {path}: is a directory, not a file")
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            parser.error(f"{option} {path}: the directory does not exist")
    if args.chart:
        if "asyncpg" not in args.drivers.split(","):
            parser.error("--chart shows each driver's ratio to asyncpg: add asyncpg to --drivers")
        if not chart_format(args.chart):
            parser.error(
                f"--chart {args.chart}: name the format by the file's suffix (.png, .svg, .pdf)"
            )
    missing = missing_modules(args.drivers.split(","), args.loop, bool(args.chart))
    if missing:
        print(
            f"{parser.prog}: error: not installed: {', '.join(missing)}; install them "
            "(pip install -e '.[bench]' installs every one) or leave out what needs them "
            "(--drivers, --loop, --chart)",
            file=sys.stderr,
        )
        raise SystemExit(1)
    if args.chart and chart_format(args.chart) not in chart_formats():
        parser.error(
            f"--chart {args.chart}: matplotlib cannot write .{chart_format(args.chart)} files; "
            f"use one of {', '.join('.' + f for f in chart_formats())}"
        )


def failures(results: dict[str, dict[str, list[float | str]]]) -> str:
    """The measurements that failed, as one line (``''`` when none did); skips are not failures."""
    failed: dict[tuple[str, str], list[str]] = {}
    total = 0
    for workload, by_driver in results.items():
        for driver, values in by_driver.items():
            total += len(values)
            errors = [v for v in values if isinstance(v, str) and v.startswith("error:")]
            if errors:
                failed[workload, driver] = errors
    if not failed:
        return ""
    count = sum(len(errors) for errors in failed.values())
    named = [
        f"{workload} with {driver} ({errors[0].removeprefix('error:').strip()})"
        for (workload, driver), errors in list(failed.items())[:3]
    ]
    more = f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
    return f"{count} of {total} measurements failed: {'; '.join(named)}{more}"


def parent_main(args: argparse.Namespace) -> None:
    drivers = [d for d in args.drivers.split(",") if d]
    workloads = [w for w in args.workloads.split(",") if w]
    server = None
    dsn = args.dsn
    if not dsn:
        from pgwire.testing import TempServer

        server = TempServer()
        server.start()
        dsn = server.dsn
        if not args.server_pid:
            args.server_pid = _postmaster_pid(server.datadir)
    results: dict[str, dict[str, list[float | str]]] = {w: {} for w in workloads}
    cpu: dict[str, dict[str, list[Measurement]]] = {w: {} for w in workloads}
    try:
        for round_no in range(1, args.rounds + 1):
            for workload in workloads:
                for driver in drivers:
                    measured = measure(driver, workload, dsn, args)
                    if isinstance(measured, str):
                        value: float | str = measured
                    else:
                        value = measured["value"]
                        cpu[workload].setdefault(driver, []).append(measured)
                    results[workload].setdefault(driver, []).append(value)
                    shown = (
                        value if isinstance(value, str) else fmt(value, WORKLOADS[workload].unit)
                    )
                    print(f"round {round_no} {workload:13} {driver:16} {shown}", file=sys.stderr)
    finally:
        if server is not None:
            server.stop()
    setup = (
        f"{args.rounds} rounds x {args.duration:g} s, loop={args.loop}, "
        f"concurrency={args.concurrency}"
    )
    print(f"\n{setup}; median (ratio to asyncpg) [min..max over rounds]\n")
    print(report(results, drivers, workloads, args.concurrency))
    if any(WORKLOADS[w].unit != "MB" for w in workloads):
        print(
            "\nCPU per operation (query, or 1000 rows), median over rounds: client (this"
            " driver's process) / server (every PostgreSQL process; '-' when not measurable)\n"
        )
        print(cpu_report(cpu, drivers, workloads, args.concurrency))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"throughput": results, "cpu": cpu}, out, indent=1)
    failed = failures(results)
    if failed:
        if args.chart:
            print(f"\nno chart written: {args.chart} is left as it was", file=sys.stderr)
        raise RunFailed(failed)
    if args.chart:
        if not any(ratios_to_asyncpg(results, drivers, workloads).values()):
            raise RunFailed("no chart written: no driver has a ratio to asyncpg to show")
        write_chart(results, drivers, workloads, args.chart, setup, args.concurrency)
        print(f"\nchart written to {args.chart}", file=sys.stderr)


class RunFailed(Exception):
    """The run ended but did not measure what it was asked to (exit status 1)."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        # `python -m pgwire bench` runs this file and names itself through the environment.
        prog=os.environ.get("PGWIRE_BENCH_PROG") or None,
        description=__doc__.split("\n\n")[0],
        epilog="No chart is written unless --chart names a file. Exit status: 0 success, "
        "1 failure (a missing dependency, a failed measurement), 2 usage error, "
        "130 interrupted.",
    )
    parser.add_argument("--dsn", default=os.environ.get("PGWIRE_BENCH_DSN", ""))
    parser.add_argument("--rounds", type=_positive_int, default=3)
    parser.add_argument(
        "--duration", type=_positive_seconds, default=2.0, help="seconds per measurement"
    )
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=10,
        help="connections of select1, pool size of pool",
    )
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--drivers", default=",".join(DRIVERS))
    parser.add_argument("--workloads", default=",".join(DEFAULT_WORKLOADS))
    parser.add_argument("--json", help="also write raw results to this file")
    parser.add_argument(
        "--chart",
        metavar="PATH",
        help="also write a bar chart of the ratios to asyncpg (needs asyncpg in --drivers), "
        "in the format its suffix names (.png, .svg, .pdf)",
    )
    parser.add_argument(
        "--server-pid",
        type=int,
        default=0,
        help="postmaster pid of a server on this machine, for its CPU (own server: automatic)",
    )
    parser.add_argument(
        "--debug", action="store_true", help="on an error, show the traceback instead of one line"
    )
    parser.add_argument("--child-driver", help=argparse.SUPPRESS)
    parser.add_argument("--child-workload", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_driver:
        child_main(args)
        return
    try:
        check_arguments(parser, args)
        parent_main(args)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except RunFailed as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except Exception as exc:
        if args.debug:
            raise
        text = " ".join(str(exc).split()) or "no message"
        print(
            f"{parser.prog}: error: {type(exc).__name__}: {text} (--debug shows the traceback)",
            file=sys.stderr,
        )
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
