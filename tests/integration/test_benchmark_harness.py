"""The benchmark harness (benchmarks/run.py) runs end to end against a real server.

Only that it works and what it reports are checked here, never how fast anything is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def _postmaster_pid(pg_server: Any) -> int | None:
    datadir = getattr(pg_server, "datadir", None)
    if datadir is None:
        return None
    return int((Path(datadir) / "postmaster.pid").read_text().split()[0])


@pytest.fixture(scope="module")
def harness_output(pg_server: Any) -> str:
    cmd = [
        sys.executable,
        str(HARNESS),
        "--dsn",
        pg_server.dsn,
        "--rounds",
        "1",
        "--duration",
        "0.2",
        "--drivers",
        "pgwire-pure,asyncpg",
        "--workloads",
        "select1,series,executemany",
    ]
    pid = _postmaster_pid(pg_server)
    if pid is not None:
        cmd += ["--server-pid", str(pid)]
    env = dict(os.environ, PYTHONPATH=str(HARNESS.parents[1] / "src"))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _row(output: str, title: str, table: int) -> list[str]:
    tables = [block for block in output.split("\n\n") if block.startswith("| workload")]
    for line in tables[table].splitlines():
        if line.startswith(f"| {title} |"):
            return [cell.strip() for cell in line.strip("|").split("|")][1:]
    raise AssertionError(f"no row {title!r} in table {table}:\n{output}")


@pytest.mark.parametrize(
    "title",
    ["SELECT 1, 10 connections", "generate_series 1000 x 5 cols", "executemany 100k rows"],
)
def test_the_harness_reports_every_workload_with_its_ratio_to_asyncpg(
    harness_output: str, title: str
) -> None:
    pgwire_cell, asyncpg_cell = _row(harness_output, title, table=0)
    assert "x)" in pgwire_cell and not pgwire_cell.startswith(("error", "skip"))
    assert "(1.00x)" in asyncpg_cell


def test_the_harness_reports_client_and_server_cpu_per_operation(
    harness_output: str, pg_server: Any
) -> None:
    cells = _row(harness_output, "generate_series 1000 x 5 cols", table=1)
    for cell in cells:
        client, server = cell.removesuffix(" µs").split(" / ")
        assert float(client) >= 0
        if _postmaster_pid(pg_server) is not None:
            assert float(server) > 0
