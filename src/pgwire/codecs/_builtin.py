"""Assembly of the builtin registry: every codec this package ships.

Every builtin type gets a codec, so a statement using only builtin types
never triggers catalog introspection: types listed in :data:`SCALARS` travel
in binary, the other base and pseudo types as text (``str``, as asyncpg maps
them); arrays, ranges and multiranges are derived from their element codecs.
Catalog row types (``pg_class`` ...) are composites, left to introspection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _impl
from . import bits, geometry, json, misc, net, numeric, oids, text, uuid
from . import datetime as dt
from ._codec import Codec, CodecRegistry, text_fallback_codec
from .array import make_array_codec, make_vector_codec
from .range import make_multirange_codec, make_range_codec
from .record import make_record_codec
from .textarray import make_text_array_codec

__all__ = ["build_builtin", "derive_array_codec", "SCALARS"]

_Pair = tuple[Callable[[Any], bytes], Callable[[bytes], Any]]

#: oid -> (encode, decode) for every builtin scalar type with a binary codec.
SCALARS: dict[int, _Pair] = {
    oids.BOOL: (numeric.bool_encode, numeric.bool_decode),
    oids.INT2: (numeric.int2_encode, numeric.int2_decode),
    oids.INT4: (numeric.int4_encode, numeric.int4_decode),
    oids.INT8: (numeric.int8_encode, numeric.int8_decode),
    oids.OID: (numeric.uint4_encode, numeric.uint4_decode),
    oids.XID: (numeric.uint4_encode, numeric.uint4_decode),
    oids.CID: (numeric.uint4_encode, numeric.uint4_decode),
    oids.XID8: (numeric.uint8_encode, numeric.uint8_decode),
    oids.FLOAT4: (numeric.float4_encode, numeric.float4_decode),
    oids.FLOAT8: (numeric.float8_encode, numeric.float8_decode),
    oids.NUMERIC: (numeric.numeric_encode, numeric.numeric_decode),
    oids.TEXT: (text.text_encode, text.text_decode),
    oids.VARCHAR: (text.text_encode, text.text_decode),
    oids.BPCHAR: (text.text_encode, text.text_decode),
    oids.NAME: (text.text_encode, text.text_decode),
    oids.XML: (text.text_encode, text.text_decode),
    oids.UNKNOWN: (text.text_encode, text.text_decode),
    oids.CHAR: (text.char_encode, text.char_decode),
    oids.BYTEA: (text.bytea_encode, text.bytea_decode),
    oids.UUID: (uuid.uuid_encode, uuid.uuid_decode),
    oids.DATE: (dt.date_encode, dt.date_decode),
    oids.TIME: (dt.time_encode, dt.time_decode),
    oids.TIMETZ: (dt.timetz_encode, dt.timetz_decode),
    oids.TIMESTAMP: (dt.timestamp_encode, dt.timestamp_decode),
    oids.TIMESTAMPTZ: (dt.timestamptz_encode, dt.timestamptz_decode),
    oids.INTERVAL: (dt.interval_encode, dt.interval_decode),
    oids.JSON: (json.json_encode, json.json_decode),
    oids.JSONB: (json.jsonb_encode, json.jsonb_decode),
    oids.JSONPATH: (json.jsonpath_encode, json.jsonpath_decode),
    oids.INET: (net.inet_encode, net.inet_decode),
    oids.CIDR: (net.cidr_encode, net.cidr_decode),
    oids.BIT: (bits.bits_encode, bits.bits_decode),
    oids.VARBIT: (bits.bits_encode, bits.bits_decode),
    oids.POINT: (geometry.point_encode, geometry.point_decode),
    oids.LINE: (geometry.line_encode, geometry.line_decode),
    oids.LSEG: (geometry.lseg_encode, geometry.lseg_decode),
    oids.BOX: (geometry.box_encode, geometry.box_decode),
    oids.PATH: (geometry.path_encode, geometry.path_decode),
    oids.POLYGON: (geometry.polygon_encode, geometry.polygon_decode),
    oids.CIRCLE: (geometry.circle_encode, geometry.circle_decode),
    oids.TID: (misc.tid_encode, misc.tid_decode),
    oids.PG_LSN: (misc.lsn_encode, misc.lsn_decode),
    oids.TXID_SNAPSHOT: (misc.snapshot_encode, misc.snapshot_decode),
    oids.PG_SNAPSHOT: (misc.snapshot_encode, misc.snapshot_decode),
    oids.VOID: (misc.void_encode, misc.void_decode),
}

#: Base types whose binary form is an array of their element type.
_VECTORS = {oids.INT2VECTOR: oids.INT2, oids.OIDVECTOR: oids.OID}


def derive_array_codec(array_oid: int, element: Codec, name: str) -> Codec:
    """The array codec matching *element*'s wire format."""
    if element.format == 1:
        return _impl.codec_twin(make_array_codec)(array_oid, element, name)
    return make_text_array_codec(array_oid, element, name)


def build_builtin() -> CodecRegistry:
    """A fresh registry with a codec for every builtin type but the catalog row types."""
    registry = CodecRegistry()
    for oid, (encode, decode) in SCALARS.items():
        encode, decode = _impl.codec_twin(encode), _impl.codec_twin(decode)
        registry.register(Codec(oid, oids.BUILTIN_TYPES[oid][0], encode, decode))
    for oid, (name, kind) in oids.BUILTIN_TYPES.items():
        is_array = oid in oids.ARRAY_ELEMENT and oid not in _VECTORS
        if oid in registry or is_array or kind not in "bpe":
            continue
        if oid in _VECTORS:
            registry.register(make_vector_codec(oid, registry.get(_VECTORS[oid]), name))  # type: ignore[arg-type]
        elif oid == oids.RECORD:
            record = make_record_codec(oid, registry.get)
            registry.register(record)
            registry.register(make_array_codec(oids.RECORD_ARRAY, record, "_record"))
        elif oid == oids.RECORD_ARRAY:
            continue
        else:
            registry.register(text_fallback_codec(oid, name))
    for oid, subtype in oids.RANGE_SUBTYPE.items():
        registry.register(
            make_range_codec(oid, registry.get(subtype), oids.BUILTIN_TYPES[oid][0])  # type: ignore[arg-type]
        )
    for oid, range_oid in oids.MULTIRANGE_RANGE.items():
        registry.register(
            make_multirange_codec(oid, registry.get(range_oid), oids.BUILTIN_TYPES[oid][0])  # type: ignore[arg-type]
        )
    for oid, element_oid in oids.ARRAY_ELEMENT.items():
        element = registry.get(element_oid)
        if element is not None and oid not in _VECTORS:
            registry.register(derive_array_codec(oid, element, oids.BUILTIN_TYPES[oid][0]))
    return registry
