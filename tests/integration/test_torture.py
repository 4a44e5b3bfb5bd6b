"""A bounded pipelining torture run (``torture.py``; ``tests/stress`` runs it large)."""

from __future__ import annotations

from torture import torture


async def test_a_torture_run_duplicates_loses_and_misorders_nothing(dsn: str) -> None:
    report = await torture(dsn, calls=1500, connections=3, seed=14)
    assert report.ok, report.summary()
    # The chaos must have met live calls, or the run proves nothing.
    assert report.outcomes["ok"] > 300, report.summary()
    assert report.outcomes["QueryCanceledError"] + report.outcomes["TimeoutError"] > 20
