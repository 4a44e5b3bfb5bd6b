"""Server-side cursors: ``Connection.cursor()``, ``PreparedStatement.cursor()``, ``Cursor``."""

from __future__ import annotations

from typing import Any

import pytest

import pgwire
import pgwire.cursor

SERIES = "SELECT i FROM generate_series(1, $1::int) AS i"


async def open_portals(conn: Any) -> int:
    return await conn.fetchval(  # type: ignore[no-any-return]
        "SELECT count(*) FROM pg_cursors WHERE name LIKE '\\_\\_pgwire\\_cursor\\_%'"
    )


# ---------------------------------------------------------------- iteration


async def test_iteration_yields_every_row_in_order(conn: Any) -> None:
    async with conn.transaction():
        values = [r["i"] async for r in conn.cursor(SERIES, 123)]
    assert values == list(range(1, 124))


async def test_prefetch_sets_the_rows_per_round_trip(
    conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    requested: list[int] = []
    real = pgwire.cursor.fetch_portal

    def spy(portal: str, max_rows: int) -> bytes:
        requested.append(max_rows)
        return real(portal, max_rows)

    monkeypatch.setattr(pgwire.cursor, "fetch_portal", spy)
    async with conn.transaction():
        count = len([r async for r in conn.cursor(SERIES, 25, prefetch=10)])
    assert count == 25
    assert requested == [10, 10, 10]


async def test_default_prefetch_is_fifty(conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    requested: list[int] = []
    real = pgwire.cursor.fetch_portal
    monkeypatch.setattr(
        pgwire.cursor, "fetch_portal", lambda p, n: requested.append(n) or real(p, n)
    )
    async with conn.transaction():
        async for _ in conn.cursor(SERIES, 1):
            pass
    assert requested == [50]


async def test_portal_is_closed_after_iteration(conn: Any) -> None:
    async with conn.transaction():
        async for _ in conn.cursor(SERIES, 5, prefetch=2):
            assert await open_portals(conn) == 1
        assert await open_portals(conn) == 0


async def test_empty_result_iterates_nothing(conn: Any) -> None:
    async with conn.transaction():
        assert [r async for r in conn.cursor(SERIES, 0)] == []


async def test_record_class_is_used(conn: Any) -> None:
    class MyRecord(pgwire.Record):
        pass

    async with conn.transaction():
        records = [r async for r in conn.cursor(SERIES, 2, record_class=MyRecord)]
    assert all(type(r) is MyRecord for r in records)


async def test_batches_yield_lists_per_round_trip(conn: Any) -> None:
    async with conn.transaction():
        sizes = [len(b) async for b in conn.cursor(SERIES, 25).batches(10)]
    assert sizes == [10, 10, 5]


async def test_batches_default_to_prefetch(conn: Any) -> None:
    async with conn.transaction():
        sizes = [len(b) async for b in conn.cursor(SERIES, 7, prefetch=3).batches()]
    assert sizes == [3, 3, 1]


async def test_query_error_is_raised_from_iteration(conn: Any) -> None:
    tr = conn.transaction()
    await tr.start()
    try:
        with pytest.raises(pgwire.DivisionByZeroError):
            async for _ in conn.cursor("SELECT 1/(i-3) FROM generate_series(1,5) i", prefetch=1):
                pass
        # The failed query failed the transaction; asyncpg behaves the same.
        with pytest.raises(pgwire.InFailedSQLTransactionError):
            await conn.fetchval("SELECT 1")
    finally:
        await tr.rollback()


async def test_iteration_outside_a_transaction_is_refused(conn: Any) -> None:
    with pytest.raises(pgwire.NoActiveSQLTransactionError, match="outside of a transaction"):
        async for _ in conn.cursor("SELECT 1"):
            pass


async def test_invalid_prefetch_is_refused(conn: Any) -> None:
    with pytest.raises(pgwire.InterfaceError, match="greater than zero"):
        conn.cursor("SELECT 1", prefetch=0)


# ---------------------------------------------------------------- Cursor objects


async def test_awaited_cursor_fetches_on_demand(conn: Any) -> None:
    async with conn.transaction():
        cur = await conn.cursor(SERIES, 10)
        assert [r[0] for r in await cur.fetch(3)] == [1, 2, 3]
        assert (await cur.fetchrow())[0] == 4  # type: ignore[index]
        assert [r[0] for r in await cur.fetch(2)] == [5, 6]


async def test_forward_skips_rows_and_counts_them(conn: Any) -> None:
    async with conn.transaction():
        cur = await conn.cursor(SERIES, 10)
        assert await cur.forward(4) == 4
        assert (await cur.fetchrow())[0] == 5  # type: ignore[index]
        assert await cur.forward(100) == 5


async def test_exhausted_cursor_returns_nothing(conn: Any) -> None:
    async with conn.transaction():
        cur = await conn.cursor(SERIES, 2)
        assert len(await cur.fetch(5)) == 2
        assert await cur.fetch(5) == []
        assert await cur.fetchrow() is None
        assert await cur.forward(1) == 0


async def test_awaiting_outside_a_transaction_is_refused(conn: Any) -> None:
    with pytest.raises(pgwire.NoActiveSQLTransactionError):
        await conn.cursor("SELECT 1")


async def test_cursor_used_after_the_transaction_is_refused(conn: Any) -> None:
    async with conn.transaction():
        cur = await conn.cursor(SERIES, 10)
    with pytest.raises(pgwire.NoActiveSQLTransactionError):
        await cur.fetch(1)


async def test_prefetch_with_await_is_refused(conn: Any) -> None:
    async with conn.transaction():
        with pytest.raises(pgwire.InterfaceError, match="iterable cursor"):
            await conn.cursor("SELECT 1", prefetch=5)


async def test_fetch_count_must_be_positive(conn: Any) -> None:
    async with conn.transaction():
        cur = await conn.cursor("SELECT 1")
        with pytest.raises(pgwire.InterfaceError, match="greater than zero"):
            await cur.fetch(0)


# ---------------------------------------------------------------- prepared statements


async def test_prepared_statement_cursor_iterates(conn: Any) -> None:
    stmt = await conn.prepare(SERIES)
    async with conn.transaction():
        assert len([r async for r in stmt.cursor(30, prefetch=7)]) == 30


async def test_prepared_statement_cursor_awaited(conn: Any) -> None:
    stmt = await conn.prepare(SERIES)
    async with conn.transaction():
        cur = await stmt.cursor(3)
        assert [r[0] for r in await cur.fetch(10)] == [1, 2, 3]
