"""libpq's TCP keepalive options, read back from the connection's socket."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

import pgwire

pytestmark = pytest.mark.skipif(
    not hasattr(socket, "TCP_KEEPIDLE") or not hasattr(socket, "TCP_USER_TIMEOUT"),
    reason="needs Linux TCP options",
)


@pytest.fixture
def tcp_dsn(pg_server: Any) -> str:
    """The test server over TCP (keepalives apply to TCP only)."""
    server = pg_server
    if not hasattr(server, "port"):
        pytest.skip("needs the TempServer's TCP address")
    return (
        f"host={server.host} port={server.port} user={server.user} "
        f"password={server.password} dbname={server.database}"
    )


@pytest.fixture
async def opened() -> AsyncIterator[list[Any]]:
    conns: list[Any] = []
    yield conns
    for conn in conns:
        await conn.close()


async def _socket(opened: list[Any], dsn: str, **kwargs: Any) -> Any:
    conn = await pgwire.connect(dsn, **kwargs)
    opened.append(conn)
    return conn._transport.get_extra_info("socket")


def _tcp(sock: Any, option: int) -> int:
    value: int = sock.getsockopt(socket.IPPROTO_TCP, option)
    return value


async def test_keepalives_are_on_by_default(tcp_dsn: str, opened: list[Any]) -> None:
    sock = await _socket(opened, tcp_dsn)
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1


async def test_keepalives_0_in_the_dsn_turns_them_off(tcp_dsn: str, opened: list[Any]) -> None:
    sock = await _socket(opened, tcp_dsn + " keepalives=0")
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0


async def test_keepalive_timings_from_the_dsn_are_set(tcp_dsn: str, opened: list[Any]) -> None:
    sock = await _socket(
        opened,
        tcp_dsn + " keepalives_idle=11 keepalives_interval=3 keepalives_count=5"
        " tcp_user_timeout=9000",
    )
    assert _tcp(sock, socket.TCP_KEEPIDLE) == 11
    assert _tcp(sock, socket.TCP_KEEPINTVL) == 3
    assert _tcp(sock, socket.TCP_KEEPCNT) == 5
    assert _tcp(sock, socket.TCP_USER_TIMEOUT) == 9000


async def test_keepalive_keyword_arguments_override_the_dsn(
    tcp_dsn: str, opened: list[Any]
) -> None:
    sock = await _socket(
        opened,
        tcp_dsn + " keepalives_idle=11",
        keepalives_idle=12,
        keepalives_interval=4,
        keepalives_count=6,
        tcp_user_timeout=8000,
    )
    assert _tcp(sock, socket.TCP_KEEPIDLE) == 12
    assert _tcp(sock, socket.TCP_KEEPINTVL) == 4
    assert _tcp(sock, socket.TCP_KEEPCNT) == 6
    assert _tcp(sock, socket.TCP_USER_TIMEOUT) == 8000


async def test_keepalives_false_keyword_turns_them_off(tcp_dsn: str, opened: list[Any]) -> None:
    sock = await _socket(opened, tcp_dsn, keepalives=False)
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0


async def test_tcp_user_timeout_is_a_client_option_not_a_server_setting(
    tcp_dsn: str, opened: list[Any]
) -> None:
    await _socket(opened, tcp_dsn + " tcp_user_timeout=9000")
    assert await opened[0].fetchval("SHOW tcp_user_timeout") == "0"


async def test_pool_connections_get_the_keepalive_options(tcp_dsn: str) -> None:
    async with pgwire.create_pool(tcp_dsn, min_size=1, max_size=1, keepalives_idle=13) as pool:
        async with pool.acquire() as con:
            sock = con._con._transport.get_extra_info("socket")
            assert _tcp(sock, socket.TCP_KEEPIDLE) == 13


@pytest.mark.parametrize("value", ["-1", "ten", "1.5"])
async def test_invalid_keepalive_value_names_the_option(tcp_dsn: str, value: str) -> None:
    with pytest.raises(pgwire.ClientConfigurationError, match="keepalives_idle"):
        await pgwire.connect(tcp_dsn + f" keepalives_idle={value}")


async def test_a_value_the_system_refuses_names_the_option(tcp_dsn: str) -> None:
    with pytest.raises(pgwire.ClientConfigurationError, match="keepalives_count"):
        await pgwire.connect(tcp_dsn, keepalives_count=100000)


@pytest.mark.parametrize(
    ("option", "value"),
    [("keepalives_count", 2**31), ("tcp_user_timeout", 2**32), ("keepalives_interval", 2**31)],
)
async def test_a_keyword_value_too_large_for_the_socket_option_names_the_range(
    tcp_dsn: str, option: str, value: int
) -> None:
    with pytest.raises(pgwire.ClientConfigurationError, match=f"{option}.*0 to 2147483647"):
        await pgwire.connect(tcp_dsn, **{option: value})


async def test_a_dsn_value_too_large_for_the_socket_option_names_the_range(
    tcp_dsn: str,
) -> None:
    with pytest.raises(pgwire.ClientConfigurationError, match="keepalives_count.*0 to 2147483647"):
        await pgwire.connect(tcp_dsn + " keepalives_count=99999999999")
