"""Wire-level tuple forms for ``set_type_codec(..., format='tuple')``.

Each entry maps a type oid to an encoder taking the tuple and a decoder
giving it, in asyncpg's layouts (all relative to 2000-01-01, infinities as
the extreme integers):

* ``date``: ``(days,)``; ``timestamp``/``timestamptz``: ``(microseconds,)``;
* ``time``: ``(microseconds,)``; ``timetz``: ``(microseconds, offset)``
  where offset is the wire's seconds *west* of UTC;
* ``interval``: ``(months, days, microseconds)``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from . import oids

__all__ = ["TUPLE_CODECS"]

_Pair = tuple[Callable[[Any], bytes], Callable[[bytes], tuple[int, ...]]]


def _tuple_pair(fmt: str, label: str) -> _Pair:
    packer = struct.Struct(fmt)
    size = len(fmt) - 1

    def encode(value: Any) -> bytes:
        items = tuple(value)
        if len(items) != size:
            raise ValueError(
                f"{label} tuple encoder: expecting {size} element"
                f"{'s' if size != 1 else ''} in tuple, got {len(items)}"
            )
        return packer.pack(*items)

    def decode(data: bytes) -> tuple[int, ...]:
        return tuple(packer.unpack(data))

    return encode, decode


#: oid -> (encode, decode) for every type with a tuple exchange format.
TUPLE_CODECS: dict[int, _Pair] = {
    oids.DATE: _tuple_pair("!i", "date"),
    oids.TIMESTAMP: _tuple_pair("!q", "timestamp"),
    oids.TIMESTAMPTZ: _tuple_pair("!q", "timestamptz"),
    oids.TIME: _tuple_pair("!q", "time"),
    oids.TIMETZ: _tuple_pair("!qi", "timetz"),
}

_interval = struct.Struct("!qii")


def _interval_encode(value: Any) -> bytes:
    items = tuple(value)
    if len(items) != 3:
        raise ValueError(
            f"interval tuple encoder: expecting 3 elements in tuple, got {len(items)}"
        )
    months, days, micros = items
    return _interval.pack(micros, days, months)


def _interval_decode(data: bytes) -> tuple[int, ...]:
    micros, days, months = _interval.unpack(data)
    return (months, days, micros)


TUPLE_CODECS[oids.INTERVAL] = (_interval_encode, _interval_decode)
