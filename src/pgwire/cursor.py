"""Server-side cursors: ``Connection.cursor()`` and ``PreparedStatement.cursor()``."""

from __future__ import annotations

__all__ = ["CursorMethods"]


class CursorMethods:
    """Cursor methods of :class:`pgwire.Connection`."""

    __slots__ = ()
