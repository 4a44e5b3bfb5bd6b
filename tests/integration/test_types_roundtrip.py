"""Every builtin type with a binary codec, through a real connection.

Each case sends a value as a query argument and reads it back, and checks
what the server's own literals decode to; the expectations are asyncpg's.
Uses the ``conn`` fixture: an open pgwire connection (server time zone UTC).
"""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from pgwire import exceptions

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
    ("timestamp", datetime.max),
    ("timestamp", datetime.min),
    ("timestamptz", datetime(2024, 2, 29, 12, 34, 56, 789012, tzinfo=UTC)),
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
