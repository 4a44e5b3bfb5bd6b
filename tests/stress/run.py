"""Long reliability runs: fuzzing, network faults, cancellation storms, crashes, soak.

Not part of the default test command. Every run is bounded in count and time and stops
by itself; the results are written to ``tests/stress/RELIABILITY.md`` (a table
generated here, never edited by hand) and ``tests/stress/results.json``.

    python tests/stress/run.py all            # every run at its full size
    python tests/stress/run.py all --quick    # every run, small (a minute or two)
    python tests/stress/run.py fuzz --inputs 1000000
    python tests/stress/run.py faults --runs 2000
    python tests/stress/run.py storm --ops 20000
    python tests/stress/run.py torture --calls 20000
    python tests/stress/run.py crash --rounds 20
    python tests/stress/run.py soak --seconds 600

A run *fails* (exit status 1) when it sees a hang, a wrong result, a leak or an
unexpected exception; its row in the table says which.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "unit"), str(HERE.parent / "integration")]

import pgwire  # noqa: E402
import pgwire.connection  # noqa: E402
from pgwire.testing import TempServer  # noqa: E402
from pgwire.testing.faultproxy import FaultPlan, FaultProxy, StreamFaults  # noqa: E402

BROKEN = (pgwire.ConnectionDoesNotExistError, pgwire.InterfaceError)
GARBLED = (*BROKEN, pgwire.InternalClientError, asyncio.TimeoutError, pgwire.PostgresError)
CRASH = (
    OSError,
    asyncio.TimeoutError,
    pgwire.PostgresConnectionError,
    pgwire.OperatorInterventionError,
    pgwire.InterfaceError,
)


@dataclass
class Result:
    name: str
    command: str
    runs: int = 0
    ops: int = 0
    hangs: int = 0
    wrong: int = 0
    leaks: int = 0
    unexpected: int = 0
    seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.hangs or self.wrong or self.leaks or self.unexpected)


# ------------------------------------------------------------------ fuzz


def run_fuzz(inputs: int, seconds: float) -> Result:
    import test_fuzz_protocol_core as fz

    result = Result("fuzz: mutated and random backend streams", f"fuzz --inputs {inputs}")
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    seed = 0
    while result.runs < inputs and time.monotonic() - started < seconds:
        rng = random.Random(seed)
        seed += 1
        for label, fn, data in (
            ("session", fz.run_session, fz.mutate(fz.SESSION, rng)),
            ("startup", fz.run_startup, fz.mutate(fz.STARTUP, rng)),
            ("random", fz.run_session, rng.randbytes(rng.randrange(1, 200))),
        ):
            t0 = time.monotonic()
            try:
                fn(data, rng)
                outcomes[f"{label}: accepted or closed cleanly"] += 1
            except AssertionError:
                result.wrong += 1
                result.notes.append(f"seed {seed - 1} {label}: {traceback.format_exc(-1)}")
            except Exception:
                result.unexpected += 1
                result.notes.append(f"seed {seed - 1} {label}: {traceback.format_exc(-1)}")
            if time.monotonic() - t0 > 1.0:
                result.hangs += 1
            result.runs += 1
    result.ops = result.runs
    result.outcomes = dict(outcomes)
    result.seconds = time.monotonic() - started
    return result


# ------------------------------------------------------------------ network faults


def random_plan(rng: random.Random, startup: int) -> tuple[str, FaultPlan]:
    kind = rng.choice(["drop", "corrupt", "duplicate", "split", "delay", "blackhole", "cancel"])
    where = startup + rng.randrange(0, 4000)
    side = rng.choice(["to_client", "to_server"])
    faults: dict[str, Any] = {}
    plan: dict[str, Any] = {"seed": rng.randrange(1 << 30)}
    if kind == "drop":
        faults["drop_after"] = where
    elif kind == "corrupt":
        faults["corrupt_at"] = where
    elif kind == "duplicate":
        faults["duplicate_at"] = where
    elif kind == "split":
        faults["split"] = True
    elif kind == "delay":
        faults["delay"] = rng.uniform(0.001, 0.02)
    elif kind == "blackhole":
        plan["blackhole"] = True
    else:
        plan["cancel"] = rng.choice(["blackhole", "drop"])
    plan[side] = StreamFaults(**faults)
    return f"{kind} {side}", FaultPlan(**plan)


async def one_faulted_call(dsn: str, rng: random.Random, table: str, exact: bool) -> str:
    """Connect and run one random call; return its outcome (raise AssertionError if wrong).

    Without ``exact`` (a byte was corrupted or duplicated) a value inside a row may differ:
    TCP-level damage to a value is undetectable by the protocol; only the shape is checked.
    """
    conn = await pgwire.connect(dsn, timeout=2)
    try:
        kind = rng.randrange(5)
        if kind == 0:
            n = rng.randrange(1, 2000)
            rows = await conn.fetch(
                "SELECT g, $1::text FROM generate_series(1, $2) g", "v", n, timeout=2
            )
            assert len(rows) == n
            assert not exact or [r[0] for r in rows] == list(range(1, n + 1))
        elif kind == 1:
            await conn.copy_records_to_table(
                table, records=[(i, "c") for i in range(3000)], timeout=2
            )
        elif kind == 2:
            chunks: list[bytes] = []
            await conn.copy_from_query(
                "SELECT g FROM generate_series(1, 20000) g", output=_sink(chunks), timeout=2
            )
        elif kind == 3:
            async with conn.transaction():
                seen = [
                    r[0]
                    async for r in conn.cursor(
                        "SELECT g FROM generate_series(1, 3000) g", prefetch=200, timeout=2
                    )
                ]
            assert len(seen) == 3000
            assert not exact or seen == list(range(1, 3001))
        else:
            assert await conn.fetchval("SELECT pg_sleep(0.2)", timeout=0.05) is None
        return "ok"
    finally:
        conn.terminate()


def _sink(chunks: list[bytes]) -> Callable[[bytes], Awaitable[None]]:
    async def sink(data: bytes) -> None:
        chunks.append(data)

    return sink


async def run_faults(server: TempServer, runs: int, seconds: float) -> Result:
    result = Result(
        "network faults through FaultProxy (one call per faulted connection)",
        f"faults --runs {runs}",
    )
    pgwire.connection.CANCEL_GRACE = 0.5
    pgwire.connection.CLOSE_GRACE = 0.5
    bound = 2 + 2 + 3 * 0.5 + 2.0
    rng = random.Random(10)
    outcomes: Counter[str] = Counter()
    admin = await pgwire.connect(server.dsn)
    await admin.execute(
        "DROP TABLE IF EXISTS stress_faults; CREATE TABLE stress_faults (id int, note text)"
    )
    started = time.monotonic()
    async with FaultProxy(server.host, server.port) as proxy:
        probe = await pgwire.connect(proxy.dsn(server.dsn))
        startup = proxy.connections[-1].to_client
        await probe.close()
        while result.runs < runs and time.monotonic() - started < seconds:
            label, proxy.plan = random_plan(rng, startup)
            t0 = time.monotonic()
            try:
                outcome = await asyncio.wait_for(
                    one_faulted_call(
                        proxy.dsn(server.dsn),
                        rng,
                        "stress_faults",
                        exact=not label.startswith(("corrupt", "duplicate")),
                    ),
                    bound + 5,
                )
            except AssertionError:
                result.wrong += 1
                outcome = "WRONG"
                result.notes.append(f"{label}: {traceback.format_exc(-1)}")
            except asyncio.TimeoutError as exc:
                if time.monotonic() - t0 >= bound + 5:
                    result.hangs += 1
                    outcome = "HANG"
                    result.notes.append(f"{label}: no answer within {bound + 5}s")
                else:
                    outcome = type(exc).__name__
            except (*GARBLED, OSError) as exc:
                outcome = type(exc).__name__
            except Exception as exc:
                result.unexpected += 1
                outcome = f"UNEXPECTED {type(exc).__name__}"
                result.notes.append(f"{label}: {traceback.format_exc(-2)}")
            outcomes[f"{label}: {outcome}"] += 1
            result.runs += 1
            if time.monotonic() - t0 > bound:
                result.hangs += 1
                result.notes.append(f"{label}: took {time.monotonic() - t0:.1f}s > {bound}s")
        proxy.plan = FaultPlan()
    await asyncio.sleep(1)
    leaked = await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        " AND pid <> pg_backend_pid() AND state <> 'idle'"
    )
    result.leaks += leaked
    await admin.close()
    result.ops = result.runs
    result.outcomes = dict(sorted(outcomes.items()))
    result.seconds = time.monotonic() - started
    return result


# ------------------------------------------------------------------ cancellation storm


async def run_storm(server: TempServer, ops: int, seconds: float) -> Result:
    import test_cancel_storm as cs

    result = Result(
        "cancellation storm (random cancels mid-query, mid-COPY, timeouts)", f"storm --ops {ops}"
    )
    admin = await pgwire.connect(server.dsn)
    started = time.monotonic()
    seed = 0
    outcomes: Counter[str] = Counter()
    while result.ops < ops and time.monotonic() - started < seconds:
        seed += 1
        for label, kinds in (("no transactions", cs.NO_TRANSACTION), ("all kinds", cs.KINDS)):
            app = table = f"stress_storm_{seed}_{len(kinds)}"
            await cs.make_tables(admin, table)
            report, conns = await cs.storm(
                server.dsn, ops=2000, connections=4, seed=seed, app=app, table=table, kinds=kinds
            )
            result.runs += 1
            result.ops += report.ops
            outcomes["cancelled"] += report.cancelled
            outcomes["completed"] += report.completed
            for name, n in report.errors.items():
                outcomes[name] += n
            try:
                await cs.check_aftermath(server.dsn, conns, report, app, table)
            except AssertionError as exc:
                result.leaks += 1
                result.notes.append(f"seed {seed} ({label}): {str(exc)[:300]}")
            except Exception as exc:
                result.leaks += 1
                result.notes.append(f"seed {seed} ({label}): {type(exc).__name__}: {exc}")
            for con in conns:
                con.terminate()
            await admin.execute(f"DROP TABLE {table}, {table}_copy")
    await admin.close()
    result.outcomes = dict(outcomes)
    result.seconds = time.monotonic() - started
    return result


# ------------------------------------------------------------------ pipelining torture


async def run_torture(server: TempServer, calls: int, seconds: float) -> Result:
    import torture as tt

    import pgwire._impl

    impl = pgwire._impl.IMPL
    result = Result(
        "pipelining torture (first use, COMMIT scripts, savepoints, pipelines, operator "
        f"cancels and terminations; every write accounted for), {impl}",
        f"torture --calls {calls}` with `PGWIRE_IMPL={impl}",
    )
    started = time.monotonic()
    outcomes: Counter[str] = Counter()
    seed = 0
    while result.ops < calls and time.monotonic() - started < seconds:
        seed += 1
        report = await tt.torture(
            server.dsn, calls=min(5000, calls - result.ops), connections=3, seed=seed
        )
        result.runs += 1
        result.ops += report.calls
        outcomes.update(report.outcomes)
        outcomes["operations"] += report.operations
        for label, found in (
            ("duplicated", report.duplicates),
            ("lost", report.lost),
            ("phantom", report.phantom),
            ("misordered", report.misordered),
            ("innocent cancels", report.innocent_cancels),
        ):
            outcomes[label] += len(found)
            if found:
                result.wrong += len(found)
                result.notes.append(f"seed {seed}: {label}: {found[:5]}")
        result.hangs += report.hangs
        result.unexpected += len(report.unexpected)
        result.leaks += len(report.leftovers)
        result.notes.extend(f"seed {seed}: {n}" for n in report.unexpected[:3])
        result.notes.extend(f"seed {seed}: {n}" for n in report.leftovers[:3])
    result.outcomes = dict(outcomes)
    result.seconds = time.monotonic() - started
    return result


# ------------------------------------------------------------------ crashes


async def run_crash(server: TempServer, rounds: int, seconds: float) -> Result:
    result = Result(
        "server crashes under pool load (kill -9, fast and immediate restart)",
        f"crash --rounds {rounds}",
    )
    rng = random.Random(3)
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    async with pgwire.create_pool(server.dsn, min_size=2, max_size=8, timeout=5) as pool:
        while result.runs < rounds and time.monotonic() - started < seconds:
            stop = asyncio.Event()

            async def worker(i: int, stop: asyncio.Event = stop) -> None:
                while not stop.is_set():
                    try:
                        v = await pool.fetchval(
                            "SELECT $1::int FROM pg_sleep(0.001)", i, timeout=10
                        )
                    except CRASH as exc:
                        outcomes[type(exc).__name__] += 1
                        await asyncio.sleep(0.02)
                        continue
                    result.ops += 1
                    if v != i:
                        result.wrong += 1

            workers = [asyncio.ensure_future(worker(i)) for i in range(10)]
            await asyncio.sleep(0.3)
            action = rng.choice(["kill", "fast", "immediate"])
            outcomes[f"round: {action}"] += 1
            if action == "kill":
                try:
                    pid = await pool.fetchval("SELECT pg_backend_pid()")
                    os.kill(pid, signal.SIGKILL)
                except CRASH:
                    pass
            else:
                await loop.run_in_executor(None, lambda a=action: server.restart(a))
            t0 = time.monotonic()
            recovered = False
            while time.monotonic() - t0 < 30:
                try:
                    await pool.fetchval("SELECT 1", timeout=2)
                    recovered = True
                    break
                except CRASH:
                    await asyncio.sleep(0.1)
            outcomes["recovery ms (max)"] = max(
                outcomes["recovery ms (max)"], int((time.monotonic() - t0) * 1000)
            )
            stop.set()
            done, pending = await asyncio.wait(workers, timeout=30)
            if pending or not recovered:
                result.hangs += 1
                for w in pending:
                    w.cancel()
            result.runs += 1
    result.outcomes = dict(outcomes)
    result.seconds = time.monotonic() - started
    return result


# ------------------------------------------------------------------ soak


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def run_soak(server: TempServer, seconds: float) -> Result:
    from pgwire.listener import Listener

    result = Result(
        "soak: mixed load, listeners, pool churn; RSS and fds sampled",
        f"soak --seconds {int(seconds)}",
    )
    admin = await pgwire.connect(server.dsn)
    await admin.execute("DROP TABLE IF EXISTS soak; CREATE TABLE soak (id int, note text)")
    received: list[int] = [0]
    stray: list[int] = [0]
    samples: list[tuple[float, int, int]] = []
    started = time.monotonic()
    stop = asyncio.Event()

    def on_notify(*_: Any) -> None:
        received[0] += 1

    async with (
        pgwire.create_pool(server.dsn, min_size=2, max_size=6, max_queries=500) as pool,
        Listener(server.dsn, ["soak"], on_notify),
    ):

        async def worker(w: int) -> None:
            rng = random.Random(w)
            i = 0
            while not stop.is_set():
                i += 1
                kind = rng.randrange(6)
                try:
                    if kind == 0:
                        assert await pool.fetchval("SELECT $1::int", i) == i
                    elif kind == 1:
                        async with pool.acquire() as con, con.transaction():
                            await con.execute("INSERT INTO soak VALUES ($1, 'tx')", i)
                    elif kind == 2:
                        await pool.copy_records_to_table("soak", records=[(i, "copy")] * 200)
                    elif kind == 3:
                        await pool.execute(f"NOTIFY soak, '{i}'")
                    elif kind == 4:
                        task = asyncio.ensure_future(pool.fetchval("SELECT pg_sleep(0.05)"))
                        await asyncio.sleep(rng.uniform(0, 0.05))
                        task.cancel()
                        try:
                            await task
                        except asyncio.CancelledError:
                            pass
                    else:
                        await pool.expire_connections()
                except AssertionError:
                    result.wrong += 1
                except pgwire.QueryCanceledError:
                    # A CancelRequest meant for a call cancelled earlier on the same
                    # connection landed on this one (see the README's known issues).
                    stray[0] += 1
                except Exception as exc:
                    result.unexpected += 1
                    result.notes.append(f"{type(exc).__name__}: {exc}")
                result.ops += 1

        async def truncate() -> None:
            while not stop.is_set():
                await asyncio.sleep(5)
                await admin.execute("TRUNCATE soak")

        tasks = [asyncio.ensure_future(worker(w)) for w in range(6)]
        tasks.append(asyncio.ensure_future(truncate()))
        while time.monotonic() - started < seconds:
            await asyncio.sleep(min(1.0, seconds / 20))
            samples.append((time.monotonic() - started, _rss_kb(), _fds()))
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
    await admin.close()
    warm = samples[len(samples) // 5]
    last = samples[-1]
    peak_rss = max(s[1] for s in samples[len(samples) // 5 :])
    result.outcomes = {
        "rss kB after warm-up": warm[1],
        "rss kB at end": last[1],
        "rss kB peak after warm-up": peak_rss,
        "fds after warm-up": warm[2],
        "fds at end": last[2],
        "notifications received": received[0],
        "innocent calls failed by a stray CancelRequest": stray[0],
    }
    if last[1] - warm[1] > 20 * 1024:
        result.leaks += 1
        result.notes.append(f"RSS grew by {last[1] - warm[1]} kB after warm-up")
    if last[2] - warm[2] > 4:
        result.leaks += 1
        result.notes.append(f"fds grew from {warm[2]} to {last[2]}")
    result.runs = 1
    result.seconds = time.monotonic() - started
    return result


# ------------------------------------------------------------------ report


def write_report(results: list[Result]) -> None:
    json_path = HERE / "results.json"
    previous: dict[str, Any] = {}
    if json_path.exists():
        previous = json.loads(json_path.read_text())
    for r in results:
        previous[r.name] = asdict(r)
    json_path.write_text(json.dumps(previous, indent=2, sort_keys=True) + "\n")
    lines = [
        "# Reliability runs",
        "",
        "Generated by `python tests/stress/run.py`; do not edit by hand. Each row is the",
        "latest run of that kind (see `results.json` for every outcome count).",
        "",
        "| fault | runs | operations | hangs | wrong results | leaks | unexpected errors"
        " | seconds | re-run with |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in previous.items():
        lines.append(
            f"| {name} | {r['runs']} | {r['ops']} | {r['hangs']} | {r['wrong']} | {r['leaks']}"
            f" | {r['unexpected']} | {r['seconds']:.0f} |"
            f" `python tests/stress/run.py {r['command']}` |"
        )
    lines += ["", "## Outcomes", ""]
    for name, r in previous.items():
        lines.append(f"### {name}")
        lines.append("")
        for key, n in r["outcomes"].items():
            lines.append(f"- {key}: {n}")
        for note in r["notes"][:10]:
            lines.append(f"- problem: {note.strip().splitlines()[-1][:200]}")
        lines.append("")
    (HERE / "RELIABILITY.md").write_text("\n".join(lines))


async def run_async(args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    quick = args.quick
    with TempServer(settings={"synchronous_commit": "on"}) as server:
        if args.what in ("faults", "all"):
            results.append(
                await run_faults(server, args.runs or (300 if quick else 5000), args.max_seconds)
            )
        if args.what in ("storm", "all"):
            results.append(
                await run_storm(server, args.ops or (8000 if quick else 100000), args.max_seconds)
            )
        if args.what in ("torture", "all"):
            results.append(
                await run_torture(
                    server, args.calls or (5000 if quick else 40000), args.max_seconds
                )
            )
        if args.what in ("crash", "all"):
            results.append(
                await run_crash(server, args.rounds or (4 if quick else 30), args.max_seconds)
            )
        if args.what in ("soak", "all"):
            results.append(await run_soak(server, args.seconds or (30 if quick else 600)))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "what", choices=["all", "fuzz", "faults", "storm", "torture", "crash", "soak"]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke run)")
    parser.add_argument("--inputs", type=int, help="fuzz inputs (default 1,000,000)")
    parser.add_argument("--runs", type=int, help="faulted connections (default 5000)")
    parser.add_argument("--ops", type=int, help="storm calls (default 100,000)")
    parser.add_argument("--calls", type=int, help="torture calls (default 40,000)")
    parser.add_argument("--rounds", type=int, help="crash rounds (default 30)")
    parser.add_argument("--seconds", type=float, help="soak duration (default 600)")
    parser.add_argument(
        "--max-seconds", type=float, default=3600.0, help="upper bound of each run's duration"
    )
    args = parser.parse_args()
    results: list[Result] = []
    if args.what in ("fuzz", "all"):
        results.append(
            run_fuzz(args.inputs or (30000 if args.quick else 1_000_000), args.max_seconds)
        )
    results += asyncio.run(run_async(args))
    write_report(results)
    for r in results:
        status = "ok" if r.ok else "FAILED"
        print(
            f"{status:6} {r.name}: {r.runs} runs, {r.ops} ops, hangs {r.hangs}, "
            f"wrong {r.wrong}, leaks {r.leaks}, unexpected {r.unexpected}, {r.seconds:.0f}s"
        )
        for note in r.notes[:5]:
            print("       ", note.strip().splitlines()[-1][:200])
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
