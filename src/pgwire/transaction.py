"""``Transaction``: BEGIN/COMMIT/ROLLBACK blocks, nested ones as savepoints."""

from __future__ import annotations

import asyncio
import enum
from types import TracebackType
from typing import TYPE_CHECKING

from . import exceptions
from .gate import ImplicitBlock, current_transactions

if TYPE_CHECKING:
    from .connection import Connection

__all__ = ["Transaction", "ISOLATION_LEVELS", "ISOLATION_LEVELS_BY_VALUE"]

_ISOLATION_LEVELS = {
    "read_committed": "READ COMMITTED",
    "read_uncommitted": "READ UNCOMMITTED",
    "repeatable_read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}

#: asyncpg's names for the same tables: the accepted ``isolation`` values, and the
#: value for each SQL spelling (what ``SHOW transaction_isolation`` prints).
ISOLATION_LEVELS = frozenset(_ISOLATION_LEVELS)
ISOLATION_LEVELS_BY_VALUE = {sql.lower(): name for name, sql in _ISOLATION_LEVELS.items()}


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
        "_release_ctr",
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
        self._release_ctr = conn._release_ctr

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
            if exc_type is GeneratorExit and self._conn._release_ctr != self._release_ctr:
                # An async generator finalised after its pool connection was released:
                # the release rolled the block back already (asyncpg does the same).
                return
            if exc_type is not None:
                await self._rollback()
            else:
                await self._commit()
        finally:
            self._managed = False

    async def start(self) -> None:
        """Enter the transaction or savepoint block.

        The outermost block waits while a block of another, still running
        task owns the connection; a block opened from inside an open one (or
        once its owner task has finished, as asyncpg allows) is a savepoint.
        Sibling tasks' nested blocks run one after another (see
        :mod:`pgwire.gate`).

        Raises :class:`InterfaceError` when the block was already started,
        when its connection went back to a pool, or when a transaction was
        opened with a bare ``BEGIN``.
        """
        self._check_state_base("start")
        if self._state is TransactionState.STARTED:
            raise exceptions.InterfaceError("cannot start; the transaction is already started")
        self._check_released("start")
        conn = self._conn
        gate = conn._gate
        # Admission as an exclusive call settles who owns the connection: inside
        # the innermost open block, after it, or as its adopter.
        async with conn._operation(None, exclusive=True) as _ctx:
            outer = gate.blocks[-1] if gate.blocks else None
            if outer is None:
                if conn.is_in_transaction():
                    raise exceptions.InterfaceError(
                        "cannot use Connection.transaction() in a manually started transaction"
                    )
            elif isinstance(outer, ImplicitBlock):
                raise exceptions.InterfaceError(
                    "cannot use Connection.transaction() in a manually started transaction"
                )
            else:
                top = gate.blocks[0]
                assert isinstance(top, Transaction)
                if self._isolation is not None:
                    outer = top._isolation
                    if outer is None:
                        # The outer block runs at the session's default level: ask.
                        op = await conn._bind_execute(_ctx, "SHOW transaction_isolation", ())
                        outer = str(op.rows[0][0]).replace(" ", "_")
                    if self._isolation != outer:
                        raise exceptions.InterfaceError(
                            "nested transaction has a different isolation level: "
                            f"current {self._isolation!r} != outer {outer!r}"
                        )
                self._nested = True
            gate.open_block(self)
            if not self._nested:
                conn._top_xact = self
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
            self._close_block(exc)
            raise
        self._state = TransactionState.STARTED

    def _check_released(self, opname: str) -> None:
        if self._conn._release_ctr != self._release_ctr:
            raise exceptions.InterfaceError(
                f"cannot {opname}; the transaction's connection has been released back to the pool"
            )

    def _close_block(self, exc: BaseException | None = None) -> None:
        """The block is over: let the code outside it use the connection again.

        When the outermost block's last statement was interrupted (``exc`` is
        a cancellation or timeout), that statement may still leave a
        transaction open on the server, so a ROLLBACK is queued behind it
        before the connection is given back.
        """
        conn = self._conn
        gate = conn._gate
        if self._nested:
            gate.close_block(self)
            return
        if conn._top_xact is self:
            conn._top_xact = None
        interrupted = isinstance(exc, (asyncio.CancelledError, asyncio.TimeoutError))
        if interrupted and not conn.is_closed() and self in gate.blocks:
            task = conn._spawn(self._rollback_then_close(tuple(gate.blocks)))
            # The ROLLBACK's task owns the blocks until it ran: nobody may adopt them
            # (and have their work undone by it) once this task has finished.
            gate.hand_over(task)
            current = current_transactions.get()
            if self in current:
                current_transactions.set(tuple(t for t in current if t is not self))
        else:
            gate.close_block(self)

    async def _rollback_then_close(self, blocks: tuple[object, ...]) -> None:
        conn = self._conn
        current_transactions.set(blocks)
        try:
            if not conn.is_closed():
                await conn.execute("ROLLBACK")
        except Exception:  # the connection broke: nothing is left open on the server
            pass
        finally:
            conn._gate.close_block(self)

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
        """Run the COMMIT/ROLLBACK (or savepoint) statement and leave the block.

        The block's own statement is admitted from any task (asyncpg lets any
        task end a transaction): it runs as code inside every open block.
        """
        conn = self._conn
        self._check_released("commit" if state is TransactionState.COMMITTED else "rollback")
        reset = current_transactions.set((*current_transactions.get(), *conn._gate.blocks))
        try:
            # A rollback on a closed connection has nothing left to undo; a commit
            # there must fail, never be reported as done.
            if state is TransactionState.COMMITTED or not conn.is_closed():
                await conn.execute(query)
        except BaseException as exc:
            self._state = TransactionState.FAILED
            _restore(reset)
            self._close_block(exc)
            raise
        _restore(reset)
        self._close_block()
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


def _restore(reset: object) -> None:
    """Undo a ``current_transactions.set()`` made in this task, if still possible."""
    try:
        current_transactions.reset(reset)  # type: ignore[arg-type]
    except ValueError:
        pass  # set in another context (the call ran in a different task)
