"""Builtin type names, including the SQL-standard spellings PostgreSQL accepts.

``BUILTIN_TYPE_NAME_MAP`` maps every builtin ``pg_type.typname`` (``'int4'``,
``'_int4'``...) and every SQL-standard alias listed in PostgreSQL's
documentation, chapter 8 "Data Types", table 8.1 (``'integer'``,
``'character varying'``, ``'double precision'``, ``'timestamp with time
zone'``...) to the type's OID. asyncpg exposes the same table as
``asyncpg.protocol.BUILTIN_TYPE_NAME_MAP``.
"""

from __future__ import annotations

from pgwire.codecs import oids

__all__ = ("BUILTIN_TYPE_NAME_MAP", "SQL_STANDARD_NAMES", "canonical_type_name")

#: SQL-standard spelling -> ``pg_type.typname`` (PostgreSQL docs, table 8.1;
#: ``int``/``dec``/``float`` as the SQL grammar accepts them).
SQL_STANDARD_NAMES: dict[str, str] = {
    "smallint": "int2",
    "integer": "int4",
    "int": "int4",
    "bigint": "int8",
    "real": "float4",
    "float": "float8",
    "double precision": "float8",
    "decimal": "numeric",
    "dec": "numeric",
    "boolean": "bool",
    "character": "bpchar",
    "character varying": "varchar",
    "char varying": "varchar",
    "national character": "bpchar",
    "national character varying": "varchar",
    "bit varying": "varbit",
    "time without time zone": "time",
    "time with time zone": "timetz",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    # asyncpg's spellings, "timezone" in one word
    "time without timezone": "time",
    "time with timezone": "timetz",
    "timestamp without timezone": "timestamp",
    "timestamp with timezone": "timestamptz",
}


def canonical_type_name(name: str) -> str:
    """The ``pg_type.typname`` for ``name`` when it is an SQL-standard spelling.

    Case and runs of blanks are ignored (``'Double  Precision'`` ->
    ``'float8'``, ``'INT4'`` -> ``'int4'``), an unquoted ``char`` is ``bpchar``
    as in SQL, and a trailing ``[]`` is kept as the array type (``'integer[]'``
    -> ``'_int4'``). A quoted name (``'"char"'``) is taken as written.
    """
    if len(name) > 2 and name[0] == name[-1] == '"' and '"' not in name[1:-1]:
        return name[1:-1]  # a quoted identifier is taken as written
    if '"' in name:
        return name
    spelled = " ".join(name.split()).lower()
    suffix = ""
    if spelled.endswith("[]"):
        spelled, suffix = spelled[:-2].rstrip(), "[]"
    # SQL's grammar reads an unquoted ``char`` as ``character`` (bpchar), as asyncpg
    # (which resolves names as the server parses them) does; ``"char"`` stays the
    # internal one-byte type.
    canonical = "bpchar" if spelled == "char" else SQL_STANDARD_NAMES.get(spelled)
    if canonical is None:
        # Unquoted identifiers are folded to lower case (``INT4`` is ``int4``).
        return spelled + suffix if spelled.isascii() else name
    return "_" + canonical if suffix else canonical


def _build() -> dict[str, int]:
    names = {name: oid for oid, (name, _kind) in oids.BUILTIN_TYPES.items()}
    for alias, typname in SQL_STANDARD_NAMES.items():
        names[alias] = names[typname]
    return names


BUILTIN_TYPE_NAME_MAP: dict[str, int] = _build()
