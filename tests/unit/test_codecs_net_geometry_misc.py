"""Binary codecs for inet/cidr, bit strings, geometry, system types, hstore and text arrays."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgwire.codecs import hstore, misc, net, oids
from pgwire.codecs.registry import BUILTIN, text_fallback_codec
from pgwire.codecs.textarray import make_text_array_codec, parse_array_literal
from pgwire.codecs.tuples import TUPLE_CODECS
from pgwire.exceptions import UnsupportedClientFeatureError
from pgwire.types import BitString, Box, Circle, Line, LineSegment, Path, Point, Polygon


def _codec(oid: int) -> Any:
    codec = BUILTIN.get(oid)
    assert codec is not None
    return codec


def test_inet_golden_bytes_from_inet_send() -> None:
    # SELECT inet_send('10.0.0.1/8')
    payload = b"\x02\x08\x00\x04\x0a\x00\x00\x01"
    assert net.inet_encode(ipaddress.IPv4Interface("10.0.0.1/8")) == payload
    assert net.inet_decode(payload) == ipaddress.IPv4Interface("10.0.0.1/8")


def test_inet_with_full_prefix_decodes_to_an_address() -> None:
    assert net.inet_decode(net.inet_encode("::1")) == ipaddress.IPv6Address("::1")


def test_cidr_decodes_to_a_network_and_sets_the_cidr_flag() -> None:
    payload = net.cidr_encode("10.0.0.0/8")
    assert payload[2] == 1
    assert net.cidr_decode(payload) == ipaddress.IPv4Network("10.0.0.0/8")


def test_cidr_rejects_host_bits() -> None:
    with pytest.raises(ValueError):
        net.cidr_encode("10.0.0.1/8")


@given(st.text(alphabet="01", max_size=80))
def test_bit_strings_round_trip(bits: str) -> None:
    codec = _codec(oids.VARBIT)
    assert codec.decode(codec.encode(BitString(bits))) == BitString(bits)


@pytest.mark.parametrize(
    ("oid", "value"),
    [
        (oids.POINT, Point(1.5, -2)),
        (oids.LINE, Line(1, 2, 3)),
        (oids.LSEG, LineSegment((1, 2), (3, 4))),
        (oids.BOX, Box((3, 4), (1, 2))),
        (oids.PATH, Path((1, 2), (3, 4), is_closed=True)),
        (oids.PATH, Path((1, 2))),
        (oids.POLYGON, Polygon((1, 2), (3, 4), (5, 0))),
        (oids.CIRCLE, Circle((1.0, 2.0), 3.0)),  # type: ignore[arg-type]
        (oids.TID, (4294967295, 65535)),
        (oids.PG_LSN, 2**64 - 1),
        (oids.TXID_SNAPSHOT, (10, 20, (10, 14))),
        (oids.POINT_ARRAY, [Point(1, 2), None]),
    ],
)
def test_value_round_trips(oid: int, value: Any) -> None:
    codec = _codec(oid)
    assert codec.decode(codec.encode(value)) == value


def test_path_given_as_tuple_is_closed_and_as_list_is_open() -> None:
    codec = _codec(oids.PATH)
    assert codec.decode(codec.encode(((1, 2), (3, 4)))).is_closed
    assert not codec.decode(codec.encode([(1, 2), (3, 4)])).is_closed


def test_void_decodes_to_none() -> None:
    assert misc.void_decode(b"") is None


def test_text_only_builtins_travel_as_text() -> None:
    for name in ("money", "macaddr", "tsvector", "regclass", "aclitem", "pg_node_tree"):
        codec = BUILTIN.by_name(name)
        assert codec is not None and codec.format == 0, name
    money_array = _codec(oids.MONEY_ARRAY)
    assert money_array.format == 0
    assert money_array.decode(b'{"$1.50",NULL}') == ["$1.50", None]


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("{}", []),
        ('{a,"b c",NULL,"NULL","q\\"x"}', ["a", "b c", None, "NULL", 'q"x']),
        ("{{a,b},{c,d}}", [["a", "b"], ["c", "d"]]),
        ("[0:1]={x,y}", ["x", "y"]),
    ],
)
def test_array_literals_parse_like_the_server_writes_them(literal: str, expected: Any) -> None:
    assert parse_array_literal(literal) == expected


@given(
    st.lists(
        st.one_of(
            st.none(),
            # PostgreSQL text holds neither NUL nor lone surrogates (not valid UTF-8).
            st.text(
                alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
            ),
        ),
        max_size=5,
    )
)
def test_text_array_literals_round_trip(items: list[str | None]) -> None:
    codec = make_text_array_codec(1, text_fallback_codec(2), "_x")
    assert codec.decode(codec.encode(items)) == items


def test_hstore_round_trips_with_null_values() -> None:
    value = {"a": "1", "b": None, "é": ""}
    assert hstore.hstore_decode(hstore.hstore_encode(value)) == value


def test_hstore_rejects_null_keys() -> None:
    with pytest.raises(ValueError):
        hstore.hstore_encode({None: "x"})


def test_interval_tuple_is_months_days_microseconds() -> None:
    encode, decode = TUPLE_CODECS[oids.INTERVAL]
    assert decode(_codec(oids.INTERVAL).encode(__import__("datetime").timedelta(days=2))) == (
        0,
        2,
        0,
    )
    assert decode(encode((14, 3, 5))) == (14, 3, 5)


def test_anonymous_record_cannot_be_encoded() -> None:
    with pytest.raises(UnsupportedClientFeatureError, match="anonymous composite"):
        _codec(oids.RECORD).encode((1,))
