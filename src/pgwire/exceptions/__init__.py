"""Exceptions raised and messages emitted by pgwire, named and shaped as asyncpg's.

``__all__`` holds exactly the names asyncpg exports from ``asyncpg.exceptions``; the
protocol layer's constructors ``error_from_fields`` and ``log_message_from_fields`` are
importable from here but not part of ``__all__``, as are pgwire's
``ConnectionClosedBeforeStartError`` (a statement that provably never ran) and
``ValueOutOfRangeError`` (a result value outside the range of its Python type).
"""

from __future__ import annotations

from ._base import *  # noqa: F403
from ._base import __all__ as _base_all
from ._factory import error_from_fields as error_from_fields
from ._factory import log_message_from_fields as log_message_from_fields
from ._generated import *  # noqa: F403
from ._generated import __all__ as _generated_all
from ._special import ConnectionClosedBeforeStartError as ConnectionClosedBeforeStartError
from ._special import InvalidCachedStatementError
from ._special import ValueOutOfRangeError as ValueOutOfRangeError

__all__ = (*_generated_all, "InvalidCachedStatementError", *_base_all)

del _base_all, _generated_all

# pgwire's own refinement, importable from here but not in asyncpg's ``__all__``.
ConnectionClosedBeforeStartError.__module__ = __name__


def _present_as_package_members() -> None:
    # Tracebacks and reprs then read ``pgwire.exceptions.UniqueViolationError``, as
    # asyncpg's read ``asyncpg.exceptions.UniqueViolationError``.
    namespace = globals()
    for name in __all__:
        namespace[name].__module__ = __name__


_present_as_package_members()
ValueOutOfRangeError.__module__ = __name__
del _present_as_package_members
