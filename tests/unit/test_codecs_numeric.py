"""Binary codecs for bool, integers, floats and numeric.

Golden bytes come from the server's ``*send`` functions (PostgreSQL 15).
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgwire.codecs import numeric as n


def test_bool_golden_bytes() -> None:
    assert n.bool_encode(True) == b"\x01"
    assert n.bool_encode(False) == b"\x00"
    assert n.bool_decode(b"\x01") is True
    assert n.bool_decode(b"\x00") is False


def test_bool_rejects_int() -> None:
    with pytest.raises(TypeError, match=r"a boolean is required \(got type int\)"):
        n.bool_encode(1)


@pytest.mark.parametrize(
    ("encode", "decode", "value", "wire"),
    [
        (n.int2_encode, n.int2_decode, -2, b"\xff\xfe"),
        (n.int2_encode, n.int2_decode, 32767, b"\x7f\xff"),
        (n.int4_encode, n.int4_decode, -2147483648, b"\x80\x00\x00\x00"),
        (n.int4_encode, n.int4_decode, 42, b"\x00\x00\x00*"),
        (n.int8_encode, n.int8_decode, 2**63 - 1, b"\x7f\xff\xff\xff\xff\xff\xff\xff"),
        (n.uint4_encode, n.uint4_decode, 4294967295, b"\xff\xff\xff\xff"),
    ],
)
def test_integer_golden_bytes(encode, decode, value, wire) -> None:  # type: ignore[no-untyped-def]
    assert encode(value) == wire
    assert decode(wire) == value


@pytest.mark.parametrize(
    ("encode", "value"),
    [
        (n.int2_encode, 2**15),
        (n.int2_encode, -(2**15) - 1),
        (n.int4_encode, 2**31),
        (n.int8_encode, -(2**63) - 1),
        (n.uint4_encode, -1),
        (n.uint8_encode, 2**64),
    ],
)
def test_integer_out_of_range_raises_overflow(encode, value) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OverflowError, match="out of .* range"):
        encode(value)


def test_integer_rejects_str() -> None:
    with pytest.raises(TypeError, match=r"an int is required \(got type str\)"):
        n.int4_encode("1")


def test_integer_truncates_float_and_decimal_like_asyncpg() -> None:
    assert n.int4_decode(n.int4_encode(1.5)) == 1
    assert n.int4_decode(n.int4_encode(Decimal("2.7"))) == 2


def test_bool_is_accepted_as_integer() -> None:
    assert n.int8_decode(n.int8_encode(True)) == 1


def test_float_golden_bytes() -> None:
    assert n.float4_encode(1.5) == b"?\xc0\x00\x00"
    assert n.float4_encode(math.inf) == b"\x7f\x80\x00\x00"
    assert n.float8_encode(-math.inf) == b"\xff\xf0\x00\x00\x00\x00\x00\x00"
    assert math.isnan(n.float8_decode(b"\x7f\xf8\x00\x00\x00\x00\x00\x00"))


def test_float_accepts_int() -> None:
    assert n.float8_decode(n.float8_encode(1)) == 1.0


def test_float_rejects_str() -> None:
    with pytest.raises(TypeError, match="a float is required"):
        n.float8_encode("1")


def test_float4_out_of_range_raises_overflow() -> None:
    with pytest.raises(OverflowError, match="float32"):
        n.float4_encode(1e300)


@given(st.floats(width=32))
def test_float4_round_trips(value: float) -> None:
    decoded = n.float4_decode(n.float4_encode(value))
    assert decoded == value or (math.isnan(value) and math.isnan(decoded))


@given(st.floats())
def test_float8_round_trips(value: float) -> None:
    decoded = n.float8_decode(n.float8_encode(value))
    assert decoded == value or (math.isnan(value) and math.isnan(decoded))


NUMERIC_GOLDEN = [
    ("0", b"\x00\x00\x00\x00\x00\x00\x00\x00"),
    ("1.500", b"\x00\x02\x00\x00\x00\x00\x00\x03\x00\x01\x13\x88"),
    ("-12345.6789", b"\x00\x03\x00\x01@\x00\x00\x04\x00\x01\t)\x1a\x85"),
    ("0.00012", b"\x00\x02\xff\xff\x00\x00\x00\x05\x00\x01\x07\xd0"),
    ("100000", b"\x00\x01\x00\x01\x00\x00\x00\x00\x00\n"),
    ("0.000", b"\x00\x00\x00\x00\x00\x00\x00\x03"),
    ("1E-20", b"\x00\x01\xff\xfb\x00\x00\x00\x14\x00\x01"),
    ("NaN", b"\x00\x00\x00\x00\xc0\x00\x00\x00"),
]


@pytest.mark.parametrize(("text", "wire"), NUMERIC_GOLDEN)
def test_numeric_encodes_like_numeric_send(text: str, wire: bytes) -> None:
    assert n.numeric_encode(Decimal(text)) == wire


@pytest.mark.parametrize(("text", "wire"), NUMERIC_GOLDEN)
def test_numeric_decodes_numeric_send_output(text: str, wire: bytes) -> None:
    decoded = n.numeric_decode(wire)
    if text == "NaN":
        assert decoded.is_nan()
    else:
        assert decoded == Decimal(text)
        if "." in text or "E" in text or not text.endswith("0000"):
            assert str(decoded) == str(Decimal(text))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("100000", "1.0E+5"),
        ("10000", "1E+4"),
        ("120000", "1.2E+5"),
        ("1E+29", "1.0E+29"),
        ("1E+1000", "1E+1000"),
        ("-7E+5000", "-7E+5000"),
        ("1E+131071", "1.000E+131071"),
    ],
)
def test_integer_ending_in_zero_groups_decodes_in_exponent_form_like_asyncpg(
    value: str, shown: str
) -> None:
    decoded = n.numeric_decode(n.numeric_encode(Decimal(value)))
    assert decoded == Decimal(value)
    assert str(decoded) == shown


def test_numeric_with_more_digits_than_int_str_conversion_allows_decodes() -> None:
    value = Decimal("1" * 5000 + ".5")
    assert n.numeric_decode(n.numeric_encode(value)) == value


def test_numeric_decode_keeps_display_scale() -> None:
    assert str(n.numeric_decode(n.numeric_encode(Decimal("1.500")))) == "1.500"


def test_numeric_decodes_infinities_ignoring_their_dscale() -> None:
    # PostgreSQL 15 sends a non-zero dscale with the infinities.
    assert n.numeric_decode(b"\x00\x00\x00\x00\xd0\x00\x00 ") == Decimal("Infinity")
    assert n.numeric_decode(b"\x00\x00\x00\x00\xf0\x00\x00 ") == Decimal("-Infinity")


def test_numeric_encodes_infinities() -> None:
    assert n.numeric_encode(Decimal("Infinity")) == b"\x00\x00\x00\x00\xd0\x00\x00\x00"
    assert n.numeric_encode(Decimal("-Infinity")) == b"\x00\x00\x00\x00\xf0\x00\x00\x00"


def test_numeric_negative_zero_is_sent_as_zero() -> None:
    assert n.numeric_encode(Decimal("-0.00")) == n.numeric_encode(Decimal("0.00"))


def test_numeric_accepts_int_float_and_str() -> None:
    assert n.numeric_decode(n.numeric_encode(3)) == 3
    assert n.numeric_decode(n.numeric_encode(1.5)) == Decimal("1.5")
    assert n.numeric_decode(n.numeric_encode("1.25")) == Decimal("1.25")


def test_numeric_rejects_bad_input() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        n.numeric_encode(b"1")
    with pytest.raises(ValueError, match="invalid numeric"):
        n.numeric_encode("one")


def test_numeric_rejects_unknown_sign() -> None:
    with pytest.raises(ValueError, match="sign"):
        n.numeric_decode(b"\x00\x00\x00\x00\x12\x34\x00\x00")


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_numeric_round_trips_value_and_scale(value: Decimal) -> None:
    decoded = n.numeric_decode(n.numeric_encode(value))
    assert decoded == value
    assert max(0, -decoded.as_tuple().exponent) == max(0, -value.as_tuple().exponent)  # type: ignore[operator]


@given(st.integers(min_value=-(10**40), max_value=10**40), st.integers(0, 30))
def test_numeric_round_trips_exact_text(coefficient: int, scale: int) -> None:
    value = Decimal(f"{coefficient}E-{scale}")
    decoded = n.numeric_decode(n.numeric_encode(value))
    assert decoded == value
    if scale:
        assert str(decoded) == str(value)


def test_numeric_accepts_the_largest_scale_and_integer_part_postgresql_allows() -> None:
    smallest = Decimal(f"1E-{n.NUMERIC_MAX_SCALE}")
    largest = Decimal(f"9E{n.NUMERIC_MAX_INT_DIGITS - 1}")
    assert n.numeric_decode(n.numeric_encode(smallest)) == smallest
    assert n.numeric_decode(n.numeric_encode(largest)) == largest


@pytest.mark.parametrize(
    "text",
    [
        f"1E-{n.NUMERIC_MAX_SCALE + 1}",
        f"1E{n.NUMERIC_MAX_INT_DIGITS}",
        "-1E200000",
        # Within both digit limits, but more base-10000 digits than the wire's int16 count.
        "3" * n.NUMERIC_MAX_INT_DIGITS + "." + "4" * 1000,
    ],
)
def test_numeric_past_postgresqls_range_is_a_value_error_naming_the_value(text: str) -> None:
    shown = str(Decimal(text))
    with pytest.raises(ValueError, match="is out of PostgreSQL's range") as info:
        n.numeric_encode(Decimal(text))
    assert shown[:12] in str(info.value)


def test_numeric_with_leading_zero_groups_and_whole_numbers_round_trips() -> None:
    for text in ("0.0001", "10000", "100000000.5", "-0.00000001", "12345678", "0E+8"):
        value = Decimal(text)
        assert n.numeric_decode(n.numeric_encode(value)) == value
        assert str(n.numeric_decode(n.numeric_encode(value))).lstrip("-") != ""


def test_numeric_with_a_digit_above_9999_is_a_value_error_not_a_wrong_value() -> None:
    payload = struct.pack("!hhHHH", 1, 0, 0, 0, 10000)
    with pytest.raises(ValueError, match="invalid numeric digit 10000"):
        n.numeric_decode(payload)


def test_numeric_dropping_digits_past_its_display_scale_keeps_the_rest() -> None:
    # 1.23456789 stored with dscale 2: digits [1, 2345, 6789], weight 0.
    payload = struct.pack("!hhHHHHH", 3, 0, 0, 2, 1, 2345, 6789)
    assert str(n.numeric_decode(payload)) == "1.23"
