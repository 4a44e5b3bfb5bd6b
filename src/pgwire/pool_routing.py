"""A pool that knows the primary from the standbys: :func:`create_routing_pool`.

One object holds two :class:`~pgwire.pool.Pool` instances over the same host list:

* the *primary* pool opens connections with ``target_session_attrs=read-write``;
* the *standby* pool opens them with ``target_session_attrs=prefer-standby`` (a standby
  when there is one, else the primary, so read-only work never fails for lack of replicas).

``readonly=True`` on a shortcut (``fetch``, ``fetchrow``, ``fetchval``, ``execute``, ...)
or on ``acquire()`` routes to the standby pool; everything else goes to the primary.

Failover needs no restart: every new connection searches the host list again, so once a
standby is promoted the primary pool finds it.  Connections to a server that went away
are detected by the pools (closed sockets, input waiting on idle ones, health checks),
and the pools themselves send a shortcut again only when the server provably never
started it (``ConnectionClosedBeforeStartError``, see :mod:`pgwire.pool`).  The routing
pool adds one case: a single statement (any shortcut but ``execute()`` without
arguments, which may run a script) that failed with 25006 because a primary-pool
connection reached a server that is no longer writable.  25006 is raised before the
statement changes anything, and a single statement runs in its own implicit transaction,
which the error rolled back; so the routing pool expires that pool's connections and
runs it once more on a fresh one.  Nothing else is retried: a script can commit and then
fail, and a terminated or crashed session may have committed its last statement.  Work
inside ``acquire()`` is never retried.
"""

from __future__ import annotations

from collections.abc import Generator
from types import TracebackType
from typing import Any

from . import exceptions
from .pool import Pool, PoolAcquireContext

__all__ = ["RoutingPool", "create_routing_pool"]


class RoutingPool:
    """Primary and standby pools behind one API; see the module docstring.

    The arguments are :func:`pgwire.create_pool`'s; ``standby_min_size`` and
    ``standby_max_size`` size the standby pool (default: as the primary pool).
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        min_size: int = 10,
        max_size: int = 10,
        standby_min_size: int | None = None,
        standby_max_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        if "target_session_attrs" in kwargs:
            raise exceptions.InterfaceError(
                "RoutingPool chooses target_session_attrs itself; do not pass it"
            )
        self.primary = Pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            target_session_attrs="read-write",
            **kwargs,
        )
        self.standby = Pool(
            dsn,
            min_size=min_size if standby_min_size is None else standby_min_size,
            max_size=max_size if standby_max_size is None else standby_max_size,
            target_session_attrs="prefer-standby",
            **kwargs,
        )

    async def _init(self) -> RoutingPool:
        await self.primary
        try:
            await self.standby
        except BaseException:
            await self.primary.close()
            raise
        return self

    def __await__(self) -> Generator[Any, None, RoutingPool]:
        return self._init().__await__()

    async def __aenter__(self) -> RoutingPool:
        return await self._init()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def pool_for(self, readonly: bool) -> Pool:
        """The pool ``readonly`` work (or, when false, read-write work) goes to."""
        return self.standby if readonly else self.primary

    def acquire(
        self, *, readonly: bool = False, timeout: float | None = None
    ) -> PoolAcquireContext:
        """A connection to a standby (``readonly``) or to the primary."""
        return self.pool_for(readonly).acquire(timeout=timeout)

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:
        """Give back a connection from :meth:`acquire`, to whichever pool it came from."""
        holder = getattr(connection, "_holder", None)
        pool = self.standby if getattr(holder, "pool", None) is self.standby else self.primary
        await pool.release(connection, timeout=timeout)

    async def expire_connections(self) -> None:
        """Reconnect every connection at its next use (e.g. after a planned switchover)."""
        await self.primary.expire_connections()
        await self.standby.expire_connections()

    async def close(self) -> None:
        await self.primary.close()
        await self.standby.close()

    def terminate(self) -> None:
        self.primary.terminate()
        self.standby.terminate()

    async def _run(self, method: str, readonly: bool, *args: Any, **kwargs: Any) -> Any:
        pool = self.pool_for(readonly)
        try:
            return await getattr(pool, method)(*args, **kwargs)
        except exceptions.ReadOnlySQLTransactionError:
            script = method == "execute" and len(args) == 1
            if readonly or script:
                raise  # a write sent to a standby on purpose, or a script that may have run
            # The primary is not writable any more: find the current one.
            await pool.expire_connections()
            return await getattr(pool, method)(*args, **kwargs)

    async def execute(
        self, query: str, *args: Any, timeout: float | None = None, readonly: bool = False
    ) -> str:
        result: str = await self._run("execute", readonly, query, *args, timeout=timeout)
        return result

    async def executemany(
        self, command: str, args: Any, *, timeout: float | None = None, readonly: bool = False
    ) -> None:
        await self._run("executemany", readonly, command, args, timeout=timeout)

    async def fetch(
        self, query: str, *args: Any, timeout: float | None = None, readonly: bool = False
    ) -> list[Any]:
        result: list[Any] = await self._run("fetch", readonly, query, *args, timeout=timeout)
        return result

    async def fetchrow(
        self, query: str, *args: Any, timeout: float | None = None, readonly: bool = False
    ) -> Any:
        return await self._run("fetchrow", readonly, query, *args, timeout=timeout)

    async def fetchval(
        self,
        query: str,
        *args: Any,
        column: int = 0,
        timeout: float | None = None,
        readonly: bool = False,
    ) -> Any:
        return await self._run("fetchval", readonly, query, *args, column=column, timeout=timeout)

    def __repr__(self) -> str:
        return f"<pgwire.RoutingPool primary={self.primary!r} standby={self.standby!r}>"


def create_routing_pool(dsn: str | None = None, **kwargs: Any) -> RoutingPool:
    """``await create_routing_pool(dsn, ...)`` or ``async with create_routing_pool(...)``."""
    return RoutingPool(dsn, **kwargs)
