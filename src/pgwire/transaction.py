"""``Transaction``: BEGIN/COMMIT/ROLLBACK blocks, nested ones as savepoints."""

from __future__ import annotations

import asyncio
import enum
from types import TracebackType
from typing import TYPE_CHECKING

from . import exceptions
from .gate import current_transactions

if TYPE_CHECKING:
    from .connection import Connection

__all__ = ["Transaction"]

_ISOLATION_LEVELS = {
    "read_committed": "READ COMMITTED",
    "read_uncommitted": "READ UNCOMMITTED",
    "repeatable_read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}


class TransactionState(enum.Enum):
    NEW = 0
    STARTED = 1
    COMMITTED = 2
    ROLLEDBACK = 3
    FAILED = 4


class Transaction:
    """A transaction block; use ``async with`` or ``start()``/``commit()``/``rollback()``.

    The outermost block issues ``BEGIN`` with the requested isolation level,
    ``READ ONLY`` and ``DEFERRABLE``; a block started while another is open on
    the same connection becomes a savepoint.
    """

    __slots__ = (
        "_conn",
        "_isolation",
        "_readonly",
        "_deferrable",
        "_state",
        "_nested",
        "_savepoint",
        "_managed",
    )

    def __init__(
        self, conn: Connection, isolation: str | None, readonly: bool, deferrable: bool
    ) -> None:
        if isolation is not None and isolation not in _ISOLATION_LEVELS:
            raise ValueError(
                f"isolation is expected to be either of {sorted(_ISOLATION_LEVELS)}, "
                f"got {isolation!r}"
            )
        self._conn = conn
        self._isolation = isolation
        self._readonly = readonly
        self._deferrable = deferrable
        self._state = TransactionState.NEW
        self._nested = False
        self._savepoint: str | None = None
        self._managed = False

    async def __aenter__(self) -> Transaction:
        if self._managed:
            raise exceptions.InterfaceError(
                "cannot enter context: already in an `async with` block"
            )
        self._managed = True
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is not None:
                await self._rollback()
            else:
                await self._commit()
        finally:
            self._managed = False

    async def start(self) -> None:
        """Enter the transaction or savepoint block."""
        self._check_state_base("start")
        if self._state is TransactionState.STARTED:
            raise exceptions.InterfaceError("cannot start; the transaction is already started")
        conn = self._conn
        top = conn._top_xact
        if top is None or top not in current_transactions.get():
            # Not inside this connection's open block: a new top-level transaction,
            # which waits while another task's transaction owns the connection.
            await conn._gate.take_ownership(self)
            try:
                if conn.is_in_transaction():
                    raise exceptions.InterfaceError(
                        "cannot use Connection.transaction() in a manually started transaction"
                    )
                conn._top_xact = self
                current_transactions.set((*current_transactions.get(), self))
                # A CancelRequest still on its way could interrupt a statement of this
                # block, which cannot be sent again inside a transaction.
                await conn._cancels_settled()
            except BaseException:
                # Nothing was sent: give the connection back as it was.
                self._end_ownership()
                raise
        else:
            if self._isolation is not None and self._isolation != top._isolation:
                raise exceptions.InterfaceError(
                    f"nested transaction has a different isolation level: "
                    f"current {top._isolation!r} != outer {self._isolation!r}"
                )
            self._nested = True

        if self._nested:
            conn._savepoint_counter += 1
            self._savepoint = f"pgwire_savepoint_{conn._savepoint_counter}"
            query = f"SAVEPOINT {self._savepoint};"
        else:
            query = "BEGIN"
            if self._isolation is not None:
                query += " ISOLATION LEVEL " + _ISOLATION_LEVELS[self._isolation]
            if self._readonly:
                query += " READ ONLY"
            if self._deferrable:
                query += " DEFERRABLE"
            query += ";"
        try:
            await conn.execute(query)
        except BaseException as exc:
            self._state = TransactionState.FAILED
            if not self._nested:
                self._end_ownership(exc)
            raise
        self._state = TransactionState.STARTED

    def _end_ownership(self, exc: BaseException | None = None) -> None:
        """The outermost block is over: let other tasks use the connection again.

        When the block's last statement was interrupted (``exc`` is a
        cancellation or timeout), that statement may still reach the server
        and leave a transaction open, so the connection stays owned until a
        ROLLBACK queued behind it has run.
        """
        conn = self._conn
        if conn._top_xact is self:
            conn._top_xact = None
        interrupted = isinstance(exc, (asyncio.CancelledError, asyncio.TimeoutError))
        if interrupted and not conn.is_closed():
            # Created before leaving the block's context, so the task runs inside it.
            conn._spawn(self._rollback_then_release())
        else:
            conn._gate.release_ownership(self)
        current = current_transactions.get()
        if self in current:
            current_transactions.set(tuple(t for t in current if t is not self))

    async def _rollback_then_release(self) -> None:
        conn = self._conn
        try:
            if not conn.is_closed():
                await conn.execute("ROLLBACK")
        except Exception:  # the connection broke: nothing is left open on the server
            pass
        finally:
            conn._gate.release_ownership(self)

    async def commit(self) -> None:
        """Commit (or release the savepoint)."""
        if self._managed:
            raise exceptions.InterfaceError(
                "cannot manually commit from within an `async with` block"
            )
        await self._commit()

    async def rollback(self) -> None:
        """Roll back (or roll back to the savepoint)."""
        if self._managed:
            raise exceptions.InterfaceError(
                "cannot manually rollback from within an `async with` block"
            )
        await self._rollback()

    async def _commit(self) -> None:
        self._check_state("commit")
        query = f"RELEASE SAVEPOINT {self._savepoint};" if self._nested else "COMMIT;"
        await self._end(query, TransactionState.COMMITTED)  # raises on a closed connection

    async def _rollback(self) -> None:
        self._check_state("rollback")
        query = f"ROLLBACK TO SAVEPOINT {self._savepoint};" if self._nested else "ROLLBACK;"
        await self._end(query, TransactionState.ROLLEDBACK)

    async def _end(self, query: str, state: TransactionState) -> None:
        """Run the COMMIT/ROLLBACK (or savepoint) statement and leave the block."""
        conn = self._conn
        try:
            # A rollback on a closed connection has nothing left to undo; a commit
            # there must fail, never be reported as done.
            if state is TransactionState.COMMITTED or not conn.is_closed():
                await conn.execute(query)
        except BaseException as exc:
            self._state = TransactionState.FAILED
            if not self._nested:
                self._end_ownership(exc)
            raise
        if not self._nested:
            self._end_ownership()
        self._state = state

    def _check_state_base(self, opname: str) -> None:
        if self._state is TransactionState.COMMITTED:
            raise exceptions.InterfaceError(
                f"cannot {opname}; the transaction is already committed"
            )
        if self._state is TransactionState.ROLLEDBACK:
            raise exceptions.InterfaceError(
                f"cannot {opname}; the transaction is already rolled back"
            )
        if self._state is TransactionState.FAILED:
            raise exceptions.InterfaceError(f"cannot {opname}; the transaction is in error state")

    def _check_state(self, opname: str) -> None:
        if self._state is not TransactionState.STARTED:
            if self._state is TransactionState.NEW:
                raise exceptions.InterfaceError(
                    f"cannot {opname}; the transaction is not yet started"
                )
            self._check_state_base(opname)

    def __repr__(self) -> str:
        attrs = [f"state:{self._state.name.lower()}"]
        if self._isolation is not None:
            attrs.append(self._isolation)
        if self._readonly:
            attrs.append("readonly")
        if self._deferrable:
            attrs.append("deferrable")
        return f"<pgwire.Transaction {' '.join(attrs)} {id(self):#x}>"
