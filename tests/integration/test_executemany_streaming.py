"""executemany() streams its argument sets in batches, atomically."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Iterator

import pytest

import pgwire
import pgwire.connection


async def test_executemany_from_a_generator_inserts_every_row_in_one_segment(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE em_rows (v int)")
    await conn.executemany("INSERT INTO em_rows VALUES ($1)", ((i,) for i in range(25_000)))
    assert await conn.fetchval("SELECT count(*) FROM em_rows") == 25_000
    assert await conn.fetchval("SELECT sum(v) FROM em_rows") == sum(range(25_000))


async def test_executemany_memory_is_bounded_by_one_batch_not_by_all_rows(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE em_mem (v text)")
    row = ("x" * 1000,)
    tracemalloc.start()
    try:
        await conn.executemany("INSERT INTO em_mem VALUES ($1)", (row for _ in range(30_000)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 30,000 rows of 1 kB would be 30 MB encoded at once; one batch is about 1 MB.
    assert peak < 12 * 1024 * 1024, peak
    assert await conn.fetchval("SELECT count(*) FROM em_mem") == 30_000


async def test_executemany_stops_consuming_its_input_after_a_server_error(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE em_err (v int PRIMARY KEY)")
    taken = 0

    def rows() -> Iterator[tuple[int]]:
        nonlocal taken
        for i in range(1_000_000):
            taken += 1
            yield (0 if i == 10 else i + 1,) if i != 11 else (0,)

    with pytest.raises(pgwire.UniqueViolationError):
        await conn.executemany("INSERT INTO em_err VALUES ($1)", rows())
    assert taken < 200_000
    # Atomic: nothing of the failed call is stored, and the connection is usable.
    assert await conn.fetchval("SELECT count(*) FROM em_err") == 0
    assert not conn.is_in_transaction()


async def test_executemany_whose_input_raises_midway_stores_nothing(
    conn: pgwire.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pgwire.connection, "EXECUTEMANY_BATCH", 10)
    await conn.execute("CREATE TEMP TABLE em_raise (v int)")

    def rows() -> Iterator[tuple[int]]:
        yield from ((i,) for i in range(55))
        raise RuntimeError("the input broke")

    with pytest.raises(RuntimeError, match="input broke"):
        await conn.executemany("INSERT INTO em_raise VALUES ($1)", rows())
    assert await conn.fetchval("SELECT count(*) FROM em_raise") == 0
    assert not conn.is_in_transaction()


async def test_executemany_with_a_bad_element_names_its_index_across_batches(
    conn: pgwire.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pgwire.connection, "EXECUTEMANY_BATCH", 10)
    await conn.execute("CREATE TEMP TABLE em_bad (v int)")
    rows = [(i,) for i in range(25)] + [("not a number",)] + [(1,)] * 5
    with pytest.raises(pgwire.DataError, match="element #25"):
        await conn.executemany("INSERT INTO em_bad VALUES ($1)", rows)
    assert await conn.fetchval("SELECT count(*) FROM em_bad") == 0


async def test_executemany_cancelled_midway_stores_nothing_and_keeps_the_connection(
    conn: pgwire.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pgwire.connection, "EXECUTEMANY_BATCH", 10)
    await conn.execute("CREATE TEMP TABLE em_cancel (v int)")

    async def slow_rows() -> None:
        def rows() -> Iterator[tuple[int]]:
            for i in range(100_000):
                yield (i,)

        await conn.executemany("INSERT INTO em_cancel VALUES ($1)", rows())

    task = asyncio.ensure_future(slow_rows())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await conn.fetchval("SELECT count(*) FROM em_cancel") in (0, 100_000)
    assert await conn.fetchval("SELECT 1") == 1
    assert not conn.is_in_transaction()


async def test_a_call_made_during_a_streaming_executemany_runs_after_it(
    conn: pgwire.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pgwire.connection, "EXECUTEMANY_BATCH", 100)
    await conn.execute("CREATE TEMP TABLE em_order (v int)")
    many = asyncio.ensure_future(
        conn.executemany("INSERT INTO em_order VALUES ($1)", ((i,) for i in range(5_000)))
    )
    await asyncio.sleep(0)
    count = await conn.fetchval("SELECT count(*) FROM em_order")
    await many
    assert count == 5_000


async def test_a_server_error_before_the_input_fails_wins_over_the_input_error(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE em_conflict (a text, b int PRIMARY KEY)")

    def rows() -> Iterator[tuple[str]]:
        for y in range(4, -1, -1):
            yield ("a" * 32768,) if 1 / y else ("",)

    with pytest.raises(pgwire.UniqueViolationError):
        await conn.executemany("INSERT INTO em_conflict VALUES ($1, 0)", rows())
    assert await conn.fetchval("SELECT count(*) FROM em_conflict") == 0


async def test_executemany_in_a_transaction_keeps_what_ran_before_its_input_failed(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE em_tx (a text, b int)")

    def rows() -> Iterator[tuple[str, int]]:
        for y in range(10, -1, -1):
            yield "a" * 32768, int(y + y / y)

    tr = conn.transaction()
    await tr.start()
    with pytest.raises(ZeroDivisionError):
        await conn.executemany("INSERT INTO em_tx VALUES ($1, $2)", rows())
    # Whole batches that went out before the failure ran inside the block (as asyncpg).
    kept = await conn.fetchval("SELECT count(*) FROM em_tx")
    assert 0 < kept < 11
    await tr.rollback()
    assert await conn.fetchval("SELECT count(*) FROM em_tx") == 0
