"""Observation hooks: the stable place where tracing and metrics plug into pgwire.

An :class:`Observer` is told when a query, a connection attempt or a pool
acquisition starts; it may return a *finisher*, a callable that pgwire
calls exactly once when that work ends, with the exception that ended it
(or ``None``). That pair is what a tracing span needs: start and end, in the
task that did the work (so the caller's tracing context is current when the
``*_started`` method runs).

Rules:

1. Observers are process-wide: :func:`add_observer` / :func:`remove_observer`.
   With none registered the cost is one truth test of a list per operation.
2. An observer that raises is logged and ignored; it never fails the work.
3. ``query_started`` sees the public calls that carry SQL (``execute``,
   ``fetch*``, ``executemany``, prepared statement and cursor executions),
   after the call got its turn on the connection; it ends when the call
   returns or raises.
4. ``connect_started`` sees each attempt to open a session at one address
   (a multi-host DSN makes several); ``acquire_started`` sees each
   ``Pool.acquire()``, including any wait for a free connection.
5. ``executemany()`` and ``fetchmany()`` pass their argument sets as one
   :class:`BatchArgs` (a list), so an observer can tell a batch from a query
   whose single argument is a list.
6. ``pool_event`` reports what a pool's metrics need, for every pool
   (shortcuts such as ``pool.fetchval()`` included): ``"open"`` once a pool is
   ready, ``"wait"`` with the seconds an acquisition took, ``"timeout"`` when
   one timed out, ``"create"`` with the seconds a new connection took to open
   and ``"use"`` with the seconds a connection was out of the pool.

:mod:`pgwire.contrib.otel` is an OpenTelemetry observer built on these hooks.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

if TYPE_CHECKING:
    from .pool import Pool

__all__ = [
    "BatchArgs",
    "BatchStream",
    "Finisher",
    "Observer",
    "Target",
    "add_observer",
    "remove_observer",
]

logger = logging.getLogger("pgwire.tracing")

#: Called once when observed work ends, with its exception or ``None``.
Finisher = Callable[[BaseException | None], None]

_T = TypeVar("_T")


class Target(NamedTuple):
    """Where observed work goes: a ``(host, port)`` pair or a unix socket path, and the login."""

    addr: tuple[str, int] | str
    database: str
    user: str


class BatchArgs(list):  # type: ignore[type-arg]
    """The argument sets of one ``executemany()``/``fetchmany()`` call (rule 5)."""

    __slots__ = ()


class BatchStream:
    """The argument sets of an ``executemany()`` given as an iterator (consumed as sent)."""

    __slots__ = ("_it",)

    def __init__(self, it: Any) -> None:
        self._it = it

    def __iter__(self) -> Any:
        return iter(self._it)


def as_batch(args: Any) -> Any:
    """``args`` marked as one call's argument sets: :class:`BatchArgs` for a list or tuple,
    :class:`BatchStream` for another iterable (not consumed here); else unchanged (it
    fails later)."""
    if isinstance(args, (list, tuple)):
        return BatchArgs(args)
    if isinstance(args, (str, bytes)) or not hasattr(args, "__iter__"):
        return args
    return BatchStream(args)


class Observer:
    """Base class for observers; override the hooks you need (each defaults to no-op)."""

    def query_started(self, query: str, args: Sequence[Any], target: Target) -> Finisher | None:
        """A public call is about to run ``query`` with ``args`` on a connection to ``target``."""
        return None

    def connect_started(self, target: Target) -> Finisher | None:
        """A session to ``target`` is about to be opened (TCP/TLS, startup, authentication)."""
        return None

    def acquire_started(self, pool: Pool) -> Finisher | None:
        """``pool.acquire()`` was called; it ends when a connection is handed out (or fails)."""
        return None

    def pool_event(self, pool: Pool, event: str, seconds: float) -> None:
        """Something a pool's metrics count happened (rule 6); ``seconds`` may be 0."""


#: The registered observers. Read by the driver's hot paths; change it only through
#: :func:`add_observer` and :func:`remove_observer`.
observers: list[Observer] = []


def add_observer(observer: Observer) -> None:
    """Start notifying ``observer`` (registering the same one twice has no effect)."""
    if observer not in observers:
        observers.append(observer)


def remove_observer(observer: Observer) -> None:
    """Stop notifying ``observer`` (unknown observers are ignored)."""
    try:
        observers.remove(observer)
    except ValueError:
        pass


def _start(hook: str, *args: Any) -> Finisher | None:
    finishers: list[Finisher] = []
    for observer in list(observers):
        try:
            finish = getattr(observer, hook)(*args)
        except Exception:
            logger.exception("pgwire observer %r failed in %s", observer, hook)
            continue
        if finish is not None:
            finishers.append(finish)
    if not finishers:
        return None
    if len(finishers) == 1:
        return _guarded(finishers[0])

    def finish_all(exc: BaseException | None) -> None:
        for finish in finishers:
            _guarded(finish)(exc)

    return finish_all


def _guarded(finish: Finisher) -> Finisher:
    def call(exc: BaseException | None) -> None:
        try:
            finish(exc)
        except Exception:
            logger.exception("pgwire observer finisher %r failed", finish)

    return call


def pool_event(pool: Pool, event: str, seconds: float = 0.0) -> None:
    """Tell observers of a pool event (driver-internal; call only when ``observers``)."""
    for observer in list(observers):
        try:
            observer.pool_event(pool, event, seconds)
        except Exception:
            logger.exception("pgwire observer %r failed in pool_event", observer)


def query_started(query: str, args: Sequence[Any], target: Target) -> Finisher | None:
    """Notify observers of a query (driver-internal; call only when ``observers``)."""
    return _start("query_started", query, args, target)


async def _observe(finish: Finisher | None, work: Awaitable[_T]) -> _T:
    if finish is None:
        return await work
    try:
        result = await work
    except BaseException as exc:
        finish(exc)
        raise
    finish(None)
    return result


def observed_connect(
    fn: Callable[..., Awaitable[_T]],
) -> Callable[..., Awaitable[_T]]:
    """Decorate ``_connect_addr(cls, addr, params, config)`` so observers see each attempt."""

    @functools.wraps(fn)
    async def wrapper(cls: Any, addr: Any, params: Any, *args: Any) -> _T:
        if not observers:
            return await fn(cls, addr, params, *args)
        target = Target(addr, params.database, params.user)
        finish = _start("connect_started", target)
        return await _observe(finish, fn(cls, addr, params, *args))

    return wrapper


def observed_acquire(
    fn: Callable[..., Awaitable[_T]],
) -> Callable[..., Awaitable[_T]]:
    """Decorate ``Pool._acquire_proxy(self, timeout)`` so observers see each acquisition."""

    @functools.wraps(fn)
    async def wrapper(pool: Any, *args: Any) -> _T:
        if not observers:
            return await fn(pool, *args)
        finish = _start("acquire_started", pool)
        return await _observe(finish, fn(pool, *args))

    return wrapper
