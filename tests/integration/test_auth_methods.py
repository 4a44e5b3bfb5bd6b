"""Password authentication against servers that demand SCRAM-SHA-256, md5 or cleartext."""

from __future__ import annotations

from typing import Any

import pytest

import pgwire

AUTH_SERVERS = ["scram_server", "md5_server", "password_server"]
EXPECTED_METHOD = {
    "scram_server": "SCRAM-SHA-256",
    "md5_server": "md5",
    "password_server": "password",
}


@pytest.fixture(params=AUTH_SERVERS)
def auth_server(request: pytest.FixtureRequest) -> Any:
    server = request.getfixturevalue(request.param)
    server.fixture_name = request.param
    return server


def keywords(server: Any, **overrides: Any) -> dict[str, Any]:
    options = {
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "database": server.database,
    }
    options.update(overrides)
    return options


async def test_correct_password_logs_in(auth_server: Any) -> None:
    conn = await pgwire.connect(**keywords(auth_server))
    try:
        assert await conn.fetchval("SELECT current_user") == auth_server.user
        assert conn._core.auth_method == EXPECTED_METHOD[auth_server.fixture_name]
    finally:
        await conn.close()


async def test_password_in_the_dsn_logs_in(auth_server: Any) -> None:
    conn = await pgwire.connect(auth_server.dsn)
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


async def test_wrong_password_raises_invalid_password_error(auth_server: Any) -> None:
    with pytest.raises(pgwire.InvalidPasswordError):
        await pgwire.connect(**keywords(auth_server, password="wrong-password"))


async def test_missing_password_raises_the_servers_invalid_password_error(
    auth_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-passfile"))
    with pytest.raises(pgwire.InvalidPasswordError, match="password"):
        await pgwire.connect(**keywords(auth_server, password=None))


async def test_password_given_as_a_callable(auth_server: Any) -> None:
    calls: list[int] = []

    def password() -> str:
        calls.append(1)
        return str(auth_server.password)

    conn = await pgwire.connect(**keywords(auth_server, password=password))
    try:
        assert await conn.fetchval("SELECT 1") == 1
        assert calls == [1]
    finally:
        await conn.close()


async def test_password_given_as_a_coroutine_function(auth_server: Any) -> None:
    async def password() -> str:
        return str(auth_server.password)

    conn = await pgwire.connect(**keywords(auth_server, password=password))
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


async def test_wrong_password_from_a_callable_raises_invalid_password_error(
    scram_server: Any,
) -> None:
    with pytest.raises(pgwire.InvalidPasswordError):
        await pgwire.connect(**keywords(scram_server, password=lambda: "nope"))


async def test_scram_password_with_non_ascii_characters(scram_server: Any) -> None:
    admin = await pgwire.connect(scram_server.dsn)
    try:
        await admin.execute("DROP ROLE IF EXISTS scram_unicode")
        await admin.execute("CREATE ROLE scram_unicode LOGIN PASSWORD 'pässwörd ✓'")
        conn = await pgwire.connect(
            **keywords(scram_server, user="scram_unicode", password="pässwörd ✓")
        )
        assert await conn.fetchval("SELECT current_user") == "scram_unicode"
        await conn.close()
    finally:
        await admin.execute("DROP ROLE IF EXISTS scram_unicode")
        await admin.close()
