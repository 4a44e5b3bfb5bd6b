"""``asyncpg.utils``: quoting helpers and ``_mogrify``, under asyncpg's names.

These are private in asyncpg too; libraries use them to build DDL and to show
a query with its arguments inlined.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgwire.connection import Connection

__all__ = ("_mogrify", "_quote_ident", "_quote_literal")

_PLACEHOLDER = re.compile(r"\$(\d+)\b")


def _quote_ident(ident: str) -> str:
    """``ident`` as a double-quoted SQL identifier (embedded ``"`` doubled)."""
    return '"' + ident.replace('"', '""') + '"'


def _quote_literal(string: str) -> str:
    """``string`` as a single-quoted SQL literal (embedded ``'`` doubled).

    Assumes ``standard_conforming_strings = on`` (PostgreSQL's default since 9.1),
    under which a backslash is an ordinary character.
    """
    return "'" + string.replace("'", "''") + "'"


async def _mogrify(conn: Connection, query: str, args: Sequence[Any]) -> str:
    """``query`` with each ``$n`` replaced by argument ``n`` as an SQL literal.

    The server supplies both the parameter types (by preparing ``query``) and
    the text form of every value (by casting it to ``text``), so the literals
    are exactly what PostgreSQL would print. ``None`` becomes ``NULL``.
    Raises whatever preparing ``query`` or encoding an argument raises.
    """
    statement = await conn.prepare(query)
    param_oids = [param.oid for param in statement.get_parameters()]
    if not param_oids:
        return query
    type_names = await conn.fetchval(
        "SELECT array_agg(format_type(p.oid, NULL) ORDER BY p.n)"
        " FROM unnest($1::oid[]) WITH ORDINALITY AS p(oid, n)",
        param_oids,
    )
    columns = ", ".join(f"${n}::{name}::text" for n, name in enumerate(type_names, start=1))
    texts = await conn.fetchrow(f"SELECT {columns}", *args)
    assert texts is not None

    def literal(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        if not 0 <= index < len(type_names):
            return match.group(0)
        text = texts[index]
        if text is None:
            return "NULL"
        return _quote_literal(text)

    return _PLACEHOLDER.sub(literal, query)
