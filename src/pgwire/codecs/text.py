"""Binary codecs for character and byte-string types.

The binary form of text types is the string in the client encoding; the
driver always runs with ``client_encoding=UTF8``. Text encoders accept only
``str``, as asyncpg does. ``"char"`` (the one-byte internal type) is
``bytes`` both ways, like asyncpg; ``bytea`` accepts any bytes-like object.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "text_encode",
    "text_decode",
    "bytea_encode",
    "bytea_decode",
    "char_encode",
    "char_decode",
]


def text_encode(value: Any) -> bytes:
    if type(value) is str or isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"expected str, got {type(value).__name__}")


def text_decode(data: bytes) -> str:
    return data.decode("utf-8")


def bytea_encode(value: Any) -> bytes:
    if type(value) is bytes:
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"a bytes-like object is required (got type {type(value).__name__})")


def bytea_decode(data: bytes) -> bytes:
    return bytes(data)


def char_encode(value: Any) -> bytes:
    data = bytea_encode(value)
    if len(data) > 1:
        raise ValueError(f'"char" holds a single byte (got {len(data)} bytes)')
    return data


char_decode = bytea_decode
