"""Test configuration shared by every suite.

* Tests under ``tests/integration`` and ``tests/compat`` get the ``integration`` marker, so
  ``pytest -m "not integration"`` (or ``pytest tests/unit``) runs without a server.
* ``pg_server`` is the server integration tests talk to: the one named by
  ``$PGWIRE_TEST_DSN`` when set, otherwise a :class:`pgwire.testing.TempServer` started
  once per run (only when a test asks for it).
* ``dsn`` is that server's DSN; ``conn`` is an open ``pgwire`` connection to it, closed
  after the test.

``pgwire`` is imported inside the fixtures, so the unit suite is collected even while the
driver package does not import.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TESTS_DIR = Path(__file__).parent
INTEGRATION_DIRS = ("integration", "compat")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: needs a PostgreSQL server (tests/integration, tests/compat)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            parts = Path(item.path).relative_to(TESTS_DIR).parts
        except ValueError:
            continue
        if parts and parts[0] in INTEGRATION_DIRS:
            item.add_marker(pytest.mark.integration)


@dataclass(frozen=True)
class ExternalServer:
    """A server the tests did not start: known only by its DSN."""

    dsn: str


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """The server under test: ``ExternalServer`` for ``$PGWIRE_TEST_DSN``, else a TempServer."""
    external = os.environ.get("PGWIRE_TEST_DSN")
    if external:
        yield ExternalServer(external)
        return
    from pgwire.testing import TempServer

    with TempServer() as server:
        yield server


@pytest.fixture(scope="session")
def dsn(pg_server: Any) -> str:
    """DSN of the server under test."""
    value: str = pg_server.dsn
    return value


@pytest.fixture
async def conn(dsn: str) -> AsyncIterator[Any]:
    """A fresh ``pgwire`` connection to the server under test, closed afterwards."""
    import pgwire

    connection = await pgwire.connect(dsn)
    try:
        yield connection
    finally:
        await connection.close()
