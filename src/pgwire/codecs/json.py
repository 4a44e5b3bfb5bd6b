"""Binary codecs for ``json``, ``jsonb`` and ``jsonpath``: ``str`` in and out.

As in asyncpg, values are JSON *text*; serialising Python objects is the
job of a user codec (``set_type_codec(..., encoder=json.dumps, ...)``).
``jsonb`` and ``jsonpath`` payloads carry a leading format-version byte (1).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "json_encode",
    "json_decode",
    "jsonb_encode",
    "jsonb_decode",
    "jsonpath_encode",
    "jsonpath_decode",
]

_VERSION = b"\x01"


def json_encode(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"expected str, got {type(value).__name__}")


def json_decode(data: bytes) -> str:
    return data.decode("utf-8")


def jsonb_encode(value: Any) -> bytes:
    return _VERSION + json_encode(value)


def jsonb_decode(data: bytes) -> str:
    if data[:1] != _VERSION:
        raise ValueError(f"unsupported jsonb format version {data[:1]!r}")
    return data[1:].decode("utf-8")


jsonpath_encode = jsonb_encode


def jsonpath_decode(data: bytes) -> str:
    if data[:1] != _VERSION:
        raise ValueError(f"unsupported jsonpath format version {data[:1]!r}")
    return data[1:].decode("utf-8")
