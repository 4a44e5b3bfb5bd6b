"""Server-side cursors: ``Connection.cursor()`` and ``PreparedStatement.cursor()``.

A cursor is a named protocol-level portal. It lives only inside a
transaction block (where a portal survives Sync), so every method checks
that one is open and raises :class:`~pgwire.NoActiveSQLTransactionError`
otherwise, like asyncpg.

* ``async for record in conn.cursor(query, *args, prefetch=50)`` binds the
  portal and fetches ``prefetch`` rows per round trip; the portal is closed
  once it is exhausted.
* ``async for batch in conn.cursor(query).batches(n)`` yields lists of up to
  ``n`` records, one list per round trip.
* ``cursor = await conn.cursor(query)`` binds the portal and returns a
  :class:`Cursor` with ``fetch(n)``, ``fetchrow()`` and ``forward(n)``
  (``MOVE FORWARD n`` on the portal, which SQL sees under its name).

Each round trip (the Bind with the first fetch, every later fetch or
``forward``) is one call for query loggers, :mod:`pgwire.querylog` and
:mod:`pgwire.tracing` observers, carrying the cursor's query text and
arguments; closing the portal is not.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Generator, Sequence
from typing import TYPE_CHECKING, Any, cast

from . import _impl, exceptions
from .protocol.core import SimpleQueryOperation
from .protocol.portal import PortalFetchOperation, bind_portal, close_portal, fetch_portal
from .record import Record
from .statement import StatementState

if TYPE_CHECKING:
    from .connection import Connection
    from .execution import OperationContext

__all__ = ["CursorMethods", "CursorFactory", "Cursor", "CursorIterator", "DEFAULT_PREFETCH"]

#: Rows fetched per round trip by ``async for`` (asyncpg's default).
DEFAULT_PREFETCH = 50

_portal_ids = itertools.count(1)


class CursorMethods:
    """Cursor methods of :class:`pgwire.Connection`."""

    __slots__ = ()

    def cursor(
        self,
        query: str,
        *args: Any,
        prefetch: int | None = None,
        timeout: float | None = None,
        record_class: type[Record] | None = None,
    ) -> CursorFactory:
        """A cursor over the rows of ``query``: iterate it or ``await`` it (see the module)."""
        conn = cast("Connection", self)
        conn._check_open()
        conn._check_record_class(record_class)
        return CursorFactory(
            conn, query, None, args, prefetch, timeout, record_class or conn._record_class
        )


class _Portal:
    """One named portal of one connection: bind, fetch, move, close."""

    __slots__ = (
        "conn",
        "query",
        "state",
        "args",
        "record_class",
        "name",
        "bound",
        "exhausted",
        "release_ctr",
    )

    def __init__(
        self,
        conn: Connection,
        query: str,
        state: StatementState | None,
        args: Sequence[Any],
        record_class: type[Record],
    ) -> None:
        self.conn = conn
        self.query = query
        self.state = state
        self.args = args
        self.record_class = record_class
        self.name = f"__pgwire_cursor_{next(_portal_ids)}__"
        self.bound = False
        self.exhausted = False
        self.release_ctr = conn._release_ctr

    def check(self) -> None:
        conn = self.conn
        if conn.is_closed():
            raise exceptions.InterfaceError("cannot use a cursor: the connection is closed")
        if conn._release_ctr != self.release_ctr:
            raise exceptions.InterfaceError(
                "cannot use a cursor: the underlying connection has been released back to the pool"
            )
        if not conn.is_in_transaction():
            raise exceptions.NoActiveSQLTransactionError(
                "cursor cannot be created outside of a transaction"
            )

    async def fetch(self, n: int, timeout: float | None) -> list[Record]:
        """Bind if needed, then up to ``n`` rows (``n == 0``: bind only)."""
        self.check()
        if self.exhausted:
            return []
        conn = self.conn
        # Each round trip is one logged and observed call with the cursor's query
        # (pgwire.querylog rule 6), like asyncpg's instrumentation of cursor fetches.
        async with conn._operation(timeout, query=self.query, args=self.args) as ctx:
            st = await self._statement(ctx)
            payload = b""
            if not self.bound:
                payload = bind_portal(
                    self.name,
                    st.name,
                    st.param_formats,
                    st.encode_args(self.args),
                    st.result_formats,
                )
            if n or not self.bound:
                payload += fetch_portal(self.name, n) if n else _sync()
            op = PortalFetchOperation(
                payload,
                decode_row=_impl.decode_row,
                decoders=st.decoders,
                desc=st.desc,
                record_class=self.record_class,
            )
            op = await ctx.run(op)
            self.bound = True
            if n and op.exhausted:
                self.exhausted = True
            return op.rows

    async def forward(self, n: int, timeout: float | None) -> int:
        self.check()
        if self.exhausted:
            return 0
        conn = self.conn
        async with conn._operation(timeout, query=self.query, args=self.args) as ctx:
            op = await ctx.run(SimpleQueryOperation(f'MOVE FORWARD {n:d} "{self.name}"'))
        moved = int(op.status.split()[-1]) if op.status.startswith("MOVE") else 0
        if moved < n:
            self.exhausted = True
        return moved

    async def close(self) -> None:
        """Close the portal if the session still has it (best effort, no waiting for others)."""
        conn = self.conn
        if not self.bound or conn.is_closed() or not conn.is_in_transaction():
            return
        self.bound = False
        async with conn._operation(None) as ctx:
            await ctx.run(close_portal(self.name))

    async def _statement(self, ctx: OperationContext) -> StatementState:
        if self.state is None:
            self.state = await self.conn._prepare_state(ctx, self.query)
        if not self.state.has_rows:
            raise exceptions.InterfaceError("the cursor query does not return rows")
        return self.state


def _sync() -> bytes:
    from .protocol.messages import SYNC

    return SYNC


def _check_count(n: Any, what: str) -> int:
    if not isinstance(n, int) or isinstance(n, bool):
        raise exceptions.InterfaceError(f"{what} must be an int, got {type(n).__name__}")
    if n <= 0:
        raise exceptions.InterfaceError(f"{what} must be greater than zero")
    return n


class CursorFactory:
    """What ``cursor()`` returns: iterate it for records, or await it for a :class:`Cursor`."""

    __slots__ = ("_conn", "_query", "_state", "_args", "_prefetch", "_timeout", "_record_class")

    def __init__(
        self,
        conn: Connection,
        query: str,
        state: StatementState | None,
        args: Sequence[Any],
        prefetch: int | None,
        timeout: float | None,
        record_class: type[Record],
    ) -> None:
        if prefetch is not None:
            _check_count(prefetch, "prefetch argument")
        self._conn = conn
        self._query = query
        self._state = state
        self._args = args
        self._prefetch = prefetch
        self._timeout = timeout
        self._record_class = record_class

    def _portal(self) -> _Portal:
        return _Portal(self._conn, self._query, self._state, self._args, self._record_class)

    def __aiter__(self) -> CursorIterator:
        return CursorIterator(self, self._records(self._prefetch or DEFAULT_PREFETCH))

    async def _records(self, prefetch: int) -> AsyncIterator[Record]:
        async for batch in self._batches(prefetch):
            for record in batch:
                yield record

    def batches(self, n: int | None = None) -> AsyncIterator[list[Record]]:
        """Iterate in lists of up to ``n`` records (default: ``prefetch``), one per round trip."""
        size = _check_count(n, "batch size") if n is not None else None
        return self._batches(size or self._prefetch or DEFAULT_PREFETCH)

    async def _batches(self, n: int) -> AsyncIterator[list[Record]]:
        portal = self._portal()
        portal.check()
        try:
            while not portal.exhausted:
                rows = await portal.fetch(n, self._timeout)
                if rows:
                    yield rows
        finally:
            if portal.exhausted:
                await portal.close()

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._open().__await__()

    async def _open(self) -> Cursor:
        if self._prefetch is not None:
            raise exceptions.InterfaceError(
                "prefetch argument can only be specified for iterable cursor"
            )
        portal = self._portal()
        await portal.fetch(0, self._timeout)
        return Cursor(portal)


class CursorIterator:
    """The async iterator ``async for record in conn.cursor(...)`` runs (asyncpg's name).

    Each ``__anext__`` returns the next record, fetching ``prefetch`` rows per
    round trip; ``StopAsyncIteration`` at the end.
    """

    __slots__ = ("_factory", "_records")

    def __init__(self, factory: CursorFactory, records: AsyncIterator[Record]) -> None:
        self._factory = factory
        self._records = records

    def __aiter__(self) -> CursorIterator:
        return self

    async def __anext__(self) -> Record:
        return await self._records.__anext__()

    # asyncpg's cursor attributes, read by instrumentation (OpenTelemetry's
    # asyncpg instrumentation names its spans from them).
    @property
    def _connection(self) -> Connection:
        return self._factory._conn

    @property
    def _query(self) -> str:
        return self._factory._query

    @property
    def _args(self) -> Sequence[Any]:
        return self._factory._args


class Cursor:
    """An open cursor (a bound portal) with explicit fetching and skipping."""

    __slots__ = ("_portal",)

    def __init__(self, portal: _Portal) -> None:
        self._portal = portal

    # asyncpg's cursor attributes, read by instrumentation (see CursorIterator).
    @property
    def _connection(self) -> Connection:
        return self._portal.conn

    @property
    def _query(self) -> str:
        return self._portal.query

    @property
    def _args(self) -> Sequence[Any]:
        return self._portal.args

    async def fetch(self, n: int, *, timeout: float | None = None) -> list[Record]:
        """The next ``n`` rows (fewer at the end, ``[]`` when none are left)."""
        _check_count(n, "n")
        return await self._portal.fetch(n, timeout)

    async def fetchrow(self, *, timeout: float | None = None) -> Record | None:
        """The next row, or ``None`` when none is left."""
        rows = await self._portal.fetch(1, timeout)
        return rows[0] if rows else None

    async def forward(self, n: int, *, timeout: float | None = None) -> int:
        """Skip ``n`` rows; returns how many were skipped (fewer at the end)."""
        _check_count(n, "n")
        return await self._portal.forward(n, timeout)

    def __repr__(self) -> str:
        state = "exhausted" if self._portal.exhausted else "open"
        return f"<pgwire.Cursor {self._portal.name!r} {state} {self._portal.query!r}>"
