"""Binary codecs for the geometric types, mapped to :mod:`pgwire.types` values.

Every coordinate is a float8. ``point`` is (x, y); ``line`` the coefficients
(A, B, C); ``lseg`` and ``box`` two points (a box's upper-right corner comes
first); ``circle`` a centre and a radius; ``path`` a closed flag, a count and
points; ``polygon`` a count and points. Encoders accept the value types or
plain sequences of the same shape; a ``path`` given as a ``tuple`` is closed
and as a ``list`` is open, as in asyncpg.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from ..types import Box, Circle, Line, LineSegment, Path, Point, Polygon

__all__ = [
    "point_encode",
    "point_decode",
    "line_encode",
    "line_decode",
    "lseg_encode",
    "lseg_decode",
    "box_encode",
    "box_decode",
    "path_encode",
    "path_decode",
    "polygon_encode",
    "polygon_decode",
    "circle_encode",
    "circle_decode",
]

_f2 = struct.Struct("!dd")
_f3 = struct.Struct("!ddd")
_f4 = struct.Struct("!dddd")
_int4 = struct.Struct("!i")
_path_head = struct.Struct("!bi")


def _seq(value: Any, size: int, what: str) -> Sequence[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"expected {what} or a sequence of {size}, got {type(value).__name__}")
    if len(value) != size:
        raise ValueError(f"{what} needs {size} items, got {len(value)}")
    return value


def _xy(value: Any) -> tuple[float, float]:
    x, y = _seq(value, 2, "Point")
    return float(x), float(y)


def point_encode(value: Any) -> bytes:
    return _f2.pack(*_xy(value))


def point_decode(data: bytes) -> Point:
    return Point(*_f2.unpack(data))


def line_encode(value: Any) -> bytes:
    a, b, c = _seq(value, 3, "Line")
    return _f3.pack(float(a), float(b), float(c))


def line_decode(data: bytes) -> Line:
    return Line(*_f3.unpack(data))


def _two_points(value: Any, what: str) -> bytes:
    p1, p2 = _seq(value, 2, what)
    return _f4.pack(*_xy(p1), *_xy(p2))


def lseg_encode(value: Any) -> bytes:
    return _two_points(value, "LineSegment")


def lseg_decode(data: bytes) -> LineSegment:
    x1, y1, x2, y2 = _f4.unpack(data)
    return LineSegment((x1, y1), (x2, y2))


def box_encode(value: Any) -> bytes:
    return _two_points(value, "Box")


def box_decode(data: bytes) -> Box:
    x1, y1, x2, y2 = _f4.unpack(data)
    return Box((x1, y1), (x2, y2))


def _points(points: Any) -> bytes:
    return b"".join(_f2.pack(*_xy(p)) for p in points)


def _read_points(data: bytes, pos: int, count: int) -> list[tuple[float, float]]:
    return [_f2.unpack_from(data, pos + 16 * i) for i in range(count)]


def path_encode(value: Any) -> bytes:
    if isinstance(value, Path):
        closed = value.is_closed
    elif isinstance(value, tuple):
        closed = True
    elif isinstance(value, list):
        closed = False
    else:
        raise TypeError(f"expected Path, tuple or list, got {type(value).__name__}")
    return _path_head.pack(1 if closed else 0, len(value)) + _points(value)


def path_decode(data: bytes) -> Path:
    closed, count = _path_head.unpack_from(data)
    return Path(*_read_points(data, 5, count), is_closed=bool(closed))


def polygon_encode(value: Any) -> bytes:
    if isinstance(value, (str, bytes)) or not isinstance(value, (Path, Sequence)):
        raise TypeError(f"expected Polygon or a sequence of points, got {type(value).__name__}")
    return _int4.pack(len(value)) + _points(value)


def polygon_decode(data: bytes) -> Polygon:
    (count,) = _int4.unpack_from(data)
    return Polygon(*_read_points(data, 4, count))


def circle_encode(value: Any) -> bytes:
    center, radius = _seq(value, 2, "Circle")
    return _f3.pack(*_xy(center), float(radius))


def circle_decode(data: bytes) -> Circle:
    x, y, r = _f3.unpack(data)
    return Circle((x, y), r)  # type: ignore[arg-type]  # asyncpg's centre is a plain tuple
