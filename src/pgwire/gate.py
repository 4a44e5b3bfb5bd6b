"""Admission of operations to one connection's wire: the rules of pipelining.

Rules:

1. *Shared* operations (``fetch*``, ``execute*``, prepared-statement calls)
   may be on the wire together: each writes its messages, ending in its own
   Sync, at once, and the server answers them in order.

2. An *exclusive* operation (COPY, LISTEN/UNLISTEN, a cursor outside the
   caller's transaction) waits until no other operation is on the wire and
   keeps everybody else out until it ends.

3. A transaction block owns the connection from ``BEGIN`` to its end. Only
   code running inside that block (the task that entered it and tasks it
   spawned from there, which inherit its context) is admitted meanwhile;
   everyone else waits. ``BEGIN`` goes out only once every operation admitted
   before the block has ended: one may still have messages to send (its Bind
   after a Parse round trip, a retry), which must not land inside the block.
   A second ``transaction()`` from another task waits for the first to finish.

4. Waiters are admitted in arrival order (a shared operation does not
   overtake an exclusive one that arrived earlier), except that code inside
   the owning transaction is never held up by outsiders.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque

__all__ = ["Gate", "current_transactions"]

#: The transaction tokens the running code is inside of (inherited by child tasks).
current_transactions: contextvars.ContextVar[tuple[object, ...]] = contextvars.ContextVar(
    "pgwire_current_transactions", default=()
)


class _Waiter:
    __slots__ = ("future", "exclusive")

    def __init__(self, future: asyncio.Future[None], exclusive: bool) -> None:
        self.future = future
        self.exclusive = exclusive


class Gate:
    """Counts who is on the wire and admits callers according to the module rules."""

    __slots__ = (
        "shared",
        "exclusive",
        "owner",
        "_waiters",
        "_owner_waiters",
        "_tx_waiters",
        "_idle_waiters",
    )

    def __init__(self) -> None:
        self.shared = 0
        self.exclusive = False
        #: Token of the transaction that owns the connection, if any.
        self.owner: object | None = None
        self._waiters: deque[_Waiter] = deque()  # outsiders, in arrival order
        self._owner_waiters: deque[_Waiter] = deque()  # code inside the owning transaction
        self._tx_waiters: deque[asyncio.Future[None]] = deque()  # transactions to begin
        self._idle_waiters: list[asyncio.Future[None]] = []  # owners waiting for the wire

    def _can_enter(self, exclusive: bool) -> bool:
        if self.exclusive:
            return False
        return self.shared == 0 if exclusive else True

    @property
    def busy(self) -> bool:
        """True while any operation holds admission."""
        return self.exclusive or self.shared > 0

    def try_enter(self, exclusive: bool = False) -> bool:
        """Admit at once when nobody has to be waited for; pair a True with :meth:`leave`."""
        if self.owner is None:
            if self._waiters or not self._can_enter(exclusive):
                return False
        elif self._owner_waiters or self.owner not in current_transactions.get():
            return False
        elif not self._can_enter(exclusive):
            return False
        self._admit(exclusive)
        return True

    async def enter(self, exclusive: bool = False) -> None:
        """Wait for admission; pair every successful call with :meth:`leave`."""
        if self.try_enter(exclusive):
            return
        inside = self.owner is not None and self.owner in current_transactions.get()
        queue = self._owner_waiters if inside else self._waiters
        waiter = _Waiter(asyncio.get_running_loop().create_future(), exclusive)
        queue.append(waiter)
        try:
            await waiter.future
        except asyncio.CancelledError:
            if waiter.future.done() and not waiter.future.cancelled():
                self.leave(exclusive)  # admitted just before the cancellation landed
            else:
                try:
                    queue.remove(waiter)
                except ValueError:
                    pass
                self._wake()
            raise

    def _admit(self, exclusive: bool) -> None:
        if exclusive:
            self.exclusive = True
        else:
            self.shared += 1

    def leave(self, exclusive: bool = False) -> None:
        if exclusive:
            self.exclusive = False
        else:
            self.shared -= 1
        if self._idle_waiters and not self.busy:
            waiters, self._idle_waiters = self._idle_waiters, []
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)
        self._wake()

    async def take_ownership(self, token: object) -> None:
        """Make the transaction ``token`` the owner (rule 3).

        Waits while another transaction owns the connection, then until every
        operation admitted before the ownership has left.
        """
        await self._become_owner(token)
        if not self.busy:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._idle_waiters.append(fut)
        try:
            await fut
        except BaseException:
            if fut in self._idle_waiters:
                self._idle_waiters.remove(fut)
            self.release_ownership(token)
            raise

    async def _become_owner(self, token: object) -> None:
        if self.owner is None and not self._tx_waiters:
            self.owner = token
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tx_waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                # Ownership was handed over just before the cancellation landed.
                self.owner = token
                self.release_ownership(token)
            else:
                try:
                    self._tx_waiters.remove(fut)
                except ValueError:
                    pass
            raise
        self.owner = token

    def release_ownership(self, token: object) -> None:
        """End ``token``'s ownership; the next waiting transaction or the outsiders go on."""
        if self.owner is not token:
            return
        self.owner = None
        while self._tx_waiters:
            fut = self._tx_waiters.popleft()
            if not fut.done():
                # Reserve the connection for the next transaction at once, so queued
                # outsiders do not slip in between the two blocks.
                self.owner = _HANDOVER
                fut.set_result(None)
                break
        self._wake()

    def _wake(self) -> None:
        self._admit_from(self._owner_waiters)
        if self.owner is None:
            self._admit_from(self._waiters)

    def _admit_from(self, queue: deque[_Waiter]) -> None:
        while queue:
            waiter = queue[0]
            if waiter.future.done():
                queue.popleft()
                continue
            if not self._can_enter(waiter.exclusive):
                break
            queue.popleft()
            self._admit(waiter.exclusive)
            waiter.future.set_result(None)


_HANDOVER = object()
