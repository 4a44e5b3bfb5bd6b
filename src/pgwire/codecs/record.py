"""Binary codecs for composite types and anonymous ``record`` values.

Wire form: int32 field count, then per field uint32 type oid, int32 length
(-1 for NULL) and payload. A composite type decodes to a
:class:`pgwire.Record` keyed by attribute name; its encoder takes a tuple,
list or ``Record`` (positional) or a ``Mapping`` keyed by attribute name
(absent attributes are NULL). Anonymous records (``ROW(...)``, oid 2249)
decode to a plain ``tuple``, each field with the codec of the oid it
carries; like asyncpg, they cannot be sent as arguments.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import exceptions
from .._impl import Record, RecordDescriptor, make_record
from ._codec import Codec

__all__ = ["make_composite_codec", "make_record_codec"]

_int4 = struct.Struct("!i")
_field_head = struct.Struct("!Ii")
_NULL = -1


def make_composite_codec(
    oid: int,
    name: str,
    schema: str,
    field_names: Sequence[str],
    field_oids: Sequence[int],
    field_codecs: Sequence[Codec],
    on_outdated: Callable[[], None] | None = None,
) -> Codec:
    """A binary codec for the composite type *oid* with the given attributes.

    A value whose attribute count or attribute types differ from these (the
    type was altered after it was introspected) raises
    :class:`~pgwire.exceptions.OutdatedSchemaCacheError`, as asyncpg does, after
    calling ``on_outdated`` (the connection forgets its cached types there, so
    running the query again works).
    """
    desc = RecordDescriptor(list(field_names))
    count = len(field_codecs)
    encoders = [c.encode for c in field_codecs]
    decoders = [c.decode for c in field_codecs]
    oids = list(field_oids)
    head = _int4.pack(count)
    pack_field = _field_head.pack
    unpack_field = _field_head.unpack_from
    qualified = f"{schema}.{name}"

    def encode(value: Any) -> bytes:
        if isinstance(value, Mapping):
            unknown = set(value) - set(desc.names)
            if unknown:
                raise ValueError(f"{qualified} has no attribute {sorted(unknown)[0]!r}")
            items: Sequence[Any] = [value.get(n) for n in desc.names]
        elif isinstance(value, (tuple, list, Record)):
            items = tuple(value)
            if len(items) != count:
                raise ValueError(
                    f"{qualified} has {count} attributes, got a sequence of {len(items)}"
                )
        else:
            raise TypeError(
                f"expected a tuple, Record or Mapping for {qualified}, got {type(value).__name__}"
            )
        parts = [head]
        for i, item in enumerate(items):
            if item is None:
                parts.append(pack_field(oids[i], _NULL))
            else:
                data = encoders[i](item)
                parts.append(pack_field(oids[i], len(data)))
                parts.append(data)
        return b"".join(parts)

    def outdated(detail: str, position: int | None = None) -> exceptions.OutdatedSchemaCacheError:
        if on_outdated is not None:
            on_outdated()
        return exceptions.OutdatedSchemaCacheError(
            f"type {qualified} changed after it was introspected ({detail}); "
            "its cached description was dropped: run the query again",
            schema=schema,
            data_type=name,
            position=None if position is None else str(position + 1),
        )

    def decode(data: bytes) -> Record:
        (received,) = _int4.unpack_from(data)
        if received != count:
            raise outdated(f"a value has {received} attributes, {count} were expected")
        values: list[Any] = []
        pos = 4
        for i, decode_field in enumerate(decoders):
            field_oid, size = unpack_field(data, pos)
            if field_oid != oids[i]:
                raise outdated(
                    f"attribute {i + 1} has type OID {field_oid}, {oids[i]} was expected", i
                )
            pos += 8
            if size < 0:
                values.append(None)
            else:
                values.append(decode_field(data[pos : pos + size]))
                pos += size
        return make_record(Record, desc, tuple(values))

    return Codec(oid, name, encode, decode, schema=schema, kind="composite")


def make_record_codec(oid: int, lookup: Callable[[int], Codec | None]) -> Codec:
    """The codec for anonymous records; *lookup* finds each field's codec by oid."""
    unpack_field = _field_head.unpack_from

    def encode(value: Any) -> bytes:
        # asyncpg's class and wording: the server has no binary input for "record".
        raise exceptions.UnsupportedClientFeatureError(
            "input of anonymous composite types is not supported",
            detail="PostgreSQL does not implement anonymous composite type input.",
            hint="Consider declaring an explicit composite type and using it to cast the "
            "argument.",
        )

    def decode(data: bytes) -> tuple[Any, ...]:
        (count,) = _int4.unpack_from(data)
        values: list[Any] = []
        pos = 4
        for index in range(count):
            field_oid, size = unpack_field(data, pos)
            pos += 8
            if size < 0:
                values.append(None)
                continue
            codec = lookup(field_oid)
            if codec is None or codec.format != 1:
                raise ValueError(
                    f"no binary decoder for type OID {field_oid} "
                    f"(record field {index + 1}); cast the field to text"
                )
            values.append(codec.decode(data[pos : pos + size]))
            pos += size
        return tuple(values)

    return Codec(oid, "record", encode, decode)
