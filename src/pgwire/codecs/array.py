"""Binary array codecs built from an element codec.

Wire form: int32 ndim, int32 has-nulls flag, uint32 element oid, then
(int32 length, int32 lower bound) per dimension, then each element as
int32 length (-1 for NULL) + payload, in row-major order.

Decoding gives (nested) lists, ignoring lower bounds, as asyncpg does;
NULL elements are ``None``. Encoding takes any sized iterable except
text/bytes; nested lists and tuples are further dimensions (tuples stay
elements when the element type's values are tuples: composites, points...). Sub-arrays of unequal
length raise ``ValueError``; an array with an empty dimension is sent as
the empty array.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sized
from typing import Any, cast

from . import oids
from ._codec import Codec

__all__ = ["make_array_codec", "make_vector_codec", "MAXDIM", "TUPLE_VALUED"]

#: Element types whose values are tuples: in arrays of these (and of
#: composites) only lists nest, tuples are elements.
TUPLE_VALUED = frozenset(
    {
        oids.POINT,
        oids.LINE,
        oids.LSEG,
        oids.BOX,
        oids.CIRCLE,
        oids.TID,
        oids.TXID_SNAPSHOT,
        oids.PG_SNAPSHOT,
        oids.RECORD,
    }
)

#: PostgreSQL's limit on array dimensions.
MAXDIM = 6

_head = struct.Struct("!iiI")
_dim = struct.Struct("!ii")
_int4 = struct.Struct("!i")
_NULL = _int4.pack(-1)

_NOT_CONTAINERS = (str, bytes, bytearray, memoryview)


def _check_container(value: Any) -> None:
    if isinstance(value, _NOT_CONTAINERS) or not (
        isinstance(value, Sized) and isinstance(value, Iterable)
    ):
        raise TypeError(f"a sized iterable container expected (got type {type(value).__name__!r})")


def _shape(value: Any, nested: tuple[type, ...]) -> list[int]:
    """Dimensions of *value*, found by following first elements down."""
    dims = [len(value)]
    item: Any = value
    while dims[-1]:
        item = item[0]
        if not isinstance(item, nested):
            break
        dims.append(len(cast(Sized, item)))
    return dims


def _all_empty(value: Any, nested: tuple[type, ...]) -> bool:
    """True when *value* holds nothing but (nested) empty sub-arrays."""
    return all(isinstance(item, nested) and _all_empty(item, nested) for item in value)


def _flatten(
    value: Any,
    dims: list[int],
    depth: int,
    nested: tuple[type, ...],
    encode: Callable[[Any], bytes],
    out: list[bytes],
) -> bool:
    """Append encoded elements of *value* to *out*; True when a NULL was seen."""
    has_null = False
    if len(value) != dims[depth]:
        raise ValueError("non-homogeneous array")
    if depth + 1 < len(dims):
        for item in value:
            if not isinstance(item, nested):
                raise ValueError("non-homogeneous array")
            if _flatten(item, dims, depth + 1, nested, encode, out):
                has_null = True
        return has_null
    pack = _int4.pack
    for item in value:
        if item is None:
            out.append(_NULL)
            has_null = True
        elif isinstance(item, nested):
            raise ValueError("non-homogeneous array")
        else:
            data = encode(item)
            out.append(pack(len(data)))
            out.append(data)
    return has_null


def _reshape(items: list[Any], dims: list[int]) -> list[Any]:
    for size in reversed(dims[1:]):
        items = [items[i : i + size] for i in range(0, len(items), size)]
    return items


def make_array_codec(array_oid: int, element: Codec, name: str) -> Codec:
    """A binary codec for arrays of *element* with type oid *array_oid*."""
    elem_oid = element.oid
    elem_encode = element.encode
    elem_decode = element.decode
    tuple_valued = element.kind == "composite" or element.oid in TUPLE_VALUED
    nested: tuple[type, ...] = (list,) if tuple_valued else (list, tuple)
    empty = _head.pack(0, 0, elem_oid)

    def encode(value: Any) -> bytes:
        _check_container(value)
        if not isinstance(value, (list, tuple)):
            value = list(value)
        dims = _shape(value, nested)
        if 0 in dims:
            # Still reject ragged input such as [[], [1]].
            if not _all_empty(value, nested):
                raise ValueError("non-homogeneous array")
            return empty
        if len(dims) > MAXDIM:
            raise ValueError(
                f"number of array dimensions ({len(dims)}) exceeds the maximum allowed ({MAXDIM})"
            )
        out: list[bytes] = []
        has_null = _flatten(value, dims, 0, nested, elem_encode, out)
        header = [_head.pack(len(dims), 1 if has_null else 0, elem_oid)]
        header.extend(_dim.pack(size, 1) for size in dims)
        return b"".join(header) + b"".join(out)

    def decode(data: bytes) -> list[Any]:
        ndim, _flags, _oid = _head.unpack_from(data)
        if ndim == 0:
            return []
        dims = [_dim.unpack_from(data, 12 + 8 * i)[0] for i in range(ndim)]
        pos = 12 + 8 * ndim
        count = 1
        for size in dims:
            count *= size
        items: list[Any] = []
        append = items.append
        unpack = _int4.unpack_from
        for _ in range(count):
            length = unpack(data, pos)[0]
            pos += 4
            if length < 0:
                append(None)
            else:
                end = pos + length
                append(elem_decode(data[pos:end]))
                pos = end
        if ndim == 1:
            return items
        return _reshape(items, dims)

    return Codec(array_oid, name, encode, decode, schema=element.schema, kind="array")


def make_vector_codec(oid: int, element: Codec, name: str) -> Codec:
    """A codec for ``int2vector``/``oidvector``: one-dimensional, lower bound 0, no NULLs."""
    array = make_array_codec(oid, element, name)
    array_encode = array.encode

    def encode(value: Any) -> bytes:
        data = array_encode(value)
        ndim, has_null, _oid = _head.unpack_from(data)
        if ndim > 1 or has_null:
            raise ValueError(f"{name} is a one-dimensional array without NULLs")
        if ndim == 0:
            return data
        return data[:16] + _int4.pack(0) + data[20:]

    return Codec(oid, name, encode, array.decode, schema=element.schema, kind="scalar")
