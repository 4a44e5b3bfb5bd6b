"""Hand-written refinements of generated SQLSTATE classes."""

from __future__ import annotations

from ._generated import FeatureNotSupportedError

__all__ = ("InvalidCachedStatementError",)


class InvalidCachedStatementError(FeatureNotSupportedError):
    """A cached prepared statement became invalid after a schema or configuration change.

    The server reports this as ``feature_not_supported`` (0A000); it has no SQLSTATE of its
    own, so it is not in the SQLSTATE registry and is chosen by ``error_from_fields``.
    """
