"""User-defined types resolved from the catalog on first use, cached per connection.

Composites decode to ``Record``, enums to ``str``, domains through their base
type; arrays of those work too. Introspection costs one round trip for all
unknown types of a statement and none for builtin types or in steady state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import pgwire
from pgwire.protocol.core import ExecuteOperation, PrepareOperation
from pgwire.types import Range

SCHEMA = """
DROP SCHEMA IF EXISTS intro CASCADE;
CREATE SCHEMA intro;
CREATE TYPE intro.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN intro.posint AS int4 CHECK (VALUE > 0);
CREATE DOMAIN intro.moods AS intro.mood[];
CREATE TYPE intro.pair AS (a int4, b text, m intro.mood);
CREATE TYPE intro.outer_t AS (p intro.pair, ps intro.pair[], n intro.posint);
CREATE TYPE intro.floatrange AS RANGE (subtype = float8);
CREATE TABLE intro.item (id int4, label text);
"""


@pytest.fixture
async def tconn(dsn: str) -> AsyncIterator[Any]:
    """A connection with the ``intro`` schema's types created."""
    connection = await pgwire.connect(dsn)
    await connection.execute(SCHEMA)
    try:
        yield connection
    finally:
        await connection.execute("DROP SCHEMA IF EXISTS intro CASCADE")
        await connection.close()


class RoundTrips:
    """Counts Parse and Execute exchanges sent on a connection."""

    def __init__(self, connection: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.prepares = 0
        self.executes = 0
        core = connection._core
        submit = core.submit

        def counting_submit(op: Any) -> Any:
            if isinstance(op, PrepareOperation):
                self.prepares += 1
            elif isinstance(op, ExecuteOperation):
                self.executes += 1
            return submit(op)

        monkeypatch.setattr(core, "submit", counting_submit)

    @property
    def total(self) -> int:
        return self.prepares + self.executes


async def test_enum_decodes_to_str_and_encodes_from_str(tconn: Any) -> None:
    assert await tconn.fetchval("SELECT 'happy'::intro.mood") == "happy"
    assert await tconn.fetchval("SELECT $1::intro.mood", "ok") == "ok"


async def test_array_of_enum_round_trips(tconn: Any) -> None:
    assert await tconn.fetchval("SELECT $1::intro.mood[]", ["sad", None]) == ["sad", None]


async def test_domain_uses_its_base_type_codec(tconn: Any) -> None:
    assert await tconn.fetchval("SELECT $1::intro.posint", 5) == 5
    assert await tconn.fetchval("SELECT 7::intro.posint") == 7


async def test_domain_over_array_of_enum_decodes_to_list(tconn: Any) -> None:
    assert await tconn.fetchval("SELECT '{sad,ok}'::intro.moods") == ["sad", "ok"]


async def test_composite_decodes_to_record_with_attribute_names(tconn: Any) -> None:
    value = await tconn.fetchval("SELECT ROW(1, 'x', 'sad')::intro.pair")
    assert isinstance(value, pgwire.Record)
    assert dict(value) == {"a": 1, "b": "x", "m": "sad"}


async def test_composite_argument_accepts_tuple_mapping_and_record(tconn: Any) -> None:
    record = await tconn.fetchval("SELECT ROW(1, 'x', 'sad')::intro.pair")
    assert await tconn.fetchval("SELECT $1::intro.pair", (1, "x", "sad")) == (1, "x", "sad")
    assert await tconn.fetchval("SELECT $1::intro.pair", {"a": 2, "m": "ok"}) == (2, None, "ok")
    assert await tconn.fetchval("SELECT $1::intro.pair", record) == record


async def test_nested_composite_with_array_of_composite_round_trips(tconn: Any) -> None:
    value = ((1, "a", "happy"), [(2, "b", None), None], 3)
    result = await tconn.fetchval("SELECT $1::intro.outer_t", value)
    assert result["p"]["m"] == "happy"
    assert result["ps"][0]["b"] == "b"
    assert result["ps"][1] is None
    assert result["n"] == 3


async def test_table_row_type_decodes_to_record(tconn: Any) -> None:
    await tconn.execute("INSERT INTO intro.item VALUES (1, 'one')")
    value = await tconn.fetchval("SELECT i FROM intro.item i")
    assert dict(value) == {"id": 1, "label": "one"}


async def test_user_defined_range_decodes_to_range(tconn: Any) -> None:
    assert await tconn.fetchval("SELECT $1::intro.floatrange", Range(1.5, 2.5)) == Range(1.5, 2.5)


async def test_anonymous_record_uses_introspected_field_codecs(tconn: Any) -> None:
    await tconn.fetchval("SELECT 'ok'::intro.mood")
    assert await tconn.fetchval("SELECT ROW('sad'::intro.mood, 1)") == ("sad", 1)


async def test_composite_with_text_only_attribute_falls_back_to_text(tconn: Any) -> None:
    await tconn.execute("CREATE TYPE intro.priced AS (amount money)")
    # asyncpg raises UnsupportedClientFeatureError here
    assert await tconn.fetchval("SELECT ROW('1.5'::money)::intro.priced") == "($1.50)"


async def test_builtin_types_never_trigger_introspection(
    tconn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = RoundTrips(tconn, monkeypatch)
    await tconn.fetchval("SELECT $1::int4range, '1'::money, 'a'::tsvector, ROW(1)", Range(1, 2))
    assert (counter.prepares, counter.executes) == (1, 1)


async def test_several_unknown_types_cost_one_introspection_round_trip(
    tconn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = RoundTrips(tconn, monkeypatch)
    await tconn.fetchrow(
        "SELECT $1::intro.mood, $2::intro.posint, NULL::intro.outer_t, NULL::intro.floatrange",
        "ok",
        1,
    )
    # statement + the type query (prepared once, executed once) + the execution
    assert (counter.prepares, counter.executes) == (2, 2)


async def test_steady_state_runs_no_catalog_queries(
    tconn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await tconn.fetchval("SELECT $1::intro.mood", "ok")
    await tconn.fetchval("SELECT NULL::intro.pair")
    counter = RoundTrips(tconn, monkeypatch)
    for _ in range(3):
        await tconn.fetchval("SELECT $1::intro.mood", "ok")
    await tconn.fetchval("SELECT NULL::intro.pair, 2")  # a new statement, known types
    assert (counter.prepares, counter.executes) == (1, 4)


async def test_reload_schema_state_picks_up_altered_types(tconn: Any) -> None:
    assert await tconn.fetchval("SELECT ROW(1, 'x', 'sad')::intro.pair") == (1, "x", "sad")
    await tconn.execute("ALTER TYPE intro.pair ADD ATTRIBUTE extra int4")
    await tconn.reload_schema_state()
    value = await tconn.fetchval("SELECT ROW(1, 'x', 'sad', 4)::intro.pair")
    assert dict(value) == {"a": 1, "b": "x", "m": "sad", "extra": 4}


async def test_citext_travels_as_text(tconn: Any) -> None:
    await tconn.execute("CREATE EXTENSION IF NOT EXISTS citext SCHEMA intro")
    assert await tconn.fetchval("SELECT $1::intro.citext", "MiXed") == "MiXed"
    same = "SELECT 'A'::intro.citext OPERATOR(intro.=) $1::intro.citext"
    assert await tconn.fetchval(same, "a") is True


async def test_hstore_is_str_by_default_and_dict_with_the_contrib_codec(tconn: Any) -> None:
    await tconn.execute("CREATE EXTENSION IF NOT EXISTS hstore SCHEMA intro")
    assert await tconn.fetchval("SELECT 'a=>1'::intro.hstore") == '"a"=>"1"'
    await tconn.set_builtin_type_codec("hstore", schema="intro", codec_name="pg_contrib.hstore")
    assert await tconn.fetchval("SELECT 'a=>1, b=>NULL'::intro.hstore") == {"a": "1", "b": None}
    value = {"k": "v", "n": None}
    assert await tconn.fetchval("SELECT $1::intro.hstore", value) == value
    assert await tconn.fetchval("SELECT ARRAY['a=>1'::intro.hstore]") == [{"a": "1"}]


async def test_types_are_cached_per_connection(tconn: Any, dsn: str) -> None:
    await tconn.fetchval("SELECT 'ok'::intro.mood")
    other = await pgwire.connect(dsn)
    try:
        assert other._codecs.get(tconn._codecs.by_name("mood", "intro").oid) is None
        assert await other.fetchval("SELECT 'ok'::intro.mood") == "ok"
    finally:
        await other.close()


async def test_an_enum_column_is_reported_as_a_scalar_type_as_asyncpg_does(conn) -> None:
    await conn.execute("DROP TYPE IF EXISTS mood_kind; CREATE TYPE mood_kind AS ENUM ('ok')")
    try:
        stmt = await conn.prepare("SELECT 'ok'::mood_kind AS m, $1::mood_kind AS p")
        (attribute,) = stmt.get_attributes()[:1]
        assert attribute.type.kind == "scalar"
        assert stmt.get_parameters()[0].kind == "scalar"
        assert attribute.type.name == "mood_kind"
    finally:
        await conn.execute("DROP TYPE mood_kind")
