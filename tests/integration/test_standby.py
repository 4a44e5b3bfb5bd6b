"""A primary and a streaming standby (``pg_basebackup -R``): ``target_session_attrs``,
the routing pool, and failover with ``pg_ctl promote`` after the primary stops."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

import pgwire
from pgwire.pool_routing import create_routing_pool
from pgwire.testing import TempServer
from pgwire.testing.standby import StandbyServer


@pytest.fixture(scope="module")
def primary() -> Iterator[TempServer]:
    with TempServer() as server:
        server.psql("CREATE TABLE items (id int PRIMARY KEY, label text)")
        yield server


@pytest.fixture(scope="module")
def standby(primary: TempServer) -> Iterator[StandbyServer]:
    with StandbyServer(primary) as server:
        yield server


def both(first: TempServer, second: TempServer, **options: str) -> str:
    """A libpq DSN listing two servers, in this order."""
    extra = "".join(f" {key}={value}" for key, value in options.items())
    return (
        f"host=127.0.0.1,127.0.0.1 port={first.port},{second.port} "
        f"user={first.user} dbname={first.database}{extra}"
    )


async def port_and_recovery(dsn: str, **kwargs: Any) -> tuple[int, bool]:
    conn = await pgwire.connect(dsn, **kwargs)
    try:
        row = await conn.fetchrow("SELECT inet_server_port(), pg_is_in_recovery()")
        return row[0], row[1]
    finally:
        await conn.close()


async def test_the_standby_is_a_streaming_hot_standby(
    primary: TempServer, standby: StandbyServer
) -> None:
    assert await port_and_recovery(standby.dsn) == (standby.port, True)
    assert primary.psql("SELECT count(*) FROM pg_stat_replication") == "1"


@pytest.mark.parametrize("attrs", ["primary", "read-write"])
async def test_primary_and_read_write_skip_a_standby_listed_first(
    primary: TempServer, standby: StandbyServer, attrs: str
) -> None:
    dsn = both(standby, primary, target_session_attrs=attrs)
    assert await port_and_recovery(dsn) == (primary.port, False)


@pytest.mark.parametrize("attrs", ["standby", "read-only", "prefer-standby"])
async def test_standby_kinds_skip_a_primary_listed_first(
    primary: TempServer, standby: StandbyServer, attrs: str
) -> None:
    dsn = both(primary, standby, target_session_attrs=attrs)
    assert await port_and_recovery(dsn) == (standby.port, True)


async def test_prefer_standby_settles_for_the_primary_when_no_standby_is_up(
    primary: TempServer,
) -> None:
    dsn = both(primary, primary, target_session_attrs="prefer-standby")
    assert await port_and_recovery(dsn) == (primary.port, False)


async def test_any_takes_the_first_host(primary: TempServer, standby: StandbyServer) -> None:
    assert await port_and_recovery(both(standby, primary)) == (standby.port, True)


async def test_keyword_argument_overrides_the_dsn(
    primary: TempServer, standby: StandbyServer
) -> None:
    dsn = both(standby, primary, target_session_attrs="standby")
    result = await port_and_recovery(dsn, target_session_attrs="primary")
    assert result == (primary.port, False)


async def test_primary_required_but_only_standbys_raises_naming_each_host(
    standby: StandbyServer,
) -> None:
    dsn = both(standby, standby, target_session_attrs="primary")
    with pytest.raises(pgwire.TargetServerAttributeNotMatched) as info:
        await pgwire.connect(dsn)
    message = str(info.value)
    assert "target_session_attrs='primary'" in message
    assert message.count(f"127.0.0.1:{standby.port} is a standby") == 2


async def test_standby_required_but_only_a_primary_raises(primary: TempServer) -> None:
    with pytest.raises(pgwire.TargetServerAttributeNotMatched, match="is a primary"):
        await pgwire.connect(both(primary, primary, target_session_attrs="standby"))


async def test_a_read_only_primary_is_not_read_write(primary: TempServer) -> None:
    dsn = both(primary, primary, target_session_attrs="read-write")
    with pytest.raises(pgwire.TargetServerAttributeNotMatched, match="read-only primary"):
        await pgwire.connect(dsn, server_settings={"default_transaction_read_only": "on"})


# -- routing pool --------------------------------------------------------------------------


async def test_routing_pool_sends_writes_to_the_primary_and_readonly_to_the_standby(
    primary: TempServer, standby: StandbyServer
) -> None:
    dsn = both(standby, primary)
    async with create_routing_pool(dsn, min_size=1, max_size=2) as pool:
        await pool.execute("INSERT INTO items VALUES (1, 'one') ON CONFLICT DO NOTHING")
        assert await pool.fetchval("SELECT pg_is_in_recovery()") is False
        assert await pool.fetchval("SELECT pg_is_in_recovery()", readonly=True) is True
        standby.wait_for_replay()
        label = await pool.fetchval("SELECT label FROM items WHERE id = 1", readonly=True)
        assert label == "one"


async def test_routing_pool_acquire_readonly_gives_a_standby_connection(
    primary: TempServer, standby: StandbyServer
) -> None:
    async with create_routing_pool(both(primary, standby), min_size=0, max_size=1) as pool:
        async with pool.acquire(readonly=True) as conn:
            assert await conn.fetchval("SELECT inet_server_port()") == standby.port
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT inet_server_port()") == primary.port


async def test_routing_pool_follows_a_failover_without_restarting() -> None:
    with TempServer() as old_primary, StandbyServer(old_primary) as promoted:
        dsn = both(old_primary, promoted)
        async with create_routing_pool(dsn, min_size=1, max_size=1) as pool:
            assert await pool.fetchval("SELECT inet_server_port()") == old_primary.port
            await pool.execute("CREATE TABLE events (n int)")

            old_primary.stop()
            started = time.monotonic()
            promoted.promote()

            await pool.execute("INSERT INTO events VALUES (1)")
            assert await pool.fetchval("SELECT inet_server_port()") == promoted.port
            assert await pool.fetchval("SELECT count(*) FROM events", readonly=True) == 1
            assert time.monotonic() - started < 15
