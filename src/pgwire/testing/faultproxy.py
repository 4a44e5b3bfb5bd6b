"""A fault-injecting TCP proxy for tests: sits between a client and a server on loopback.

Rules of this module:

1. The proxy listens on ``127.0.0.1`` only and connects only to a loopback target;
   anything else is refused at construction.

2. Every accepted connection gets the :class:`FaultPlan` in force when it was accepted
   (``proxy.plan``; change it between connections). A plan describes each direction
   (``to_server``: client to server, ``to_client``: server to client) with a
   :class:`StreamFaults`: cut the connection after N bytes, delay every chunk, split every
   chunk at random byte boundaries into separate writes, duplicate or corrupt the byte at
   an offset. ``blackhole`` accepts the connection, reads and discards what the client
   sends, and never answers.

3. CancelRequests are recognised by their first message (16 bytes, code 80877102) and get
   ``plan.cancel`` instead of the session plan: ``"pass"`` forwards them untouched,
   ``"blackhole"`` swallows them, ``"drop"`` closes them at once. A driver sends its
   CancelRequest to the address it connected to, so through the proxy it meets these
   rules; tests choose whether the cancel path is faulted too.

4. Live controls act on every open connection: :meth:`FaultProxy.stall` stops forwarding
   (bytes are held, not lost) until :meth:`FaultProxy.resume`; :meth:`FaultProxy.cut_all`
   resets every connection at once.

5. Everything is bounded: :meth:`FaultProxy.close` aborts every connection and task, so
   a test never waits on the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import random
import struct
from collections.abc import Coroutine
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

__all__ = ["FaultPlan", "FaultProxy", "ProxiedConnection", "StreamFaults"]

CANCEL_REQUEST_CODE = 80877102
_READ_SIZE = 65536

CancelRule = Literal["pass", "blackhole", "drop"]


@dataclasses.dataclass(frozen=True)
class StreamFaults:
    """Faults of one direction; offsets count the bytes of that direction from 0."""

    #: Reset the whole connection once this many bytes went through (the byte at this
    #: offset and later ones are never delivered).
    drop_after: int | None = None
    #: Seconds to wait before forwarding each chunk.
    delay: float = 0.0
    #: Forward every chunk as several writes cut at random byte boundaries.
    split: bool = False
    #: Deliver the byte at this offset twice.
    duplicate_at: int | None = None
    #: Deliver the byte at this offset with every bit flipped.
    corrupt_at: int | None = None


@dataclasses.dataclass(frozen=True)
class FaultPlan:
    """What happens to the connections accepted while this plan is in force."""

    to_server: StreamFaults = StreamFaults()
    to_client: StreamFaults = StreamFaults()
    blackhole: bool = False
    cancel: CancelRule = "pass"
    #: Seed of the random splits; ``None`` draws one per connection.
    seed: int | None = None


CLEAN = FaultPlan()


class ProxiedConnection:
    """One client connection through the proxy, with its byte counters."""

    def __init__(self, plan: FaultPlan, is_cancel: bool) -> None:
        self.plan = plan
        self.is_cancel = is_cancel
        self.to_server = 0
        self.to_client = 0
        self.closed = asyncio.get_running_loop().create_future()
        self._writers: list[asyncio.StreamWriter] = []

    def cut(self) -> None:
        """Reset both sides at once."""
        for writer in self._writers:
            writer.transport.abort()
        if not self.closed.done():
            self.closed.set_result(None)


class FaultProxy:
    """An asyncio TCP proxy to ``target`` that injects faults (see the module rules).

    Use as ``async with FaultProxy(server.host, server.port) as proxy:``; connect the
    client to ``proxy.dsn(server.dsn)`` (or ``proxy.host``/``proxy.port``).
    """

    def __init__(self, target_host: str, target_port: int, plan: FaultPlan = CLEAN) -> None:
        if not ipaddress.ip_address(target_host).is_loopback:
            raise ValueError(f"the fault proxy only forwards to loopback, not {target_host!r}")
        self.target = (target_host, target_port)
        self.host = "127.0.0.1"
        self.plan = plan
        self.connections: list[ProxiedConnection] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._running = asyncio.Event()
        self._running.set()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def dsn(self, dsn: str) -> str:
        """``dsn`` (a ``postgresql://`` URL) with its host and port replaced by the proxy's."""
        parts = urlsplit(dsn)
        userinfo, _, _ = parts.netloc.rpartition("@")
        netloc = f"{userinfo}@" if userinfo else ""
        netloc += f"{self.host}:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    # ---------------------------------------------------------------- life cycle

    async def start(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        return self

    async def close(self) -> None:
        """Stop listening and abort every connection and forwarding task."""
        if self._server is not None:
            self._server.close()
        self.cut_all()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        if self._server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---------------------------------------------------------------- live controls

    def stall(self) -> None:
        """Hold every byte in both directions (connections stay open) until :meth:`resume`."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cut_all(self) -> None:
        """Reset every open connection."""
        for conn in self.connections:
            conn.cut()

    @property
    def open_connections(self) -> list[ProxiedConnection]:
        return [c for c in self.connections if not c.closed.done()]

    # ---------------------------------------------------------------- forwarding

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # The stream server reports a handler's exception, cancellation included: end quietly.
        with contextlib.suppress(asyncio.CancelledError):
            await self._serve(reader, writer)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        plan = self.plan
        try:
            first = await reader.readexactly(8)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.transport.abort()
            return
        length, code = struct.unpack("!ii", first)
        is_cancel = length == 16 and code == CANCEL_REQUEST_CODE
        conn = ProxiedConnection(plan, is_cancel)
        conn._writers.append(writer)
        self.connections.append(conn)
        try:
            if is_cancel and plan.cancel != "pass":
                if plan.cancel == "blackhole":
                    await _discard(reader, conn)
                return
            if plan.blackhole and not is_cancel:
                await _discard(reader, conn)
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError:
                return
            conn._writers.append(up_writer)
            rng = random.Random(plan.seed)
            up = self._spawn(
                self._pipe(reader, up_writer, first, plan.to_server, conn, "to_server", rng)
            )
            down = self._spawn(
                self._pipe(up_reader, writer, b"", plan.to_client, conn, "to_client", rng)
            )
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            # One side ended: give the other a moment to deliver what it holds, then stop.
            await asyncio.wait({up, down}, timeout=0.5)
            up.cancel()
            down.cancel()
        finally:
            conn.cut()

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        first: bytes,
        faults: StreamFaults,
        conn: ProxiedConnection,
        counter: str,
        rng: random.Random,
    ) -> None:
        pending = first
        while True:
            if not pending:
                try:
                    pending = await reader.read(_READ_SIZE)
                except ConnectionError:
                    return
                if not pending:
                    with contextlib.suppress(OSError, RuntimeError):
                        if writer.can_write_eof():
                            writer.write_eof()
                    return
            await self._running.wait()
            if faults.delay:
                await asyncio.sleep(faults.delay)
                await self._running.wait()
            offset = getattr(conn, counter)
            chunk, consumed, cut = _apply(pending, offset, faults)
            pending = b""
            setattr(conn, counter, offset + consumed)
            for piece in _pieces(chunk, faults.split, rng):
                writer.write(piece)
                try:
                    await writer.drain()
                except ConnectionError:
                    return
                if faults.split:
                    # A pause, so the pieces reach the client as separate reads.
                    await asyncio.sleep(0.0005)
            if cut:
                conn.cut()
                return


async def _discard(reader: asyncio.StreamReader, conn: ProxiedConnection) -> None:
    while True:
        try:
            data = await reader.read(_READ_SIZE)
        except ConnectionError:
            return
        if not data:
            return
        conn.to_server += len(data)


def _apply(data: bytes, offset: int, faults: StreamFaults) -> tuple[bytes, int, bool]:
    """Bytes to forward for ``data`` (starting at stream ``offset``), how many stream bytes
    that consumed, and whether the connection is cut afterwards."""
    cut = False
    if faults.drop_after is not None and offset + len(data) >= faults.drop_after:
        data = data[: max(faults.drop_after - offset, 0)]
        cut = True
    consumed = len(data)
    out = bytearray(data)
    at = faults.corrupt_at
    if at is not None and offset <= at < offset + consumed:
        out[at - offset] ^= 0xFF
    at = faults.duplicate_at
    if at is not None and offset <= at < offset + consumed:
        out.insert(at - offset, out[at - offset])
    return bytes(out), consumed, cut


def _pieces(chunk: bytes, split: bool, rng: random.Random) -> list[bytes]:
    """``chunk`` cut at up to 8 random boundaries (or whole when not splitting)."""
    if not split or len(chunk) < 2:
        return [chunk] if chunk else []
    cuts = sorted(rng.sample(range(1, len(chunk)), min(8, len(chunk) - 1)))
    bounds = [0, *cuts, len(chunk)]
    return [chunk[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
