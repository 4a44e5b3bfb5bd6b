"""Admission of calls to one connection: who may use it, and in which order they write.

Several tasks may share one connection (pipelining). This module decides, for
each public call, *whether* it may use the connection now (:class:`Gate`) and
*when* it may write its messages (:class:`WriteOrder`). The connection's
transport, the cancellation rules and the public API live elsewhere; nothing
here does I/O.

Rules of admission (:class:`Gate`):

1. Shared calls (``fetch*``, ``execute*``, prepared-statement calls) may be
   on the wire together. An exclusive call (COPY, LISTEN/UNLISTEN, a
   statement that may open a transaction, see :func:`may_open_transaction`)
   waits until no other call is admitted and keeps everybody else out until
   it ends.

2. An open transaction block -- from ``transaction()``, a savepoint nested in
   it, or a bare ``BEGIN`` (an *implicit* block, recognised from the
   server's transaction status) -- owns the connection. Only code inside the
   *innermost* open block is admitted: the task that opened it, tasks it
   spawned from inside (they inherit its context) and the block's own
   ``commit()``/``rollback()``. Everyone else waits, so no other task's
   statement can land inside a block and be undone by its rollback. Sibling
   tasks that open nested blocks therefore run one block after another.

3. A block belongs to the task that opened it only while that task runs.
   Once it has finished (a transaction started in a setup task, or by
   ``asyncio.wait_for(tr.start(), ...)``, which runs it in a child task
   on Python < 3.12), the first waiting task adopts the open blocks and
   continues the transaction, as asyncpg allows.

4. A task waiting for a block whose owner is still running, while the owner
   has not used the connection for :data:`OWNER_IDLE_LIMIT` seconds, gets
   :class:`~pgwire.exceptions.InterfaceError` naming both tasks instead of
   waiting forever (the owner may be waiting for it: a deadlock).

5. Waiters are admitted in arrival order, except that a waiter the open block
   keeps out never holds up one it admits.

Rules of write order (:class:`WriteOrder`):

6. Every admitted call takes its place in line. A call writes an operation
   only when every call before it in line has written its last one, so the
   server executes statements in the order the calls were made, whatever is
   cached, prepared or introspected: a call that needs a round trip first
   (Parse/Describe of a statement on first use, type introspection) holds
   back the calls behind it meanwhile.

7. While a *fence* is up (a CancelRequest is on its way, see
   :mod:`pgwire.connection`), nobody writes.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
from collections import deque
from collections.abc import Callable
from functools import lru_cache

from . import exceptions

__all__ = [
    "Gate",
    "WriteOrder",
    "Reservation",
    "reserved_place",
    "ImplicitBlock",
    "current_transactions",
    "may_open_transaction",
    "OWNER_IDLE_LIMIT",
]

#: Seconds a task waits for a transaction block of another, still running task that
#: does not use the connection, before it gets an InterfaceError (rule 4).
OWNER_IDLE_LIMIT = 10.0

#: The transaction blocks the running code is inside of (inherited by child tasks).
current_transactions: contextvars.ContextVar[tuple[object, ...]] = contextvars.ContextVar(
    "pgwire_current_transactions", default=()
)

_OPENS_TRANSACTION = re.compile(r"\b(?:BEGIN|START)\b", re.IGNORECASE)


@lru_cache(maxsize=1024)
def may_open_transaction(sql: str) -> bool:
    """True when ``sql`` may open a transaction block (``BEGIN``, ``START TRANSACTION``).

    Errs on the side of True (a ``DO $$ BEGIN ... END $$`` block matches too):
    such a statement only loses pipelining, while a missed ``BEGIN`` could
    absorb other tasks' statements into its transaction.
    """
    return _OPENS_TRANSACTION.search(sql) is not None


class ImplicitBlock:
    """A transaction opened by a bare ``BEGIN`` (not through ``transaction()``)."""

    __slots__ = ("task",)

    def __init__(self, task: asyncio.Task[object] | None) -> None:
        self.task = task

    def __repr__(self) -> str:
        return f"<ImplicitBlock of {_task_name(self.task)}>"


class _Waiter:
    __slots__ = ("future", "exclusive", "tokens", "task", "since", "adopted", "on_admit")

    def __init__(
        self,
        future: asyncio.Future[None],
        exclusive: bool,
        tokens: tuple[object, ...],
        task: asyncio.Task[object] | None,
        since: float,
        on_admit: Callable[[], None] | None,
    ) -> None:
        self.future = future
        self.exclusive = exclusive
        self.tokens = tokens
        self.task = task
        self.since = since
        self.adopted = False
        self.on_admit = on_admit


class Gate:
    """Admits calls to one connection according to rules 1-5 of the module."""

    __slots__ = (
        "shared",
        "exclusive",
        "blocks",
        "owners",
        "_waiters",
        "_last_inside_use",
        "_watchdog",
        "_describe",
        "_watched_tasks",
    )

    def __init__(self, describe: Callable[[], str] = lambda: "the connection") -> None:
        self.shared = 0
        self.exclusive = False
        #: Open transaction blocks, outermost first (Transaction objects, ImplicitBlock).
        self.blocks: list[object] = []
        #: The task that owns each open block (rule 3), by block.
        self.owners: dict[object, asyncio.Task[object] | None] = {}
        self._waiters: deque[_Waiter] = deque()
        self._last_inside_use = 0.0
        self._watchdog: asyncio.TimerHandle | None = None
        self._describe = describe
        #: Tasks that own a block and whose end this gate listens for (rule 3).
        self._watched_tasks: set[asyncio.Task[object]] = set()

    @property
    def busy(self) -> bool:
        """True while any call holds admission."""
        return self.exclusive or self.shared > 0

    # ------------------------------------------------------------ admission

    def _fits(self, exclusive: bool) -> bool:
        if self.exclusive:
            return False
        return self.shared == 0 if exclusive else True

    def _admits(self, tokens: tuple[object, ...]) -> bool:
        blocks = self.blocks
        return not blocks or blocks[-1] in tokens

    def _orphaned(self) -> bool:
        """The innermost block's owner has finished and nobody inside is on the wire."""
        if not self.blocks or self.busy:
            return False
        task = self.owners.get(self.blocks[-1])
        return task is None or task.done()

    def try_enter(self, exclusive: bool = False) -> bool:
        """Admit at once when nobody has to be waited for; pair a True with :meth:`leave`."""
        if self._waiters or not self._fits(exclusive):
            return False
        if self.blocks:
            tokens = current_transactions.get()
            if self.blocks[-1] not in tokens:
                if not self._orphaned():
                    return False
                self._adopt(asyncio.current_task())
            self._last_inside_use = _now()
        self._admit(exclusive)
        return True

    async def enter(
        self,
        exclusive: bool = False,
        deadline: float | None = None,
        on_admit: Callable[[], None] | None = None,
    ) -> None:
        """Wait for admission (until ``deadline``, loop time); pair it with :meth:`leave`.

        ``on_admit`` is called at the moment of admission, before the caller
        resumes, so that what it does (taking a place in the write line) follows
        the order of admission. Raises ``asyncio.TimeoutError`` at the deadline
        and :class:`~pgwire.exceptions.InterfaceError` under rule 4. Runs in the
        caller's task (no ``wait_for``), so an adoption (rule 3) lands in the
        caller's context.
        """
        if self.try_enter(exclusive):
            if on_admit is not None:
                on_admit()
            return
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        waiter = _Waiter(
            loop.create_future(),
            exclusive,
            current_transactions.get(),
            task,
            loop.time(),
            on_admit,
        )
        self._waiters.append(waiter)
        # Waiters the open block keeps out may be queued ahead: see whether this one
        # can go past them at once (rule 5).
        self._wake()
        timer = None
        if deadline is not None:
            timer = loop.call_at(deadline, _expire, waiter.future)
        self._arm_watchdog()
        try:
            await waiter.future
        except BaseException:
            if waiter.future.done() and not waiter.future.cancelled():
                if waiter.future.exception() is None:
                    self.leave(exclusive)  # admitted just before the cancellation landed
            else:
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass
                self._wake()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if waiter.adopted:
            self._enter_context()

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
        if self.blocks:
            self._last_inside_use = _now()
        self._wake()

    def _wake(self) -> None:
        waiters = self._waiters
        if not waiters:
            return
        for waiter in list(waiters):
            fut = waiter.future
            if fut.done():
                waiters.remove(waiter)
                continue
            if not self._admits(waiter.tokens):
                if not self._orphaned():
                    continue
                # Rule 3: the owner is gone; this waiter continues its transaction.
                self._adopt(waiter.task)
                waiter.adopted = True
                waiter.tokens = (*waiter.tokens, *self.blocks)
            if not self._fits(waiter.exclusive):
                break
            waiters.remove(waiter)
            self._admit(waiter.exclusive)
            if self.blocks:
                self._last_inside_use = _now()
            if waiter.on_admit is not None:
                waiter.on_admit()
            fut.set_result(None)
        self._arm_watchdog()

    # ------------------------------------------------------------ transaction blocks

    def open_block(self, block: object) -> None:
        """``block`` is now the innermost open block, owned by the running task."""
        task = asyncio.current_task()
        self.blocks.append(block)
        self.owners[block] = task
        if task is not None:
            self._watch(task)
        self._last_inside_use = _now()
        self._enter_context((block,))

    def close_block(self, block: object) -> None:
        """``block`` ended on the server: it and every block inside it are closed."""
        if block in self.blocks:
            index = self.blocks.index(block)
            for closed in self.blocks[index:]:
                self.owners.pop(closed, None)
            del self.blocks[index:]
            self._unwatch_idle()
        current = current_transactions.get()
        if block in current:
            current_transactions.set(tuple(t for t in current if t is not block))
        self._wake()

    def close_all_blocks(self) -> None:
        """The session left every transaction block (ROLLBACK, reset, lost connection)."""
        self.blocks.clear()
        self.owners.clear()
        self._unwatch_idle()
        self._wake()

    def hand_over(self, task: asyncio.Task[object]) -> None:
        """``task`` owns every open block from now on (it will end them)."""
        for block in self.blocks:
            self.owners[block] = task
        self._watch(task)
        self._unwatch_idle()

    def _adopt(self, task: asyncio.Task[object] | None) -> None:
        for block in self.blocks:
            self.owners[block] = task
        if task is not None:
            self._watch(task)
        self._unwatch_idle()
        if task is asyncio.current_task():
            self._enter_context()

    def _enter_context(self, blocks: tuple[object, ...] | None = None) -> None:
        """Add ``blocks`` (default: every open block) to the running task's context."""
        current = current_transactions.get()
        add = tuple(b for b in (self.blocks if blocks is None else blocks) if b not in current)
        if add:
            current_transactions.set((*current, *add))

    def _owner_done(self, task: asyncio.Future[object]) -> None:
        self._watched_tasks.discard(task)
        self._wake()

    def _watch(self, task: asyncio.Task[object]) -> None:
        if task not in self._watched_tasks:
            self._watched_tasks.add(task)
            task.add_done_callback(self._owner_done)

    def _unwatch_idle(self) -> None:
        """Stop listening for tasks that own no block any more (a long-lived task that
        runs many transactions must not collect one callback per block)."""
        owning = set(self.owners.values())
        for task in [t for t in self._watched_tasks if t not in owning]:
            self._watched_tasks.discard(task)
            task.remove_done_callback(self._owner_done)

    # ------------------------------------------------------------ rule 4

    def _arm_watchdog(self) -> None:
        if self._watchdog is not None or not self.blocks or not self._waiters:
            return
        loop = asyncio.get_running_loop()
        oldest = min(w.since for w in self._waiters)
        when = max(oldest, self._last_inside_use) + OWNER_IDLE_LIMIT
        self._watchdog = loop.call_at(when, self._check_owner)

    def _check_owner(self) -> None:
        self._watchdog = None
        if not self.blocks or not self._waiters:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        owner = self.owners.get(self.blocks[-1])
        if not self.busy and now - self._last_inside_use >= OWNER_IDLE_LIMIT:
            for waiter in list(self._waiters):
                if self._admits(waiter.tokens) or now - waiter.since < OWNER_IDLE_LIMIT:
                    continue
                self._waiters.remove(waiter)
                if not waiter.future.done():
                    waiter.future.set_exception(
                        exceptions.InterfaceError(
                            f"{_task_name(waiter.task)} waited {now - waiter.since:.1f}s for "
                            f"{self._describe()}, which a transaction block of "
                            f"{_task_name(owner)} holds; that task has not used the "
                            f"connection for {now - self._last_inside_use:.1f}s. If it is "
                            "waiting for this task, this is a deadlock: end the block "
                            "first, or give this task its own connection"
                        )
                    )
        self._arm_watchdog()


#: A place in line reserved for the call the running task is about to make (a
#: ``conn.pipeline()`` statement reserves it when added, its task makes the call later).
reserved_place: contextvars.ContextVar[Reservation | None] = contextvars.ContextVar(
    "pgwire_reserved_place", default=None
)


class Reservation:
    """A place in a :class:`WriteOrder` line held for a call not made yet.

    While its call waits for admission (:meth:`WriteOrder.suspend`) the place
    holds nobody back; once admitted, the call takes it again.
    """

    __slots__ = ("order", "suspended")

    def __init__(self, order: WriteOrder) -> None:
        self.order = order
        self.suspended = False


class WriteOrder:
    """The line of admitted calls and the fence (rules 6 and 7 of the module).

    A *place* is any object standing for one call. Calls join with
    :meth:`join`, wait with :meth:`wait_turn` until :meth:`may_write`, leave
    with :meth:`leave` once they wrote their last operation (or gave up).
    """

    __slots__ = ("_line", "_fences", "_waiting", "_closed")

    def __init__(self) -> None:
        self._line: deque[object] = deque()
        self._fences = 0
        self._waiting: dict[object, asyncio.Future[None]] = {}
        #: The connection is gone: everybody may "write" (and fail with its error).
        self._closed = False

    def join(self, place: object) -> None:
        self._line.append(place)

    def may_write(self, place: object) -> bool:
        if self._closed:
            return True
        if self._fences:
            return False
        line = self._line
        if line[0] is place:
            return True
        for held in line:  # suspended reservations ahead hold nobody back
            if held is place:
                return True
            if not (type(held) is Reservation and held.suspended):
                return False
        return False

    @property
    def fenced(self) -> bool:
        return self._fences > 0

    async def wait_turn(self, place: object, deadline: float | None) -> None:
        """Wait until ``place`` may write; ``asyncio.TimeoutError`` at ``deadline``."""
        loop = asyncio.get_running_loop()
        while not self.may_write(place):
            fut = loop.create_future()
            self._waiting[place] = fut
            timer = None if deadline is None else loop.call_at(deadline, _expire, fut)
            try:
                await fut
            finally:
                self._waiting.pop(place, None)
                if timer is not None:
                    timer.cancel()

    def reserve(self) -> Reservation:
        """Hold the next place in line for a call to be made later (:meth:`claim`)."""
        reservation = Reservation(self)
        self._line.append(reservation)
        return reservation

    def claim(self, reservation: Reservation, place: object) -> bool:
        """``place`` takes ``reservation``'s place in line; False when it is gone."""
        line = self._line
        for index, held in enumerate(line):
            if held is reservation:
                line[index] = place
                return True
        return False

    def suspend(self, reservation: Reservation) -> None:
        """``reservation``'s call waits for admission: meanwhile it holds nobody back."""
        reservation.suspended = True
        self._wake()

    def cancel(self, reservation: Reservation) -> None:
        """Give up ``reservation`` (its call was not made)."""
        self.leave(reservation)

    def rejoin_first(self, place: object) -> None:
        """Put ``place`` back at the head of the line (it writes again before anyone)."""
        self._line.appendleft(place)

    def leave(self, place: object) -> None:
        """``place`` has written its last operation (or ended): the next call goes on."""
        line = self._line
        if line and line[0] is place:
            line.popleft()
            self._wake()
        else:
            try:
                line.remove(place)
            except ValueError:
                pass

    def raise_fence(self) -> None:
        self._fences += 1

    def lower_fence(self) -> None:
        if self._fences > 0:
            self._fences -= 1
        self._wake()

    def close(self) -> None:
        """The connection is gone: nobody waits any more (their writes fail)."""
        self._closed = True
        self._fences = 0
        for fut in list(self._waiting.values()):
            if not fut.done():
                fut.set_result(None)

    def _wake(self) -> None:
        if self._fences or not self._line:
            return
        # Wake every waiting call in line order: each one that finds itself at the
        # head writes and leaves in the same loop iteration, handing on to the next.
        for place in self._line:
            fut = self._waiting.get(place)
            if fut is not None and not fut.done():
                fut.set_result(None)


def _expire(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_exception(asyncio.TimeoutError())


def _now() -> float:
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return 0.0


def _task_name(task: object) -> str:
    if task is None:
        return "a finished task"
    get_name = getattr(task, "get_name", None)
    return f"task {get_name()!r}" if get_name is not None else repr(task)
