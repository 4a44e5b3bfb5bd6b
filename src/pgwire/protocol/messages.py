"""Frontend message encoders and small backend message records.

Every encoder returns the complete message (type byte, length, body) as
``bytes``; callers concatenate them into one write. Strings are encoded as
UTF-8 (pgwire always asks the server for ``client_encoding=UTF8``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .. import exceptions
from ..exceptions import ProtocolError

__all__ = [
    "PROTOCOL_VERSION",
    "CANCEL_REQUEST_CODE",
    "SSL_REQUEST_CODE",
    "FieldDescription",
    "startup_message",
    "ssl_request",
    "cancel_request",
    "password_message",
    "sasl_initial_response",
    "sasl_response",
    "query_message",
    "parse_message",
    "describe_statement",
    "describe_portal",
    "bind_message",
    "bind_head",
    "bind_result_formats",
    "bind_execute_batch",
    "encode_copy_rows",
    "RowEncodeError",
    "execute_message",
    "close_statement",
    "close_portal",
    "sync_message",
    "flush_message",
    "terminate_message",
    "copy_data_message",
    "copy_done_message",
    "copy_fail_message",
]

PROTOCOL_VERSION = 196608  # 3.0
CANCEL_REQUEST_CODE = 80877102
SSL_REQUEST_CODE = 80877103

_int32 = struct.Struct("!i")
_int16 = struct.Struct("!h")
_uint16 = struct.Struct("!H")
_header = struct.Struct("!ci")
_int32_pair = struct.Struct("!ii")
_int32_triple = struct.Struct("!iii")

SYNC = b"S\x00\x00\x00\x04"
FLUSH = b"H\x00\x00\x00\x04"
TERMINATE = b"X\x00\x00\x00\x04"
COPY_DONE = b"c\x00\x00\x00\x04"


class FieldDescription:
    """One column of a RowDescription message."""

    __slots__ = (
        "name",
        "table_oid",
        "column_number",
        "type_oid",
        "type_size",
        "type_modifier",
        "format",
    )

    def __init__(
        self,
        name: str,
        table_oid: int,
        column_number: int,
        type_oid: int,
        type_size: int,
        type_modifier: int,
        format: int,
    ) -> None:
        self.name = name
        self.table_oid = table_oid
        self.column_number = column_number
        self.type_oid = type_oid
        self.type_size = type_size
        self.type_modifier = type_modifier
        self.format = format

    def __repr__(self) -> str:
        return f"<FieldDescription {self.name!r} oid={self.type_oid}>"


def _cstr(value: str) -> bytes:
    data = value.encode("utf-8")
    if b"\x00" in data:
        # The server would read the string as ending there and then fail the message with
        # 08P01 "invalid message format" (what asyncpg reports): refuse before sending.
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise exceptions.ProtocolViolationError(
            f"string contains a NUL character at position {value.index(chr(0))}, which the "
            f"PostgreSQL protocol cannot carry: {shown!r}"
        )
    return data + b"\x00"


def _message(tag: bytes, body: bytes) -> bytes:
    return _header.pack(tag, len(body) + 4) + body


def startup_message(params: dict[str, str]) -> bytes:
    """StartupMessage for protocol 3.0 with the given parameters (user, database, GUCs)."""
    body = bytearray(_int32.pack(PROTOCOL_VERSION))
    for key, value in params.items():
        body += _cstr(key)
        body += _cstr(value)
    body += b"\x00"
    return _int32.pack(len(body) + 4) + bytes(body)


def ssl_request() -> bytes:
    return _int32_pair.pack(8, SSL_REQUEST_CODE)


def cancel_request(process_id: int, secret_key: int) -> bytes:
    """CancelRequest, sent on a fresh connection to the server."""
    return _int32.pack(16) + _int32_triple.pack(CANCEL_REQUEST_CODE, process_id, secret_key)


def password_message(password: bytes) -> bytes:
    return _message(b"p", password + b"\x00")


def sasl_initial_response(mechanism: str, data: bytes) -> bytes:
    return _message(b"p", _cstr(mechanism) + _int32.pack(len(data)) + data)


def sasl_response(data: bytes) -> bytes:
    return _message(b"p", data)


def query_message(sql: str) -> bytes:
    return _message(b"Q", _cstr(sql))


def parse_message(name: str, sql: str, param_oids: Sequence[int] = ()) -> bytes:
    body = _cstr(name) + _cstr(sql) + _int16.pack(len(param_oids))
    if param_oids:
        body += struct.pack(f"!{len(param_oids)}I", *param_oids)
    return _message(b"P", body)


def describe_statement(name: str) -> bytes:
    return _message(b"D", b"S" + _cstr(name))


def describe_portal(name: str) -> bytes:
    return _message(b"D", b"P" + _cstr(name))


def bind_message(
    portal: str,
    statement: str,
    param_formats: Sequence[int],
    params: Sequence[bytes | None],
    result_formats: Sequence[int],
) -> bytes:
    """Bind message. ``params`` are encoded values (``None`` is SQL NULL)."""
    parts = [_cstr(portal), _cstr(statement)]
    parts.append(_format_codes(param_formats))
    parts.append(_int16.pack(len(params)))
    for value in params:
        if value is None:
            parts.append(b"\xff\xff\xff\xff")
        else:
            parts.append(_int32.pack(len(value)))
            parts.append(value)
    parts.append(_format_codes(result_formats))
    return _message(b"B", b"".join(parts))


def bind_head(portal: str, statement: str, param_formats: Sequence[int], nparams: int) -> bytes:
    """The Bind body before the parameter values (for :func:`bind_execute_batch`)."""
    return _cstr(portal) + _cstr(statement) + _format_codes(param_formats) + _int16.pack(nparams)


def bind_result_formats(result_formats: Sequence[int]) -> bytes:
    """The Bind body after the parameter values (for :func:`bind_execute_batch`)."""
    return _format_codes(result_formats)


_NULL = b"\xff\xff\xff\xff"


def bind_execute_batch(
    head: bytes,
    encoders: Sequence[Callable[[Any], bytes]],
    rows: Sequence[Sequence[Any]],
    tail: bytes,
    execute: bytes,
) -> bytes:
    """A Bind message followed by ``execute`` for every argument set in ``rows``, concatenated.

    ``head`` is :func:`bind_head`, ``tail`` :func:`bind_result_formats`,
    ``execute`` a complete Execute message. Every row must be a list or a
    tuple of exactly ``len(encoders)`` values (``None`` is SQL NULL), else
    TypeError or ValueError; an encoder's exception propagates unchanged.
    The errors name nothing: callers re-encode on a slow path to describe them.
    """
    count = len(encoders)
    pack = _int32.pack
    parts: list[bytes] = []
    for row in rows:
        if not isinstance(row, (list, tuple)):
            raise TypeError(f"expected a list or tuple of arguments, got {type(row).__name__}")
        if len(row) != count:
            raise ValueError(f"expected {count} arguments, got {len(row)}")
        body = [head]
        for encode, value in zip(encoders, row, strict=True):
            if value is None:
                body.append(_NULL)
            else:
                data = encode(value)
                body.append(pack(len(data)))
                body.append(data)
        body.append(tail)
        parts.append(_message(b"B", b"".join(body)))
        parts.append(execute)
    return b"".join(parts)


class RowEncodeError(Exception):
    """:func:`encode_copy_rows` could not encode ``value``.

    ``row`` counts the records taken in that call before the failing one;
    ``column`` is the failing column's index, or -1 for a record of the wrong
    length. The encoder's exception is ``__cause__``.
    """

    def __init__(self, row: int, column: int, value: Any) -> None:
        super().__init__(row, column)
        self.row = row
        self.column = column
        self.value = value


def encode_copy_rows(
    encoders: Sequence[Callable[[Any], bytes]],
    records: Iterator[Sequence[Any]],
    out: bytearray,
    limit: int,
) -> tuple[bool, int]:
    """Append binary COPY tuples for records taken from ``records`` to ``out``.

    Stops once ``out`` holds ``limit`` bytes or more (``0``: no limit).
    Returns (whether ``records`` is exhausted, records appended). A record of
    the wrong length or a value an encoder refuses raises
    :class:`RowEncodeError`; ``out`` then holds the complete records before it.
    """
    ncols = len(encoders)
    field_count = _int16.pack(ncols)
    pack = _int32.pack
    count = 0
    for record in records:
        if len(record) != ncols:
            err = RowEncodeError(count, -1, record)
            err.__cause__ = ValueError(f"expected {ncols} values, got {len(record)}")
            raise err
        start = len(out)
        out += field_count
        for i, value in enumerate(record):
            if value is None:
                out += _NULL
                continue
            try:
                data = encoders[i](value)
            except Exception as exc:
                del out[start:]
                raise RowEncodeError(count, i, value) from exc
            out += pack(len(data))
            out += data
        count += 1
        if limit and len(out) >= limit:
            return False, count
    return True, count


def _format_codes(formats: Sequence[int]) -> bytes:
    n = len(formats)
    if n == 0:
        return b"\x00\x00"
    first = formats[0]
    if all(f == first for f in formats):
        # One code applies to every column.
        return b"\x00\x01" + _int16.pack(first)
    return _int16.pack(n) + struct.pack(f"!{n}h", *formats)


def execute_message(portal: str, max_rows: int = 0) -> bytes:
    return _message(b"E", _cstr(portal) + _int32.pack(max_rows))


def close_statement(name: str) -> bytes:
    return _message(b"C", b"S" + _cstr(name))


def close_portal(name: str) -> bytes:
    return _message(b"C", b"P" + _cstr(name))


def sync_message() -> bytes:
    return SYNC


def flush_message() -> bytes:
    return FLUSH


def terminate_message() -> bytes:
    return TERMINATE


def copy_data_message(data: bytes) -> bytes:
    return _header.pack(b"d", len(data) + 4) + data


def copy_done_message() -> bytes:
    return COPY_DONE


#: Longest CopyFail reason sent, in bytes: the server refuses a CopyFail message longer
#: than PQ_SMALL_MESSAGE_LIMIT (10000 bytes) and ends the session.
COPY_FAIL_REASON_LIMIT = 1000


def copy_fail_message(reason: str) -> bytes:
    """CopyFail carrying ``reason`` (NULs dropped, cut to COPY_FAIL_REASON_LIMIT bytes)."""
    data = reason.replace("\x00", "").encode("utf-8")
    if len(data) > COPY_FAIL_REASON_LIMIT:
        cut = data[: COPY_FAIL_REASON_LIMIT - 3].decode("utf-8", "ignore")
        data = cut.encode("utf-8") + b"..."
    return _message(b"f", data + b"\x00")


# ---------------------------------------------------------------- backend parsing


def parse_error_fields(payload: bytes) -> dict[str, str]:
    """Fields of an ErrorResponse/NoticeResponse body, keyed by their one-letter code."""
    fields: dict[str, str] = {}
    pos = 0
    end = len(payload)
    while pos < end:
        code = payload[pos]
        if code == 0:
            break
        nul = payload.find(b"\x00", pos + 1)
        if nul < 0:
            raise ProtocolError("malformed error/notice message: unterminated field")
        fields[chr(code)] = payload[pos + 1 : nul].decode("utf-8", "replace")
        pos = nul + 1
    return fields


def parse_row_description(payload: bytes) -> list[FieldDescription]:
    (count,) = _int16.unpack_from(payload, 0)
    pos = 2
    fields = []
    for _ in range(count):
        nul = payload.find(b"\x00", pos)
        if nul < 0:
            raise ProtocolError("malformed RowDescription: unterminated column name")
        name = payload[pos:nul].decode("utf-8")
        pos = nul + 1
        table_oid, column_number, type_oid, type_size, type_modifier, fmt = (
            _field_tail.unpack_from(payload, pos)
        )
        pos += _field_tail.size
        fields.append(
            FieldDescription(
                name, table_oid, column_number, type_oid, type_size, type_modifier, fmt
            )
        )
    return fields


_field_tail = struct.Struct("!IhIhih")


def parse_parameter_description(payload: bytes) -> tuple[int, ...]:
    # The count is unsigned: a statement may have up to 65535 parameters.
    (count,) = _uint16.unpack_from(payload, 0)
    return struct.unpack_from(f"!{count}I", payload, 2)


def parse_cstring_pair(payload: bytes) -> tuple[str, str]:
    parts = payload.split(b"\x00")
    if len(parts) < 3:
        raise ProtocolError("malformed ParameterStatus message")
    return parts[0].decode("utf-8"), parts[1].decode("utf-8")
