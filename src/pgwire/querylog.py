"""Query logging: asyncpg's ``LoggedQuery`` records and a bridge to :mod:`logging`.

``conn.add_query_logger(callback)`` calls ``callback(LoggedQuery)`` after
every query. :class:`LoggingQueryLogger` is a ready-made callback that writes
to a standard logger, with slow queries at a higher level::

    conn.add_query_logger(pgwire.LoggingQueryLogger(slow_threshold=0.1))
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

__all__ = ["LoggedQuery", "LoggingQueryLogger"]


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
