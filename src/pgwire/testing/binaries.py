"""Locating the PostgreSQL server programs a :class:`TempServer` runs.

Search order, first match wins:

1. ``$PGWIRE_PG_BINDIR`` (an explicit choice: if it lacks the programs that is an error,
   not a reason to keep looking);
2. ``pg_config --bindir``;
3. the newest ``/usr/lib/postgresql/<major>/bin`` (Debian and Ubuntu packages);
4. the directory of ``initdb`` found on ``$PATH``.

A directory qualifies when it holds ``initdb``, ``postgres`` and ``pg_ctl``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from pgwire.testing.errors import ServerBinariesNotFound

REQUIRED_PROGRAMS = ("initdb", "postgres", "pg_ctl")
DEBIAN_ROOT = Path("/usr/lib/postgresql")


def has_server_programs(directory: Path) -> bool:
    """True when ``directory`` holds every program in :data:`REQUIRED_PROGRAMS`."""
    return all(os.access(directory / name, os.X_OK) for name in REQUIRED_PROGRAMS)


def find_bindir() -> Path:
    """Return the directory of the PostgreSQL server programs.

    Raises :class:`ServerBinariesNotFound` when no candidate qualifies, or when
    ``$PGWIRE_PG_BINDIR`` is set to a directory that does not.
    """
    explicit = os.environ.get("PGWIRE_PG_BINDIR")
    if explicit:
        path = Path(explicit)
        if has_server_programs(path):
            return path
        raise ServerBinariesNotFound(
            f"PGWIRE_PG_BINDIR={explicit} does not contain {', '.join(REQUIRED_PROGRAMS)}"
        )
    for candidate in _candidates():
        if has_server_programs(candidate):
            return candidate
    raise ServerBinariesNotFound(
        "PostgreSQL server programs (initdb, postgres, pg_ctl) were not found; "
        "install them (Debian: apt-get install postgresql) or set PGWIRE_PG_BINDIR"
    )


def _candidates() -> Iterator[Path]:
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out:
            yield Path(out)
    yield from _debian_bindirs()
    initdb = shutil.which("initdb")
    if initdb:
        yield Path(initdb).resolve().parent


def _debian_bindirs() -> list[Path]:
    """``/usr/lib/postgresql/*/bin``, newest major version first."""
    if not DEBIAN_ROOT.is_dir():
        return []
    versions = [p for p in DEBIAN_ROOT.iterdir() if (p / "bin").is_dir()]
    versions.sort(key=lambda p: _version_key(p.name), reverse=True)
    return [p / "bin" for p in versions]


def _version_key(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return (-1,)
