"""set_type_codec, reset_type_codec and set_builtin_type_codec, with asyncpg's rules."""

from __future__ import annotations

import json
import struct
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest

import pgwire
from pgwire import exceptions


@pytest.fixture
async def tconn(dsn: str) -> AsyncIterator[Any]:
    """A connection with a few user-defined types in schema ``cc``."""
    connection = await pgwire.connect(dsn)
    await connection.execute(
        """
        DROP SCHEMA IF EXISTS cc CASCADE;
        CREATE SCHEMA cc;
        CREATE TYPE cc.pair AS (a int4, b text);
        CREATE DOMAIN cc.posint AS int4 CHECK (VALUE > 0);
        CREATE TYPE cc.mood AS ENUM ('sad', 'happy');
        """
    )
    try:
        yield connection
    finally:
        await connection.execute("DROP SCHEMA IF EXISTS cc CASCADE")
        await connection.close()


async def test_jsonb_codec_from_the_seed_example(conn: Any) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    assert await conn.fetchval("SELECT $1::jsonb", {"a": [1, 2]}) == {"a": [1, 2]}
    assert await conn.fetchval("SELECT '{\"b\": null}'::jsonb") == {"b": None}


async def test_custom_scalar_codec_applies_to_its_arrays(conn: Any) -> None:
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    assert await conn.fetchval("SELECT $1::json[]", [{"a": 1}, None]) == [{"a": 1}, None]


async def test_codec_change_applies_to_statements_prepared_before(conn: Any) -> None:
    assert await conn.fetchval("SELECT '[1]'::jsonb") == "[1]"
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    assert await conn.fetchval("SELECT '[1]'::jsonb") == [1]


async def test_reset_type_codec_restores_the_default(conn: Any) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.reset_type_codec("jsonb", schema="pg_catalog")
    assert await conn.fetchval("SELECT '[1]'::jsonb") == "[1]"
    assert await conn.fetchval("SELECT ARRAY['[1]'::jsonb]") == ["[1]"]


async def test_binary_format_codec_sees_wire_bytes(conn: Any) -> None:
    await conn.set_type_codec(
        "int4",
        schema="pg_catalog",
        encoder=lambda v: struct.pack("!i", int(v)),
        decoder=lambda b: ("int4", struct.unpack("!i", b)[0]),
        format="binary",
    )
    assert await conn.fetchval("SELECT $1::int4", "41") == ("int4", 41)


async def test_text_format_codec_sees_server_text(conn: Any) -> None:
    await conn.set_type_codec(
        "numeric", schema="pg_catalog", encoder=str, decoder=lambda s: f"<{s}>"
    )
    assert await conn.fetchval("SELECT $1::numeric", 1.25) == "<1.25>"


@pytest.mark.parametrize(
    ("typename", "literal", "expected"),
    [
        ("interval", "'2 years 3 mons 1 day 1 sec'", (27, 1, 1_000_000)),
        ("date", "'2000-01-11'", (10,)),
        ("timestamp", "'2000-01-01 00:00:01'", (1_000_000,)),
        ("timestamptz", "'2000-01-01 00:00:01+00'", (1_000_000,)),
        ("time", "'00:00:02'", (2_000_000,)),
        ("timetz", "'00:00:02+01'", (2_000_000, -3600)),
    ],
)
async def test_tuple_format_gives_asyncpg_layouts(
    conn: Any, typename: str, literal: str, expected: tuple[int, ...]
) -> None:
    await conn.set_type_codec(
        typename, schema="pg_catalog", encoder=lambda t: t, decoder=lambda t: t, format="tuple"
    )
    assert await conn.fetchval(f"SELECT {literal}::{typename}") == expected
    assert await conn.fetchval(f"SELECT $1::{typename}", expected) == expected


async def test_tuple_format_interval_with_converters(conn: Any) -> None:
    await conn.set_type_codec(
        "interval",
        schema="pg_catalog",
        encoder=lambda td: (0, td.days, td.seconds * 1_000_000),
        decoder=lambda t: (t[0], timedelta(days=t[1], microseconds=t[2])),
        format="tuple",
    )
    assert await conn.fetchval("SELECT $1::interval", timedelta(days=2, seconds=5)) == (
        0,
        timedelta(days=2, seconds=5),
    )


async def test_tuple_format_on_a_type_without_one_is_an_interface_error(conn: Any) -> None:
    with pytest.raises(exceptions.InterfaceError, match="does not support the 'tuple'"):
        await conn.set_type_codec(
            "int4", schema="pg_catalog", encoder=str, decoder=int, format="tuple"
        )


async def test_composite_tuple_codec_sees_attribute_values(tconn: Any) -> None:
    await tconn.set_type_codec(
        "pair",
        schema="cc",
        encoder=lambda d: (d["a"], d["b"]),
        decoder=lambda t: {"a": t[0], "b": t[1]},
        format="tuple",
    )
    assert await tconn.fetchval("SELECT $1::cc.pair", {"a": 1, "b": "x"}) == {"a": 1, "b": "x"}
    assert await tconn.fetchval("SELECT ARRAY[ROW(2, 'y')::cc.pair]") == [{"a": 2, "b": "y"}]


async def test_composite_with_non_tuple_format_is_unsupported(tconn: Any) -> None:
    with pytest.raises(exceptions.UnsupportedClientFeatureError, match="tuple-format"):
        await tconn.set_type_codec("pair", schema="cc", encoder=str, decoder=str)


async def test_array_type_cannot_take_a_custom_codec(tconn: Any) -> None:
    with pytest.raises(exceptions.InterfaceError, match="neither a scalar type nor a composite"):
        await tconn.set_type_codec("_int4", schema="pg_catalog", encoder=str, decoder=str)


async def test_range_type_cannot_take_a_custom_codec(tconn: Any) -> None:
    with pytest.raises(exceptions.InterfaceError, match="neither a scalar type nor a composite"):
        await tconn.set_type_codec("int4range", schema="pg_catalog", encoder=str, decoder=str)


async def test_domain_cannot_take_a_custom_codec(tconn: Any) -> None:
    with pytest.raises(exceptions.UnsupportedClientFeatureError, match="domain"):
        await tconn.set_type_codec("posint", schema="cc", encoder=str, decoder=str)


async def test_unknown_type_name_is_a_value_error(conn: Any) -> None:
    with pytest.raises(ValueError, match="unknown type: public.nope"):
        await conn.set_type_codec("nope", encoder=str, decoder=str)


async def test_enum_custom_codec_is_used_and_domain_follows_base_codec(tconn: Any) -> None:
    await tconn.set_type_codec("mood", schema="cc", encoder=str.lower, decoder=str.upper)
    assert await tconn.fetchval("SELECT $1::cc.mood", "SAD") == "SAD"
    await tconn.set_type_codec("int4", schema="pg_catalog", encoder=str, decoder=lambda s: -int(s))
    assert await tconn.fetchval("SELECT 5::cc.posint") == -5


async def test_set_builtin_type_codec_aliases_a_builtin_codec(tconn: Any) -> None:
    await tconn.execute("CREATE DOMAIN cc.mytext AS text")
    await tconn.execute("CREATE TYPE cc.myint")
    await tconn.execute(
        "CREATE FUNCTION cc.myint_in(cstring) RETURNS cc.myint LANGUAGE internal "
        "IMMUTABLE STRICT AS 'int4in';"
        "CREATE FUNCTION cc.myint_out(cc.myint) RETURNS cstring LANGUAGE internal "
        "IMMUTABLE STRICT AS 'int4out';"
        "CREATE FUNCTION cc.myint_recv(internal) RETURNS cc.myint LANGUAGE internal "
        "IMMUTABLE STRICT AS 'int4recv';"
        "CREATE FUNCTION cc.myint_send(cc.myint) RETURNS bytea LANGUAGE internal "
        "IMMUTABLE STRICT AS 'int4send';"
        "CREATE TYPE cc.myint (INPUT = cc.myint_in, OUTPUT = cc.myint_out, "
        "RECEIVE = cc.myint_recv, SEND = cc.myint_send, LIKE = int4)"
    )
    assert await tconn.fetchval("SELECT '7'::cc.myint") == "7"
    await tconn.set_builtin_type_codec("myint", schema="cc", codec_name="int4")
    assert await tconn.fetchval("SELECT '7'::cc.myint") == 7
    assert await tconn.fetchval("SELECT $1::cc.myint", 8) == 8
    await tconn.set_builtin_type_codec("myint", schema="cc", codec_name="int4", format="text")
    assert await tconn.fetchval("SELECT '7'::cc.myint") == "7"


async def test_set_builtin_type_codec_rejects_non_scalar_types(tconn: Any) -> None:
    with pytest.raises(exceptions.InterfaceError, match="cannot alias non-scalar type"):
        await tconn.set_builtin_type_codec("pair", schema="cc", codec_name="text")


async def test_codecs_are_per_connection(conn: Any, dsn: str) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    other = await pgwire.connect(dsn)
    try:
        assert await other.fetchval("SELECT '[1]'::jsonb") == "[1]"
    finally:
        await other.close()


async def test_custom_codec_survives_reload_schema_state(conn: Any) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.reload_schema_state()
    assert await conn.fetchval("SELECT ARRAY['[1]'::jsonb]") == [[1]]


async def test_decoder_error_surfaces_and_connection_stays_usable(conn: Any) -> None:
    def boom(_: str) -> Any:
        raise RuntimeError("decoder failed")

    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=boom, schema="pg_catalog")
    with pytest.raises(Exception, match="decoder failed"):
        await conn.fetchval("SELECT '1'::jsonb")
    assert await conn.fetchval("SELECT 1") == 1


async def test_datetime_types_unaffected_by_other_custom_codecs(conn: Any) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    assert await conn.fetchval("SELECT '2024-01-02'::date") == date(2024, 1, 2)
    assert await conn.fetchval("SELECT '2024-01-02 03:04'::timestamp") == datetime(
        2024, 1, 2, 3, 4
    )


@pytest.mark.parametrize(
    ("spelling", "sql"),
    [
        ("integer", "SELECT 5::int4"),
        ("int", "SELECT 5::int4"),
        ("smallint", "SELECT 5::int2"),
        ("bigint", "SELECT 5::int8"),
        ("decimal", "SELECT 5::numeric"),
        ("real", "SELECT 5::float4"),
        ("double precision", "SELECT 5::float8"),
        ("character varying", "SELECT '5'::varchar"),
        ("CHARACTER  VARYING", "SELECT '5'::varchar"),
        ("character", "SELECT '5'::bpchar"),
        ("bit varying", "SELECT B'101'::varbit"),
        ("timestamp with time zone", "SELECT '2020-01-02 03:04:05+00'::timestamptz"),
        ("timestamp without timezone", "SELECT '2020-01-02 03:04:05'::timestamp"),
        ("time with time zone", "SELECT '03:04:05+00'::timetz"),
    ],
)
async def test_set_type_codec_accepts_sql_standard_spellings(
    conn: Any, spelling: str, sql: str
) -> None:
    await conn.set_type_codec(
        spelling, schema="pg_catalog", encoder=str, decoder=lambda s: f"<{s}>", format="text"
    )
    assert (await conn.fetchval(sql)).startswith("<")
    await conn.reset_type_codec(spelling, schema="pg_catalog")
    assert not repr(await conn.fetchval(sql)).startswith("'<")


async def test_set_builtin_type_codec_accepts_a_sql_standard_codec_name(tconn: Any) -> None:
    await tconn.execute("CREATE TYPE cc.myfloat")
    await tconn.execute(
        "CREATE FUNCTION cc.myfloat_in(cstring) RETURNS cc.myfloat LANGUAGE internal "
        "IMMUTABLE STRICT AS 'float8in';"
        "CREATE FUNCTION cc.myfloat_out(cc.myfloat) RETURNS cstring LANGUAGE internal "
        "IMMUTABLE STRICT AS 'float8out';"
        "CREATE FUNCTION cc.myfloat_recv(internal) RETURNS cc.myfloat LANGUAGE internal "
        "IMMUTABLE STRICT AS 'float8recv';"
        "CREATE FUNCTION cc.myfloat_send(cc.myfloat) RETURNS bytea LANGUAGE internal "
        "IMMUTABLE STRICT AS 'float8send';"
        "CREATE TYPE cc.myfloat (INPUT = cc.myfloat_in, OUTPUT = cc.myfloat_out, "
        "RECEIVE = cc.myfloat_recv, SEND = cc.myfloat_send, LIKE = float8)"
    )
    await tconn.set_builtin_type_codec("myfloat", schema="cc", codec_name="double precision")
    assert await tconn.fetchval("SELECT '1.5'::cc.myfloat") == 1.5


async def test_user_codec_on_oid_does_not_break_type_introspection(conn: Any) -> None:
    # The driver's catalog queries bind and read oids: a user codec on oid
    # (here one that maps them to tuples) must not reach them.
    await conn.set_type_codec(
        "oid",
        schema="pg_catalog",
        encoder=lambda v: str(v[0]),
        decoder=lambda s: (int(s),),
        format="text",
    )
    await conn.execute(
        "DROP TABLE IF EXISTS oid_codec_t; DROP DOMAIN IF EXISTS oid_codec_d;"
        "CREATE DOMAIN oid_codec_d AS numeric[]; CREATE TABLE oid_codec_t (v oid_codec_d)"
    )
    await conn.execute("INSERT INTO oid_codec_t VALUES ($1)", [1, 2])
    assert await conn.fetchval("SELECT v FROM oid_codec_t") == [1, 2]
    assert await conn.fetchval("SELECT 'int4'::regtype::oid") == (23,)
    await conn.execute("DROP TABLE oid_codec_t; DROP DOMAIN oid_codec_d")


async def test_user_codec_on_name_does_not_break_type_lookup_by_name(tconn: Any) -> None:
    await tconn.set_type_codec(
        "name", schema="pg_catalog", encoder=lambda v: v.upper(), decoder=str, format="text"
    )
    await tconn.set_type_codec(
        "mood", schema="cc", encoder=str, decoder=lambda s: f"mood:{s}", format="text"
    )
    assert await tconn.fetchval("SELECT 'happy'::cc.mood") == "mood:happy"


@pytest.fixture
async def text_only_composite(tconn: Any) -> Any:
    """``cc.cnb``: a composite whose attribute type (``cc.nb``) has no binary I/O."""
    await tconn.execute(
        "CREATE TYPE cc.nb;"
        "CREATE FUNCTION cc.nb_in(cstring) RETURNS cc.nb LANGUAGE internal "
        "IMMUTABLE STRICT AS 'textin';"
        "CREATE FUNCTION cc.nb_out(cc.nb) RETURNS cstring LANGUAGE internal "
        "IMMUTABLE STRICT AS 'textout';"
        "CREATE TYPE cc.nb (INPUT = cc.nb_in, OUTPUT = cc.nb_out, LIKE = text);"
        "CREATE TYPE cc.cnb AS (a cc.nb, b cc.nb);"
        "CREATE TABLE cc.tcnb (v cc.cnb)"
    )
    return tconn


async def test_composite_without_binary_codec_refuses_a_tuple(text_only_composite: Any) -> None:
    conn = text_only_composite
    with pytest.raises(
        exceptions.UnsupportedClientFeatureError, match=r"\$1: cannot encode a tuple as composite"
    ):
        await conn.execute("INSERT INTO cc.tcnb VALUES ($1)", ("x", "y"))
    assert await conn.fetchval("SELECT count(*) FROM cc.tcnb") == 0


async def test_composite_without_binary_codec_takes_its_text_literal(
    text_only_composite: Any,
) -> None:
    conn = text_only_composite
    await conn.execute("INSERT INTO cc.tcnb VALUES ($1)", "(x,y)")
    assert await conn.fetchrow("SELECT (v).a, (v).b FROM cc.tcnb") == ("x", "y")


async def test_set_type_codec_reads_type_names_as_sql_does(conn) -> None:
    # Unquoted names fold to lower case; an unquoted char is character (bpchar),
    # the quoted "char" is the internal one-byte type (asyncpg resolves them the same way).
    await conn.set_type_codec(
        "char", schema="pg_catalog", encoder=str, decoder=lambda s: "X" + s, format="text"
    )
    row = await conn.fetchrow("""SELECT 'a'::char(1) AS bpchar, 'b'::"char" AS internal""")
    assert row["bpchar"] == "Xa"
    assert row["internal"] != "Xb"
    await conn.set_type_codec(
        "INT4", schema="pg_catalog", encoder=str, decoder=lambda s: "I" + s, format="text"
    )
    assert await conn.fetchval("SELECT 7::int4") == "I7"
    await conn.set_type_codec(
        '"char"', schema="pg_catalog", encoder=str, decoder=lambda s: "C" + s, format="text"
    )
    assert await conn.fetchval("""SELECT 'b'::"char\"""") == "Cb"
