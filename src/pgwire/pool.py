"""Connection pool: asyncpg's ``Pool`` API, plus health checks and statistics.

Theory of operation:

1. The pool owns *holders*; each wraps one open connection. A holder is idle
   (in ``_idle``) or on loan (to a proxy or a pool shortcut). ``_opening``
   counts capacity reserved for connections being opened, so
   ``len(_holders) + _opening <= max_size`` always holds.

2. ``acquire()`` takes the most recently used idle holder; otherwise it
   reserves capacity and connects; otherwise it queues a future. ``release()``
   and every freed slot hand their holder (or reserved capacity) straight to
   the oldest queued acquirer, so queued tasks are served in order and newcomers
   never overtake them.

3. The queue wait uses no ``wait_for``: a timer fails the future on timeout,
   and an acquirer cancelled after its future received a holder gives the
   holder back. Whatever is handed to a task that is no longer there returns
   to the pool, so neither timeouts nor cancellation leak connections.

4. Health: a holder whose connection closed (server restart, network cut,
   ``pg_terminate_backend``) is dropped when noticed, by the connection's
   termination callback, at acquire, or by the maintenance task. Before an
   idle holder is handed out, input already waiting on its socket (the
   server's FATAL or EOF, at no round-trip cost) is read first; a holder that
   turns out closed is replaced. A holder idle for longer than
   ``health_check_interval`` is pinged (an empty query) before it is handed
   out; a failed ping replaces it transparently.

8. Where the server's FATAL and a pool shortcut's statement (``pool.fetch``
   and friends) cross on the wire, the statement is sent again on another
   connection only when it failed with ``ConnectionClosedBeforeStartError``:
   nothing was sent, or the FATAL arrived before any reply to a Parse or Bind,
   which the server answers before it runs anything (rule 7 of
   :mod:`pgwire.protocol.core`). A statement that got any reply, a simple
   query (``execute()`` without arguments) and a lost connection without the
   server's FATAL are never sent again.

5. Release resets a connection only when it is dirty (rules in
   :mod:`pgwire.pool_session`); a clean release costs no round trip. A
   custom ``reset`` hook is always called.

6. A background maintenance task keeps ``min_size`` connections open,
   closes idle ones past ``max_inactive_connection_lifetime`` (down to
   ``min_size``) and drops dead ones; after a server restart it reconnects
   once the server is back. Connections that served ``max_queries`` queries
   or predate ``expire_connections()`` are closed at release.

7. A hook (``init``, ``setup``, ``reset``) that raises discards the connection
   and the error reaches the caller; the pool stays usable.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import select
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable, Sequence
from types import TracebackType
from typing import Any

from . import exceptions, querylog, tracing
from ._impl import Record
from .connection import Connection, _check_record_class
from .connection import connect as _default_connect
from .pool_proxy import PoolConnectionProxy
from .pool_session import capture_session_settings, may_change_session, needs_reset
from .pool_stats import PoolCounters, PoolStats

__all__ = ["Pool", "PoolAcquireContext", "PoolConnectionProxy", "PoolStats", "create_pool"]

logger = logging.getLogger("pgwire.pool")

Hook = Callable[[Any], Awaitable[Any]]

#: Seconds between maintenance passes (it also wakes early when a slot frees).
MAINTENANCE_INTERVAL = 1.0
#: Upper bound for a health-check ping.
PING_TIMEOUT = 5.0
#: After how long a ``close()`` still waiting for acquired connections warns.
CLOSE_WARN_AFTER = 60.0
#: Upper bound for closing one connection gracefully.
CLOSE_TIMEOUT = 5.0
#: Event-loop iterations an acquire lets pass for input waiting on an idle socket.
INPUT_SPINS = 4


class _Reserved:
    """Marker handed to an acquirer: a free slot it may open a connection in."""

    __slots__ = ()


_RESERVED = _Reserved()
_Ticket = Any  # _Holder | _Reserved


class _Holder:
    """One pooled connection and the pool's bookkeeping about it."""

    __slots__ = (
        "pool",
        "con",
        "generation",
        "queries",
        "dirty",
        "baseline",
        "restore_sql",
        "released_at",
        "proxy",
        "acquire_timeout",
        "acquired_at",
    )

    def __init__(self, pool: Pool, con: Connection, generation: int, now: float) -> None:
        self.pool = pool
        self.con = con
        self.generation = generation
        self.queries = 0
        self.dirty = False
        self.baseline: dict[str, str] = dict(con._core.parameters)
        self.restore_sql = ""
        self.released_at = now
        self.proxy: PoolConnectionProxy | None = None
        #: The timeout of the acquire() that handed it out: release()'s default.
        self.acquire_timeout: float | None = None
        #: Loop time at which it was last handed out (for the use-time metric).
        self.acquired_at = now

    def note(self, query: Any) -> None:
        """Count a query and apply the cheap-reset SQL scan to its text."""
        self.queries += 1
        if not self.dirty and (not isinstance(query, str) or may_change_session(query)):
            self.dirty = True


def _check_size(name: str, value: Any, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} is expected to be an int >= {minimum}, got {value!r}")
    return value


def _check_seconds(name: str, value: Any, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} is expected to be a number >= 0, got {value!r}")
    return float(value)


def _check_hook(name: str, value: Any) -> Any:
    if value is not None and not callable(value):
        raise TypeError(f"{name} is expected to be callable, got {value!r}")
    return value


class Pool:
    """A pool of connections; create it with :func:`create_pool` (or ``await Pool(...)``).

    The arguments are asyncpg's, plus ``health_check_interval``: seconds a
    connection may sit idle before ``acquire()`` pings it (``None`` or ``0``
    turns the ping off; a closed socket is always detected).
    """

    def __init__(
        self,
        *connect_args: Any,
        init_size: int | None = None,
        min_size: int = 10,
        max_size: int = 10,
        max_queries: int = 50000,
        max_inactive_connection_lifetime: float = 300.0,
        health_check_interval: float | None = 10.0,
        connect: Callable[..., Awaitable[Connection]] | None = None,
        setup: Hook | None = None,
        init: Hook | None = None,
        reset: Hook | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        connection_class: type[Connection] = Connection,
        record_class: type[Record] = Record,
        **connect_kwargs: Any,
    ) -> None:
        _check_size("max_size", max_size, 1)
        _check_size("min_size", min_size, 0)
        if init_size is None:
            init_size = min_size
        _check_size("init_size", init_size, 0)
        if min_size > max_size:
            raise ValueError(f"min_size ({min_size}) is greater than max_size ({max_size})")
        if init_size > max_size:
            raise ValueError(f"init_size ({init_size}) is greater than max_size ({max_size})")
        if init_size < min_size:
            raise ValueError(f"init_size ({init_size}) is smaller than min_size ({min_size})")
        _check_size("max_queries", max_queries, 1)
        lifetime = _check_seconds(
            "max_inactive_connection_lifetime", max_inactive_connection_lifetime
        )
        ping_after = _check_seconds(
            "health_check_interval", health_check_interval, allow_none=True
        )
        if not isinstance(connection_class, type) or not issubclass(connection_class, Connection):
            raise TypeError(
                "connection_class is expected to be a subclass of pgwire.Connection, "
                f"got {connection_class!r}"
            )
        if not isinstance(record_class, type) or not issubclass(record_class, Record):
            raise TypeError(
                f"record_class is expected to be a subclass of pgwire.Record, got {record_class!r}"
            )
        _check_record_class(record_class)
        self._connect_fn = _check_hook("connect", connect)
        self._setup = _check_hook("setup", setup)
        self._init = _check_hook("init", init)
        self._reset = _check_hook("reset", reset)

        self._connect_args: tuple[Any, ...] = connect_args
        self._connect_kwargs: dict[str, Any] = connect_kwargs
        self._connection_class = connection_class
        self._record_class = record_class
        self._init_size = init_size
        self._min_size = min_size
        self._max_size = max_size
        self._max_queries = max_queries
        self._lifetime = lifetime or 0.0
        self._ping_after = ping_after or 0.0

        self._holders: set[_Holder] = set()
        self._idle: collections.deque[_Holder] = collections.deque()
        self._waiters: collections.deque[asyncio.Future[_Ticket]] = collections.deque()
        self._n_waiting = 0
        self._opening = 0
        self._generation = 0
        self._counters = PoolCounters()

        self._loop: asyncio.AbstractEventLoop | None = None
        self._initialized = False
        self._initializing = False
        self._closing = False
        self._closed = False
        self._maintainer: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None
        self._returned: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------ setup and teardown

    def __await__(self) -> Generator[Any, None, Pool]:
        return self._async_init().__await__()

    async def __aenter__(self) -> Pool:
        await self._async_init()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _async_init(self) -> Pool:
        if self._initialized:
            return self
        if self._initializing:
            raise exceptions.InterfaceError("pool is being initialized in another task")
        if self._closed:
            raise exceptions.InterfaceError("pool is closed")
        self._initializing = True
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._returned = asyncio.Event()
        self._returned.set()
        try:
            self._opening += self._init_size
            results = await asyncio.gather(
                *(self._open() for _ in range(self._init_size)), return_exceptions=True
            )
            failure = next((r for r in results if isinstance(r, BaseException)), None)
            for r in results:
                if isinstance(r, _Holder):
                    self._opening -= 1
                    self._idle.append(r)
                else:
                    self._opening -= 1
            if failure is not None:
                await self._close_all(graceful=False)
                self._closed = True
                raise failure
        finally:
            self._initializing = False
        self._initialized = True
        self._maintainer = self._loop.create_task(self._maintain())
        if tracing.observers:
            tracing.pool_event(self, "open")
        return self

    async def close(self) -> None:
        """Close the pool gracefully: wait until every connection is released, then close all.

        Tasks waiting in ``acquire()`` fail with :class:`InterfaceError`.
        """
        if self._closed:
            return
        self._begin_closing()
        assert self._returned is not None or not self._initialized
        if self._returned is not None and self._loop is not None:
            warn_at = self._loop.time() + CLOSE_WARN_AFTER
            while self._holders_in_use() > 0 or self._opening > 0:
                self._returned.clear()
                # Woken by releases; the short timeout also covers slots freed silently.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._returned.wait(), 0.5)
                if self._loop.time() > warn_at:
                    warn_at = float("inf")
                    warnings.warn(
                        f"Pool.close() is still waiting for {self._holders_in_use()} "
                        "acquired connection(s) to be released",
                        exceptions.InterfaceWarning,
                        stacklevel=2,
                    )
        await self._close_all(graceful=True)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._closed = True

    def terminate(self) -> None:
        """Close the pool and every connection at once, without waiting."""
        if self._closed:
            return
        self._begin_closing()
        for holder in list(self._holders):
            self._forget(holder)
            holder.con.terminate()
            if holder.proxy is not None:
                holder.proxy._detach()
        self._closed = True

    def _begin_closing(self) -> None:
        self._closing = True
        if self._maintainer is not None:
            self._maintainer.cancel()
            self._maintainer = None
        error = exceptions.InterfaceError("pool is closing")
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_exception(error)

    async def _close_all(self, *, graceful: bool) -> None:
        holders = list(self._holders)
        for holder in holders:
            self._forget(holder)
        if graceful:
            await asyncio.gather(
                *(self._close_connection(h.con) for h in holders), return_exceptions=True
            )
        else:
            for holder in holders:
                holder.con.terminate()

    async def expire_connections(self) -> None:
        """Replace every connection: idle ones are closed now, acquired ones at release."""
        self._generation += 1
        while self._idle:
            holder = self._idle.popleft()
            self._discard(holder)

    def set_connect_args(self, dsn: str | None = None, **connect_kwargs: Any) -> None:
        """Use these ``connect()`` arguments for connections opened from now on."""
        self._connect_args = (dsn,)
        self._connect_kwargs = connect_kwargs

    # ------------------------------------------------------------ introspection

    def is_closing(self) -> bool:
        """True once :meth:`close` or :meth:`terminate` has been called."""
        return self._closing

    def get_size(self) -> int:
        """Number of open connections, idle and acquired."""
        return len(self._holders)

    def get_idle_size(self) -> int:
        return len(self._idle)

    def get_min_size(self) -> int:
        return self._min_size

    def get_max_size(self) -> int:
        return self._max_size

    def get_init_size(self) -> int:
        return self._init_size

    def get_stats(self) -> PoolStats:
        """Sizes and counters in one snapshot (see :class:`~pgwire.pool_stats.PoolStats`)."""
        c = self._counters
        return PoolStats(
            size=len(self._holders),
            idle=len(self._idle),
            in_use=self._holders_in_use(),
            min_size=self._min_size,
            max_size=self._max_size,
            waiting=self._n_waiting,
            acquires=c.acquires,
            acquire_wait_total=c.acquire_wait_total,
            acquire_wait_max=c.acquire_wait_max,
            connections_opened=c.connections_opened,
            connections_closed=c.connections_closed,
            connections_failed=c.connections_failed,
            health_checks=c.health_checks,
            health_check_failures=c.health_check_failures,
            resets=c.resets,
            input_checks=c.input_checks,
            stale_dropped=c.stale_dropped,
            retries=c.retries,
        )

    def _holders_in_use(self) -> int:
        return len(self._holders) - len(self._idle)

    def __repr__(self) -> str:
        return (
            f"<pgwire.Pool size={len(self._holders)} idle={len(self._idle)} "
            f"max={self._max_size}{' closing' if self._closing else ''}>"
        )

    # ------------------------------------------------------------ acquire and release

    def acquire(self, *, timeout: float | None = None) -> PoolAcquireContext:
        """A connection proxy, as ``await pool.acquire()`` or ``async with pool.acquire()``.

        ``timeout`` bounds the whole acquisition (queueing, connecting, setup);
        on expiry :class:`asyncio.TimeoutError` is raised and nothing leaks.
        """
        if timeout is not None:
            _check_seconds("timeout", timeout)
        return PoolAcquireContext(self, timeout)

    @tracing.observed_acquire
    async def _acquire_proxy(self, timeout: float | None) -> PoolConnectionProxy:
        holder = await self._acquire_holder(timeout)
        proxy = PoolConnectionProxy(holder, holder.con)
        holder.proxy = proxy
        holder.acquire_timeout = timeout
        if self._setup is not None:
            try:
                if timeout is None:
                    await self._setup(proxy)
                else:
                    await asyncio.wait_for(self._setup(proxy), timeout)
            except BaseException:
                proxy._detach()
                holder.proxy = None
                self._discard(holder, graceful=False)
                raise
        return proxy

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:
        """Give ``connection`` back to the pool, resetting its session when needed.

        ``timeout`` bounds the reset; by default it is the timeout given to the
        :meth:`acquire` that handed the connection out (as in asyncpg).
        Releasing an object this pool did not hand out, or releasing twice,
        raises :class:`InterfaceError`. When the reset fails or times out the
        connection is closed and the error is raised.
        """
        if not isinstance(connection, PoolConnectionProxy) or connection._holder.pool is not self:
            raise exceptions.InterfaceError(
                f"Pool.release() received invalid connection: {connection!r} "
                "was not acquired from this pool"
            )
        if connection._con is None:
            if self._closed:
                return
            raise exceptions.InterfaceError(
                "Pool.release(): the connection has already been released back to the pool"
            )
        if timeout is not None:
            _check_seconds("timeout", timeout)
        holder = connection._holder
        if timeout is None:
            timeout = holder.acquire_timeout
        connection._detach()
        holder.proxy = None
        _warn_listeners_left(holder.con, removed=self._reset is None)
        await self._release_holder(holder, timeout)

    async def _acquire_holder(self, timeout: float | None) -> _Holder:
        if not tracing.observers or self._loop is None:
            holder = await self._take_holder(timeout)
            holder.acquired_at = self._loop.time()  # type: ignore[union-attr]
            return holder
        began = self._loop.time()
        try:
            holder = await self._take_holder(timeout)
        except asyncio.TimeoutError:
            tracing.pool_event(self, "timeout")
            raise
        holder.acquired_at = now = self._loop.time()
        tracing.pool_event(self, "wait", now - began)
        return holder

    async def _take_holder(self, timeout: float | None) -> _Holder:
        if not self._initialized or self._closing:
            self._raise_not_usable()
        loop = self._loop
        assert loop is not None
        start = 0.0
        deadline = None
        if timeout is not None:
            start = loop.time()
            deadline = start + timeout
        waited = False
        while True:
            ticket: _Ticket = None
            while self._idle:
                holder = self._idle.pop()
                if _is_dead(holder.con):
                    self._counters.stale_dropped += 1
                    self._discard(holder, graceful=False)
                    continue
                ticket = holder
                break
            if ticket is None:
                if not waited:
                    waited = True
                    if deadline is None:
                        start = loop.time()
                if self._n_waiting == 0 and len(self._holders) + self._opening < self._max_size:
                    self._opening += 1
                    ticket = _RESERVED
                else:
                    ticket = await self._wait(deadline)
            ready = await self._make_ready(ticket, deadline)
            if ready is not None:
                break
        c = self._counters
        c.acquires += 1
        if waited:
            c.waited(loop.time() - start)
        return ready

    def _raise_not_usable(self) -> None:
        if self._closed:
            raise exceptions.InterfaceError("pool is closed")
        if self._closing:
            raise exceptions.InterfaceError("pool is closing")
        if self._initializing:
            raise exceptions.InterfaceError(
                "pool is being initialized, but not yet ready: "
                "likely there is a race between creating a pool and using it"
            )
        raise exceptions.InterfaceError("pool is not initialized: await it first")

    async def _wait(self, deadline: float | None) -> _Ticket:
        """Queue for the next released holder or freed slot."""
        loop = self._loop
        assert loop is not None
        fut: asyncio.Future[_Ticket] = loop.create_future()
        self._waiters.append(fut)
        self._n_waiting += 1
        timer = None
        if deadline is not None:
            timer = loop.call_at(deadline, _expire_waiter, fut)
        try:
            return await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self._hand_over(fut.result())
            raise
        finally:
            self._n_waiting -= 1
            if timer is not None:
                timer.cancel()

    async def _make_ready(self, ticket: _Ticket, deadline: float | None) -> _Holder | None:
        """Turn a ticket into a usable holder; None when a dead one was dropped (retry)."""
        if ticket is _RESERVED:
            return await self._open_reserved(deadline)
        holder = ticket
        assert isinstance(holder, _Holder)
        if holder.generation != self._generation:
            self._discard(holder)
            return None
        con = holder.con
        if not _is_dead(con) and _input_waiting(con):
            # On an idle connection this is most likely the server's FATAL and EOF.
            self._counters.input_checks += 1
            try:
                await _read_waiting_input(con)
            except BaseException:
                self._hand_over(holder)
                raise
        if _is_dead(con):
            self._counters.stale_dropped += 1
            logger.info("pgwire pool: dropped an idle connection the server closed: %r", con)
            self._discard(holder, graceful=False)
            return None
        if self._ping_after and self._loop.time() - holder.released_at > self._ping_after:  # type: ignore[union-attr]
            if not await self._ping(holder, deadline):
                return None
        return holder

    async def _open_reserved(self, deadline: float | None) -> _Holder:
        """Open a connection in the slot this task reserved.

        The connection opens in its own task: when the acquirer gives up
        (timeout, cancellation) a connection that opens anyway joins the pool.
        """
        assert self._loop is not None
        task = self._loop.create_task(self._open())
        try:
            timeout = None if deadline is None else max(deadline - self._loop.time(), 0.0)
            await asyncio.wait((task,), timeout=timeout)
        except BaseException:
            task.add_done_callback(self._adopt)
            task.cancel()
            raise
        if not task.done():
            task.add_done_callback(self._adopt)
            task.cancel()
            raise asyncio.TimeoutError()
        self._opening -= 1
        if task.cancelled() or task.exception() is not None:
            self._slot_freed()
        return task.result()

    def _adopt(self, task: asyncio.Task[_Holder]) -> None:
        """Done-callback of an abandoned connection attempt: keep what it produced."""
        self._opening -= 1
        if task.cancelled() or task.exception() is not None:
            self._slot_freed()
        elif self._closing:
            self._discard(task.result())
        else:
            self._hand_over(task.result())

    async def _ping(self, holder: _Holder, deadline: float | None) -> bool:
        c = self._counters
        c.health_checks += 1
        assert self._loop is not None
        limit = PING_TIMEOUT
        if deadline is not None:
            limit = min(limit, max(deadline - self._loop.time(), 0.0))
        try:
            # The pool's own statement: logged here, not as a query (querylog rule 4).
            logger.debug("pgwire pool: pinging a connection idle for over %s s", self._ping_after)
            await asyncio.wait_for(holder.con._execute_internal(""), limit)
        except BaseException as exc:
            c.health_check_failures += 1
            self._discard(holder, graceful=False)
            if isinstance(exc, asyncio.CancelledError):
                raise
            if deadline is not None and deadline <= self._loop.time():
                raise asyncio.TimeoutError() from None
            logger.info("pgwire pool: dropped a connection that failed its health check: %r", exc)
            return False
        return True

    async def _release_holder(self, holder: _Holder, timeout: float | None = None) -> None:
        con = holder.con
        if tracing.observers and self._loop is not None:
            tracing.pool_event(self, "use", self._loop.time() - holder.acquired_at)
        if holder not in self._holders:  # the pool was terminated meanwhile
            if not con.is_closed():
                con.terminate()
            return
        if _is_dead(con):
            self._discard(holder, graceful=False)
            return
        try:
            if self._reset is not None:
                self._counters.resets += 1
                if timeout is None:
                    await self._reset(con)
                else:
                    await asyncio.wait_for(self._reset(con), timeout)
            elif needs_reset(con, holder.baseline, holder.dirty):
                self._counters.resets += 1
                await self._default_reset(holder, timeout)
        except BaseException:
            self._discard(holder, graceful=False)
            raise
        holder.dirty = False
        if (
            holder.queries >= self._max_queries
            or holder.generation != self._generation
            or self._closing
        ):
            self._discard(holder)
            return
        holder.released_at = self._loop.time()  # type: ignore[union-attr]
        self._hand_over(holder)

    async def _default_reset(self, holder: _Holder, timeout: float | None) -> None:
        con = holder.con
        if timeout is None:
            # The pool's own statements: logged here, not as queries (querylog rule 4).
            logger.debug("pgwire pool: resetting the session of a released connection")
            await con.reset()
            if holder.restore_sql:
                await con._execute_internal(holder.restore_sql)
        else:
            await asyncio.wait_for(self._default_reset(holder, None), timeout)
            return
        holder.baseline = dict(con._core.parameters)

    def _hand_over(self, ticket: _Ticket) -> None:
        """Give a holder or a reserved slot to the oldest waiter, else return it to the pool."""
        waiters = self._waiters
        while waiters:
            fut = waiters.popleft()
            if not fut.done():
                fut.set_result(ticket)
                return
        if ticket is _RESERVED:
            self._opening -= 1
        else:
            self._idle.append(ticket)
            if self._lifetime and len(self._idle) == 1 and self._wakeup is not None:
                self._wakeup.set()  # the maintainer times this connection's expiry
            if self._returned is not None and len(self._idle) == len(self._holders):
                self._returned.set()

    def _serve_waiters(self) -> None:
        """Safety net: hand idle connections and free slots to queued acquirers."""
        while self._idle and any(not f.done() for f in self._waiters):
            self._hand_over(self._idle.pop())
        while (
            any(not f.done() for f in self._waiters)
            and len(self._holders) + self._opening < self._max_size
        ):
            self._opening += 1
            self._hand_over(_RESERVED)

    def _slot_freed(self) -> None:
        """A connection went away: let a waiter open a new one, and wake the maintainer."""
        if self._n_waiting and not self._closing:
            self._opening += 1
            self._hand_over(_RESERVED)
        if self._wakeup is not None:
            self._wakeup.set()
        if self._returned is not None and len(self._idle) == len(self._holders):
            self._returned.set()

    # ------------------------------------------------------------ connections

    async def _open(self) -> _Holder:
        """Open, initialise and register one connection (the caller reserved the slot)."""
        assert self._loop is not None
        began = self._loop.time()
        try:
            con = await self._connect()
        except BaseException:
            self._counters.connections_failed += 1
            raise
        self._counters.connections_opened += 1
        if tracing.observers:
            tracing.pool_event(self, "create", self._loop.time() - began)
        holder = _Holder(self, con, self._generation, self._loop.time())
        try:
            if self._init is not None:
                await self._init(con)
                if self._reset is None:
                    holder.restore_sql = await capture_session_settings(con)
                holder.baseline = dict(con._core.parameters)
        except BaseException:
            con.terminate()
            self._counters.connections_closed += 1
            raise
        if self._closing:
            con.terminate()
            self._counters.connections_closed += 1
            raise exceptions.InterfaceError("pool is closing")
        self._holders.add(holder)
        con.add_termination_listener(lambda _con: self._on_terminated(holder))
        logger.debug(
            "pgwire pool: opened a connection (size %d of %d)", len(self._holders), self._max_size
        )
        return holder

    async def _connect(self) -> Connection:
        fn = self._connect_fn if self._connect_fn is not None else _default_connect
        con = await fn(
            *self._connect_args,
            connection_class=self._connection_class,
            record_class=self._record_class,
            **self._connect_kwargs,
        )
        if not isinstance(con, self._connection_class):
            good = self._connection_class.__name__
            if isinstance(con, Connection):
                con.terminate()
            raise exceptions.InterfaceError(
                f"expected pool connect callback to return an instance of {good!r}, "
                f"got {type(con).__name__!r}"
            )
        return con

    def _on_terminated(self, holder: _Holder) -> None:
        if holder in self._holders and holder in self._idle:
            self._idle.remove(holder)
            self._counters.stale_dropped += 1
            logger.info("pgwire pool: dropped an idle connection that closed: %r", holder.con)
            self._discard(holder, graceful=False)

    def _forget(self, holder: _Holder) -> None:
        if holder in self._holders:
            self._holders.discard(holder)
            self._counters.connections_closed += 1
        try:
            self._idle.remove(holder)
        except ValueError:
            pass

    def _discard(self, holder: _Holder, *, graceful: bool = True) -> None:
        """Drop ``holder`` from the pool and close its connection (in the background)."""
        if holder not in self._holders:
            return
        self._forget(holder)
        logger.debug(
            "pgwire pool: closed a connection (size %d of %d)", len(self._holders), self._max_size
        )
        con = holder.con
        if con.is_closed():
            pass
        elif graceful and self._loop is not None:
            self._spawn(self._close_connection(con))
        else:
            con.terminate()
        self._slot_freed()

    async def _close_connection(self, con: Connection) -> None:
        try:
            await con.close(timeout=CLOSE_TIMEOUT)
        except BaseException:
            con.terminate()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        assert self._loop is not None
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ maintenance

    async def _maintain(self) -> None:
        """Background loop: drop dead and long-idle connections, keep ``min_size`` open."""
        assert self._loop is not None and self._wakeup is not None
        loop = self._loop
        while not self._closing:
            now = loop.time()
            self._serve_waiters()
            for holder in [h for h in self._idle if _is_dead(h.con)]:
                self._counters.stale_dropped += 1
                self._discard(holder, graceful=False)
            if self._lifetime:
                while (
                    self._idle
                    and len(self._holders) > self._min_size
                    and now - self._idle[0].released_at > self._lifetime
                ):
                    self._discard(self._idle[0])
            missing = self._min_size - len(self._holders) - self._opening
            if missing > 0:
                self._opening += missing
                await asyncio.gather(
                    *(self._open_in_background() for _ in range(missing)),
                    return_exceptions=True,
                )
            self._wakeup.clear()
            pause = MAINTENANCE_INTERVAL
            if self._lifetime and self._idle and len(self._holders) > self._min_size:
                # Wake when the oldest idle connection expires, not a whole interval later.
                due = self._idle[0].released_at + self._lifetime - loop.time()
                pause = min(pause, max(due, 0.0) + 0.005)
            try:
                await asyncio.wait_for(self._wakeup.wait(), pause)
            except asyncio.TimeoutError:
                pass

    async def _open_in_background(self) -> None:
        try:
            holder = await self._open()
        except asyncio.CancelledError:
            self._opening -= 1
            raise
        except BaseException as exc:
            self._opening -= 1
            logger.warning("pgwire pool: could not open a connection: %r", exc)
            return
        self._opening -= 1
        self._hand_over(holder)

    # ------------------------------------------------------------ shortcuts

    async def _run(self, query: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        scope = _retry_scope()
        token = None if scope is None else tracing.retry_scope.set(scope)
        attempts = 0
        try:
            while True:
                holder = await self._acquire_holder(None)
                try:
                    holder.note(query)
                    if scope is not None:
                        scope.allowed = attempts < self._max_size
                    return await getattr(holder.con, method)(query, *args, **kwargs)
                except exceptions.ConnectionClosedBeforeStartError:
                    attempts += 1
                    if not self._send_again(attempts):
                        raise
                finally:
                    if scope is not None:
                        scope.allowed = False
                    await self._release_holder(holder)
        finally:
            if scope is not None:
                tracing.retry_scope.reset(token)  # type: ignore[arg-type]
                scope.close()

    def _send_again(self, attempts: int) -> bool:
        """Rule 8: the server never started the statement; may it go to another connection?"""
        if attempts > self._max_size:
            return False
        self._counters.retries += 1
        logger.info(
            "pgwire pool: the server closed a connection before a statement started; "
            "sending it again on another connection"
        )
        return True

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:
        """Acquire a connection, run :meth:`Connection.execute`, release it."""
        result: str = await self._run(query, "execute", *args, timeout=timeout)
        return result

    async def executemany(
        self, command: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None
    ) -> None:
        """Acquire a connection, run :meth:`Connection.executemany`, release it."""
        await self._run(command, "executemany", args, timeout=timeout)

    async def fetch(
        self,
        query: str,
        *args: Any,
        timeout: float | None = None,
        record_class: type[Record] | None = None,
    ) -> list[Record]:
        """Acquire a connection, run :meth:`Connection.fetch`, release it."""
        rows: list[Record] = await self._run(
            query, "fetch", *args, timeout=timeout, record_class=record_class
        )
        return rows

    async def fetchrow(
        self,
        query: str,
        *args: Any,
        timeout: float | None = None,
        record_class: type[Record] | None = None,
    ) -> Record | None:
        """Acquire a connection, run :meth:`Connection.fetchrow`, release it."""
        row: Record | None = await self._run(
            query, "fetchrow", *args, timeout=timeout, record_class=record_class
        )
        return row

    async def fetchval(
        self, query: str, *args: Any, column: int = 0, timeout: float | None = None
    ) -> Any:
        """Acquire a connection, run :meth:`Connection.fetchval`, release it."""
        if tracing.observers or querylog.wanted():
            # Observed or logged: _run() keeps a retried call one call (tracing rule 7).
            return await self._run(query, "fetchval", *args, column=column, timeout=timeout)
        attempts = 0
        while True:  # _run() without its getattr: the hot shortcut
            holder = await self._acquire_holder(None)
            try:
                holder.note(query)
                return await holder.con.fetchval(query, *args, column=column, timeout=timeout)
            except exceptions.ConnectionClosedBeforeStartError:
                attempts += 1
                if not self._send_again(attempts):
                    raise
            finally:
                await self._release_holder(holder)

    async def fetchmany(
        self,
        query: str,
        args: Iterable[Sequence[Any]],
        *,
        timeout: float | None = None,
        record_class: type[Record] | None = None,
    ) -> list[Record]:
        """Acquire a connection, run :meth:`Connection.fetchmany`, release it."""
        rows: list[Record] = await self._run(
            query, "fetchmany", args, timeout=timeout, record_class=record_class
        )
        return rows

    async def copy_from_table(self, table_name: str, **kwargs: Any) -> str:
        """Acquire a connection, run :meth:`Connection.copy_from_table`, release it."""
        result: str = await self._run(table_name, "copy_from_table", **kwargs)
        return result

    async def copy_from_query(self, query: str, *args: Any, **kwargs: Any) -> str:
        """Acquire a connection, run :meth:`Connection.copy_from_query`, release it."""
        result: str = await self._run(query, "copy_from_query", *args, **kwargs)
        return result

    async def copy_to_table(self, table_name: str, **kwargs: Any) -> str:
        """Acquire a connection, run :meth:`Connection.copy_to_table`, release it."""
        result: str = await self._run(table_name, "copy_to_table", **kwargs)
        return result

    async def copy_records_to_table(self, table_name: str, **kwargs: Any) -> str:
        """Acquire a connection, run :meth:`Connection.copy_records_to_table`, release it."""
        result: str = await self._run(table_name, "copy_records_to_table", **kwargs)
        return result


def _retry_scope() -> tracing.RetryScope | None:
    """A scope that keeps a retried shortcut one observed call (tracing rule 7), when
    anything observes or logs queries; ``None`` otherwise (no cost)."""
    if tracing.observers or querylog.wanted():
        return tracing.RetryScope()
    return None


def _warn_listeners_left(con: Connection, *, removed: bool) -> None:
    """Warn about notification or log listeners still attached at release (as asyncpg)."""
    what = []
    if con._listeners:
        count = sum(len(callbacks) for callbacks in con._listeners.values())
        what.append(
            f"{count} active notification listener{'s' if count != 1 else ''} "
            f"(channels {sorted(con._listeners)})"
        )
    if con._log_listeners:
        count = len(con._log_listeners)
        what.append(f"{count} active log listener{'s' if count != 1 else ''}")
    if what:
        # asyncpg's wording, so that filters written for it match.
        warnings.warn(
            f"{con!r} is being released to the pool but has {' and '.join(what)}"
            + ("; the listeners are removed" if removed else ""),
            exceptions.InterfaceWarning,
            stacklevel=3,
        )


def _is_dead(con: Connection) -> bool:
    """The cheap check: the socket is gone or the server said goodbye (FATAL) already."""
    return con.is_closed() or con._core.closed_error is not None


def _input_waiting(con: Connection) -> bool:
    """Bytes (or EOF) wait unread on the connection's socket: a non-blocking poll.

    ``poll`` where the platform has it (``select`` is limited to descriptors
    below ``FD_SETSIZE``); an error means the socket is gone, which the event
    loop then reports.
    """
    sock = con._transport.get_extra_info("socket")
    if sock is None:
        return False
    try:
        fd = sock.fileno()
        if fd < 0:
            return True
        if _poll is not None:
            poller = _poll()
            poller.register(fd, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select((fd,), (), (), 0)
    except OSError:
        return True
    except ValueError:  # a descriptor select() cannot watch: assume nothing is waiting
        return False
    return bool(readable)


_poll = getattr(select, "poll", None)


async def _read_waiting_input(con: Connection) -> None:
    """Let the event loop read what waits on the socket (at most ``INPUT_SPINS`` iterations).

    The loop reads a readable socket in the iteration after the one that polls it,
    so a single ``sleep(0)`` is not always enough.
    """
    for _ in range(INPUT_SPINS):
        await asyncio.sleep(0)
        if _is_dead(con) or not _input_waiting(con):
            return


def _expire_waiter(fut: asyncio.Future[Any]) -> None:
    if not fut.done():
        fut.set_exception(asyncio.TimeoutError())


class PoolAcquireContext:
    """What ``Pool.acquire()`` returns: awaitable, or an async context manager that releases."""

    __slots__ = ("pool", "timeout", "connection", "done")

    def __init__(self, pool: Pool, timeout: float | None) -> None:
        self.pool = pool
        self.timeout = timeout
        self.connection: PoolConnectionProxy | None = None
        self.done = False

    async def __aenter__(self) -> PoolConnectionProxy:
        if self.connection is not None or self.done:
            raise exceptions.InterfaceError("a connection is already acquired")
        self.connection = await self.pool._acquire_proxy(self.timeout)
        return self.connection

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.done = True
        con, self.connection = self.connection, None
        if con is not None and con._con is not None:
            await self.pool.release(con)

    def __await__(self) -> Generator[Any, None, PoolConnectionProxy]:
        self.done = True
        return self.pool._acquire_proxy(self.timeout).__await__()


def create_pool(
    dsn: str | None = None,
    *,
    init_size: int | None = None,
    min_size: int = 10,
    max_size: int = 10,
    max_queries: int = 50000,
    max_inactive_connection_lifetime: float = 300.0,
    health_check_interval: float | None = 10.0,
    connect: Callable[..., Awaitable[Connection]] | None = None,
    setup: Hook | None = None,
    init: Hook | None = None,
    reset: Hook | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
    connection_class: type[Connection] = Connection,
    record_class: type[Record] = Record,
    **connect_kwargs: Any,
) -> Pool:
    """Create a connection pool: ``await create_pool(...)`` or ``async with create_pool(...)``.

    The arguments are asyncpg's; ``connect_kwargs`` go to :func:`pgwire.connect`
    (or to the ``connect`` callable). See :class:`Pool` for ``health_check_interval``.
    """
    return Pool(
        dsn,
        init_size=init_size,
        min_size=min_size,
        max_size=max_size,
        max_queries=max_queries,
        max_inactive_connection_lifetime=max_inactive_connection_lifetime,
        health_check_interval=health_check_interval,
        connect=connect,
        setup=setup,
        init=init,
        reset=reset,
        loop=loop,
        connection_class=connection_class,
        record_class=record_class,
        **connect_kwargs,
    )
