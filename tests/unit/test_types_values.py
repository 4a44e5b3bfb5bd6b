"""Value types of ``pgwire.types`` and server version parsing.

Parity tests build the same values with asyncpg (when installed) and compare
behaviour, so that ``import pgwire as asyncpg`` changes nothing for users.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from pgwire import types
from pgwire.serverversion import split_server_version_string
from pgwire.types import (
    Attribute,
    BitString,
    Box,
    Circle,
    Line,
    LineSegment,
    Path,
    Point,
    Polygon,
    Range,
    ServerVersion,
    Type,
)


def asyncpg_types() -> Any:
    pytest.importorskip("asyncpg")
    return pytest.importorskip("asyncpg.types")


def test_all_lists_the_asyncpg_type_names() -> None:
    assert set(types.__all__) == {
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
    }
    assert set(types.__all__) == set(asyncpg_types().__all__)


# --- named tuples ------------------------------------------------------------


def test_type_is_a_named_tuple_of_oid_name_kind_schema() -> None:
    t = Type(23, "int4", "scalar", "pg_catalog")
    assert (t.oid, t.name, t.kind, t.schema) == (23, "int4", "scalar", "pg_catalog")
    assert t == (23, "int4", "scalar", "pg_catalog")


def test_attribute_is_a_named_tuple_of_name_and_type() -> None:
    t = Type(25, "text", "scalar", "pg_catalog")
    a = Attribute("title", t)
    assert (a.name, a.type) == ("title", t)


def test_server_version_fields_and_tuple_comparison() -> None:
    v = ServerVersion(15, 0, 18, "final", 0)
    assert (v.major, v.minor, v.micro, v.releaselevel, v.serial) == (15, 0, 18, "final", 0)
    assert v[:2] >= (14, 0)


def test_named_tuple_fields_match_asyncpg() -> None:
    theirs = asyncpg_types()
    assert Type._fields == theirs.Type._fields
    assert Attribute._fields == theirs.Attribute._fields
    assert ServerVersion._fields == theirs.ServerVersion._fields


# --- Range -------------------------------------------------------------------


def test_range_defaults_to_inclusive_lower_exclusive_upper() -> None:
    r = Range(1, 5)
    assert (r.lower, r.upper, r.lower_inc, r.upper_inc) == (1, 5, True, False)
    assert not r.lower_inf and not r.upper_inf and not r.isempty


def test_range_missing_bounds_are_infinite_and_never_inclusive() -> None:
    r = Range(None, None, lower_inc=True, upper_inc=True)
    assert r.lower_inf and r.upper_inf
    assert not r.lower_inc and not r.upper_inc


def test_empty_range_has_no_bounds_and_is_false() -> None:
    r = Range(1, 5, lower_inc=True, empty=True)
    assert r.isempty
    assert (r.lower, r.upper, r.lower_inc, r.upper_inc) == (None, None, False, False)
    assert not r.lower_inf and not r.upper_inf
    assert not r
    assert Range(1, 5)


def test_range_repr_uses_interval_notation() -> None:
    assert repr(Range(1, 5)) == "<Range [1, 5)>"
    assert repr(Range(1, 5, lower_inc=False, upper_inc=True)) == "<Range (1, 5]>"
    assert repr(Range()) == "<Range (, )>"
    assert repr(Range(None, 5, upper_inc=True)) == "<Range (, 5]>"
    assert repr(Range(empty=True)) == "<Range empty>"
    assert str(Range(1, 5)) == "<Range [1, 5)>"


def test_ranges_are_equal_and_hash_alike_when_all_bounds_match() -> None:
    assert Range(1, 5) == Range(1, 5)
    assert hash(Range(1, 5)) == hash(Range(1, 5))
    assert Range(1, 5) != Range(1, 5, upper_inc=True)
    assert Range(1, 5) != (1, 5)


def test_range_subset_and_superset() -> None:
    outer = Range(1, 10)
    assert Range(2, 5).issubset(outer)
    assert outer.issuperset(Range(2, 5))
    assert not outer.issubset(Range(2, 5))
    assert Range(1, 10).issubset(outer)
    assert not Range(1, 10, upper_inc=True).issubset(outer)
    assert Range(1, 10, lower_inc=False).issubset(outer)
    assert Range(2, 5).issubset(Range())
    assert not Range(None, 5).issubset(outer)


def test_empty_range_is_subset_of_everything_and_superset_of_only_empty() -> None:
    empty = Range(empty=True)
    assert empty.issubset(Range(1, 2))
    assert empty.issubset(empty)
    assert not Range(1, 2).issubset(empty)


def test_range_works_with_dates() -> None:
    d = datetime.date
    assert Range(d(2024, 1, 2), d(2024, 1, 3)).issubset(Range(d(2024, 1, 1), None))


RANGE_CASES: list[dict[str, Any]] = [
    {"lower": 1, "upper": 5},
    {"lower": 1, "upper": 5, "lower_inc": False, "upper_inc": True},
    {"lower": None, "upper": 5},
    {"lower": 1, "upper": None, "upper_inc": True},
    {},
    {"lower": 1, "upper": 5, "empty": True},
]


@pytest.mark.parametrize("kwargs", RANGE_CASES)
def test_range_parity_with_asyncpg(kwargs: dict[str, Any]) -> None:
    ours, theirs = Range(**kwargs), asyncpg_types().Range(**kwargs)
    for attr in ("lower", "upper", "lower_inc", "upper_inc", "lower_inf", "upper_inf", "isempty"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert repr(ours) == repr(theirs)
    assert bool(ours) == bool(theirs)
    assert hash(ours) == hash(theirs)
    for other in RANGE_CASES:
        assert ours.issubset(Range(**other)) == theirs.issubset(asyncpg_types().Range(**other))


# --- BitString ---------------------------------------------------------------


def test_bitstring_from_string_packs_bits_most_significant_first() -> None:
    b = BitString("1010 1")
    assert len(b) == 5
    assert b.bytes == b"\xa8"
    assert list(b) == [1, 0, 1, 0, 1]


def test_bitstring_from_nothing_is_empty() -> None:
    for empty in (BitString(), BitString(None), BitString("")):
        assert len(empty) == 0
        assert empty.bytes == b""
        assert repr(empty) == "<BitString >"


def test_bitstring_from_iterable_of_bits() -> None:
    assert BitString([1, 0, 1]) == BitString("101")
    assert BitString(b"\x01\x00") == BitString("10")


def test_bitstring_rejects_other_characters() -> None:
    with pytest.raises(ValueError, match="invalid bit value at position 2"):
        BitString("012")
    with pytest.raises(ValueError):
        BitString(b"01")


def test_bitstring_as_string_groups_bits_by_four() -> None:
    assert BitString("101010101").as_string() == "1010 1010 1"
    assert BitString("1010").as_string() == "1010"
    assert repr(BitString("10101")) == "<BitString 1010 1>"
    assert str(BitString("1")) == "<BitString 1>"


def test_bitstring_indexing() -> None:
    b = BitString("1100 1")
    assert [b[i] for i in range(5)] == [1, 1, 0, 0, 1]
    assert b[-1] == 1
    assert b[-5] == 1
    with pytest.raises(IndexError):
        b[5]
    with pytest.raises(IndexError):
        b[-6]
    with pytest.raises(NotImplementedError):
        b[0:2]


def test_bitstring_frombytes_defaults_to_every_bit() -> None:
    b = BitString.frombytes(b"\xa0")
    assert len(b) == 8
    assert b.as_string() == "1010 0000"


def test_bitstring_frombytes_with_bitlength() -> None:
    b = BitString.frombytes(b"\xa8", 5)
    assert b == BitString("10101")
    assert b.bytes == b"\xa8"


def test_bitstring_frombytes_clears_padding_bits() -> None:
    b = BitString.frombytes(b"\xff", 4)
    assert b.bytes == b"\xf0"
    assert b == BitString("1111")


def test_bitstring_frombytes_without_bytes_gives_zero_bits() -> None:
    assert BitString.frombytes(None, 10) == BitString("0000000000")
    assert BitString.frombytes() == BitString()


@pytest.mark.parametrize(
    ("data", "bitlength"), [(b"", 1), (b"\x00", 0), (b"\x00", 9), (b"\x00\x00\x00", 8)]
)
def test_bitstring_frombytes_rejects_inconsistent_lengths(data: bytes, bitlength: int) -> None:
    with pytest.raises(ValueError, match="invalid bit length specified"):
        BitString.frombytes(data, bitlength)


def test_bitstring_to_int_big_and_little_endian() -> None:
    b = BitString("1101")
    assert b.to_int() == 0b1101
    assert b.to_int("little") == 0b1011


def test_bitstring_to_int_signed_reads_twos_complement() -> None:
    assert BitString("1101").to_int(signed=True) == -3
    assert BitString("0101").to_int(signed=True) == 5


def test_bitstring_from_int_round_trips() -> None:
    assert BitString.from_int(13, 4) == BitString("1101")
    assert BitString.from_int(13, 6) == BitString("001101")
    assert BitString.from_int(11, 4, "little") == BitString("1101")
    assert BitString.from_int(-3, 4, signed=True) == BitString("1101")


def test_bitstring_from_int_rejects_what_does_not_fit() -> None:
    with pytest.raises(OverflowError):
        BitString.from_int(16, 4)
    with pytest.raises(OverflowError):
        BitString.from_int(-1, 4)
    with pytest.raises(ValueError):
        BitString.from_int(1, -1)
    with pytest.raises(ValueError):
        BitString.from_int(1, 4, "middle")  # type: ignore[arg-type]


def test_bitstring_to_int_rejects_unknown_bit_order() -> None:
    with pytest.raises(ValueError):
        BitString("1").to_int("middle")  # type: ignore[arg-type]


def test_bitstrings_compare_and_hash_by_bits() -> None:
    assert BitString("101") == BitString("1 01")
    assert hash(BitString("101")) == hash(BitString("101"))
    assert BitString("101") != BitString("1010")
    assert BitString("101") != "101"


BIT_STRINGS = ["", "1", "0", "1010 1", "1111 0000", "1010 1010 1010 1"]


@pytest.mark.parametrize("bits", BIT_STRINGS)
def test_bitstring_parity_with_asyncpg(bits: str) -> None:
    theirs_cls = asyncpg_types().BitString
    ours, theirs = BitString(bits), theirs_cls(bits)
    assert ours.bytes == theirs.bytes
    assert len(ours) == len(theirs)
    assert repr(ours) == repr(theirs)
    assert ours.as_string() == theirs.as_string()
    assert list(ours) == list(theirs)
    assert hash(ours) == hash(theirs)
    for order in ("big", "little"):
        for signed in (False, True):
            assert ours.to_int(order, signed=signed) == theirs.to_int(order, signed=signed)
            value = theirs.to_int(order, signed=signed)
            assert (
                BitString.from_int(value, len(ours), order, signed=signed).bytes
                == theirs_cls.from_int(value, len(theirs), order, signed=signed).bytes
            )
    assert BitString.frombytes(theirs.bytes, len(theirs)) == ours


# --- geometry ----------------------------------------------------------------


def test_point_converts_coordinates_to_float() -> None:
    p = Point(1, "2.5")
    assert (p.x, p.y) == (1.0, 2.5)
    assert p == (1.0, 2.5)
    assert isinstance(p, tuple)
    assert repr(p) == "pgwire.types.Point((1.0, 2.5))"


def test_box_keeps_corners_as_points_in_given_order() -> None:
    b = Box((3, 4), (1, 2))
    assert (b.high, b.low) == (Point(3, 4), Point(1, 2))
    assert isinstance(b.high, Point)
    assert Box((1, 2), (3, 4)).high == Point(1, 2)


def test_line_holds_its_coefficients() -> None:
    line = Line(1, 2, 3)
    assert (line.A, line.B, line.C) == (1, 2, 3)
    assert line == (1, 2, 3)


def test_line_segment_holds_two_points() -> None:
    seg = LineSegment((1, 2), (3, 4))
    assert (seg.p1, seg.p2) == (Point(1, 2), Point(3, 4))
    assert isinstance(seg.p1, Point)


def test_circle_holds_center_and_radius() -> None:
    c = Circle(Point(1, 2), 3)
    assert (c.center, c.radius) == (Point(1, 2), 3)


def test_path_is_a_sequence_of_points() -> None:
    path = Path((1, 2), (3, 4))
    assert not path.is_closed
    assert len(path) == 2
    assert path[0] == Point(1, 2)
    assert path[-1] == Point(3, 4)
    assert list(path) == [Point(1, 2), Point(3, 4)]
    assert path.points == (Point(1, 2), Point(3, 4))
    assert Point(3, 4) in path


def test_paths_compare_by_points_and_closedness() -> None:
    assert Path((1, 2), is_closed=True) == Path((1, 2), is_closed=True)
    assert Path((1, 2)) != Path((1, 2), is_closed=True)
    assert hash(Path((1, 2))) == hash(Path((1, 2)))


def test_polygon_is_a_closed_path() -> None:
    poly = Polygon((0, 0), (1, 0), (0, 1))
    assert isinstance(poly, Path)
    assert poly.is_closed
    assert poly == Path((0, 0), (1, 0), (0, 1), is_closed=True)


def test_geometry_parity_with_asyncpg() -> None:
    theirs = asyncpg_types()
    pairs = [
        (Point(1, 2), theirs.Point(1, 2)),
        (Box((3, 4), (1, 2)), theirs.Box((3, 4), (1, 2))),
        (Line(1, 2, 3), theirs.Line(1, 2, 3)),
        (LineSegment((1, 2), (3, 4)), theirs.LineSegment((1, 2), (3, 4))),
        (Circle(Point(1, 2), 3), theirs.Circle(theirs.Point(1, 2), 3)),
    ]
    for ours, their in pairs:
        assert ours == their
        assert hash(ours) == hash(their)
        assert repr(ours).replace("pgwire.types", "asyncpg.pgproto.types") == repr(their)
    assert Path((1, 2), (3, 4)).points == theirs.Path((1, 2), (3, 4)).points
    assert Polygon((1, 2)).is_closed == theirs.Polygon((1, 2)).is_closed


# --- server version ----------------------------------------------------------

VERSIONS = [
    ("15.18 (Debian 15.18-0+deb12u1)", ServerVersion(15, 0, 18, "final", 0)),
    ("16beta2", ServerVersion(16, 0, 0, "beta", 2)),
    ("17rc1", ServerVersion(17, 0, 0, "rc", 1)),
    ("9.6.24", ServerVersion(9, 6, 24, "final", 0)),
    ("9.4beta1", ServerVersion(9, 4, 0, "beta", 1)),
    ("10.4", ServerVersion(10, 0, 4, "final", 0)),
    ("18devel", ServerVersion(18, 0, 0, "devel", 0)),
    ("PostgreSQL 9.5.3 on x86_64-pc-linux-gnu", ServerVersion(9, 5, 3, "final", 0)),
    ("14.2 (Ubuntu 14.2-1.pgdg20.04+1)", ServerVersion(14, 0, 2, "final", 0)),
    ("13", ServerVersion(13, 0, 0, "final", 0)),
]


@pytest.mark.parametrize(("text", "expected"), VERSIONS)
def test_split_server_version_string(text: str, expected: ServerVersion) -> None:
    assert split_server_version_string(text) == expected


def test_split_server_version_string_rejects_text_without_a_version() -> None:
    with pytest.raises(ValueError, match="Unable to parse"):
        split_server_version_string("unknown")


@pytest.mark.parametrize(
    "text",
    [text for text, _ in VERSIONS] + ["Postgres-XL 9.5r1.6", "11.22-1", "9.6", "PostgreSQL 12.1"],
)
def test_split_server_version_string_parity_with_asyncpg(text: str) -> None:
    pytest.importorskip("asyncpg")
    theirs = pytest.importorskip("asyncpg.serverversion")
    assert tuple(split_server_version_string(text)) == tuple(
        theirs.split_server_version_string(text)
    )
