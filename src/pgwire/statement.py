"""What pgwire knows about one server-side prepared statement.

A :class:`StatementState` is built once from the server's ParameterDescription
and RowDescription; it chooses an encoder per parameter and a decoder and
wire format per result column, so executing the statement never looks a codec
up again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from . import _impl, exceptions
from ._impl import RecordDescriptor
from .codecs.oids import BUILTIN_TYPES
from .codecs.registry import Codec, CodecRegistry, text_fallback_codec
from .protocol import messages
from .protocol.messages import FieldDescription
from .types import Attribute, Type

__all__ = ["MAX_QUERY_ARGUMENTS", "StatementState", "check_argument_count"]

#: The most parameters a Bind message can carry: its count is a signed 16-bit integer
#: (PostgreSQL protocol, "Bind"); asyncpg enforces the same limit.
MAX_QUERY_ARGUMENTS = 32767

_VALUE_REPR_LIMIT = 80
_EXECUTE_ALL = messages.execute_message("", 0)

_KIND_NAMES = {
    "b": "scalar",
    "c": "composite",
    "d": "domain",
    "e": "scalar",
    "p": "scalar",
    "r": "range",
    "m": "multirange",
    "A": "array",
}


def check_argument_count(count: int) -> None:
    """Raise InterfaceError when ``count`` arguments cannot fit in one Bind message."""
    if count > MAX_QUERY_ARGUMENTS:
        raise exceptions.InterfaceError(
            f"the number of query arguments cannot exceed {MAX_QUERY_ARGUMENTS}, got {count}",
            hint="Pass the values as an array parameter (e.g. = any($1::int[])) instead.",
        )


def _codec_for(registry: CodecRegistry, oid: int) -> Codec:
    codec = registry.get(oid)
    if codec is None:
        name = BUILTIN_TYPES.get(oid, ("unknown", "b"))[0]
        codec = text_fallback_codec(oid, name)
    return codec


def type_of(registry: CodecRegistry, oid: int) -> Type:
    """The :class:`Type` asyncpg reports for ``oid`` (an array is named ``'uuid[]'``)."""
    codec = registry.get(oid)
    if codec is not None:
        name, kind, schema = codec.name, codec.kind, codec.schema
    else:
        name, typtype = BUILTIN_TYPES.get(oid, ("unknown", "b"))
        kind, schema = _KIND_NAMES.get(typtype, "scalar"), "pg_catalog"
    if kind == "enum":
        kind = "scalar"  # asyncpg's Type.kind has no "enum": an enum is a scalar
    if kind == "array" and name.startswith("_"):
        # PostgreSQL names an array type "_" + its element's name.
        name = name[1:] + "[]"
    return Type(oid, name, kind, schema)


class StatementState:
    """A prepared statement's types and codecs; immutable once built."""

    __slots__ = (
        "name",
        "query",
        "param_oids",
        "fields",
        "returns_rows",
        "encoders",
        "param_codecs",
        "param_formats",
        "decoders",
        "result_formats",
        "desc",
        "created",
        "closed",
        "registry",
        "status",
        "transient",
        "_bind_head",
        "_bind_tail",
        "__weakref__",
    )

    def __init__(
        self,
        name: str,
        query: str,
        param_oids: tuple[int, ...],
        fields: Sequence[FieldDescription] | None,
        registry: CodecRegistry,
    ) -> None:
        self.name = name
        self.query = query
        self.param_oids = param_oids
        self.fields = tuple(fields) if fields is not None else ()
        #: A RowDescription came back (possibly with zero columns: ``SELECT FROM t``
        #: returns one field-less row per row of t); NoData means no rows at all.
        self.returns_rows = fields is not None
        self.registry = registry
        self.param_codecs = [_codec_for(registry, oid) for oid in param_oids]
        self.encoders = [c.encode for c in self.param_codecs]
        self.param_formats = [c.format for c in self.param_codecs]
        result_codecs = [_codec_for(registry, f.type_oid) for f in self.fields]
        self.decoders: list[Callable[[bytes], Any]] = [c.decode for c in result_codecs]
        self.result_formats = [c.format for c in result_codecs]
        self.desc = RecordDescriptor([f.name for f in self.fields])
        self.created = time.monotonic()
        self.closed = False
        self.status = ""
        #: Closed right after its one execution (not kept in the statement cache).
        self.transient = False
        #: None when the statement has more parameters than Bind can carry: every
        #: execution then fails in encode_args() before anything is sent.
        self._bind_head: bytes | None = (
            messages.bind_head("", name, self.param_formats, len(param_oids))
            if len(param_oids) <= MAX_QUERY_ARGUMENTS
            else None
        )
        self._bind_tail = messages.bind_result_formats(self.result_formats)

    @property
    def has_rows(self) -> bool:
        return self.returns_rows

    def encode_args(self, args: Sequence[Any]) -> list[bytes | None]:
        """Encode ``args`` for Bind; raises InterfaceError/DataError naming the bad argument."""
        expected = len(self.param_oids)
        check_argument_count(max(expected, len(args)))
        if len(args) != expected:
            raise exceptions.InterfaceError(
                f"the server expects {expected} argument{'s' if expected != 1 else ''} "
                f"for this query, {len(args)} {'was' if len(args) == 1 else 'were'} passed",
                hint="Check the query against the passed list of arguments.",
            )
        out: list[bytes | None] = []
        for i, (encode, value) in enumerate(zip(self.encoders, args, strict=False)):
            if value is None:
                out.append(None)
                continue
            try:
                out.append(encode(value))
            except exceptions.UnsupportedClientFeatureError as exc:
                raise exc.with_msg(f"query argument ${i + 1}: {exc.args[0]}") from None
            except Exception as exc:
                raise self._argument_error(i, value, exc) from exc
        return out

    def _argument_error(self, index: int, value: Any, exc: Exception) -> Exception:
        if isinstance(exc, exceptions.UnsupportedClientFeatureError):
            # A refusal by design, not bad data: asyncpg raises it as is, naming the argument.
            return exc.with_msg(f"query argument ${index + 1}: {exc.args[0]}")
        shown = repr(value)
        if len(shown) > _VALUE_REPR_LIMIT:
            shown = shown[: _VALUE_REPR_LIMIT - 3] + "..."
        typename = self.param_codecs[index].name
        return exceptions.DataError(
            f"invalid input for query argument ${index + 1}: {shown} "
            f"({exc}) [expected a value for PostgreSQL type {typename}, "
            f"got {type(value).__name__}]"
        )

    def bind_execute(self, args: Sequence[Any], max_rows: int = 0, portal: str = "") -> bytes:
        """Bind + Execute messages for one argument set (no Sync)."""
        if not portal and self._bind_head is not None:
            try:
                return _impl.bind_execute_batch(
                    self._bind_head,
                    self.encoders,
                    (args,),
                    self._bind_tail,
                    _EXECUTE_ALL if max_rows == 0 else messages.execute_message("", max_rows),
                )
            except Exception:  # noqa: S110 - the path below raises the descriptive error
                pass
        params = self.encode_args(args)
        return messages.bind_message(
            portal, self.name, self.param_formats, params, self.result_formats
        ) + messages.execute_message(portal, max_rows)

    def bind_execute_many(self, rows: Sequence[Sequence[Any]]) -> bytes:
        """Bind + Execute messages for every argument set of ``rows`` (no Sync).

        Raises whatever the encoders raise, without naming the argument: on
        failure callers encode row by row with :meth:`bind_execute` to
        describe the error.
        """
        if self._bind_head is None:
            check_argument_count(len(self.param_oids))
        if type(self).bind_execute is not StatementState.bind_execute:
            # A subclass adds messages to every execution: keep them.
            return b"".join([self.bind_execute(row) for row in rows])
        return _impl.bind_execute_batch(
            self._bind_head, self.encoders, rows, self._bind_tail, _EXECUTE_ALL
        )

    def parameters(self) -> tuple[Type, ...]:
        return tuple(type_of(self.registry, oid) for oid in self.param_oids)

    def attributes(self) -> tuple[Attribute, ...]:
        return tuple(Attribute(f.name, type_of(self.registry, f.type_oid)) for f in self.fields)
