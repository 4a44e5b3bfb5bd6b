"""Binary codec for ``bit`` and ``varbit``: :class:`pgwire.types.BitString`.

Wire form: int32 bit count, then the bits packed most significant first.
The encoder takes a ``BitString`` or a bytes-like object (all its bits).
"""

from __future__ import annotations

import struct
from typing import Any

from ..types import BitString

__all__ = ["bits_encode", "bits_decode"]

_int4 = struct.Struct("!i")


def bits_encode(value: Any) -> bytes:
    if isinstance(value, BitString):
        return _int4.pack(len(value)) + value.bytes
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return _int4.pack(len(data) * 8) + data
    raise TypeError(f"expected BitString or bytes, got {type(value).__name__}")


def bits_decode(data: bytes) -> BitString:
    (bitlength,) = _int4.unpack_from(data)
    return BitString.frombytes(data[4:], bitlength)
