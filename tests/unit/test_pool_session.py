"""The pool's cheap-reset rule: which SQL text marks a pooled connection dirty."""

from __future__ import annotations

import pytest

from pgwire.pool_session import may_change_session
from pgwire.pool_stats import PoolCounters, PoolStats


@pytest.mark.parametrize(
    "sql",
    [
        "SET work_mem = '64MB'",
        "set timezone to 'UTC'",
        "SELECT 1; SET search_path = x",
        "-- a comment\nSET role bob",
        "/* c */ SET x.y = 1",
        "RESET ALL",
        "LISTEN chan",
        "UNLISTEN *",
        "PREPARE p AS SELECT 1",
        "DEALLOCATE p",
        "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
        "DISCARD ALL",
        "LOAD 'auto_explain'",
        "CREATE TEMP TABLE t (a int)",
        "create temporary view v as select 1",
        "SELECT * INTO TEMP t2 FROM pg_class",
        "SELECT set_config('search_path', 'x', false)",
        "SELECT pg_advisory_lock(1)",
        "SELECT pg_try_advisory_lock_shared(1, 2)",
        "DO $$ BEGIN PERFORM 1; END $$",
    ],
)
def test_session_changing_sql_is_dirty(sql: str) -> None:
    assert may_change_session(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT $1::int",
        "SELECT * FROM users WHERE id = $1",
        "UPDATE users SET name = $1 WHERE id = $2",
        "INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING",
        "INSERT INTO settings (key) VALUES ('reset')",
        "SELECT pg_advisory_xact_lock(1)",
        "BEGIN",
        "COMMIT",
        "DELETE FROM templates",
    ],
)
def test_ordinary_sql_is_clean(sql: str) -> None:
    assert not may_change_session(sql)


def test_stats_as_dict_has_every_field() -> None:
    stats = PoolStats(
        size=3,
        idle=1,
        in_use=2,
        min_size=1,
        max_size=5,
        waiting=4,
        acquires=10,
        acquire_wait_total=1.5,
        acquire_wait_max=0.5,
        connections_opened=3,
        connections_closed=0,
        connections_failed=1,
        health_checks=2,
        health_check_failures=1,
        resets=1,
    )
    d = stats.as_dict()
    assert d["in_use"] == 2
    assert d["waiting"] == 4
    assert set(d) == {f for f in PoolStats.__dataclass_fields__}


def test_counters_track_total_and_max_wait() -> None:
    c = PoolCounters()
    c.waited(0.2)
    c.waited(0.5)
    c.waited(0.1)
    assert c.acquire_wait_total == pytest.approx(0.8)
    assert c.acquire_wait_max == 0.5
