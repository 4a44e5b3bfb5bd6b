"""Limits of the wire protocol and of PostgreSQL's types, refused with clear errors.

Each refusal happens before the server could misread anything, and leaves the
connection (and any operation pipelined beside it) usable.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

import pgwire


async def assert_usable(conn: pgwire.Connection) -> None:
    assert await conn.fetchval("SELECT $1::text", "still here") == "still here"


# ---------------------------------------------------------------- parameter count


def many_parameters(n: int) -> str:
    return "SELECT 1 WHERE 1 = ANY(ARRAY[" + ",".join(f"${i}::int" for i in range(1, n + 1)) + "])"


async def test_more_than_32767_arguments_raise_interface_error_and_neighbours_run(
    conn: pgwire.Connection,
) -> None:
    query = many_parameters(32768)
    before = asyncio.ensure_future(conn.fetchval("SELECT 'before'"))
    with pytest.raises(pgwire.InterfaceError, match="cannot exceed 32767, got 32768"):
        await conn.fetchval(query, *range(32768))
    after = await conn.fetchval("SELECT 'after'")
    assert (await before, after) == ("before", "after")


async def test_statement_with_more_than_32767_parameters_is_refused_at_bind(
    conn: pgwire.Connection,
) -> None:
    # The server accepts up to 65535 parameters in Parse; Bind can carry only 32767.
    n = 40000
    query = many_parameters(n)
    stmt = await conn.prepare(query)
    assert len(stmt.get_parameters()) == n
    with pytest.raises(pgwire.InterfaceError, match="cannot exceed 32767, got 40000"):
        await stmt.fetchval(*range(n))
    with pytest.raises(pgwire.InterfaceError, match="cannot exceed 32767"):
        await conn.executemany(query, [tuple(range(n))])
    await assert_usable(conn)


# ---------------------------------------------------------------- NUL in SQL text


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.execute("SELECT 1\x00"), id="simple-query"),
        pytest.param(lambda c: c.fetchval("SELECT $1::int\x00", 1), id="extended"),
    ],
)
async def test_nul_character_in_sql_raises_protocol_violation_error(
    conn: pgwire.Connection, call: object
) -> None:
    with pytest.raises(pgwire.exceptions.ProtocolViolationError, match="NUL character"):
        await call(conn)  # type: ignore[operator]
    await assert_usable(conn)


# ---------------------------------------------------------------- numeric range


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1e131072"), "1E+131072"),
        (Decimal("-1e200000"), "-1E+200000"),
        (Decimal("1e-16384"), "1E-16384"),
    ],
)
async def test_numeric_outside_postgresql_range_names_the_value(
    conn: pgwire.Connection, value: Decimal, shown: str
) -> None:
    with pytest.raises(pgwire.DataError) as info:
        await conn.fetchval("SELECT $1::numeric", value)
    message = str(info.value)
    assert f"numeric value {shown} is out of PostgreSQL's range" in message
    assert "format requires" not in message
    await assert_usable(conn)


async def test_numeric_at_the_edges_of_postgresql_range_round_trips(
    conn: pgwire.Connection,
) -> None:
    largest_magnitude = Decimal(10) ** 131071
    smallest_step = Decimal("1e-16383")
    assert await conn.fetchval("SELECT $1::numeric = 1e131071", largest_magnitude) is True
    assert await conn.fetchval("SELECT $1::numeric", smallest_step) == smallest_step
    assert await conn.fetchval("SELECT $1::numeric", Decimal("0E+200000")) == 0


# ---------------------------------------------------------------- client_encoding


async def test_non_utf8_client_encoding_in_server_settings_is_refused(dsn: str) -> None:
    with pytest.raises(pgwire.ClientConfigurationError, match="client_encoding 'LATIN1'"):
        await pgwire.connect(dsn, server_settings={"client_encoding": "LATIN1"})


async def test_utf8_client_encoding_spellings_are_accepted(dsn: str) -> None:
    conn = await pgwire.connect(dsn, server_settings={"client_encoding": "utf-8"})
    try:
        assert await conn.fetchval("SELECT $1::text", "café") == "café"
    finally:
        await conn.close()


async def test_set_config_client_encoding_fails_the_call_and_its_pipelined_neighbours(
    conn: pgwire.Connection,
) -> None:
    switch = asyncio.ensure_future(
        conn.fetchval("SELECT set_config('client_encoding', 'LATIN1', false)")
    )
    neighbour = asyncio.ensure_future(conn.fetchval("SELECT $1::text", "café"))
    with pytest.raises(pgwire.UnsupportedClientFeatureError, match="'LATIN1'"):
        await switch
    # Queued behind it in the core, or submitted just after the session ended.
    with pytest.raises((pgwire.InterfaceError, pgwire.ConnectionDoesNotExistError)) as info:
        await neighbour
    error = info.value
    if isinstance(error, pgwire.ConnectionDoesNotExistError):
        error = error.__cause__  # type: ignore[assignment]
    assert isinstance(error, pgwire.UnsupportedClientFeatureError)
    assert conn.is_closed()


async def test_set_client_encoding_closes_the_connection_with_a_clear_error(
    dsn: str, conn: pgwire.Connection
) -> None:
    await conn.execute("CREATE TABLE IF NOT EXISTS enc_probe (t text)")
    await conn.execute("TRUNCATE enc_probe")
    with pytest.raises(pgwire.UnsupportedClientFeatureError, match="client_encoding was set"):
        await conn.execute("SET client_encoding = 'LATIN1'")
    assert conn.is_closed()
    with pytest.raises(pgwire.InterfaceError, match="connection is closed"):
        await conn.execute("INSERT INTO enc_probe VALUES ($1)", "café")
    other = await pgwire.connect(dsn)
    try:
        assert await other.fetch("SELECT t FROM enc_probe") == []
        await other.execute("DROP TABLE enc_probe")
    finally:
        await other.close()
