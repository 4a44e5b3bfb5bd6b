"""Range and multirange codecs; golden bytes from the server's ``range_send`` (PostgreSQL 15)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgwire.codecs import oids
from pgwire.codecs.registry import BUILTIN
from pgwire.types import Range

INT4RANGE = BUILTIN.get(oids.INT4RANGE)
NUMRANGE = BUILTIN.get(oids.NUMRANGE)
DATERANGE = BUILTIN.get(oids.DATERANGE)
INT4MULTIRANGE = BUILTIN.get(4451)
assert INT4RANGE and NUMRANGE and DATERANGE and INT4MULTIRANGE

# SELECT range_send('[1,5)'::int4range), range_send('empty'::int4range), ...
GOLDEN = [
    (Range(1, 5), b"\x02\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x05"),
    (Range(empty=True), b"\x01"),
    (Range(None, 5), b"\x08\x00\x00\x00\x04\x00\x00\x00\x05"),
    (Range(None, None), b"\x18"),
]


@pytest.mark.parametrize(("value", "payload"), GOLDEN)
def test_int4range_matches_server_bytes(value: Range[int], payload: bytes) -> None:
    assert INT4RANGE.encode(value) == payload
    assert INT4RANGE.decode(payload) == value


def test_pair_encodes_with_both_bounds_inclusive_as_asyncpg() -> None:
    assert INT4RANGE.encode((1, 5)) == INT4RANGE.encode(Range(1, 5, upper_inc=True))
    assert INT4RANGE.encode([None, 5]) == INT4RANGE.encode(Range(None, 5, upper_inc=True))


def test_empty_tuple_encodes_the_empty_range() -> None:
    assert INT4RANGE.encode(()) == INT4RANGE.encode(Range(empty=True))


def test_one_tuple_encodes_an_upper_unbounded_range() -> None:
    assert INT4RANGE.encode((3,)) == INT4RANGE.encode(Range(3, None))


@pytest.mark.parametrize("bad", [(1, 2, 3), 5, "[1,2)"])
def test_malformed_range_is_rejected(bad: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        INT4RANGE.encode(bad)


def test_bound_of_wrong_type_is_rejected() -> None:
    with pytest.raises(TypeError):
        INT4RANGE.encode(Range(1, "x"))


def test_multirange_round_trips_a_list_of_ranges() -> None:
    value = [Range(1, 3), Range(5, 6, upper_inc=True)]
    assert INT4MULTIRANGE.decode(INT4MULTIRANGE.encode(value)) == value
    assert INT4MULTIRANGE.decode(INT4MULTIRANGE.encode([])) == []


def test_multirange_rejects_a_single_range() -> None:
    with pytest.raises(TypeError):
        INT4MULTIRANGE.encode(Range(1, 2))


_bounds = st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1))


@st.composite
def _int_ranges(draw: st.DrawFn) -> Range[int]:
    if draw(st.booleans()) and draw(st.booleans()):
        return Range(empty=True)
    return Range(
        draw(_bounds), draw(_bounds), lower_inc=draw(st.booleans()), upper_inc=draw(st.booleans())
    )


@given(_int_ranges())
def test_any_int4range_round_trips(value: Range[int]) -> None:
    assert INT4RANGE.decode(INT4RANGE.encode(value)) == value


@given(
    st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False, places=4)),
    st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False, places=4)),
    st.booleans(),
)
def test_any_numrange_round_trips(lower: Decimal | None, upper: Decimal | None, inc: bool) -> None:
    value = Range(lower, upper, upper_inc=inc)
    assert NUMRANGE.decode(NUMRANGE.encode(value)) == value


@given(st.lists(st.tuples(st.one_of(st.none(), st.dates()), st.one_of(st.none(), st.dates()))))
def test_any_datemultirange_round_trips(pairs: list[tuple[date | None, date | None]]) -> None:
    codec = BUILTIN.get(oids.DATEMULTIRANGE)
    assert codec is not None
    value = [Range(lo, hi) for lo, hi in pairs]
    assert codec.decode(codec.encode(value)) == value
