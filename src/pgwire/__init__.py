"""pgwire: an asyncio PostgreSQL driver that speaks asyncpg's API.

``import pgwire as asyncpg`` is meant to work: the top-level names mirror
asyncpg's (``connect``, ``create_pool``, ``Pool``, ``Record``,
``Connection``, every exception class, and the value types).
"""

from __future__ import annotations

from . import exceptions
from .connection import Connection, connect
from .exceptions import *  # noqa: F403
from .pool import Pool, create_pool
from .prepared import PreparedStatement
from ._impl import Record
from .transaction import Transaction
from .types import *  # noqa: F403
from .types import __all__ as _types_all

__version__ = "0.1.0"

__all__ = (
    "connect",
    "create_pool",
    "Pool",
    "Record",
    "Connection",
    "PreparedStatement",
    "Transaction",
    *exceptions.__all__,
    *_types_all,
)
