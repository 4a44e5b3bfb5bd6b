"""``PreparedStatement``: a server-side prepared statement bound to its connection."""

from __future__ import annotations

import json
import weakref
from collections.abc import Awaitable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from . import exceptions, tracing
from .cursor import CursorFactory
from .record import Record
from .statement import StatementState
from .types import Attribute, Type

if TYPE_CHECKING:
    from .connection import Connection

__all__ = ["PreparedStatement"]


class PreparedStatement:
    """A statement prepared with :meth:`Connection.prepare`.

    The server-side statement is closed once this object is garbage
    collected. Every method raises :class:`InterfaceError` after the owning
    connection is closed.
    """

    __slots__ = ("_conn", "_state", "_record_class", "_release_ctr", "_ran", "__weakref__")

    def __init__(
        self, conn: Connection, state: StatementState, record_class: type[Record]
    ) -> None:
        self._conn = conn
        self._state = state
        self._record_class = record_class
        self._release_ctr = conn._release_ctr
        #: Whether this object has run the statement (get_statusmsg() is None before).
        self._ran = False
        weakref.finalize(self, conn._statement_released, state.name)

    def get_name(self) -> str:
        return self._state.name

    def get_query(self) -> str:
        self._check("get_query")
        return self._state.query

    def get_statusmsg(self) -> str | None:
        """The status tag of the last execution (``'SELECT 3'``), or ``None``.

        As in asyncpg, ``None`` until this object has run the statement, and after a
        ``fetchrow``/``fetchval`` that stopped before the last row (no status tag).
        """
        self._check("get_statusmsg")
        return (self._state.status or None) if self._ran else None

    def get_parameters(self) -> tuple[Type, ...]:
        self._check("get_parameters")
        return self._state.parameters()

    def get_attributes(self) -> tuple[Attribute, ...]:
        self._check("get_attributes")
        return self._state.attributes()

    def _check(self, method: str = "") -> Connection:
        """The connection, or InterfaceError naming ``method`` when it is closed or went
        back to a pool (asyncpg's rule: checked when the method is called, not awaited)."""
        conn = self._conn
        what = f"PreparedStatement.{method}()" if method else "PreparedStatement methods"
        if conn._release_ctr != self._release_ctr:
            raise exceptions.InterfaceError(
                f"cannot call {what}: the underlying connection has been released back to the pool"
            )
        if conn.is_closed():
            raise exceptions.InterfaceError(f"cannot call {what}: the connection is closed")
        return conn

    def fetch(self, *args: Any, timeout: float | None = None) -> Awaitable[list[Record]]:
        """Run the statement with ``args``; all result rows as records."""
        return self._fetch(self._check("fetch"), args, timeout)

    def fetchrow(self, *args: Any, timeout: float | None = None) -> Awaitable[Record | None]:
        """Run the statement with ``args``; its first row, or ``None``."""
        return self._fetchrow(self._check("fetchrow"), args, timeout)

    def fetchval(
        self, *args: Any, column: int = 0, timeout: float | None = None
    ) -> Awaitable[Any]:
        """Run the statement with ``args``; ``column`` of its first row, or ``None``."""
        return self._fetchval(self._check("fetchval"), args, column, timeout)

    async def _fetchval(
        self, conn: Connection, args: Sequence[Any], column: int, timeout: float | None
    ) -> Any:
        row = await self._fetchrow(conn, args, timeout)
        return None if row is None else row[column]

    async def _fetch(
        self, conn: Connection, args: Sequence[Any], timeout: float | None
    ) -> list[Record]:
        async with conn._operation(timeout, query=self._state.query, args=args) as ctx:
            op = await conn._bind_execute(
                ctx, self._state.query, args, record_class=self._record_class, state=self._state
            )
            self._ran = True
            return op.rows

    async def _fetchrow(
        self, conn: Connection, args: Sequence[Any], timeout: float | None
    ) -> Record | None:
        async with conn._operation(timeout, query=self._state.query, args=args) as ctx:
            op = await conn._bind_execute(
                ctx,
                self._state.query,
                args,
                max_rows=1,
                record_class=self._record_class,
                state=self._state,
            )
            self._ran = True
            return op.rows[0] if op.rows else None

    async def fetchmany(
        self, args: Iterable[Sequence[Any]], *, timeout: float | None = None
    ) -> list[Record]:
        conn = self._check("fetchmany")
        rows: list[Record] = await conn._executemany(
            self._state.query,
            tracing.as_batch(args),
            timeout,
            keep_rows=True,
            record_class=self._record_class,
            state=self._state,
        )
        self._ran = True
        return rows

    async def executemany(
        self, args: Iterable[Sequence[Any]], *, timeout: float | None = None
    ) -> None:
        conn = self._check("executemany")
        await conn._executemany(
            self._state.query, tracing.as_batch(args), timeout, keep_rows=False, state=self._state
        )
        self._ran = True

    def cursor(
        self, *args: Any, prefetch: int | None = None, timeout: float | None = None
    ) -> CursorFactory:
        """A cursor over this statement's rows for ``args`` (see :meth:`Connection.cursor`)."""
        conn = self._check("cursor")
        return CursorFactory(
            conn, self._state.query, self._state, args, prefetch, timeout, self._record_class
        )

    def explain(self, *args: Any, analyze: bool = False) -> Awaitable[Any]:
        """The server's JSON plan for this statement with ``args``.

        With ``analyze=True`` the statement really runs, inside a transaction
        that is rolled back.
        """
        return self._explain(self._check("explain"), args, analyze)

    async def _explain(self, conn: Connection, args: Sequence[Any], analyze: bool) -> Any:
        query = "EXPLAIN (FORMAT JSON, VERBOSE"
        query += ", ANALYZE) " if analyze else ") "
        query += self._state.query
        if analyze:
            tr = conn.transaction()
            await tr.start()
            try:
                data = await conn.fetchval(query, *args)
            finally:
                await tr.rollback()
        else:
            data = await conn.fetchval(query, *args)
        return json.loads(data)

    def __repr__(self) -> str:
        return f"<pgwire.PreparedStatement {self._state.name!r} {self._state.query!r}>"
