"""Base classes of the exception hierarchy (asyncpg-compatible).

Server messages
    ``PostgresMessage`` carries the fields of an ErrorResponse/NoticeResponse as attributes
    (``None`` when the server did not send them). Every concrete class of this package that
    sets its own ``sqlstate`` is entered in a registry, so a SQLSTATE picks its class:
    ``PostgresError`` subclasses for errors, ``PostgresLogMessage`` subclasses for warnings.

Client messages
    ``InterfaceError`` and friends report misuse of the API; ``InternalClientError`` and its
    subclasses report conditions the driver could not handle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

__all__ = (
    "PostgresError",
    "FatalPostgresError",
    "UnknownPostgresError",
    "InterfaceError",
    "InterfaceWarning",
    "PostgresLogMessage",
    "ClientConfigurationError",
    "InternalClientError",
    "OutdatedSchemaCacheError",
    "ProtocolError",
    "UnsupportedClientFeatureError",
    "TargetServerAttributeNotMatched",
    "UnsupportedServerFeatureError",
)

#: ErrorResponse/NoticeResponse field code -> attribute name.
FIELD_ATTRIBUTES: Mapping[str, str] = {
    "S": "severity",
    "V": "severity_en",
    "C": "sqlstate",
    "M": "message",
    "D": "detail",
    "H": "hint",
    "P": "position",
    "p": "internal_position",
    "q": "internal_query",
    "W": "context",
    "s": "schema_name",
    "t": "table_name",
    "c": "column_name",
    "d": "data_type_name",
    "n": "constraint_name",
    "F": "server_source_filename",
    "L": "server_source_line",
    "R": "server_source_function",
}

_REGISTRY: dict[str, type[PostgresMessage]] = {}
_PACKAGE = __name__.rpartition(".")[0]


def message_class_for_sqlstate(sqlstate: str | None) -> type[PostgresMessage] | None:
    """Return the class registered for exactly *sqlstate*, or ``None``."""
    if sqlstate is None:
        return None
    return _REGISTRY.get(sqlstate)


def attributes_from_fields(fields: Mapping[str, str]) -> dict[str, str]:
    """Translate protocol field codes to attribute names; unknown codes are dropped."""
    return {
        FIELD_ATTRIBUTES[code]: value for code, value in fields.items() if code in FIELD_ATTRIBUTES
    }


def _format_with_detail(message: str, detail: str | None, hint: str | None) -> str:
    if detail:
        message += f"\nDETAIL:  {detail}"
    if hint:
        message += f"\nHINT:  {hint}"
    return message


class PostgresMessage:
    """A message from the server: the fields of an ErrorResponse or NoticeResponse.

    A class of this package that assigns ``sqlstate`` in its own body becomes *the* class
    for that SQLSTATE; two such classes for one code are a ``TypeError`` at import time.
    Subclasses defined elsewhere (user code) are never registered.
    """

    severity: str | None = None
    severity_en: str | None = None
    sqlstate: str | None = None
    message: str | None = None
    detail: str | None = None
    hint: str | None = None
    position: str | None = None
    internal_position: str | None = None
    internal_query: str | None = None
    context: str | None = None
    schema_name: str | None = None
    table_name: str | None = None
    column_name: str | None = None
    data_type_name: str | None = None
    constraint_name: str | None = None
    server_source_filename: str | None = None
    server_source_line: str | None = None
    server_source_function: str | None = None
    #: The query text that caused the message, when the driver knows it.
    query: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        sqlstate = cls.__dict__.get("sqlstate")
        if sqlstate is None or not cls.__module__.startswith(_PACKAGE + "."):
            return
        existing = _REGISTRY.get(sqlstate)
        if existing is not None:
            raise TypeError(
                f"{cls.__name__} has SQLSTATE {sqlstate}, already taken by {existing.__name__}"
            )
        _REGISTRY[sqlstate] = cls

    def as_dict(self) -> dict[str, str]:
        """Return the server fields that are present, keyed by attribute name."""
        present = {}
        for name in FIELD_ATTRIBUTES.values():
            value = getattr(self, name)
            if value is not None:
                present[name] = value
        return present


class PostgresError(PostgresMessage, Exception):
    """Base class for all errors reported by the server.

    May also be raised by the client: ``DataError("invalid input for query argument $1")``
    makes ``message`` the first argument.
    """

    def __init__(self, *args: object, detail: str | None = None, hint: str | None = None) -> None:
        super().__init__(*args)
        if args and isinstance(args[0], str):
            self.message = args[0]
        if detail is not None:
            self.detail = detail
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        message = str(self.args[0]) if self.args else (self.message or "")
        return _format_with_detail(message, self.detail, self.hint)

    @classmethod
    def new(cls, fields: Mapping[str, str], query: str | None = None) -> PostgresError:
        """Build the error for an ErrorResponse's *fields* (asyncpg's spelling)."""
        from ._factory import error_from_fields

        return error_from_fields(fields, query=query)


class FatalPostgresError(PostgresError):
    """A fatal error that should result in server disconnection."""


class UnknownPostgresError(FatalPostgresError):
    """An error with a SQLSTATE this package has no class for."""


class PostgresLogMessage(PostgresMessage):
    """A non-error server message (NOTICE, WARNING, ...); instances are immutable."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)

    def __str__(self) -> str:
        return f"{type(self).__name__}: {self.message}"

    def __setattr__(self, name: str, value: object) -> None:
        raise TypeError(f"instances of {type(self).__name__} are immutable")

    @classmethod
    def new(cls, fields: Mapping[str, str], query: str | None = None) -> PostgresLogMessage:
        """Build the message for a NoticeResponse's *fields* (asyncpg's spelling)."""
        from ._factory import log_message_from_fields

        return log_message_from_fields(fields, query=query)


class InterfaceMessage:
    """Mixin for client-side messages: ``detail`` and ``hint`` appended to ``str()``."""

    args: tuple[Any, ...]

    def __init__(self, *, detail: str | None = None, hint: str | None = None) -> None:
        self.detail = detail
        self.hint = hint

    def __str__(self) -> str:
        return _format_with_detail(str(self.args[0]), self.detail, self.hint)


_InterfaceErrorT = TypeVar("_InterfaceErrorT", bound="InterfaceError")


class InterfaceError(InterfaceMessage, Exception):
    """An error caused by improper use of the driver's API."""

    def __init__(self, msg: str, *, detail: str | None = None, hint: str | None = None) -> None:
        InterfaceMessage.__init__(self, detail=detail, hint=hint)
        Exception.__init__(self, msg)

    def with_msg(self: _InterfaceErrorT, msg: str) -> _InterfaceErrorT:
        """Return a copy of this error with *msg*, keeping detail, hint and traceback."""
        return type(self)(msg, detail=self.detail, hint=self.hint).with_traceback(
            self.__traceback__
        )


class ClientConfigurationError(InterfaceError, ValueError):
    """An error caused by improper client configuration."""


class UnsupportedClientFeatureError(InterfaceError):
    """The requested feature is not supported by the driver."""


class UnsupportedServerFeatureError(InterfaceError):
    """The requested feature is not supported by the connected server."""


class InterfaceWarning(InterfaceMessage, UserWarning):
    """A warning caused by improper use of the driver's API."""

    def __init__(self, msg: str, *, detail: str | None = None, hint: str | None = None) -> None:
        InterfaceMessage.__init__(self, detail=detail, hint=hint)
        UserWarning.__init__(self, msg)


class InternalClientError(Exception):
    """An unexpected error not classified otherwise."""


class ProtocolError(InternalClientError):
    """An unexpected condition in the protocol input from the server."""


class TargetServerAttributeNotMatched(InternalClientError):
    """No host satisfied the requested ``target_session_attrs``."""


class OutdatedSchemaCacheError(InternalClientError):
    """A value could not be decoded because the schema changed after the statement was prepared."""

    def __init__(
        self,
        msg: str,
        *,
        schema: str | None = None,
        data_type: str | None = None,
        position: str | None = None,
    ) -> None:
        super().__init__(msg)
        self.schema_name = schema
        self.data_type_name = data_type
        self.position = position
