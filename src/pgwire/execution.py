"""The execution machinery of one connection: its transport protocol and its calls.

The public API (:class:`pgwire.Connection` and the modules of its methods) builds on
this module, never the reverse; it builds on :mod:`pgwire.gate` (who may use the
connection, in which order calls write) and on the sans-I/O core
(:mod:`pgwire.protocol.core`).

* :class:`WireProtocol` is the only code that touches the transport: it feeds the
  bytes it receives to the core and writes what the core wants sent.
* :class:`OperationContext` is one public call: its admission, its place in the
  write line, its deadline, and the operations it runs one after another. The
  rules it follows are stated at the top of :mod:`pgwire.connection` (deadlines,
  abandoned operations, cancellation, no re-sends) and :mod:`pgwire.gate`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from . import exceptions, querylog, tracing
from .gate import ImplicitBlock, reserved_place
from .protocol import messages
from .protocol.core import Operation, ProtocolCore, SimpleQueryOperation

if TYPE_CHECKING:
    from .connection import Connection

__all__ = ["WireProtocol", "OperationContext", "background_tasks"]

#: Ends an unfinished Sync segment so that nothing of it commits: a Describe of a
#: statement that cannot exist fails on the server, which then skips to the Sync.
_ABORT_NAME = "__pgwire_abort_segment__"
_ABORT_SEGMENT = messages.describe_statement(_ABORT_NAME) + messages.SYNC


class WireProtocol(asyncio.BufferedProtocol):
    """Feeds the core from the transport and writes what it produces."""

    def __init__(self, core: ProtocolCore) -> None:
        self.core = core
        self.transport: asyncio.Transport | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.on_lost: Callable[[], None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._write_paused = False

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def drain(self) -> None:
        """Wait until the transport's write buffer is below its high-water mark."""
        if self._write_paused and not self.lost.done():
            if self._drain_waiter is None:
                self._drain_waiter = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._drain_waiter)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.flush()

    def get_buffer(self, sizehint: int) -> memoryview:
        # The transport reads straight into the core's receive buffer.
        return self.core.get_buffer(sizehint)

    def buffer_updated(self, nbytes: int) -> None:
        core = self.core
        try:
            core.buffer_updated(nbytes)
        except exceptions.ProtocolError:
            if self.transport is not None:
                self.transport.abort()
            return
        if core._out:
            self.flush()

    def flush(self) -> None:
        data = self.core.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.core.connection_lost(exc)
        self.resume_writing()
        if not self.lost.done():
            self.lost.set_result(None)
        if self.on_lost is not None:
            cb, self.on_lost = self.on_lost, None
            cb()


class OperationContext:
    """Admission, place in line and deadline of one public call (see :mod:`pgwire.gate`).

    The call's operations go through :meth:`run` one after another. The call
    leaves the line once it has written its last operation: an operation
    written while :attr:`holds` is zero is taken as the last one (a call that
    needs a round trip before its last operation, such as a Parse, raises
    ``holds`` meanwhile). An operation still on the wire when the call ends
    (its caller timed out or was cancelled) keeps the admission until its
    ReadyForQuery arrives, so an exclusive call never starts while it is in
    flight.
    """

    __slots__ = (
        "conn",
        "deadline",
        "exclusive",
        "holds",
        "_current",
        "_in_line",
        "_written_mark",
        "_block",
        "query",
        "args",
        "_started",
        "_finish",
    )

    def __init__(
        self,
        conn: Connection,
        timeout: float | None,
        exclusive: bool,
        query: str | None,
        args: Any,
    ) -> None:
        self.conn = conn
        self.deadline = None if timeout is None else conn._loop.time() + timeout
        self.exclusive = exclusive
        self.holds = 0
        self._current: Operation | None = None
        self._in_line = False
        self._written_mark = -1
        #: The innermost open transaction block when the call was admitted.
        self._block: object | None = None
        self.query = query
        self.args = args
        self._started = 0.0
        self._finish: tracing.Finisher | None = None

    async def __aenter__(self) -> OperationContext:
        conn = self.conn
        self._started = time.monotonic()
        gate = conn._gate
        reservation = reserved_place.get()
        if reservation is not None:
            reserved_place.set(None)  # one call per reservation
            if reservation.order is not conn._order:
                reservation = None
        order = conn._order
        if gate.try_enter(self.exclusive):
            if reservation is None or not order.claim(reservation, self):
                order.join(self)
            self._in_line = True
        else:
            on_admit = self._join_line
            if reservation is not None:
                # Waiting for admission: the reserved place holds nobody back meanwhile,
                # and is taken again at admission.
                order.suspend(reservation)
                held = reservation

                def on_admit() -> None:
                    if not order.claim(held, self):
                        order.join(self)
                    self._in_line = True

            try:
                # The place in line is taken at the moment of admission, so that the
                # line follows the order of admission.
                await gate.enter(self.exclusive, self.deadline, on_admit)
            except BaseException as exc:
                if reservation is not None:
                    order.cancel(reservation)
                if self._in_line:  # admitted, then cancelled before resuming
                    self._in_line = False
                    order.leave(self)
                if isinstance(exc, asyncio.TimeoutError):
                    raise asyncio.TimeoutError() from None
                raise
        if conn.is_closed():
            gate.leave(self.exclusive)
            self._in_line = False
            order.leave(self)
            raise conn._closed_error()
        if gate.blocks:
            self._block = gate.blocks[-1]
        if tracing.observers and self.query is not None:
            scope = tracing.retry_scope.get()
            if scope is not None and scope.pending:
                # The pool sends a failed shortcut again: still the same call
                # (tracing rule 7).
                self._finish = scope.take()
            else:
                params = conn._params
                target = tracing.Target(conn._addr, params.database, params.user)
                self._finish = tracing.query_started(self.query, self.args, target)
        return self

    def _join_line(self) -> None:
        self.conn._order.join(self)
        self._in_line = True

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        conn = self.conn
        if self._in_line:
            self._in_line = False
            conn._order.leave(self)
        op = self._current
        if op is not None and not op.done:
            op.callback = self._leave_when_done
        else:
            conn._gate.leave(self.exclusive)
        if self.query is None:
            return
        retry = None
        if exc is not None and isinstance(exc, exceptions.ConnectionClosedBeforeStartError):
            retry = tracing.retry_scope.get()
            if retry is not None and not retry.allowed:
                retry = None
        if conn._query_loggers:
            conn._log_query(self.query, self.args, self.deadline, self._started, exc)
        if querylog.wanted():
            querylog.log_operation(
                conn, self.query, self.args, self._started, op, exc, retried=retry is not None
            )
        if retry is not None:
            retry.hold(self._finish, exc)
        elif self._finish is not None:
            self._finish(exc)

    def _leave_when_done(self, op: Operation) -> None:
        conn = self.conn
        conn._after_operation(op)
        self._track_transaction(op, abandoned=True)
        conn._gate.leave(self.exclusive)

    def has_turn(self) -> bool:
        """True when this call may write now (no waiting needed)."""
        return self._in_line and self.conn._order.may_write(self)

    async def take_turn(self) -> None:
        """Wait (within the deadline) until this call may write (gate rules 6, 7)."""
        order = self.conn._order
        if not self._in_line:
            # Written its last operation already and writing again: back in line.
            order.join(self)
            self._in_line = True
        if not order.may_write(self):
            try:
                await order.wait_turn(self, self.deadline)
            except asyncio.TimeoutError:
                raise asyncio.TimeoutError() from None

    def may_rewrite(self) -> bool:
        """True when nothing was written since this call's last operation.

        The call then takes the head of the line again, so writing once more
        keeps the order of calls (connection rule 4).
        """
        conn = self.conn
        if conn._written != self._written_mark or conn._order.fenced or conn._closed:
            return False
        conn._order.rejoin_first(self)
        self._in_line = True
        return True

    def submit(self, op: Operation, callback: Callable[[Operation], None]) -> None:
        """Write ``op`` now (the caller has its turn); the call may leave the line."""
        conn = self.conn
        if conn._closed:
            raise conn._closed_error()
        op.callback = callback
        try:
            conn._core.submit(op)
        except exceptions.ConnectionDoesNotExistError:
            conn._closed = True
            raise
        conn._written += 1
        self._written_mark = conn._written
        self._current = op
        if not self.holds and self._in_line:
            self._in_line = False
            conn._order.leave(self)

    async def run(self, op: _OpT) -> _OpT:
        """Write ``op`` in turn, wait for its ReadyForQuery, raise its error if it failed.

        At the deadline (or on cancellation) raises at once and abandons the
        operation (connection rule 2); nothing is ever sent again here.
        """
        conn = self.conn
        loop = conn._loop
        order = conn._order
        if not self._in_line or not order.may_write(self):
            await self.take_turn()
        fut: asyncio.Future[None] = loop.create_future()
        self.submit(op, _resolver(conn, fut))
        conn._flush_submitted()
        return await self._wait(op, fut)

    async def _wait(self, op: _OpT, fut: asyncio.Future[None]) -> _OpT:
        """Wait for ``op``'s ReadyForQuery within the deadline; abandon it on timeout or
        cancellation; raise its error."""
        conn = self.conn
        loop = conn._loop
        if not op.done:
            try:
                if self.deadline is None:
                    # No shield: ``fut`` only wakes this task, and the resolver
                    # ignores it once cancelled.
                    await fut
                else:
                    remaining = self.deadline - loop.time()
                    if remaining <= 0:
                        raise asyncio.TimeoutError()
                    await asyncio.wait_for(asyncio.shield(fut), remaining)
            except asyncio.TimeoutError:
                self._give_up(op)
                raise asyncio.TimeoutError() from None
            except asyncio.CancelledError:
                self._give_up(op)
                raise
        self._track_transaction(op, abandoned=False)
        error = op.error
        if error is not None:
            raise error
        return op

    async def stream(
        self, op: _OpT, chunks: Iterator[bytes], tail: bytes, *, atomic: bool = True
    ) -> _OpT:
        """Like :meth:`run` for an operation written in pieces: its first messages,
        then each of ``chunks`` as the transport drains, then ``tail`` (ending in Sync).

        The call holds its place in line until ``tail`` is written, so nothing of
        another call lands inside the Sync segment. After a server error no more
        chunks are taken. When the call fails before ``tail`` (a chunk raised, the
        deadline passed, the task was cancelled) and ``atomic`` is true, the segment
        is ended with a message that fails on the server before its Sync, so that
        nothing written so far commits; with ``atomic`` false (inside the caller's
        transaction block, where asyncpg keeps what ran) it is ended with ``tail``.
        A chunk's exception is raised once the server has answered.
        """
        conn = self.conn
        protocol = conn._protocol
        core = conn._core
        if not self._in_line or not conn._order.may_write(self):
            await self.take_turn()
        loop = conn._loop
        fut: asyncio.Future[None] = loop.create_future()
        self.holds += 1
        try:
            self.submit(op, _resolver(conn, fut))
            protocol.flush()
            try:
                for chunk in chunks:
                    if op.error is not None or op.done:
                        break  # the server failed the segment: send no more
                    core.send_raw(chunk)
                    protocol.flush()
                    await self._drain()
            except BaseException as exc:
                if not op.done:
                    core.send_raw(_ABORT_SEGMENT if atomic else tail)
                    protocol.flush()
                if isinstance(exc, (asyncio.TimeoutError, asyncio.CancelledError)):
                    self._give_up(op)
                    raise
                if not op.done:
                    await asyncio.shield(fut)
                server_error = op.error
                if server_error is not None and _ABORT_NAME not in str(server_error):
                    # The server failed the segment before the input did: its error
                    # wins, as with asyncpg.
                    raise server_error from exc
                raise
            if not op.done:
                core.send_raw(tail)
                protocol.flush()
        finally:
            self.holds -= 1
            if not self.holds and self._in_line:
                self._in_line = False
                conn._order.leave(self)
        return await self._wait(op, fut)

    async def _drain(self) -> None:
        """Wait (within the deadline) until the transport can take more.

        Always lets the event loop run once, so that the server's answers (an
        error that ends the segment) are read between two pieces.
        """
        protocol = self.conn._protocol
        if self.deadline is None:
            await asyncio.sleep(0)
            await protocol.drain()
            return
        remaining = self.deadline - self.conn._loop.time()
        if remaining <= 0:
            raise asyncio.TimeoutError()
        await asyncio.sleep(0)
        await asyncio.wait_for(protocol.drain(), remaining)

    def _give_up(self, op: Operation) -> None:
        """The caller stops waiting for ``op`` (deadline, cancellation).

        An operation still running is abandoned (connection rule 2). One that
        ended just before (its answer arrived in the same loop iteration as the
        cancellation) is treated the same way for the transaction it may have
        left open: nobody will end it, so it is rolled back.
        """
        if op.done:
            self._track_transaction(op, abandoned=True)
        else:
            self.conn._abandon(op)

    def _track_transaction(self, op: Operation, *, abandoned: bool) -> None:
        """Keep the gate's blocks in step with the server's transaction status.

        A statement that opened a transaction outside ``transaction()`` (an
        exclusive call, see :func:`pgwire.gate.may_open_transaction`) makes
        an implicit block owned by its task; an abandoned one is rolled back
        at once, before anything else is admitted, since nobody owns it. A
        statement run inside an implicit block that ends it closes the block.
        """
        status = op.tx_status
        if not status:
            return
        conn = self.conn
        gate = conn._gate
        if status == "I":
            if self._block is not None and isinstance(self._block, ImplicitBlock):
                gate.close_block(gate.blocks[0] if gate.blocks else self._block)
            return
        if gate.blocks or not self.exclusive or conn._closed:
            return
        if abandoned:
            rollback = SimpleQueryOperation("ROLLBACK")
            rollback.callback = conn._after_operation
            try:
                conn._core.submit(rollback)
            except exceptions.ConnectionDoesNotExistError:
                return
            conn._written += 1
            conn._protocol.flush()
        else:
            gate.open_block(ImplicitBlock(asyncio.current_task()))


def _resolver(conn: Connection, fut: asyncio.Future[None]) -> Callable[[Operation], None]:
    def resolve(op: Operation) -> None:
        if not fut.done():
            fut.set_result(None)
        conn._after_operation(op)

    return resolve


_OpT = TypeVar("_OpT", bound=Operation)
#: Background work of every connection (cancels, watchers), kept alive until done.
background_tasks: set[asyncio.Task[Any]] = set()
