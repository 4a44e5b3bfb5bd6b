"""Build exception and log-message objects from the fields of server messages.

The protocol layer hands over the fields of an ErrorResponse or NoticeResponse as a mapping
keyed by the single-letter field codes (``"S"``, ``"C"``, ``"M"``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping

from ._base import (
    PostgresError,
    PostgresLogMessage,
    UnknownPostgresError,
    attributes_from_fields,
    message_class_for_sqlstate,
)
from ._generated import (
    DuplicatePreparedStatementError,
    FeatureNotSupportedError,
    InvalidSQLStatementNameError,
    PostgresWarning,
)
from ._special import InvalidCachedStatementError

__all__ = ("error_from_fields", "log_message_from_fields")

# The server function that reports a cached plan whose result type changed.
_REVALIDATE_FUNCTION = "RevalidateCachedQuery"
_INVALID_CACHED_STATEMENT_MESSAGE = (
    "cached statement plan is invalid due to a database schema or configuration change"
)

PGBOUNCER_NOTE = """\
NOTE: pgbouncer with pool_mode set to "transaction" or "statement" does not support \
prepared statements properly. Either:

* use the driver's own connection pool instead of pgbouncer when pooling connections \
to a single server, or

* if pgbouncer cannot be avoided, pass statement_cache_size=0 when connecting, so that \
no prepared statements are kept between transactions."""


def error_from_fields(fields: Mapping[str, str], *, query: str | None = None) -> PostgresError:
    """Return the error for an ErrorResponse's *fields*.

    The class is the one registered for exactly the SQLSTATE (field ``C``);
    ``UnknownPostgresError`` when there is none. Every present field becomes an attribute,
    ``query`` is attached. Two refinements follow asyncpg:

    * a ``feature_not_supported`` raised by ``RevalidateCachedQuery`` becomes
      ``InvalidCachedStatementError`` (its ``str()`` explains the cause; ``message`` keeps
      the server's text);
    * ``DuplicatePreparedStatementError`` and ``InvalidSQLStatementNameError`` get a note
      about pgbouncer appended to ``hint``.
    """
    attributes = attributes_from_fields(fields)
    found = message_class_for_sqlstate(attributes.get("sqlstate"))
    cls = found if found is not None and issubclass(found, PostgresError) else None
    error_class: type[PostgresError] = cls or UnknownPostgresError
    text = attributes.get("message", "")

    if (
        error_class is FeatureNotSupportedError
        and attributes.get("server_source_function") == _REVALIDATE_FUNCTION
    ):
        error_class = InvalidCachedStatementError
        text = _INVALID_CACHED_STATEMENT_MESSAGE

    if error_class in (DuplicatePreparedStatementError, InvalidSQLStatementNameError):
        hint = attributes.get("hint")
        attributes["hint"] = f"{hint}\n\n{PGBOUNCER_NOTE}" if hint else PGBOUNCER_NOTE

    error = error_class(text)
    vars(error).update(attributes, query=query)
    return error


def log_message_from_fields(
    fields: Mapping[str, str], *, query: str | None = None
) -> PostgresLogMessage:
    """Return the log message for a NoticeResponse's *fields*.

    The class is the ``PostgresLogMessage`` subclass registered for exactly the SQLSTATE
    (the warnings of classes 01 and 02). Otherwise it is ``PostgresWarning`` when the
    severity is WARNING and plain ``PostgresLogMessage`` for anything else (NOTICE, INFO,
    ..., including notices that carry an error SQLSTATE such as 42P07 from
    ``CREATE TABLE IF NOT EXISTS``).
    """
    attributes = attributes_from_fields(fields)
    found = message_class_for_sqlstate(attributes.get("sqlstate"))
    if found is not None and issubclass(found, PostgresLogMessage):
        message_class: type[PostgresLogMessage] = found
    else:
        severity = attributes.get("severity_en") or attributes.get("severity") or ""
        message_class = PostgresWarning if severity.upper() == "WARNING" else PostgresLogMessage

    message: PostgresLogMessage
    if issubclass(message_class, Warning):
        message = message_class(attributes.get("message", ""))
    else:
        message = message_class()
    vars(message).update(attributes, query=query)
    return message
