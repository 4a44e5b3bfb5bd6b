"""The PostgreSQL frontend/backend protocol 3.0, client side, without I/O.

Theory of operation
-------------------

1. The core performs no I/O. The caller feeds bytes it received with
   :meth:`ProtocolCore.receive_data` (or reads them straight into
   :meth:`ProtocolCore.get_buffer` and reports them with
   :meth:`ProtocolCore.buffer_updated`) and writes whatever
   :meth:`ProtocolCore.data_to_send` returns. It imports neither asyncio,
   socket nor ssl, so it can be driven by scripted bytes alone.

2. Every request is an :class:`Operation`. Submitting one appends all of its
   frontend messages to the outgoing buffer at once and appends the
   operation to a FIFO queue. Each extended-protocol operation ends with its
   own Sync, so the server answers every operation with exactly one
   ReadyForQuery; that ReadyForQuery completes the operation at the head of
   the queue. Several operations may be queued at once: this is pipelining.

3. An ErrorResponse fails the operation at the head of the queue only. The
   server discards that operation's remaining messages up to its Sync, and
   the following ReadyForQuery still belongs to it, so the next queued
   operation starts cleanly.

4. NoticeResponse, NotificationResponse and ParameterStatus may arrive at
   any time and are passed to hooks; they never touch the queue.

5. Anything the core does not expect is a protocol violation: the core
   moves to CLOSED, every queued operation fails with ProtocolError, and
   :meth:`receive_data` raises it, so the caller drops the transport.

6. When the transport is lost, :meth:`connection_lost` fails every queued
   operation with ``ConnectionDoesNotExistError``; nothing waits forever.

7. An operation is *answered* once any message replying to it arrived
   (ParseComplete, BindComplete, RowDescription, DataRow, CommandComplete, a
   non-fatal ErrorResponse, ...). When the server ends the session with a
   FATAL error (``pg_terminate_backend``, shutdown, ``idle_session_timeout``)
   before an extended-protocol operation whose first message is Parse, Bind,
   Close or Describe was answered, the server provably never executed any of
   it: the backend handles messages in order and queues each reply before it
   goes on, a Parse or Bind is answered before any statement runs, and the
   FATAL is written after everything already queued and flushed with it. Such
   an operation (and every operation queued behind it) fails with
   ``ConnectionClosedBeforeStartError`` (``__cause__``: the server's error) and
   may be sent again elsewhere. Nothing else is marked so: a simple Query may
   hold several statements, one of them a COMMIT, whose replies prove nothing
   about the others; an ``Execute`` of an existing portal runs before it
   replies; and an EOF without the FATAL (a crash, a network cut) may have lost
   replies the backend had queued.
"""

from __future__ import annotations

import enum
import struct
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from .. import exceptions
from .._impl import consume_results
from . import messages
from .auth import AuthenticationError, ScramClient, md5_password
from .messages import FieldDescription

__all__ = [
    "ConnectionState",
    "Operation",
    "StartupOperation",
    "SimpleQueryOperation",
    "PrepareOperation",
    "ExecuteOperation",
    "CloseOperation",
    "ProtocolCore",
]

#: Size of a connection's receive buffer; it grows for larger messages.
RECV_BUFFER_SIZE = 64 * 1024
#: A grown receive buffer larger than this is given back once it is drained.
RECV_BUFFER_KEEP = 4 * 1024 * 1024
#: get_buffer() offers at least this much space.
_RECV_MIN_FREE = 16 * 1024
#: A partly received message is given room for all of it at once up to this size;
#: past it the buffer doubles as bytes arrive (a corrupt length allocates nothing).
_RECV_PRESIZE_LIMIT = 16 * 1024 * 1024

_int32_from = struct.Struct("!i").unpack_from
#: ReadyForQuery status byte -> transaction status: idle, in a block, in a failed block.
_TX_STATUS = {0x49: "I", 0x54: "T", 0x45: "E"}
_uint32_pair_from = struct.Struct("!ii").unpack_from
_header_from = struct.Struct("!i").unpack_from

_AUTH_OK = 0
_AUTH_KERBEROS_V5 = 2
_AUTH_CLEARTEXT = 3
_AUTH_MD5 = 5
_AUTH_GSS = 7
_AUTH_GSS_CONTINUE = 8
_AUTH_SSPI = 9
_AUTH_SASL = 10
_AUTH_SASL_CONTINUE = 11
_AUTH_SASL_FINAL = 12


class ConnectionState(enum.Enum):
    STARTUP = "startup"
    READY = "ready"
    CLOSED = "closed"


class Operation:
    """A request whose responses end with one ReadyForQuery.

    The core calls the ``on_*`` methods as the server's messages arrive and
    :meth:`finish` on the operation's ReadyForQuery (or on failure of the
    connection). ``callback`` (if set) is called once, after ``done`` turns true.
    """

    __slots__ = (
        "done",
        "error",
        "callback",
        "status",
        "tx_status",
        "cancel_state",
        "answered",
        "__weakref__",
    )

    #: An extended-protocol operation (rule 7 may mark it as never started).
    extended = False

    #: ``cancel_state`` values: no cancel wanted; wanted once the operation reaches the
    #: head of the queue; CancelRequest sent while it was at the head.
    CANCEL_NONE = 0
    CANCEL_WANTED = 1
    CANCEL_SENT = 2

    #: True for operations a stray CancelRequest cannot harm (nothing to interrupt).
    harmless_to_cancel = False

    def __init__(self) -> None:
        self.done = False
        self.error: BaseException | None = None
        self.callback: Callable[[Operation], None] | None = None
        self.status = ""
        #: Transaction status reported by this operation's ReadyForQuery.
        self.tx_status = ""
        self.cancel_state = Operation.CANCEL_NONE
        #: A message replying to this operation arrived (rule 7).
        self.answered = False

    def messages(self) -> bytes:
        """Every frontend message of this operation, concatenated."""
        raise NotImplementedError

    def fail(self, exc: BaseException) -> None:
        """Record the first error; later ones are consequences of it."""
        if self.error is None:
            self.error = exc

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        cb = self.callback
        if cb is not None:
            self.callback = None
            cb(self)

    def on_parse_complete(self) -> None:
        raise _unexpected("ParseComplete", self)

    def on_bind_complete(self) -> None:
        raise _unexpected("BindComplete", self)

    def on_close_complete(self) -> None:
        raise _unexpected("CloseComplete", self)

    def on_parameter_description(self, oids: tuple[int, ...]) -> None:
        raise _unexpected("ParameterDescription", self)

    def on_row_description(self, fields: list[FieldDescription]) -> None:
        raise _unexpected("RowDescription", self)

    def on_no_data(self) -> None:
        raise _unexpected("NoData", self)

    def on_data_row(self, payload: bytes) -> None:
        raise _unexpected("DataRow", self)

    def on_command_complete(self, tag: str) -> None:
        raise _unexpected("CommandComplete", self)

    def on_empty_query(self) -> None:
        raise _unexpected("EmptyQueryResponse", self)

    def on_portal_suspended(self) -> None:
        raise _unexpected("PortalSuspended", self)

    def on_copy_in(self, payload: bytes, core: ProtocolCore) -> None:
        raise _unexpected("CopyInResponse", self)

    def on_copy_out(self, payload: bytes) -> None:
        raise _unexpected("CopyOutResponse", self)

    def on_copy_data(self, payload: bytes) -> None:
        raise _unexpected("CopyData", self)

    def on_copy_done(self) -> None:
        raise _unexpected("CopyDone", self)


def _unexpected(what: str, op: Operation) -> exceptions.ProtocolError:
    return exceptions.ProtocolError(
        f"unexpected {what} message from the server during {type(op).__name__}"
    )


class StartupOperation(Operation):
    """Completes with the first ReadyForQuery after authentication."""

    __slots__ = ()


class _RefusesCopy(Operation):
    """A query that turns out to run COPY: COPY FROM STDIN is refused with CopyFail
    (so the session stays in step) and COPY TO STDOUT data is dropped.

    COPY goes through the ``copy_*`` methods, which use their own operations.
    """

    __slots__ = ()

    def on_copy_in(self, payload: bytes, core: ProtocolCore) -> None:
        core.send_raw(
            messages.copy_fail_message(
                "COPY FROM STDIN is not supported here; use copy_to_table()"
            )
        )

    def on_copy_out(self, payload: bytes) -> None:
        pass

    def on_copy_data(self, payload: bytes) -> None:
        pass

    def on_copy_done(self) -> None:
        pass


class SimpleQueryOperation(_RefusesCopy):
    """One simple-protocol Query; ``status`` is the last CommandComplete tag.

    Result rows are not kept (``execute()`` without arguments returns only the
    status). A COPY FROM STDIN started by the query is refused with CopyFail
    so the session stays in step.
    """

    __slots__ = ("sql",)

    def __init__(self, sql: str) -> None:
        super().__init__()
        self.sql = sql

    def messages(self) -> bytes:
        return messages.query_message(self.sql)

    def on_row_description(self, fields: list[FieldDescription]) -> None:
        pass

    def on_data_row(self, payload: bytes) -> None:
        pass

    def on_command_complete(self, tag: str) -> None:
        self.status = tag

    def on_empty_query(self) -> None:
        pass


class PrepareOperation(Operation):
    """Parse + Describe(statement) + Sync: learns parameter and result types."""

    __slots__ = ("name", "sql", "param_oids", "fields")

    extended = True

    def __init__(self, name: str, sql: str) -> None:
        super().__init__()
        self.name = name
        self.sql = sql
        self.param_oids: tuple[int, ...] = ()
        self.fields: list[FieldDescription] | None = None

    def messages(self) -> bytes:
        return b"".join(
            (
                messages.parse_message(self.name, self.sql),
                messages.describe_statement(self.name),
                messages.SYNC,
            )
        )

    def on_parse_complete(self) -> None:
        pass

    def on_close_complete(self) -> None:
        pass

    def on_parameter_description(self, oids: tuple[int, ...]) -> None:
        self.param_oids = oids

    def on_row_description(self, fields: list[FieldDescription]) -> None:
        self.fields = fields

    def on_no_data(self) -> None:
        self.fields = None


class ExecuteOperation(_RefusesCopy):
    """Bind + Execute for one or more argument sets of a prepared statement, then one Sync.

    With several argument sets (``executemany``) the whole batch runs in the
    implicit transaction of its single Sync, so it is atomic. Rows of every
    execution are decoded with ``decode_row`` into ``rows`` when
    ``keep_rows`` is true. ``suspended`` tells that a row limit stopped the
    portal (cursors).
    """

    __slots__ = (
        "payload",
        "decoders",
        "desc",
        "record_class",
        "decode_row",
        "rows",
        "keep_rows",
        "suspended",
        "executed",
    )

    extended = True

    def __init__(
        self,
        payload: bytes,
        *,
        decode_row: Callable[..., Any] | None = None,
        decoders: Sequence[Callable[[bytes], Any]] = (),
        desc: Any = None,
        record_class: Any = None,
        keep_rows: bool = True,
    ) -> None:
        super().__init__()
        self.payload = payload
        self.decode_row = decode_row
        self.decoders = decoders
        self.desc = desc
        self.record_class = record_class
        self.rows: list[Any] = []
        self.keep_rows = keep_rows and decode_row is not None
        self.suspended = False
        self.executed = 0

    def messages(self) -> bytes:
        return self.payload

    def on_parse_complete(self) -> None:
        pass

    def on_bind_complete(self) -> None:
        pass

    def on_close_complete(self) -> None:
        pass

    def on_parameter_description(self, oids: tuple[int, ...]) -> None:
        pass

    def on_row_description(self, fields: list[FieldDescription]) -> None:
        pass

    def on_no_data(self) -> None:
        pass

    def on_data_row(self, payload: bytes) -> None:
        if not self.keep_rows or self.error is not None:
            return
        try:
            self.rows.append(
                self.decode_row(payload, self.decoders, self.desc, self.record_class)  # type: ignore[misc]
            )
        except Exception as exc:  # a decoder failed: report it, stay in step
            self.fail(_decode_error(exc))

    def on_command_complete(self, tag: str) -> None:
        self.status = tag
        self.executed += 1

    def on_empty_query(self) -> None:
        self.executed += 1

    def on_portal_suspended(self) -> None:
        self.suspended = True
        self.executed += 1


def _decode_error(exc: Exception) -> BaseException:
    if isinstance(exc, (exceptions.ValueOutOfRangeError, exceptions.OutdatedSchemaCacheError)):
        # Already precise: an OverflowError naming the value and the range, or
        # asyncpg's signal that a type changed and the query can be run again.
        return exc
    err = exceptions.InternalClientError(f"failed to decode a result value: {exc}")
    err.__cause__ = exc
    return err


class CloseOperation(Operation):
    """Close one prepared statement (or portal), then Sync."""

    __slots__ = ("payload",)

    harmless_to_cancel = True
    extended = True

    def __init__(self, payload: bytes) -> None:
        super().__init__()
        self.payload = payload

    def messages(self) -> bytes:
        return self.payload + messages.SYNC

    def on_close_complete(self) -> None:
        pass


class ProtocolCore:
    """Client side of one PostgreSQL session, bytes in and bytes out.

    Hooks (plain callables, set by the I/O layer): ``on_notification(pid,
    channel, payload)``, ``on_notice(fields)``, ``on_parameter_status(name,
    value)``, ``on_close(exc)``.
    """

    def __init__(
        self,
        *,
        user: str,
        database: str,
        server_settings: dict[str, str] | None = None,
        password: str | None = None,
        channel_binding: bytes | None = None,
        require_channel_binding: bool = False,
    ) -> None:
        self.state = ConnectionState.STARTUP
        self.user = user
        self.database = database
        self._server_settings = dict(server_settings or {})
        self._password = password
        self._channel_binding = channel_binding
        self._require_channel_binding = require_channel_binding
        self._scram: ScramClient | None = None
        self._scram_verified = False
        self._auth_done = False

        self.parameters: dict[str, str] = {}
        self.backend_pid = 0
        self.backend_secret = 0
        self.transaction_status = "I"
        self.auth_method = ""

        self._queue: deque[Operation] = deque()
        self._out = bytearray()
        # Received bytes live in _buf[_pos:_end]. The buffer is never resized (it is
        # exported through _view); it is compacted in place or replaced by a larger one.
        self._buf = bytearray(RECV_BUFFER_SIZE)
        self._view = memoryview(self._buf)
        self._pos = 0
        self._end = 0
        self.closed_error: BaseException | None = None
        #: The FATAL error with which the server ended the session, if it did.
        self.fatal_error: BaseException | None = None

        self.on_notification: Callable[[int, str, str], None] = _ignore3
        self.on_notice: Callable[[dict[str, str]], None] = _ignore1
        self.on_parameter_status: Callable[[str, str], None] = _ignore2
        #: Called once when the core closes, before the queued operations fail.
        self.on_close: Callable[[BaseException], None] = _ignore1

    # ------------------------------------------------------------ outgoing

    def startup(self) -> StartupOperation:
        """Queue the StartupMessage; the operation completes at the first ReadyForQuery."""
        if self.state is not ConnectionState.STARTUP or self._queue:
            raise exceptions.InterfaceError("startup() may only be called once")
        params = {"user": self.user, "database": self.database, "client_encoding": "UTF8"}
        for key, value in self._server_settings.items():
            params[key] = value
        op = StartupOperation()
        self._queue.append(op)
        self._out += messages.startup_message(params)
        return op

    def submit(self, op: Operation) -> Operation:
        """Queue ``op`` and append its messages to the outgoing buffer."""
        if self.state is not ConnectionState.READY:
            if self.state is ConnectionState.CLOSED:
                raise self.not_sent_error()
            raise exceptions.InterfaceError("the connection is not ready yet")
        self._out += op.messages()
        self._queue.append(op)
        return op

    def send_raw(self, data: bytes) -> None:
        """Append already encoded messages that belong to the head operation (COPY data)."""
        self._out += data

    def terminate(self) -> bytes:
        """Graceful close: the Terminate message. The core is CLOSED afterwards."""
        data = bytes(self._out) + messages.TERMINATE
        self._out.clear()
        self._close(exceptions.ConnectionDoesNotExistError("connection was closed"))
        return data

    def not_sent_error(self) -> exceptions.ConnectionClosedBeforeStartError:
        """The error for an operation refused because the session is over.

        Nothing was sent, so the operation never ran; the message names the
        server's reason and ``__cause__`` is its error when the server ended
        the session.
        """
        fatal = self.fatal_error
        if fatal is None:
            err = exceptions.ConnectionClosedBeforeStartError("connection is closed")
            err.__cause__ = self.closed_error
        else:
            err = exceptions.ConnectionClosedBeforeStartError(
                f"the server closed the connection: {fatal}"
            )
            err.__cause__ = fatal
        return err

    def data_to_send(self) -> bytes:
        """Pending outgoing bytes (empty when there are none); clears the buffer."""
        if not self._out:
            return b""
        data = bytes(self._out)
        self._out.clear()
        return data

    @property
    def pending(self) -> int:
        """Number of operations still waiting for their ReadyForQuery."""
        return len(self._queue)

    @property
    def head(self) -> Operation | None:
        return self._queue[0] if self._queue else None

    def operations(self) -> tuple[Operation, ...]:
        """The operations written and not yet answered, oldest first."""
        return tuple(self._queue)

    def is_idle(self) -> bool:
        return self.state is ConnectionState.READY and not self._queue

    # ------------------------------------------------------------ incoming

    def abort(self, exc: BaseException) -> None:
        """The caller gives up on the session: fail every queued operation with ``exc``."""
        self._close(exc)

    def connection_lost(self, exc: BaseException | None) -> None:
        """The transport is gone: fail every queued operation."""
        err = exceptions.ConnectionDoesNotExistError(
            "connection was closed in the middle of operation"
        )
        if exc is not None:
            err.__cause__ = exc
        self._close(err)

    def receive_data(self, data: bytes) -> None:
        """Consume bytes from the server, dispatching every complete message."""
        if self.state is ConnectionState.CLOSED:
            return
        n = len(data)
        self._make_room(n)
        end = self._end
        self._view[end : end + n] = data
        self._end = end + n
        self._process()

    def get_buffer(self, sizehint: int = -1) -> memoryview:
        """Writable space at the end of the receive buffer, for reading bytes into.

        Report how many bytes were written with :meth:`buffer_updated` before
        calling anything else on the core. When a message is partly received
        the space fits the rest of it (up to a limit), so a large value arrives
        in place instead of in chunks that are copied together later.
        """
        pos, end = self._pos, self._end
        want = _RECV_MIN_FREE
        if end - pos >= 5:
            (length,) = _header_from(self._buf, pos + 1)
            rest = pos + 1 + length - end
            if rest > want:
                want = min(rest, _RECV_PRESIZE_LIMIT)
        if len(self._buf) - end < want:
            self._make_room(want)
        return self._view[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` were written at the start of the last :meth:`get_buffer` space."""
        if self.state is ConnectionState.CLOSED:
            return
        end = self._end + nbytes
        if nbytes < 0 or end > len(self._buf):
            raise ValueError(f"buffer_updated({nbytes}) exceeds the space get_buffer() gave")
        self._end = end
        self._process()

    def _make_room(self, free: int) -> None:
        """Ensure ``free`` bytes of space after the unconsumed bytes."""
        pos, end = self._pos, self._end
        size = len(self._buf)
        if size - end >= free:
            return
        unconsumed = end - pos
        if unconsumed + free <= size:
            if unconsumed:
                self._view[:unconsumed] = self._view[pos:end]
        else:
            buf = bytearray(max(unconsumed + free, 2 * size))
            buf[:unconsumed] = self._view[pos:end]
            self._buf = buf
            self._view = memoryview(buf)
        self._pos = 0
        self._end = unconsumed

    def _process(self) -> None:
        """Dispatch every complete message in the receive buffer."""
        buf = self._buf
        pos = self._pos
        end = self._end
        queue = self._queue
        try:
            while end - pos >= 5:
                tag = buf[pos]
                if (
                    (tag == 0x44 or tag == 0x32 or tag == 0x43)
                    and queue
                    and type(queue[0]).on_data_row is ExecuteOperation.on_data_row
                ):
                    # A run of results for an ExecuteOperation: one call, no per-message dispatch.
                    after = consume_results(buf, pos, end, queue[0])
                    if after != pos:
                        queue[0].answered = True
                        pos = self._pos = after
                        continue
                (length,) = _header_from(buf, pos + 1)
                if length < 4:
                    raise exceptions.ProtocolError(f"invalid message length {length}")
                msg_end = pos + 1 + length
                if msg_end > end:
                    break
                if tag == 0x5A and length == 5:
                    # ReadyForQuery, once per operation: no payload copy, no dispatch.
                    pos = self._pos = msg_end
                    self._ready_for_query_status(buf[msg_end - 1])
                    if self._closed():
                        return
                    continue
                payload = bytes(buf[pos + 5 : msg_end])
                pos = msg_end
                self._pos = pos
                self._dispatch(tag, payload)
                if self._closed():
                    return
        except exceptions.ProtocolError as exc:
            self._close(exc)
            raise
        except (struct.error, UnicodeDecodeError, IndexError, ValueError) as exc:
            err = exceptions.ProtocolError(f"malformed message from the server: {exc}")
            self._close(err)
            raise err from exc
        if pos == end:
            self._pos = self._end = 0
            if len(buf) > RECV_BUFFER_KEEP:
                self._buf = bytearray(RECV_BUFFER_SIZE)
                self._view = memoryview(self._buf)
        else:
            self._pos = pos

    # ------------------------------------------------------------ dispatch

    def _dispatch(self, tag: int, payload: bytes) -> None:
        queue = self._queue
        if tag == 0x44:  # 'D' DataRow
            if not queue:
                raise exceptions.ProtocolError("DataRow with no operation pending")
            op = queue[0]
            op.answered = True
            op.on_data_row(payload)
        elif tag == 0x43:  # 'C' CommandComplete
            self._head("CommandComplete").on_command_complete(payload[:-1].decode("utf-8"))
        elif tag == 0x5A:  # 'Z' ReadyForQuery
            self._ready_for_query(payload)
        elif tag == 0x32:  # '2' BindComplete
            self._head("BindComplete").on_bind_complete()
        elif tag == 0x31:  # '1' ParseComplete
            self._head("ParseComplete").on_parse_complete()
        elif tag == 0x54:  # 'T' RowDescription
            self._head("RowDescription").on_row_description(
                messages.parse_row_description(payload)
            )
        elif tag == 0x74:  # 't' ParameterDescription
            self._head("ParameterDescription").on_parameter_description(
                messages.parse_parameter_description(payload)
            )
        elif tag == 0x6E:  # 'n' NoData
            self._head("NoData").on_no_data()
        elif tag == 0x45:  # 'E' ErrorResponse
            self._error_response(payload)
        elif tag == 0x33:  # '3' CloseComplete
            self._head("CloseComplete").on_close_complete()
        elif tag == 0x73:  # 's' PortalSuspended
            self._head("PortalSuspended").on_portal_suspended()
        elif tag == 0x49:  # 'I' EmptyQueryResponse
            self._head("EmptyQueryResponse").on_empty_query()
        elif tag == 0x4E:  # 'N' NoticeResponse
            self.on_notice(messages.parse_error_fields(payload))
        elif tag == 0x41:  # 'A' NotificationResponse
            (pid,) = _int32_from(payload, 0)
            channel, body = messages.parse_cstring_pair(payload[4:])
            self.on_notification(pid, channel, body)
        elif tag == 0x53:  # 'S' ParameterStatus
            name, value = messages.parse_cstring_pair(payload)
            self.parameters[name] = value
            if name == "client_encoding" and value.upper() != "UTF8":
                self._refuse_client_encoding(value)
                return
            self.on_parameter_status(name, value)
        elif tag == 0x64:  # 'd' CopyData
            self._head("CopyData").on_copy_data(payload)
        elif tag == 0x63:  # 'c' CopyDone
            self._head("CopyDone").on_copy_done()
        elif tag == 0x47:  # 'G' CopyInResponse
            self._head("CopyInResponse").on_copy_in(payload, self)
        elif tag == 0x48:  # 'H' CopyOutResponse
            self._head("CopyOutResponse").on_copy_out(payload)
        elif tag == 0x52:  # 'R' Authentication*
            self._authentication(payload)
        elif tag == 0x4B:  # 'K' BackendKeyData
            if self.state is not ConnectionState.STARTUP:
                raise exceptions.ProtocolError("BackendKeyData after startup")
            self.backend_pid, self.backend_secret = _uint32_pair_from(payload, 0)
        elif tag == 0x76:  # 'v' NegotiateProtocolVersion
            # The server speaks an older minor version and lists options it ignored;
            # pgwire uses no protocol options, so 3.0 is all it needs.
            pass
        else:
            raise exceptions.ProtocolError(f"unknown message type {chr(tag)!r} from the server")

    def _closed(self) -> bool:
        # A method, not an inline comparison: dispatch may close the core, which
        # a type checker narrowing ``self.state`` cannot see.
        return self.state is ConnectionState.CLOSED

    def _head(self, what: str) -> Operation:
        if not self._queue:
            raise exceptions.ProtocolError(f"{what} with no operation pending")
        op = self._queue[0]
        op.answered = True
        return op

    def _ready_for_query(self, payload: bytes) -> None:
        self._ready_for_query_status(payload[0] if payload else 0x49)

    def _ready_for_query_status(self, code: int) -> None:
        if not self._queue:
            raise exceptions.ProtocolError("ReadyForQuery with no operation pending")
        status = _TX_STATUS.get(code)
        if status is None:
            raise exceptions.ProtocolError(f"invalid transaction status {chr(code)!r}")
        self.transaction_status = status
        self._queue[0].tx_status = status
        if self.state is ConnectionState.STARTUP:
            if not self._auth_done:
                raise exceptions.ProtocolError("ReadyForQuery before authentication completed")
            self.state = ConnectionState.READY
        op = self._queue.popleft()
        op.finish()

    def _error_response(self, payload: bytes) -> None:
        fields = messages.parse_error_fields(payload)
        fatal = fields.get("S") in ("FATAL", "PANIC")
        if not self._queue:
            # A FATAL error outside any request (e.g. administrator shutdown).
            err = exceptions.error_from_fields(fields)
            if fatal:
                self.fatal_error = err
            self._close(err)
            return
        op = self._queue[0]
        query = getattr(op, "sql", None)
        err = exceptions.error_from_fields(fields, query=query)
        if self.state is ConnectionState.STARTUP:
            op.fail(err)
            self._close(err)
        elif fatal:
            # The server ends the session (terminated backend, shutdown, crash): the
            # operations die with the connection, the server's reason as the cause
            # (asyncpg's ConnectionDoesNotExistError shape); rule 7 decides which of
            # them provably never ran.
            self.fatal_error = err
            lost = exceptions.ConnectionDoesNotExistError(
                f"connection was closed in the middle of operation: {err.args[0]}"
            )
            lost.__cause__ = err
            self._close(lost)
        else:
            op.answered = True
            op.fail(err)

    # ------------------------------------------------------------ authentication

    def _authentication(self, payload: bytes) -> None:
        if self.state is not ConnectionState.STARTUP:
            raise exceptions.ProtocolError("authentication request after startup")
        (code,) = _int32_from(payload, 0)
        try:
            if code == _AUTH_OK:
                if self._require_channel_binding and self.auth_method != "SCRAM-SHA-256-PLUS":
                    raise AuthenticationError(
                        "channel binding required, but the server authenticated the client "
                        "without it"
                    )
                if self._scram is not None and not self._scram_verified:
                    raise AuthenticationError(
                        "server completed SCRAM authentication without proving it knows "
                        "the password"
                    )
                self._auth_done = True
            elif code == _AUTH_CLEARTEXT:
                self._refuse_without_binding("password")
                self.auth_method = "password"
                self._out += messages.password_message(self._require_password().encode("utf-8"))
            elif code == _AUTH_MD5:
                self._refuse_without_binding("md5")
                self.auth_method = "md5"
                salt = payload[4:8]
                self._out += messages.password_message(
                    md5_password(self.user, self._require_password(), salt)
                )
            elif code == _AUTH_SASL:
                self._start_sasl(payload[4:])
            elif code == _AUTH_SASL_CONTINUE:
                if self._scram is None:
                    raise exceptions.ProtocolError("SASLContinue without SASL")
                self._out += messages.sasl_response(self._scram.client_final(payload[4:]))
            elif code == _AUTH_SASL_FINAL:
                if self._scram is None:
                    raise exceptions.ProtocolError("SASLFinal without SASL")
                self._scram.verify_server_final(payload[4:])
                self._scram_verified = True
            elif code in (_AUTH_KERBEROS_V5, _AUTH_GSS, _AUTH_GSS_CONTINUE, _AUTH_SSPI):
                raise exceptions.InterfaceError(
                    "unsupported authentication method requested by the server: "
                    + {2: "KerberosV5", 7: "GSSAPI", 8: "GSSAPI", 9: "SSPI"}[code]
                )
            else:
                raise exceptions.ProtocolError(f"unknown authentication request {code}")
        except AuthenticationError as exc:
            self._close(exceptions.InterfaceError(str(exc)))
        except exceptions.InterfaceError as exc:
            self._close(exc)

    def _refuse_without_binding(self, method: str) -> None:
        if self._require_channel_binding:
            raise AuthenticationError(
                f"channel binding required, but the server requested {method} authentication"
            )

    def _require_password(self) -> str:
        # Without a password an empty one is sent, as asyncpg and libpq do: the server
        # then refuses the login with its own error (28P01 InvalidPasswordError).
        return self._password or ""

    def _start_sasl(self, payload: bytes) -> None:
        mechanisms = [m.decode("ascii", "replace") for m in payload.split(b"\x00") if m]
        use_plus = self._channel_binding is not None and "SCRAM-SHA-256-PLUS" in mechanisms
        if self._require_channel_binding and not use_plus:
            raise AuthenticationError(
                "channel binding required, but the server did not offer SCRAM-SHA-256-PLUS"
            )
        if not use_plus and "SCRAM-SHA-256" not in mechanisms:
            raise exceptions.InterfaceError(
                "the server requested SASL authentication with unsupported mechanisms: "
                + ", ".join(mechanisms)
            )
        self._scram = ScramClient(
            self._require_password(),
            channel_binding=self._channel_binding if use_plus else None,
        )
        self.auth_method = self._scram.mechanism
        self._out += messages.sasl_initial_response(
            self._scram.mechanism, self._scram.client_first()
        )

    def _refuse_client_encoding(self, value: str) -> None:
        """The session left UTF8: close it before text goes astray in either direction.

        Every string pgwire sends or reads (SQL text, text values, names, messages) is
        UTF-8; under another client_encoding the server would convert it as if it were
        that encoding ('café' stored as 'cafÃ©'). The operation that changed the setting
        and everything queued behind it fail with the reason; Terminate ends the session.
        """
        err = exceptions.UnsupportedClientFeatureError(
            f"client_encoding was set to {value!r}: pgwire exchanges text with the server "
            "in UTF8 only, so the connection was closed to keep text from being converted "
            "in the wrong encoding",
            hint="Leave client_encoding at UTF8 (the database may use any encoding; the "
            "server converts) or use convert_to()/convert_from() in SQL for other byte "
            "encodings.",
        )
        self._out += messages.TERMINATE
        self._close(err)

    # ------------------------------------------------------------ closing

    def _close(self, exc: BaseException) -> None:
        if self.state is ConnectionState.CLOSED:
            return
        self.state = ConnectionState.CLOSED
        self.closed_error = exc
        self.on_close(exc)
        queue = self._queue
        self._queue = deque()
        fatal = self.fatal_error
        for op in queue:
            if fatal is not None and _never_started(op):
                op.fail(_not_started_error(fatal))
            else:
                op.fail(exc)
            op.finish()


def _never_started(op: Operation) -> bool:
    """Rule 7: the server's FATAL came before any reply to an operation it answers at once."""
    return op.extended and not op.answered and op.messages()[:1] in (b"P", b"B", b"C", b"D")


def _not_started_error(fatal: BaseException) -> exceptions.ConnectionClosedBeforeStartError:
    err = exceptions.ConnectionClosedBeforeStartError(
        f"the server closed the connection before the statement started: {fatal}"
    )
    err.__cause__ = fatal
    return err


def _ignore1(a: Any) -> None:
    pass


def _ignore2(a: Any, b: Any) -> None:
    pass


def _ignore3(a: Any, b: Any, c: Any) -> None:
    pass
