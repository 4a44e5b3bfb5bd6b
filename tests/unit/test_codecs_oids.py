"""The generated builtin OID tables."""

from __future__ import annotations

from pgwire.codecs import oids


def test_well_known_constants() -> None:
    assert (oids.BOOL, oids.INT4, oids.TEXT, oids.CHAR) == (16, 23, 25, 18)
    assert oids.INT4_ARRAY == 1007
    assert oids.JSONB == 3802


def test_builtin_types_give_name_and_typtype() -> None:
    assert oids.BUILTIN_TYPES[oids.INT4] == ("int4", "b")
    assert oids.BUILTIN_TYPES[oids.INT4_ARRAY] == ("_int4", "b")
    assert oids.BUILTIN_TYPES[oids.INT4RANGE] == ("int4range", "r")


def test_array_element_maps_array_to_element() -> None:
    assert oids.ARRAY_ELEMENT[oids.INT4_ARRAY] == oids.INT4
    assert oids.ARRAY_ELEMENT[oids.TEXT_ARRAY] == oids.TEXT


def test_range_tables() -> None:
    assert oids.RANGE_SUBTYPE[oids.INT4RANGE] == oids.INT4
    assert oids.MULTIRANGE_RANGE[oids.INT4MULTIRANGE] == oids.INT4RANGE


def test_all_builtin_oids_are_below_10000() -> None:
    assert all(oid < 10000 for oid in oids.BUILTIN_TYPES)
