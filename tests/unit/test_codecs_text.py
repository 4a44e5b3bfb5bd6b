"""Binary codecs for text-like types, bytea and "char"."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgwire.codecs import text as t


def test_text_is_utf8() -> None:
    assert t.text_encode("héllo") == b"h\xc3\xa9llo"
    assert t.text_decode(b"h\xc3\xa9llo") == "héllo"


def test_text_rejects_non_str() -> None:
    with pytest.raises(TypeError, match="expected str, got int"):
        t.text_encode(1)
    with pytest.raises(TypeError, match="expected str, got bytes"):
        t.text_encode(b"x")


def test_text_keeps_bpchar_padding() -> None:
    assert t.text_decode(b"a b ") == "a b "


@pytest.mark.parametrize("value", [b"\x00\xff", bytearray(b"\x00\xff"), memoryview(b"\x00\xff")])
def test_bytea_accepts_bytes_like(value: bytes) -> None:
    assert t.bytea_encode(value) == b"\x00\xff"


def test_bytea_decodes_to_bytes() -> None:
    decoded = t.bytea_decode(b"\x00\xff")
    assert decoded == b"\x00\xff" and type(decoded) is bytes


def test_bytea_rejects_str() -> None:
    with pytest.raises(TypeError, match="a bytes-like object is required"):
        t.bytea_encode("x")


def test_char_is_bytes_both_ways_like_asyncpg() -> None:
    assert t.char_decode(b"a") == b"a"
    assert t.char_encode(b"z") == b"z"


def test_char_rejects_str_and_more_than_one_byte() -> None:
    with pytest.raises(TypeError):
        t.char_encode("z")
    with pytest.raises(ValueError, match="single byte"):
        t.char_encode(b"ab")


@given(st.text())
def test_text_round_trips(value: str) -> None:
    assert t.text_decode(t.text_encode(value)) == value


@given(st.binary())
def test_bytea_round_trips(value: bytes) -> None:
    assert t.bytea_decode(t.bytea_encode(value)) == value
