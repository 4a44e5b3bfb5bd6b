"""SQLAlchemy's requirement-based dialect suite, run against ``postgresql+pgwire``."""

from sqlalchemy.testing.suite import *  # noqa: F403
from sqlalchemy.testing.suite.test_results import ServerSideCursorsTest


def _is_server_side(self: ServerSideCursorsTest, cursor: object) -> bool:
    # The suite recognises server-side cursors only for the drivers it names;
    # pgwire uses the asyncpg adaptation's cursor classes, which say it themselves.
    return bool(getattr(cursor, "server_side", False))


ServerSideCursorsTest._is_server_side = _is_server_side  # type: ignore[method-assign]
