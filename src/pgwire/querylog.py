"""Query logging: through :mod:`logging` with no setup, and asyncpg's query loggers.

Zero setup
----------

Every pgwire query is logged to the logger ``pgwire.query`` once that logger is
enabled for DEBUG; nothing else needs configuring::

    logging.getLogger("pgwire.query").setLevel(logging.DEBUG)

Each public call that carries SQL (``execute``, ``fetch*``, ``executemany``,
prepared statements, cursors) then logs one record when it ends, e.g.
``query took 0.0012 s [SELECT 1] on 127.0.0.1:5432: SELECT 1``: the duration
(seconds), the command status (PostgreSQL's command tag, which holds the row
count: ``SELECT 3``, ``INSERT 0 5``) or the exception's class, the server
address and the SQL text. The same values are attributes of the record, for
structured handlers: ``pg_query``, ``pg_duration``, ``pg_status``,
``pg_server``, ``pg_args``.

Rules:

1. Arguments are left out (they may hold passwords or personal data) unless
   asked for: ``configure(log_args=True)`` or ``PGWIRE_LOG_QUERY_ARGS=1`` in the
   environment.
2. Slow queries: a query that took at least ``slow_threshold`` seconds is logged
   at WARNING, even when DEBUG is off. Off by default; set it with
   ``configure(slow_threshold=0.5)`` or ``PGWIRE_SLOW_QUERY_SECONDS=0.5`` (an
   invalid value of the variable is ignored with a ``RuntimeWarning`` at import).
3. When neither applies, the cost per query is one ``Logger.isEnabledFor``
   call, which :mod:`logging` answers from its per-level cache (invalidated by
   ``setLevel``, ``dictConfig`` and ``logging.disable``).
4. Connection events go to ``pgwire`` and its children: connects (address,
   TLS, authentication method) at INFO, pool growth and shrinkage at DEBUG,
   dropped connections, health-check failures and reconnects at INFO. The
   pool's own statements (the health-check ping of an idle connection, the
   reset of a dirty one at release) are not queries of the application: they
   are logged to ``pgwire.pool`` at DEBUG, never to ``pgwire.query``.
5. A pool shortcut (``pool.fetchval()`` and friends) that failed with
   ``ConnectionClosedBeforeStartError`` and is sent again on another
   connection (rule 8 of :mod:`pgwire.pool`) logs the failed attempt at DEBUG
   with the status ``failed: ConnectionClosedBeforeStartError, retried on
   another connection``, then the attempt that ran as usual.
6. The status is the command tag of the call's last statement, except:
   ``fetchrow()``, ``fetchval()`` and a cursor's fetches stop the portal after
   the rows they need, so the server sends no tag: the status is then ``1 row
   fetched, portal suspended`` (the row count fetched); ``executemany()`` with
   several argument sets logs ``INSERT 0 1 (last of 5 executions)``, the tag of
   the last execution and how many ran; opening a cursor without fetching
   (``await conn.cursor(...)``) logs ``cursor opened``. A cursor logs one record
   per round trip (open, each ``fetch``/``fetchrow``/``forward``, each batch
   of ``async for``) with the cursor's query text.

asyncpg's API
-------------

``conn.add_query_logger(callback)`` calls ``callback(LoggedQuery)`` after
every query. :class:`LoggingQueryLogger` is a ready-made callback that writes
to a standard logger, with slow queries at a higher level::

    conn.add_query_logger(pgwire.LoggingQueryLogger(slow_threshold=0.1))
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from typing import Any, NamedTuple

__all__ = ["LoggedQuery", "LoggingQueryLogger", "configure", "query_logger"]

#: The logger of rule 1; enable it for DEBUG to log every query.
query_logger = logging.getLogger("pgwire.query")
_DEBUG = logging.DEBUG


def _env_seconds(name: str) -> float | None:
    """Seconds from the environment variable ``name``; ``None`` when unset or invalid.

    An invalid value is reported once with :func:`warnings.warn` and ignored, so
    that a typo in the environment never makes ``import pgwire`` fail.
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        warnings.warn(
            f"ignoring invalid {name} {text!r}: expected seconds >= 0, e.g. 0.5",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return value


#: Seconds from which a query is logged at WARNING (rule 2); ``None``: off.
slow_threshold: float | None = _env_seconds("PGWIRE_SLOW_QUERY_SECONDS")
#: Whether records carry the query's arguments (rule 1).
log_args: bool = os.environ.get("PGWIRE_LOG_QUERY_ARGS", "").strip().lower() in (
    "1",
    "true",
    "yes",
    "on",
)

_UNSET: Any = object()


def configure(*, slow_threshold: float | None = _UNSET, log_args: bool = _UNSET) -> None:
    """Set the zero-setup query log's options (process-wide).

    ``slow_threshold``: seconds (``None`` turns slow-query warnings off);
    ``log_args``: include arguments in the records. Options not given are kept.
    Raises ``ValueError`` for a negative or non-numeric threshold.
    """
    if slow_threshold is not _UNSET:
        if slow_threshold is not None and (
            isinstance(slow_threshold, bool)
            or not isinstance(slow_threshold, (int, float))
            or not slow_threshold >= 0
        ):
            raise ValueError(
                f"invalid slow_threshold {slow_threshold!r}: expected seconds >= 0 or None"
            )
        globals()["slow_threshold"] = None if slow_threshold is None else float(slow_threshold)
    if log_args is not _UNSET:
        globals()["log_args"] = bool(log_args)


def wanted() -> bool:
    """Whether a finished query has to be looked at (rules 2 and 3); cheap."""
    return slow_threshold is not None or query_logger.isEnabledFor(_DEBUG)


def log_operation(
    conn: Any,
    query: str,
    args: Any,
    started: float,
    op: Any,
    exc: BaseException | None,
    *,
    retried: bool = False,
) -> None:
    """Log one finished public call (called by the connection when :func:`wanted`).

    ``started`` is the call's ``time.monotonic()`` start, ``op`` its last
    protocol operation (its ``status`` is the command tag) or ``None``;
    ``retried``: the call failed and the pool sends it again (rule 5), so it
    is logged at DEBUG whatever its duration.
    """
    elapsed = time.monotonic() - started
    threshold = slow_threshold
    if threshold is not None and elapsed >= threshold and not retried:
        level = logging.WARNING
        what = "slow query"
    else:
        level = _DEBUG
        what = "query"
    if not query_logger.isEnabledFor(level):
        return
    if exc is not None:
        status = f"failed: {type(exc).__name__}"
        if retried:
            status += ", retried on another connection"
    else:
        status = _status(op)
    addr = conn._addr
    server = addr if isinstance(addr, str) else f"{addr[0]}:{addr[1]}"
    shown = args if log_args and args else None
    query_logger.log(
        level,
        "%s took %.4f s [%s] on %s: %s%s",
        what,
        elapsed,
        status,
        server,
        query,
        "" if shown is None else f" args={shown!r}",
        extra={
            "pg_query": query,
            "pg_duration": elapsed,
            "pg_status": status,
            "pg_server": server,
            "pg_args": shown,
        },
    )


def _status(op: Any) -> str:
    """What rule 6 logs as the status of a call whose last operation is ``op``."""
    status: str = getattr(op, "status", "") or ""
    executed = getattr(op, "executed", None)
    if executed is None:  # a simple query, or no operation
        return status
    if getattr(op, "suspended", False):
        # The row limit stopped the portal (fetchrow, fetchval, a cursor's fetch):
        # the server sent no command tag.
        n = len(op.rows)
        return f"{n} row{'' if n == 1 else 's'} fetched, portal suspended"
    if executed > 1:
        return f"{status} (last of {executed} executions)"
    if executed == 0 and not status:
        return "cursor opened"
    return status


class LoggedQuery(NamedTuple):
    """One executed query, as passed to query loggers (asyncpg's fields)."""

    query: str
    args: Any
    timeout: float | None
    elapsed: float
    exception: BaseException | None
    conn_addr: Any
    conn_params: Any


class LoggingQueryLogger:
    """Writes every query to ``logger`` at ``level``; slow or failed ones at ``slow_level``.

    ``slow_threshold`` is in seconds (``None`` logs no query as slow).
    Arguments are logged only with ``log_args=True``: they may hold secrets.
    """

    def __init__(
        self,
        logger: logging.Logger | str = "pgwire.query",
        *,
        level: int = logging.DEBUG,
        slow_threshold: float | None = None,
        slow_level: int = logging.WARNING,
        error_level: int = logging.WARNING,
        log_args: bool = False,
    ) -> None:
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self.level = level
        self.slow_threshold = slow_threshold
        self.slow_level = slow_level
        self.error_level = error_level
        self.log_args = log_args

    def __call__(self, record: LoggedQuery) -> None:
        slow = self.slow_threshold is not None and record.elapsed >= self.slow_threshold
        if record.exception is not None:
            level = self.error_level
        elif slow:
            level = self.slow_level
        else:
            level = self.level
        if not self.logger.isEnabledFor(level):
            return
        what = "slow query" if slow else "query"
        suffix = f" args={record.args!r}" if self.log_args and record.args else ""
        if record.exception is not None:
            self.logger.log(
                level,
                "%s failed after %.3f s: %s (%s)%s",
                what,
                record.elapsed,
                record.query,
                type(record.exception).__name__,
                suffix,
            )
        else:
            self.logger.log(
                level, "%s took %.3f s: %s%s", what, record.elapsed, record.query, suffix
            )
