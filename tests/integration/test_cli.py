"""``python -m pgwire.cli``: check, copy with its progress line, and --help everywhere."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pgwire import cli


def copy_args(dsn: str, **options: Any) -> Any:
    argv = ["copy", dsn, "--progress", "never"]
    for key, value in options.items():
        flag = "--" + {"input": "from", "output": "to"}.get(key, key)
        argv += [flag] if value is True else [flag, str(value)]
    return cli.build_parser().parse_args(argv)


@pytest.fixture
async def table(conn: Any) -> Any:
    await conn.execute("DROP TABLE IF EXISTS cli_copy; CREATE TABLE cli_copy (a int, b text)")
    yield "cli_copy"
    await conn.execute("DROP TABLE cli_copy")


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text("a,b\n" + "".join(f"{i},row {i}\n" for i in range(50_000)))
    return path


async def test_check_reports_version_tls_auth_latency_and_pooler(dsn: str) -> None:
    out = io.StringIO()
    report = await cli.check_command(dsn, out, pings=3)
    assert report["server"].startswith("PostgreSQL ")
    assert report["tls"] == "no"
    assert report["pooler"] == "none detected"
    assert report["latency_ms"] > 0
    for label in ("server", "TLS", "authentication", "round trip", "pooler in front"):
        assert label in out.getvalue()


async def test_copy_loads_a_csv_file_and_reports_progress(
    dsn: str, conn: Any, table: str, csv_file: Path
) -> None:
    seen: list[tuple[int, int]] = []
    args = copy_args(dsn, table=table, input=csv_file, header=True)
    status = await cli.copy_command(args, on_update=lambda p: seen.append((p.bytes, p.rows)))
    assert status == "COPY 50000"
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 50_000
    assert len(seen) > 1
    assert [b for b, _ in seen] == sorted(b for b, _ in seen)
    assert seen[-1][0] == csv_file.stat().st_size
    assert seen[-1][1] == 50_000  # lines read, less the header


async def test_copy_dumps_a_query_to_a_file(
    dsn: str, conn: Any, table: str, tmp_path: Path
) -> None:
    await conn.execute(f"INSERT INTO {table} SELECT i, 'r' || i FROM generate_series(1, 3) i")
    target = tmp_path / "out.csv"
    args = copy_args(dsn, query=f"SELECT * FROM {table} ORDER BY a", output=target)
    rows: list[int] = []
    status = await cli.copy_command(args, on_update=lambda p: rows.append(p.rows))
    assert status == "COPY 3"
    assert target.read_text() == "1,r1\n2,r2\n3,r3\n"
    assert rows[-1] == 3


def test_progress_line_shows_bar_bytes_rows_and_rates() -> None:
    stream = io.StringIO()
    progress = cli.Progress(1000, stream=stream, show=True, interval=0)
    progress.advance(500, 10)
    progress.close(rows=20)
    drawn = stream.getvalue()
    assert drawn.startswith("\r[")
    assert "50%" in drawn and "100%" not in drawn.split("\r")[1]
    assert "20 rows" in drawn and "rows/s" in drawn and "/s" in drawn
    assert drawn.endswith("\n")


def test_progress_line_is_not_drawn_when_stderr_is_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = cli.Progress(stream=stream)
    progress.advance(10, 1)
    progress.close()
    assert stream.getvalue() == ""


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_line_is_visible_in_a_terminal(dsn: str, csv_file: Path, conn: Any) -> None:
    import pty

    leader, follower = pty.openpty()
    try:
        subprocess.run(
            [sys.executable, "-m", "pgwire.cli", "copy", dsn, "--query",
             "SELECT i FROM generate_series(1, 100000) i", "--to", os.devnull],
            stderr=follower,
            stdout=subprocess.DEVNULL,
            check=True,
            timeout=60,
        )  # fmt: skip
        os.close(follower)
        follower = -1
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert b"\r" in drawn
    assert b"100,000 rows" in drawn
    assert b"rows/s" in drawn


@pytest.mark.parametrize("command", [[], ["demo"], ["copy"], ["check"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pgwire.cli", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m pgwire")
