"""COPY FROM STDIN and COPY TO STDOUT as sans-I/O operations.

Both operations start with a simple-protocol Query carrying the COPY
statement (COPY takes no bind parameters), so the server answers with one
ReadyForQuery whatever happens, and an error ends the COPY on its own.

Copy in
    :class:`CopyInOperation` becomes ``in_copy`` at CopyInResponse; from then on
    the I/O layer sends CopyData messages (:func:`copy_data`) and ends with
    CopyDone (:meth:`CopyInOperation.end`) or CopyFail
    (:meth:`CopyInOperation.abort`). An abort requested before the
    CopyInResponse arrived is carried out by the operation the moment it does.

Copy out
    :class:`CopyOutOperation` queues every CopyData payload in ``chunks`` and
    calls ``on_chunk`` so the I/O layer can wake its consumer or apply
    back-pressure. With ``discard`` set the payloads are dropped instead (the
    consumer failed and only the end of the COPY is awaited).

Binary COPY encoding lives here too (:class:`BinaryCopyEncoder`): it knows the
file format, not the codecs, which it is handed.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

from .._impl import encode_copy_rows
from . import messages
from .core import Operation, ProtocolCore
from .messages import FieldDescription

__all__ = [
    "BINARY_HEADER",
    "BINARY_TRAILER",
    "BinaryCopyEncoder",
    "RecordEncodeError",
    "CopyInOperation",
    "CopyOutOperation",
    "copy_data",
]

#: Signature, flags (no OIDs) and header extension length of the binary COPY format.
BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
#: The field count -1 that ends a binary COPY stream.
BINARY_TRAILER = b"\xff\xff"

_int32 = struct.Struct("!i").pack
_copy_data_header = struct.Struct("!ci").pack
_NULL = b"\xff\xff\xff\xff"


def copy_data(data: bytes | bytearray | memoryview) -> bytes:
    """One CopyData message carrying ``data``."""
    return _copy_data_header(b"d", len(data) + 4) + bytes(data)


class CopyInOperation(Operation):
    """``COPY ... FROM STDIN``: the client streams the data after CopyInResponse.

    ``on_start`` (if set) is called once the server is ready for data.
    ``status`` is the CommandComplete tag (``'COPY 3'``).
    """

    __slots__ = ("sql", "in_copy", "ended", "abort_reason", "on_start", "_core")

    def __init__(self, sql: str) -> None:
        super().__init__()
        self.sql = sql
        self.in_copy = False
        self.ended = False
        self.abort_reason: str | None = None
        self.on_start: Callable[[], None] | None = None
        self._core: ProtocolCore | None = None

    def messages(self) -> bytes:
        return messages.query_message(self.sql)

    @property
    def accepting_data(self) -> bool:
        """True while CopyData may be sent: copy mode entered, not ended, no error."""
        return self.in_copy and not self.ended and self.error is None

    def on_copy_in(self, payload: bytes, core: ProtocolCore) -> None:
        self.in_copy = True
        self._core = core
        if self.abort_reason is not None:
            self.abort(self.abort_reason)
            return
        if self.on_start is not None:
            self.on_start()

    def end(self) -> None:
        """Queue CopyDone: the data is complete."""
        if self.in_copy and not self.ended and self._core is not None:
            self.ended = True
            self._core.send_raw(messages.COPY_DONE)

    def abort(self, reason: str) -> None:
        """Queue CopyFail now, or as soon as the server enters copy mode.

        The server then rolls the COPY back and reports ``reason`` in its error.
        """
        self.abort_reason = reason
        if self.in_copy and not self.ended and self._core is not None:
            self.ended = True
            self._core.send_raw(messages.copy_fail_message(reason))

    def on_command_complete(self, tag: str) -> None:
        self.status = tag

    def on_row_description(self, fields: list[FieldDescription]) -> None:
        pass

    def on_data_row(self, payload: bytes) -> None:
        pass

    def on_empty_query(self) -> None:
        pass

    # The statement turned out to be a COPY TO: drain it, keep nothing.
    def on_copy_out(self, payload: bytes) -> None:
        pass

    def on_copy_data(self, payload: bytes) -> None:
        pass

    def on_copy_done(self) -> None:
        pass

    def finish(self) -> None:
        self.ended = True
        super().finish()


class CopyOutOperation(Operation):
    """``COPY ... TO STDOUT``: the server streams CopyData until CopyDone.

    ``chunks`` holds payloads not yet consumed and ``buffered`` their total
    size. ``on_chunk`` (if set) is called after a payload is queued while
    ``buffered`` exceeds ``notify_above`` (so the I/O layer decides how often
    it hears of data), and once more when the operation finishes.
    """

    __slots__ = ("sql", "chunks", "buffered", "discard", "on_chunk", "notify_above", "copy_done")

    def __init__(self, sql: str) -> None:
        super().__init__()
        self.sql = sql
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.discard = False
        self.on_chunk: Callable[[], None] | None = None
        self.notify_above = 0
        self.copy_done = False

    def messages(self) -> bytes:
        return messages.query_message(self.sql)

    def take(self) -> list[bytes]:
        """Every queued payload, oldest first; the queue is empty afterwards."""
        chunks = list(self.chunks)
        self.chunks.clear()
        self.buffered = 0
        return chunks

    def on_copy_out(self, payload: bytes) -> None:
        pass

    def on_copy_data(self, payload: bytes) -> None:
        if self.discard:
            return
        self.chunks.append(payload)
        self.buffered += len(payload)
        if self.buffered > self.notify_above and self.on_chunk is not None:
            self.on_chunk()

    def on_copy_done(self) -> None:
        self.copy_done = True

    def on_command_complete(self, tag: str) -> None:
        self.status = tag

    def on_row_description(self, fields: list[FieldDescription]) -> None:
        pass

    def on_data_row(self, payload: bytes) -> None:
        pass

    def on_empty_query(self) -> None:
        pass

    # The statement turned out to be a COPY FROM: refuse to feed it.
    def on_copy_in(self, payload: bytes, core: ProtocolCore) -> None:
        core.send_raw(messages.copy_fail_message("expected COPY TO, got COPY FROM"))

    def finish(self) -> None:
        super().finish()
        if self.on_chunk is not None:
            self.on_chunk()


class RecordEncodeError(Exception):
    """A value of record ``row`` (0-based) could not be encoded for column ``column``."""

    def __init__(self, row: int, column: str, typename: str, value: Any, cause: Exception):
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(
            f"invalid input in record {row} for column {column!r} "
            f"(PostgreSQL type {typename}): {shown} ({cause})"
        )
        self.row = row
        self.column = column


class BinaryCopyEncoder:
    """Encodes records into binary COPY data with one encoder per column.

    :meth:`encode_rows` appends rows to a buffer and returns when it holds at
    least ``limit`` bytes or the records ran out; callers send the buffer as
    CopyData between calls, so memory stays bounded. ``rows`` counts the
    records encoded so far.
    """

    __slots__ = ("encoders", "columns", "typenames", "rows")

    def __init__(
        self,
        encoders: Sequence[Callable[[Any], bytes]],
        columns: Sequence[str],
        typenames: Sequence[str],
    ) -> None:
        self.encoders = list(encoders)
        self.columns = list(columns)
        self.typenames = list(typenames)
        self.rows = 0

    def encode_rows(
        self, records: Iterator[Sequence[Any]], out: bytearray, limit: int = 0
    ) -> bool:
        """Append records taken from ``records`` to ``out``.

        Stops once ``out`` holds ``limit`` bytes or more (``0``: no limit) and
        returns True when ``records`` is exhausted. Raises
        :class:`RecordEncodeError` naming the record and the column of a value
        the codec refused, or of a record with the wrong length.
        """
        try:
            finished, count = encode_copy_rows(self.encoders, records, out, limit)
        except messages.RowEncodeError as exc:
            cause = cast(Exception, exc.__cause__)
            row = self.rows + exc.row
            if exc.column < 0:
                raise RecordEncodeError(row, "*", "record", exc.value, cause) from cause
            column, typename = self.columns[exc.column], self.typenames[exc.column]
            raise RecordEncodeError(row, column, typename, exc.value, cause) from cause
        self.rows += count
        return finished
