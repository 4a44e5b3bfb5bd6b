"""Hand-written refinements of generated SQLSTATE classes."""

from __future__ import annotations

from ._base import InterfaceError
from ._generated import FeatureNotSupportedError

__all__ = ("InvalidCachedStatementError", "ValueOutOfRangeError")


class InvalidCachedStatementError(FeatureNotSupportedError):
    """A cached prepared statement became invalid after a schema or configuration change.

    The server reports this as ``feature_not_supported`` (0A000); it has no SQLSTATE of its
    own, so it is not in the SQLSTATE registry and is chosen by ``error_from_fields``.
    """


class ValueOutOfRangeError(InterfaceError, OverflowError):
    """A server value the Python type cannot hold (a date in year 10000, a BC timestamp,
    an interval of 178000000 years).

    The message names the value and the range of the Python type. It is an
    :class:`OverflowError`, so ``except (ValueError, OverflowError)`` catches it as
    it catches the built-in errors asyncpg lets escape from its codecs.
    """
