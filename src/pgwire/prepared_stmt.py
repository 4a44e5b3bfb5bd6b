"""asyncpg's module name for :class:`~pgwire.prepared.PreparedStatement`.

Libraries written for asyncpg import ``asyncpg.prepared_stmt.PreparedStatement``
(OpenTelemetry's instrumentation wraps its methods); this module makes that
path resolve to pgwire's class.
"""

from pgwire.prepared import PreparedStatement

__all__ = ("PreparedStatement",)
