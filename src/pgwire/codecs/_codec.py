"""Codec records and registries (re-exported by :mod:`pgwire.codecs.registry`).

A :class:`Codec` is plain data: which type it handles, which wire format it
speaks, and two functions. ``encode`` turns a Python value into the wire
payload (without the 4-byte length prefix) and raises ``TypeError``,
``ValueError`` or ``OverflowError`` with a message saying what was expected;
the driver wraps that into "invalid input for query argument $N: ...".
``decode`` turns a payload back into a Python value; SQL NULL never reaches it.

:class:`CodecRegistry` maps OIDs (and schema-qualified names) to codecs.
A registry built with ``parent=`` is a copy-on-write overlay: lookups fall
back to the parent, while :meth:`~CodecRegistry.register` and
:meth:`~CodecRegistry.remove` only ever touch the overlay. Connections hold
such an overlay over :data:`BUILTIN` for their ``set_type_codec`` overrides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Codec", "CodecRegistry", "KINDS", "text_fallback_codec"]

Encoder = Callable[[Any], bytes]
Decoder = Callable[[bytes], Any]

#: The values :attr:`Codec.kind` may take.
KINDS = frozenset({"scalar", "array", "range", "multirange", "composite", "domain", "enum"})


class Codec:
    """How one PostgreSQL type travels over the wire.

    ``format`` is 1 for binary and 0 for text; it is the format code the
    driver requests in Bind for parameters and results of this type.
    """

    __slots__ = ("oid", "name", "schema", "kind", "format", "encode", "decode")

    oid: int
    name: str
    schema: str
    kind: str
    format: int
    encode: Encoder
    decode: Decoder

    def __init__(
        self,
        oid: int,
        name: str,
        encode: Encoder,
        decode: Decoder,
        *,
        schema: str = "pg_catalog",
        kind: str = "scalar",
        format: int = 1,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown codec kind {kind!r}")
        if format not in (0, 1):
            raise ValueError(f"format must be 0 (text) or 1 (binary), got {format!r}")
        self.oid = oid
        self.name = name
        self.schema = schema
        self.kind = kind
        self.format = format
        self.encode = encode
        self.decode = decode

    def __repr__(self) -> str:
        fmt = "binary" if self.format == 1 else "text"
        return f"<Codec {self.schema}.{self.name} oid={self.oid} {self.kind} {fmt}>"


class CodecRegistry:
    """OID -> codec lookup, optionally layered over a parent registry.

    Lookups consult this registry first, then the parent chain. Mutations
    never reach the parent, so an overlay can be discarded or changed without
    affecting anyone else sharing the parent.
    """

    __slots__ = ("_by_oid", "_by_name", "_parent")

    def __init__(self, parent: CodecRegistry | None = None) -> None:
        self._by_oid: dict[int, Codec] = {}
        self._by_name: dict[tuple[str, str], Codec] = {}
        self._parent = parent

    @property
    def parent(self) -> CodecRegistry | None:
        """The registry lookups fall back to, if any."""
        return self._parent

    def get(self, oid: int) -> Codec | None:
        """The codec for *oid*, or ``None`` when no layer has one."""
        codec = self._by_oid.get(oid)
        if codec is None and self._parent is not None:
            return self._parent.get(oid)
        return codec

    def by_name(self, name: str, schema: str = "pg_catalog") -> Codec | None:
        """The codec registered under ``schema.name``, or ``None``."""
        codec = self._by_name.get((schema, name))
        if codec is None and self._parent is not None:
            return self._parent.by_name(name, schema)
        return codec

    def register(self, codec: Codec) -> None:
        """Add *codec* to this layer, replacing any codec for the same OID here."""
        old = self._by_oid.get(codec.oid)
        if old is not None:
            self._by_name.pop((old.schema, old.name), None)
        self._by_oid[codec.oid] = codec
        self._by_name[(codec.schema, codec.name)] = codec

    def remove(self, oid: int) -> Codec | None:
        """Drop this layer's codec for *oid* (the parent's, if any, shows again).

        Returns the removed codec, or ``None`` when this layer had none.
        """
        codec = self._by_oid.pop(oid, None)
        if codec is not None:
            self._by_name.pop((codec.schema, codec.name), None)
        return codec

    def copy(self) -> CodecRegistry:
        """A copy-on-write overlay over this registry."""
        return CodecRegistry(parent=self)

    def __contains__(self, oid: object) -> bool:
        return isinstance(oid, int) and self.get(oid) is not None

    def __len__(self) -> int:
        return len(self.oids())

    def oids(self) -> set[int]:
        """Every OID visible through this registry, across all layers."""
        seen = set(self._by_oid)
        if self._parent is not None:
            seen |= self._parent.oids()
        return seen


def _text_encode(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return str(value).encode("utf-8")


def text_fallback_codec(oid: int, name: str = "unknown") -> Codec:
    """A text-format codec for a type without a binary codec.

    Decodes the server's text output as UTF-8 ``str``; encodes ``str`` as
    UTF-8, passes bytes-like values through, and sends ``str(value)`` for
    anything else (the server parses it with the type's input function).
    """
    # Imported here: the twin lookup loads the compiled module, which imports this one.
    from .. import _impl
    from .text import text_decode

    return Codec(oid, name, _text_encode, _impl.codec_twin(text_decode), format=0)
