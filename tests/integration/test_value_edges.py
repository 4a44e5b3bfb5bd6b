"""Value and type behaviours asyncpg users rely on, found by running asyncpg's own suite.

Each test states one behaviour; the suite runs in both implementations
(``PGWIRE_IMPL=python`` and ``compiled``).
"""

from __future__ import annotations

import copy
import pickle
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

import pgwire


async def test_zero_column_select_returns_one_fieldless_record_per_row(conn: Any) -> None:
    rows = await conn.fetch("SELECT FROM generate_series(1, 3)")
    assert len(rows) == 3
    assert all(len(row) == 0 and list(row.keys()) == [] for row in rows)


async def test_zero_column_fetchrow_returns_an_empty_record(conn: Any) -> None:
    row = await conn.fetchrow("SELECT")
    assert row is not None and len(row) == 0


async def test_fetched_record_pickles_and_copies(conn: Any) -> None:
    row = await conn.fetchrow("SELECT 1 AS a, 'x' AS b, ARRAY[1, 2] AS c")
    restored = pickle.loads(pickle.dumps(row))
    assert restored == row and list(restored.items()) == list(row.items())
    assert type(restored) is type(row)
    assert copy.copy(row) is row
    assert copy.deepcopy(row) == row


@pytest.mark.parametrize(
    ("value", "expected"),
    [((1, 5), "[1,6)"), ((), "empty"), ((3,), "[3,)"), ((None, 5), "(,6)"), ([2, 4], "[2,5)")],
)
async def test_range_tuple_forms_follow_asyncpg(conn: Any, value: Any, expected: str) -> None:
    assert await conn.fetchval("SELECT $1::int4range::text", value) == expected


async def test_array_type_name_is_element_name_with_brackets(conn: Any) -> None:
    await conn.execute("DROP TYPE IF EXISTS edge_mood; CREATE TYPE edge_mood AS ENUM ('ok')")
    st = await conn.prepare("SELECT $1::uuid[], $2::edge_mood[], $3::int4range[]")
    assert [(t.name, t.kind, t.schema) for t in st.get_parameters()] == [
        ("uuid[]", "array", "pg_catalog"),
        ("edge_mood[]", "array", "public"),
        ("int4range[]", "array", "pg_catalog"),
    ]
    assert [a.type.name for a in st.get_attributes()] == ["uuid[]", "edge_mood[]", "int4range[]"]


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("SELECT '10000-01-01'::date", "date 10000-01-01"),
        ("SELECT '0044-03-15 BC'::timestamp", "timestamp 0044-03-15 BC"),
        ("SELECT '0044-03-15 BC'::timestamptz", "timestamptz 0044-03-1"),
        ("SELECT '178000000 years'::interval", "interval of 178000000 years"),
    ],
)
async def test_value_beyond_the_python_type_raises_overflow_naming_the_range(
    conn: Any, sql: str, named: str
) -> None:
    with pytest.raises((ValueError, OverflowError), match=f"{named}.* is out of range: "):
        await conn.fetchval(sql)
    assert await conn.fetchval("SELECT 1") == 1


async def test_negative_timedelta_reaches_the_server_without_a_day_borrow(conn: Any) -> None:
    assert await conn.fetchval("SELECT $1::interval::text", timedelta(hours=-3)) == "-03:00:00"
    assert await conn.fetchval("SELECT $1::interval", timedelta(hours=-3)) == timedelta(hours=-3)


@pytest.mark.parametrize(
    ("value", "shown"),
    [("1E+1000", "1E+1000"), ("-7E+5000", "-7E+5000"), ("1E+100000", "1E+100000")],
)
async def test_decimal_with_large_exponent_round_trips_in_exponent_form(
    conn: Any, value: str, shown: str
) -> None:
    result = await conn.fetchval("SELECT $1::numeric", Decimal(value))
    assert result == Decimal(value)
    assert str(result) == shown


async def test_alter_type_add_attribute_raises_outdated_schema_then_recovers(conn: Any) -> None:
    await conn.execute(
        "DROP TABLE IF EXISTS edge_alt; DROP TYPE IF EXISTS edge_alt_t;"
        "CREATE TYPE edge_alt_t AS (a int, b text); CREATE TABLE edge_alt (v edge_alt_t);"
        "INSERT INTO edge_alt VALUES (ROW(1, 'x'))"
    )
    assert await conn.fetchval("SELECT v FROM edge_alt") == (1, "x")
    await conn.execute("ALTER TYPE edge_alt_t ADD ATTRIBUTE c int")
    with pytest.raises(pgwire.exceptions.OutdatedSchemaCacheError, match="edge_alt_t changed"):
        await conn.fetchval("SELECT v FROM edge_alt")
    value = await conn.fetchval("SELECT v FROM edge_alt")
    assert list(value.items()) == [("a", 1), ("b", "x"), ("c", None)]


async def test_alter_type_replacing_an_attribute_raises_outdated_schema_then_recovers(
    conn: Any,
) -> None:
    await conn.execute(
        "DROP TABLE IF EXISTS edge_alt2; DROP TYPE IF EXISTS edge_alt2_t;"
        "CREATE TYPE edge_alt2_t AS (a int, b text); CREATE TABLE edge_alt2 (v edge_alt2_t);"
        "INSERT INTO edge_alt2 VALUES (ROW(1, 'x'))"
    )
    assert await conn.fetchval("SELECT v FROM edge_alt2") == (1, "x")
    await conn.execute("ALTER TYPE edge_alt2_t DROP ATTRIBUTE b, ADD ATTRIBUTE c int")
    with pytest.raises(pgwire.exceptions.OutdatedSchemaCacheError):
        await conn.fetchval("SELECT v FROM edge_alt2")
    assert list((await conn.fetchval("SELECT v FROM edge_alt2")).items()) == [
        ("a", 1),
        ("c", None),
    ]


@pytest.mark.parametrize(("value", "text"), [(0, "0/0"), (2**64 - 1, "FFFFFFFF/FFFFFFFF")])
async def test_pg_lsn_takes_and_returns_the_whole_unsigned_64_bit_range(
    conn: Any, value: int, text: str
) -> None:
    assert await conn.fetchval("SELECT $1::pg_lsn::text", value) == text
    assert await conn.fetchval(f"SELECT '{text}'::pg_lsn") == value


async def test_time_24_00_is_a_value_error_naming_the_range(conn) -> None:
    # PostgreSQL allows 24:00:00; datetime.time does not. asyncpg raises ValueError.
    with pytest.raises(ValueError, match="24:00:00 is out of range"):
        await conn.fetchval("SELECT '24:00'::time")
    assert await conn.fetchval("SELECT 1") == 1
