"""TLS against a real server: every sslmode, certificate checks, client certificates,
SCRAM-SHA-256-PLUS channel binding and ``require_auth``.

The module starts its own TempServer with ``ssl=on`` and certificates made by
:mod:`pgwire.testing.certs`.  Its ``pg_hba.conf`` admits ``certuser`` by client
certificate only and ``tlsonly`` over TLS only; everyone else logs in with SCRAM.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pgwire
from pgwire.testing import TempServer
from pgwire.testing.certs import CertSet, make_certs, openssl_path
from pgwire.testing.osuser import server_os_user

pytestmark = pytest.mark.skipif(
    openssl_path() is None, reason="the openssl program is needed to make test certificates"
)

HBA = [
    "local all all trust",
    "hostssl all certuser 127.0.0.1/32 cert",
    "hostnossl all tlsonly 127.0.0.1/32 reject",
    "hostssl all plainonly 127.0.0.1/32 reject",
    "host all all 127.0.0.1/32 scram-sha-256",
]


@pytest.fixture(scope="module")
def certs() -> Iterator[CertSet]:
    user = server_os_user()
    with tempfile.TemporaryDirectory(prefix="pgwire-certs-") as directory:
        Path(directory).chmod(0o755)
        yield make_certs(
            Path(directory) / "certs", client_cn="certuser", owner=(user.uid, user.gid)
        )


def _tls_server(certs: CertSet, cert: str, key: str) -> TempServer:
    return TempServer(
        auth="scram-sha-256",
        hba_lines=HBA,
        settings={
            "ssl": "on",
            "ssl_cert_file": cert,
            "ssl_key_file": key,
            "ssl_ca_file": certs.ca_crt,
        },
    )


@pytest.fixture(scope="module")
def tls_server(certs: CertSet) -> Iterator[TempServer]:
    with _tls_server(certs, certs.server_crt, certs.server_key) as server:
        server.psql(
            "CREATE ROLE certuser LOGIN; CREATE ROLE tlsonly LOGIN PASSWORD 'tls-pw';"
            "CREATE ROLE plainonly LOGIN PASSWORD 'plain-pw'"
        )
        yield server


@pytest.fixture(autouse=True)
def no_home_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep ~/.postgresql and PGSSL* of the machine out of the tests."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY", "PGCHANNELBINDING"):
        monkeypatch.delenv(var, raising=False)


def dsn(server: TempServer, host: str = "127.0.0.1", **options: str) -> str:
    parts = {
        "host": host,
        "port": str(server.port),
        "user": server.user,
        "password": server.password,
        "dbname": server.database,
        **options,
    }
    return " ".join(f"{key}={value}" for key, value in parts.items())


async def ssl_in_use(conn: Any) -> bool:
    return bool(await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))


async def connect_and_check_tls(dsn_text: str, **kwargs: Any) -> bool:
    conn = await pgwire.connect(dsn_text, **kwargs)
    try:
        return await ssl_in_use(conn)
    finally:
        await conn.close()


# -- sslmode ---------------------------------------------------------------------------------


async def test_sslmode_disable_connects_without_tls(tls_server: TempServer) -> None:
    assert await connect_and_check_tls(dsn(tls_server, sslmode="disable")) is False


async def test_sslmode_allow_stays_plain_when_the_server_accepts_it(
    tls_server: TempServer,
) -> None:
    assert await connect_and_check_tls(dsn(tls_server, sslmode="allow")) is False


async def test_sslmode_allow_retries_with_tls_when_plain_is_rejected(
    tls_server: TempServer,
) -> None:
    text = dsn(tls_server, sslmode="allow", user="tlsonly", password="tls-pw")
    assert await connect_and_check_tls(text) is True


async def test_sslmode_allow_chains_the_plain_rejection_when_tls_fails_too(
    tls_server: TempServer,
) -> None:
    text = dsn(tls_server, sslmode="allow", user="tlsonly", password="wrong")
    with pytest.raises(pgwire.InvalidPasswordError) as info:
        await pgwire.connect(text)
    assert isinstance(info.value.__cause__, pgwire.InvalidAuthorizationSpecificationError)
    assert "no encryption" in str(info.value.__cause__)


@pytest.mark.parametrize("options", [{"sslmode": "prefer"}, {}], ids=["prefer", "default"])
async def test_sslmode_prefer_retries_without_tls_when_the_tls_session_is_rejected(
    tls_server: TempServer, options: dict[str, str]
) -> None:
    text = dsn(tls_server, user="plainonly", password="plain-pw", **options)
    assert await connect_and_check_tls(text) is False


async def test_sslmode_prefer_chains_the_tls_rejection_when_plain_fails_too(
    tls_server: TempServer,
) -> None:
    text = dsn(tls_server, sslmode="prefer", user="plainonly", password="wrong")
    with pytest.raises(pgwire.InvalidPasswordError) as info:
        await pgwire.connect(text)
    assert isinstance(info.value.__cause__, pgwire.InvalidAuthorizationSpecificationError)
    assert "SSL encryption" in str(info.value.__cause__)


async def test_sslmode_require_does_not_retry_without_tls(tls_server: TempServer) -> None:
    text = dsn(tls_server, sslmode="require", user="plainonly", password="plain-pw")
    with pytest.raises(pgwire.InvalidAuthorizationSpecificationError):
        await pgwire.connect(text)


@pytest.mark.parametrize("mode", ["prefer", "require"])
async def test_sslmode_prefer_and_require_encrypt(tls_server: TempServer, mode: str) -> None:
    assert await connect_and_check_tls(dsn(tls_server, sslmode=mode)) is True


async def test_sslmode_prefer_falls_back_to_plain_on_a_server_without_tls(
    scram_server: TempServer,
) -> None:
    assert await connect_and_check_tls(dsn(scram_server, sslmode="prefer")) is False


async def test_sslmode_require_refused_by_the_server_names_host_and_mode(
    scram_server: TempServer,
) -> None:
    with pytest.raises(ConnectionError, match=rf"127\.0\.0\.1:{scram_server.port}.*require"):
        await pgwire.connect(dsn(scram_server, sslmode="require"))


async def test_verify_ca_accepts_a_certificate_from_the_trusted_ca(
    tls_server: TempServer, certs: CertSet
) -> None:
    text = dsn(tls_server, sslmode="verify-ca", sslrootcert=certs.ca_crt)
    assert await connect_and_check_tls(text) is True


async def test_verify_full_accepts_the_name_in_the_certificate(
    tls_server: TempServer, certs: CertSet
) -> None:
    text = dsn(tls_server, host="localhost", sslmode="verify-full", sslrootcert=certs.ca_crt)
    assert await connect_and_check_tls(text) is True


async def test_verify_full_rejects_a_host_name_the_certificate_does_not_name(
    tls_server: TempServer, certs: CertSet
) -> None:
    text = dsn(tls_server, sslmode="verify-full", sslrootcert=certs.ca_crt)
    with pytest.raises(ssl.SSLCertVerificationError, match=r"127\.0\.0\.1.*(?i:hostname|IP)"):
        await pgwire.connect(text)


async def test_verify_ca_rejects_an_untrusted_ca(tls_server: TempServer, certs: CertSet) -> None:
    text = dsn(tls_server, sslmode="verify-ca", sslrootcert=certs.other_ca_crt)
    with pytest.raises(ssl.SSLCertVerificationError, match="verify-ca.*certificate"):
        await pgwire.connect(text)


async def test_prefer_never_falls_back_when_require_is_asked_with_a_bad_ca(
    tls_server: TempServer, certs: CertSet
) -> None:
    # libpq: an existing root certificate file makes 'require' check the chain.
    text = dsn(tls_server, sslmode="require", sslrootcert=certs.other_ca_crt)
    with pytest.raises(ssl.SSLCertVerificationError):
        await pgwire.connect(text)


async def test_verify_full_without_a_root_certificate_file_is_a_configuration_error(
    tls_server: TempServer,
) -> None:
    with pytest.raises(pgwire.ClientConfigurationError, match="root certificate file"):
        await pgwire.connect(dsn(tls_server, sslmode="verify-full"))


async def test_an_expired_server_certificate_is_rejected(certs: CertSet) -> None:
    with _tls_server(certs, certs.expired_crt, certs.expired_key) as server:
        text = dsn(server, host="localhost", sslmode="verify-full", sslrootcert=certs.ca_crt)
        with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
            await pgwire.connect(text)


async def test_default_root_certificate_comes_from_home_dot_postgresql(
    tls_server: TempServer, certs: CertSet, tmp_path: Path
) -> None:
    (tmp_path / ".postgresql").mkdir()
    (tmp_path / ".postgresql" / "root.crt").write_bytes(Path(certs.ca_crt).read_bytes())
    text = dsn(tls_server, host="localhost", sslmode="verify-full")
    assert await connect_and_check_tls(text) is True


async def test_pgsslmode_and_pgsslrootcert_variables_apply(
    tls_server: TempServer, certs: CertSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGSSLMODE", "verify-ca")
    monkeypatch.setenv("PGSSLROOTCERT", certs.other_ca_crt)
    with pytest.raises(ssl.SSLCertVerificationError):
        await pgwire.connect(dsn(tls_server))


async def test_ssl_context_argument_is_used_as_given(
    tls_server: TempServer, certs: CertSet
) -> None:
    context = ssl.create_default_context(cafile=certs.ca_crt)
    assert await connect_and_check_tls(dsn(tls_server, host="localhost"), ssl=context) is True
    with pytest.raises(ssl.SSLCertVerificationError):
        await pgwire.connect(dsn(tls_server), ssl=context)


@pytest.mark.parametrize(("option", "expected"), [("min", "TLSv1.3"), ("max", "TLSv1.2")])
async def test_protocol_version_bounds_are_honoured(
    tls_server: TempServer, option: str, expected: str
) -> None:
    text = dsn(tls_server, sslmode="require", **{f"ssl_{option}_protocol_version": expected})
    conn = await pgwire.connect(text)
    try:
        query = "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        assert await conn.fetchval(query) == expected
    finally:
        await conn.close()


async def test_direct_tls_to_a_server_before_17_fails_quickly(tls_server: TempServer) -> None:
    if int(tls_server.version.split(".")[0]) >= 17:
        pytest.skip("the server supports direct TLS")
    with pytest.raises((OSError, ConnectionError)):
        await asyncio.wait_for(
            pgwire.connect(dsn(tls_server, sslmode="require"), direct_tls=True), 10
        )


async def test_direct_tls_connects_to_postgresql_17(tls_server: TempServer) -> None:
    if int(tls_server.version.split(".")[0]) < 17:
        pytest.skip(f"direct TLS needs PostgreSQL 17, the server is {tls_server.version}")
    text = dsn(tls_server, sslmode="require", sslnegotiation="direct")
    assert await connect_and_check_tls(text) is True


# -- client certificates ---------------------------------------------------------------------


async def test_client_certificate_authenticates_the_user(
    tls_server: TempServer, certs: CertSet
) -> None:
    text = dsn(
        tls_server,
        user="certuser",
        sslmode="verify-ca",
        sslrootcert=certs.ca_crt,
        sslcert=certs.client_crt,
        sslkey=certs.client_key,
    )
    conn = await pgwire.connect(text)
    try:
        assert await conn.fetchval("SELECT current_user") == "certuser"
    finally:
        await conn.close()


async def test_cert_auth_without_a_client_certificate_is_refused(tls_server: TempServer) -> None:
    with pytest.raises(pgwire.PostgresError):
        await pgwire.connect(dsn(tls_server, user="certuser", sslmode="require"))


async def test_a_missing_client_key_file_is_a_configuration_error(
    tls_server: TempServer, certs: CertSet
) -> None:
    text = dsn(tls_server, sslmode="require", sslcert=certs.client_crt, sslkey="/nonexistent.key")
    with pytest.raises(pgwire.ClientConfigurationError, match="nonexistent.key"):
        await pgwire.connect(text)


# -- channel binding and require_auth --------------------------------------------------------


async def test_scram_over_tls_uses_channel_binding(tls_server: TempServer) -> None:
    conn = await pgwire.connect(dsn(tls_server, sslmode="require"))
    try:
        assert conn._core.auth_method == "SCRAM-SHA-256-PLUS"
    finally:
        await conn.close()


async def test_channel_binding_disable_uses_plain_scram(tls_server: TempServer) -> None:
    conn = await pgwire.connect(dsn(tls_server, sslmode="require"), channel_binding="disable")
    try:
        assert conn._core.auth_method == "SCRAM-SHA-256"
    finally:
        await conn.close()


async def test_channel_binding_require_succeeds_over_tls(tls_server: TempServer) -> None:
    text = dsn(tls_server, sslmode="require", channel_binding="require")
    assert await connect_and_check_tls(text) is True


async def test_channel_binding_require_without_tls_fails_naming_the_host(
    scram_server: TempServer,
) -> None:
    with pytest.raises(pgwire.InterfaceError, match=rf"127\.0\.0\.1:{scram_server.port}.*binding"):
        await pgwire.connect(dsn(scram_server, sslmode="prefer", channel_binding="require"))


async def test_channel_binding_require_with_sslmode_disable_is_a_configuration_error() -> None:
    with pytest.raises(pgwire.ClientConfigurationError, match="channel_binding"):
        await pgwire.connect("host=127.0.0.1 sslmode=disable channel_binding=require")


async def test_require_auth_scram_refuses_an_md5_server_before_sending_the_password(
    md5_server: TempServer,
) -> None:
    text = dsn(md5_server, sslmode="disable", require_auth="scram-sha-256")
    with pytest.raises(pgwire.InterfaceError, match=rf"{md5_server.port}.*MD5") as info:
        await pgwire.connect(text)
    assert md5_server.password not in str(info.value)


async def test_require_auth_accepts_the_listed_method(md5_server: TempServer) -> None:
    conn = await pgwire.connect(dsn(md5_server, sslmode="disable"), require_auth="md5,password")
    await conn.close()


async def test_require_auth_negation_refuses_the_named_method(md5_server: TempServer) -> None:
    with pytest.raises(pgwire.InterfaceError, match="!md5"):
        await pgwire.connect(dsn(md5_server, sslmode="disable"), require_auth="!md5")


async def test_require_auth_rejects_unknown_methods() -> None:
    with pytest.raises(pgwire.ClientConfigurationError, match="kerberos"):
        await pgwire.connect("host=127.0.0.1", require_auth="kerberos")


async def test_passwords_stay_out_of_tls_errors(tls_server: TempServer, certs: CertSet) -> None:
    secret = "pw-that-must-not-leak"
    text = dsn(tls_server, password=secret, sslmode="verify-ca", sslrootcert=certs.other_ca_crt)
    with pytest.raises(ssl.SSLError) as info:
        await pgwire.connect(text)
    assert secret not in str(info.value)
    assert secret not in repr(info.value)


async def test_a_timed_out_query_over_tls_is_cancelled_and_the_connection_survives(
    tls_server: TempServer,
) -> None:
    # The CancelRequest travels on a plain side connection, as libpq's PQcancel sends it.
    conn = await pgwire.connect(dsn(tls_server, sslmode="require"))
    try:
        with pytest.raises(asyncio.TimeoutError):
            await conn.execute("SELECT pg_sleep(10)", timeout=0.2)
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


# -- TCP keepalives ----------------------------------------------------------------------------


async def test_keepalive_options_are_set_on_the_socket_under_tls(tls_server: TempServer) -> None:
    conn = await pgwire.connect(
        dsn(tls_server, sslmode="require", keepalives_idle="7", keepalives_count="4")
    )
    try:
        assert await ssl_in_use(conn)
        sock = conn._transport.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 7
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 4
    finally:
        await conn.close()
