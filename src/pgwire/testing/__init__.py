"""Test helpers: a throwaway PostgreSQL server (:class:`TempServer`).

This package does not depend on the driver, so it can start the server the driver's own
tests (and the tour) connect to.
"""

from pgwire.testing.binaries import find_bindir
from pgwire.testing.errors import PsqlError, ServerBinariesNotFound, TempServerError
from pgwire.testing.tempserver import AuthMethod, TempServer

__all__ = [
    "AuthMethod",
    "PsqlError",
    "ServerBinariesNotFound",
    "TempServer",
    "TempServerError",
    "find_bindir",
]
