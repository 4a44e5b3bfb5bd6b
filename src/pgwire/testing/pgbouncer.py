"""A PgBouncer in front of a :class:`TempServer`, for tests through a pooler.

``PgBouncer(server).start()`` writes a configuration into a fresh temporary directory and
runs ``pgbouncer`` on a free 127.0.0.1 port (as the ``postgres`` OS user when this process
is root: PgBouncer refuses to run as root).  Clients log in without a password
(``auth_type = trust``); PgBouncer logs in to the server as the server's superuser.
The default ``pool_mode`` is ``transaction`` with two server connections per pool, so
consecutive transactions of one client land on different backends.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from pgwire.testing.errors import TempServerError
from pgwire.testing.osuser import server_os_user
from pgwire.testing.tempserver import TempServer

__all__ = ["PgBouncer", "pgbouncer_path"]

_CANDIDATES = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer")


def pgbouncer_path() -> str | None:
    """The ``pgbouncer`` program, or ``None`` when it is not installed."""
    found = shutil.which("pgbouncer")
    if found:
        return found
    return next((path for path in _CANDIDATES if Path(path).is_file()), None)


class PgBouncer:
    """One PgBouncer process serving ``server.database`` under the same name."""

    def __init__(
        self, server: TempServer, *, pool_mode: str = "transaction", pool_size: int = 2
    ) -> None:
        self.server = server
        self.pool_mode = pool_mode
        self.pool_size = pool_size
        self.port = 0
        self._dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.server.user}@127.0.0.1:{self.port}/{self.server.database}"

    def start(self) -> PgBouncer:
        program = pgbouncer_path()
        if program is None:
            raise TempServerError("pgbouncer is not installed")
        user = server_os_user()
        self._dir = Path(tempfile.mkdtemp(prefix="pgwire-pgbouncer-"))
        self.port = _free_port()
        server = self.server
        (self._dir / "userlist.txt").write_text(f'"{server.user}" ""\n')
        (self._dir / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{server.database} = host=127.0.0.1 port={server.port} dbname={server.database} "
            f"user={server.user} password={server.password}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            f"unix_socket_dir = {self._dir}\n"
            "auth_type = trust\n"
            f"auth_file = {self._dir / 'userlist.txt'}\n"
            f"pool_mode = {self.pool_mode}\n"
            f"default_pool_size = {self.pool_size}\n"
            "max_client_conn = 200\n"
            "server_reset_query = DISCARD ALL\n"
            f"logfile = {self._dir / 'pgbouncer.log'}\n"
            f"pidfile = {self._dir / 'pgbouncer.pid'}\n"
        )
        for path in (self._dir, *self._dir.iterdir()):
            user.give(path)
        self._proc = subprocess.Popen(
            user.wrap([program, str(self._dir / "pgbouncer.ini")]),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self._dir,
        )
        deadline = time.monotonic() + 15
        while not _accepts(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                log = self.log_tail()
                self.stop()
                raise TempServerError(f"pgbouncer did not start:\n{log}")
            time.sleep(0.02)
        return self

    def log_tail(self, lines: int = 30) -> str:
        if self._dir is None:
            return ""
        try:
            text = (self._dir / "pgbouncer.log").read_text(errors="replace")
        except OSError:
            text = ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop PgBouncer and delete its directory; safe to call more than once."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._signal_pgbouncer()
                try:
                    self._proc.wait(10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            if self._proc.stderr is not None:
                self._proc.stderr.close()
            self._proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _signal_pgbouncer(self) -> None:
        """SIGTERM (immediate shutdown) to pgbouncer itself: ``runuser`` would wait 2 s."""
        assert self._proc is not None and self._dir is not None
        try:
            pid = int((self._dir / "pgbouncer.pid").read_text())
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            self._proc.send_signal(signal.SIGTERM)

    def __enter__(self) -> PgBouncer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
