"""The examples of the asyncpg "deep dive" article that the core driver covers, run as written.

Only the import differs: ``import pgwire as asyncpg``. The code between the
``# --- example`` markers is copied verbatim from the article; the assertions
around it check that it did what the article says.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

import pgwire as asyncpg

USERS_SCHEMA = """
CREATE TEMP TABLE known_emails (email text PRIMARY KEY);
INSERT INTO known_emails
    SELECT 'alice@example.com'
    UNION ALL SELECT 'taken@example.com'
    UNION ALL SELECT 'x' || repeat('y', 100) || '@example.com'
    UNION ALL SELECT 'user_' || i || '@example.com' FROM generate_series(0, 9999) i;
CREATE TEMP TABLE users (
    id serial PRIMARY KEY,
    name text,
    email varchar(60) UNIQUE REFERENCES known_emails (email),
    created_at timestamptz NOT NULL DEFAULT now()
);
"""


@pytest.fixture
async def conn(conn: Any) -> Any:
    """The article's ``conn``, with a ``users`` table for its examples."""
    await conn.execute(USERS_SCHEMA)
    return conn


async def test_returning_clause(conn: Any) -> None:
    # --- example: Returning Clauses
    # fmt: off
    row = await conn.fetchrow(
        """
        INSERT INTO users (name, email)
        VALUES ($1, $2)
        RETURNING id, created_at
        """,
        'Alice', 'alice@example.com'
    )
    user_id = row['id']
    # fmt: on
    # --- end of example

    assert isinstance(user_id, int)
    assert row["created_at"] == await conn.fetchval(
        "SELECT created_at FROM users WHERE id = $1", user_id
    )


async def test_batch_operations_with_executemany(conn: Any) -> None:
    # --- example: Batch Operations with executemany
    # fmt: off
    data = [(f"user_{i}", f"user_{i}@example.com") for i in range(10000)]
    await conn.executemany(
        "INSERT INTO users (name, email) VALUES ($1, $2)",
        data
    )
    # fmt: on
    # --- end of example

    assert await conn.fetchval("SELECT count(*) FROM users") == 10000
    assert await conn.fetchval("SELECT name FROM users WHERE email = 'user_42@example.com'") == (
        "user_42"
    )


async def insert_user(conn: Any, email: Any) -> None:
    # --- example: Error Handling
    try:
        await conn.execute("INSERT INTO users (email) VALUES ($1)", email)
    except asyncpg.UniqueViolationError:
        # Duplicate email
        pass
    except asyncpg.ForeignKeyViolationError:
        # Referenced record doesn't exist
        pass
    except asyncpg.PostgresError as e:
        # Any PostgreSQL error
        print(f"PG error {e.sqlstate}: {e.message}")
    except asyncpg.InterfaceError:
        # Connection problem
        pass
    # --- end of example


async def test_error_handling_duplicate_email(conn: Any, capsys: Any) -> None:
    await conn.execute("INSERT INTO users (email) VALUES ('taken@example.com')")

    await insert_user(conn, "taken@example.com")

    assert capsys.readouterr().out == ""
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute("INSERT INTO users (email) VALUES ($1)", "taken@example.com")


async def test_error_handling_missing_referenced_record(conn: Any, capsys: Any) -> None:
    await insert_user(conn, "nobody@example.com")

    assert capsys.readouterr().out == ""
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await conn.execute("INSERT INTO users (email) VALUES ($1)", "nobody@example.com")


async def test_error_handling_other_postgres_error_prints_sqlstate_and_message(
    conn: Any, capsys: Any
) -> None:
    await insert_user(conn, "x" + "y" * 100 + "@example.com")

    assert capsys.readouterr().out == (
        "PG error 22001: value too long for type character varying(60)\n"
    )


async def test_error_handling_bad_argument_is_a_postgres_error_as_in_asyncpg(
    conn: Any, capsys: Any
) -> None:
    # asyncpg reports an argument it cannot encode as asyncpg.DataError, a PostgresError.
    await insert_user(conn, 42)

    assert capsys.readouterr().out.startswith(
        "PG error 22000: invalid input for query argument $1"
    )


async def test_error_handling_closed_connection_is_an_interface_error(
    dsn: str, capsys: Any
) -> None:
    closed = await asyncpg.connect(dsn)
    await closed.close()

    await insert_user(closed, "alice@example.com")

    assert capsys.readouterr().out == ""
    with pytest.raises(asyncpg.InterfaceError):
        await closed.execute("SELECT 1")


async def test_query_logging_with_log_min_duration_statement(conn: Any) -> None:
    # --- example: Query Logging
    async def setup_logging(conn):  # type: ignore[no-untyped-def]
        """Log all queries with timing."""

        async def log_query(query):  # type: ignore[no-untyped-def]
            logging.debug(f"Query: {query}")

        # asyncpg doesn't have built-in query logging
        # Use PostgreSQL's log_min_duration_statement instead
        await conn.execute("SET log_min_duration_statement = 100")  # Log queries > 100ms

    # --- end of example

    await setup_logging(conn)

    assert await conn.fetchval("SHOW log_min_duration_statement") == "100ms"
