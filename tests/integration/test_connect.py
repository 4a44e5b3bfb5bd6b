"""Opening and closing connections: DSN, keywords, PG* variables, failures, close/terminate."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

import pytest

import pgwire


def dsn_parts(dsn: str) -> dict[str, str | int]:
    parts = urlsplit(dsn)
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or 5432,
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "database": unquote(parts.path.lstrip("/")),
    }


@pytest.fixture
def black_hole() -> Iterator[tuple[str, int]]:
    """A TCP listener that completes the handshake (kernel backlog) but never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield sock.getsockname()
    finally:
        sock.close()


def unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# ---------------------------------------------------------------- ways to connect


async def test_connect_with_a_dsn_url(dsn: str) -> None:
    conn = await pgwire.connect(dsn)
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


async def test_connect_with_keywords(dsn: str) -> None:
    p = dsn_parts(dsn)
    conn = await pgwire.connect(
        host=p["host"],
        port=p["port"],
        user=p["user"],
        password=p["password"] or None,
        database=p["database"],
    )
    try:
        assert await conn.fetchval("SELECT current_user") == p["user"]
        assert await conn.fetchval("SELECT current_database()") == p["database"]
    finally:
        await conn.close()


async def test_connect_with_pg_environment_variables(
    dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = dsn_parts(dsn)
    monkeypatch.setenv("PGHOST", str(p["host"]))
    monkeypatch.setenv("PGPORT", str(p["port"]))
    monkeypatch.setenv("PGUSER", str(p["user"]))
    monkeypatch.setenv("PGPASSWORD", str(p["password"]))
    monkeypatch.setenv("PGDATABASE", str(p["database"]))

    conn = await pgwire.connect()
    try:
        assert await conn.fetchval("SELECT current_database()") == p["database"]
    finally:
        await conn.close()


async def test_keyword_arguments_override_the_dsn(dsn: str) -> None:
    conn = await pgwire.connect(dsn, database="template1")
    try:
        assert await conn.fetchval("SELECT current_database()") == "template1"
    finally:
        await conn.close()


async def test_server_settings_are_sent_at_startup(dsn: str) -> None:
    conn = await pgwire.connect(dsn, server_settings={"application_name": "pgwire-tests"})
    try:
        assert await conn.fetchval("SHOW application_name") == "pgwire-tests"
        assert conn.get_settings().application_name == "pgwire-tests"
    finally:
        await conn.close()


async def test_connection_class_subclass_is_used(dsn: str) -> None:
    class MyConnection(pgwire.Connection):
        pass

    conn = await pgwire.connect(dsn, connection_class=MyConnection)
    try:
        assert type(conn) is MyConnection
    finally:
        await conn.close()


async def test_connection_class_that_is_not_a_connection_is_refused(dsn: str) -> None:
    with pytest.raises(pgwire.InterfaceError, match="connection_class"):
        await pgwire.connect(dsn, connection_class=object)  # type: ignore[arg-type]


# ---------------------------------------------------------------- connect failures


async def test_refused_port_raises_oserror_naming_host_and_port() -> None:
    port = unused_port()

    with pytest.raises(OSError, match=f"127.0.0.1:{port}"):
        await pgwire.connect(host="127.0.0.1", port=port, user="u", timeout=5)


async def test_unknown_host_raises_oserror() -> None:
    with pytest.raises(OSError):
        await pgwire.connect(host="no-such-host.invalid", port=5432, user="u", timeout=10)


@pytest.mark.parametrize(
    "bad_dsn",
    [
        "postgresql://localhost:notaport/db",
        "postgresql://localhost/db?sslmode=sometimes",
        "mysql://localhost/db",
    ],
)
async def test_bad_dsn_raises_client_configuration_error(bad_dsn: str) -> None:
    with pytest.raises(pgwire.ClientConfigurationError):
        await pgwire.connect(bad_dsn)


async def test_connect_timeout_to_a_silent_listener(black_hole: tuple[str, int]) -> None:
    host, port = black_hole
    started = time.monotonic()

    with pytest.raises(asyncio.TimeoutError):
        await pgwire.connect(host=host, port=port, user="u", password="p", timeout=0.5)

    assert time.monotonic() - started < 3


async def test_unknown_database_raises_invalid_catalog_name_error(dsn: str) -> None:
    with pytest.raises(pgwire.InvalidCatalogNameError):
        await pgwire.connect(dsn, database="no_such_database")


async def test_unknown_user_is_rejected(dsn: str) -> None:
    with pytest.raises(pgwire.PostgresError):
        await pgwire.connect(dsn, user="no_such_user")


# ---------------------------------------------------------------- closing


async def test_new_connection_is_open(conn: pgwire.Connection) -> None:
    assert not conn.is_closed()


async def test_close_closes_the_session_on_the_server(dsn: str, conn: pgwire.Connection) -> None:
    other = await pgwire.connect(dsn)
    pid = other.get_server_pid()

    await other.close()

    assert other.is_closed()
    for _ in range(50):
        alive = await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)
        if alive == 0:
            break
        await asyncio.sleep(0.02)
    assert alive == 0


async def test_close_twice_is_harmless(dsn: str) -> None:
    other = await pgwire.connect(dsn)
    await other.close()

    await other.close()

    assert other.is_closed()


async def test_terminate_closes_at_once(dsn: str) -> None:
    other = await pgwire.connect(dsn)

    other.terminate()

    assert other.is_closed()


@pytest.mark.parametrize("how", ["close", "terminate"])
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.execute("SELECT 1"), id="execute"),
        pytest.param(lambda c: c.execute("SELECT $1::int", 1), id="execute-args"),
        pytest.param(lambda c: c.fetch("SELECT 1"), id="fetch"),
        pytest.param(lambda c: c.fetchrow("SELECT 1"), id="fetchrow"),
        pytest.param(lambda c: c.fetchval("SELECT 1"), id="fetchval"),
        pytest.param(lambda c: c.executemany("SELECT $1::int", [(1,)]), id="executemany"),
        pytest.param(lambda c: c.fetchmany("SELECT $1::int", [(1,)]), id="fetchmany"),
        pytest.param(lambda c: c.prepare("SELECT 1"), id="prepare"),
        pytest.param(lambda c: c.reset(), id="reset"),
        pytest.param(lambda c: c.add_listener("ch", lambda *a: None), id="add_listener"),
    ],
)
async def test_operations_on_a_closed_connection_raise_interface_error(
    dsn: str, how: str, call: object
) -> None:
    other = await pgwire.connect(dsn)
    if how == "close":
        await other.close()
    else:
        other.terminate()

    with pytest.raises(pgwire.InterfaceError):
        await call(other)  # type: ignore[operator]


async def test_transaction_on_a_closed_connection_raises_interface_error(dsn: str) -> None:
    other = await pgwire.connect(dsn)
    await other.close()

    with pytest.raises(pgwire.InterfaceError):
        async with other.transaction():
            pass


async def test_termination_listener_is_called_when_the_connection_closes(dsn: str) -> None:
    other = await pgwire.connect(dsn)
    called = asyncio.Event()
    other.add_termination_listener(lambda c: called.set())

    other.terminate()

    await asyncio.wait_for(called.wait(), 2)


# ---------------------------------------------------------------- introspection


async def test_server_pid_is_the_backend_pid(conn: pgwire.Connection) -> None:
    assert conn.get_server_pid() == await conn.fetchval("SELECT pg_backend_pid()")


async def test_server_version_matches_server_version_num(conn: pgwire.Connection) -> None:
    version = conn.get_server_version()
    num = int(await conn.fetchval("SHOW server_version_num"))

    # asyncpg's convention for PostgreSQL >= 10: "15.4" is ServerVersion(15, 0, 4, ...).
    assert (version.major, version.minor, version.micro) == (num // 10000, 0, num % 10000)
    assert version.releaselevel == "final"


async def test_settings_expose_parameter_status_values(conn: pgwire.Connection) -> None:
    settings = conn.get_settings()

    assert settings.server_version == await conn.fetchval("SHOW server_version")
    assert settings.client_encoding == "UTF8"
    with pytest.raises(AttributeError):
        settings.no_such_setting  # noqa: B018


async def test_settings_follow_set_commands(conn: pgwire.Connection) -> None:
    await conn.execute("SET application_name = 'changed'")

    assert conn.get_settings().application_name == "changed"


async def test_reset_query_lists_the_cleanup_statements(conn: pgwire.Connection) -> None:
    query = conn.get_reset_query()

    for statement in ("pg_advisory_unlock_all", "CLOSE ALL", "UNLISTEN *", "RESET ALL"):
        assert statement in query


async def test_reset_restores_session_settings_and_ends_transactions(
    conn: pgwire.Connection,
) -> None:
    await conn.execute("SET search_path = 'nowhere'")
    await conn.execute("BEGIN")

    await conn.reset()

    assert not conn.is_in_transaction()
    assert await conn.fetchval("SHOW search_path") == '"$user", public'


async def test_reset_releases_advisory_locks(dsn: str, conn: pgwire.Connection) -> None:
    await conn.execute("SELECT pg_advisory_lock(4242)")

    await conn.reset()

    other = await pgwire.connect(dsn)
    try:
        assert await other.fetchval("SELECT pg_try_advisory_lock(4242)") is True
    finally:
        await other.close()


async def test_reset_stops_listening(conn: pgwire.Connection) -> None:
    await conn.add_listener("reset_channel", lambda *a: None)

    await conn.reset()

    assert await conn.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
