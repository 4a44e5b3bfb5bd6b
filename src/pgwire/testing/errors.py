"""Exceptions raised by the throwaway-server helpers."""

from __future__ import annotations


class TempServerError(RuntimeError):
    """A throwaway PostgreSQL server could not be set up, started or stopped."""


class ServerBinariesNotFound(TempServerError):
    """No directory with ``initdb``, ``postgres`` and ``pg_ctl`` was found."""


class PsqlError(TempServerError):
    """``psql`` exited with a non-zero status; ``stderr`` holds its message."""

    def __init__(self, message: str, *, returncode: int, stderr: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr
