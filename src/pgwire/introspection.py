"""``asyncpg.introspection``: the catalog queries behind type introspection.

asyncpg publishes its catalog queries and the type-kind predicates here; code
that inspects them finds pgwire's equivalents. The rows these queries return
have the columns documented in :mod:`pgwire.typeinfo`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pgwire.typeinfo import TYPE_BY_NAME_QUERY, TYPES_QUERY

__all__ = (
    "INTRO_LOOKUP_TYPES",
    "TYPE_BY_NAME",
    "is_composite_type",
    "is_domain_type",
    "is_scalar_type",
)

#: Every type reachable from the OIDs in ``$1``, dependencies first.
INTRO_LOOKUP_TYPES = TYPES_QUERY
#: One type by ``($1 name, $2 schema)``.
TYPE_BY_NAME = TYPE_BY_NAME_QUERY


def _kind(typeinfo: Mapping[str, Any]) -> str:
    kind = typeinfo["kind"]
    return kind.decode() if isinstance(kind, bytes) else str(kind)


def is_scalar_type(typeinfo: Mapping[str, Any]) -> bool:
    """True for base, domain and enum types that are not arrays (asyncpg's rule)."""
    return _kind(typeinfo) in ("b", "d", "e") and not typeinfo["elemtype"]


def is_domain_type(typeinfo: Mapping[str, Any]) -> bool:
    """True for a domain (``pg_type.typtype = 'd'``)."""
    return _kind(typeinfo) == "d"


def is_composite_type(typeinfo: Mapping[str, Any]) -> bool:
    """True for a composite type (``pg_type.typtype = 'c'``)."""
    return _kind(typeinfo) == "c"
