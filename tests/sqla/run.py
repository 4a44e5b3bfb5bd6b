"""Run SQLAlchemy's dialect suite against ``postgresql+pgwire`` (see README.md).

Uses the server named by ``$PGWIRE_TEST_DSN`` when set, otherwise starts a
throwaway :class:`pgwire.testing.TempServer`. The schemas the suite expects
(``test_schema``, ``test_schema_2``) are created first. Extra arguments go to
pytest (``-k``, ``-x``, ``--maxfail``, a narrower file list...).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent


@contextlib.contextmanager
def server_dsn() -> Iterator[str]:
    external = os.environ.get("PGWIRE_TEST_DSN")
    if external:
        yield external
        return
    from pgwire.testing import TempServer

    with TempServer() as server:
        yield server.dsn


async def prepare(dsn: str) -> None:
    import pgwire

    conn = await pgwire.connect(dsn)
    try:
        for schema in ("test_schema", "test_schema_2"):
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute("CREATE EXTENSION IF NOT EXISTS hstore")
    finally:
        await conn.close()


def main(argv: list[str]) -> int:
    with server_dsn() as dsn:
        asyncio.run(prepare(dsn))
        url = dsn.replace("postgresql://", "postgresql+pgwire://", 1)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "sqla_plugin",
            "--dburi",
            url,
            "suite_sqlalchemy.py",
            *argv,
        ]
        return subprocess.call(command, cwd=HERE)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
