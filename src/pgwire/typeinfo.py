"""Types the driver does not know in advance: catalog introspection and custom codecs.

:class:`TypeMethods` is mixed into :class:`pgwire.Connection`. It provides
``set_type_codec``, ``reset_type_codec``, ``set_builtin_type_codec`` and the
introspection of user-defined types that ``_prepare_state`` calls for type
OIDs that have no codec yet.

Rules, as in asyncpg:

1. Builtin types always have a codec (:data:`pgwire.codecs.BUILTIN`), so they
   are never introspected.
2. One catalog query (:data:`TYPES_QUERY`, a recursive CTE) resolves every
   unknown OID of a statement together with the element, base, subtype and
   attribute types they depend on; the codecs it yields are cached in the
   connection's registry overlay until :meth:`reload_schema_state` or a codec
   change.
3. Composites decode to ``Record``, enums to ``str``, domains use their base
   type's codec, arrays/ranges/multiranges are derived from their element
   codec; any other type travels as text (``str``).
4. Custom codecs live in the same overlay; every change forgets introspected
   codecs (they may embed the old codec) and the statement cache.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any, cast

from . import exceptions
from .codecs import oids as builtin_oids
from .codecs._builtin import derive_array_codec
from .codecs.hstore import hstore_decode, hstore_encode
from .codecs.range import make_multirange_codec, make_range_codec
from .codecs.record import make_composite_codec, make_record_codec
from .codecs.registry import BUILTIN, Codec, CodecRegistry, text_fallback_codec
from .codecs.tuples import TUPLE_CODECS
from .statement import StatementState
from .typenames import canonical_type_name

__all__ = ["TypeMethods", "TYPES_QUERY", "TYPE_BY_NAME_QUERY"]

#: Every type reachable from the OIDs in ``$1`` (element, base, range subtype,
#: multirange range and attribute types), dependencies before dependents.
TYPES_QUERY = """\
WITH RECURSIVE deps(oid, depth) AS (
    SELECT unnest($1::oid[]), 0
  UNION
    SELECT d.dep, deps.depth + 1
    FROM deps
    JOIN pg_catalog.pg_type t ON t.oid = deps.oid
    CROSS JOIN LATERAL (
        SELECT t.typelem WHERE t.typelem <> 0 AND t.typlen = -1
        UNION ALL SELECT t.typbasetype WHERE t.typbasetype <> 0
        UNION ALL SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid
        UNION ALL SELECT r.rngtypid FROM pg_catalog.pg_range r WHERE r.rngmultitypid = t.oid
        UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a
            WHERE t.typrelid <> 0 AND a.attrelid = t.typrelid
              AND a.attnum > 0 AND NOT a.attisdropped
    ) AS d(dep)
    WHERE deps.depth < 32
)
SELECT
    t.oid,
    t.typname::text AS name,
    n.nspname::text AS schema,
    t.typtype::text AS kind,
    CASE WHEN t.typelem <> 0 AND t.typlen = -1 THEN t.typelem ELSE 0::oid END AS elemtype,
    coalesce(e.typdelim::text, ',') AS elemdelim,
    t.typbasetype AS basetype,
    coalesce(r.rngsubtype, 0::oid) AS range_subtype,
    coalesce(mr.rngtypid, 0::oid) AS multirange_range,
    ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
          WHERE t.typrelid <> 0 AND a.attrelid = t.typrelid
            AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS attnames,
    ARRAY(SELECT a.atttypid FROM pg_catalog.pg_attribute a
          WHERE t.typrelid <> 0 AND a.attrelid = t.typrelid
            AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS atttypes,
    d.depth
FROM (SELECT deps.oid, max(deps.depth) AS depth FROM deps GROUP BY deps.oid) d
JOIN pg_catalog.pg_type t ON t.oid = d.oid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem AND t.typlen = -1
LEFT JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid
LEFT JOIN pg_catalog.pg_range mr ON mr.rngmultitypid = t.oid
ORDER BY d.depth DESC, t.oid
"""

#: One type by ``(name, schema)``; ``kind`` is ``pg_type.typtype``.
TYPE_BY_NAME_QUERY = """\
SELECT t.oid, t.typname::text AS name, n.nspname::text AS schema, t.typtype::text AS kind,
       CASE WHEN t.typelem <> 0 AND t.typlen = -1 THEN t.typelem ELSE 0::oid END AS elemtype,
       t.typarray AS arraytype
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typname = $1 AND n.nspname = $2
"""

_FORMATS = ("text", "binary", "tuple")

#: Codecs ``set_builtin_type_codec`` accepts besides builtin type names.
_CONTRIB_CODECS: dict[str, tuple[Callable[[Any], bytes], Callable[[bytes], Any]]] = {
    "pg_contrib.hstore": (hstore_encode, hstore_decode),
}

_ARRAY_OF = {element: array for array, element in builtin_oids.ARRAY_ELEMENT.items()}


class _TypeState:
    """Per-connection bookkeeping: which overlay codecs are introspected or custom."""

    __slots__ = ("introspected", "custom", "custom_arrays", "record_bound")

    def __init__(self) -> None:
        self.introspected: set[int] = set()
        self.custom: dict[int, Codec] = {}
        self.custom_arrays: dict[int, tuple[int, str]] = {}
        self.record_bound = False


def _build_codec(
    row: Any,
    lookup: Callable[[int], Codec | None],
    on_outdated: Callable[[], None] | None = None,
) -> Codec:
    """The codec for one row of :data:`TYPES_QUERY` (its dependencies already known).

    ``on_outdated`` is called when a composite value no longer matches the
    attributes in ``row`` (see :func:`make_composite_codec`).
    """
    oid, name, schema, kind = row["oid"], row["name"], row["schema"], row["kind"]
    if row["elemtype"]:
        element = lookup(row["elemtype"])
        if element is None:
            element = text_fallback_codec(row["elemtype"])
        codec = derive_array_codec(oid, element, name)
        codec.schema = schema
        return codec
    if kind == "e":
        return Codec(oid, name, _enum_encode, _enum_decode, schema=schema, kind="enum", format=1)
    if kind == "d":
        base = lookup(row["basetype"]) or text_fallback_codec(row["basetype"])
        return Codec(
            oid, name, base.encode, base.decode, schema=schema, kind="domain", format=base.format
        )
    if kind == "c":
        fields = [lookup(t) for t in row["atttypes"]]
        if all(f is not None and f.format == 1 for f in fields):
            return make_composite_codec(
                oid,
                name,
                schema,
                row["attnames"],
                row["atttypes"],
                cast(list[Codec], fields),
                on_outdated,
            )
        return _text_codec(oid, name, schema, "composite")
    if kind == "r":
        subtype = lookup(row["range_subtype"])
        if subtype is not None and subtype.format == 1:
            return make_range_codec(oid, subtype, name, schema)
        return _text_codec(oid, name, schema, "range")
    if kind == "m":
        range_codec = lookup(row["multirange_range"])
        if range_codec is not None and range_codec.format == 1:
            return make_multirange_codec(oid, range_codec, name, schema)
        return _text_codec(oid, name, schema, "multirange")
    return _text_codec(oid, name, schema, "scalar")


def _text_codec(oid: int, name: str, schema: str, kind: str) -> Codec:
    codec = text_fallback_codec(oid, name)
    codec.schema = schema
    codec.kind = kind
    if kind in _TEXT_ONLY_REASON:
        codec.encode = _text_literal_encoder(f"{schema}.{name}", kind)
    return codec


#: Why a composite, range or multirange type travels as text.
_TEXT_ONLY_REASON = {
    "composite": "some of its attribute types have no binary codec",
    "range": "its subtype has no binary codec",
    "multirange": "its range's subtype has no binary codec",
}


def _text_literal_encoder(qualname: str, kind: str) -> Callable[[Any], bytes]:
    """The encoder of a composite/range type that travels as text: text literals only.

    A tuple or a Range would otherwise reach the server as its Python ``str()``
    (``('x', 'y')`` stored as ``"'x'"`` and ``" 'y'"``); asyncpg refuses such
    values with UnsupportedClientFeatureError, and so does pgwire.
    """

    def encode(value: Any) -> bytes:
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        raise exceptions.UnsupportedClientFeatureError(
            f"cannot encode a {type(value).__name__} as {kind} type {qualname}: "
            f"{_TEXT_ONLY_REASON[kind]}, so its values can only be passed as text",
            hint="Pass the value in PostgreSQL's text form, for example '(1,\"x\")' "
            "for a composite or '[1,5)' for a range.",
        )

    return encode


def _enum_encode(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"expected str, got {type(value).__name__}")


def _enum_decode(data: bytes) -> str:
    return data.decode("utf-8")


def _custom_codec(
    oid: int,
    name: str,
    schema: str,
    kind: str,
    encoder: Callable[[Any], Any],
    decoder: Callable[[Any], Any],
    fmt: str,
    base: Codec | None,
) -> Codec:
    if fmt == "binary":
        return Codec(oid, name, encoder, decoder, schema=schema, kind=kind, format=1)
    if fmt == "text":

        def encode_text(value: Any) -> bytes:
            data = encoder(value)
            if isinstance(data, str):
                return data.encode("utf-8")
            raise TypeError(f"the text encoder of {schema}.{name} must return str")

        def decode_text(data: bytes) -> Any:
            return decoder(data.decode("utf-8"))

        return Codec(oid, name, encode_text, decode_text, schema=schema, kind=kind, format=0)
    if base is not None:  # composite, tuple format
        base_encode, base_decode = base.encode, base.decode

        def encode_composite(value: Any) -> bytes:
            return base_encode(tuple(encoder(value)))

        def decode_composite(data: bytes) -> Any:
            return decoder(tuple(base_decode(data)))

        return Codec(oid, name, encode_composite, decode_composite, schema=schema, kind=kind)
    wire_encode, wire_decode = TUPLE_CODECS[oid]

    def encode_tuple(value: Any) -> bytes:
        return wire_encode(encoder(value))

    def decode_tuple(data: bytes) -> Any:
        return decoder(wire_decode(data))

    return Codec(oid, name, encode_tuple, decode_tuple, schema=schema, kind=kind)


class TypeMethods:
    """Type-related methods of :class:`pgwire.Connection`."""

    __slots__ = ()

    # ------------------------------------------------------------ public API

    async def set_type_codec(
        self,
        typename: str,
        *,
        schema: str = "public",
        encoder: Callable[[Any], Any],
        decoder: Callable[[Any], Any],
        format: str = "text",
    ) -> None:
        """Exchange values of ``schema.typename`` through ``encoder``/``decoder``.

        ``format='text'``: the functions see ``str``; ``'binary'``: ``bytes`` in
        the type's binary wire form; ``'tuple'``: the type-specific tuple
        (interval, date, time, timetz, timestamp, timestamptz, and composite
        types, whose tuple is the attribute values). Composite types take
        only ``'tuple'`` (:class:`UnsupportedClientFeatureError`), arrays and
        ranges no custom codec at all (:class:`InterfaceError`), domains
        neither (set the codec on the base type). In ``pg_catalog`` the
        SQL-standard spellings are accepted (``'integer'``, ``'character
        varying'``, ``'timestamp with time zone'``..., PostgreSQL docs table 8.1).
        Raises ``ValueError`` for an unknown type.
        """
        conn = self._conn()
        conn._check_open()
        if format not in _FORMATS:
            raise exceptions.InterfaceError(
                f"invalid format {format!r}: expected 'text', 'binary' or 'tuple'"
            )
        info = await self._type_by_name(typename, schema)
        oid, kind = info["oid"], info["kind"]
        base: Codec | None = None
        if kind in "bde" and not info["elemtype"]:
            codec_kind = "scalar"
        elif kind == "c":
            if format != "tuple":
                raise exceptions.UnsupportedClientFeatureError(
                    "only tuple-format codecs can be used on composite types",
                    hint="Use `set_type_codec(..., format='tuple')` and "
                    "pass/interpret data as a Python tuple.",
                )
            codec_kind = "composite"
        else:
            raise exceptions.InterfaceError(
                f"cannot use custom codec on type {schema}.{typename}: "
                f"it is neither a scalar type nor a composite type"
            )
        if kind == "d":
            raise exceptions.UnsupportedClientFeatureError(
                "custom codecs on domain types are not supported",
                hint="Set the codec on the base type.",
                detail="PostgreSQL does not distinguish domains from "
                "their base types in query results at the protocol level.",
            )
        if format == "tuple" and codec_kind == "scalar" and oid not in TUPLE_CODECS:
            raise exceptions.InterfaceError(
                f"{typename} type does not support the 'tuple' exchange format"
            )
        self._drop_custom(oid)
        if codec_kind == "composite":
            base = await self._composite_base(oid)
        codec = _custom_codec(oid, typename, schema, codec_kind, encoder, decoder, format, base)
        self._add_custom(codec, info["arraytype"])
        conn._drop_statement_cache()

    async def reset_type_codec(self, typename: str, *, schema: str = "public") -> None:
        """Go back to the default codec of ``schema.typename``."""
        conn = self._conn()
        conn._check_open()
        info = await self._type_by_name(typename, schema)
        self._drop_custom(info["oid"])
        self._forget_introspected_types()
        conn._drop_statement_cache()

    async def set_builtin_type_codec(
        self,
        typename: str,
        *,
        schema: str = "public",
        codec_name: str,
        format: str | None = None,
    ) -> None:
        """Exchange ``schema.typename`` with the builtin codec ``codec_name``.

        ``codec_name`` is a builtin type name (``'int4'``, ``'text'``...) whose
        codec is wire-compatible with the type, or ``'pg_contrib.hstore'``
        (``dict``); SQL-standard spellings (``'decimal'``, ``'double
        precision'``) name the builtin types they stand for.
        ``format='text'`` forces text I/O (values as ``str``).
        """
        conn = self._conn()
        conn._check_open()
        info = await self._type_by_name(typename, schema)
        if info["kind"] not in "bde" or info["elemtype"]:
            raise exceptions.InterfaceError(f"cannot alias non-scalar type {schema}.{typename}")
        oid = info["oid"]
        target: Codec | None
        if codec_name in _CONTRIB_CODECS:
            encode, decode = _CONTRIB_CODECS[codec_name]
            target = Codec(oid, typename, encode, decode, schema=schema)
        else:
            target = BUILTIN.by_name(canonical_type_name(codec_name))
            if target is None:
                alias = await self._type_by_name(codec_name, "pg_catalog", missing_ok=True)
                target = BUILTIN.get(alias["oid"]) if alias is not None else None
            if target is None:
                raise exceptions.InterfaceError(f"unknown builtin codec {codec_name!r}")
        if format == "text":
            codec = text_fallback_codec(oid, typename)
            codec.schema = schema
        elif format in (None, "binary"):
            if format == "binary" and target.format != 1:
                raise exceptions.InterfaceError(
                    f"{codec_name} has no binary codec; use format='text'"
                )
            codec = Codec(
                oid, typename, target.encode, target.decode, schema=schema, format=target.format
            )
        else:
            raise exceptions.InterfaceError(
                f"invalid format {format!r}: expected 'text' or 'binary'"
            )
        self._drop_custom(oid)
        self._add_custom(codec, info["arraytype"])
        conn._drop_statement_cache()

    # ------------------------------------------------------------ driver hooks

    async def _introspect_types(self, ctx: Any, oids: Iterable[int]) -> None:
        """Register codecs for ``oids`` (none of them builtin) in this connection's registry.

        Costs one round trip for all of them; runs inside the caller's ``ctx``.
        """
        conn = self._conn()
        registry: CodecRegistry = conn._codecs
        wanted = sorted(set(oids))
        if not wanted:
            return
        state = self._type_state()
        self._bind_record_codec(state)
        st = await self._catalog_statement(ctx, TYPES_QUERY)
        op = await conn._bind_execute(ctx, TYPES_QUERY, [wanted], state=st)
        for row in op.rows:
            oid = row["oid"]
            if registry.get(oid) is not None:
                continue
            registry.register(_build_codec(row, registry.get, self._schema_outdated_hook()))
            state.introspected.add(oid)
        for oid in wanted:
            if registry.get(oid) is None:  # dropped concurrently, or not a type at all
                registry.register(text_fallback_codec(oid))
                state.introspected.add(oid)

    async def _catalog_statement(self, ctx: Any, query: str) -> StatementState:
        """``query`` prepared, with its parameters and results in the builtin codecs.

        The driver's own catalog queries must not go through codecs the user set
        on the types they use (a text codec on ``oid``, say): the statement the
        connection prepared is rebound to :data:`BUILTIN`, the registry without
        user codecs.
        """
        st: StatementState = await self._conn()._prepare_state(ctx, query)
        if st.registry is BUILTIN:
            return st
        return type(st)(st.name, query, st.param_oids, st.fields, BUILTIN)

    def _schema_outdated_hook(self) -> Callable[[], None]:
        """What a composite codec calls when the server's type no longer matches it.

        It forgets the introspected types and the prepared statements (their
        result descriptions name the old types), so that the next run of the
        query introspects afresh; asyncpg recovers the same way. Holds the
        connection weakly: codecs live in the connection's own registry.
        """
        ref = weakref.ref(self)

        def hook() -> None:
            methods = ref()
            if methods is not None:
                methods._forget_introspected_types()
                methods._conn()._drop_statement_cache()

        return hook

    def _forget_introspected_types(self) -> None:
        """Drop every introspected codec; custom codecs stay (and their arrays are re-derived)."""
        state = self._type_state()
        registry: CodecRegistry = self._conn()._codecs
        for oid in state.introspected:
            registry.remove(oid)
        state.introspected.clear()
        for oid, codec in state.custom.items():
            registry.register(codec)
            array = state.custom_arrays.get(oid)
            if array is not None:
                array_oid, array_name = array
                registry.register(derive_array_codec(array_oid, codec, array_name))
                state.introspected.add(array_oid)

    # ------------------------------------------------------------ helpers

    def _conn(self) -> Any:
        return cast(Any, self)

    def _type_state(self) -> _TypeState:
        conn = self._conn()
        state: _TypeState | None = conn.__dict__.get("_pgwire_type_state")
        if state is None:
            state = _TypeState()
            conn.__dict__["_pgwire_type_state"] = state
        return state

    def _bind_record_codec(self, state: _TypeState) -> None:
        """Let anonymous records see this connection's codecs, not only the builtin ones."""
        if state.record_bound:
            return
        registry: CodecRegistry = self._conn()._codecs
        record = make_record_codec(builtin_oids.RECORD, registry.get)
        registry.register(record)
        registry.register(derive_array_codec(builtin_oids.RECORD_ARRAY, record, "_record"))
        state.record_bound = True

    def _add_custom(self, codec: Codec, array_oid: int) -> None:
        state = self._type_state()
        self._bind_record_codec(state)
        state.custom[codec.oid] = codec
        if array_oid:
            state.custom_arrays[codec.oid] = (array_oid, "_" + codec.name)
        self._forget_introspected_types()

    def _drop_custom(self, oid: int) -> None:
        state = self._type_state()
        if state.custom.pop(oid, None) is not None:
            self._conn()._codecs.remove(oid)
        array = state.custom_arrays.pop(oid, None)
        if array is not None:
            self._conn()._codecs.remove(array[0])
            state.introspected.discard(array[0])

    async def _composite_base(self, oid: int) -> Codec:
        """The default codec of composite type ``oid`` (introspected when needed)."""
        conn = self._conn()
        registry: CodecRegistry = conn._codecs
        codec = registry.get(oid)
        if codec is None or codec.kind != "composite":
            async with conn._operation(None) as ctx:
                await self._introspect_types(ctx, [oid])
            codec = registry.get(oid)
        if codec is None or codec.format != 1:
            raise exceptions.UnsupportedClientFeatureError(
                f"composite type OID {oid} has attributes without a binary codec"
            )
        return codec

    async def _type_by_name(self, typename: str, schema: str, *, missing_ok: bool = False) -> Any:
        """Catalog facts about ``schema.typename`` (``ValueError`` when there is no such type)."""
        conn = self._conn()
        if schema == "pg_catalog":
            # 'integer', 'character varying', 'double precision'... (PostgreSQL docs,
            # table 8.1) name builtin types whose pg_type.typname differs.
            typename = canonical_type_name(typename)
        if schema == "pg_catalog" and not typename.endswith("[]"):
            codec = BUILTIN.by_name(typename)
            if codec is not None and codec.oid in builtin_oids.BUILTIN_TYPES:
                kind = builtin_oids.BUILTIN_TYPES[codec.oid][1]
                element = builtin_oids.ARRAY_ELEMENT.get(codec.oid, 0)
                return {
                    "oid": codec.oid,
                    "kind": kind,
                    "elemtype": element,
                    "arraytype": _ARRAY_OF.get(codec.oid, 0),
                }
        async with conn._operation(None) as ctx:
            st = await self._catalog_statement(ctx, TYPE_BY_NAME_QUERY)
            op = await conn._bind_execute(ctx, TYPE_BY_NAME_QUERY, [typename, schema], state=st)
        if not op.rows:
            if missing_ok:
                return None
            raise ValueError(f"unknown type: {schema}.{typename}")
        return op.rows[0]
