"""Which operating-system user the server programs run as.

PostgreSQL refuses to run as root. When this process is root, ``initdb``, ``pg_ctl`` and
``postgres`` run as the ``postgres`` OS user through ``runuser``, and every directory the
server writes to is handed to that user. Otherwise they run as the current user.
"""

from __future__ import annotations

import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path

from pgwire.testing.errors import TempServerError

SERVER_OS_USER = "postgres"


@dataclass(frozen=True)
class OsUser:
    """The account server programs run as; ``prefix`` is prepended to their argv."""

    name: str
    uid: int
    gid: int
    prefix: tuple[str, ...]

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` to run as this user."""
        return [*self.prefix, *argv]

    def give(self, path: Path) -> None:
        """Make this user the owner of ``path`` (a no-op when it already owns it)."""
        if os.stat(path).st_uid != self.uid:
            os.chown(path, self.uid, self.gid)


def server_os_user() -> OsUser:
    """The account to run the server as; see the module docstring.

    Raises :class:`TempServerError` when root has no ``postgres`` user or no ``runuser``.
    """
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return OsUser(entry.pw_name, entry.pw_uid, entry.pw_gid, ())
    try:
        entry = pwd.getpwnam(SERVER_OS_USER)
    except KeyError:
        raise TempServerError(
            "running as root, but there is no 'postgres' OS user to run the server as "
            "(Debian's postgresql package creates it: apt-get install postgresql)"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise TempServerError("running as root, but 'runuser' is not available")
    return OsUser(entry.pw_name, entry.pw_uid, entry.pw_gid, (runuser, "-u", entry.pw_name, "--"))
