"""``postgresql+pgwire``: SQLAlchemy's asyncpg dialect, driven by pgwire.

pgwire's public API is asyncpg's, so SQLAlchemy's own adaptation layer
(``sqlalchemy.dialects.postgresql.asyncpg``: cursor emulation, transactions,
server-side cursors, JSON codecs, type mapping) is reused as it is. This
module changes only what names asyncpg itself:

1. The driver module handed to the adaptation layer is :mod:`pgwire`.
2. Driver exceptions are translated from :mod:`pgwire.exceptions`.
3. Prepared statements get names unique across processes and connections by
   default, so a transaction-mode PgBouncer (which hands one server session
   to many clients) never sees two clients prepare the same name. Passing
   ``prepared_statement_name_func`` in ``connect_args`` still overrides it.
"""

from __future__ import annotations

import importlib
import itertools
import os
import secrets
from types import ModuleType
from typing import Any

from sqlalchemy.dialects.postgresql.asyncpg import (
    AsyncAdapt_asyncpg_dbapi,
    PGDialect_asyncpg,
)
from sqlalchemy.util import memoized_property

__all__ = ["AsyncAdapt_pgwire_dbapi", "PGDialect_pgwire", "dialect", "unique_statement_name"]

_TOKEN = secrets.token_hex(4)
_counter = itertools.count(1)


def unique_statement_name() -> str:
    """A prepared-statement name no other process or connection will use.

    The process id keeps forked workers apart (they inherit the random token
    and the counter); the token keeps hosts apart.
    """
    return f"__pgwire_{os.getpid()}_{_TOKEN}_{next(_counter)}__"


class AsyncAdapt_pgwire_dbapi(AsyncAdapt_asyncpg_dbapi):
    """The DB-API module facade over :mod:`pgwire` (asyncpg's, with pgwire's exceptions)."""

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("prepared_statement_name_func", unique_statement_name)
        return super().connect(*args, **kwargs)  # type: ignore[no-untyped-call]

    @memoized_property
    def _asyncpg_error_translate(self) -> dict[type[BaseException], type[Exception]]:
        exc = importlib.import_module("pgwire.exceptions")
        return {
            exc.IntegrityConstraintViolationError: self.IntegrityError,
            exc.PostgresError: self.Error,
            exc.SyntaxOrAccessError: self.ProgrammingError,
            exc.InterfaceError: self.InterfaceError,
            exc.InvalidCachedStatementError: self.InvalidCachedStatementError,
            exc.InternalServerError: self.InternalServerError,
            exc.RestrictViolationError: self.RestrictViolationError,
            exc.NotNullViolationError: self.NotNullViolationError,
            exc.ForeignKeyViolationError: self.ForeignKeyViolationError,
            exc.UniqueViolationError: self.UniqueViolationError,
            exc.CheckViolationError: self.CheckViolationError,
            exc.ExclusionViolationError: self.ExclusionViolationError,
            exc.InternalClientError: self.InternalClientError,
        }


class PGDialect_pgwire(PGDialect_asyncpg):
    """The ``postgresql+pgwire`` dialect (async only: use ``create_async_engine``)."""

    driver = "pgwire"
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> Any:
        module: ModuleType = importlib.import_module("pgwire")
        return AsyncAdapt_pgwire_dbapi(module)  # type: ignore[no-untyped-call]

    @classmethod
    def load_provisioning(cls) -> None:
        """Test-suite provisioning: PostgreSQL's own, shared by all its drivers."""
        importlib.import_module("sqlalchemy.dialects.postgresql.provision")


dialect = PGDialect_pgwire
