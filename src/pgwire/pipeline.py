"""The explicit batch API: many statements, one round trip, per-statement results.

Every connection already pipelines concurrent calls (see :mod:`pgwire.gate`);
:class:`Pipeline` makes it explicit for code that issues statements from one
task::

    async with conn.pipeline() as p:
        user = p.fetchrow("SELECT * FROM users WHERE id = $1", 42)
        n = p.fetchval("SELECT count(*) FROM orders WHERE user_id = $1", 42)
        p.execute("UPDATE users SET seen = now() WHERE id = $1", 42)
    print(user.result(), n.result())

Statements are queued as they are added and go out together, each in its own
Sync segment: when one fails, only its own result holds the error (raised by
``result()``) and the others still run. Statements whose prepared form is
already cached take one round trip in all; new ones need one more for the
Parse. Leaving the block waits for every statement.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import exceptions
from .gate import reserved_place

if TYPE_CHECKING:
    from .connection import Connection

__all__ = ["Pipeline", "PipelineResult"]


class PipelineResult:
    """The outcome of one statement of a :class:`Pipeline`."""

    __slots__ = ("_task", "query")

    def __init__(self, task: asyncio.Task[Any], query: str) -> None:
        self._task = task
        self.query = query

    def done(self) -> bool:
        return self._task.done()

    def result(self) -> Any:
        """The statement's result; raises its error. Only valid once the pipeline ended."""
        if not self._task.done():
            raise exceptions.InterfaceError(
                "the pipeline is still running: leave the `async with` block first"
            )
        return self._task.result()

    def exception(self) -> BaseException | None:
        if not self._task.done():
            raise exceptions.InterfaceError(
                "the pipeline is still running: leave the `async with` block first"
            )
        if self._task.cancelled():
            return asyncio.CancelledError()
        return self._task.exception()

    def __await__(self) -> Any:
        return self._task.__await__()

    def __repr__(self) -> str:
        state = "done" if self._task.done() else "pending"
        return f"<PipelineResult {state} {self.query!r}>"


class Pipeline:
    """Collects statements for one round trip; use with ``async with conn.pipeline()``."""

    __slots__ = ("_conn", "_results", "_open")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._results: list[PipelineResult] = []
        self._open = False

    async def __aenter__(self) -> Pipeline:
        if self._open:
            raise exceptions.InterfaceError("this pipeline is already in use")
        self._open = True
        self._conn._writes_held += 1
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open = False
        tasks = [r._task for r in self._results]
        try:
            if tasks:
                # Everything added is on the wire already; let it finish either way.
                await asyncio.wait(tasks)
        finally:
            self._conn._writes_held -= 1

    @property
    def results(self) -> list[PipelineResult]:
        """Every statement's result, in the order they were added."""
        return list(self._results)

    def _add(self, query: str, coro: Any) -> PipelineResult:
        if not self._open:
            coro.close()
            raise exceptions.InterfaceError(
                "statements can only be added inside `async with conn.pipeline()`"
            )
        order = self._conn._order
        reservation = order.reserve()
        # The statement takes its place in line now, not when its task first runs, so
        # it is written before any call made after it was added (gate rule 6).
        context = contextvars.copy_context()
        context.run(reserved_place.set, reservation)
        # The task copies the context current when it is created: this one.
        task = context.run(asyncio.ensure_future, coro)
        # A task that never made its call (cancelled first) gives the place back.
        task.add_done_callback(lambda _t: order.cancel(reservation))
        # The outcome is read through result(); do not report it as never retrieved.
        task.add_done_callback(_consume)
        result = PipelineResult(task, query)
        self._results.append(result)
        return result

    def execute(self, query: str, *args: Any, timeout: float | None = None) -> PipelineResult:
        return self._add(query, self._conn.execute(query, *args, timeout=timeout))

    def executemany(
        self, query: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None
    ) -> PipelineResult:
        return self._add(query, self._conn.executemany(query, args, timeout=timeout))

    def fetch(self, query: str, *args: Any, timeout: float | None = None) -> PipelineResult:
        return self._add(query, self._conn.fetch(query, *args, timeout=timeout))

    def fetchrow(self, query: str, *args: Any, timeout: float | None = None) -> PipelineResult:
        return self._add(query, self._conn.fetchrow(query, *args, timeout=timeout))

    def fetchval(
        self, query: str, *args: Any, column: int = 0, timeout: float | None = None
    ) -> PipelineResult:
        return self._add(query, self._conn.fetchval(query, *args, column=column, timeout=timeout))


def _consume(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()
