"""Making sure no throwaway server outlives the process that started it.

Two nets:

* every running server registers a stop callback here; an ``atexit`` hook runs the ones
  still registered when the interpreter exits (normal exit, uncaught exception, Ctrl-C);
* each server's base directory records its owner's pid in ``owner.pid``. Before a new
  server starts, :func:`sweep_stale` stops the servers and removes the directories of
  owners that are gone (a run killed with SIGKILL, which no ``atexit`` survives).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BASE_PREFIX = "pgwire-tempserver-"
OWNER_FILE = "owner.pid"

_stoppers: dict[int, Callable[[], None]] = {}


def register(key: int, stop: Callable[[], None]) -> None:
    """Run ``stop`` at interpreter exit unless :func:`unregister` is called first."""
    _stoppers[key] = stop


def unregister(key: int) -> None:
    """Forget the callback registered under ``key`` (no error if there is none)."""
    _stoppers.pop(key, None)


@atexit.register
def _stop_all() -> None:
    for key in list(_stoppers):
        stop = _stoppers.pop(key)
        with contextlib.suppress(Exception):
            stop()


def pid_alive(pid: int) -> bool:
    """True when a process with ``pid`` exists (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def postmaster_pid(datadir: Path) -> int | None:
    """The pid recorded in ``datadir/postmaster.pid`` if that process is a live postgres."""
    try:
        pid = int((datadir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid if pid_alive(pid) else None
    return pid if b"postgres" in cmdline else None


def kill_postmaster(datadir: Path, timeout: float = 10.0) -> None:
    """Stop the server of ``datadir`` by signal: fast shutdown, then SIGKILL after ``timeout``."""
    pid = postmaster_pid(datadir)
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)


def remove_tree(path: Path) -> None:
    """Delete ``path`` recursively, ignoring whatever is already gone."""
    shutil.rmtree(path, ignore_errors=True)


def sweep_stale(tempdir: Path | None = None) -> None:
    """Stop and delete the servers of owners that no longer exist."""
    root = Path(tempdir or tempfile.gettempdir())
    for base in root.glob(BASE_PREFIX + "*"):
        try:
            owner = int((base / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if owner == os.getpid() or pid_alive(owner):
            continue
        kill_postmaster(base / "data")
        remove_tree(base)
