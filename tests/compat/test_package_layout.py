"""asyncpg's module layout resolves on pgwire, and install_as_asyncpg() redirects imports."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pgwire

# The attribute paths libraries written for asyncpg reach for (asyncpg 0.32's layout).
ASYNCPG_PATHS = [
    "connection.Connection",
    "connection.connect",
    "pool.Pool",
    "pool.PoolConnectionProxy",
    "pool.PoolAcquireContext",
    "pool.create_pool",
    "transaction.Transaction",
    "cursor.CursorIterator",
    "cursor.Cursor",
    "cursor.CursorFactory",
    "prepared_stmt.PreparedStatement",
    "exceptions.PostgresError",
    "exceptions.UniqueViolationError",
    "pgproto.pgproto.UUID",
    "pgproto.types.Point",
    "pgproto.types.BitString",
    "introspection.INTRO_LOOKUP_TYPES",
    "introspection.is_scalar_type",
    "utils._quote_ident",
    "utils._quote_literal",
    "utils._mogrify",
    "connect_utils._SSL_REQUEST_CODE",
    "protocol.Record",
    "protocol.BUILTIN_TYPE_NAME_MAP",
    "protocol.NO_TIMEOUT",
    "serverversion.split_server_version_string",
    "types.Range",
    "types.Type",
]


@pytest.mark.parametrize("path", ASYNCPG_PATHS)
def test_asyncpg_attribute_path_resolves_on_pgwire(path: str) -> None:
    obj: object = pgwire
    for part in path.split("."):
        obj = getattr(obj, part)
    assert obj is not None


def test_protocol_record_is_the_record_class_rows_have() -> None:
    assert pgwire.protocol.Record is pgwire.Record


def test_builtin_type_name_map_has_sql_standard_spellings() -> None:
    names = pgwire.protocol.BUILTIN_TYPE_NAME_MAP
    assert names["integer"] == names["int4"] == 23
    assert names["character varying"] == names["varchar"]
    assert names["timestamp with time zone"] == names["timestamptz"]


def test_quote_helpers_double_embedded_quotes() -> None:
    assert pgwire.utils._quote_ident('a"b') == '"a""b"'
    assert pgwire.utils._quote_literal("it's") == "'it''s'"


def _run(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_install_as_asyncpg_gives_third_party_imports_pgwire(tmp_path: Path) -> None:
    (tmp_path / "thirdparty.py").write_text(
        "import asyncpg\n"
        "from asyncpg.pool import Pool\n"
        "from asyncpg.cursor import CursorIterator\n"
        "import asyncpg.prepared_stmt\n"
        "import asyncpg.pgproto.pgproto\n"
    )
    result = _run(
        """
        import pgwire
        pgwire.install_as_asyncpg()
        import thirdparty
        import pgwire.pool, pgwire.cursor, pgwire.prepared
        assert thirdparty.asyncpg is pgwire
        assert thirdparty.Pool is pgwire.pool.Pool
        assert thirdparty.CursorIterator is pgwire.cursor.CursorIterator
        assert (
            thirdparty.asyncpg.prepared_stmt.PreparedStatement
            is pgwire.prepared.PreparedStatement
        )
        print("ok")
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_install_as_asyncpg_refuses_after_the_real_asyncpg_was_imported(tmp_path: Path) -> None:
    pytest.importorskip("asyncpg")
    result = _run(
        """
        import asyncpg
        import pgwire
        try:
            pgwire.install_as_asyncpg()
        except RuntimeError as exc:
            print("refused:", exc)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused: asyncpg")


async def test_cursor_iteration_goes_through_cursor_iterator(conn: pgwire.Connection) -> None:
    async with conn.transaction():
        iterator = conn.cursor("SELECT generate_series(1, 3)").__aiter__()
        assert isinstance(iterator, pgwire.cursor.CursorIterator)
        assert [record[0] async for record in iterator] == [1, 2, 3]


async def test_cursors_expose_asyncpgs_attributes_instrumentation_reads(
    conn: pgwire.Connection,
) -> None:
    # OpenTelemetry's asyncpg instrumentation names cursor spans from these.
    async with conn.transaction():
        iterator = conn.cursor("SELECT $1::int", 5).__aiter__()
        cursor = await conn.cursor("SELECT $1::int", 6)
        for obj, arg in ((iterator, 5), (cursor, 6)):
            assert obj._connection is conn
            assert obj._query == "SELECT $1::int"
            assert list(obj._args) == [arg]


async def test_mogrify_inlines_arguments_as_literals(conn: pgwire.Connection) -> None:
    query = await pgwire.utils._mogrify(conn, "SELECT $1::int, $2::text[]", [7, ["a'b", None]])
    assert query == "SELECT '7'::int, '{a''b,NULL}'::text[]"


def test_install_as_asyncpg_gives_pgwires_own_modules_for_unlisted_submodules() -> None:
    import subprocess
    import sys

    code = (
        "import pgwire; pgwire.install_as_asyncpg()\n"
        "from asyncpg.exceptions._base import InterfaceError\n"
        "import asyncpg.record, pgwire.record\n"
        "assert InterfaceError is pgwire.InterfaceError\n"
        "assert asyncpg.record is pgwire.record\n"
        "assert pgwire.record.__spec__.name == 'pgwire.record'\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_transaction_module_has_asyncpgs_isolation_level_tables() -> None:
    import pgwire.transaction as transaction

    assert transaction.ISOLATION_LEVELS == {
        "read_committed",
        "read_uncommitted",
        "repeatable_read",
        "serializable",
    }
    assert transaction.ISOLATION_LEVELS_BY_VALUE["repeatable read"] == "repeatable_read"
