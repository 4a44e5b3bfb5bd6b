"""A streaming-replication standby of a :class:`TempServer`, for replica and failover tests.

``StandbyServer(primary).start()`` copies the running primary with
``pg_basebackup -R -X stream`` (which writes ``standby.signal`` and ``primary_conninfo``)
into its own base directory, then starts it on its own port as a hot standby.
:meth:`StandbyServer.promote` turns it into a primary (``pg_ctl promote``).  Everything
else -- ``stop``, ``psql``, ``dsn``, the credentials -- is the primary's ``TempServer``
behaviour; the standby shares the primary's user and password.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from pgwire.testing import cleanup
from pgwire.testing.errors import TempServerError
from pgwire.testing.osuser import server_os_user
from pgwire.testing.tempserver import TempServer

__all__ = ["StandbyServer"]


class StandbyServer(TempServer):
    """A hot standby that streams from ``primary`` (which must be running)."""

    def __init__(self, primary: TempServer, **kwargs: object) -> None:
        super().__init__(
            auth=primary.auth,
            user=primary.user,
            password=primary.password,
            database=primary.database,
            bindir=primary.bindir,
            **kwargs,  # type: ignore[arg-type]
        )
        self.primary = primary

    def promote(self, timeout: float = 30) -> None:
        """Promote to primary and wait until it accepts writes."""
        argv = [str(self.bindir / "pg_ctl"), "promote", "-D", str(self.datadir), "-w"]
        argv += ["-t", str(int(timeout))]
        self._run_checked(argv, as_server=True)
        deadline = time.monotonic() + timeout
        while self.psql("SELECT pg_is_in_recovery()") != "f":
            if time.monotonic() > deadline:
                raise TempServerError("the standby did not leave recovery in time")
            time.sleep(0.05)

    def wait_for_replay(self, timeout: float = 30) -> None:
        """Wait until the standby has replayed everything the primary has written so far."""
        target = self.primary.psql("SELECT pg_current_wal_insert_lsn()")
        deadline = time.monotonic() + timeout
        query = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
        while self.psql(query) != "t":
            if time.monotonic() > deadline:
                raise TempServerError(f"the standby did not replay up to {target} in time")
            time.sleep(0.02)

    def _create_cluster(self) -> None:
        cleanup.sweep_stale(self._tempdir)
        self._os_user = server_os_user()
        base = Path(tempfile.mkdtemp(prefix=cleanup.BASE_PREFIX, dir=self._tempdir))
        self._base = base
        cleanup.register(id(self), self._emergency_stop)
        (base / cleanup.OWNER_FILE).write_text(str(os.getpid()))
        self.socket_dir.mkdir()
        for path in (base, self.socket_dir):
            self._os_user.give(path)
        try:
            self._run_checked(
                [
                    str(self.bindir / "pg_basebackup"),
                    "-h",
                    str(self.primary.socket_dir),
                    "-p",
                    str(self.primary.port),
                    "-U",
                    self.primary.user,
                    "-D",
                    str(self.datadir),
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "--no-sync",
                ],
                as_server=True,
            )
        except BaseException:
            self.stop()
            raise
        self._write_config()

    def _finish_setup(self) -> None:
        """Nothing to do: roles and databases come from the primary."""
