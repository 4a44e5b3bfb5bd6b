"""Transaction blocks: isolation, read-only, deferrable, savepoints, manual control, misuse."""

from __future__ import annotations

import asyncio

import pytest

import pgwire


@pytest.fixture
async def items(conn: pgwire.Connection) -> pgwire.Connection:
    """``conn`` with an empty temporary ``items`` table."""
    await conn.execute("CREATE TEMP TABLE items (id int PRIMARY KEY)")
    return conn


async def count(conn: pgwire.Connection) -> int:
    result: int = await conn.fetchval("SELECT count(*) FROM items")
    return result


# ---------------------------------------------------------------- async with


async def test_block_commits_on_success(items: pgwire.Connection) -> None:
    async with items.transaction():
        await items.execute("INSERT INTO items VALUES (1)")
        assert items.is_in_transaction()

    assert not items.is_in_transaction()
    assert await count(items) == 1


async def test_block_rolls_back_on_exception_and_reraises(items: pgwire.Connection) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with items.transaction():
            await items.execute("INSERT INTO items VALUES (1)")
            raise RuntimeError("boom")

    assert not items.is_in_transaction()
    assert await count(items) == 0


async def test_block_rolls_back_after_a_server_error(items: pgwire.Connection) -> None:
    with pytest.raises(pgwire.UniqueViolationError):
        async with items.transaction():
            await items.execute("INSERT INTO items VALUES (1)")
            await items.execute("INSERT INTO items VALUES (1)")

    assert await count(items) == 0


async def test_statements_after_an_error_in_a_block_fail(items: pgwire.Connection) -> None:
    async with items.transaction():
        with pytest.raises(pgwire.DivisionByZeroError):
            await items.fetchval("SELECT 1/0")
        with pytest.raises(pgwire.InFailedSQLTransactionError):
            await items.fetchval("SELECT 1")
    # Leaving the failed block "successfully" sends COMMIT, which the server turns into
    # a rollback; the connection is idle again.
    assert not items.is_in_transaction()


@pytest.mark.parametrize(
    ("isolation", "shown"),
    [
        ("read_committed", "read committed"),
        ("read_uncommitted", "read uncommitted"),
        ("repeatable_read", "repeatable read"),
        ("serializable", "serializable"),
    ],
)
async def test_isolation_level_is_applied(
    conn: pgwire.Connection, isolation: str, shown: str
) -> None:
    async with conn.transaction(isolation=isolation):
        assert await conn.fetchval("SHOW transaction_isolation") == shown


async def test_default_isolation_is_the_server_default(conn: pgwire.Connection) -> None:
    await conn.execute("SET default_transaction_isolation = 'repeatable read'")

    async with conn.transaction():
        assert await conn.fetchval("SHOW transaction_isolation") == "repeatable read"


async def test_unknown_isolation_level_is_refused(conn: pgwire.Connection) -> None:
    with pytest.raises(ValueError, match="isolation"):
        conn.transaction(isolation="chaotic")


async def test_readonly_transaction_refuses_writes(conn: pgwire.Connection) -> None:
    # (Temporary tables stay writable in read-only transactions, so a permanent one.)
    with pytest.raises(pgwire.ReadOnlySQLTransactionError):
        async with conn.transaction(readonly=True):
            assert await conn.fetchval("SHOW transaction_read_only") == "on"
            await conn.execute("CREATE TABLE readonly_probe (x int)")

    assert not conn.is_in_transaction()


async def test_deferrable_transaction(conn: pgwire.Connection) -> None:
    async with conn.transaction(isolation="serializable", readonly=True, deferrable=True):
        assert await conn.fetchval("SHOW transaction_deferrable") == "on"
        assert await conn.fetchval("SHOW transaction_read_only") == "on"


# ---------------------------------------------------------------- savepoints


async def test_nested_block_is_a_savepoint_rolled_back_alone(items: pgwire.Connection) -> None:
    async with items.transaction():
        await items.execute("INSERT INTO items VALUES (1)")
        with pytest.raises(pgwire.UniqueViolationError):
            async with items.transaction():
                await items.execute("INSERT INTO items VALUES (2)")
                await items.execute("INSERT INTO items VALUES (1)")
        await items.execute("INSERT INTO items VALUES (3)")

    assert [r["id"] for r in await items.fetch("SELECT id FROM items ORDER BY id")] == [1, 3]


async def test_nested_block_left_by_a_python_exception_rolls_back_alone(
    items: pgwire.Connection,
) -> None:
    async with items.transaction():
        await items.execute("INSERT INTO items VALUES (1)")
        with pytest.raises(RuntimeError, match="boom"):
            async with items.transaction():
                await items.execute("INSERT INTO items VALUES (2)")
                raise RuntimeError("boom")
        await items.execute("INSERT INTO items VALUES (3)")

    assert [r["id"] for r in await items.fetch("SELECT id FROM items ORDER BY id")] == [1, 3]


async def test_savepoint_rolled_back_by_hand_undoes_only_its_own_writes(
    items: pgwire.Connection,
) -> None:
    async with items.transaction():
        await items.execute("INSERT INTO items VALUES (1)")
        savepoint = items.transaction()
        await savepoint.start()
        await items.execute("INSERT INTO items VALUES (2)")
        await savepoint.rollback()
        assert items.is_in_transaction()
        await items.execute("INSERT INTO items VALUES (3)")

    assert [r["id"] for r in await items.fetch("SELECT id FROM items ORDER BY id")] == [1, 3]


async def test_nested_blocks_commit_with_the_outer_one(items: pgwire.Connection) -> None:
    async with items.transaction():
        async with items.transaction():
            await items.execute("INSERT INTO items VALUES (1)")
            async with items.transaction():
                await items.execute("INSERT INTO items VALUES (2)")

    assert await count(items) == 2


async def test_outer_rollback_discards_released_savepoints(items: pgwire.Connection) -> None:
    with pytest.raises(RuntimeError):
        async with items.transaction():
            async with items.transaction():
                await items.execute("INSERT INTO items VALUES (1)")
            raise RuntimeError

    assert await count(items) == 0


async def test_nested_block_with_another_isolation_level_is_refused(
    conn: pgwire.Connection,
) -> None:
    async with conn.transaction(isolation="serializable"):
        with pytest.raises(pgwire.InterfaceError, match="isolation"):
            async with conn.transaction(isolation="read_committed"):
                pass


# ---------------------------------------------------------------- manual control


async def test_manual_start_and_commit(items: pgwire.Connection) -> None:
    tr = items.transaction()

    await tr.start()
    await items.execute("INSERT INTO items VALUES (1)")
    await tr.commit()

    assert await count(items) == 1
    assert not items.is_in_transaction()


async def test_manual_start_and_rollback(items: pgwire.Connection) -> None:
    tr = items.transaction()

    await tr.start()
    await items.execute("INSERT INTO items VALUES (1)")
    await tr.rollback()

    assert await count(items) == 0


async def test_commit_before_start_is_an_interface_error(conn: pgwire.Connection) -> None:
    with pytest.raises(pgwire.InterfaceError, match="not yet started"):
        await conn.transaction().commit()


async def test_rollback_before_start_is_an_interface_error(conn: pgwire.Connection) -> None:
    with pytest.raises(pgwire.InterfaceError, match="not yet started"):
        await conn.transaction().rollback()


async def test_start_twice_is_an_interface_error(conn: pgwire.Connection) -> None:
    tr = conn.transaction()
    await tr.start()
    try:
        with pytest.raises(pgwire.InterfaceError, match="already started"):
            await tr.start()
    finally:
        await tr.rollback()


@pytest.mark.parametrize("end", ["commit", "rollback"])
@pytest.mark.parametrize("then", ["start", "commit", "rollback"])
async def test_finished_transaction_cannot_be_used_again(
    conn: pgwire.Connection, end: str, then: str
) -> None:
    tr = conn.transaction()
    await tr.start()
    await getattr(tr, end)()

    with pytest.raises(pgwire.InterfaceError, match="already"):
        await getattr(tr, then)()


async def test_manual_commit_inside_async_with_is_an_interface_error(
    conn: pgwire.Connection,
) -> None:
    async with conn.transaction() as tr:
        with pytest.raises(pgwire.InterfaceError, match="async with"):
            await tr.commit()
        with pytest.raises(pgwire.InterfaceError, match="async with"):
            await tr.rollback()


async def test_transaction_inside_a_manual_begin_is_an_interface_error(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("BEGIN")

    with pytest.raises(pgwire.InterfaceError, match="manually started"):
        async with conn.transaction():
            pass

    assert conn.is_in_transaction()
    await conn.execute("ROLLBACK")


async def test_is_in_transaction_follows_manual_statements(conn: pgwire.Connection) -> None:
    assert not conn.is_in_transaction()
    await conn.execute("BEGIN")
    assert conn.is_in_transaction()
    with pytest.raises(pgwire.DivisionByZeroError):
        await conn.execute("SELECT 1/0")
    assert conn.is_in_transaction()  # failed, but still inside the block
    await conn.execute("ROLLBACK")
    assert not conn.is_in_transaction()


async def test_transaction_repr_shows_state_and_options(conn: pgwire.Connection) -> None:
    tr = conn.transaction(isolation="serializable", readonly=True)

    assert "new" in repr(tr) and "serializable" in repr(tr) and "readonly" in repr(tr)


# ---------------------------------------------------------------- other tasks


async def test_other_tasks_wait_until_the_transaction_ends(items: pgwire.Connection) -> None:
    inside = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        async with items.transaction():
            await items.execute("INSERT INTO items VALUES (1)")
            inside.set()
            await release.wait()
            await items.execute("INSERT INTO items VALUES (2)")

    task = asyncio.create_task(writer())
    await inside.wait()
    reader = asyncio.create_task(items.fetchval("SELECT count(*) FROM items"))
    await asyncio.sleep(0.05)
    assert not reader.done()  # it does not run inside the other task's transaction

    release.set()
    await task

    assert await reader == 2
