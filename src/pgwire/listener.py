"""A LISTEN subscription that survives lost connections and server restarts.

``Connection.add_listener`` lives as long as its connection: when the connection
breaks, the subscription is silently gone and notifications sent meanwhile are lost
(asyncpg #519). :class:`Listener` keeps the subscription alive instead.

Rules:

1. A listener holds one connection, opened from a DSN or acquired from a
   :class:`~pgwire.Pool`, and LISTENs on every channel on it.

2. The connection is watched: its termination callback fires at once when the
   transport is lost; a ping every ``ping_interval`` seconds (bounded by
   ``ping_timeout``) catches a network that went silent without closing.

3. After a loss the listener reconnects with exponential back-off (``min_delay``
   doubling up to ``max_delay``), for as long as it is open, and LISTENs again.

4. Only *after* re-subscribing does it call ``on_reconnect(listener)``: notifications
   sent while it was away are lost, so the application re-reads whatever state the
   notifications stand for. Anything notified after the call began is delivered.

5. ``callback(connection, pid, channel, payload)`` has ``add_listener``'s signature;
   coroutine callbacks are run as tasks. ``close()`` ends everything; nothing keeps
   running afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from . import exceptions

if TYPE_CHECKING:
    from .pool import Pool

__all__ = ["Listener"]

logger = logging.getLogger("pgwire.listener")

#: What losing the server looks like: the connection broke, refused, timed out, or the
#: server said it is shutting down or starting up.
_CONNECTION_TROUBLE = (
    OSError,
    asyncio.TimeoutError,
    exceptions.PostgresError,
    exceptions.InterfaceError,
    exceptions.InternalClientError,
)

NotificationCallback = Callable[[Any, int, str, str], Any]
ReconnectCallback = Callable[["Listener"], Any]


class Listener:
    """Keeps ``LISTEN channel`` alive across reconnects (see the module rules).

    Use ``async with Listener(dsn_or_pool, ["jobs"], on_job, on_reconnect=resync):``
    or ``await listener.start()`` … ``await listener.close()``. ``start()`` raises
    when the first connection cannot be made; later failures only cause retries.
    """

    def __init__(
        self,
        source: str | Pool,
        channels: Iterable[str],
        callback: NotificationCallback,
        *,
        on_reconnect: ReconnectCallback | None = None,
        ping_interval: float = 5.0,
        ping_timeout: float = 5.0,
        min_delay: float = 0.05,
        max_delay: float = 2.0,
        **connect_kwargs: Any,
    ) -> None:
        if not callable(callback):
            raise exceptions.InterfaceError("listener callback must be callable")
        self.channels = tuple(channels)
        if not self.channels:
            raise exceptions.InterfaceError("a Listener needs at least one channel")
        self._source = source
        self._callback = callback
        self._on_reconnect = on_reconnect
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._min_delay = min_delay
        self._max_delay = max_delay
        self._connect_kwargs = connect_kwargs
        self._conn: Any = None
        self._generation = 0
        self._on_terminated: Callable[[Any], None] = _ignore
        self._lost = asyncio.Event()
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        #: How many times the subscription was re-established after a loss.
        self.reconnects = 0
        #: The last error that broke the connection or prevented a reconnect.
        self.last_error: BaseException | None = None

    # ---------------------------------------------------------------- public

    @property
    def connection(self) -> Any:
        """The connection currently listening, or ``None`` while reconnecting."""
        return self._conn if self._connected.is_set() else None

    def is_connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the listener is subscribed (after a loss: subscribed again)."""
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def start(self) -> Listener:
        if self._task is not None:
            raise exceptions.InterfaceError("the listener is already started")
        await self._subscribe()
        self._task = asyncio.get_running_loop().create_task(self._supervise())
        return self

    async def close(self) -> None:
        """Stop listening and close (or give back) the connection."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._drop(graceful=True)

    async def __aenter__(self) -> Listener:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---------------------------------------------------------------- internals

    async def _subscribe(self) -> None:
        conn = await self._open()
        self._generation += 1
        self._conn = conn
        self._lost.clear()
        self._on_terminated = self._termination_callback(self._generation)
        conn.add_termination_listener(self._on_terminated)
        try:
            for channel in self.channels:
                await conn.add_listener(channel, self._callback)
        except BaseException:
            await self._drop(graceful=False)
            raise
        self._connected.set()

    async def _open(self) -> Any:
        source = self._source
        if isinstance(source, str):
            from .connection import connect

            return await connect(source, **self._connect_kwargs)
        return await source.acquire()

    def _termination_callback(self, generation: int) -> Callable[[Any], None]:
        def on_terminated(_conn: Any) -> None:
            # The call is scheduled: it may land after a newer connection took over.
            if generation == self._generation:
                self._lost.set()

        return on_terminated

    async def _supervise(self) -> None:
        while not self._closed:
            await self._watch()
            self._connected.clear()
            await self._drop(graceful=False)
            await self._resubscribe()
            self.reconnects += 1
            await self._tell_reconnected()

    async def _watch(self) -> None:
        """Return once the connection is lost or stops answering pings."""
        while True:
            try:
                await asyncio.wait_for(self._lost.wait(), self._ping_interval)
                return
            except asyncio.TimeoutError:
                pass
            try:
                # wait_for, not the call's timeout: a timed-out call first tries a
                # CancelRequest, which a silent network swallows too.
                await asyncio.wait_for(self._conn.execute("SELECT 1"), self._ping_timeout)
            except _CONNECTION_TROUBLE as exc:
                self.last_error = exc
                return

    async def _resubscribe(self) -> None:
        delay = self._min_delay
        while True:
            try:
                await self._subscribe()
                logger.info("pgwire listener: reconnected after %s", self.last_error)
                return
            except _CONNECTION_TROUBLE as exc:
                self.last_error = exc
            logger.info("pgwire listener: reconnect failed (%s); retrying", self.last_error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_delay)

    async def _tell_reconnected(self) -> None:
        cb = self._on_reconnect
        if cb is None:
            return
        try:
            result = cb(self)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("unhandled exception in pgwire on_reconnect callback %r", cb)

    async def _drop(self, *, graceful: bool) -> None:
        """Let go of the current connection, whatever state it is in."""
        conn, self._conn = self._conn, None
        self._connected.clear()
        if conn is None:
            return
        conn.remove_termination_listener(self._on_terminated)
        source = self._source
        if isinstance(source, str):
            if graceful and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await conn.close(timeout=self._ping_timeout)
            conn.terminate()
            return
        if graceful and not conn.is_closed():
            with contextlib.suppress(Exception):
                for channel in self.channels:
                    await conn.remove_listener(channel, self._callback)
        else:
            conn.terminate()
        with warnings.catch_warnings():
            # A dead connection still lists its channels; the pool's warning about
            # releasing listeners is noise here.
            warnings.simplefilter("ignore", exceptions.InterfaceWarning)
            with contextlib.suppress(Exception):
                await source.release(conn, timeout=self._ping_timeout)


def _ignore(_conn: Any) -> None:
    pass
