"""Nested ``transaction(isolation=...)`` blocks, compared with the outer block's level.

asyncpg accepts a nested block that names the isolation level the outer block runs at,
even when the outer block did not name one (it asks the server with ``SHOW
transaction_isolation``), and its error names the nested level as "current" and the
outer one as "outer".
"""

from __future__ import annotations

import pytest

import pgwire


async def test_nested_block_naming_the_outer_blocks_default_level_is_accepted(
    conn: pgwire.Connection,
) -> None:
    async with conn.transaction():
        async with conn.transaction(isolation="read_committed"):
            assert await conn.fetchval("SHOW transaction_isolation") == "read committed"


async def test_nested_block_naming_the_level_set_by_default_transaction_isolation_is_accepted(
    dsn: str,
) -> None:
    conn = await pgwire.connect(
        dsn, server_settings={"default_transaction_isolation": "repeatable read"}
    )
    try:
        async with conn.transaction():
            async with conn.transaction(isolation="repeatable_read"):
                assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


async def test_nested_isolation_error_names_current_and_outer_levels(
    conn: pgwire.Connection,
) -> None:
    async with conn.transaction(isolation="serializable"):
        with pytest.raises(
            pgwire.InterfaceError,
            match="current 'repeatable_read' != outer 'serializable'",
        ):
            async with conn.transaction(isolation="repeatable_read"):
                pass


async def test_nested_isolation_error_names_the_outer_blocks_effective_level(
    conn: pgwire.Connection,
) -> None:
    async with conn.transaction():
        with pytest.raises(
            pgwire.InterfaceError,
            match="current 'serializable' != outer 'read_committed'",
        ):
            async with conn.transaction(isolation="serializable"):
                pass
