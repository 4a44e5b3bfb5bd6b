"""COPY in and out: ``copy_to_table``, ``copy_records_to_table``, ``copy_from_table``,
``copy_from_query``, as methods mixed into :class:`pgwire.Connection`.

Contracts shared by every method:

* Data is streamed. Sources are read and records encoded in chunks of about
  :data:`CHUNK_SIZE` bytes, and the next chunk is produced only once the
  transport's write buffer has drained (``pause_writing``). Output is handed
  to the consumer as it arrives and reading from the socket pauses while more
  than :data:`READ_HIGH_WATER` bytes wait for a slow consumer.
* A COPY is an exclusive call (:mod:`pgwire.gate`): it keeps every other call
  off the connection until the server has ended it. A failure on the client
  side (a source or an output that raises, a record that cannot be encoded,
  the timeout, cancellation of the task) ends a COPY FROM with CopyFail, so the
  server rolls back everything it received, and a COPY TO with a CancelRequest
  (the COPY is alone on the wire, so the cancel can hit nothing else); the call
  raises at once and the connection stays usable.
* Table, schema and column names are always quoted identifiers;
  ``table_name`` is never split at dots (use ``schema_name``). ``where`` is an
  SQL expression and is passed through as such.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import struct
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from . import exceptions
from .codecs.oids import BUILTIN_TYPES
from .protocol import messages
from .protocol.copy import (
    BINARY_HEADER,
    BINARY_TRAILER,
    BinaryCopyEncoder,
    CopyInOperation,
    CopyOutOperation,
    RecordEncodeError,
    copy_data,
)
from .protocol.core import ExecuteOperation, Operation
from .statement import StatementState, _codec_for

if TYPE_CHECKING:
    from .connection import Connection
    from .execution import OperationContext

__all__ = ["CopyMethods", "CHUNK_SIZE", "READ_HIGH_WATER"]

#: Bytes read from a source or encoded from records per CopyData message.
CHUNK_SIZE = 256 * 1024
#: Buffered COPY TO bytes above which reading from the socket pauses.
READ_HIGH_WATER = 1024 * 1024

_Source = Any
_Output = Any

# Types whose binary wire form is their text form, so a text-format codec can
# still feed binary COPY: text, varchar, bpchar, name, json, xml, unknown.
_TEXT_IS_BINARY = frozenset({25, 1043, 1042, 19, 114, 142, 705})
_JSONB = 3802
_int16_from = struct.Struct("!h").unpack_from
_int32_from = struct.Struct("!i").unpack_from


class CopyMethods:
    """COPY methods of :class:`pgwire.Connection`."""

    __slots__ = ()

    async def copy_to_table(
        self,
        table_name: str,
        *,
        source: _Source,
        columns: Iterable[str] | None = None,
        schema_name: str | None = None,
        timeout: float | None = None,
        format: str | None = None,
        oids: bool | None = None,
        freeze: bool | None = None,
        delimiter: str | None = None,
        null: str | None = None,
        header: bool | str | None = None,
        quote: str | None = None,
        escape: str | None = None,
        force_quote: bool | Iterable[str] | None = None,
        force_not_null: bool | Iterable[str] | None = None,
        force_null: bool | Iterable[str] | None = None,
        encoding: str | None = None,
        where: str | None = None,
    ) -> str:
        """``COPY table FROM STDIN`` with data from ``source``; returns ``'COPY n'``.

        ``source`` is a path, a binary file-like object (``read(n)``, sync or
        async), an async iterable of bytes, or a bytes-like object.
        """
        conn = _conn(self)
        conn._check_open()
        sql = (
            f"COPY {_table(table_name, schema_name)}{_column_list(columns)} FROM STDIN"
            + _options(
                format=format,
                oids=oids,
                freeze=freeze,
                delimiter=delimiter,
                null=null,
                header=header,
                quote=quote,
                escape=escape,
                force_quote=force_quote,
                force_not_null=force_not_null,
                force_null=force_null,
                encoding=encoding,
            )
            + _where(where)
        )
        return await _copy_in(conn, sql, _read_source(source), timeout)

    async def copy_records_to_table(
        self,
        table_name: str,
        *,
        records: Iterable[Sequence[Any]] | AsyncIterable[Sequence[Any]],
        columns: Iterable[str] | None = None,
        schema_name: str | None = None,
        timeout: float | None = None,
        where: str | None = None,
    ) -> str:
        """Binary ``COPY table FROM STDIN`` of ``records``; returns ``'COPY n'``.

        Values are encoded with the connection's codecs (custom ones
        included) for the column types the server reports. ``records`` may be
        an iterable or an async iterable of sequences; they are encoded as
        they are consumed. A value that cannot be encoded aborts the COPY with
        :class:`~pgwire.DataError` naming its record (0-based) and column.
        """
        conn = _conn(self)
        conn._check_open()
        table = _table(table_name, schema_name)
        cols = None if columns is None else list(columns)
        select = ", ".join(_quote_ident(c) for c in cols) if cols else "*"
        async with conn._operation(timeout, exclusive=True) as ctx:
            st = await conn._prepare_state(ctx, f"SELECT {select} FROM {table} LIMIT 0")
            _release_transient(conn, st)
            names = [f.name for f in st.fields]
            encoder = _binary_encoder(conn, [f.type_oid for f in st.fields], names)
            sql = f"COPY {table}{_column_list(cols)} FROM STDIN (FORMAT binary)" + _where(where)
            return await _run_copy_in(conn, ctx, sql, _encode_records(encoder, records))

    async def copy_from_table(
        self,
        table_name: str,
        *,
        output: _Output,
        columns: Iterable[str] | None = None,
        schema_name: str | None = None,
        timeout: float | None = None,
        format: str | None = None,
        oids: bool | None = None,
        delimiter: str | None = None,
        null: str | None = None,
        header: bool | str | None = None,
        quote: str | None = None,
        escape: str | None = None,
        force_quote: bool | Iterable[str] | None = None,
        encoding: str | None = None,
    ) -> str:
        """``COPY table TO STDOUT`` into ``output``; returns ``'COPY n'``.

        ``output`` is a path, a binary file-like object (``write(data)``, sync
        or async) or a callable receiving each chunk of bytes (a coroutine
        function is awaited before the next chunk is handed over).
        """
        conn = _conn(self)
        conn._check_open()
        sql = (
            f"COPY {_table(table_name, schema_name)}{_column_list(columns)} TO STDOUT"
            + _options(
                format=format,
                oids=oids,
                delimiter=delimiter,
                null=null,
                header=header,
                quote=quote,
                escape=escape,
                force_quote=force_quote,
                encoding=encoding,
            )
        )
        async with conn._operation(timeout, exclusive=True) as ctx:
            return await _run_copy_out(conn, ctx, sql, output)

    async def copy_from_query(
        self,
        query: str,
        *args: Any,
        output: _Output,
        timeout: float | None = None,
        format: str | None = None,
        oids: bool | None = None,
        delimiter: str | None = None,
        null: str | None = None,
        header: bool | str | None = None,
        quote: str | None = None,
        escape: str | None = None,
        force_quote: bool | Iterable[str] | None = None,
        encoding: str | None = None,
    ) -> str:
        """``COPY (query) TO STDOUT`` into ``output``; returns ``'COPY n'``.

        COPY takes no bind parameters, so ``args`` are encoded with the
        query's parameter codecs and turned into typed SQL literals by the
        server (``quote_nullable``) before they are put in place of ``$n``.
        """
        conn = _conn(self)
        conn._check_open()
        opts = _options(
            format=format,
            oids=oids,
            delimiter=delimiter,
            null=null,
            header=header,
            quote=quote,
            escape=escape,
            force_quote=force_quote,
            encoding=encoding,
        )
        async with conn._operation(timeout, exclusive=True) as ctx:
            if args:
                query = await _inline_arguments(conn, ctx, query, args)
            return await _run_copy_out(conn, ctx, f"COPY ({query}) TO STDOUT{opts}", output)


def _conn(obj: object) -> Connection:
    return cast("Connection", obj)


# ---------------------------------------------------------------- SQL text


def _quote_ident(name: str) -> str:
    if not isinstance(name, str):
        raise exceptions.InterfaceError(f"identifier must be a str, got {type(name).__name__}")
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    if not isinstance(value, str):
        raise exceptions.InterfaceError(f"COPY option must be a str, got {type(value).__name__}")
    if "\x00" in value:
        raise exceptions.InterfaceError("COPY option must not contain NUL characters")
    body = value.replace("'", "''")
    if "\\" in body:
        return "E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


def _table(table_name: str, schema_name: str | None) -> str:
    table = _quote_ident(table_name)
    return table if schema_name is None else f"{_quote_ident(schema_name)}.{table}"


def _column_list(columns: Iterable[str] | None) -> str:
    if columns is None:
        return ""
    if isinstance(columns, str):
        columns = [columns]
    cols = list(columns)
    return f" ({', '.join(_quote_ident(c) for c in cols)})" if cols else ""


def _where(where: str | None) -> str:
    return "" if where is None else f" WHERE {where}"


def _options(**opts: Any) -> str:
    """The parenthesised COPY option list for the options that are not ``None``."""
    parts: list[str] = []
    for key, value in opts.items():
        if value is None:
            continue
        name = key.upper()
        if key in ("force_quote", "force_not_null", "force_null"):
            if value is True:
                parts.append(f"{name} *")
            elif value is not False:
                parts.append(f"{name}{_column_list(value) or ' ()'}")
        elif isinstance(value, bool):
            parts.append(f"{name} {'true' if value else 'false'}")
        else:
            parts.append(f"{name} {_quote_literal(value)}")
    return f" ({', '.join(parts)})" if parts else ""


# Things that may contain "$1" without being a parameter, then the parameter itself.
_PARAM_RE = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/"""
    r"""|\$([A-Za-z_][A-Za-z_0-9]*)?\$.*?\$\1\$|\$(\d+)""",
    re.S,
)


async def _inline_arguments(
    conn: Connection, ctx: OperationContext, query: str, args: Sequence[Any]
) -> str:
    """``query`` with every ``$n`` replaced by the server-quoted literal of ``args[n-1]``."""
    st = await conn._prepare_state(ctx, query)
    _release_transient(conn, st)
    params = st.encode_args(args)
    n = len(params)
    select = ", ".join(
        f"quote_nullable(${i}::text) || '::' || pg_typeof(${i})::text" for i in range(1, n + 1)
    )
    payload = (
        messages.parse_message("", f"SELECT {select}", st.param_oids)
        + messages.bind_message("", "", st.param_formats, params, [0])
        + messages.execute_message("", 0)
        + messages.SYNC
    )
    op = await ctx.run(ExecuteOperation(payload, decode_row=_text_row))
    literals = [f"({v})" for v in op.rows[0]]

    def substitute(m: re.Match[str]) -> str:
        index = m.group(2)
        return m.group(0) if index is None else literals[int(index) - 1]

    return _PARAM_RE.sub(substitute, query)


def _text_row(payload: bytes, *_: Any) -> list[str]:
    """The text-format values of one DataRow whose columns are never NULL."""
    (count,) = _int16_from(payload, 0)
    values: list[str] = []
    pos = 2
    for _i in range(count):
        (size,) = _int32_from(payload, pos)
        pos += 4
        values.append(payload[pos : pos + size].decode("utf-8"))
        pos += size
    return values


# ---------------------------------------------------------------- copy in


async def _read_source(source: _Source) -> AsyncIterator[bytes]:
    """Chunks of ``source``: a path, a file-like object, an async iterable or bytes."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            while chunk := f.read(CHUNK_SIZE):
                yield chunk
    elif hasattr(source, "read"):
        while True:
            data = source.read(CHUNK_SIZE)
            if inspect.isawaitable(data):
                data = await data
            if not data:
                break
            yield bytes(data)
    elif hasattr(source, "__aiter__"):
        async for chunk in source:
            if chunk:
                yield bytes(chunk)
    else:
        try:
            view = memoryview(source)
        except TypeError:
            raise TypeError(
                "source must be a path, a file-like object, an async iterable of bytes "
                f"or a bytes-like object, not {type(source).__name__}"
            ) from None
        view = view.cast("B")
        for start in range(0, len(view), CHUNK_SIZE):
            yield bytes(view[start : start + CHUNK_SIZE])


def _binary_encoder(
    conn: Connection, oids: Sequence[int], names: Sequence[str]
) -> BinaryCopyEncoder:
    encoders: list[Callable[[Any], bytes]] = []
    typenames: list[str] = []
    for oid, name in zip(oids, names, strict=True):
        codec = _codec_for(conn._codecs, oid)
        typenames.append(codec.name)
        if codec.format == 1:
            encoders.append(codec.encode)
        elif oid in _TEXT_IS_BINARY or codec.kind == "enum":
            encoders.append(codec.encode)
        elif oid == _JSONB:
            encoders.append(_jsonb_from_text(codec.encode))
        else:
            # asyncpg's class and wording for this case.
            raise exceptions.InternalClientError(
                f"no binary format encoder for type "
                f"{BUILTIN_TYPES.get(oid, (codec.name,))[0]} (OID {oid}): cannot copy records "
                f"into column {name!r} (binary COPY needs one)"
            )
    return BinaryCopyEncoder(encoders, names, typenames)


def _jsonb_from_text(encode: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    def encode_jsonb(value: Any) -> bytes:
        return b"\x01" + encode(value)

    return encode_jsonb


async def _encode_records(
    encoder: BinaryCopyEncoder,
    records: Iterable[Sequence[Any]] | AsyncIterable[Sequence[Any]],
) -> AsyncIterator[bytes]:
    out = bytearray(BINARY_HEADER)
    try:
        if hasattr(records, "__aiter__"):
            batch: list[Sequence[Any]] = []
            async for record in cast("AsyncIterable[Sequence[Any]]", records):
                batch.append(record)
                if len(batch) >= 1000:
                    encoder.encode_rows(iter(batch), out)
                    batch.clear()
                    if len(out) >= CHUNK_SIZE:
                        yield bytes(out)
                        out.clear()
            encoder.encode_rows(iter(batch), out)
        else:
            it = iter(records)
            while not encoder.encode_rows(it, out, CHUNK_SIZE):
                yield bytes(out)
                out.clear()
    except RecordEncodeError as exc:
        raise exceptions.DataError(str(exc)) from exc.__cause__
    out += BINARY_TRAILER
    yield bytes(out)


async def _copy_in(
    conn: Connection, sql: str, chunks: AsyncIterator[bytes], timeout: float | None
) -> str:
    async with conn._operation(timeout, exclusive=True, query=sql) as ctx:
        return await _run_copy_in(conn, ctx, sql, chunks)


async def _run_copy_in(
    conn: Connection, ctx: OperationContext, sql: str, chunks: AsyncIterator[bytes]
) -> str:
    """Run one COPY FROM STDIN fed from ``chunks`` under ``ctx``'s lock and deadline."""
    loop = conn._loop
    protocol = conn._protocol
    core = conn._core
    op = CopyInOperation(sql)
    started: asyncio.Future[None] = loop.create_future()

    def on_start() -> None:
        if not started.done():
            started.set_result(None)

    op.on_start = on_start
    done = await _submit(conn, ctx, op)
    watchdog = _Watchdog(loop, ctx.deadline)
    try:
        with watchdog:
            await asyncio.wait((started, done), return_when=asyncio.FIRST_COMPLETED)
            if op.accepting_data:
                try:
                    async for chunk in chunks:
                        if not op.accepting_data:
                            break  # the server failed the COPY: its error says why
                        core.send_raw(copy_data(chunk))
                        protocol.flush()
                        await protocol.drain()
                finally:
                    await _close_iterator(chunks)
                op.end()
                protocol.flush()
            await asyncio.shield(done)
    except BaseException as exc:
        exc = watchdog.translate(exc)
        if not op.done:
            reason = _abort_reason(exc)
            needs_cancel = op.ended or not op.in_copy
            op.abort(reason)
            protocol.flush()
            await _stop(conn, op, done, exc, needs_cancel)
        if exc is watchdog.error:
            raise exc from None
        raise
    if op.error is not None:
        raise op.error
    return op.status


def _release_transient(conn: Connection, st: StatementState) -> None:
    """Close ``st`` on the server when the statement cache does not keep it.

    Only its descriptions are used here; with ``statement_cache_size=0`` it would
    otherwise stay prepared on the server until the next statement is prepared.
    """
    if st.transient and st.name:
        st.transient = False
        conn._stmts_to_close.append(st.name)
        conn._close_unused_statements()


def _abort_reason(exc: BaseException) -> str:
    """The CopyFail reason for ``exc``; never raises, whatever ``exc.__str__`` does."""
    try:
        text = str(exc)
    except Exception:
        text = f"<str() of the exception failed: {object.__repr__(exc)}>"
    return f"COPY aborted by the client: {type(exc).__name__}: {text}"


async def _close_iterator(chunks: AsyncIterator[bytes]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()


# ---------------------------------------------------------------- copy out


async def _run_copy_out(conn: Connection, ctx: OperationContext, sql: str, output: _Output) -> str:
    """Run one COPY TO STDOUT into ``output`` under ``ctx``'s lock and deadline."""
    write, close = _writer(output)
    try:
        return await _stream_copy_out(conn, ctx, sql, write)
    finally:
        close()


async def _stream_copy_out(
    conn: Connection,
    ctx: OperationContext,
    sql: str,
    write: Callable[[bytes], Awaitable[None] | None],
) -> str:
    loop = conn._loop
    transport = conn._transport
    op = CopyOutOperation(sql)
    wake: list[asyncio.Future[None] | None] = [None]
    paused = [False]

    def on_chunk() -> None:
        waiter = wake[0]
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        # Awake or about to be: hear again only when the buffer is too full.
        op.notify_above = READ_HIGH_WATER
        if op.buffered > READ_HIGH_WATER and not paused[0] and not op.done:
            paused[0] = True
            transport.pause_reading()

    def resume() -> None:
        if paused[0]:
            paused[0] = False
            if not transport.is_closing():
                transport.resume_reading()

    op.on_chunk = on_chunk
    done = await _submit(conn, ctx, op)
    watchdog = _Watchdog(loop, ctx.deadline)
    try:
        with watchdog:
            while True:
                if op.chunks:
                    data = b"".join(op.take())
                    resume()
                    result = write(data)
                    if result is not None:
                        await result
                elif op.done:
                    break
                else:
                    waiter: asyncio.Future[None] = loop.create_future()
                    wake[0] = waiter
                    op.notify_above = 0
                    await waiter
                    wake[0] = None
    except BaseException as exc:
        exc = watchdog.translate(exc)
        op.discard = True
        op.take()
        resume()
        if not op.done:
            await _stop(conn, op, done, exc, True)
        if exc is watchdog.error:
            raise exc from None
        raise
    finally:
        resume()
    if op.error is not None:
        raise op.error
    return op.status


def _writer(
    output: _Output,
) -> tuple[Callable[[bytes], Awaitable[None] | None], Callable[[], None]]:
    """A chunk writer for ``output`` and what to call when the COPY is over."""
    if isinstance(output, (str, os.PathLike)):
        f = open(output, "wb")

        def write_file(data: bytes) -> None:
            f.write(data)

        return write_file, f.close
    write = getattr(output, "write", None)
    if write is None:
        if not callable(output):
            raise TypeError(
                "output must be a path, a file-like object or a callable, "
                f"not {type(output).__name__}"
            )
        write = output

    def call(data: bytes) -> Awaitable[None] | None:
        result = write(data)
        return result if inspect.isawaitable(result) else None

    return call, _nothing


def _nothing() -> None:
    pass


# ---------------------------------------------------------------- running


async def _submit(conn: Connection, ctx: OperationContext, op: Operation) -> asyncio.Future[None]:
    """Write ``op`` in turn; the future resolves at its ReadyForQuery.

    ``op`` becomes ``ctx``'s current operation, so the call keeps its
    admission to the wire until the server has ended it, even when the call
    itself ends earlier (timeout, cancellation).
    """
    done: asyncio.Future[None] = conn._loop.create_future()

    def resolve(op: Operation) -> None:
        if not done.done():
            done.set_result(None)
        conn._after_operation(op)

    await ctx.take_turn()
    ctx.submit(op, resolve)
    conn._protocol.flush()
    return done


async def _stop(
    conn: Connection,
    op: Operation,
    done: asyncio.Future[None],
    exc: BaseException,
    needs_cancel: bool,
) -> None:
    """End the aborted ``op`` on the server, without waiting for it (the deadline holds).

    ``needs_cancel``: CopyFail cannot stop the server (COPY TO, or the data
    was complete already, or copy mode has not started), so the operation is
    abandoned and cancelled under the connection's cancel rules. Otherwise
    CopyFail was sent, and the connection is aborted if the server does not
    end the COPY within the cancel grace period. Either way the call keeps
    its admission to the wire until the server has answered.
    """
    if needs_cancel:
        conn._abandon(op)
    else:
        conn._watch_abandoned(op)


class _Watchdog:
    """Cancels the current task at ``deadline``; :meth:`translate` turns that into a timeout.

    Works like ``asyncio.timeout`` (which needs Python 3.11).
    """

    __slots__ = ("_loop", "_deadline", "_handle", "_task", "expired", "error")

    def __init__(self, loop: asyncio.AbstractEventLoop, deadline: float | None) -> None:
        self._loop = loop
        self._deadline = deadline
        self._handle: asyncio.TimerHandle | None = None
        self._task = asyncio.current_task()
        self.expired = False
        self.error: BaseException | None = None

    def __enter__(self) -> _Watchdog:
        if self._deadline is not None and self._task is not None:
            self._handle = self._loop.call_at(self._deadline, self._expire)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _expire(self) -> None:
        self.expired = True
        assert self._task is not None
        self._task.cancel()

    def translate(self, exc: BaseException) -> BaseException:
        """``asyncio.TimeoutError`` for the cancellation this watchdog caused, else ``exc``."""
        if self.expired and isinstance(exc, asyncio.CancelledError):
            uncancel = getattr(self._task, "uncancel", None)
            if uncancel is not None:
                uncancel()
            self.error = asyncio.TimeoutError()
            return self.error
        return exc
