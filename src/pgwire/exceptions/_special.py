"""Hand-written refinements of generated SQLSTATE classes."""

from __future__ import annotations

from ._base import InterfaceError
from ._generated import ConnectionDoesNotExistError, FeatureNotSupportedError

__all__ = (
    "InvalidCachedStatementError",
    "ConnectionClosedBeforeStartError",
    "ValueOutOfRangeError",
)


class InvalidCachedStatementError(FeatureNotSupportedError):
    """A cached prepared statement became invalid after a schema or configuration change.

    The server reports this as ``feature_not_supported`` (0A000); it has no SQLSTATE of its
    own, so it is not in the SQLSTATE registry and is chosen by ``error_from_fields``.
    """


class ConnectionClosedBeforeStartError(ConnectionDoesNotExistError):
    """The session ended before the server started the operation: it provably never ran.

    Raised for an operation that was never sent (the connection was already
    closed) and for an extended-protocol operation (Parse/Bind/Execute/Sync)
    when the server's FATAL arrived before any reply to it; the rule and why it
    holds are in :mod:`pgwire.protocol.core`. Sending the operation again on
    another connection cannot run it twice; the pool does so. ``__cause__`` is
    the server's error (e.g. ``AdminShutdownError``) when the server gave one.
    Not in the SQLSTATE registry (it has no SQLSTATE of its own).
    """


class ValueOutOfRangeError(InterfaceError, OverflowError, ValueError):
    """A server value the Python type cannot hold (a date in year 10000, a BC timestamp,
    an interval of 178000000 years).

    The message names the value and the range of the Python type. It is both an
    :class:`OverflowError` and a :class:`ValueError`, so ``except ValueError`` and
    ``except OverflowError`` catch it as they catch the built-in errors asyncpg lets
    escape from its codecs (``ValueError`` for dates, ``OverflowError`` for others).
    """
