"""The tour: ``python -m pgwire [DSN]`` walks through the driver against a real server.

Where it connects, first match wins:

1. the DSN given as argument;
2. ``$PGWIRE_DSN``;
3. libpq's ``PGHOST`` / ``PGPORT`` / ``PGUSER`` / ``PGDATABASE`` (``connect()`` with no
   arguments reads them, and ``PGPASSWORD``, itself);
4. otherwise a throwaway server (:class:`pgwire.testing.TempServer`) started for the tour
   and deleted afterwards.

The tour only uses asyncpg's public API, so every step shows what an application writes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pgwire
import pgwire.exceptions

PG_ENV_VARS = ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE")


@dataclass(frozen=True)
class Target:
    """Where the tour connects: ``dsn=None`` means "let connect() read the PG* variables"."""

    dsn: str | None
    source: str


def choose_target(dsn_argument: str | None, environ: Mapping[str, str]) -> Target | None:
    """The server named by the argument or the environment; ``None`` means "start one"."""
    if dsn_argument:
        return Target(dsn_argument, "the command line")
    if environ.get("PGWIRE_DSN"):
        return Target(environ["PGWIRE_DSN"], "$PGWIRE_DSN")
    given = [name for name in PG_ENV_VARS if environ.get(name)]
    if given:
        return Target(None, "$" + ", $".join(given))
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tour; returns the process exit status.

    The first line printed names pgwire's version and the active implementation
    (compiled or pure Python), as ``python -m pgwire --version`` does.
    """
    parser = argparse.ArgumentParser(
        prog="python -m pgwire",
        description="A guided tour of pgwire against a real PostgreSQL server.",
        epilog="Without a DSN, $PGWIRE_DSN or PG* variables, a throwaway server is started.",
    )
    parser.add_argument("dsn", nargs="?", help="postgresql://user:password@host:port/database")
    args = parser.parse_args(argv)

    from pgwire.cli import version_line

    print(version_line())
    target = choose_target(args.dsn, os.environ)
    if target is not None:
        print(f"Connecting to the server named by {target.source}.")
        asyncio.run(tour(target.dsn))
        return 0

    from pgwire.testing import TempServer

    print("No DSN or PG* variables given: starting a throwaway PostgreSQL server...")
    with TempServer() as server:
        print(f"  {server.version} on {server.host}:{server.port}, data in {server.datadir}")
        asyncio.run(tour(server.dsn))
    print("The throwaway server was stopped and its directory deleted.")
    return 0


def section(title: str) -> None:
    print(f"\n== {title} ==")


def show(code: str, result: Any) -> None:
    """Print a line of code as typed at a prompt, and what it returned."""
    print(f">>> {code}")
    print(f"{result!r}")


async def tour(dsn: str | None) -> None:
    """Every step of the tour, on one connection."""
    section("Connecting")
    conn = await (pgwire.connect(dsn) if dsn else pgwire.connect())
    print(">>> conn = await pgwire.connect(dsn)")
    try:
        await _steps(conn)
    finally:
        await conn.close()
    print("\n>>> await conn.close()\nDone.")


async def _steps(conn: Any) -> None:
    show("conn.get_server_version()", conn.get_server_version())
    where = await conn.fetchrow("SELECT current_user AS user, current_database() AS db")
    print(f"connected as {where['user']} to database {where['db']}")

    section("Queries with arguments ($1, $2 travel separately from the SQL)")
    show(
        'await conn.fetchval("SELECT $1::int + $2", 40, 2)',
        await conn.fetchval("SELECT $1::int + $2", 40, 2),
    )
    row = await conn.fetchrow("SELECT $1::text AS name, length($1) AS len", "pgwire")
    show('row = await conn.fetchrow("SELECT $1::text AS name, length($1) AS len", "pgwire")', row)
    show("row['name'], row[1], dict(row)", (row["name"], row[1], dict(row)))
    show(
        'await conn.fetch("SELECT g, g * g AS square FROM generate_series(1, $1) g", 3)',
        await conn.fetch("SELECT g, g * g AS square FROM generate_series(1, $1) g", 3),
    )

    section("Types: binary wire format, Python values both ways")
    row = await conn.fetchrow(
        "SELECT $1::int8 AS int8, $2::numeric AS numeric, $3::timestamptz AS timestamptz,"
        " $4::uuid AS uuid, $5::int[] AS int_array, $6::jsonb AS jsonb",
        2**40,
        Decimal("19.99"),
        datetime(2024, 5, 17, 12, 30, tzinfo=timezone.utc),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        [[1, 2], [3, 4]],
        json.dumps({"driver": "pgwire", "pipelined": True}),
    )
    for name, value in row.items():
        print(f"  {name:<12} {type(value).__name__:<9} {value!r}")

    section("Many rows at once: executemany")
    await conn.execute("CREATE TEMPORARY TABLE fruit (id int PRIMARY KEY, name text NOT NULL)")
    rows = [(1, "apple"), (2, "banana"), (3, "cherry")]
    await conn.executemany("INSERT INTO fruit VALUES ($1, $2)", rows)
    print(f'>>> await conn.executemany("INSERT INTO fruit VALUES ($1, $2)", {rows!r})')
    show('await conn.fetchval("SELECT count(*) FROM fruit")', await _count(conn))

    section("Prepared statements: parsed once, run many times")
    stmt = await conn.prepare("SELECT name FROM fruit WHERE id = $1")
    print('>>> stmt = await conn.prepare("SELECT name FROM fruit WHERE id = $1")')
    show(
        "[await stmt.fetchval(i) for i in (1, 2, 3)]", [await stmt.fetchval(i) for i in (1, 2, 3)]
    )
    show("[t.name for t in stmt.get_parameters()]", [t.name for t in stmt.get_parameters()])

    section("Errors: one exception class per SQLSTATE")
    try:
        await conn.execute("INSERT INTO fruit VALUES (1, 'apricot')")
    except pgwire.exceptions.UniqueViolationError as exc:
        print(">>> await conn.execute(\"INSERT INTO fruit VALUES (1, 'apricot')\")")
        is_postgres_error = isinstance(exc, pgwire.exceptions.PostgresError)
        print(f"caught {type(exc).__name__} (a PostgresError: {is_postgres_error})")
        print(f"  sqlstate={exc.sqlstate}  constraint={exc.constraint_name}")
        print(f"  detail: {exc.detail}")

    section("Transactions: commit, savepoints, rollback")
    async with conn.transaction():
        await conn.execute("INSERT INTO fruit VALUES (4, 'date')")
        try:
            async with conn.transaction():  # nested: a savepoint
                await conn.execute("INSERT INTO fruit VALUES (5, 'elderberry')")
                await conn.execute("INSERT INTO fruit VALUES (1, 'again')")
        except pgwire.exceptions.UniqueViolationError:
            print("the nested block failed: only its savepoint was rolled back")
    print("committed: 'date' was kept, 'elderberry' went with the savepoint")
    show('await conn.fetchval("SELECT count(*) FROM fruit")', await _count(conn))
    tr = conn.transaction()
    await tr.start()
    await conn.execute("DELETE FROM fruit")
    deleted_inside = await _count(conn)
    await tr.rollback()
    print(f"DELETE inside a transaction left {deleted_inside} rows; after rollback:")
    show('await conn.fetchval("SELECT count(*) FROM fruit")', await _count(conn))

    section("Timeouts: the query is cancelled on the server, the connection stays usable")
    try:
        await conn.fetchval("SELECT pg_sleep(10)", timeout=0.2)
    except asyncio.TimeoutError:
        print('>>> await conn.fetchval("SELECT pg_sleep(10)", timeout=0.2)')
        print("asyncio.TimeoutError after 0.2 s")
    show(
        "await conn.fetchval(\"SELECT 'still usable'\")",
        await conn.fetchval("SELECT 'still usable'"),
    )

    section("Concurrency: tasks sharing one connection queue up instead of failing")
    try:
        results = await asyncio.gather(
            *(conn.fetchval("SELECT $1::int * 10", i) for i in range(5))
        )
    except pgwire.exceptions.InterfaceError as exc:
        print(f"this connection does not queue concurrent operations: {exc}")
    else:
        code = 'await asyncio.gather(*(conn.fetchval("SELECT $1::int * 10", i) for i in range(5)))'
        show(code, results)


async def _count(conn: Any) -> int:
    value: int = await conn.fetchval("SELECT count(*) FROM fruit")
    return value
