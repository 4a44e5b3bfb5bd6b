"""Host lists: hosts tried in order, per-host timeouts, unreachable and refusing hosts.

Unreachable hosts are closed ports; a "black hole" accepts TCP connections and never
answers; a "starting up" server answers every startup with SQLSTATE 57P03.  The real
server is ``pg_server``.  Roles (``target_session_attrs``) are tested in test_standby.py.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

import pgwire


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
async def black_hole() -> AsyncIterator[int]:
    """A port that accepts connections and never says a word."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()


def error_response(sqlstate: str, message: str) -> bytes:
    body = b"SFATAL\x00C" + sqlstate.encode() + b"\x00M" + message.encode() + b"\x00\x00"
    return b"E" + struct.pack("!I", len(body) + 4) + body


@pytest.fixture
async def starting_up() -> AsyncIterator[int]:
    """A port whose 'server' refuses TLS and answers the startup with 57P03."""

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = struct.unpack("!I", await reader.readexactly(4))
                body = await reader.readexactly(length - 4)
                if body[:4] == struct.pack("!I", 80877103):  # SSLRequest
                    writer.write(b"N")
                    continue
                writer.write(error_response("57P03", "the database system is starting up"))
                await writer.drain()
                break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


def server_options(pg_server: Any) -> dict[str, Any]:
    if not hasattr(pg_server, "port"):
        pytest.skip("needs a TempServer (host and port known)")
    return {"user": pg_server.user, "password": pg_server.password, "database": pg_server.database}


async def connected_port(conn: Any) -> int:
    port: int = await conn.fetchval("SELECT inet_server_port()")
    await conn.close()
    return port


async def test_a_down_host_is_skipped_for_the_next_one(pg_server: Any) -> None:
    conn = await pgwire.connect(
        host=["127.0.0.1", "127.0.0.1"],
        port=[closed_port(), pg_server.port],
        **server_options(pg_server),
    )
    assert await connected_port(conn) == pg_server.port


async def test_hosts_and_ports_in_a_url(pg_server: Any) -> None:
    options = server_options(pg_server)
    url = (
        f"postgresql://{options['user']}:{options['password']}@127.0.0.1:{closed_port()},"
        f"127.0.0.1:{pg_server.port}/{options['database']}"
    )
    assert await connected_port(await pgwire.connect(url)) == pg_server.port


async def test_all_hosts_down_names_every_host() -> None:
    ports = [closed_port(), closed_port()]
    with pytest.raises(OSError) as info:
        await pgwire.connect(host=["127.0.0.1", "127.0.0.1"], port=ports, user="u")
    message = str(info.value)
    assert "any of 2 hosts" in message
    assert all(f"127.0.0.1:{port}" in message for port in ports)


async def test_a_silent_host_costs_only_the_per_host_connect_timeout(
    pg_server: Any, black_hole: int
) -> None:
    options = server_options(pg_server)
    dsn = (
        f"host=127.0.0.1,127.0.0.1 port={black_hole},{pg_server.port} connect_timeout=1 "
        f"user={options['user']} password={options['password']} dbname={options['database']}"
    )
    started = time.monotonic()
    conn = await pgwire.connect(dsn)
    assert await connected_port(conn) == pg_server.port
    assert 0.9 < time.monotonic() - started < 5


async def test_the_overall_timeout_bounds_a_silent_single_host(black_hole: int) -> None:
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError, match=f"127.0.0.1:{black_hole}"):
        await pgwire.connect(host="127.0.0.1", port=black_hole, user="u", timeout=0.5)
    assert time.monotonic() - started < 3


async def test_a_starting_up_server_moves_on_to_the_next_host(
    pg_server: Any, starting_up: int
) -> None:
    conn = await pgwire.connect(
        host=["127.0.0.1", "127.0.0.1"],
        port=[starting_up, pg_server.port],
        **server_options(pg_server),
    )
    assert await connected_port(conn) == pg_server.port


async def test_a_starting_up_server_alone_raises_cannot_connect_now(starting_up: int) -> None:
    with pytest.raises(pgwire.CannotConnectNowError):
        await pgwire.connect(host="127.0.0.1", port=starting_up, user="u")


async def test_load_balance_hosts_random_spreads_connections(pg_server: Any) -> None:
    options = server_options(pg_server)
    seen = set()
    for _ in range(12):
        conn = await pgwire.connect(
            host=["127.0.0.1", "localhost"],
            port=pg_server.port,
            load_balance_hosts="random",
            **options,
        )
        seen.add(conn._addr[0])
        await conn.close()
    assert seen == {"127.0.0.1", "localhost"}


async def test_load_balance_hosts_disable_keeps_the_order(pg_server: Any) -> None:
    options = server_options(pg_server)
    for _ in range(3):
        conn = await pgwire.connect(
            host=["127.0.0.1", "localhost"], port=pg_server.port, **options
        )
        assert conn._addr[0] == "127.0.0.1"
        await conn.close()


async def test_invalid_load_balance_hosts_is_a_configuration_error() -> None:
    with pytest.raises(pgwire.ClientConfigurationError, match="load_balance_hosts"):
        await pgwire.connect("host=h load_balance_hosts=roundrobin")
