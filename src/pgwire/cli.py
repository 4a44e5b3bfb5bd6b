"""The command line: ``python -m pgwire demo|bench|copy|check``.

* ``demo [DSN]``: the guided tour (:mod:`pgwire.demo`); a throwaway server is
  started when no DSN, ``$PGWIRE_DSN`` or ``PG*`` variable names one.
* ``bench [ARGS]``: the driver comparison harness (``benchmarks/run.py`` of a
  source checkout); ``ARGS`` are passed through, and the PNG chart goes to
  ``benchmarks/chart.png`` unless ``--chart PATH`` says otherwise.
* ``copy``: load a CSV/text/binary file into a table, or dump a query to a
  file, through COPY, with a progress line (bytes, rows, and their rates).
* ``check [DSN]``: connect once and report server version, TLS, authentication
  method, round-trip latency and whether a pooler sits in front.

Commands that connect take the DSN as their argument, else ``$PGWIRE_DSN``,
else libpq's ``PG*`` variables (read by :func:`pgwire.connect` itself).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import pgwire

__all__ = ["Progress", "main"]


# ---------------------------------------------------------------- progress


class Progress:
    """Bytes and rows moved so far, drawn as one self-overwriting terminal line.

    ``advance(nbytes, nrows)`` is the progress callback; ``on_update``, when
    given, is called with ``self`` after each advance. The line is drawn on
    ``stream`` (default stderr) at most every ``interval`` seconds and
    completed by :meth:`close`; ``show`` forces it on or off, by default it
    is drawn only when ``stream`` is a terminal.
    """

    def __init__(
        self,
        total_bytes: int | None = None,
        *,
        stream: IO[str] | None = None,
        show: bool | None = None,
        interval: float = 0.1,
        on_update: Callable[[Progress], None] | None = None,
    ) -> None:
        self.total_bytes = total_bytes
        self.bytes = 0
        self.rows = 0
        self.stream = sys.stderr if stream is None else stream
        self.visible = self.stream.isatty() if show is None else show
        self.interval = interval
        self.on_update = on_update
        self.started = time.monotonic()
        self._drawn_at = 0.0

    def advance(self, nbytes: int, nrows: int = 0) -> None:
        self.bytes += nbytes
        self.rows += nrows
        if self.on_update is not None:
            self.on_update(self)
        now = time.monotonic()
        if self.visible and now - self._drawn_at >= self.interval:
            self._drawn_at = now
            self._draw()

    def line(self) -> str:
        """The progress line: bar (when the total is known), bytes, rows, rates."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        parts = []
        if self.total_bytes:
            done = min(self.bytes / self.total_bytes, 1.0)
            filled = int(done * 30)
            parts.append(f"[{'#' * filled}{'.' * (30 - filled)}] {done:4.0%}")
        parts.append(f"{_size(self.bytes)}")
        parts.append(f"{self.rows:,} rows")
        parts.append(f"{_size(self.bytes / elapsed)}/s")
        parts.append(f"{self.rows / elapsed:,.0f} rows/s")
        return "  ".join(parts)

    def close(self, rows: int | None = None) -> None:
        """Finish the line; ``rows`` replaces the running count (the server's exact one)."""
        if rows is not None:
            self.rows = rows
        if self.visible:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        self.stream.write("\r" + self.line() + "\x1b[K")
        self.stream.flush()


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


class _CountingReader:
    """A binary file whose reads advance a :class:`Progress` (rows: newlines seen)."""

    def __init__(self, file: IO[bytes], progress: Progress, count_rows: bool) -> None:
        self.file = file
        self.progress = progress
        self.count_rows = count_rows

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.progress.advance(len(data), data.count(b"\n") if self.count_rows else 0)
        return data


# ---------------------------------------------------------------- commands


def _dsn(argument: str | None) -> str | None:
    return argument or os.environ.get("PGWIRE_DSN") or None


def _copy_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {"format": args.format}
    if args.header:
        options["header"] = True
    if args.delimiter is not None:
        options["delimiter"] = args.delimiter
    return options


def _rows_from_status(status: str) -> int | None:
    tag, _, count = status.rpartition(" ")
    return int(count) if tag == "COPY" and count.isdigit() else None


async def copy_command(
    args: argparse.Namespace, on_update: Callable[[Progress], None] | None = None
) -> str:
    """Run the ``copy`` command; returns the server's status tag (``'COPY 1000'``)."""
    conn = await pgwire.connect(_dsn(args.dsn))
    show = {"always": True, "never": False}.get(args.progress)
    count_rows = args.format != "binary"
    try:
        if args.table is not None:
            path = Path(args.input)
            progress = Progress(path.stat().st_size, show=show, on_update=on_update)
            with path.open("rb") as file:
                status: str = await conn.copy_to_table(
                    args.table,
                    source=_CountingReader(file, progress, count_rows),
                    schema_name=args.schema,
                    **_copy_options(args),
                )
        else:
            progress = Progress(show=show, on_update=on_update)
            with open(args.output, "wb") as out:

                async def write(chunk: bytes) -> None:
                    out.write(chunk)
                    progress.advance(len(chunk), chunk.count(b"\n") if count_rows else 0)

                status = await conn.copy_from_query(
                    args.query, output=write, **_copy_options(args)
                )
    finally:
        await conn.close()
    progress.close(_rows_from_status(status))
    return status


async def check_command(dsn: str | None, out: IO[str], pings: int = 10) -> dict[str, Any]:
    """Run the ``check`` command: print and return what one connection tells about the server."""
    started = time.monotonic()
    conn: Any = await pgwire.connect(dsn)
    connect_ms = (time.monotonic() - started) * 1000
    try:
        latencies = []
        for _ in range(pings):
            t0 = time.monotonic()
            await conn.fetchval("SELECT 1")
            latencies.append((time.monotonic() - t0) * 1000)
        row = await conn.fetchrow(
            "SELECT version() AS version, pg_backend_pid() AS pid,"
            " inet_server_port() AS port, current_user AS user, current_database() AS db"
        )
        assert row is not None
        ssl_object = conn._transport.get_extra_info("ssl_object")
        addr = conn._addr
        pooler = []
        if row["pid"] != conn.get_server_pid():
            pooler.append("the backend pid differs from the one announced at startup")
        if not isinstance(addr, str) and row["port"] is not None and row["port"] != addr[1]:
            pooler.append(f"the server listens on port {row['port']}, not {addr[1]}")
        report: dict[str, Any] = {
            "address": addr if isinstance(addr, str) else f"{addr[0]}:{addr[1]}",
            "server": row["version"],
            "version": str(conn.get_server_version()),
            "user": row["user"],
            "database": row["db"],
            "tls": ssl_object.version() if ssl_object is not None else "no",
            "auth": conn._core.auth_method or "none (trust)",
            "connect_ms": round(connect_ms, 2),
            "latency_ms": round(statistics.median(latencies), 3),
            "pooler": "; ".join(pooler) if pooler else "none detected",
        }
    finally:
        await conn.close()
    labels = {
        "address": "address",
        "server": "server",
        "user": "user",
        "database": "database",
        "tls": "TLS",
        "auth": "authentication",
        "connect_ms": "connect time (ms)",
        "latency_ms": f"round trip (median of {pings}, ms)",
        "pooler": "pooler in front",
    }
    for key, label in labels.items():
        print(f"{label:>32}: {report[key]}", file=out)
    return report


def bench_command(argv: Sequence[str]) -> int:
    """Run the harness with ``argv``; ``--chart benchmarks/chart.png`` unless one is given."""
    harness = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"
    if not harness.exists():
        print(
            "pgwire bench: the benchmark harness ships with the source checkout "
            "(benchmarks/run.py); run this command from one.",
            file=sys.stderr,
        )
        return 2
    args = list(argv)
    if not any(a == "--chart" or a.startswith("--chart=") for a in args):
        args += ["--chart", str(harness.parent / "chart.png")]
    return subprocess.call([sys.executable, str(harness), *args])


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pgwire",
        description="pgwire's command line: a tour, benchmarks, COPY with progress, a check.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="guided tour of the driver",
        description="A guided tour of pgwire; starts a throwaway server when no DSN is given.",
    )
    demo.add_argument("dsn", nargs="?", help="postgresql://user:password@host:port/database")

    commands.add_parser(
        "bench",
        help="run the driver comparison benchmarks",
        description="Run benchmarks/run.py of a source checkout; other arguments pass through.",
        add_help=False,
    )

    copy = commands.add_parser(
        "copy",
        help="load a file into a table or dump a query to a file, through COPY",
        description="COPY a file into a table (--table, --from) or a query into a file "
        "(--query, --to), showing bytes and rows per second.",
    )
    copy.add_argument("dsn", nargs="?", help="server (default: $PGWIRE_DSN or PG* variables)")
    what = copy.add_mutually_exclusive_group(required=True)
    what.add_argument("--table", help="load into this table (needs --from)")
    what.add_argument("--query", help="dump the rows of this query (needs --to)")
    copy.add_argument("--from", dest="input", metavar="FILE", help="file to load")
    copy.add_argument("--to", dest="output", metavar="FILE", help="file to write")
    copy.add_argument("--schema", help="schema of --table")
    copy.add_argument("--format", choices=("csv", "text", "binary"), default="csv")
    copy.add_argument("--header", action="store_true", help="CSV: the file has a header line")
    copy.add_argument("--delimiter", help="column delimiter (csv, text)")
    copy.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="draw the progress line (auto: when stderr is a terminal)",
    )

    check = commands.add_parser(
        "check",
        help="connect and report server version, TLS, auth, latency, pooler",
        description="Connect once and report what the connection tells about the server.",
    )
    check.add_argument("dsn", nargs="?", help="server (default: $PGWIRE_DSN or PG* variables)")
    check.add_argument("--pings", type=int, default=10, help="round trips to time")
    return parser


#: The command names ``python -m pgwire`` recognises.
COMMANDS = ("demo", "bench", "copy", "check")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        return bench_command(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "demo":
        from .demo import main as demo_main

        return demo_main([args.dsn] if args.dsn else [])
    if args.command == "copy":
        if args.table is not None and args.input is None:
            parser.error("copy --table needs --from FILE")
        if args.query is not None and args.output is None:
            parser.error("copy --query needs --to FILE")
        status = asyncio.run(copy_command(args))
        print(status)
        return 0
    if args.command == "check":
        asyncio.run(check_command(_dsn(args.dsn), sys.stdout, args.pings))
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    raise SystemExit(main())
