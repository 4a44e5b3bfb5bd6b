"""Every builtin type with a binary codec, through a real connection.

Each case sends a value as a query argument and reads it back, and checks
what the server's own literals decode to; the expectations are asyncpg's.
Uses the ``conn`` fixture: an open pgwire connection (server time zone UTC).
"""

from __future__ import annotations

import ipaddress
import math
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from pgwire import exceptions
from pgwire.types import BitString, Box, Circle, Line, LineSegment, Path, Point, Polygon, Range

UTC = timezone.utc
PLUS3 = timezone(timedelta(hours=3))

ROUND_TRIPS: list[tuple[str, Any]] = [
    ("bool", True),
    ("bool", False),
    ("int2", -32768),
    ("int2", 32767),
    ("int4", -(2**31)),
    ("int4", 2**31 - 1),
    ("int8", -(2**63)),
    ("int8", 2**63 - 1),
    ("oid", 4294967295),
    ("xid", 42),
    ("cid", 7),
    ("xid8", 2**64 - 1),
    ("float4", 1.5),
    ("float4", math.inf),
    ("float8", -math.inf),
    ("float8", 1e-300),
    ("numeric", Decimal("1.500")),
    ("numeric", Decimal("-12345.6789")),
    ("numeric", Decimal("0.00012")),
    ("numeric", Decimal("123456789012345678901234567890.123456789")),
    ("numeric", Decimal("0.000")),
    ("numeric", Decimal("Infinity")),
    ("numeric", Decimal("-Infinity")),
    ("text", "héllo wörld"),
    ("text", ""),
    ("varchar", "abc"),
    ("name", "a_name"),
    ("bpchar", "ab"),
    ('"char"', b"z"),
    ("bytea", b"\x00\xff\x01"),
    ("bytea", b""),
    ("xml", "<a>1</a>"),
    ("uuid", uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")),
    ("date", date(2024, 2, 29)),
    ("date", date(1, 1, 2)),
    ("date", date.max),
    ("date", date.min),
    ("time", time(12, 34, 56, 789012)),
    ("timetz", time(12, 0, tzinfo=PLUS3)),
    ("timestamp", datetime(2024, 2, 29, 12, 34, 56, 789012)),
    ("timestamp", datetime(1970, 1, 1)),
    ("timestamp", datetime(1969, 7, 20, 20, 17, 40, 123456)),  # before 2000, not midnight
    ("timestamp", datetime(1, 1, 1, 0, 0, 0, 1)),
    ("timestamp", datetime.max),
    ("timestamp", datetime.min),
    ("timestamptz", datetime(2024, 2, 29, 12, 34, 56, 789012, tzinfo=UTC)),
    ("timestamptz", datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ("timestamptz", datetime.max),
    ("timestamptz", datetime.min),
    ("interval", timedelta(days=45, microseconds=-1)),
    ("interval", timedelta(microseconds=-1)),
    ("interval", timedelta(0)),
    ("json", '{"a": [1, 2]}'),
    ("jsonb", '{"a": [1, 2]}'),
    ("int4[]", [1, None, 3]),
    ("int4[]", []),
    ("int4[]", [[1, 2], [3, 4]]),
    ("int8[]", [[[1]], [[2]]]),
    ("text[]", ["a", None, "b c", ""]),
    ("numeric[]", [Decimal("1.50"), None]),
    ("bool[]", [True, False, None]),
    ("uuid[]", [uuid.UUID(int=1)]),
    ("date[]", [date(2000, 1, 1), date.max]),
    ("timestamptz[]", [datetime(2000, 1, 1, tzinfo=UTC)]),
    ("bytea[]", [b"a", None]),
    ("jsonb[]", ['{"a": 1}']),
]


@pytest.mark.parametrize(("sqltype", "value"), ROUND_TRIPS)
async def test_argument_round_trips(conn: Any, sqltype: str, value: Any) -> None:
    assert await conn.fetchval(f"SELECT $1::{sqltype}", value) == value


async def test_float_nan_round_trips(conn: Any) -> None:
    assert math.isnan(await conn.fetchval("SELECT $1::float8", math.nan))


async def test_numeric_nan_round_trips(conn: Any) -> None:
    assert (await conn.fetchval("SELECT $1::numeric", Decimal("NaN"))).is_nan()


async def test_numeric_of_more_than_4300_digits_decodes(conn: Any) -> None:
    # Past the limit of str(int) (sys.get_int_max_str_digits), well within numeric's.
    value = await conn.fetchval(
        "SELECT ('-' || repeat('7', 20000) || '.' || repeat('1', 9000))::numeric"
    )
    assert value == Decimal("-" + "7" * 20000 + "." + "1" * 9000)
    assert await conn.fetchval("SELECT $1::numeric = $2::text::numeric", value, str(value))


async def test_numeric_keeps_display_scale(conn: Any) -> None:
    assert str(await conn.fetchval("SELECT $1::numeric", Decimal("1.500"))) == "1.500"


LITERALS: list[tuple[str, Any]] = [
    ("SELECT 1.500::numeric", Decimal("1.500")),
    ("SELECT 'NaN'::numeric", Decimal("NaN")),
    ("SELECT 'x'::bpchar(3)", "x  "),
    ("SELECT 'a'::\"char\"", b"a"),
    ("SELECT '{\"a\":1}'::jsonb", '{"a": 1}'),
    ("SELECT '$.a'::jsonpath", '$."a"'),
    ("SELECT 'infinity'::date", date.max),
    ("SELECT '-infinity'::date", date.min),
    ("SELECT 'infinity'::timestamp", datetime.max),
    ("SELECT 'infinity'::timestamptz", datetime.max),
    ("SELECT '-infinity'::timestamptz", datetime.min),
    ("SELECT '2000-01-01 12:00+03'::timestamptz", datetime(2000, 1, 1, 9, tzinfo=UTC)),
    ("SELECT '12:00+03'::timetz", time(12, tzinfo=PLUS3)),
    ("SELECT '1 mon'::interval", timedelta(days=30)),
    (
        "SELECT '1 year 2 mons 3 days -04:05:06.7'::interval",
        timedelta(days=428) - timedelta(hours=4, minutes=5, seconds=6.7),
    ),
    ("SELECT '-1 mons -1 day'::interval", timedelta(days=-31)),
    ("SELECT '-1 year -2 mons'::interval", timedelta(days=-425)),
    ("SELECT '[2:3]={1,2}'::int4[]", [1, 2]),
    ("SELECT '{{1,2},{3,NULL}}'::int4[]", [[1, 2], [3, None]]),
    ("SELECT '{}'::text[]", []),
    ("SELECT 'abc'::unknown", "abc"),
    ("SELECT '<a/>'::xml", "<a/>"),
]


@pytest.mark.parametrize(("sql", "expected"), LITERALS)
async def test_server_literal_decodes_like_asyncpg(conn: Any, sql: str, expected: Any) -> None:
    value = await conn.fetchval(sql)
    if isinstance(expected, Decimal) and expected.is_nan():
        assert value.is_nan()
    else:
        assert value == expected


async def test_timestamptz_decodes_as_aware_utc(conn: Any) -> None:
    value = await conn.fetchval("SELECT '2000-01-01 12:00+03'::timestamptz")
    assert value.utcoffset() == timedelta(0)


async def test_timestamptz_argument_with_offset_is_the_same_instant(conn: Any) -> None:
    value = datetime(2000, 1, 1, 12, tzinfo=PLUS3)
    assert await conn.fetchval("SELECT $1::timestamptz", value) == value


async def test_uuid_argument_accepts_str(conn: Any) -> None:
    text = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
    assert await conn.fetchval("SELECT $1::uuid", text) == uuid.UUID(text)


async def test_array_argument_accepts_tuple(conn: Any) -> None:
    assert await conn.fetchval("SELECT $1::int4[]", (1, 2)) == [1, 2]


async def test_int_argument_truncates_float_like_asyncpg(conn: Any) -> None:
    assert await conn.fetchval("SELECT $1::int4", 1.5) == 1


async def test_numeric_argument_accepts_int_and_str(conn: Any) -> None:
    assert await conn.fetchval("SELECT $1::numeric", 3) == Decimal(3)
    assert await conn.fetchval("SELECT $1::numeric", "1.5") == Decimal("1.5")


BAD_ARGUMENTS: list[tuple[str, Any, str]] = [
    ("int4", "1", "an int is required"),
    ("int2", 40000, "out of int16 range"),
    ("oid", -1, "out of uint32 range"),
    ("bool", 1, "a boolean is required"),
    ("text", 1, "expected str, got int"),
    ("bytea", "x", "a bytes-like object is required"),
    ("float8", "1", "a float is required"),
    ("float4", 1e300, "out of float32 range"),
    ("jsonb", {"a": 1}, "expected str, got dict"),
    ("date", "2000-01-01", "a date is required"),
    ("int4[]", "abc", "a sized iterable container expected"),
    ("int4[]", [[1], [2, 3]], "non-homogeneous array"),
]


@pytest.mark.parametrize(("sqltype", "value", "message"), BAD_ARGUMENTS)
async def test_bad_argument_raises_data_error(
    conn: Any, sqltype: str, value: Any, message: str
) -> None:
    with pytest.raises(exceptions.DataError, match=r"invalid input for query argument \$1"):
        await conn.fetchval(f"SELECT $1::{sqltype}", value)
    with pytest.raises(exceptions.DataError, match=message):
        await conn.fetchval(f"SELECT $1::{sqltype}", value)


async def test_null_argument_round_trips_as_none(conn: Any) -> None:
    assert await conn.fetchval("SELECT $1::int4", None) is None


# ---------------------------------------------------------------------------
# The rest of the builtin types: network, bits, geometry, system types, text I/O,
# ranges and multiranges. Server literals are compared with what asyncpg
# itself returns for the same SQL on the same server.

PARITY_SQL = [
    "SELECT '12.5'::money",
    "SELECT '{1.5,2}'::money[]",
    "SELECT B'10110'",
    "SELECT B'101'::varbit(8)",
    "SELECT '{101,NULL}'::varbit[]",
    "SELECT '1.2.3.4/24'::inet",
    "SELECT '1.2.3.4'::inet",
    "SELECT '::1/64'::inet",
    "SELECT '::1'::inet",
    "SELECT '1.2.3.0/24'::cidr",
    "SELECT '2001:db8::/32'::cidr",
    "SELECT '{10.0.0.1,NULL}'::inet[]",
    "SELECT '08:00:2b:01:02:03'::macaddr",
    "SELECT '08:00:2b:01:02:03:04:05'::macaddr8",
    "SELECT '(1,2)'::point",
    "SELECT '{1,2,3}'::line",
    "SELECT '[(1,2),(3,4)]'::lseg",
    "SELECT '(1,2),(3,4)'::box",
    "SELECT '{(1,2),(3,4);(5,6),(7,8)}'::box[]",
    "SELECT '[(1,2),(3,4)]'::path",
    "SELECT '((1,2),(3,4))'::path",
    "SELECT '((1,2),(3,4),(5,0))'::polygon",
    "SELECT '<(1,2),3>'::circle",
    "SELECT '(1,2)'::tid",
    "SELECT '{\"(1,2)\",NULL}'::tid[]",
    "SELECT '42'::xid",
    "SELECT '42'::xid8",
    "SELECT '7'::cid",
    "SELECT '16/B374D848'::pg_lsn",
    "SELECT '10:20:10,14,15'::txid_snapshot",
    "SELECT '10:20:'::pg_snapshot",
    "SELECT 'a fat cat'::tsvector",
    "SELECT 'fat & (rat | cat)'::tsquery",
    "SELECT ARRAY['a b'::tsvector, NULL, 'c\"d']",
    "SELECT '{{a,b},{c,d}}'::tsvector[]",
    "SELECT '$.a[*] ? (@ > 1)'::jsonpath",
    "SELECT '<a>x</a>'::xml",
    "SELECT 'pg_class'::regclass",
    "SELECT 'int4'::regtype",
    "SELECT 'sum(int4)'::regprocedure",
    "SELECT 'now'::regproc",
    "SELECT '+(int4,int4)'::regoperator",
    "SELECT 'english'::regconfig",
    "SELECT 'simple'::regdictionary",
    "SELECT 'pg_catalog'::regnamespace",
    "SELECT 'default'::regcollation",
    "SELECT ARRAY['pg_class'::regclass, 'pg_type']",
    "SELECT 'cur'::refcursor",
    "SELECT 'postgres=arwdDxt/postgres'::aclitem",
    "SELECT (SELECT relacl FROM pg_class WHERE relacl IS NOT NULL LIMIT 1)",
    "SELECT pg_sleep(0)",
    "SELECT 'x'::unknown",
    "SELECT 'x'::cstring",
    "SELECT '1 2'::int2vector",
    "SELECT '1 2'::oidvector",
    "SELECT ROW(1, 'a', NULL, ROW(2.5, 'x'::text))",
    "SELECT ARRAY[ROW(1, 'a'), NULL]",
    "SELECT '[1,5)'::int4range",
    "SELECT 'empty'::int4range",
    "SELECT '(,)'::int8range",
    "SELECT '[1.5,]'::numrange",
    "SELECT '[2024-01-01,2024-02-01)'::daterange",
    "SELECT '[2024-01-01 10:00,)'::tsrange",
    "SELECT '[2024-01-01 10:00+03,2024-01-02 00:00+00]'::tstzrange",
    "SELECT '{[1,3),[5,6)}'::int4multirange",
    "SELECT '{}'::nummultirange",
    "SELECT '{\"[1,2)\",empty,NULL}'::int4range[]",
    "SELECT ARRAY['{[1,2)}'::int8multirange]",
]


def _comparable(value: Any) -> Any:
    """Values of asyncpg's and pgwire's own value types, made comparable."""
    name = type(value).__name__
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, tuple):
        return (name, tuple(_comparable(v) for v in value))
    if name == "Range":
        if value.isempty:
            return ("Range", "empty")
        return ("Range", value.lower, value.upper, value.lower_inc, value.upper_inc)
    if name in ("Path", "Polygon"):
        return (name, tuple(map(tuple, value)), value.is_closed)
    if name == "BitString":
        return (name, value.as_string())
    if name == "Record":
        return (name, tuple(_comparable(v) for v in value.values()))
    return value


@pytest.fixture
async def asyncpg_conn(dsn: str) -> Any:
    asyncpg = pytest.importorskip("asyncpg")
    connection = await asyncpg.connect(dsn)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.mark.parametrize("sql", PARITY_SQL)
async def test_literal_decodes_exactly_as_asyncpg_does(
    conn: Any, asyncpg_conn: Any, sql: str
) -> None:
    theirs = await asyncpg_conn.fetchval(sql)
    ours = await conn.fetchval(sql)
    assert _comparable(ours) == _comparable(theirs)
    assert type(ours).__name__ == type(theirs).__name__


MORE_ROUND_TRIPS: list[tuple[str, Any]] = [
    ("bit(5)", BitString("10110")),
    ("varbit", BitString("")),
    ("varbit", BitString("1" * 70)),
    ("varbit[]", [BitString("1"), None]),
    ("inet", ipaddress.IPv4Address("10.0.0.1")),
    ("inet", ipaddress.IPv4Interface("10.0.0.1/8")),
    ("inet", ipaddress.IPv6Address("::1")),
    ("inet", ipaddress.IPv6Interface("2001:db8::1/64")),
    ("cidr", ipaddress.IPv4Network("10.0.0.0/8")),
    ("cidr", ipaddress.IPv6Network("2001:db8::/32")),
    ("inet[]", [ipaddress.IPv4Address("10.0.0.1"), None]),
    ("macaddr", "08:00:2b:01:02:03"),
    ("macaddr8", "08:00:2b:01:02:03:04:05"),
    ("money", "$1.50"),
    ("money[]", ["$1.50", None]),
    ("point", Point(1.5, -2)),
    ("line", Line(1, 2, 3)),
    ("lseg", LineSegment((1, 2), (3, 4))),
    ("box", Box((3, 4), (1, 2))),
    ("path", Path((1, 2), (3, 4), is_closed=True)),
    ("path", Path((1, 2), (3, 4))),
    ("polygon", Polygon((1, 2), (3, 4), (5, 0))),
    ("circle", Circle((1.0, 2.0), 3.0)),  # type: ignore[arg-type]
    ("point[]", [Point(1, 2), None]),
    ("box[]", [Box((3, 4), (1, 2))]),
    ("tid", (42, 7)),
    ("pg_lsn", 2**40 + 5),
    ("txid_snapshot", (10, 20, (10, 14, 15))),
    ("pg_snapshot", (10, 20, ())),
    ("tsvector", "'a' 'b'"),
    ("tsquery", "'a' & 'b'"),
    ("tsvector[]", ["'a' 'b'", None, "'c\"d'"]),
    ("jsonpath", '$."a"'),
    ("xml[]", ["<a/>", None]),
    ("regclass", "pg_class"),
    ("regtype[]", ["integer", "text"]),
    ("int2vector", [1, 2]),
    ("oidvector", [1, 2]),
    ("int4range", Range(1, 5)),
    ("int4range", Range(empty=True)),
    ("int4range", Range(None, 5)),
    ("int8range", Range(1, None)),
    ("numrange", Range(Decimal("1.5"), Decimal("2.5"), upper_inc=True)),
    ("daterange", Range(date(2024, 1, 1), date(2024, 2, 1))),
    ("tsrange", Range(datetime(2024, 1, 1), None)),
    ("tstzrange", Range(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))),
    ("int4range[]", [Range(1, 2), None, Range(empty=True)]),
    ("int4multirange", [Range(1, 3), Range(5, 6)]),
    ("int4multirange", []),
    ("datemultirange", [Range(date(2024, 1, 1), date(2024, 1, 3))]),
]


@pytest.mark.parametrize(("sqltype", "value"), MORE_ROUND_TRIPS)
async def test_more_argument_round_trips(conn: Any, sqltype: str, value: Any) -> None:
    assert await conn.fetchval(f"SELECT $1::{sqltype}", value) == value


async def test_range_argument_accepts_a_pair_with_inclusive_bounds(conn: Any) -> None:
    assert await conn.fetchval("SELECT $1::int4range", (1, 5)) == Range(1, 6)
    assert await conn.fetchval("SELECT $1::int4range", [None, 5]) == Range(None, 6)


async def test_inet_and_cidr_arguments_accept_str(conn: Any) -> None:
    assert await conn.fetchval("SELECT $1::inet", "10.0.0.1/8") == ipaddress.IPv4Interface(
        "10.0.0.1/8"
    )
    assert await conn.fetchval("SELECT $1::cidr", "10.0.0.0/8") == ipaddress.IPv4Network(
        "10.0.0.0/8"
    )


async def test_anonymous_record_decodes_arrays_and_ranges_in_fields(conn: Any) -> None:
    value = await conn.fetchval("SELECT ROW(ARRAY[1, NULL], '[1,2)'::int4range, 'a'::text)")
    assert value == ([1, None], Range(1, 2), "a")


async def test_anonymous_record_argument_is_rejected_like_asyncpg(conn: Any) -> None:
    with pytest.raises(
        exceptions.UnsupportedClientFeatureError,
        match=r"query argument \$1: input of anonymous composite types is not supported",
    ):
        await conn.fetchval("SELECT $1::record", (1, 2))
    assert await conn.fetchval("SELECT 1") == 1


async def test_void_decodes_as_none(conn: Any) -> None:
    assert await conn.fetchval("SELECT pg_sleep(0)") is None


async def test_odd_datestyle_and_intervalstyle_do_not_change_decoded_values(conn: Any) -> None:
    await conn.execute("SET DateStyle = 'SQL, DMY'; SET IntervalStyle = 'iso_8601'")
    row = await conn.fetchrow(
        "SELECT '2024-02-29 12:34:56'::timestamp AS ts, '2024-02-29'::date AS d, "
        "'1 day 02:00'::interval AS i, $1::date AS arg",
        date(2024, 3, 1),
    )
    assert row["ts"] == datetime(2024, 2, 29, 12, 34, 56)
    assert row["d"] == date(2024, 2, 29)
    assert row["i"] == timedelta(days=1, hours=2)
    assert row["arg"] == date(2024, 3, 1)


MORE_BAD_ARGUMENTS: list[tuple[str, Any, str]] = [
    ("int4range", Range(1, "x"), "int"),
    ("int4range", (1, 2, 3), "expected 0, 1 or 2 elements"),
    ("int4range", 5, "expected a Range"),
    ("inet", 1.5, "expected str or an ipaddress object"),
    ("point", "1,2", "expected Point"),
    ("varbit", "101", "expected BitString"),
    ("tid", (1, -1), "out of range"),
]


@pytest.mark.parametrize(("sqltype", "value", "message"), MORE_BAD_ARGUMENTS)
async def test_more_bad_arguments_raise_data_error_and_leave_the_connection_usable(
    conn: Any, sqltype: str, value: Any, message: str
) -> None:
    with pytest.raises(exceptions.DataError, match=message):
        await conn.fetchval(f"SELECT $1::{sqltype}", value)
    assert await conn.fetchval("SELECT 1") == 1
