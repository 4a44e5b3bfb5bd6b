"""The command line: ``python -m pgwire [demo|bench|copy|check] ...``.

* ``demo [DSN]``: the guided tour (:mod:`pgwire.demo`); a throwaway server is
  started when no DSN, ``$PGWIRE_DSN`` or ``PG*`` variable names one. No
  command at all, or a DSN alone, runs the tour too.
* ``bench [ARGS]``: the driver comparison harness (``benchmarks/run.py`` of a
  source checkout); ``ARGS`` are passed through. A chart is written only where
  ``--chart PATH`` says, so the committed ``benchmarks/chart.png`` changes only
  when named.
* ``copy``: load a CSV/text/binary file into a table, or dump a query to a
  file, through COPY, with a progress line (bytes, rows, and their rates).
* ``check [DSN]``: connect once and report server version, TLS, authentication
  method, round-trip latency and whether a pooler sits in front.

Commands that connect take the DSN as their argument, else ``$PGWIRE_DSN``,
else libpq's ``PG*`` variables (read by :func:`pgwire.connect` itself); with
none of them, ``check`` and ``copy`` stop with a usage error.

Exit status (the convention of argparse and of most Unix tools): 0 on success,
2 for a usage error (argparse's own, plus an unknown command, a missing input
file, an output path that is a directory, a missing server, a DSN that cannot
be parsed), 1 when the command fails (the server is unreachable, the server
reports an error, a dependency is missing, ``PGWIRE_IMPL`` names no usable
implementation), 130 when interrupted (Ctrl-C). Errors are one line on
stderr; ``--debug`` re-raises them with their traceback instead. ``copy --to``
replaces its file only when the dump succeeds.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import os
import platform
import re
import stat
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

import pgwire

__all__ = ["COMMANDS", "CommandError", "Progress", "main", "version_line"]

PROG = "python -m pgwire"

#: The command names ``python -m pgwire`` recognises.
COMMANDS = ("demo", "bench", "copy", "check")

#: libpq variables that name a server (``connect()`` reads them when given no DSN).
PG_SERVER_VARS = ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE")


class CommandError(Exception):
    """A failure reported as one line on stderr, exit status 1."""


def version_line() -> str:
    """``pgwire VERSION (IMPLEMENTATION: why; PYTHON VERSION)``, for ``--version`` and the tour."""
    from . import _impl

    impl = "compiled" if _impl.IMPL == "compiled" else "pure-Python"
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"pgwire {pgwire.__version__} ({impl} implementation: {_impl.IMPL_NOTE}; {python})"


# ---------------------------------------------------------------- progress


class Progress:
    """Bytes and rows moved so far, drawn as one self-overwriting terminal line.

    ``advance(nbytes, nrows)`` is the progress callback; ``on_update``, when
    given, is called with ``self`` after each advance. The line is drawn on
    ``stream`` (default stderr) at most every ``interval`` seconds and
    completed by :meth:`close`; ``show`` forces it on or off, by default it
    is drawn only when ``stream`` is a terminal. Rates (per second) appear
    once ``rate_after`` seconds have passed, and in the closing line: a rate
    measured over the first few milliseconds (one buffered read) says
    nothing. ``clock`` returns seconds (default :func:`time.monotonic`).
    """

    def __init__(
        self,
        total_bytes: int | None = None,
        *,
        stream: IO[str] | None = None,
        show: bool | None = None,
        interval: float = 0.1,
        rate_after: float = 0.5,
        on_update: Callable[[Progress], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total_bytes = total_bytes
        self.bytes = 0
        self.rows = 0
        self.stream = sys.stderr if stream is None else stream
        self.visible = self.stream.isatty() if show is None else show
        self.interval = interval
        self.rate_after = rate_after
        self.on_update = on_update
        self.clock = clock
        self.started = clock()
        self._drawn_at: float | None = None

    def advance(self, nbytes: int, nrows: int = 0) -> None:
        self.bytes += nbytes
        self.rows += nrows
        if self.on_update is not None:
            self.on_update(self)
        now = self.clock()
        if self.visible and (self._drawn_at is None or now - self._drawn_at >= self.interval):
            self._drawn_at = now
            self._draw()

    def line(self, final: bool = False) -> str:
        """The progress line: bar (when the total is known), bytes, rows, then rates.

        The rates appear once ``rate_after`` seconds have passed, and always in
        the ``final`` line (their average over the whole transfer).
        """
        elapsed = max(self.clock() - self.started, 1e-9)
        parts = []
        if self.total_bytes:
            done = min(self.bytes / self.total_bytes, 1.0)
            filled = int(done * 30)
            parts.append(f"[{'#' * filled}{'.' * (30 - filled)}] {done:4.0%}")
        parts.append(f"{_size(self.bytes)}")
        parts.append(f"{self.rows:,} rows")
        if final or elapsed >= self.rate_after:
            parts.append(f"{_size(self.bytes / elapsed)}/s")
            parts.append(f"{self.rows / elapsed:,.0f} rows/s")
        return "  ".join(parts)

    def close(self, rows: int | None = None) -> None:
        """Finish the line; ``rows`` replaces the running count (the server's exact one)."""
        if rows is not None:
            self.rows = rows
        if self.visible:
            self._draw(final=True)
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, final: bool = False) -> None:
        self.stream.write("\r" + self.line(final) + "\x1b[K")
        self.stream.flush()


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


class _CountingReader:
    """A binary file whose reads advance a :class:`Progress`.

    Rows are the newlines seen, less the first ``skip_lines`` (a header line
    is not a row); ``count_rows=False`` (binary COPY) counts none.
    """

    def __init__(
        self, file: IO[bytes], progress: Progress, count_rows: bool, skip_lines: int = 0
    ) -> None:
        self.file = file
        self.progress = progress
        self.count_rows = count_rows
        self.skip_lines = skip_lines

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        rows = data.count(b"\n") if self.count_rows else 0
        skipped = min(rows, self.skip_lines)
        self.skip_lines -= skipped
        self.progress.advance(len(data), rows - skipped)
        return data


class _Output:
    """The ``--to`` file, replaced only when the dump succeeds.

    A regular file (or a new one) is written as a temporary file in the same
    directory and renamed over the target on success (:func:`os.replace`, atomic
    on POSIX), so a failed or interrupted dump leaves an existing file as it
    was and no partial file behind. A device or a pipe (``/dev/null``, a FIFO)
    is written directly: it cannot be replaced. The new file gets the mode of
    the file it replaces, else the mode ``open()`` would give it.
    """

    def __init__(self, target: str) -> None:
        self.target = os.path.realpath(target)  # replace what a symlink points to
        self.file: IO[bytes] | None = None
        self.temporary: str | None = None

    def __enter__(self) -> IO[bytes]:
        try:
            existing: os.stat_result | None = os.stat(self.target)
        except FileNotFoundError:
            existing = None
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            self.file = open(self.target, "wb")  # noqa: SIM115 (closed in __exit__)
            return self.file
        directory, name = os.path.split(self.target)
        fd, self.temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
        if existing is not None:
            mode = stat.S_IMODE(existing.st_mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(self.temporary, mode)
        self.file = os.fdopen(fd, "wb")
        return self.file

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        assert self.file is not None
        failed = kind is not None
        try:
            self.file.close()
        except BaseException:
            failed = True
            raise
        finally:
            if self.temporary is not None:
                if failed:
                    os.unlink(self.temporary)
                else:
                    os.replace(self.temporary, self.target)


# ---------------------------------------------------------------- commands


def _dsn(argument: str | None) -> str | None:
    return argument or os.environ.get("PGWIRE_DSN") or None


def _server_given(argument: str | None) -> bool:
    return bool(_dsn(argument)) or any(os.environ.get(name) for name in PG_SERVER_VARS)


def _one_line(text: str) -> str:
    return " ".join(text.split())


async def _connect(dsn: str | None, timeout: float = 60) -> Any:
    """``pgwire.connect``, with a connection failure turned into a :class:`CommandError`."""
    try:
        return await pgwire.connect(dsn, timeout=timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, asyncio.TimeoutError):
            reason = f"no answer within {timeout:g} s"
        reason = _one_line(reason)
        if not reason.startswith("cannot connect"):
            reason = f"cannot connect to the server: {reason}"
        raise CommandError(
            f"{reason}; check the DSN and that the server is running and reachable"
        ) from exc


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


_COPY_LINE = re.compile(r"\bline (\d+)")


def _copy_load_error(exc: pgwire.PostgresError, args: argparse.Namespace) -> CommandError:
    """One line for a failed load: the server's message, the file's line, a hint for headers."""
    message = _one_line(exc.message or str(exc))
    sqlstate = getattr(exc, "sqlstate", None) or ""
    if sqlstate == _BAD_COPY_FILE_FORMAT and message.startswith("unterminated CSV quoted field"):
        opened = _quote_opened_at(args.input)
        if opened is None:
            where = "a quote starting before the end of the file"
        else:
            where = f"the quote opened on line {opened}"
        return CommandError(f"{message}: {where} is never closed ({args.input})")
    context = getattr(exc, "context", None) or ""
    found = _COPY_LINE.search(context)
    if found is None:
        return CommandError(f"{message} ({type(exc).__name__})")
    line = int(found.group(1))
    text = f"{message}, at line {line} of {args.input}"
    # A header row shows up as a value the column's type rejects (class 22, data
    # exception), not as a wrong number of columns (22P04, bad COPY file format).
    value_rejected = sqlstate.startswith("22") and sqlstate != _BAD_COPY_FILE_FORMAT
    if line == 1 and value_rejected and not args.header and args.format != "binary":
        text += "; if line 1 is a header row, add --header"
    return CommandError(text)


#: SQLSTATE bad_copy_file_format (PostgreSQL, Appendix A): a malformed line, not a bad value.
_BAD_COPY_FILE_FORMAT = "22P04"


def _quote_opened_at(path: str, quote: bytes = b'"') -> int | None:
    """The line (from 1) of ``path`` where a CSV quote that is never closed opens.

    Follows the server's reading of a CSV line (``COPY`` in PostgreSQL's
    ``copyfromparse.c``): every quote character toggles quoting, a doubled
    quote toggles it twice. ``None`` when every quote is closed or the file
    cannot be read.
    """
    line, opened, quoted = 1, None, False
    try:
        with open(path, "rb") as file:
            while chunk := file.read(1 << 20):
                pos = 0
                while (found := chunk.find(quote, pos)) >= 0:
                    line += chunk.count(b"\n", pos, found)
                    quoted = not quoted
                    if quoted:
                        opened = line
                    pos = found + 1
                line += chunk.count(b"\n", pos)
    except OSError:
        return None
    return opened if quoted else None


async def copy_command(
    args: argparse.Namespace, on_update: Callable[[Progress], None] | None = None
) -> str:
    """Run the ``copy`` command; returns the server's status tag (``'COPY 1000'``).

    Raises :class:`CommandError` when the server cannot be reached or rejects
    the COPY (the message names the file's line for a bad row).
    """
    conn = await _connect(_dsn(args.dsn))
    show = {"always": True, "never": False}.get(args.progress)
    count_rows = args.format != "binary"
    try:
        if args.table is not None:
            path = Path(args.input)
            progress = Progress(path.stat().st_size, show=show, on_update=on_update)
            skip = 1 if args.header else 0
            with path.open("rb") as file:
                try:
                    status: str = await conn.copy_to_table(
                        args.table,
                        source=_CountingReader(file, progress, count_rows, skip),
                        schema_name=args.schema,
                        **_copy_options(args),
                    )
                except pgwire.PostgresError as exc:
                    progress.close()
                    raise _copy_load_error(exc, args) from exc
        else:
            progress = Progress(show=show, on_update=on_update)
            with _Output(args.output) as out:

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


async def check_command(
    dsn: str | None, out: IO[str], pings: int = 10, timeout: float = 10
) -> dict[str, Any]:
    """Run the ``check`` command: print and return what one connection tells about the server.

    ``pings`` round trips are timed; ``timeout`` (seconds) bounds the connection
    attempt. Raises :class:`CommandError` when the server cannot be reached.
    """
    started = time.monotonic()
    conn: Any = await _connect(dsn, timeout)
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
    """Run the harness with ``argv`` in a child process; returns its exit status.

    The harness checks its own arguments and dependencies (exit 2 for a bad
    argument, 1 for a missing dependency) before it starts a server, exits 1
    when a measurement failed and 130 on Ctrl-C (which reaches it too).
    """
    harness = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"
    if not harness.exists():
        raise CommandError(
            "the benchmark harness ships with the source checkout (benchmarks/run.py), "
            "not with the installed package; run this command from a checkout"
        )
    env = dict(os.environ, PGWIRE_BENCH_PROG=f"{PROG} bench")
    child = subprocess.Popen([sys.executable, str(harness), *argv], env=env)
    try:
        return child.wait()
    except KeyboardInterrupt:
        # Ctrl-C reached the harness too (same process group): it stops its
        # measurements and server, says so in one line and exits with 130.
        try:
            return child.wait(timeout=60)
        except (KeyboardInterrupt, subprocess.TimeoutExpired):
            child.kill()
            child.wait()
            print(f"{PROG} bench: interrupted", file=sys.stderr)
            return 130


# ---------------------------------------------------------------- parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command (``bench`` only documents itself: the harness parses)."""
    debug_help = "on an error, show the traceback instead of one line"
    # Subcommands accept --debug too; SUPPRESS keeps them from resetting the top-level value.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=f"{PROG} [-h] [--debug] [--version] [COMMAND [ARGS ...] | DSN]",
        description="pgwire's command line: a tour, benchmarks, COPY with progress, a check.",
        epilog="With no COMMAND, or with a DSN alone (python -m pgwire postgresql://...), "
        "the tour runs: the same as 'demo [DSN]'. Exit status: 0 success, 1 failure, "
        "2 usage error.",
    )
    parser.add_argument("--debug", action="store_true", help=debug_help)
    parser.add_argument(
        "--version",
        action="store_true",
        help="print the version and the active implementation (compiled or pure Python)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        prog=f"{PROG} demo",
        help="guided tour of the driver (the default)",
        description="A guided tour of pgwire; starts a throwaway server when no DSN is given.",
        parents=[common],
    )
    demo.add_argument("dsn", nargs="?", help="postgresql://user:password@host:port/database")

    commands.add_parser(
        "bench",
        prog=f"{PROG} bench",
        help="run the driver comparison benchmarks",
        description="Run benchmarks/run.py of a source checkout; other arguments pass through.",
        add_help=False,
    )

    copy = commands.add_parser(
        "copy",
        prog=f"{PROG} copy",
        help="load a file into a table or dump a query to a file, through COPY",
        description="COPY a file into a table (--table, --from) or a query into a file "
        "(--query, --to), showing bytes and rows per second.",
        parents=[common],
    )
    copy.add_argument("dsn", nargs="?", help="server (default: $PGWIRE_DSN or PG* variables)")
    what = copy.add_mutually_exclusive_group(required=True)
    what.add_argument("--table", help="load into this table (needs --from)")
    what.add_argument("--query", help="dump the rows of this query (needs --to)")
    copy.add_argument("--from", dest="input", metavar="FILE", help="file to load")
    copy.add_argument("--to", dest="output", metavar="FILE", help="file to write")
    copy.add_argument("--schema", help="schema of --table")
    copy.add_argument("--format", choices=("csv", "text", "binary"), default="csv")
    copy.add_argument(
        "--header", action="store_true", help="csv, text: the file's first line is a header"
    )
    copy.add_argument("--delimiter", help="column delimiter (csv, text)")
    copy.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="draw the progress line (auto: when stderr is a terminal)",
    )

    check = commands.add_parser(
        "check",
        prog=f"{PROG} check",
        help="connect and report server version, TLS, auth, latency, pooler",
        description="Connect once and report what the connection tells about the server.",
        parents=[common],
    )
    check.add_argument("dsn", nargs="?", help="server (default: $PGWIRE_DSN or PG* variables)")
    check.add_argument("--pings", type=_positive, default=10, help="round trips to time")
    check.add_argument(
        "--timeout", type=_seconds, default=10.0, help="seconds to wait for the connection"
    )
    return parser


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            sub: argparse.ArgumentParser = action.choices[name]
            return sub
    raise AssertionError(name)


def _looks_like_dsn(text: str) -> bool:
    """A URI (``postgresql://...``) or libpq ``key=value`` pairs, not a command name."""
    return "://" in text or "=" in text


def _route(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """Where no command is named: the tour; a mistyped command is a usage error."""
    lead = 0
    while lead < len(argv) and argv[lead] == "--debug":
        lead += 1
    if lead == len(argv):
        return [*argv, "demo"]
    first = argv[lead]
    if first in COMMANDS or first.startswith("-"):
        return argv
    if _looks_like_dsn(first):
        return [*argv[:lead], "demo", *argv[lead:]]
    close = difflib.get_close_matches(first, COMMANDS, n=1, cutoff=0.6)
    if close:
        parser.error(f"unknown command {first!r}; did you mean {close[0]!r}?")
    parser.error(
        f"unknown command {first!r}: choose from {', '.join(COMMANDS)}, or give a DSN "
        "(postgresql://user@host/database) to run the tour against it"
    )


def _usage_error(parser: argparse.ArgumentParser, message: str) -> NoReturn:
    parser.error(message)


def _check_copy_arguments(copy: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Everything ``copy`` can check before connecting (usage errors, exit status 2)."""
    if args.table is not None:
        if args.input is None:
            _usage_error(copy, "--table needs --from FILE (the file to load)")
        if args.output is not None:
            _usage_error(copy, "--to goes with --query; --table loads --from FILE")
        path = Path(args.input)
        if not path.exists():
            _usage_error(copy, f"--from {args.input}: the file does not exist")
        if path.is_dir():
            _usage_error(copy, f"--from {args.input}: is a directory, not a file")
        if not os.access(path, os.R_OK):
            _usage_error(copy, f"--from {args.input}: the file is not readable")
    else:
        if args.output is None:
            _usage_error(copy, "--query needs --to FILE (the file to write)")
        if args.input is not None:
            _usage_error(copy, "--from goes with --table; --query writes --to FILE")
        target = Path(args.output)
        if target.is_dir():
            _usage_error(copy, f"--to {args.output}: is a directory, not a file")
        parent = target.resolve().parent
        if not parent.is_dir():
            _usage_error(copy, f"--to {args.output}: the directory {parent} does not exist")
        replaced = not target.exists() or target.is_file()  # a device or pipe is written as is
        if replaced and not os.access(parent, os.W_OK | os.X_OK):
            # The dump is written beside the target, then renamed over it.
            _usage_error(copy, f"--to {args.output}: the directory {parent} is not writable")
    _require_server(copy, args.dsn)


def _require_server(parser: argparse.ArgumentParser, dsn: str | None) -> None:
    if not _server_given(dsn):
        _usage_error(
            parser,
            "no server given: pass a DSN (postgresql://user:password@host:5432/database), "
            "or set $PGWIRE_DSN or $PGHOST",
        )
    _check_dsn(parser, dsn)


def _check_dsn(parser: argparse.ArgumentParser, dsn: str | None) -> None:
    """A DSN (or a ``PG*`` variable) that cannot be parsed: a usage error, before connecting."""
    from .connect_params import parse_connect_arguments

    try:
        parse_connect_arguments(dsn=_dsn(dsn))
    except pgwire.ClientConfigurationError as exc:
        _usage_error(parser, _one_line(str(exc)))


def _describe(exc: BaseException) -> str:
    """One line for an error that ends a command."""
    if isinstance(exc, CommandError):
        return _one_line(str(exc))
    if isinstance(exc, pgwire.PostgresError):
        return f"{_one_line(exc.message or str(exc))} ({type(exc).__name__})"
    if isinstance(exc, pgwire.ClientConfigurationError):
        return f"{_one_line(str(exc))} ({type(exc).__name__})"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{_one_line(exc.strerror)} ({type(exc).__name__}; --debug shows the traceback)"
    text = _one_line(str(exc)) or "no message"
    return f"{type(exc).__name__}: {text} (--debug shows the traceback)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit status (0, 1 failure, 2 usage error).

    Without a command, or with a DSN alone, the tour runs. Errors print one
    line on stderr unless ``--debug`` is among the arguments.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    argv = _route(argv, parser)
    debug = argv[0] == "--debug"
    command = argv[1 if debug else 0]
    if command == "bench":
        # The harness has its own parser (and --debug); its exit status passes through.
        rest = argv[argv.index("bench") + 1 :]
        try:
            return bench_command(["--debug", *rest] if debug else rest)
        except CommandError as exc:
            print(f"{PROG} bench: error: {exc}", file=sys.stderr)
            return 1
    args, extra = parser.parse_known_args(argv)
    if extra:
        # Reported by the command's own parser, with its usage.
        named = _subparser(parser, args.command) if args.command else parser
        named.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.version:
        print(version_line())
        return 0
    try:
        return _run(parser, args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        prefix = f"{PROG} {args.command}" if args.command else PROG
        print(f"{prefix}: error: {_describe(exc)}", file=sys.stderr)
        return 1


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "demo":
        if args.dsn:
            _check_dsn(_subparser(parser, "demo"), args.dsn)
        from .demo import main as demo_main

        return demo_main([args.dsn] if args.dsn else [])
    if args.command == "copy":
        _check_copy_arguments(_subparser(parser, "copy"), args)
        status = asyncio.run(copy_command(args))
        print(status)
        return 0
    if args.command == "check":
        _require_server(_subparser(parser, "check"), args.dsn)
        asyncio.run(check_command(_dsn(args.dsn), sys.stdout, args.pings, args.timeout))
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
