"""The throwaway server the other integration tests and the tour rely on.

These tests talk to the server with ``psql`` so that they do not depend on the driver.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pgwire.testing import PsqlError, TempServer, TempServerError


@pytest.fixture(scope="module")
def server() -> Iterator[TempServer]:
    with TempServer(settings={"work_mem": "7MB"}) as srv:
        yield srv


def test_started_server_answers_queries(server: TempServer) -> None:
    assert server.psql("SELECT 1 + 1") == "2"


def test_server_accepts_tcp_connections_on_its_port(server: TempServer) -> None:
    assert server.psql("SELECT inet_server_port()", tcp=True) == str(server.port)


def test_dsn_names_user_password_loopback_port_and_database(server: TempServer) -> None:
    expected = f"postgresql://postgres:{server.password}@127.0.0.1:{server.port}/postgres"
    assert server.dsn == expected


def test_data_directory_is_under_the_system_temp_dir(server: TempServer) -> None:
    assert Path(tempfile.gettempdir()) in server.datadir.parents


def test_extra_settings_reach_the_server(server: TempServer) -> None:
    assert server.psql("SHOW work_mem") == "7MB"


def test_server_allows_two_hundred_connections(server: TempServer) -> None:
    assert server.psql("SHOW max_connections") == "200"


def test_version_matches_the_running_server(server: TempServer) -> None:
    assert server.psql("SHOW server_version").startswith(server.version)


def test_psql_reports_sql_errors(server: TempServer) -> None:
    with pytest.raises(PsqlError, match="division by zero"):
        server.psql("SELECT 1 / 0")


def test_restart_keeps_data_and_port(server: TempServer) -> None:
    port = server.port
    server.psql("CREATE TABLE survives_restart (x int)")
    server.restart()
    assert server.port == port
    assert server.psql("SELECT count(*) FROM survives_restart") == "0"


@pytest.mark.parametrize("fixture", ["scram_server", "md5_server", "password_server"])
def test_password_server_accepts_the_right_password(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    srv: TempServer = request.getfixturevalue(fixture)
    assert srv.psql("SELECT current_user", tcp=True, password=srv.password) == "postgres"


@pytest.mark.parametrize("fixture", ["scram_server", "md5_server", "password_server"])
def test_password_server_rejects_a_wrong_password(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    srv: TempServer = request.getfixturevalue(fixture)
    with pytest.raises(PsqlError, match="password authentication failed"):
        srv.psql("SELECT 1", tcp=True, password="not-the-password")


@pytest.mark.parametrize(
    ("fixture", "stored_prefix"), [("scram_server", "SCRAM-SHA-256$"), ("md5_server", "md5")]
)
def test_password_is_stored_in_the_form_the_auth_method_needs(
    fixture: str, stored_prefix: str, request: pytest.FixtureRequest
) -> None:
    srv: TempServer = request.getfixturevalue(fixture)
    stored = srv.psql("SELECT rolpassword FROM pg_authid WHERE rolname = current_user")
    assert stored.startswith(stored_prefix)


def test_stop_removes_the_data_directory() -> None:
    srv = TempServer().start()
    base = srv.base_dir
    assert (base / "data" / "PG_VERSION").exists()
    srv.stop()
    assert not base.exists()
    assert not srv.running


def test_context_manager_stops_the_server_on_exit() -> None:
    with TempServer() as srv:
        base = srv.base_dir
    assert not base.exists()


def test_failed_start_quotes_the_server_log() -> None:
    srv = TempServer(settings={"shared_buffers": "not-a-size"})
    with pytest.raises(TempServerError, match='invalid value for parameter "shared_buffers"'):
        srv.start()


@pytest.fixture
def private_tempdir() -> Iterator[Path]:
    """An empty directory the server's OS user can enter (pytest's tmp_path is private)."""
    with tempfile.TemporaryDirectory(prefix="pgwire-test-") as name:
        os.chmod(name, 0o755)
        yield Path(name)


def test_base_directory_is_created_in_the_given_tempdir(private_tempdir: Path) -> None:
    with TempServer(tempdir=private_tempdir) as srv:
        assert srv.base_dir.parent == private_tempdir


def test_failed_start_leaves_no_directory_behind(private_tempdir: Path) -> None:
    srv = TempServer(settings={"shared_buffers": "not-a-size"}, tempdir=private_tempdir)
    with pytest.raises(TempServerError):
        srv.start()
    assert list(private_tempdir.iterdir()) == []


_START_AND_REPORT = """
import sys
from pgwire.testing import TempServer
srv = TempServer(tempdir=sys.argv[2]).start()
print(srv.base_dir, flush=True)
if sys.argv[1] == "hang":
    sys.stdin.read()
"""


def _spawn_owner(mode: str, tempdir: Path) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _START_AND_REPORT, mode, str(tempdir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_server_left_running_at_interpreter_exit_is_removed(private_tempdir: Path) -> None:
    proc, base = _spawn_owner("exit", private_tempdir)
    assert proc.wait(timeout=60) == 0
    assert not base.exists()


def test_server_of_a_killed_owner_is_swept_by_the_next_start(private_tempdir: Path) -> None:
    proc, base = _spawn_owner("hang", private_tempdir)
    postmaster = int((base / "data" / "postmaster.pid").read_text().split()[0])
    proc.kill()
    proc.wait(timeout=60)
    assert base.exists()
    with TempServer(tempdir=private_tempdir):
        pass
    assert not base.exists()
    assert not Path(f"/proc/{postmaster}").exists()
