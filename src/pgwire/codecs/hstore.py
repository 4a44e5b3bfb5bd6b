"""Binary codec for the ``hstore`` extension type (``codec_name='pg_contrib.hstore'``).

Wire form: int32 pair count, then per pair int32 key length + key and int32
value length (-1 for NULL) + value. Decodes to ``dict[str, str | None]``;
the encoder takes a ``Mapping`` or an iterable of ``(key, value)`` pairs.
Keys must not be ``None``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["hstore_encode", "hstore_decode"]

_int4 = struct.Struct("!i")
_NULL = _int4.pack(-1)


def hstore_encode(value: Any) -> bytes:
    if isinstance(value, Mapping):
        items: Iterable[Any] = value.items()
    elif isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        items = value
    else:
        raise TypeError(f"expected a Mapping, got {type(value).__name__}")
    pack = _int4.pack
    parts = [b""]
    count = 0
    for key, item in items:
        if key is None:
            raise ValueError("null value not allowed in hstore key")
        data = str(key).encode("utf-8")
        parts += (pack(len(data)), data)
        if item is None:
            parts.append(_NULL)
        else:
            data = str(item).encode("utf-8")
            parts += (pack(len(data)), data)
        count += 1
    parts[0] = pack(count)
    return b"".join(parts)


def hstore_decode(data: bytes) -> dict[str, str | None]:
    unpack = _int4.unpack_from
    (count,) = unpack(data, 0)
    pos = 4
    out: dict[str, str | None] = {}
    for _ in range(count):
        (size,) = unpack(data, pos)
        key = data[pos + 4 : pos + 4 + size].decode("utf-8")
        pos += 4 + size
        (size,) = unpack(data, pos)
        pos += 4
        if size < 0:
            out[key] = None
        else:
            out[key] = data[pos : pos + size].decode("utf-8")
            pos += size
    return out
