"""Servers with password authentication, for the tests of the auth exchanges.

Each fixture is session-scoped and, like every pytest fixture, created only when a test
asks for it. They are always :class:`pgwire.testing.TempServer` instances (an external
``$PGWIRE_TEST_DSN`` server cannot be reconfigured); when ``$PGWIRE_TEST_DSN`` is set and no
server programs are installed, the tests that need them are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pgwire.testing import AuthMethod, TempServer


def _serve(auth: AuthMethod) -> Iterator[TempServer]:
    from pgwire.testing import ServerBinariesNotFound, TempServer

    server = TempServer(auth=auth)
    try:
        server.start()
    except ServerBinariesNotFound as exc:
        if os.environ.get("PGWIRE_TEST_DSN"):
            pytest.skip(f"needs a local PostgreSQL installation: {exc}")
        raise
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def scram_server() -> Iterator[TempServer]:
    """A server whose TCP logins use SCRAM-SHA-256 (password stored as SCRAM)."""
    yield from _serve("scram-sha-256")


@pytest.fixture(scope="session")
def md5_server() -> Iterator[TempServer]:
    """A server whose TCP logins use MD5 (password stored as an md5 hash)."""
    yield from _serve("md5")


@pytest.fixture(scope="session")
def password_server() -> Iterator[TempServer]:
    """A server whose TCP logins send the password in clear text."""
    yield from _serve("password")
