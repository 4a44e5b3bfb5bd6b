"""Replies to the SSLRequest other than 'S' and 'N', from a scripted loopback server.

libpq reports an ErrorResponse to the SSLRequest (a server out of connection slots, for
one) and fails on any other byte; neither may turn into a plain retry that then waits
for the connect timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import pgwire


def error_response(sqlstate: str, message: str) -> bytes:
    body = b"SFATAL\x00C" + sqlstate.encode() + b"\x00M" + message.encode() + b"\x00\x00"
    return b"E" + (len(body) + 4).to_bytes(4, "big") + body


async def scripted_server(reply: bytes) -> AsyncIterator[int]:
    """A server that answers every first message with ``reply`` and then stays silent."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read(8)
            # Split in two writes: the reply may arrive in pieces.
            writer.write(reply[:3])
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(reply[3:])
            await writer.drain()
            await reader.read()  # stay open until the client goes away
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def error_server() -> AsyncIterator[int]:
    async for port in scripted_server(error_response("53300", "sorry, too many clients already")):
        yield port


@pytest.fixture
async def garbage_server() -> AsyncIterator[int]:
    async for port in scripted_server(b"HTTP/1.1 400 Bad Request\r\n\r\n"):
        yield port


@pytest.mark.parametrize("mode", ["prefer", "require", "allow"])
async def test_error_reply_to_tls_request_raises_the_servers_error_at_once(
    error_server: int, mode: str
) -> None:
    dsn = f"postgresql://u:p@127.0.0.1:{error_server}/db?sslmode={mode}"
    with pytest.raises(pgwire.TooManyConnectionsError, match="too many clients"):
        # A wait far beyond the test's: reaching it means the error was not reported.
        await asyncio.wait_for(pgwire.connect(dsn, timeout=60), 10)


@pytest.mark.parametrize("mode", ["prefer", "require"])
async def test_invalid_reply_to_tls_request_fails_at_once(garbage_server: int, mode: str) -> None:
    dsn = f"postgresql://u:p@127.0.0.1:{garbage_server}/db?sslmode={mode}"
    with pytest.raises(ConnectionError, match="invalid response to the TLS request"):
        await asyncio.wait_for(pgwire.connect(dsn, timeout=60), 10)
