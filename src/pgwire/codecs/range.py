"""Binary range and multirange codecs built from the subtype's codec.

Range wire form: one flag byte (empty, lower/upper inclusive, lower/upper
infinite), then each finite bound as int32 length + payload. A multirange is
int32 count, then each range as int32 length + range payload.

Ranges decode to :class:`pgwire.types.Range`, multiranges to ``list[Range]``.
The range encoder takes a ``Range`` or, as asyncpg does, a tuple or list:
``()`` is the empty range, ``(lower,)`` is ``[lower, infinity)`` and
``(lower, upper)`` is ``[lower, upper]`` (``None`` is an infinite bound); the
multirange encoder takes any sequence of those.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from ..types import Range
from ._codec import Codec

__all__ = ["make_range_codec", "make_multirange_codec"]

_EMPTY = 0x01
_LB_INC = 0x02
_UB_INC = 0x04
_LB_INF = 0x08
_UB_INF = 0x10

_int4 = struct.Struct("!i")
_EMPTY_PAYLOAD = bytes((_EMPTY,))


def _range_encoder(encode: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    pack = _int4.pack

    def encode_range(value: Any) -> bytes:
        if isinstance(value, Range):
            if value.isempty:
                return _EMPTY_PAYLOAD
            lower, upper = value.lower, value.upper
            flags = (_LB_INC if value.lower_inc else 0) | (_UB_INC if value.upper_inc else 0)
        elif isinstance(value, (tuple, list)):
            # asyncpg's sequence forms: () is empty, (lower,) is [lower, infinity),
            # (lower, upper) is [lower, upper] (both bounds inclusive); None is
            # an infinite bound.
            count = len(value)
            if count == 0:
                return _EMPTY_PAYLOAD
            if count > 2:
                raise ValueError(
                    f"expected 0, 1 or 2 elements in range (got {count}); "
                    "pass a pgwire.types.Range for other bounds"
                )
            lower = value[0]
            upper = value[1] if count == 2 else None
            flags = (_LB_INC if lower is not None else 0) | (_UB_INC if upper is not None else 0)
        else:
            raise TypeError(
                f"expected a Range or a (lower, upper) sequence, got {type(value).__name__}"
            )
        parts = [b""]
        if lower is None:
            flags |= _LB_INF
        else:
            data = encode(lower)
            parts += (pack(len(data)), data)
        if upper is None:
            flags |= _UB_INF
        else:
            data = encode(upper)
            parts += (pack(len(data)), data)
        parts[0] = bytes((flags,))
        return b"".join(parts)

    return encode_range


def _range_decoder(decode: Callable[[bytes], Any]) -> Callable[[bytes], Range[Any]]:
    unpack = _int4.unpack_from

    def decode_range(data: bytes) -> Range[Any]:
        flags = data[0]
        if flags & _EMPTY:
            return Range(empty=True)
        pos = 1
        lower = upper = None
        if not flags & _LB_INF:
            (size,) = unpack(data, pos)
            lower = decode(data[pos + 4 : pos + 4 + size])
            pos += 4 + size
        if not flags & _UB_INF:
            (size,) = unpack(data, pos)
            upper = decode(data[pos + 4 : pos + 4 + size])
        return Range(
            lower,
            upper,
            lower_inc=bool(flags & _LB_INC),
            upper_inc=bool(flags & _UB_INC),
        )

    return decode_range


def make_range_codec(oid: int, subtype: Codec, name: str, schema: str = "pg_catalog") -> Codec:
    """A binary codec for ranges of *subtype* (a binary codec) with type oid *oid*."""
    return Codec(
        oid,
        name,
        _range_encoder(subtype.encode),
        _range_decoder(subtype.decode),
        schema=schema,
        kind="range",
    )


def make_multirange_codec(
    oid: int, range_codec: Codec, name: str, schema: str = "pg_catalog"
) -> Codec:
    """A binary codec for multiranges of the range type handled by *range_codec*."""
    encode_range = range_codec.encode
    decode_range = range_codec.decode
    pack = _int4.pack
    unpack = _int4.unpack_from

    def encode(value: Any) -> bytes:
        if isinstance(value, (str, bytes, Range)) or not hasattr(value, "__iter__"):
            raise TypeError(f"expected a sequence of ranges, got {type(value).__name__}")
        parts = [b""]
        count = 0
        for item in value:
            data = encode_range(item)
            parts += (pack(len(data)), data)
            count += 1
        parts[0] = pack(count)
        return b"".join(parts)

    def decode(data: bytes) -> list[Any]:
        (count,) = unpack(data, 0)
        pos = 4
        out = []
        for _ in range(count):
            (size,) = unpack(data, pos)
            pos += 4
            out.append(decode_range(data[pos : pos + size]))
            pos += size
        return out

    return Codec(oid, name, encode, decode, schema=schema, kind="multirange")
