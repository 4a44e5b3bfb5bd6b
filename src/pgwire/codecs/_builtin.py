"""Assembly of the builtin registry: every codec this package ships."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _impl
from . import datetime as dt
from . import json, numeric, oids, text, uuid
from ._codec import Codec, CodecRegistry
from .array import make_array_codec

__all__ = ["build_builtin", "SCALARS"]

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
}


def build_builtin() -> CodecRegistry:
    """A fresh registry with every scalar codec above and its array codec."""
    registry = CodecRegistry()
    array_by_name = {
        name: oid for oid, (name, _kind) in oids.BUILTIN_TYPES.items() if oid in oids.ARRAY_ELEMENT
    }
    for oid, (encode, decode) in SCALARS.items():
        name = oids.BUILTIN_TYPES[oid][0]
        codec = Codec(oid, name, _impl.codec_twin(encode), _impl.codec_twin(decode))
        registry.register(codec)
        array_oid = array_by_name.get("_" + name)
        if array_oid is not None:
            registry.register(_impl.codec_twin(make_array_codec)(array_oid, codec, "_" + name))
    return registry
