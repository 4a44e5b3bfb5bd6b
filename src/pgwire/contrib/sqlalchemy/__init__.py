"""The SQLAlchemy 2.x dialect ``postgresql+pgwire``.

Registered through the ``sqlalchemy.dialects`` entry point
(``postgresql.pgwire``), so that once ``pgwire[sqlalchemy]`` is installed::

    engine = create_async_engine("postgresql+pgwire://user:pass@host/db")

works like ``postgresql+asyncpg`` does.
"""

from __future__ import annotations

from .dialect import PGDialect_pgwire, dialect

__all__ = ["PGDialect_pgwire", "dialect"]
