"""Binary codecs for system types: ``tid``, ``pg_lsn``, snapshots and ``void``.

``tid`` is ``(block, offset)``; ``pg_lsn`` an ``int``; ``txid_snapshot`` and
``pg_snapshot`` are ``(xmin, xmax, (xip, ...))``; ``void`` decodes to ``None``
(and encodes anything as the empty payload).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

__all__ = [
    "tid_encode",
    "tid_decode",
    "lsn_encode",
    "lsn_decode",
    "snapshot_encode",
    "snapshot_decode",
    "void_encode",
    "void_decode",
]

_tid = struct.Struct("!IH")
_uint8 = struct.Struct("!Q")
_snap_head = struct.Struct("!iQQ")


def _sequence(value: Any, size: int, what: str) -> Sequence[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"expected a {what} tuple, got {type(value).__name__}")
    if len(value) != size:
        raise ValueError(f"a {what} tuple has {size} items, got {len(value)}")
    return value


def tid_encode(value: Any) -> bytes:
    block, offset = _sequence(value, 2, "(block, offset)")
    if not 0 <= block <= 0xFFFFFFFF:
        raise OverflowError(f"tuple id block {block} out of range 0..4294967295")
    if not 0 <= offset <= 0xFFFF:
        raise OverflowError(f"tuple id offset {offset} out of range 0..65535")
    return _tid.pack(block, offset)


def tid_decode(data: bytes) -> tuple[int, int]:
    block, offset = _tid.unpack(data)
    return (block, offset)


def lsn_encode(value: Any) -> bytes:
    if not isinstance(value, int):
        raise TypeError(f"expected int, got {type(value).__name__}")
    return _uint8.pack(value)


def lsn_decode(data: bytes) -> int:
    value: int = _uint8.unpack(data)[0]
    return value


def snapshot_encode(value: Any) -> bytes:
    xmin, xmax, xip = _sequence(value, 3, "(xmin, xmax, (xip, ...))")
    xips = tuple(xip)
    return _snap_head.pack(len(xips), xmin, xmax) + b"".join(_uint8.pack(x) for x in xips)


def snapshot_decode(data: bytes) -> tuple[int, int, tuple[int, ...]]:
    count, xmin, xmax = _snap_head.unpack_from(data)
    xip = tuple(_uint8.unpack_from(data, 20 + 8 * i)[0] for i in range(count))
    return (xmin, xmax, xip)


def void_encode(value: Any) -> bytes:
    return b""


def void_decode(data: bytes) -> None:
    return None
