"""Binary array codecs built by make_array_codec.

Golden bytes come from the server's ``array_send`` (PostgreSQL 15).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgwire.codecs import oids
from pgwire.codecs.array import make_array_codec
from pgwire.codecs.registry import BUILTIN, Codec

INT4_ARRAY = BUILTIN.get(oids.INT4_ARRAY)
INT8_ARRAY = BUILTIN.get(oids.INT8_ARRAY)
TEXT_ARRAY = BUILTIN.get(oids.TEXT_ARRAY)
assert INT4_ARRAY and INT8_ARRAY and TEXT_ARRAY

EMPTY = b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17"
LBOUND_2_WITH_NULL = (
    b"\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x17\x00\x00\x00\x02\x00\x00\x00\x02"
    b"\x00\x00\x00\x04\x00\x00\x00\x01\xff\xff\xff\xff"
)
TWO_BY_TWO = (
    b"\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x17\x00\x00\x00\x02\x00\x00\x00\x01"
    b"\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00\x00\x04"
    b"\x00\x00\x00\x02\x00\x00\x00\x04\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x04"
)
THREE_DIMS = (
    b"\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x14\x00\x00\x00\x02\x00\x00\x00\x01"
    b"\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x08"
    b"\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x02"
)
TEXT_WITH_NULL = (
    b"\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x19\x00\x00\x00\x03\x00\x00\x00\x01"
    b"\x00\x00\x00\x01a\xff\xff\xff\xff\x00\x00\x00\x03b c"
)


def test_empty_array_golden_bytes() -> None:
    assert INT4_ARRAY.encode([]) == EMPTY
    assert INT4_ARRAY.decode(EMPTY) == []


def test_decode_ignores_lower_bound_and_keeps_nulls() -> None:
    # '[2:3]={1,NULL}'::int4[]
    assert INT4_ARRAY.decode(LBOUND_2_WITH_NULL) == [1, None]


def test_two_dimensional_golden_bytes() -> None:
    assert INT4_ARRAY.encode([[1, 2], [3, 4]]) == TWO_BY_TWO
    assert INT4_ARRAY.decode(TWO_BY_TWO) == [[1, 2], [3, 4]]


def test_three_dimensional_golden_bytes() -> None:
    assert INT8_ARRAY.encode([[[1]], [[2]]]) == THREE_DIMS
    assert INT8_ARRAY.decode(THREE_DIMS) == [[[1]], [[2]]]


def test_text_array_with_null_golden_bytes() -> None:
    assert TEXT_ARRAY.encode(["a", None, "b c"]) == TEXT_WITH_NULL
    assert TEXT_ARRAY.decode(TEXT_WITH_NULL) == ["a", None, "b c"]


def test_encoder_accepts_tuples_and_sets() -> None:
    assert INT4_ARRAY.decode(INT4_ARRAY.encode((1, 2))) == [1, 2]
    assert INT4_ARRAY.decode(INT4_ARRAY.encode({7})) == [7]


def test_nested_empty_lists_encode_as_empty_array() -> None:
    assert INT4_ARRAY.encode([[], []]) == EMPTY
    assert INT4_ARRAY.encode([[[]]]) == EMPTY


@pytest.mark.parametrize("value", [[[1], [2, 3]], [[1, 2], 3], [1, [2]], [[], [1]]])
def test_ragged_arrays_raise_value_error(value: Any) -> None:
    with pytest.raises(ValueError, match="non-homogeneous array"):
        INT4_ARRAY.encode(value)


@pytest.mark.parametrize("value", ["abc", b"ab", 5])
def test_non_container_raises_type_error(value: Any) -> None:
    with pytest.raises(TypeError, match="a sized iterable container expected"):
        INT4_ARRAY.encode(value)


def test_too_many_dimensions_raise_value_error() -> None:
    with pytest.raises(ValueError, match="exceeds the maximum allowed"):
        INT4_ARRAY.encode([[[[[[[1]]]]]]])


def test_element_errors_propagate() -> None:
    with pytest.raises(TypeError, match="an int is required"):
        INT4_ARRAY.encode([1, "2"])


def test_header_carries_element_oid() -> None:
    element = Codec(12345, "thing", lambda v: v, lambda b: b)
    codec = make_array_codec(12346, element, "_thing")
    assert codec.kind == "array" and codec.oid == 12346 and codec.name == "_thing"
    assert codec.encode([b"x"])[8:12] == (12345).to_bytes(4, "big")


def test_tuples_are_elements_for_composite_arrays() -> None:
    element = Codec(12345, "pair", lambda v: repr(v).encode(), lambda b: b, kind="composite")
    codec = make_array_codec(12346, element, "_pair")
    assert codec.decode(codec.encode([(1, 2)])) == [b"(1, 2)"]


int4s = st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1))


@st.composite
def rectangular(draw: st.DrawFn) -> Any:
    dims = draw(st.lists(st.integers(1, 3), min_size=1, max_size=4))

    def build(depth: int) -> Any:
        if depth == len(dims):
            return draw(int4s)
        return [build(depth + 1) for _ in range(dims[depth])]

    return build(0)


@given(rectangular())
def test_int4_arrays_round_trip(value: Any) -> None:
    assert INT4_ARRAY.decode(INT4_ARRAY.encode(value)) == value


@given(st.lists(st.one_of(st.none(), st.text())))
def test_text_arrays_round_trip(value: list[str | None]) -> None:
    assert TEXT_ARRAY.decode(TEXT_ARRAY.encode(value)) == value
