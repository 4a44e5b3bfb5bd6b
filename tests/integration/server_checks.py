"""What the server and the process see, for tests that claim something stopped or leaked nothing.

A driver's own counters can agree with themselves while a backend still runs a
COPY or a socket stays open: these helpers look at ``pg_stat_activity``,
``pg_stat_progress_copy`` and ``/proc/self/fd`` instead.
"""

from __future__ import annotations

import asyncio
import os

import pgwire


async def assert_copy_stopped(dsn: str, pid: int) -> None:
    """The backend ``pid`` stops copying (neither in a COPY nor active) within 10 s."""
    observer = await pgwire.connect(dsn)
    try:
        state = None
        for _ in range(200):
            copying = await observer.fetchval(
                "SELECT count(*) FROM pg_stat_progress_copy WHERE pid = $1", pid
            )
            state = await observer.fetchval(
                "SELECT state FROM pg_stat_activity WHERE pid = $1", pid
            )
            if copying == 0 and state != "active":
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"backend {pid} is still running the COPY ({state})")
    finally:
        await observer.close()


async def backends_of(dsn: str, app: str) -> list[tuple[int, str]]:
    """(pid, state) of every backend whose application_name is ``app``."""
    observer = await pgwire.connect(dsn)
    try:
        rows = await observer.fetch(
            "SELECT pid, state FROM pg_stat_activity WHERE application_name = $1", app
        )
    finally:
        await observer.close()
    return sorted((r["pid"], r["state"]) for r in rows)


async def settled_backends(dsn: str, app: str, expected: int) -> list[tuple[int, str]]:
    """The backends of ``app`` once there are ``expected`` of them (waits up to 10 s)."""
    found: list[tuple[int, str]] = []
    for _ in range(200):
        found = await backends_of(dsn, app)
        if len(found) == expected:
            return found
        await asyncio.sleep(0.05)
    return found


def open_sockets() -> set[str]:
    """The sockets this process holds open, by inode (``/proc/self/fd``; Linux).

    Inodes rather than descriptor numbers: a closed descriptor's number is
    reused by the next socket, a socket's inode is not.
    """
    found = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # closed meanwhile (the listing's own descriptor among them)
        if target.startswith("socket:"):
            found.add(target)
    return found
