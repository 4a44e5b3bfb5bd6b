"""Working through PgBouncer (and other poolers) in transaction pooling mode.

The problem: in ``pool_mode = transaction`` every transaction -- and every implicit
transaction, which ends at each Sync -- may run on a different server connection.  A
statement prepared by name on one backend does not exist on the next ("prepared statement
does not exist", 26000), or a backend still holds another client's statement under the
same name ("already exists", 42P05; worse, a silent mix-up).  asyncpg users meet this
as asyncpg issues #121, #339, #945 and #1058.

What pgwire does: *unnamed statements*, each execution self-contained.  The statement is
described once (``Parse`` into the unnamed statement + ``Describe`` + ``Sync``) and its
parameter and result types are cached on the client as usual; every execution then sends
``Parse`` + ``Bind`` + ``Execute`` + ``Sync`` in one segment, so it never relies on
server-side state left by an earlier segment.  The price is a server-side parse per
execution; the statement cache still saves the Describe round trip.

When: ``connect(unnamed_statements=None)`` (the default) detects a pooler at connect time
-- the process id in the server's BackendKeyData is PgBouncer's invention and differs from
``pg_backend_pid()`` -- at the cost of one round trip.  ``unnamed_statements=True`` forces
the mode (for poolers that forward BackendKeyData); ``False`` turns the check off.
Explicit transactions keep their backend in transaction mode, so everything works inside
them too; cursors bind to the unnamed statement of their own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .protocol import messages
from .statement import StatementState
from .topology import first_row_text

if TYPE_CHECKING:
    from .connection import Connection

__all__ = ["ReparsedStatement", "behind_pooler"]


class ReparsedStatement(StatementState):
    """A statement kept only on the client: each execution parses it again, unnamed."""

    __slots__ = ("_parse",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parse = messages.parse_message("", self.query, self.param_oids)

    def bind_execute(self, args: Sequence[Any], max_rows: int = 0, portal: str = "") -> bytes:
        """Parse + Bind + Execute (no Sync): valid on whichever backend receives it."""
        return self._parse + super().bind_execute(args, max_rows, portal)


async def behind_pooler(conn: Connection) -> bool:
    """True when the session's backend is not the process the server named at startup."""
    (pid,) = await first_row_text(conn, "SELECT pg_catalog.pg_backend_pid()")
    return pid != str(conn.get_server_pid())
