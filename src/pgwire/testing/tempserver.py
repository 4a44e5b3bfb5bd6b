"""A throwaway PostgreSQL server for tests and the tour.

``TempServer`` runs ``initdb`` into a fresh directory under the system temp dir (never inside
the checkout: a checkout under root's home is unreachable for the ``postgres`` OS user),
starts the server on a free 127.0.0.1 port with settings tuned for speed rather than
durability, and deletes everything on :meth:`TempServer.stop`.

Layout of the base directory::

    <tmp>/pgwire-tempserver-XXXX/
        owner.pid     pid of the process that owns the server (see ``cleanup``)
        data/         the cluster
        socket/       unix-socket directory
        server.log    server log; its tail is quoted when start-up fails

Host connections use the ``auth`` method; local (unix-socket) connections are trusted so
that :meth:`TempServer.psql` works whatever ``auth`` is.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal
from urllib.parse import quote

from pgwire.testing import cleanup
from pgwire.testing.binaries import find_bindir
from pgwire.testing.errors import PsqlError, TempServerError
from pgwire.testing.osuser import OsUser, server_os_user

AuthMethod = Literal["trust", "password", "md5", "scram-sha-256"]
StopMode = Literal["smart", "fast", "immediate"]

AUTH_METHODS: tuple[AuthMethod, ...] = ("trust", "password", "md5", "scram-sha-256")
HOST = "127.0.0.1"

#: Durability is worthless for a server that is deleted after the run; start-up speed is not.
FAST_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "16MB",
    "max_connections": "200",
    "max_wal_size": "256MB",
    "timezone": "UTC",
    "lc_messages": "C",
    "log_line_prefix": "%m [%p] ",
}

_START_ATTEMPTS = 3
_LOG_TAIL_LINES = 40


class TempServer:
    """A PostgreSQL cluster that lives from :meth:`start` to :meth:`stop`.

    ``auth`` is the pg_hba method for TCP connections; with ``md5`` and ``scram-sha-256``
    the superuser's password is stored in that form (``password_encryption``), so the
    client really has to perform that exchange. ``password`` defaults to a random one.
    ``settings`` are extra ``postgresql.conf`` parameters (they win over the defaults);
    ``hba_lines`` replaces the generated ``pg_hba.conf`` entirely. ``tempdir`` is where the
    base directory is created (default: the system temp dir); the server's OS user must be
    able to enter it.
    """

    def __init__(
        self,
        *,
        auth: AuthMethod = "trust",
        user: str = "postgres",
        password: str | None = None,
        database: str = "postgres",
        settings: Mapping[str, str | int] | None = None,
        hba_lines: Sequence[str] | None = None,
        bindir: str | os.PathLike[str] | None = None,
        tempdir: str | os.PathLike[str] | None = None,
    ) -> None:
        if auth not in AUTH_METHODS:
            raise ValueError(f"auth must be one of {AUTH_METHODS}, not {auth!r}")
        self.auth: AuthMethod = auth
        self._user = user
        self._password = password if password is not None else secrets.token_urlsafe(16)
        self._database = database
        self._settings = {key: str(value) for key, value in (settings or {}).items()}
        self._hba_lines = list(hba_lines) if hba_lines is not None else None
        self._bindir = Path(bindir) if bindir is not None else None
        self._tempdir = Path(tempdir) if tempdir is not None else Path(tempfile.gettempdir())
        self._base: Path | None = None
        self._port: int | None = None
        self._running = False
        self._version: str | None = None
        self._os_user: OsUser | None = None

    # -- connection parameters ------------------------------------------------------------

    @property
    def host(self) -> str:
        """The TCP address the server listens on."""
        return HOST

    @property
    def port(self) -> int:
        """The TCP port; chosen at the first :meth:`start` and kept across restarts."""
        if self._port is None:
            raise TempServerError("the server has not been started")
        return self._port

    @property
    def user(self) -> str:
        """The superuser's name."""
        return self._user

    @property
    def password(self) -> str:
        """The superuser's password."""
        return self._password

    @property
    def database(self) -> str:
        """The database the DSN names."""
        return self._database

    @property
    def dsn(self) -> str:
        """``postgresql://user:password@127.0.0.1:port/database``."""
        user = quote(self._user, safe="")
        password = quote(self._password, safe="")
        return f"postgresql://{user}:{password}@{HOST}:{self.port}/{quote(self._database)}"

    # -- locations ------------------------------------------------------------------------

    @property
    def bindir(self) -> Path:
        """The directory of the server programs (found once, on first use)."""
        if self._bindir is None:
            self._bindir = find_bindir()
        return self._bindir

    @property
    def base_dir(self) -> Path:
        """The directory holding data, socket and log; deleted by :meth:`stop`."""
        if self._base is None:
            raise TempServerError("the server has not been started")
        return self._base

    @property
    def datadir(self) -> Path:
        """The cluster's data directory."""
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        """The unix-socket directory (use it as ``host`` for a local connection)."""
        return self.base_dir / "socket"

    @property
    def log_path(self) -> Path:
        """The server's log file."""
        return self.base_dir / "server.log"

    @property
    def version(self) -> str:
        """The server programs' version, e.g. ``"15.6"``."""
        if self._version is None:
            out = self._run_checked([str(self.bindir / "postgres"), "--version"], as_server=False)
            match = re.search(r"(\d+(?:\.\d+)*)", out)
            if match is None:
                raise TempServerError(f"cannot parse postgres --version output: {out!r}")
            self._version = match.group(1)
        return self._version

    @property
    def running(self) -> bool:
        """True between a successful :meth:`start` and the next :meth:`stop`."""
        return self._running

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> TempServer:
        """Create the cluster if needed and start the server; a no-op when running.

        Raises :class:`TempServerError` (quoting the log's tail) when the server fails.
        """
        if self._running:
            return self
        fresh = self._base is None
        if fresh:
            self._create_cluster()
        try:
            self._launch(retry_ports=fresh)
            if fresh:
                self._finish_setup()
        except BaseException:
            if fresh:
                self.stop(mode="immediate")
            raise
        return self

    def stop(self, mode: StopMode = "fast") -> None:
        """Stop the server and delete its directory. Safe to call more than once."""
        if self._base is None:
            return
        self._halt(mode)
        cleanup.remove_tree(self._base)
        cleanup.unregister(id(self))
        self._base = None
        self._port = None

    def restart(self, mode: StopMode = "fast") -> None:
        """Stop the server (closing every connection) and start it again, keeping data and port."""
        if self._base is None:
            raise TempServerError("the server has not been started")
        self._halt(mode)
        self._launch(retry_ports=False)

    def __enter__(self) -> TempServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"port={self._port}" if self._running else "stopped"
        return f"<TempServer auth={self.auth} {state}>"

    # -- psql -------------------------------------------------------------------------------

    def psql(
        self,
        sql: str,
        *,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        tcp: bool = False,
    ) -> str:
        """Run ``sql`` with ``psql -At`` and return its output without the final newline.

        Connects over the unix socket (trusted) unless ``tcp`` is true, in which case the
        server's ``auth`` method applies and ``password`` defaults to :attr:`password`.
        Every statement's result is printed, one row per line, columns separated by ``|``.
        Raises :class:`PsqlError` when psql fails (bad SQL, rejected login, ...).
        """
        psql = self.bindir / "psql"
        program = str(psql) if psql.exists() else shutil.which("psql")
        if program is None:
            raise TempServerError("psql was not found")
        env = _clean_env()
        env["PGCONNECT_TIMEOUT"] = "10"
        if tcp:
            env["PGPASSWORD"] = password if password is not None else self._password
        elif password is not None:
            env["PGPASSWORD"] = password
        argv = [
            program,
            "-X",
            "-A",
            "-t",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            HOST if tcp else str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            user or self._user,
            "-d",
            database or self._database,
            "-f",
            "-",
        ]
        proc = subprocess.run(
            argv, input=sql, capture_output=True, text=True, env=env, timeout=120
        )
        if proc.returncode != 0:
            raise PsqlError(
                f"psql failed ({proc.returncode}): {proc.stderr.strip()}",
                returncode=proc.returncode,
                stderr=proc.stderr,
            )
        return proc.stdout.removesuffix("\n")

    # -- internals --------------------------------------------------------------------------

    def _create_cluster(self) -> None:
        cleanup.sweep_stale(self._tempdir)
        self._os_user = server_os_user()
        bindir = self.bindir
        base = Path(tempfile.mkdtemp(prefix=cleanup.BASE_PREFIX, dir=self._tempdir))
        self._base = base
        cleanup.register(id(self), self._emergency_stop)
        (base / cleanup.OWNER_FILE).write_text(str(os.getpid()))
        self.socket_dir.mkdir()
        pwfile = base / "pwfile"
        pwfile.write_text(self._password + "\n")
        pwfile.chmod(0o600)
        for path in (base, self.socket_dir, pwfile):
            self._os_user.give(path)
        try:
            self._run_checked(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.datadir),
                    "-U",
                    self._user,
                    f"--pwfile={pwfile}",
                    "--auth-local=trust",
                    f"--auth-host={self.auth}",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ],
                as_server=True,
            )
        except BaseException:
            self.stop()
            raise
        finally:
            pwfile.unlink(missing_ok=True)
        self._write_config()

    def _write_config(self) -> None:
        settings = dict(FAST_SETTINGS)
        settings["listen_addresses"] = HOST
        settings["unix_socket_directories"] = str(self.socket_dir)
        if self.auth == "md5":
            settings["password_encryption"] = "md5"
        settings.update(self._settings)
        lines = ["", "# pgwire TempServer"]
        lines += [f"{key} = {_conf_quote(value)}" for key, value in settings.items()]
        with open(self.datadir / "postgresql.conf", "a") as conf:
            conf.write("\n".join(lines) + "\n")
        if self._hba_lines is not None:
            hba = self._hba_lines
        else:
            hba = [
                "local all all trust",
                "local replication all trust",
                f"host all all 127.0.0.1/32 {self.auth}",
                f"host replication all 127.0.0.1/32 {self.auth}",
            ]
        # Truncating in place keeps the file's owner (the server's OS user).
        with open(self.datadir / "pg_hba.conf", "w") as conf:
            conf.write("\n".join(hba) + "\n")

    def _launch(self, *, retry_ports: bool) -> None:
        attempts = _START_ATTEMPTS if retry_ports else 1
        for attempt in range(attempts):
            if retry_ports or self._port is None:
                self._port = _free_port()
            if self._pg_ctl_start():
                self._running = True
                return
            port_taken = "could not bind" in self._log_tail()
            if not (port_taken and attempt + 1 < attempts):
                break
        raise TempServerError(
            f"PostgreSQL failed to start on port {self._port} (data: {self.datadir})\n"
            f"--- last lines of {self.log_path} ---\n{self._log_tail()}"
        )

    def _pg_ctl_start(self) -> bool:
        argv = [
            str(self.bindir / "pg_ctl"),
            "start",
            "-D",
            str(self.datadir),
            "-l",
            str(self.log_path),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self._port}",
        ]
        proc = self._run(argv, as_server=True)
        return proc.returncode == 0

    def _finish_setup(self) -> None:
        if self.auth == "md5":
            # initdb stored the password as SCRAM; store it again now that md5 is the default.
            self.psql(f"ALTER ROLE {_ident(self._user)} PASSWORD {_literal(self._password)}")
        if self._database != "postgres":
            self.psql(f"CREATE DATABASE {_ident(self._database)}", database="postgres")

    def _halt(self, mode: StopMode) -> None:
        if not self._running or self._base is None:
            return
        argv = [str(self.bindir / "pg_ctl"), "stop", "-D", str(self.datadir), "-m", mode, "-w"]
        if self._run(argv, as_server=True).returncode != 0:
            cleanup.kill_postmaster(self.datadir)
        self._running = False

    def _emergency_stop(self) -> None:
        if self._base is not None:
            cleanup.kill_postmaster(self._base / "data")
            cleanup.remove_tree(self._base)
            self._base = None
            self._running = False

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return "\n".join(lines[-_LOG_TAIL_LINES:])

    def _run(self, argv: list[str], *, as_server: bool) -> subprocess.CompletedProcess[str]:
        if as_server:
            if self._os_user is None:
                self._os_user = server_os_user()
            argv = self._os_user.wrap(argv)
        # cwd: the server's OS user may be unable to enter the caller's working directory.
        return subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=_clean_env(),
            cwd=self._base or tempfile.gettempdir(),
            timeout=120,
        )

    def _run_checked(self, argv: list[str], *, as_server: bool) -> str:
        proc = self._run(argv, as_server=as_server)
        if proc.returncode != 0:
            raise TempServerError(
                f"{Path(argv[0]).name} failed ({proc.returncode}):\n"
                f"{proc.stdout.strip()}\n{proc.stderr.strip()}"
            )
        return proc.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _clean_env() -> dict[str, str]:
    """The environment without libpq variables that could redirect our programs."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _conf_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
