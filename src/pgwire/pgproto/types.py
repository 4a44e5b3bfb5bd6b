"""``asyncpg.pgproto.types``: the geometry and bit-string value types."""

from pgwire.types import (
    BitString,
    Box,
    Circle,
    Line,
    LineSegment,
    Path,
    Point,
    Polygon,
)

__all__ = ("BitString", "Box", "Circle", "Line", "LineSegment", "Path", "Point", "Polygon")
