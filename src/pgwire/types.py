"""Value types users see: the equivalents of ``asyncpg.types``.

* ``Type``, ``Attribute``, ``ServerVersion``: named tuples describing the server.
* ``Range``: a PostgreSQL range value (``int4range``, ``tstzrange``, ...).
* ``BitString``: a ``bit`` / ``varbit`` value.
* ``Point``, ``Box``, ``Line``, ``LineSegment``, ``Circle``, ``Path``,
  ``Polygon``: geometric values.

All are immutable and compare by value.  Behaviour follows asyncpg 0.32, with
two deliberate differences that only show on inputs asyncpg mishandles:
``BitString`` clears the padding bits after the last bit (as the server does,
so equal bit strings are always equal objects) and supports negative indices
for every length; ``Path`` and ``Polygon`` have a readable ``repr``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import (
    Any,
    Generic,
    Literal,
    NamedTuple,
    SupportsFloat,
    SupportsIndex,
    TypeVar,
    overload,
)

__all__ = (
    "Type",
    "Attribute",
    "Range",
    "BitString",
    "Point",
    "Path",
    "Polygon",
    "Box",
    "Line",
    "LineSegment",
    "Circle",
    "ServerVersion",
)


class Type(NamedTuple):
    """Database data type."""

    oid: int
    """OID of the type."""
    name: str
    """Type name, for example ``"int2"``."""
    kind: str
    """Type kind: ``"scalar"``, ``"array"``, ``"composite"`` or ``"range"``."""
    schema: str
    """Name of the schema that defines the type."""


class Attribute(NamedTuple):
    """Database relation attribute."""

    name: str
    """Attribute name."""
    type: Type
    """Attribute data type."""


class ServerVersion(NamedTuple):
    """PostgreSQL server version tuple.

    From PostgreSQL 10 on, ``"X.Y"`` means ``(X, 0, Y)`` so that comparisons of
    ``version[:2]`` ignore bug-fix releases.
    """

    major: int
    minor: int
    micro: int
    releaselevel: str
    serial: int


# ---------------------------------------------------------------------------
# Range

_T = TypeVar("_T")


class Range(Generic[_T]):
    """Immutable PostgreSQL range value.

    A bound of ``None`` is infinite, and an infinite bound is never inclusive.
    ``Range(empty=True)`` is the empty range: no bounds, false in a boolean
    context, a subset of every range.
    """

    __slots__ = ("_lower", "_upper", "_lower_inc", "_upper_inc", "_empty")

    _lower: _T | None
    _upper: _T | None
    _lower_inc: bool
    _upper_inc: bool
    _empty: bool

    def __init__(
        self,
        lower: _T | None = None,
        upper: _T | None = None,
        *,
        lower_inc: bool = True,
        upper_inc: bool = False,
        empty: bool = False,
    ) -> None:
        if empty:
            lower = upper = None
            lower_inc = upper_inc = False
        self._lower = lower
        self._upper = upper
        self._lower_inc = bool(lower_inc) and lower is not None
        self._upper_inc = bool(upper_inc) and upper is not None
        self._empty = bool(empty)

    @property
    def lower(self) -> _T | None:
        """The lower bound, ``None`` when infinite or empty."""
        return self._lower

    @property
    def upper(self) -> _T | None:
        """The upper bound, ``None`` when infinite or empty."""
        return self._upper

    @property
    def lower_inc(self) -> bool:
        """Whether the lower bound belongs to the range."""
        return self._lower_inc

    @property
    def upper_inc(self) -> bool:
        """Whether the upper bound belongs to the range."""
        return self._upper_inc

    @property
    def lower_inf(self) -> bool:
        """Whether the range is unbounded below (never true for the empty range)."""
        return self._lower is None and not self._empty

    @property
    def upper_inf(self) -> bool:
        """Whether the range is unbounded above (never true for the empty range)."""
        return self._upper is None and not self._empty

    @property
    def isempty(self) -> bool:
        """Whether this is the empty range."""
        return self._empty

    def issubset(self, other: Range[_T]) -> bool:
        """Whether every value of this range lies in ``other``."""
        if self._empty:
            return True
        if other._empty:
            return False
        return self._lower_within(other) and self._upper_within(other)

    def issuperset(self, other: Range[_T]) -> bool:
        """Whether every value of ``other`` lies in this range."""
        return other.issubset(self)

    def _lower_within(self, other: Range[_T]) -> bool:
        mine, theirs = self._lower, other._lower
        if theirs is None:
            return True
        if mine is None:
            return False
        if mine == theirs:
            return other._lower_inc or not self._lower_inc
        return bool(mine > theirs)  # type: ignore[operator]

    def _upper_within(self, other: Range[_T]) -> bool:
        mine, theirs = self._upper, other._upper
        if theirs is None:
            return True
        if mine is None:
            return False
        if mine == theirs:
            return other._upper_inc or not self._upper_inc
        return bool(mine < theirs)  # type: ignore[operator]

    def _key(self) -> tuple[Any, ...]:
        return (self._lower, self._upper, self._lower_inc, self._upper_inc, self._empty)

    def __bool__(self) -> bool:
        return not self._empty

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        if self._empty:
            return "<Range empty>"
        opening = "[" if self._lower_inc else "("
        closing = "]" if self._upper_inc else ")"
        lower = "" if self._lower is None else repr(self._lower)
        upper = "" if self._upper is None else repr(self._upper)
        return f"<Range {opening}{lower}, {upper}{closing}>"

    __str__ = __repr__


# ---------------------------------------------------------------------------
# BitString

_BitOrder = Literal["big", "little"]
_B = TypeVar("_B", bound="BitString")


def _reverse_bits(value: int, length: int) -> int:
    """Reverse the order of the low ``length`` bits of ``value``."""
    if length == 0:
        return 0
    return int(format(value, f"0{length}b")[::-1], 2)


class BitString:
    """Immutable PostgreSQL ``bit`` / ``varbit`` value.

    Bits are stored most significant first, packed into bytes; the bits after
    the last one in the final byte are zero.
    """

    __slots__ = ("_bytes", "_bitlength")

    _bytes: bytes
    _bitlength: int

    def __init__(self, bitstring: str | bytes | Iterable[Any] | None = None) -> None:
        """Build from a string of ``'0'``/``'1'`` (spaces ignored), or an iterable of 0/1.

        ``None`` or an empty value gives the empty bit string.
        """
        value = 0
        length = 0
        if bitstring:
            for position, char in enumerate(bitstring):
                if char == " ":
                    continue
                if char in ("0", 0):
                    bit = 0
                elif char in ("1", 1):
                    bit = 1
                else:
                    raise ValueError(f"invalid bit value at position {position}")
                value = (value << 1) | bit
                length += 1
        self._set(value, length)

    def _set(self, value: int, length: int) -> None:
        padding = -length % 8
        self._bytes = (value << padding).to_bytes((length + 7) // 8, "big")
        self._bitlength = length

    @classmethod
    def frombytes(cls: type[_B], bytes_: bytes | None = None, bitlength: int | None = None) -> _B:
        """Build from packed bytes holding ``bitlength`` bits (default: all of them).

        ``bitlength`` must lie within the last byte of ``bytes_`` (asyncpg also
        tolerates one surplus trailing byte, which is dropped); with ``bytes_``
        omitted, the bit string is ``bitlength`` zero bits.
        """
        if bytes_ is None:
            bytes_ = bytes((bitlength + 7) // 8) if bitlength is not None else b""
        else:
            bytes_ = bytes(bytes_)
        available = len(bytes_) * 8
        if bitlength is None:
            bitlength = available
        elif (
            bitlength < 0
            or bitlength > available
            or bitlength < available - 8
            or (available and not bitlength)
        ):
            raise ValueError("invalid bit length specified")
        result = cls.__new__(cls)
        value = int.from_bytes(bytes_, "big") >> (available - bitlength)
        result._set(value, bitlength)
        return result

    @property
    def bytes(self) -> bytes:
        """The bits packed into bytes, most significant bit first."""
        return self._bytes

    def _as_int(self) -> int:
        return int.from_bytes(self._bytes, "big") >> (-self._bitlength % 8)

    def as_string(self) -> str:
        """The bits as ``'0'``/``'1'`` characters, in groups of four separated by spaces."""
        if not self._bitlength:
            return ""
        digits = format(self._as_int(), f"0{self._bitlength}b")
        return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))

    def to_int(self, bitorder: _BitOrder = "big", *, signed: bool = False) -> int:
        """Interpret the bits as an integer, like :meth:`int.from_bytes`.

        With ``bitorder='big'`` (PostgreSQL's convention) the first bit is the
        most significant; with ``'little'`` it is the least significant.  With
        ``signed=True`` the bits are read in two's complement.
        """
        value = self._as_int()
        if bitorder == "little":
            value = _reverse_bits(value, self._bitlength)
        elif bitorder != "big":
            raise ValueError("bitorder must be either 'big' or 'little'")
        if signed and self._bitlength and value >> (self._bitlength - 1):
            value -= 1 << self._bitlength
        return value

    @classmethod
    def from_int(
        cls: type[_B], x: int, length: int, bitorder: _BitOrder = "big", *, signed: bool = False
    ) -> _B:
        """Represent ``x`` in ``length`` bits, like :meth:`int.to_bytes`.

        Raises ``ValueError`` for a negative length, ``OverflowError`` when
        ``x`` does not fit or is negative while ``signed`` is false.
        """
        if length < 0:
            raise ValueError("length argument must be non-negative")
        if length < x.bit_length():
            raise OverflowError("int too big to convert")
        if x < 0:
            if not signed:
                raise OverflowError("can't convert negative int to unsigned")
            x &= (1 << length) - 1
        if bitorder == "little":
            x = _reverse_bits(x, length)
        elif bitorder != "big":
            raise ValueError("bitorder must be either 'big' or 'little'")
        result = cls.__new__(cls)
        result._set(x, length)
        return result

    def __len__(self) -> int:
        return self._bitlength

    def __getitem__(self, index: SupportsIndex) -> int:
        if isinstance(index, slice):
            raise NotImplementedError("BitString does not support slices")
        i = index.__index__()
        if i < 0:
            i += self._bitlength
        if not 0 <= i < self._bitlength:
            raise IndexError("index out of range")
        return (self._bytes[i >> 3] >> (7 - (i & 7))) & 1

    def __iter__(self) -> Iterator[int]:
        for i in range(self._bitlength):
            yield (self._bytes[i >> 3] >> (7 - (i & 7))) & 1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BitString):
            return NotImplemented
        return self._bitlength == other._bitlength and self._bytes == other._bytes

    def __hash__(self) -> int:
        return hash((self._bytes, self._bitlength))

    def __repr__(self) -> str:
        return f"<BitString {self.as_string()}>"

    __str__ = __repr__


# ---------------------------------------------------------------------------
# Geometry

_Coordinate = SupportsFloat | SupportsIndex | str | bytes | bytearray


def _qualified_repr(value: tuple[Any, ...]) -> str:
    cls = type(value)
    return f"{cls.__module__}.{cls.__name__}({tuple.__repr__(value)})"


class Point(tuple[float, float]):
    """PostgreSQL ``point``: a pair of floats ``(x, y)``."""

    __slots__ = ()

    def __new__(cls, x: _Coordinate, y: _Coordinate) -> Point:
        return tuple.__new__(cls, (float(x), float(y)))

    @property
    def x(self) -> float:
        return self[0]

    @property
    def y(self) -> float:
        return self[1]

    def __repr__(self) -> str:
        return _qualified_repr(self)


class Box(tuple[Point, Point]):
    """PostgreSQL ``box``: two opposite corners ``(high, low)``.

    The corners are kept as given (converted to :class:`Point`); the server
    reorders them into upper-right and lower-left on input.
    """

    __slots__ = ()

    def __new__(cls, high: Sequence[_Coordinate], low: Sequence[_Coordinate]) -> Box:
        return tuple.__new__(cls, (Point(*high), Point(*low)))

    @property
    def high(self) -> Point:
        return self[0]

    @property
    def low(self) -> Point:
        return self[1]

    def __repr__(self) -> str:
        return _qualified_repr(self)


class Line(tuple[float, float, float]):
    """PostgreSQL ``line``: the coefficients of ``A*x + B*y + C = 0``."""

    __slots__ = ()

    def __new__(cls, A: float, B: float, C: float) -> Line:  # noqa: N803 (PostgreSQL's names)
        return tuple.__new__(cls, (A, B, C))

    @property
    def A(self) -> float:  # noqa: N802
        return self[0]

    @property
    def B(self) -> float:  # noqa: N802
        return self[1]

    @property
    def C(self) -> float:  # noqa: N802
        return self[2]


class LineSegment(tuple[Point, Point]):
    """PostgreSQL ``lseg``: a segment between two points."""

    __slots__ = ()

    def __new__(cls, p1: Sequence[_Coordinate], p2: Sequence[_Coordinate]) -> LineSegment:
        return tuple.__new__(cls, (Point(*p1), Point(*p2)))

    @property
    def p1(self) -> Point:
        return self[0]

    @property
    def p2(self) -> Point:
        return self[1]

    def __repr__(self) -> str:
        return _qualified_repr(self)


class Circle(tuple[Point, float]):
    """PostgreSQL ``circle``: ``(center, radius)``, both kept as given."""

    __slots__ = ()

    def __new__(cls, center: Point, radius: float) -> Circle:
        return tuple.__new__(cls, (center, radius))

    @property
    def center(self) -> Point:
        return self[0]

    @property
    def radius(self) -> float:
        return self[1]


class Path:
    """PostgreSQL ``path``: a sequence of points, open unless ``is_closed``."""

    __slots__ = ("points", "_is_closed")

    points: tuple[Point, ...]

    def __init__(self, *points: Sequence[_Coordinate], is_closed: bool = False) -> None:
        self.points = tuple(Point(*p) for p in points)
        self._is_closed = is_closed

    @property
    def is_closed(self) -> bool:
        return self._is_closed

    def __len__(self) -> int:
        return len(self.points)

    def __iter__(self) -> Iterator[Point]:
        return iter(self.points)

    @overload
    def __getitem__(self, index: int) -> Point: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Point, ...]: ...

    def __getitem__(self, index: int | slice) -> Point | tuple[Point, ...]:
        return self.points[index]

    def __contains__(self, point: object) -> bool:
        return point in self.points

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Path):
            return NotImplemented
        return self.points == other.points and self._is_closed == other._is_closed

    def __hash__(self) -> int:
        return hash((self.points, self._is_closed))

    def __repr__(self) -> str:
        cls = type(self)
        points = ", ".join(repr(p) for p in self.points)
        return f"{cls.__module__}.{cls.__name__}({points}, is_closed={self._is_closed})"


class Polygon(Path):
    """PostgreSQL ``polygon``: a closed path."""

    __slots__ = ()

    def __init__(self, *points: Sequence[_Coordinate]) -> None:
        super().__init__(*points, is_closed=True)

    def __repr__(self) -> str:
        cls = type(self)
        points = ", ".join(repr(p) for p in self.points)
        return f"{cls.__module__}.{cls.__name__}({points})"
