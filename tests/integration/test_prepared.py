"""Prepared statements and the statement cache."""

from __future__ import annotations

import asyncio
import gc

import pytest

import pgwire

PREPARED = "SELECT name, statement FROM pg_prepared_statements"


async def prepared_statements(conn: pgwire.Connection) -> dict[str, str]:
    """Named statements the session holds on the server: statement text -> name.

    The query used to look is prepared too, so it is left out.
    """
    rows = await conn.fetch(PREPARED)
    return {r["statement"]: r["name"] for r in rows if r["statement"] != PREPARED}


# ---------------------------------------------------------------- PreparedStatement


async def test_prepared_statement_fetch_methods(conn: pgwire.Connection) -> None:
    stmt = await conn.prepare("SELECT n, n * 2 AS double FROM generate_series(1, $1::int) n")

    rows = await stmt.fetch(3)
    row = await stmt.fetchrow(3)
    value = await stmt.fetchval(3, column=1)

    assert [tuple(r) for r in rows] == [(1, 2), (2, 4), (3, 6)]
    assert row is not None and tuple(row) == (1, 2)
    assert value == 2


async def test_prepared_statement_fetchrow_of_no_rows_is_none(conn: pgwire.Connection) -> None:
    stmt = await conn.prepare("SELECT 1 WHERE $1::bool")

    assert await stmt.fetchrow(False) is None
    assert await stmt.fetchval(False) is None


async def test_prepared_statement_executemany_and_fetchmany(conn: pgwire.Connection) -> None:
    await conn.execute("CREATE TEMP TABLE items (id int)")
    insert = await conn.prepare("INSERT INTO items VALUES ($1)")
    returning = await conn.prepare("INSERT INTO items VALUES ($1) RETURNING id * 10 AS x")

    await insert.executemany([(1,), (2,)])
    rows = await returning.fetchmany([(3,), (4,)])

    assert [r["x"] for r in rows] == [30, 40]
    assert await conn.fetchval("SELECT count(*) FROM items") == 4


async def test_get_parameters_describes_the_parameter_types(conn: pgwire.Connection) -> None:
    stmt = await conn.prepare("SELECT $1::int, $2::text, $3::int[]")

    params = stmt.get_parameters()

    assert [p.name for p in params] == ["int4", "text", "int4[]"]
    assert [p.oid for p in params] == [23, 25, 1007]
    assert params[0].kind == "scalar" and params[0].schema == "pg_catalog"
    assert params[2].kind == "array"


async def test_get_attributes_describes_the_result_columns(conn: pgwire.Connection) -> None:
    stmt = await conn.prepare("SELECT 1::int8 AS big, 'x'::varchar AS label")

    attrs = stmt.get_attributes()

    assert [a.name for a in attrs] == ["big", "label"]
    assert [a.type.name for a in attrs] == ["int8", "varchar"]
    assert [a.type.oid for a in attrs] == [20, 1043]


async def test_statement_without_result_has_no_attributes(conn: pgwire.Connection) -> None:
    await conn.execute("CREATE TEMP TABLE t (x int)")
    stmt = await conn.prepare("INSERT INTO t VALUES ($1)")

    assert stmt.get_attributes() == ()


async def test_get_statusmsg_is_the_tag_of_the_last_execution(conn: pgwire.Connection) -> None:
    stmt = await conn.prepare("SELECT generate_series(1, $1::int)")

    await stmt.fetch(3)
    assert stmt.get_statusmsg() == "SELECT 3"
    await stmt.fetch(5)
    assert stmt.get_statusmsg() == "SELECT 5"


async def test_get_statusmsg_is_none_before_the_statement_ran(conn: pgwire.Connection) -> None:
    await conn.fetch("SELECT generate_series(1, $1::int)", 2)  # the same statement, cached
    stmt = await conn.prepare("SELECT generate_series(1, $1::int)")
    assert stmt.get_statusmsg() is None
    await stmt.fetchval(4)  # stops after one row: no status tag, as in asyncpg
    assert stmt.get_statusmsg() is None
    await stmt.fetch(4)
    assert stmt.get_statusmsg() == "SELECT 4"


async def test_get_query_returns_the_text(conn: pgwire.Connection) -> None:
    stmt = await conn.prepare("SELECT 42")

    assert stmt.get_query() == "SELECT 42"


async def test_get_name_is_the_server_side_name(conn: pgwire.Connection) -> None:
    stmt = await conn.prepare("SELECT 43")

    name = stmt.get_name()

    assert name and (await prepared_statements(conn))["SELECT 43"] == name


async def test_prepare_with_an_explicit_name(conn: pgwire.Connection) -> None:
    stmt = await conn.prepare("SELECT 44", name="my_statement")

    assert stmt.get_name() == "my_statement"
    assert (await prepared_statements(conn))["SELECT 44"] == "my_statement"


async def test_explain_returns_the_json_plan(conn: pgwire.Connection) -> None:
    stmt = await conn.prepare("SELECT * FROM generate_series(1, $1::int)")

    plan = await stmt.explain(10)

    assert isinstance(plan, list)
    assert plan[0]["Plan"]["Node Type"] == "Function Scan"
    assert "Actual Rows" not in plan[0]["Plan"]


async def test_explain_analyze_runs_the_statement_and_rolls_it_back(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE t (x int)")
    stmt = await conn.prepare("INSERT INTO t VALUES ($1)")

    plan = await stmt.explain(1, analyze=True)

    assert "Actual Rows" in plan[0]["Plan"]
    assert "Execution Time" in plan[0]
    assert await conn.fetchval("SELECT count(*) FROM t") == 0
    assert not conn.is_in_transaction()


async def test_prepared_statement_record_class(conn: pgwire.Connection) -> None:
    class MyRecord(pgwire.Record):
        pass

    stmt = await conn.prepare("SELECT 1 AS x", record_class=MyRecord)

    assert type(await stmt.fetchrow()) is MyRecord


async def test_prepare_of_invalid_sql_raises_the_server_error(conn: pgwire.Connection) -> None:
    with pytest.raises(pgwire.UndefinedTableError):
        await conn.prepare("SELECT * FROM no_such_table")

    assert await conn.fetchval("SELECT 1") == 1


async def test_prepared_statement_wrong_argument_count(conn: pgwire.Connection) -> None:
    stmt = await conn.prepare("SELECT $1::int")

    with pytest.raises(pgwire.InterfaceError, match="expects 1 argument"):
        await stmt.fetchval()


async def test_prepared_statement_methods_after_close_raise_interface_error(dsn: str) -> None:
    other = await pgwire.connect(dsn)
    stmt = await other.prepare("SELECT 1")
    await other.close()

    with pytest.raises(pgwire.InterfaceError):
        await stmt.fetchval()
    with pytest.raises(pgwire.InterfaceError):
        await stmt.explain()


async def test_collected_prepared_statement_is_closed_on_the_server(
    conn: pgwire.Connection,
) -> None:
    stmt = await conn.prepare("SELECT 45")
    del stmt
    gc.collect()

    await conn.fetchval("SELECT 1")  # the Close goes out with the next round trip

    assert "SELECT 45" not in await prepared_statements(conn)


# ---------------------------------------------------------------- statement cache


async def test_repeated_queries_reuse_one_cached_statement(conn: pgwire.Connection) -> None:
    await conn.fetchval("SELECT 1 + $1::int", 1)
    first = (await prepared_statements(conn))["SELECT 1 + $1::int"]

    await conn.fetchval("SELECT 1 + $1::int", 2)

    assert (await prepared_statements(conn))["SELECT 1 + $1::int"] == first


async def test_statement_cache_size_limits_the_statements_kept(dsn: str) -> None:
    conn = await pgwire.connect(dsn, statement_cache_size=3)
    try:
        for i in range(6):
            await conn.fetchval(f"SELECT {i}")

        kept = await prepared_statements(conn)
    finally:
        await conn.close()

    # The oldest statements were evicted and closed. An evicted statement is closed with
    # the next statement the connection prepares, so the one evicted by the lookup
    # itself ("SELECT 3") may still be there.
    assert not {"SELECT 0", "SELECT 1", "SELECT 2"} & set(kept)
    assert {"SELECT 4", "SELECT 5"} <= set(kept)
    assert len(kept) <= 3


async def test_statement_cache_size_zero_keeps_no_named_statements(dsn: str) -> None:
    conn = await pgwire.connect(dsn, statement_cache_size=0)
    try:
        for _ in range(3):
            assert await conn.fetchval("SELECT $1::int", 7) == 7

        assert await prepared_statements(conn) == {}
    finally:
        await conn.close()


async def test_statements_larger_than_max_cacheable_size_are_not_cached(dsn: str) -> None:
    long_query = "SELECT 1 AS " + "x" * 100
    conn = await pgwire.connect(dsn, max_cacheable_statement_size=len(PREPARED) + 1)
    try:
        await conn.fetchval(long_query)
        await conn.fetchval("SELECT 2")

        kept = await prepared_statements(conn)
    finally:
        await conn.close()

    assert long_query not in kept
    assert "SELECT 2" in kept


async def test_cached_statements_expire_after_their_lifetime(dsn: str) -> None:
    conn = await pgwire.connect(dsn, max_cached_statement_lifetime=0.2)
    try:
        await conn.fetchval("SELECT 3")
        before = (await prepared_statements(conn))["SELECT 3"]
        await asyncio.sleep(0.3)

        await conn.fetchval("SELECT 3")
        after = (await prepared_statements(conn))["SELECT 3"]
    finally:
        await conn.close()

    assert before != after


@pytest.mark.parametrize(
    "option",
    [
        {"statement_cache_size": -1},
        {"max_cacheable_statement_size": -1},
        {"max_cached_statement_lifetime": -1},
    ],
)
async def test_negative_cache_options_are_refused(dsn: str, option: dict[str, int]) -> None:
    with pytest.raises(pgwire.InterfaceError):
        await pgwire.connect(dsn, **option)


# ---------------------------------------------------------------- schema changes


async def test_cached_select_star_is_reprepared_after_alter_table(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE t (a int); INSERT INTO t VALUES (1)")
    assert [tuple(r) for r in await conn.fetch("SELECT * FROM t")] == [(1,)]

    await conn.execute("ALTER TABLE t ADD COLUMN b text DEFAULT 'new'")

    rows = await conn.fetch("SELECT * FROM t")
    assert [dict(r) for r in rows] == [{"a": 1, "b": "new"}]


async def test_changed_column_type_is_reprepared(conn: pgwire.Connection) -> None:
    await conn.execute("CREATE TEMP TABLE t (a int); INSERT INTO t VALUES (1)")
    assert await conn.fetchval("SELECT a FROM t") == 1

    await conn.execute("ALTER TABLE t ALTER COLUMN a TYPE text")

    assert await conn.fetchval("SELECT a FROM t") == "1"


async def test_a_stale_statement_is_not_run_again_after_a_call_written_behind_it(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE t (a int)")
    await conn.fetch("SELECT * FROM t")
    await conn.execute("INSERT INTO t VALUES ($1)", 0)  # both statements cached
    await conn.execute("DELETE FROM t; ALTER TABLE t ADD COLUMN b int")

    select, insert = await asyncio.gather(
        conn.fetch("SELECT * FROM t"),
        conn.execute("INSERT INTO t VALUES ($1)", 1),
        return_exceptions=True,
    )

    assert insert == "INSERT 0 1"
    # Run again after the INSERT, the SELECT would see its row: out of order.
    assert isinstance(select, pgwire.InvalidCachedStatementError) or select == [], select


async def test_cached_statement_invalidated_inside_a_transaction_raises(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE t (a int); INSERT INTO t VALUES (1)")
    await conn.fetch("SELECT * FROM t")
    await conn.execute("ALTER TABLE t ADD COLUMN b int")

    with pytest.raises(pgwire.InvalidCachedStatementError):
        async with conn.transaction():
            await conn.fetch("SELECT * FROM t")

    assert not conn.is_in_transaction()


async def test_statement_invalidated_inside_a_transaction_works_after_it(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE t (a int); INSERT INTO t VALUES (1)")
    await conn.fetch("SELECT * FROM t")
    await conn.execute("ALTER TABLE t ADD COLUMN b int")
    with pytest.raises(pgwire.InvalidCachedStatementError):
        async with conn.transaction():
            await conn.fetch("SELECT * FROM t")

    # The stale entry was dropped: the next use outside the transaction works.
    assert [tuple(r) for r in await conn.fetch("SELECT * FROM t")] == [(1, None)]


async def test_invalid_cached_statement_error_is_a_feature_not_supported_error(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE t (a int)")
    await conn.fetch("SELECT * FROM t")
    await conn.execute("ALTER TABLE t ADD COLUMN b int")

    with pytest.raises(pgwire.FeatureNotSupportedError):
        async with conn.transaction():
            await conn.fetch("SELECT * FROM t")


async def test_reload_schema_state_forgets_cached_statements(conn: pgwire.Connection) -> None:
    await conn.fetchval("SELECT 46")

    await conn.reload_schema_state()
    await conn.fetchval("SELECT 1")  # carries the Close of the forgotten statements

    assert "SELECT 46" not in await prepared_statements(conn)
