"""Session-state tracking for pooled connections: when does a release need a reset?

asyncpg sends its reset query (``RESET ALL``, ``UNLISTEN *``, ...) on every
release, which doubles the server work of a short checkout. The pool instead
resets a connection only when something may have changed its session state.
A connection is *dirty*, and gets the full reset at release, when any of these
holds:

1. a transaction block is open or failed (``is_in_transaction()``);
2. listeners or log listeners are registered on it;
3. a ParameterStatus value differs from the one recorded when the connection
   was last clean (a ``SET`` of a reported setting such as ``TimeZone`` or
   ``application_name``, however it was issued);
4. SQL text sent through the pool or its proxy matched :func:`may_change_session`:
   statements that start with ``SET``, ``RESET`` or ``DO``, or that mention
   ``LISTEN``, ``PREPARE``, ``DECLARE``, ``DISCARD``, ``LOAD``, ``TEMP``/``TEMPORARY``,
   ``set_config`` or a session-level advisory lock function;
5. an operation was still in flight (a cancelled call being drained) or a
   ``Transaction`` object is still open.

The reset is ``Connection.reset()`` (``ROLLBACK`` when needed, then
``get_reset_query()``), followed by re-applying the settings the pool's
``init`` hook made with ``SET`` (see :func:`capture_session_settings`).

The scan is deliberately conservative: a false positive costs one round trip,
a false negative leaks state to the next user. Session state changed inside
server-side functions that do not report a ParameterStatus is not seen;
configure ``reset=Connection.reset`` on the pool to reset unconditionally.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .connection import Connection

__all__ = ["may_change_session", "needs_reset", "capture_session_settings"]

_SESSION_SQL = re.compile(
    r"""
    (?: (?:^|;|\n|\*/) \s* (?:set|reset|do) \b )         # statement-leading keywords
    | \b (?:un)?listen \b
    | \b (?:prepare|deallocate|declare|discard|load) \b
    | \b temp(?:orary)? \b
    | \b set_config \b
    | \b pg_(?:try_)?advisory_lock(?:_shared)? \b
    """,
    re.IGNORECASE | re.VERBOSE,
)


@functools.lru_cache(maxsize=2048)
def may_change_session(sql: str) -> bool:
    """True when ``sql`` may leave session state behind (see the module rules)."""
    return _SESSION_SQL.search(sql) is not None


def needs_reset(conn: Connection, baseline: dict[str, str], dirty: bool) -> bool:
    """Apply the module rules to ``conn``; ``baseline`` is its clean ParameterStatus."""
    return (
        dirty
        or conn.is_in_transaction()
        or bool(conn._listeners)
        or bool(conn._log_listeners)
        or conn._top_xact is not None
        or conn._core.pending > 0
        or conn._core.parameters != baseline
    )


async def capture_session_settings(conn: Connection) -> str:
    """SQL that re-applies the settings made with ``SET`` in this session so far.

    Used after the pool's ``init`` hook so its ``SET``s survive the ``RESET ALL``
    of later resets (asyncpg loses them at the first release).
    """
    rows = await conn.fetch(
        "SELECT name, current_setting(name) FROM pg_catalog.pg_settings WHERE source = 'session'"
    )
    if not rows:
        return ""
    calls = ", ".join(
        f"pg_catalog.set_config({_literal(name)}, {_literal(value)}, false)"
        for name, value in rows
    )
    return f"SELECT {calls};"


def _literal(value: str) -> str:
    escaped = value.replace("'", "''")
    if "\\" in escaped:
        return "E'" + escaped.replace("\\", "\\\\") + "'"
    return "'" + escaped + "'"
