"""The DataRow -> Record loop (pure-Python reference; a compiled twin has the same name)."""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

from ..record import Record, RecordDescriptor, make_record

__all__ = ["consume_results", "decode_row"]

_int16_from = struct.Struct("!h").unpack_from
_int32_from = struct.Struct("!i").unpack_from


def decode_row(
    data: bytes,
    decoders: Sequence[Callable[[bytes], Any]],
    desc: RecordDescriptor,
    record_class: type[Record],
) -> Record:
    """Decode one DataRow body with one decoder per column into a ``record_class``.

    ``None`` (SQL NULL) is produced without calling the decoder. Raises
    ``ValueError`` when the column count disagrees with ``decoders``.
    """
    (count,) = _int16_from(data, 0)
    if count != len(decoders):
        raise ValueError(f"DataRow has {count} columns, expected {len(decoders)}")
    values: list[Any] = []
    append = values.append
    pos = 2
    for decode in decoders:
        (size,) = _int32_from(data, pos)
        pos += 4
        if size < 0:
            append(None)
        else:
            end = pos + size
            append(decode(data[pos:end]))
            pos = end
    return make_record(record_class, desc, tuple(values))


def consume_results(buf: bytearray, pos: int, end: int, op: Any) -> int:
    """Hand the run of complete result messages in ``buf[pos:end]`` to ``op``.

    Result messages are DataRow (``op.on_data_row(payload)``), BindComplete
    (``op.on_bind_complete()``) and CommandComplete
    (``op.on_command_complete(tag)``). ``op.on_data_row`` must be
    :meth:`pgwire.protocol.core.ExecuteOperation.on_data_row` or behave like
    it (a compiled twin may decode straight into ``op.rows``). Stops at the
    first other message, an incomplete one or one with an invalid length
    (the caller's framing loop handles those), and returns the position
    after the last message consumed.
    """
    end = min(end, len(buf))
    while end - pos >= 5:
        tag = buf[pos]
        if tag != 0x44 and tag != 0x32 and tag != 0x43:
            break
        (length,) = _int32_from(buf, pos + 1)
        msg_end = pos + 1 + length
        if length < 4 or msg_end > end:
            break
        if tag == 0x44:
            op.on_data_row(bytes(buf[pos + 5 : msg_end]))
        elif tag == 0x32:
            op.on_bind_complete()
        else:
            op.on_command_complete(buf[pos + 5 : msg_end - 1].decode("utf-8"))
        pos = msg_end
    return pos
