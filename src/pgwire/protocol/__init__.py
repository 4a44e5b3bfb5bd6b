"""Sans-I/O PostgreSQL protocol: message framing, authentication and the operation queue.

Nothing in this package imports asyncio, socket or ssl.
"""

from typing import Any

__all__ = ("BUILTIN_TYPE_NAME_MAP", "NO_TIMEOUT", "Record")


class _NoTimeout:
    """The type of :data:`NO_TIMEOUT`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_TIMEOUT"


#: asyncpg's ``asyncpg.protocol.NO_TIMEOUT``: a sentinel meaning "no timeout
#: argument given" (as opposed to ``None``, "wait forever").
NO_TIMEOUT = _NoTimeout()


def __getattr__(name: str) -> Any:
    # asyncpg's ``asyncpg.protocol`` also exports the row type and the builtin
    # type-name table; they are looked up on first use so that importing the
    # sans-I/O core loads no codec or row machinery.
    if name == "Record":
        from pgwire._impl import Record

        return Record
    if name == "BUILTIN_TYPE_NAME_MAP":
        from pgwire.typenames import BUILTIN_TYPE_NAME_MAP

        return BUILTIN_TYPE_NAME_MAP
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
