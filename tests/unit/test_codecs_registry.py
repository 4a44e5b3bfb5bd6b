"""The codec registry: lookups, overlays, builtin contents, text fallback."""

from __future__ import annotations

import pytest

from pgwire.codecs import oids
from pgwire.codecs.registry import BUILTIN, Codec, CodecRegistry, text_fallback_codec


def _codec(oid: int = 23, name: str = "int4") -> Codec:
    return Codec(oid, name, lambda v: b"x", lambda b: "decoded")


def test_get_returns_none_for_unknown_oid() -> None:
    assert CodecRegistry().get(123456) is None


def test_registered_codec_is_found_by_oid_and_name() -> None:
    registry = CodecRegistry()
    codec = _codec()
    registry.register(codec)
    assert registry.get(23) is codec
    assert registry.by_name("int4") is codec
    assert registry.by_name("int4", schema="public") is None


def test_overlay_falls_back_to_parent() -> None:
    overlay = CodecRegistry(parent=BUILTIN)
    assert overlay.get(oids.INT4) is BUILTIN.get(oids.INT4)
    assert overlay.by_name("text") is BUILTIN.get(oids.TEXT)


def test_overlay_register_shadows_without_touching_parent() -> None:
    overlay = BUILTIN.copy()
    mine = _codec()
    overlay.register(mine)
    assert overlay.get(oids.INT4) is mine
    assert BUILTIN.get(oids.INT4) is not mine


def test_overlay_remove_reveals_parent_codec() -> None:
    overlay = CodecRegistry(parent=BUILTIN)
    overlay.register(_codec())
    overlay.remove(oids.INT4)
    assert overlay.get(oids.INT4) is BUILTIN.get(oids.INT4)


def test_remove_of_parent_codec_from_overlay_is_a_no_op() -> None:
    overlay = CodecRegistry(parent=BUILTIN)
    assert overlay.remove(oids.INT4) is None
    assert overlay.get(oids.INT4) is BUILTIN.get(oids.INT4)


def test_register_replacing_oid_drops_old_name() -> None:
    registry = CodecRegistry()
    registry.register(_codec(name="old"))
    registry.register(_codec(name="new"))
    assert registry.by_name("old") is None
    assert registry.by_name("new") is registry.get(23)


def test_codec_rejects_unknown_kind_and_format() -> None:
    with pytest.raises(ValueError, match="kind"):
        Codec(1, "x", bytes, bytes, kind="weird")
    with pytest.raises(ValueError, match="format"):
        Codec(1, "x", bytes, bytes, format=2)


def test_codec_is_slotted() -> None:
    with pytest.raises(AttributeError):
        _codec().extra = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "name",
    [
        "bool", "int2", "int4", "int8", "oid", "xid", "cid", "xid8", "float4", "float8",
        "numeric", "text", "varchar", "bpchar", "name", "char", "bytea", "xml", "unknown",
        "uuid", "date", "time", "timetz", "timestamp", "timestamptz", "interval",
        "json", "jsonb", "jsonpath",
    ],
)  # fmt: skip
def test_builtin_has_binary_codec_for(name: str) -> None:
    codec = BUILTIN.by_name(name)
    assert codec is not None
    assert codec.format == 1
    assert codec.kind == "scalar"
    assert oids.BUILTIN_TYPES[codec.oid][0] == name


def test_builtin_registers_array_codec_for_every_element_with_an_array_type() -> None:
    for array_oid, element_oid in oids.ARRAY_ELEMENT.items():
        element = BUILTIN.get(element_oid)
        if element is None:  # catalog row types are introspected
            assert oids.BUILTIN_TYPES[element_oid][1] == "c"
            continue
        codec = BUILTIN.get(array_oid)
        assert codec is not None
        assert codec.kind == "array" or array_oid in (oids.INT2VECTOR, oids.OIDVECTOR)


def test_builtin_has_a_codec_for_every_type_but_catalog_row_types() -> None:
    missing = {
        oid
        for oid, (_name, kind) in oids.BUILTIN_TYPES.items()
        if BUILTIN.get(oid) is None and kind != "c"
    }
    assert missing == {
        oid for oid, element in oids.ARRAY_ELEMENT.items() if oids.BUILTIN_TYPES[element][1] == "c"
    }


def test_text_fallback_decodes_utf8_and_encodes_str() -> None:
    codec = text_fallback_codec(99999, "citext")
    assert (codec.oid, codec.name, codec.format) == (99999, "citext", 0)
    assert codec.decode("é".encode()) == "é"
    assert codec.encode("é") == "é".encode()
    assert codec.encode(b"raw") == b"raw"
    assert codec.encode(42) == b"42"


@pytest.mark.parametrize("kind", ["composite", "range", "multirange"])
def test_text_only_composite_or_range_codec_refuses_non_text_values(kind: str) -> None:
    from pgwire import exceptions
    from pgwire.typeinfo import _text_codec
    from pgwire.types import Range

    codec = _text_codec(90001, "t", "public", kind)
    assert codec.encode("(1,2)") == b"(1,2)"
    for value in [("x", "y"), Range(1, 2), [Range(1, 2)]]:
        with pytest.raises(exceptions.UnsupportedClientFeatureError, match=f"as {kind} type"):
            codec.encode(value)
