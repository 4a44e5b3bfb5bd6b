"""The DataRow -> Record loop (pure-Python reference; a compiled twin has the same name)."""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

from ..record import Record, RecordDescriptor, make_record

__all__ = ["decode_row"]

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
