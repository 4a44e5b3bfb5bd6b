"""``python -m pgwire``: every mistake ends in one line and the right exit status.

Exit status 2 is a usage error, 1 a failure; no traceback unless ``--debug``.
Each command runs in its own process, as a user runs it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pgwire
from pgwire import _impl

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "benchmarks" / "chart.png"
SERVER_VARIABLES = ("PGWIRE_DSN", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE")


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Any:
    """``python -m pgwire ARGS`` with no server named by the environment."""
    base = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
    return subprocess.run(
        [sys.executable, "-m", "pgwire", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, **(env or {})},
        cwd=ROOT,
        check=False,
    )


def error_line(result: Any) -> str:
    """The one error line of stderr; fails on a traceback or more than one error line."""
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.stderr
    assert result.stderr.rstrip("\n").splitlines()[-1] == errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def closed_port_dsn() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


@pytest.fixture
async def table(conn: Any) -> Any:
    await conn.execute("DROP TABLE IF EXISTS cli_errors; CREATE TABLE cli_errors (a int, b text)")
    yield "cli_errors"
    await conn.execute("DROP TABLE cli_errors")


def test_check_without_a_server_is_a_usage_error() -> None:
    result = run("check")
    assert result.returncode == 2
    line = error_line(result)
    assert line.startswith("python -m pgwire check: error: no server given")
    assert "PGWIRE_DSN" in line


def test_check_of_an_unreachable_server_fails_in_one_line(closed_port_dsn: str) -> None:
    result = run("check", closed_port_dsn)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "cannot connect to 127.0.0.1" in error_line(result)


def test_debug_shows_the_traceback(closed_port_dsn: str) -> None:
    result = run("--debug", "check", closed_port_dsn)
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_debug_after_the_command_shows_the_traceback_too(closed_port_dsn: str) -> None:
    result = run("check", closed_port_dsn, "--debug")
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_a_tour_of_an_unreachable_server_fails_in_one_line(closed_port_dsn: str) -> None:
    result = run(closed_port_dsn)
    assert result.returncode == 1
    assert "cannot connect to 127.0.0.1" in error_line(result)


def test_copy_into_a_missing_table_fails_in_one_line(dsn: str, tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("1,x\n")
    result = run("copy", dsn, "--table", "no_such_table", "--from", str(source))
    assert result.returncode == 1
    assert 'relation "no_such_table" does not exist' in error_line(result)


def test_copy_from_a_missing_file_is_a_usage_error_found_before_connecting(
    closed_port_dsn: str, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.csv"
    result = run("copy", closed_port_dsn, "--table", "t", "--from", str(missing))
    assert result.returncode == 2
    line = error_line(result)
    assert f"--from {missing}: the file does not exist" in line
    assert "connect" not in result.stderr


def test_a_header_row_loaded_without_header_names_line_1_and_the_option(
    dsn: str, table: str, tmp_path: Path
) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("a,b\n1,x\n")
    result = run("copy", dsn, "--table", table, "--from", str(source))
    assert result.returncode == 1
    line = error_line(result)
    assert f"at line 1 of {source}" in line
    assert "add --header" in line


def test_a_bad_row_names_its_line_without_a_header_hint(
    dsn: str, table: str, tmp_path: Path
) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("1,x\n2,y\nthree,z\n")
    result = run("copy", dsn, "--table", table, "--from", str(source))
    assert result.returncode == 1
    line = error_line(result)
    assert f"at line 3 of {source}" in line
    assert "--header" not in line


def test_the_same_file_loads_with_header(dsn: str, table: str, tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("a,b\n1,x\n")
    result = run("copy", dsn, "--table", table, "--from", str(source), "--header")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "COPY 1"


def test_a_mistyped_command_suggests_the_nearest_one() -> None:
    result = run("chekc")
    assert result.returncode == 2
    assert "unknown command 'chekc'; did you mean 'check'?" in error_line(result)


def test_an_unknown_word_is_not_taken_for_a_dsn() -> None:
    result = run("hello")
    assert result.returncode == 2
    line = error_line(result)
    assert "unknown command 'hello'" in line
    assert "demo, bench, copy, check" in line


def test_copy_table_without_from_shows_the_usage_of_copy() -> None:
    result = run("copy", "--table", "t")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: python -m pgwire copy ")
    assert error_line(result) == (
        "python -m pgwire copy: error: --table needs --from FILE (the file to load)"
    )


def test_help_says_that_no_command_or_a_dsn_alone_runs_the_tour() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "With no COMMAND, or with a DSN alone" in " ".join(result.stdout.split())


def test_version_names_the_version_and_the_active_implementation() -> None:
    result = run("--version", env={"PGWIRE_IMPL": "python"})
    assert result.returncode == 0
    assert result.stdout.startswith(
        f"pgwire {pgwire.__version__} (pure-Python implementation: chosen by PGWIRE_IMPL=python;"
    )


def test_version_names_the_compiled_implementation_when_it_is_active() -> None:
    if _impl.IMPL != "compiled":
        pytest.skip("the compiled extension is not active in this run")
    result = run("--version", env={"PGWIRE_IMPL": "compiled"})
    assert result.returncode == 0
    assert result.stdout.startswith(f"pgwire {pgwire.__version__} (compiled implementation")


def test_the_tours_first_line_is_the_version_line(dsn: str) -> None:
    result = run(dsn, env={"PGWIRE_IMPL": "python"}, timeout=120)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first == run("--version", env={"PGWIRE_IMPL": "python"}).stdout.strip()


# ---------------------------------------------------------------- bench


def test_bench_rejects_an_unknown_driver_before_running() -> None:
    result = run("bench", "--drivers", "pgwire-pure,asyncpgg")
    assert result.returncode == 2
    line = error_line(result)
    assert line.startswith("python -m pgwire bench: error: --drivers: unknown name 'asyncpgg'")
    assert "did you mean 'asyncpg'?" in line


def test_bench_checks_for_matplotlib_before_running_when_a_chart_is_asked_for(
    tmp_path: Path,
) -> None:
    # matplotlib made unimportable in this process only (sys.modules[name] = None).
    argv = ["run.py", "--drivers", "pgwire-pure,asyncpg", "--chart", str(tmp_path / "c.png")]
    code = (
        f"import runpy, sys; sys.modules['matplotlib'] = None; sys.argv = {argv!r};"
        f"runpy.run_path({str(ROOT / 'benchmarks' / 'run.py')!r}, run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert "not installed: matplotlib" in error_line(result)
    assert "round 1" not in result.stderr


def test_bench_writes_no_chart_unless_one_is_named(dsn: str) -> None:
    before = CHART.stat().st_mtime_ns, CHART.read_bytes()
    result = run(
        "bench",
        "--dsn",
        dsn,
        "--rounds",
        "1",
        "--duration",
        "0.05",
        "--drivers",
        "pgwire-pure",
        "--workloads",
        "select1",
        env={"PYTHONPATH": str(ROOT / "src")},
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    assert "chart written" not in result.stderr
    assert (CHART.stat().st_mtime_ns, CHART.read_bytes()) == before


# ---------------------------------------------------------------- copy --to


def test_a_failed_dump_leaves_the_existing_file_untouched(dsn: str, tmp_path: Path) -> None:
    target = tmp_path / "precious.csv"
    target.write_text("precious data\n")
    result = run("copy", dsn, "--query", "select nonsense", "--to", str(target))
    assert result.returncode == 1
    assert 'column "nonsense" does not exist' in error_line(result)
    assert target.read_text() == "precious data\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.csv"]


def test_a_dump_failing_mid_stream_leaves_no_partial_file(dsn: str, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    query = (
        "SELECT CASE WHEN i < 200000 THEN i ELSE 1 / 0 END, repeat('x', 100)"
        " FROM generate_series(1, 200000) AS i"
    )
    result = run("copy", dsn, "--query", query, "--to", str(target))
    assert result.returncode == 1
    assert "division by zero" in error_line(result)
    assert list(tmp_path.iterdir()) == []


def test_a_successful_dump_replaces_the_file_and_keeps_its_mode(dsn: str, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    result = run("copy", dsn, "--query", "SELECT 1, 'a'", "--to", str(target))
    assert result.returncode == 0, result.stderr
    assert target.read_text() == "1,a\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_copy_to_a_directory_is_a_usage_error_found_before_connecting(
    closed_port_dsn: str, tmp_path: Path
) -> None:
    result = run("copy", closed_port_dsn, "--query", "SELECT 1", "--to", str(tmp_path))
    assert result.returncode == 2
    assert f"--to {tmp_path}: is a directory, not a file" in error_line(result)
    assert "connect" not in result.stderr


# ---------------------------------------------------------------- arguments and environment


def test_a_malformed_dsn_is_a_usage_error_without_a_traceback_hint() -> None:
    result = run("check", "postgresql://127.0.0.1:abc/x")
    assert result.returncode == 2
    line = error_line(result)
    assert line == "python -m pgwire check: error: invalid port 'abc' in DSN"


def test_a_malformed_dsn_for_the_tour_is_a_usage_error() -> None:
    result = run("postgresql://127.0.0.1:abc/x")
    assert result.returncode == 2
    assert "invalid port 'abc'" in error_line(result)


def test_an_unknown_option_of_a_command_shows_that_commands_usage() -> None:
    result = run("check", "--bogus")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: python -m pgwire check ")
    assert error_line(result) == "python -m pgwire check: error: unrecognized arguments: --bogus"


def test_an_unusable_pgwire_impl_fails_in_one_line(closed_port_dsn: str) -> None:
    result = run("check", closed_port_dsn, env={"PGWIRE_IMPL": "bogus"})
    assert result.returncode == 1
    assert "PGWIRE_IMPL must be python, compiled or auto, not 'bogus'" in error_line(result)


def test_version_with_an_unusable_pgwire_impl_still_names_the_version() -> None:
    result = run("--version", env={"PGWIRE_IMPL": "bogus"})
    assert result.returncode == 1
    assert result.stdout.startswith(f"pgwire {pgwire.__version__} ")
    assert "PGWIRE_IMPL must be" in error_line(result)


def test_debug_shows_the_traceback_of_an_unusable_pgwire_impl() -> None:
    result = run("--debug", "--version", env={"PGWIRE_IMPL": "bogus"})
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_compiled_without_the_extension_fails_in_one_line(tmp_path: Path) -> None:
    # A copy of the package without its compiled extension, found first on the path.
    shutil.copytree(
        ROOT / "src" / "pgwire",
        tmp_path / "pgwire",
        ignore=shutil.ignore_patterns("_speedups", "*.c", "__pycache__"),
    )
    result = run("--version", env={"PGWIRE_IMPL": "compiled", "PYTHONPATH": str(tmp_path)})
    assert result.returncode == 1
    assert "could not be imported" in error_line(result)


# ---------------------------------------------------------------- copy --from


@pytest.fixture
async def dated(conn: Any) -> Any:
    await conn.execute(
        "DROP TABLE IF EXISTS cli_dated; CREATE TABLE cli_dated (id int, name text, at date)"
    )
    yield "cli_dated"
    await conn.execute("DROP TABLE cli_dated")


def test_a_column_count_error_on_line_1_gives_no_header_hint(
    dsn: str, table: str, tmp_path: Path
) -> None:
    source = tmp_path / "three.csv"
    source.write_text("1,a,2020-01-01\n2,b,2020-01-02\n")
    result = run("copy", dsn, "--table", table, "--from", str(source))
    assert result.returncode == 1
    line = error_line(result)
    assert f"extra data after last expected column, at line 1 of {source}" in line
    assert "--header" not in line


def test_an_unterminated_quote_names_the_line_where_it_opened(
    dsn: str, dated: str, tmp_path: Path
) -> None:
    source = tmp_path / "q5.csv"
    source.write_text(
        '1,a,2020-01-01\n2,"b,2020-01-02\n3,c,2020-01-03\n4,d,2020-01-04\n5,e,2020-01-05\n'
    )
    result = run("copy", dsn, "--table", dated, "--from", str(source))
    assert result.returncode == 1
    line = error_line(result)
    assert "the quote opened on line 2 is never closed" in line
    assert "line 6" not in line


def test_an_unterminated_quote_after_closed_ones_names_its_own_line(
    dsn: str, dated: str, tmp_path: Path
) -> None:
    source = tmp_path / "q.csv"
    source.write_text('1,"a ""quoted"" name",2020-01-01\n2,"b\nc",2020-01-02\n3,"d,2020-01-03\n')
    result = run("copy", dsn, "--table", dated, "--from", str(source))
    assert result.returncode == 1
    assert "the quote opened on line 4 is never closed" in error_line(result)


# ---------------------------------------------------------------- bench, checked before running


def bench(*args: str, timeout: float = 240) -> Any:
    """``python -m pgwire bench`` of one short select1 measurement, plus ``args``."""
    return run(
        "bench", "--rounds", "1", "--duration", "0.05", "--workloads", "select1", *args,
        env={"PYTHONPATH": str(ROOT / "src")},
        timeout=timeout,
    )  # fmt: skip


def needs_matplotlib() -> None:
    pytest.importorskip("matplotlib", reason="the chart needs matplotlib (pgwire[bench])")


def test_bench_with_failed_measurements_exits_1_naming_them(closed_port_dsn: str) -> None:
    result = bench("--dsn", closed_port_dsn, "--drivers", "pgwire-pure")
    assert result.returncode == 1
    line = error_line(result)
    assert "1 of 1 measurements failed: select1 with pgwire-pure (" in line
    assert "cannot connect" in line


def test_a_failed_bench_leaves_the_chart_as_it_was(closed_port_dsn: str, tmp_path: Path) -> None:
    needs_matplotlib()
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"old")
    result = bench(
        "--dsn", closed_port_dsn, "--drivers", "pgwire-pure,asyncpg", "--chart", str(chart)
    )
    assert result.returncode == 1
    assert "measurements failed" in error_line(result)
    assert chart.read_bytes() == b"old"
    assert "chart written to" not in result.stderr


def test_bench_of_a_malformed_dsn_is_a_usage_error_before_running() -> None:
    result = bench("--dsn", "postgresql://127.0.0.1:abc/x", "--drivers", "pgwire-pure")
    assert result.returncode == 2
    assert error_line(result) == "python -m pgwire bench: error: --dsn: invalid port 'abc' in DSN"
    assert "round 1" not in result.stderr


def test_a_chart_without_asyncpg_is_a_usage_error_before_running(
    closed_port_dsn: str, tmp_path: Path
) -> None:
    chart = tmp_path / "c.png"
    result = bench("--dsn", closed_port_dsn, "--drivers", "pgwire-pure", "--chart", str(chart))
    assert result.returncode == 2
    assert "add asyncpg to --drivers" in error_line(result)
    assert "round 1" not in result.stderr


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("noext", "name the format by the file's suffix"),
        ("c.txt", "matplotlib cannot write .txt files; use one of "),
    ],
)
def test_a_chart_format_matplotlib_cannot_write_is_a_usage_error_before_running(
    closed_port_dsn: str, tmp_path: Path, name: str, problem: str
) -> None:
    needs_matplotlib()
    chart = tmp_path / name
    result = bench(
        "--dsn", closed_port_dsn, "--drivers", "pgwire-pure,asyncpg", "--chart", str(chart)
    )
    assert result.returncode == 2
    assert f"--chart {chart}: {problem}" in error_line(result)
    assert "round 1" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", ["--chart", "--json"])
def test_an_output_path_that_is_a_directory_is_a_usage_error_before_running(
    closed_port_dsn: str, tmp_path: Path, option: str
) -> None:
    result = bench(
        "--dsn", closed_port_dsn, "--drivers", "pgwire-pure,asyncpg", option, str(tmp_path)
    )
    assert result.returncode == 2
    assert f"{option} {tmp_path}: is a directory, not a file" in error_line(result)
    assert "round 1" not in result.stderr


@pytest.mark.parametrize(
    ("option", "value"), [("--rounds", "0"), ("--duration", "-1"), ("--concurrency", "0")]
)
def test_a_count_or_duration_that_is_not_positive_is_a_usage_error(
    closed_port_dsn: str, option: str, value: str
) -> None:
    result = bench("--dsn", closed_port_dsn, "--drivers", "pgwire-pure", option, value)
    assert result.returncode == 2
    assert f"argument {option}: must be" in error_line(result)
    assert "round 1" not in result.stderr


def test_a_server_pid_of_no_process_is_a_usage_error(closed_port_dsn: str) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    result = bench(
        "--dsn", closed_port_dsn, "--drivers", "pgwire-pure", "--server-pid", str(gone.pid)
    )
    assert result.returncode == 2
    assert f"--server-pid {gone.pid}: no such process" in error_line(result)


def test_the_select1_title_names_the_concurrency_used(dsn: str) -> None:
    result = bench("--dsn", dsn, "--drivers", "pgwire-pure", "--concurrency", "3")
    assert result.returncode == 0, result.stderr
    assert "| SELECT 1, 3 connections |" in result.stdout
    assert "10 connections" not in result.stdout


def test_the_chart_is_written_to_the_file_named_in_the_format_of_its_suffix(
    dsn: str, tmp_path: Path
) -> None:
    needs_matplotlib()
    chart = tmp_path / "ratios.svg"
    result = bench("--dsn", dsn, "--drivers", "pgwire-pure,asyncpg", "--chart", str(chart))
    assert result.returncode == 0, result.stderr
    assert f"chart written to {chart}" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["ratios.svg"]
    assert b"<svg" in chart.read_bytes()[:1000]


def test_ctrl_c_ends_bench_in_one_line_with_status_130(dsn: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgwire", "bench", "--dsn", dsn, "--rounds", "1",
         "--duration", "2", "--drivers", "pgwire-pure", "--workloads", "select1,series"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )  # fmt: skip
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the first measurement is done, the second one runs
    assert first.startswith("round 1 select1"), first
    os.killpg(proc.pid, signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in rest
    assert rest.strip().splitlines() == ["python -m pgwire bench: interrupted"]
