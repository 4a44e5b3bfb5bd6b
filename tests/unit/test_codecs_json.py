"""Binary codecs for json, jsonb and jsonpath: str in, str out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgwire.codecs import json as j


def test_json_is_plain_utf8_text() -> None:
    assert j.json_encode('{"a": 1}') == b'{"a": 1}'
    assert j.json_decode(b'{"a": 1}') == '{"a": 1}'


def test_jsonb_golden_bytes_carry_version_byte() -> None:
    assert j.jsonb_encode('{"a": 1}') == b'\x01{"a": 1}'
    assert j.jsonb_decode(b'\x01{"a": 1}') == '{"a": 1}'


def test_jsonpath_golden_bytes_carry_version_byte() -> None:
    assert j.jsonpath_decode(b'\x01$."a"') == '$."a"'
    assert j.jsonpath_encode("$.a") == b"\x01$.a"


def test_json_rejects_python_objects_like_asyncpg() -> None:
    with pytest.raises(TypeError, match="expected str, got dict"):
        j.jsonb_encode({"a": 1})


def test_jsonb_rejects_unknown_version() -> None:
    with pytest.raises(ValueError, match="version"):
        j.jsonb_decode(b"\x02{}")


@given(st.text())
def test_jsonb_round_trips_text(value: str) -> None:
    assert j.jsonb_decode(j.jsonb_encode(value)) == value
