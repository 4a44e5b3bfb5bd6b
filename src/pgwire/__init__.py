"""pgwire: an asyncio PostgreSQL driver that speaks asyncpg's API.

``import pgwire as asyncpg`` is meant to work: the top-level names mirror
asyncpg's (``connect``, ``create_pool``, ``Pool``, ``Record``,
``Connection``, every exception class, and the value types).

The asyncio layer is imported on first use of one of its names, so that
``import pgwire.protocol`` (the sans-I/O core) loads no I/O module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import exceptions
from ._impl import Record
from .exceptions import *  # noqa: F403
from .types import *  # noqa: F403
from .types import __all__ as _types_all

if TYPE_CHECKING:
    from .connection import Connection, connect
    from .dropin import install_as_asyncpg
    from .pool import Pool, create_pool
    from .prepared import PreparedStatement
    from .querylog import LoggedQuery, LoggingQueryLogger
    from .transaction import Transaction

__version__ = "0.1.0"

_LAZY = {
    "connect": "connection",
    "Connection": "connection",
    "create_pool": "pool",
    "Pool": "pool",
    "PreparedStatement": "prepared",
    "Transaction": "transaction",
    "LoggedQuery": "querylog",
    "LoggingQueryLogger": "querylog",
    "install_as_asyncpg": "dropin",
}

#: Submodules under asyncpg's names, imported on first attribute access so that
#: ``import pgwire as asyncpg; asyncpg.pool.Pool`` works as it does with asyncpg.
_SUBMODULES = frozenset(
    {
        "connection",
        "pool",
        "transaction",
        "cursor",
        "prepared_stmt",
        "introspection",
        "utils",
        "connect_utils",
        "protocol",
        "pgproto",
        "serverversion",
    }
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pgwire' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = (
    "connect",
    "create_pool",
    "Pool",
    "Record",
    "Connection",
    "PreparedStatement",
    "Transaction",
    "LoggedQuery",
    "LoggingQueryLogger",
    "install_as_asyncpg",
    *exceptions.__all__,
    *_types_all,
)
