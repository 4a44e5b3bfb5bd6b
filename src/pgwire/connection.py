"""The asyncio edge of pgwire: the transport protocol and the public ``Connection``.

Rules of this module (admission and write order are :mod:`pgwire.gate`'s):

1. ``WireProtocol`` (:mod:`pgwire.execution`) is the only code that touches the transport. It feeds
   received bytes to the sans-I/O :class:`~pgwire.protocol.core.ProtocolCore`
   and writes what the core wants sent. Operations complete by callback,
   which resolves the future the calling task awaits.

2. A call's deadline is a contract: at its ``timeout`` (or on task
   cancellation) the call raises at once. An operation it had already
   written is *abandoned*: it keeps its place until its ReadyForQuery
   arrives, and its rows are discarded, so the next caller never sees them.

3. A CancelRequest interrupts whatever the backend is running when the
   signal lands, and a backend reading its next command ignores it
   (PostgreSQL docs, "Canceling Requests in Progress"; ``postgres.c``
   discards a cancel that arrives while a command is being read). So a
   CancelRequest is sent only while *every* operation written to the server
   is abandoned -- nothing it could hit belongs to a caller still waiting --
   and, from the moment it is sent until the server has closed the cancel
   connection (the postmaster signals the backend before closing it, as
   libpq relies on), a fence keeps every new operation off the wire. An
   abandoned operation with live ones behind it is left to finish.

4. Nothing is sent twice behind the caller's back. The only retry is that of
   a cached statement the server reports invalid (26000, or "cached plan
   must not change result type") at Bind, where it provably did not run,
   and only when no other operation was written after it, so order holds.

5. When a cancelled operation does not end within :data:`CANCEL_GRACE` of
   its CancelRequest, or the request cannot be confirmed, the connection is
   aborted: every waiting call gets ``ConnectionDoesNotExistError``, none
   hangs, and operations held behind the fence provably never ran.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import itertools
import logging
import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from . import _impl, exceptions, tracing
from ._impl import Record
from .codecs.registry import BUILTIN, CodecRegistry
from .connect_params import ConnectParams, parse_connect_arguments
from .copy import CopyMethods
from .cursor import CursorMethods
from .execution import OperationContext, WireProtocol, background_tasks
from .gate import Gate, WriteOrder, may_open_transaction
from .keepalive import apply_keepalives
from .pipeline import Pipeline
from .protocol import messages
from .protocol.core import (
    CloseOperation,
    ExecuteOperation,
    Operation,
    PrepareOperation,
    ProtocolCore,
    SimpleQueryOperation,
)
from .querylog import LoggedQuery
from .serverversion import split_server_version_string
from .statement import StatementState, check_argument_count
from .typeinfo import TypeMethods
from .types import ServerVersion

__all__ = ["Connection", "ConnectionSettings", "connect"]

logger = logging.getLogger("pgwire")

_T = TypeVar("_T")

#: How long a cancelled or timed-out operation may take to finish after the
#: CancelRequest before the connection is aborted instead.
CANCEL_GRACE = 5.0
#: How long ``close()`` waits for the server to close the socket after Terminate.
CLOSE_GRACE = 5.0


class ConnectionSettings:
    """Read-only view of the server's ParameterStatus values (``server_version``, ...)."""

    __slots__ = ("_params",)

    def __init__(self, params: dict[str, str]) -> None:
        self._params = params

    def __getattr__(self, name: str) -> str:
        try:
            return self._params[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"<ConnectionSettings {self._params!r}>"


class _ConnectionMeta(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        mro = type(instance).__mro__
        return Connection in mro or _ConnectionProxy in mro


class _ConnectionProxy:
    """Base for objects that stand in for a Connection (pool proxies)."""

    __slots__ = ()


class Connection(CopyMethods, CursorMethods, TypeMethods, metaclass=_ConnectionMeta):
    """A single PostgreSQL session; created with :func:`connect`."""

    #: Behind a transaction-mode pooler: every execution re-parses (see :mod:`pgwire.pooler`).
    _unnamed_statements = False

    def __init__(
        self,
        protocol: WireProtocol,
        transport: asyncio.Transport,
        loop: asyncio.AbstractEventLoop,
        addr: tuple[str, int] | str,
        params: ConnectParams,
        config: dict[str, Any],
    ) -> None:
        self._protocol = protocol
        self._transport = transport
        self._core = protocol.core
        self._loop = loop
        self._addr = addr
        self._params = params
        self._config = config
        self._gate = Gate(_weak_describe(self))
        self._order = WriteOrder()
        #: Operations written by calls so far (a stale-statement retry checks it).
        self._written = 0
        self._flush_scheduled = False
        self._writes_held = 0
        self._watched: dict[Operation, asyncio.Future[None]] = {}
        self._cancelling: Operation | None = None
        #: close() is under way: every statement still on the wire is cancelled.
        self._closing = False
        self._query_loggers: list[Callable[..., Any]] = []
        self._closed = False
        self._codecs = CodecRegistry(parent=BUILTIN)
        self._record_class: type[Record] = config["record_class"]
        self._command_timeout: float | None = config["command_timeout"]
        self._stmt_cache: collections.OrderedDict[str, StatementState] = collections.OrderedDict()
        self._stmt_cache_size: int = config["statement_cache_size"]
        self._stmt_lifetime: float = config["max_cached_statement_lifetime"]
        self._stmt_max_size: int = config["max_cacheable_statement_size"]
        self._stmt_counter = 0
        self._stmts_to_close: list[str] = []
        self._top_xact: Any = None
        self._savepoint_counter = 0
        #: Bumped each time a pool takes the connection back; statements and cursors
        #: made before that refuse to run.
        self._release_ctr = 0
        self._settings = ConnectionSettings(self._core.parameters)
        self._listeners: dict[str, list[Callable[..., Any]]] = {}
        self._log_listeners: list[Callable[..., Any]] = []
        self._termination_listeners: list[Callable[..., Any]] = []
        #: The pool's proxy while the connection is on loan: listeners receive it.
        self._proxy: Any = None
        self._server_version = split_server_version_string(
            self._core.parameters.get("server_version", "0")
        )
        # Weak: the event loop keeps the transport, protocol and core alive while the
        # socket is open; a dropped Connection must still be collected (and then warn
        # and close its socket in __del__).
        self._core.on_notification = _weak_hook(self._on_notification)
        self._core.on_notice = _weak_hook(self._on_notice)
        self._core.on_close = _weak_hook(self._on_session_closed)
        protocol.on_lost = _weak_hook(self._on_connection_lost)

    # ------------------------------------------------------------ introspection

    def get_server_pid(self) -> int:
        """The process id of the server backend serving this connection."""
        return self._core.backend_pid

    def get_server_version(self) -> ServerVersion:
        """The server version as a named tuple, e.g. ``ServerVersion(15, 4, 0, 'final', 0)``."""
        return self._server_version

    def get_settings(self) -> ConnectionSettings:
        return self._settings

    def is_closed(self) -> bool:
        """True once the connection is closed or lost, or the session was ended."""
        return self._closed or self._protocol.lost.done() or self._core._closed()

    def is_in_transaction(self) -> bool:
        """True when the session is inside a transaction block (even a failed one).

        False once the connection is closed: the server ended the transaction.
        """
        return self._core.transaction_status in ("T", "E") and not self.is_closed()

    def get_reset_query(self) -> str:
        """The statements :meth:`reset` runs to return the session to a clean state."""
        return "SELECT pg_advisory_unlock_all();\nCLOSE ALL;\nUNLISTEN *;\nRESET ALL;"

    def _describe_for_errors(self) -> str:
        addr = self._addr if isinstance(self._addr, str) else "{}:{}".format(*self._addr)
        return f"connection {addr} (server pid {self.get_server_pid()})"

    def __repr__(self) -> str:
        addr = self._addr if isinstance(self._addr, str) else "{}:{}".format(*self._addr)
        state = "closed" if self.is_closed() else "open"
        return f"<pgwire.Connection {state} {addr} pid={self.get_server_pid()}>"

    # ------------------------------------------------------------ queries

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:
        """Execute an SQL command (or commands); return the status tag of the last one
        (``'INSERT 0 1'``).

        Without arguments the simple-query protocol is used, so several
        statements separated by semicolons are allowed.
        """
        self._check_open()
        if not args:
            if not isinstance(query, str):
                raise exceptions.InterfaceError(f"query must be a str, got {type(query).__name__}")
            async with self._operation(timeout, query=query, args=args) as ctx:
                simple = await ctx.run(SimpleQueryOperation(query))
                return simple.status
        check_argument_count(len(args))
        async with self._operation(timeout, query=query, args=args) as ctx:
            op = await self._bind_execute(ctx, query, args, keep_rows=False)
            return op.status

    async def executemany(
        self, command: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None
    ) -> None:
        """Run ``command`` once per argument set, atomically, in one round trip."""
        await self._executemany(command, tracing.as_batch(args), timeout, keep_rows=False)

    async def fetchmany(
        self,
        query: str,
        args: Iterable[Sequence[Any]],
        *,
        timeout: float | None = None,
        record_class: type[Record] | None = None,
    ) -> list[Record]:
        """Like :meth:`executemany`, returning the rows of every execution."""
        rows: list[Record] = await self._executemany(
            query, tracing.as_batch(args), timeout, keep_rows=True, record_class=record_class
        )
        return rows

    async def fetch(
        self,
        query: str,
        *args: Any,
        timeout: float | None = None,
        record_class: type[Record] | None = None,
    ) -> list[Record]:
        """Run ``query`` and return all result rows as records."""
        self._check_open()
        check_argument_count(len(args))
        async with self._operation(timeout, query=query, args=args) as ctx:
            op = await self._bind_execute(ctx, query, args, record_class=record_class)
            return op.rows

    async def fetchrow(
        self,
        query: str,
        *args: Any,
        timeout: float | None = None,
        record_class: type[Record] | None = None,
    ) -> Record | None:
        """Run ``query`` and return its first row, or ``None`` when there is none."""
        self._check_open()
        check_argument_count(len(args))
        async with self._operation(timeout, query=query, args=args) as ctx:
            op = await self._bind_execute(ctx, query, args, max_rows=1, record_class=record_class)
            return op.rows[0] if op.rows else None

    async def fetchval(
        self, query: str, *args: Any, column: int = 0, timeout: float | None = None
    ) -> Any:
        """Run ``query`` and return ``column`` of its first row (``None`` without rows)."""
        self._check_open()
        check_argument_count(len(args))
        async with self._operation(timeout, query=query, args=args) as ctx:
            op = await self._bind_execute(ctx, query, args, max_rows=1)
            if not op.rows:
                return None
            return op.rows[0][column]

    async def prepare(
        self,
        query: str,
        *,
        name: str | None = None,
        timeout: float | None = None,
        record_class: type[Record] | None = None,
    ) -> PreparedStatement:
        """Prepare ``query`` on the server and return a :class:`PreparedStatement`."""
        self._check_open()
        if record_class is not None:
            _check_record_class(record_class)
        async with self._operation(timeout) as ctx:
            state = await self._prepare_state(ctx, query, name=name, use_cache=False)
        return PreparedStatement(self, state, record_class or self._record_class)

    def pipeline(self) -> Pipeline:
        """Statements added inside ``async with conn.pipeline() as p`` go out together.

        See :class:`pgwire.pipeline.Pipeline`: per-statement results and
        errors, one round trip for statements already prepared.
        """
        self._check_open()
        return Pipeline(self)

    def transaction(
        self, *, isolation: str | None = None, readonly: bool = False, deferrable: bool = False
    ) -> Transaction:
        """A transaction block; nested blocks become savepoints."""
        self._check_open()
        return Transaction(self, isolation, readonly, deferrable)

    async def reset(self, *, timeout: float | None = None) -> None:
        """Roll back, drop listeners and reset session state (``get_reset_query()``)."""
        self._check_open()
        self._listeners.clear()
        self._log_listeners.clear()
        query = self.get_reset_query()
        if self.is_in_transaction():
            top = self._top_xact
            if top is None or not top._managed:
                # asyncpg reports this through the loop's exception handler (a block in
                # ``async with`` is sure to end on its own and is not reported).
                self._loop.call_exception_handler(
                    {
                        "message": f"Resetting connection with an active transaction {top!r}",
                        "connection": self,
                    }
                )
            query = "ROLLBACK;\n" + query
        # Whoever opened them, the blocks end here; the reset runs outside them.
        self._top_xact = None
        self._gate.close_all_blocks()
        # The driver's statement, not the application's: not logged or observed.
        await self._execute_internal(query, timeout)

    async def reload_schema_state(self) -> None:
        """Forget cached statements and type information (after DDL that changed types)."""
        self._forget_introspected_types()
        self._drop_statement_cache()

    # ------------------------------------------------------------ listeners

    async def add_listener(self, channel: str, callback: Callable[..., Any]) -> None:
        """Call ``callback(connection, pid, channel, payload)`` on NOTIFY to ``channel``."""
        self._check_open()
        if not callable(callback):
            raise exceptions.InterfaceError("listener callback must be callable")
        callbacks = self._listeners.get(channel)
        if callbacks is None:
            await self._execute_exclusive(f"LISTEN {quote_ident(channel)}")
            callbacks = self._listeners.setdefault(channel, [])
        callbacks.append(callback)

    async def remove_listener(self, channel: str, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback`` for ``channel``; UNLISTEN when it was the last one."""
        if self.is_closed():
            return
        callbacks = self._listeners.get(channel)
        if not callbacks:
            return
        try:
            callbacks.remove(callback)
        except ValueError:
            return
        if not callbacks:
            del self._listeners[channel]
            await self._execute_exclusive(f"UNLISTEN {quote_ident(channel)}")

    def add_log_listener(self, callback: Callable[..., Any]) -> None:
        """Call ``callback(connection, message)`` for every NOTICE/WARNING the server sends."""
        _add_callback(self._log_listeners, callback, "log listener")

    def remove_log_listener(self, callback: Callable[..., Any]) -> None:
        _remove_callback(self._log_listeners, callback)

    def add_termination_listener(self, callback: Callable[..., Any]) -> None:
        """Call ``callback(connection)`` once when the connection closes."""
        _add_callback(self._termination_listeners, callback, "termination listener")

    def remove_termination_listener(self, callback: Callable[..., Any]) -> None:
        _remove_callback(self._termination_listeners, callback)

    def add_query_logger(self, callback: Callable[[LoggedQuery], Any]) -> None:
        """Call ``callback(LoggedQuery)`` after every query this connection runs."""
        _add_callback(self._query_loggers, callback, "query logger")

    def remove_query_logger(self, callback: Callable[[LoggedQuery], Any]) -> None:
        _remove_callback(self._query_loggers, callback)

    @contextlib.contextmanager
    def query_logger(self, callback: Callable[[LoggedQuery], Any]) -> Iterator[None]:
        """Log queries with ``callback`` for the duration of a ``with`` block."""
        self.add_query_logger(callback)
        try:
            yield
        finally:
            self.remove_query_logger(callback)

    def _log_query(
        self,
        query: str,
        args: Any,
        deadline: float | None,
        started: float,
        exc: BaseException | None,
    ) -> None:
        timeout = None if deadline is None else max(deadline - self._loop.time(), 0.0)
        record = LoggedQuery(
            query=query,
            args=args,
            timeout=timeout,
            elapsed=time.monotonic() - started,
            exception=exc,
            conn_addr=self._addr,
            conn_params=self._params,
        )
        for cb in list(self._query_loggers):
            self._call_listener(cb, record)

    def _on_notification(self, pid: int, channel: str, payload: str) -> None:
        for cb in list(self._listeners.get(channel, ())):
            self._call_listener(cb, self._listener_target(), pid, channel, payload)

    def _on_notice(self, fields: dict[str, str]) -> None:
        if not self._log_listeners:
            return
        message = exceptions.log_message_from_fields(fields)
        for cb in list(self._log_listeners):
            self._call_listener(cb, self._listener_target(), message)

    def _listener_target(self) -> Any:
        """What listener callbacks receive: the pool's proxy while on loan, else self."""
        return self if self._proxy is None else self._proxy

    def _call_listener(self, cb: Callable[..., Any], *args: Any) -> None:
        self._loop.call_soon(self._run_listener, cb, args)

    def _run_listener(self, cb: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            result = cb(*args)
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                task.add_done_callback(_log_listener_failure)
        except Exception:
            logger.exception("unhandled exception in pgwire listener callback %r", cb)

    def _on_connection_lost(self) -> None:
        self._closed = True
        self._top_xact = None
        self._gate.close_all_blocks()
        self._order.close()
        self._stmt_cache.clear()
        self._on_session_closed(None)

    def _on_session_closed(self, exc: BaseException | None) -> None:
        # Calls waiting for their turn go on and fail with the session's error.
        self._order.close()
        # Scheduled before the failed calls resume: termination listeners have run by
        # the time a call that failed with the connection returns (as in asyncpg).
        for cb in self._termination_listeners:
            self._call_listener(cb, self._listener_target())
        self._termination_listeners = []

    # ------------------------------------------------------------ closing

    async def close(self, *, timeout: float | None = None) -> None:
        """Close gracefully, waiting at most ``timeout`` seconds.

        Statements still on the wire are cancelled one after another (their
        callers get :class:`QueryCanceledError`, as with asyncpg), then
        Terminate ends the session. When the server has not hung up within
        ``timeout``, the connection is aborted and ``asyncio.TimeoutError``
        raised; without a ``timeout`` it is aborted after 5 s and ``close()``
        returns.
        """
        if self.is_closed():
            self._closed = True
            return
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0
        ):
            raise exceptions.InterfaceError(f"invalid close timeout {timeout!r}")
        self._closed = True
        self._closing = True
        # Nothing new is written after Terminate, so no fence is needed: each statement
        # is cancelled as it reaches the head (see _after_operation).
        self._cancel_closing_head()
        transport = self._transport
        try:
            self._core.send_raw(messages.TERMINATE)
            self._protocol.flush()
        except Exception:  # the transport broke while writing Terminate
            transport.abort()
        grace = CLOSE_GRACE if timeout is None else timeout
        try:
            await asyncio.wait_for(asyncio.shield(self._protocol.lost), grace)
        except asyncio.TimeoutError:
            transport.abort()
            if timeout is not None:
                raise
        except asyncio.CancelledError:
            transport.abort()
            raise

    def _cancel_closing_head(self) -> None:
        """While closing: cancel the statement at the head of the queue, once."""
        head = self._core.head
        if head is None or head.harmless_to_cancel or head.cancel_state == Operation.CANCEL_SENT:
            return
        head.cancel_state = Operation.CANCEL_SENT
        self._spawn(self._cancel_on_server())

    def terminate(self) -> None:
        """Close the connection at once, without telling the server."""
        self._closed = True
        self._transport.abort()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        try:
            if not self._closed and not self._protocol.lost.done():
                _warn(
                    f"unclosed connection {self!r}; run connection.close()",
                    ResourceWarning,
                    source=self,
                )
                self._transport.abort()
        except Exception:
            pass

    # ------------------------------------------------------------ internals

    async def _execute_exclusive(self, query: str, timeout: float | None = None) -> str:
        """Run a simple query once every other operation has left the wire."""
        async with self._operation(timeout, exclusive=True, query=query, args=()) as ctx:
            op = await ctx.run(SimpleQueryOperation(query))
            return op.status

    async def _execute_internal(self, query: str, timeout: float | None = None) -> str:
        """Run a simple query of the driver's own (pool ping, reset): not a call of the
        application, so query loggers and tracing observers do not see it."""
        exclusive = may_open_transaction(query)
        async with self._operation(timeout, exclusive=exclusive) as ctx:
            op = await ctx.run(SimpleQueryOperation(query))
            return op.status

    def _check_open(self) -> None:
        if self.is_closed():
            raise self._closed_error()

    def _closed_error(self) -> Exception:
        """What a call on the closed connection raises.

        ``InterfaceError("connection is closed")`` as asyncpg, unless the server
        ended the session (terminate, shutdown, ``idle_session_timeout``,
        ``idle_in_transaction_session_timeout``): then
        ``ConnectionClosedBeforeStartError`` saying so, the server's error as ``__cause__``.
        """
        if self._core.fatal_error is not None:
            return self._core.not_sent_error()
        return exceptions.InterfaceError("connection is closed")

    def _check_record_class(self, record_class: type[Record] | None) -> None:
        if record_class is not None:
            _check_record_class(record_class)

    def _operation(
        self,
        timeout: float | None,
        *,
        exclusive: bool = False,
        query: str | None = None,
        args: Any = None,
    ) -> OperationContext:
        """Admission and deadline for one public call; ``query``/``args`` feed query loggers."""
        if timeout is None:
            timeout = self._command_timeout
        elif (
            not isinstance(timeout, (int, float))
            or isinstance(timeout, bool)
            or timeout != timeout
        ):
            raise exceptions.ClientConfigurationError(
                f"invalid timeout value: expected non-negative float (got {timeout!r})"
            )
        elif timeout <= 0:
            # asyncpg: a deadline already past; the call raises before anything is sent.
            raise asyncio.TimeoutError()
        if not exclusive and type(query) is str and may_open_transaction(query):
            # It may open a transaction: nothing else on the wire meanwhile (gate rule 1).
            exclusive = True
        return OperationContext(self, timeout, exclusive, query, args)

    def _schedule_flush(self) -> None:
        """Write pending messages at the end of this loop iteration, in one write."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush_submitted(self) -> None:
        """Send a just-submitted operation's messages.

        The only operation of an idle connection goes out at once, saving the
        request a loop iteration; one submitted while others are queued, or
        inside :meth:`pipeline`, waits for the end of the iteration so that
        everything ready by then shares one write.
        """
        if self._flush_scheduled or self._writes_held or self._core.pending > 1:
            self._schedule_flush()
        else:
            self._protocol.flush()

    def _flush(self) -> None:
        self._flush_scheduled = False
        self._protocol.flush()

    async def _bind_execute(
        self,
        ctx: OperationContext,
        query: str,
        args: Sequence[Any],
        *,
        max_rows: int = 0,
        keep_rows: bool = True,
        record_class: type[Record] | None = None,
        state: StatementState | None = None,
    ) -> ExecuteOperation:
        """Prepare (or take from the cache) and execute ``query`` once."""
        op = await self._run_bound(
            ctx,
            query,
            state,
            lambda st: st.bind_execute(args, max_rows),
            keep_rows=keep_rows,
            record_class=record_class,
        )
        assert op is not None  # one argument set always makes a Bind
        return op

    async def _run_bound(
        self,
        ctx: OperationContext,
        query: str,
        state: StatementState | None,
        bind: Callable[[StatementState], bytes],
        *,
        keep_rows: bool,
        record_class: type[Record] | None,
    ) -> ExecuteOperation | None:
        """Send ``bind(statement)`` (Bind/Execute messages) and one Sync; wait for the result.

        The statement is ``state`` or ``query`` prepared (or taken from the
        cache). A cached statement the server invalidated is prepared again
        and the execution retried once (see :meth:`_is_stale_statement`).
        Returns ``None`` when ``bind`` produced nothing to run.
        """
        if record_class is not None:
            _check_record_class(record_class)
        cls = record_class or self._record_class
        retried = False
        while True:
            if state is None and not ctx.has_turn():
                # Look the cache up only with the turn in hand: until this call writes,
                # nobody else prepares, so nobody can evict (and Close) what it found.
                await ctx.take_turn()
            st = state or self._cached_statement(query) or await self._prepare_state(ctx, query)
            try:
                payload = bind(st)
            except BaseException:
                if st.transient:
                    self._stmts_to_close.append(st.name)
                raise
            if not payload:
                if st.transient:
                    self._stmts_to_close.append(st.name)
                return None
            if st.transient:
                payload += messages.close_statement(st.name)
            payload += messages.SYNC
            op = _execute_operation(st, payload, keep_rows, cls)
            try:
                op = await ctx.run(op)
            except exceptions.PostgresError as exc:
                if self._run_again_after(ctx, exc, st, allowed=state is None and not retried):
                    retried = True
                    continue
                raise
            st.status = op.status
            return op

    async def _executemany(
        self,
        query: str,
        args: Iterable[Sequence[Any]],
        timeout: float | None,
        *,
        keep_rows: bool,
        record_class: type[Record] | None = None,
        state: StatementState | None = None,
    ) -> Any:
        """Run ``query`` once per argument set in one Sync segment.

        Outside a transaction block the call is atomic: on any failure nothing
        of it commits. Inside one, what ran before a client-side failure (the
        input raised, the deadline passed) stays in the block, as with asyncpg.
        The argument sets are encoded and written in batches of
        :data:`EXECUTEMANY_BATCH` as the server keeps up, so memory is bounded
        by one batch, not by all of them; after a server error no more are
        taken from ``args``. A cached statement the server reports invalid is
        prepared again and the call retried once, when ``args`` can be read
        again (a list or tuple) and nothing was written after it.
        """
        self._check_open()
        if record_class is not None:
            _check_record_class(record_class)
        if isinstance(args, (str, bytes)) or not isinstance(args, Iterable):
            raise exceptions.DataError(
                f"executemany() expects an iterable of argument sequences, "
                f"got {type(args).__name__}"
            )
        if isinstance(args, tracing.BatchStream):
            args = iter(args)
        reiterable = isinstance(args, (list, tuple))
        cls = record_class or self._record_class
        async with self._operation(timeout, query=query, args=args) as ctx:
            retried = False
            while True:
                if state is None and not ctx.has_turn():
                    await ctx.take_turn()  # before the cache lookup: see _run_bound
                st = (
                    state or self._cached_statement(query) or await self._prepare_state(ctx, query)
                )
                batches = _bind_batches(st, args)
                try:
                    first = next(batches, b"")
                except BaseException:
                    if st.transient:
                        self._stmts_to_close.append(st.name)
                    raise
                if not first:
                    if st.transient:
                        self._stmts_to_close.append(st.name)
                    return [] if keep_rows else None
                rest: Iterator[bytes] | None
                try:
                    second = next(batches, b"")
                    rest = itertools.chain((second,), batches) if second else None
                except Exception as exc:
                    # The input failed after the first batch: that batch goes out
                    # (a server error in it wins, as with asyncpg), then the failure.
                    rest = _raising(exc)
                tail = messages.close_statement(st.name) if st.transient else b""
                tail += messages.SYNC
                if rest is None:
                    # One batch: written at once with its Sync, like any statement.
                    first += tail
                op = _execute_operation(st, first, keep_rows, cls)
                try:
                    if rest is None:
                        op = await ctx.run(op)
                    else:
                        op = await ctx.stream(
                            op,
                            rest,
                            tail,
                            # In the caller's transaction block asyncpg keeps the
                            # executions that ran before a client-side failure.
                            atomic=not self.is_in_transaction(),
                        )
                except exceptions.PostgresError as exc:
                    allowed = state is None and reiterable and not retried
                    if self._run_again_after(ctx, exc, st, allowed=allowed):
                        retried = True
                        continue
                    raise
                st.status = op.status
                return op.rows if keep_rows else None

    def _run_again_after(
        self,
        ctx: OperationContext,
        exc: exceptions.PostgresError,
        st: StatementState,
        *,
        allowed: bool,
    ) -> bool:
        """After an execution of ``st`` failed with ``exc``: True when it is to be sent
        again (``allowed``, ``st`` went stale before running, nothing written since:
        module rule 4); a statement made for this execution only is closed either way."""
        if st.transient:
            self._stmts_to_close.append(st.name)
        return allowed and self._is_stale_statement(exc, st) and ctx.may_rewrite()

    def _is_stale_statement(self, exc: exceptions.PostgresError, st: StatementState) -> bool:
        """Forget ``st`` when the server invalidated it; True when it did not run.

        26000 (no such prepared statement) and "cached plan must not change
        result type" are raised at Bind, before execution: the statement did
        not run. Inside a transaction block the failure aborted the block, so
        it is reported (as :class:`InvalidCachedStatementError`) instead.
        """
        stale = isinstance(exc, exceptions.InvalidCachedStatementError) or (
            exc.sqlstate == "26000"
        )
        if not stale:
            return False
        self._forget_statement(st)
        return not self.is_in_transaction()

    def _forget_statement(self, st: StatementState) -> None:
        cached = self._stmt_cache.get(st.query)
        if cached is st:
            del self._stmt_cache[st.query]
            self._stmts_to_close.append(st.name)

    def _cached_statement(self, query: str) -> StatementState | None:
        """The cached, still fresh statement for ``query``, or None (an expired one is dropped)."""
        if type(query) is not str:
            return None
        st = self._stmt_cache.get(query)
        if st is None:
            return None
        if self._stmt_lifetime and time.monotonic() - st.created > self._stmt_lifetime:
            del self._stmt_cache[query]
            self._stmts_to_close.append(st.name)
            return None
        self._stmt_cache.move_to_end(query)
        return st

    async def _prepare_state(
        self,
        ctx: OperationContext,
        query: str,
        *,
        name: str | None = None,
        use_cache: bool = True,
    ) -> StatementState:
        if not isinstance(query, str):
            raise exceptions.InterfaceError(f"query must be a str, got {type(query).__name__}")
        cacheable = (
            use_cache
            and self._stmt_cache_size > 0
            and (self._stmt_max_size <= 0 or len(query) <= self._stmt_max_size)
        )
        # The call holds its place in line until its execution is written (gate rule 6),
        # and takes its turn before looking at the cache: a call ahead of it in line may
        # be preparing the same query right now.
        ctx.holds += 1
        try:
            await ctx.take_turn()
            if cacheable:
                cached = self._cached_statement(query)
                if cached is not None:
                    return cached
            if self._unnamed_statements:
                name = ""
            elif name is None:
                # Always a named statement: an unnamed one could be replaced by a
                # concurrent task's Parse between this Parse and the Bind that uses it.
                self._stmt_counter += 1
                name = f"__pgwire_stmt_{self._stmt_counter}__"
            self._close_unused_statements()
            op = await ctx.run(PrepareOperation(name, query))
            codecs = self._codecs
            unknown = {oid for oid in op.param_oids if codecs.get(oid) is None}
            unknown.update(f.type_oid for f in op.fields or () if codecs.get(f.type_oid) is None)
            if unknown:
                await self._introspect_types(ctx, unknown)
            if name:
                st = StatementState(name, query, op.param_oids, op.fields, codecs)
            else:
                from .pooler import ReparsedStatement

                st = ReparsedStatement(name, query, op.param_oids, op.fields, codecs)
        finally:
            ctx.holds -= 1
        if cacheable:
            self._stmt_cache[query] = st
            while len(self._stmt_cache) > self._stmt_cache_size:
                _, old = self._stmt_cache.popitem(last=False)
                self._stmts_to_close.append(old.name)
        elif use_cache:
            st.transient = True
        return st

    def _close_unused_statements(self) -> None:
        """Queue Close for statements nobody uses any more; their answers need no waiting."""
        if not self._stmts_to_close or self.is_closed():
            return
        names, self._stmts_to_close = self._stmts_to_close, []
        payload = b"".join(messages.close_statement(n) for n in names)
        op = CloseOperation(payload)
        op.callback = self._after_operation
        self._core.submit(op)
        self._schedule_flush()

    def _drop_statement_cache(self) -> None:
        for st in self._stmt_cache.values():
            self._stmts_to_close.append(st.name)
        self._stmt_cache.clear()

    def _statement_released(self, name: str) -> None:
        if not self.is_closed():
            self._stmts_to_close.append(name)

    def _abandon(self, op: Operation) -> None:
        """The caller of the written ``op`` gave up on it (timeout, cancellation).

        ``op`` keeps its place until its ReadyForQuery; a CancelRequest goes
        out once every written operation is abandoned (module rule 3).
        """
        if op.done:
            return
        if op.cancel_state == Operation.CANCEL_NONE:
            op.cancel_state = Operation.CANCEL_WANTED
        self._cancel_if_alone()

    def _cancel_if_alone(self) -> None:
        """Send a CancelRequest for the head operation when module rule 3 allows it."""
        if self._cancelling is not None or self._closed:
            return
        core = self._core
        head = core.head
        if head is None or head.cancel_state != Operation.CANCEL_WANTED:
            return
        for op in core.operations():
            if op.cancel_state == Operation.CANCEL_NONE and not op.harmless_to_cancel:
                return  # someone still waits for it: let the abandoned one finish instead
        head.cancel_state = Operation.CANCEL_SENT
        self._cancelling = head
        self._order.raise_fence()
        self._spawn(self._cancel_and_watch(head))

    async def _cancel_and_watch(self, op: Operation) -> None:
        """Send the CancelRequest for ``op``, keep the fence up until it is delivered.

        The fence comes down once the server closed the cancel connection (the
        backend was signalled) or the request provably never reached it. When
        delivery is in doubt, or ``op`` does not end within CANCEL_GRACE, the
        connection is aborted instead.
        """
        ended: asyncio.Future[None] = self._loop.create_future()
        self._watched[op] = ended
        try:
            delivered = await self._cancel_on_server()
            if delivered is None:
                self._abort(
                    exceptions.ConnectionDoesNotExistError(
                        "a CancelRequest could not be confirmed by the server; the "
                        "connection was aborted so it cannot interrupt a later statement"
                    )
                )
                return
            self._order.lower_fence()
            self._cancelling = None
            if not op.done:
                await asyncio.wait_for(asyncio.shield(ended), CANCEL_GRACE)
        except asyncio.TimeoutError:
            if not op.done:
                self._abort(
                    exceptions.ConnectionDoesNotExistError(
                        "the server did not end a cancelled query within "
                        f"{CANCEL_GRACE:g}s; connection aborted"
                    )
                )
        finally:
            self._watched.pop(op, None)
            if self._cancelling is op:
                self._cancelling = None
                self._order.lower_fence()
            self._cancel_if_alone()

    def _watch_abandoned(self, op: Operation) -> None:
        """Abort the connection if ``op`` (already told to stop) does not end in CANCEL_GRACE."""
        if op.done:
            return

        async def watch() -> None:
            ended: asyncio.Future[None] = self._loop.create_future()
            self._watched[op] = ended
            try:
                await asyncio.wait_for(asyncio.shield(ended), CANCEL_GRACE)
            except asyncio.TimeoutError:
                if not op.done:
                    self._abort(
                        exceptions.ConnectionDoesNotExistError(
                            f"the server did not end an aborted operation within "
                            f"{CANCEL_GRACE:g}s; connection aborted"
                        )
                    )
            finally:
                self._watched.pop(op, None)

        self._spawn(watch())

    def _after_operation(self, op: Operation) -> None:
        """Bookkeeping after every ReadyForQuery: watchers, and a cancel now allowed."""
        ended = self._watched.pop(op, None)
        if ended is not None and not ended.done():
            ended.set_result(None)
        head = self._core.head
        if head is None:
            return
        if self._closing:
            self._cancel_closing_head()
        elif head.cancel_state == Operation.CANCEL_WANTED:
            self._cancel_if_alone()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = self._loop.create_task(coro)
        background_tasks.add(task)
        task.add_done_callback(background_tasks.discard)
        return task

    async def _cancel_on_server(self) -> bool | None:
        """Send a CancelRequest for this session on a side connection.

        Returns True once the server closed the side connection (the backend
        has been signalled), False when the request provably never reached
        the server (the side connection could not be opened), None when that
        is unknown (the request was written but not confirmed in CANCEL_GRACE).
        """
        pid, secret = self._core.backend_pid, self._core.backend_secret
        addr = self._addr
        try:
            if isinstance(addr, str):
                reader, writer = await asyncio.wait_for(
                    asyncio.open_unix_connection(addr), CANCEL_GRACE
                )
            else:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(addr[0], addr[1]), CANCEL_GRACE
                )
        except (OSError, asyncio.TimeoutError) as exc:
            logger.warning("pgwire: could not send CancelRequest to %s: %s", addr, exc)
            return False
        try:
            writer.write(messages.cancel_request(pid, secret))
            await writer.drain()
            # The server closes the side connection once it has signalled the backend.
            await asyncio.wait_for(reader.read(), CANCEL_GRACE)
            return True
        except (OSError, asyncio.TimeoutError) as exc:
            logger.warning("pgwire: CancelRequest to %s not confirmed: %s", addr, exc)
            return None
        finally:
            writer.close()

    def _abort(self, exc: BaseException) -> None:
        """Drop the transport; every queued operation fails with ``exc``."""
        self._closed = True
        self._core.abort(exc)
        self._transport.abort()


def _weak_describe(conn: Connection) -> Callable[[], str]:
    """How the gate names ``conn`` in errors, without keeping it alive (no cycle)."""
    ref = weakref.ref(conn)

    def describe() -> str:
        target = ref()
        return "the connection" if target is None else target._describe_for_errors()

    return describe


def _weak_hook(method: Callable[..., None]) -> Callable[..., None]:
    """``method`` called through a weak reference to its object (a no-op once it is gone)."""
    ref = weakref.WeakMethod(method)

    def hook(*args: Any) -> None:
        bound = ref()
        if bound is not None:
            bound(*args)

    return hook


def _execute_operation(
    st: StatementState, payload: bytes, keep_rows: bool, record_class: type[Record]
) -> ExecuteOperation:
    """The operation that runs ``payload`` (Bind/Execute messages) of statement ``st``."""
    return ExecuteOperation(
        payload,
        decode_row=_impl.decode_row if keep_rows and st.has_rows else None,
        decoders=st.decoders,
        desc=st.desc,
        record_class=record_class,
    )


#: At most this many argument sets go into one executemany() batch ...
EXECUTEMANY_BATCH = 1000
#: ... and about this many bytes: a batch of large rows holds fewer of them.
EXECUTEMANY_BATCH_BYTES = 160 * 1024
#: Argument sets encoded first, to learn their size.
_PROBE_ROWS = 4


def _bind_batches(st: StatementState, args: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """Bind + Execute messages for ``args``, one batch (:data:`EXECUTEMANY_BATCH` argument
    sets, about :data:`EXECUTEMANY_BATCH_BYTES`) at a time, each encoded only when the
    previous one has been written."""
    it = iter(args)
    offset = 0
    n = _PROBE_ROWS
    while True:
        rows = list(itertools.islice(it, n))
        if not rows:
            return
        parts = _bind_many(st, rows, offset)
        offset += len(rows)
        size = sum(map(len, parts))
        n = max(1, min(EXECUTEMANY_BATCH, EXECUTEMANY_BATCH_BYTES * len(rows) // max(size, 1)))
        if len(rows) == _PROBE_ROWS and n > _PROBE_ROWS and offset == _PROBE_ROWS:
            # Small rows: the first batch takes as many as the others.
            more = list(itertools.islice(it, n - _PROBE_ROWS))
            parts += _bind_many(st, more, offset)
            offset += len(more)
        yield b"".join(parts)


def _bind_many(st: StatementState, args: Sequence[Sequence[Any]], offset: int = 0) -> list[bytes]:
    if not args:
        return []
    try:
        return [st.bind_execute_many(args)]
    except Exception:  # noqa: S110 - encoding row by row below names the failing element
        pass
    parts = []
    for index, row in enumerate(args, offset):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise exceptions.DataError(
                f"invalid input in executemany() argument sequence element #{index}: "
                f"expected a sequence, got {type(row).__name__}"
            )
        try:
            parts.append(st.bind_execute(row))
        except (exceptions.DataError, exceptions.InterfaceError) as exc:
            raise type(exc)(_in_element(str(exc.args[0]), index)) from exc
    return parts


def _raising(exc: BaseException) -> Iterator[bytes]:
    """A batch iterator that fails with ``exc`` when asked for its first batch."""
    raise exc
    yield b""  # pragma: no cover - makes this a generator


def _in_element(message: str, index: int) -> str:
    """An argument error's message naming the executemany() element (asyncpg's wording)."""
    where = f" in element #{index} of executemany() sequence"
    head, sep, rest = message.partition(":")
    if sep and head.startswith("invalid input for query argument"):
        return head + where + sep + rest
    return f"{message} ({where.strip()})"


def _add_callback(callbacks: list[Callable[..., Any]], callback: Any, what: str) -> None:
    if not callable(callback):
        raise exceptions.InterfaceError(f"{what} callback must be callable")
    callbacks.append(callback)


def _remove_callback(callbacks: list[Callable[..., Any]], callback: Any) -> None:
    with contextlib.suppress(ValueError):
        callbacks.remove(callback)


def _log_listener_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("unhandled exception in pgwire listener callback", exc_info=task.exception())


def _check_record_class(record_class: Any) -> None:
    if not isinstance(record_class, type) or not issubclass(record_class, Record):
        raise exceptions.InterfaceError(
            f"record_class is expected to be a subclass of pgwire.Record, got {record_class!r}"
        )
    if record_class is not Record and (
        record_class.__new__ is not Record.__new__ or record_class.__init__ is not Record.__init__
    ):
        raise exceptions.InterfaceError("record_class must not redefine __new__ or __init__")


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (always quoted, so case and spaces survive)."""
    return '"' + name.replace('"', '""') + '"'


async def connect(
    dsn: str | None = None,
    *,
    host: Any = None,
    port: Any = None,
    user: str | None = None,
    password: Any = None,
    passfile: str | None = None,
    service: str | None = None,
    servicefile: str | None = None,
    database: str | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
    timeout: float = 60,
    statement_cache_size: int = 100,
    max_cached_statement_lifetime: float = 300,
    max_cacheable_statement_size: int = 1024 * 15,
    command_timeout: float | None = None,
    ssl: Any = None,
    direct_tls: bool | None = None,
    connection_class: type[Connection] | None = None,
    record_class: type[Record] = Record,
    server_settings: dict[str, str] | None = None,
    target_session_attrs: str | None = None,
    krbsrvname: str | None = None,
    gsslib: str | None = None,
    channel_binding: str | None = None,
    require_auth: str | None = None,
    load_balance_hosts: str | None = None,
    unnamed_statements: bool | None = None,
    keepalives: bool | int | None = None,
    keepalives_idle: int | None = None,
    keepalives_interval: int | None = None,
    keepalives_count: int | None = None,
    tcp_user_timeout: int | None = None,
) -> Any:
    """Open a connection; the arguments and their defaults are asyncpg's.

    libpq's ``channel_binding`` (disable/prefer/require), ``require_auth`` and
    ``load_balance_hosts`` (disable/random) are accepted too, as keywords, in the DSN
    and from ``PGCHANNELBINDING``/``PGREQUIREAUTH``/``PGLOADBALANCEHOSTS``.

    Hosts are tried in order (shuffled with ``load_balance_hosts=random``). Each
    attempt is bounded by ``connect_timeout`` from the DSN or environment when given,
    else by ``timeout``; ``timeout`` bounds the whole call. A host that cannot be
    reached, refuses the session (57P03 "starting up", too many connections, ...) or
    does not match ``target_session_attrs`` is skipped. When none is left, a
    mismatch raises :class:`TargetServerAttributeNotMatched` naming every host;
    otherwise the last host's error is raised, its message naming the hosts.

    A ``timeout``, ``command_timeout``, ``statement_cache_size`` or other cache setting
    of the wrong type or out of range raises :class:`ClientConfigurationError`, which
    is a ``ValueError`` as in asyncpg; ``timeout`` of 0 or less (in seconds) is a
    deadline already past and raises ``asyncio.TimeoutError``, as asyncpg does.

    ``unnamed_statements`` makes every execution self-contained (Parse + Bind +
    Execute + Sync with the unnamed statement) so that a transaction-mode pooler such
    as PgBouncer can move the session between server connections; ``None`` (the
    default) turns it on when a pooler is detected at connect time. See
    :mod:`pgwire.pooler`.

    ``keepalives`` (on by default), ``keepalives_idle``, ``keepalives_interval``
    (seconds), ``keepalives_count`` and ``tcp_user_timeout`` (milliseconds) are
    libpq's TCP options, also read from the DSN and the service file; see
    :mod:`pgwire.keepalive`. An invalid value raises ``ClientConfigurationError``.
    """
    cls = Connection if connection_class is None else connection_class
    if not isinstance(cls, type) or not issubclass(cls, Connection):
        raise exceptions.InterfaceError(
            f"connection_class is expected to be a subclass of pgwire.Connection, got {cls!r}"
        )
    _check_record_class(record_class)
    for label, value in (
        ("statement_cache_size", statement_cache_size),
        ("max_cacheable_statement_size", max_cacheable_statement_size),
        ("max_cached_statement_lifetime", max_cached_statement_lifetime),
    ):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise exceptions.ClientConfigurationError(
                f"{label} is expected to be greater or equal to 0, got {value!r}"
            )
    if command_timeout is not None and (
        not isinstance(command_timeout, (int, float))
        or isinstance(command_timeout, bool)
        or not command_timeout > 0
    ):
        raise exceptions.ClientConfigurationError(
            "invalid command_timeout value: expected greater than 0 float "
            f"(got {command_timeout!r})"
        )
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout != timeout:
        raise exceptions.ClientConfigurationError(
            f"invalid timeout {timeout!r}: expected a number greater than 0"
        )
    if timeout <= 0:
        # asyncpg: a connect deadline that has already passed.
        raise asyncio.TimeoutError(f"timed out connecting: timeout={timeout!r}")
    params = parse_connect_arguments(
        dsn=dsn,
        host=host,
        port=port,
        user=user,
        password=password,
        passfile=passfile,
        database=database,
        ssl=ssl,
        direct_tls=direct_tls,
        server_settings=server_settings,
        target_session_attrs=target_session_attrs,
        timeout=None,
        service=service,
        servicefile=servicefile,
        channel_binding=channel_binding,
        require_auth=require_auth,
        load_balance_hosts=load_balance_hosts,
        keepalives=keepalives,
        keepalives_idle=keepalives_idle,
        keepalives_interval=keepalives_interval,
        keepalives_count=keepalives_count,
        tcp_user_timeout=tcp_user_timeout,
    )
    config = {
        "record_class": record_class,
        "command_timeout": command_timeout,
        "statement_cache_size": int(statement_cache_size),
        "max_cached_statement_lifetime": max_cached_statement_lifetime,
        "max_cacheable_statement_size": int(max_cacheable_statement_size),
    }
    conn = await _connect_hosts(cls, params, config, float(timeout))
    if unnamed_statements is None:
        from .pooler import behind_pooler

        try:
            unnamed_statements = await behind_pooler(conn)
        except BaseException:
            conn.terminate()
            raise
    conn._unnamed_statements = bool(unnamed_statements)
    return conn


async def _connect_hosts(
    cls: type[Connection], params: ConnectParams, config: dict[str, Any], timeout: float
) -> Connection:
    """Try ``params.addrs`` in turn until one gives a session of the wanted kind."""
    from .topology import describe_role, matches, order_hosts, server_role

    loop = asyncio.get_running_loop()
    per_host = params.connect_timeout or timeout
    deadline = loop.time() + timeout
    attrs = params.target_session_attrs
    addrs = order_hosts(params.addrs, params.load_balance_hosts)
    failures: list[str] = []
    mismatched = False
    last_error: BaseException | None = None
    fallback: Connection | None = None
    for addr in addrs:
        label = _addr_label(addr)
        remaining = deadline - loop.time()
        if remaining <= 0:
            failures.append(f"{label}: not tried, the {timeout:g}s timeout had elapsed")
            continue
        limit = min(per_host, remaining)
        try:
            conn = await asyncio.wait_for(_connect_addr(cls, addr, params, config), limit)
            if attrs == "any":
                return conn
            try:
                role = await asyncio.wait_for(server_role(conn), deadline - loop.time())
            except BaseException:
                conn.terminate()
                raise
        except asyncio.TimeoutError:
            last_error = asyncio.TimeoutError(f"timed out connecting to {label} after {limit:g}s")
            failures.append(f"{label}: timed out after {limit:g}s")
            continue
        except exceptions.ClientConfigurationError:
            raise
        except OSError as exc:
            last_error = _with_host(exc, addr)
            failures.append(str(last_error))
            continue
        except (exceptions.PostgresError, exceptions.InterfaceError) as exc:
            last_error = exc
            failures.append(f"{label}: {exc}")
            continue
        if matches(role, attrs):
            if fallback is not None:
                await _close_quietly(fallback)
            return conn
        if attrs == "prefer-standby" and fallback is None:
            fallback = conn
            continue
        mismatched = True
        failures.append(f"{label} is {describe_role(role)}")
        await _close_quietly(conn)
    if fallback is not None:
        return fallback
    if mismatched:
        raise exceptions.TargetServerAttributeNotMatched(
            f"no host matched target_session_attrs={attrs!r}: " + "; ".join(failures)
        )
    if last_error is None:
        raise asyncio.TimeoutError(f"timed out connecting after {timeout:g}s")
    if len(addrs) > 1 and isinstance(last_error, (OSError, asyncio.TimeoutError)):
        summary = f"could not connect to any of {len(addrs)} hosts: " + "; ".join(failures)
        raise _same_kind(last_error, summary) from last_error
    raise last_error


def _same_kind(exc: BaseException, message: str) -> BaseException:
    if isinstance(exc, OSError) and exc.errno is not None:
        try:
            return type(exc)(exc.errno, message)
        except Exception:
            return OSError(exc.errno, message)
    try:
        return type(exc)(message)
    except Exception:
        return OSError(message)


async def _close_quietly(conn: Connection) -> None:
    try:
        await conn.close(timeout=1)
    except Exception:
        conn.terminate()


def _addr_label(addr: tuple[str, int] | str) -> str:
    if isinstance(addr, str):
        return addr
    host, port = addr
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _with_host(exc: OSError, addr: tuple[str, int] | str) -> OSError:
    label = _addr_label(addr)
    reason = exc.strerror or str(exc) or type(exc).__name__
    message = reason if label in reason else f"cannot connect to {label}: {reason}"
    try:
        new = type(exc)(exc.errno, message) if exc.errno is not None else type(exc)(message)
    except Exception:
        new = OSError(exc.errno, message)
    new.__cause__ = exc
    return new


async def _resolve_password(params: ConnectParams, addr: tuple[str, int] | str) -> str | None:
    given = params.password_for(addr)
    password: object = given() if callable(given) else given
    if inspect.isawaitable(password):
        password = await password
    if password is not None and not isinstance(password, str):
        raise exceptions.InterfaceError(
            f"password must be a str or a callable returning one, got {type(password).__name__}"
        )
    return password


@tracing.observed_connect
async def _connect_addr(
    cls: type[Connection],
    addr: tuple[str, int] | str,
    params: ConnectParams,
    config: dict[str, Any],
) -> Connection:
    """One session on ``addr``, with TLS as ``params`` asks (see :mod:`pgwire.tls`).

    As libpq does, ``sslmode=allow`` tries a plain session first and TLS when the
    server rejects it during startup or authentication; ``sslmode=prefer`` tries TLS
    first and a plain session when the server refuses TLS, the handshake fails, or the
    server rejects the TLS session during startup or authentication (a ``hostnossl``
    line in ``pg_hba.conf``). When the second attempt fails too, its error is raised
    with the first one as ``__cause__``.
    """
    from . import tls

    password = await _resolve_password(params, addr)
    if isinstance(addr, str):
        return await _start_session(cls, addr, params, config, password, None)
    plan = tls.plan_tls(params)
    if plan.first_plain:
        try:
            return await _start_session(cls, addr, params, config, password, None)
        except exceptions.PostgresError as exc:
            # sslmode=allow: the server turned the plain session down; try TLS.
            first: BaseException = exc
        return await _second_attempt(
            _start_session(cls, addr, params, config, password, (plan, False)), first
        )
    if plan.context is None:
        return await _start_session(cls, addr, params, config, password, None)
    label = _addr_label(addr)
    try:
        transport, der = await _open(addr, label, (plan, True))
    except tls.TlsFallback:
        return await _start_session(cls, addr, params, config, password, None)
    encrypted = transport.get_extra_info("ssl_object") is not None
    try:
        return await _login(cls, transport, der, addr, params, config, password)
    except exceptions.PostgresError as exc:
        if not (encrypted and plan.fallback_plain):
            raise
        # sslmode=prefer: the server turned the TLS session down; try without TLS.
        first = exc
    return await _second_attempt(_start_session(cls, addr, params, config, password, None), first)


async def _second_attempt(attempt: Any, first: BaseException) -> Connection:
    """Await the retry on the other transport; its error is chained to ``first``."""
    try:
        conn: Connection = await attempt
    except Exception as exc:
        if exc.__cause__ is None:
            exc.__cause__ = first
        raise
    return conn


async def _start_session(
    cls: type[Connection],
    addr: tuple[str, int] | str,
    params: ConnectParams,
    config: dict[str, Any],
    password: str | None,
    tls_use: tuple[Any, bool] | None,
) -> Connection:
    """Open the transport (TLS per ``tls_use``: ``(plan, fallback_allowed)``) and log in."""
    transport, der = await _open(addr, _addr_label(addr), tls_use)
    return await _login(cls, transport, der, addr, params, config, password)


async def _open(
    addr: tuple[str, int] | str, label: str, tls_use: tuple[Any, bool] | None
) -> tuple[asyncio.Transport, bytes | None]:
    """The transport to ``addr`` and the server certificate (DER) when TLS is on."""
    from . import tls

    loop = asyncio.get_running_loop()
    if isinstance(addr, str):
        transport, _ = await loop.create_unix_connection(lambda: _Placeholder(), addr)
        return transport, None
    if tls_use is None:
        return await tls.open_transport(
            addr[0], addr[1], tls.TlsPlan("disable", None), use_tls=False, label=label
        )
    plan, fallback = tls_use
    if not fallback and plan.fallback_plain:
        plan = tls.TlsPlan("require", plan.context, plan.direct)
    return await tls.open_transport(addr[0], addr[1], plan, use_tls=True, label=label)


async def _login(
    cls: type[Connection],
    transport: asyncio.Transport,
    der: bytes | None,
    addr: tuple[str, int] | str,
    params: ConnectParams,
    config: dict[str, Any],
    password: str | None,
) -> Connection:
    """Run the startup exchange on ``transport``; the transport is aborted on failure."""
    from . import tls
    from .auth_policy import PolicyCore

    loop = asyncio.get_running_loop()
    label = _addr_label(addr)
    try:
        if not isinstance(addr, str):
            apply_keepalives(transport.get_extra_info("socket"), params)
        binding: bytes | None = None
        if der is not None and params.channel_binding != "disable":
            try:
                binding = tls.tls_server_end_point(der)
            except ValueError:
                if params.channel_binding == "require":
                    raise
        kwargs: dict[str, Any] = {
            "user": params.user,
            "database": params.database,
            "server_settings": params.server_settings,
            "password": password,
            "channel_binding": binding,
            "require_channel_binding": params.channel_binding == "require",
        }
        core: ProtocolCore
        if params.require_auth:
            core = PolicyCore(require_auth=params.require_auth, label=label, **kwargs)
        else:
            core = ProtocolCore(**kwargs)
        startup = core.startup()
        protocol = WireProtocol(core)
        fut: asyncio.Future[None] = loop.create_future()

        def startup_done(_op: Operation) -> None:
            if not fut.done():
                fut.set_result(None)

        startup.callback = startup_done
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        if startup.done:
            fut.set_result(None)
        await fut
        if startup.error is not None:
            raise _name_server(startup.error, label)
    except BaseException:
        transport.abort()
        raise
    if logger.isEnabledFor(logging.INFO):
        ssl_object = transport.get_extra_info("ssl_object")
        logger.info(
            "pgwire: connected to %s as %s (backend pid %d, %s, authentication %s)",
            label,
            params.user,
            core.backend_pid,
            "no TLS" if ssl_object is None else ssl_object.version(),
            core.auth_method or "trust",
        )
    return cls(protocol, transport, loop, addr, params, config)


def _name_server(exc: BaseException, label: str) -> BaseException:
    """``exc``, with an interface error's message naming the server."""
    if isinstance(exc, exceptions.InterfaceError) and label not in str(exc.args[0]):
        return exc.with_msg(f"server {label}: {exc.args[0]}")
    return exc


class _Placeholder(asyncio.Protocol):
    """Holds a fresh transport until the session protocol takes over."""


# Imported late: these modules refer back to Connection.
from .prepared import PreparedStatement  # noqa: E402
from .transaction import Transaction  # noqa: E402
