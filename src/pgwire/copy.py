"""COPY in and out: ``copy_to_table``, ``copy_records_to_table``, ``copy_from_table``,
``copy_from_query``, as methods mixed into :class:`pgwire.Connection`."""

from __future__ import annotations

__all__ = ["CopyMethods"]


class CopyMethods:
    """COPY methods of :class:`pgwire.Connection`."""

    __slots__ = ()
