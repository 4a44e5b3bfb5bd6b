"""Smoke test of an installed pgwire, run by ``scripts/wheel-check`` in a fresh venv.

Usage: ``python -I wheel_smoke.py --expect compiled|python [--query]``

Checks that pgwire is imported from the venv's site-packages (not from a
checkout), that the expected implementation is active, that the package holds
``py.typed`` and no Cython or C sources, and with ``--query`` runs a few
queries against a throwaway server (:class:`pgwire.testing.TempServer`).
Exits non-zero with one line naming the first thing that is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import sysconfig
from pathlib import Path


def fail(message: str) -> None:
    print(f"wheel smoke test: FAILED: {message}", file=sys.stderr)
    raise SystemExit(1)


async def queries(dsn: str) -> str:
    import pgwire

    conn = await pgwire.connect(dsn)
    try:
        if await conn.fetchval("SELECT $1::int + 1", 41) != 42:
            fail("SELECT $1::int + 1 with 41 did not return 42")
        rows = await conn.fetch(
            "SELECT g, 'row ' || g AS name, g * 1.5::float8 AS half, ARRAY[g, g] AS pair"
            " FROM generate_series(1, $1) AS g",
            1000,
        )
        if len(rows) != 1000 or rows[-1]["name"] != "row 1000" or rows[9]["pair"] != [10, 10]:
            fail(f"generate_series rows are wrong: {rows[-1]!r}")
        await conn.execute("CREATE TEMPORARY TABLE smoke (a int, b text)")
        args = [(i, str(i)) for i in range(100)]
        await conn.executemany("INSERT INTO smoke VALUES ($1, $2)", args)
        count = await conn.fetchval("SELECT count(*) FROM smoke")
        if count != 100:
            fail(f"executemany inserted {count} rows, not 100")
        version: str = await conn.fetchval("SHOW server_version")
        return version
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--expect", choices=("compiled", "python"), required=True)
    parser.add_argument("--query", action="store_true", help="also query a TempServer")
    args = parser.parse_args()

    import pgwire
    import pgwire._impl

    package = Path(pgwire.__file__).resolve().parent
    site = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    if package.parent not in site:
        fail(f"pgwire was imported from {package}, not from site-packages {sorted(site)}")
    if pgwire._impl.IMPL != args.expect:
        fail(f"the {pgwire._impl.IMPL} implementation is active ({pgwire._impl.IMPL_NOTE})")
    if not (package / "py.typed").is_file():
        fail("py.typed is missing")
    patterns = ("*.c", "*.pyx", "*.pxd")
    sources = sorted(str(p.relative_to(package)) for ext in patterns for p in package.rglob(ext))
    if sources:
        fail(f"the installed package holds sources: {', '.join(sources)}")
    if args.expect == "compiled":
        import pgwire._speedups.record as compiled_record

        if pgwire.Record is not compiled_record.Record:
            fail("pgwire.Record is not the compiled Record")
        if not compiled_record.__file__ or Path(compiled_record.__file__).suffix not in (
            ".so",
            ".pyd",
        ):
            fail(f"pgwire._speedups.record is {compiled_record.__file__}, not a compiled module")
    served = ""
    if args.query:
        from pgwire.testing import TempServer

        with TempServer() as server:
            served = f", queried PostgreSQL {asyncio.run(queries(server.dsn))}"
    print(f"wheel smoke test passed: pgwire {pgwire.__version__}, {args.expect}{served}")


if __name__ == "__main__":
    main()
