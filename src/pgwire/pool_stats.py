"""``PoolStats``: a snapshot of a pool's size and counters, returned by ``Pool.get_stats()``."""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["PoolStats", "PoolCounters"]


@dataclasses.dataclass(frozen=True)
class PoolStats:
    """Point-in-time pool statistics; counters are totals since the pool was created.

    ``size`` counts open connections (idle plus in use); ``waiting`` counts
    tasks blocked in ``acquire()``. Wait times are in seconds and measure how
    long ``acquire()`` took to hand out a connection (queueing plus connecting).
    """

    size: int
    idle: int
    in_use: int
    min_size: int
    max_size: int
    waiting: int
    acquires: int
    acquire_wait_total: float
    acquire_wait_max: float
    connections_opened: int
    connections_closed: int
    connections_failed: int
    health_checks: int
    health_check_failures: int
    resets: int
    #: Acquires that found input waiting on an idle connection's socket and read it first.
    input_checks: int = 0
    #: Idle connections found closed (the server's FATAL, EOF) and replaced.
    stale_dropped: int = 0
    #: Pool shortcut statements sent again on another connection because the server
    #: closed theirs before it started them (see rule 8 in :mod:`pgwire.pool`).
    retries: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The statistics as a plain dict (for JSON or a metrics exporter)."""
        return dataclasses.asdict(self)


class PoolCounters:
    """The mutable counters a pool updates as it works."""

    __slots__ = (
        "acquires",
        "acquire_wait_total",
        "acquire_wait_max",
        "connections_opened",
        "connections_closed",
        "connections_failed",
        "health_checks",
        "health_check_failures",
        "resets",
        "input_checks",
        "stale_dropped",
        "retries",
    )

    def __init__(self) -> None:
        self.acquires = 0
        self.acquire_wait_total = 0.0
        self.acquire_wait_max = 0.0
        self.connections_opened = 0
        self.connections_closed = 0
        self.connections_failed = 0
        self.health_checks = 0
        self.health_check_failures = 0
        self.resets = 0
        self.input_checks = 0
        self.stale_dropped = 0
        self.retries = 0

    def waited(self, seconds: float) -> None:
        self.acquire_wait_total += seconds
        if seconds > self.acquire_wait_max:
            self.acquire_wait_max = seconds
