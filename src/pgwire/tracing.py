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
   ``fetch*``, ``executemany``, prepared statements) and each round trip of
   a cursor (opening it, each fetch or ``forward``, with the cursor's query
   and arguments), after the call got its turn on the connection; it ends
   when the call returns or raises.
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
7. A pool shortcut (``pool.fetchval()`` and friends) that the pool sends
   again on another connection after ``ConnectionClosedBeforeStartError``
   (rule 8 of :mod:`pgwire.pool`) is one observed query: the finisher of the
   failed attempt is not called with that error; when it has a ``retried``
   attribute, ``retried(exc)`` is called instead, and the same finisher ends
   the call once the attempt on the other connection ends. No new
   ``query_started`` is made for the second attempt.
8. Statements the driver runs for itself (the pool's health-check ping and
   release reset, cursor ``CLOSE``, type introspection) are not queries of
   the application and are not observed.

:mod:`pgwire.contrib.otel` is an OpenTelemetry observer built on these hooks.
"""

from __future__ import annotations

import contextvars
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
    return _FinishAll(finishers)


class _FinishAll:
    """The finishers of several observers, called in turn (each guarded)."""

    __slots__ = ("finishers",)

    def __init__(self, finishers: list[Finisher]) -> None:
        self.finishers = finishers

    def __call__(self, exc: BaseException | None) -> None:
        for finish in self.finishers:
            _guarded(finish)(exc)

    def retried(self, exc: BaseException) -> None:
        for finish in self.finishers:
            _retried(finish, exc)


class _Guarded:
    """One observer's finisher; an exception it raises is logged (rule 2)."""

    __slots__ = ("finish",)

    def __init__(self, finish: Finisher) -> None:
        self.finish = finish

    def __call__(self, exc: BaseException | None) -> None:
        try:
            self.finish(exc)
        except Exception:
            logger.exception("pgwire observer finisher %r failed", self.finish)

    def retried(self, exc: BaseException) -> None:
        _retried(self.finish, exc)


def _guarded(finish: Finisher) -> Finisher:
    return _Guarded(finish)


def _retried(finish: Finisher, exc: BaseException) -> None:
    hook = getattr(finish, "retried", None)
    if hook is None:
        return
    try:
        hook(exc)
    except Exception:
        logger.exception("pgwire observer finisher %r failed in retried", finish)


class RetryScope:
    """One pool shortcut call that may be sent again on another connection (rule 7).

    The pool sets :attr:`allowed` before each attempt (whether a
    ``ConnectionClosedBeforeStartError`` of this attempt would be retried);
    the connection hands the attempt's finisher over with :meth:`hold` and the
    next attempt takes it back with :meth:`take`.
    """

    __slots__ = ("allowed", "pending", "_finish", "_exc")

    def __init__(self) -> None:
        self.allowed = False
        #: An attempt failed and will be retried: the next attempt is the same call.
        self.pending = False
        self._finish: Finisher | None = None
        self._exc: BaseException | None = None

    def hold(self, finish: Finisher | None, exc: BaseException | None) -> None:
        """Keep ``finish`` of an attempt that failed with ``exc`` and will be retried."""
        self.pending = True
        self._exc = exc
        if finish is not None and exc is not None:
            _retried(finish, exc)
        self._finish = finish

    def take(self) -> Finisher | None:
        """The finisher held from the failed attempt (``None`` if the observers gave
        none), for the next attempt; clears :attr:`pending`."""
        self.pending = False
        finish, self._finish = self._finish, None
        return finish

    def close(self) -> None:
        """End a held finisher that no later attempt took (the retry never ran a query)."""
        self.pending = False
        finish, self._finish = self._finish, None
        if finish is not None:
            finish(self._exc)


#: The pool shortcut call running in the current task, if any (rule 7).
retry_scope: contextvars.ContextVar[RetryScope | None] = contextvars.ContextVar(
    "pgwire_retry_scope", default=None
)


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
