"""How ``connect()``'s arguments, the DSN, the service file, the environment and
``.pgpass`` combine into ``ConnectParams``.

Every test runs with no ``PG*`` variable set, ``HOME`` in a temporary
directory and ``alice`` as the OS user.  The parity tests at the end run the
same inputs through asyncpg's resolver and compare where the semantics agree.
"""

from __future__ import annotations

import os
import ssl
import warnings
from pathlib import Path
from typing import Any

import pytest

from pgwire.connect_params import ConnectParams, parse_connect_arguments
from pgwire.exceptions import ClientConfigurationError

DEFAULT_SOCKETS = (
    "/run/postgresql/.s.PGSQL.5432",
    "/var/run/postgresql/.s.PGSQL.5432",
    "/tmp/.s.PGSQL.5432",
    "/private/tmp/.s.PGSQL.5432",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A home directory with no dotfiles and an environment with no PG* variables."""
    for name in list(os.environ):
        if name.startswith("PG"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, "alice")
    return home


def parse(**kwargs: Any) -> ConnectParams:
    return parse_connect_arguments(**kwargs)


def write_private(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


# --- defaults ---------------------------------------------------------------


def test_defaults_are_unix_sockets_then_localhost_port_5432() -> None:
    params = parse()
    assert params.addrs == (*DEFAULT_SOCKETS, ("localhost", 5432))
    assert params.hosts[-1] == "localhost"


def test_user_defaults_to_os_user_and_database_to_user() -> None:
    params = parse()
    assert (params.user, params.database) == ("alice", "alice")


def test_default_sslmode_is_prefer_and_target_session_attrs_any() -> None:
    params = parse()
    assert params.sslmode == "prefer"
    assert params.target_session_attrs == "any"
    assert params.direct_tls is False
    assert params.connect_timeout is None
    assert params.server_settings == {}


# --- URL DSN ----------------------------------------------------------------


def test_url_dsn_gives_user_password_host_port_database() -> None:
    params = parse(dsn="postgres://bob:secret@db.example:6543/shop")
    assert params.addrs == (("db.example", 6543),)
    assert (params.user, params.password, params.database) == ("bob", "secret", "shop")


def test_postgresql_scheme_is_accepted_too() -> None:
    assert parse(dsn="postgresql://h/d").addrs == (("h", 5432),)


def test_url_parts_are_percent_decoded() -> None:
    params = parse(dsn="postgres://b%40b:p%3Aw%2Fd@h/my%20db")
    assert (params.user, params.password, params.database) == ("b@b", "p:w/d", "my db")


def test_percent_encoded_slash_in_host_is_a_unix_socket_directory() -> None:
    assert parse(dsn="postgres://%2Fvar%2Frun/db").addrs == ("/var/run/.s.PGSQL.5432",)


def test_ipv6_host_goes_in_brackets() -> None:
    assert parse(dsn="postgres://[::1]:5433/db").addrs == (("::1", 5433),)


def test_multi_host_url_keeps_each_hosts_port_and_defaults_the_rest() -> None:
    params = parse(dsn="postgres://h1:5433,h2,[::1]:5434/db")
    assert params.addrs == (("h1", 5433), ("h2", 5432), ("::1", 5434))
    assert params.hosts == ("h1", "h2", "::1")


def test_query_port_applies_to_url_hosts_without_their_own_port() -> None:
    # libpq behaviour; asyncpg ignores ?port= once the URL names a host.
    params = parse(dsn="postgres://h1:5433,h2/db?port=6000")
    assert params.addrs == (("h1", 5433), ("h2", 6000))


def test_query_host_and_port_are_used_when_the_url_has_no_host() -> None:
    params = parse(dsn="postgres:///db?host=h1,h2&port=5433,5434")
    assert params.addrs == (("h1", 5433), ("h2", 5434))


def test_query_keys_for_user_password_and_database() -> None:
    params = parse(dsn="postgres://h?user=u&password=p&dbname=d")
    assert (params.user, params.password, params.database) == ("u", "p", "d")


def test_database_query_key_is_an_alias_of_dbname() -> None:
    assert parse(dsn="postgres://h?database=d").database == "d"


def test_unknown_query_keys_become_server_settings() -> None:
    params = parse(dsn="postgres://h/db?application_name=app&search_path=s1")
    assert params.server_settings == {"application_name": "app", "search_path": "s1"}


def test_ssl_query_keys_are_carried() -> None:
    params = parse(
        dsn="postgres://h/db?sslmode=verify-ca&sslrootcert=/ca.pem&sslcert=/c.pem"
        "&sslkey=/k.pem&sslcrl=/crl.pem&sslpassword=kp&ssl_min_protocol_version=TLSv1.3"
        "&ssl_max_protocol_version=TLSv1.3"
    )
    assert params.sslmode == "verify-ca"
    assert (params.sslrootcert, params.sslcert, params.sslkey, params.sslcrl) == (
        "/ca.pem",
        "/c.pem",
        "/k.pem",
        "/crl.pem",
    )
    assert params.sslpassword == "kp"
    assert params.ssl_min_protocol_version == params.ssl_max_protocol_version == "TLSv1.3"
    assert params.server_settings == {}


def test_invalid_scheme_is_rejected() -> None:
    with pytest.raises(ClientConfigurationError, match="'mysql'"):
        parse(dsn="mysql://h/db")


def test_unparsable_port_in_dsn_is_named() -> None:
    with pytest.raises(ClientConfigurationError, match="invalid port 'abc' in DSN"):
        parse(dsn="postgres://h:abc/db")


def test_error_messages_never_contain_the_password() -> None:
    with pytest.raises(ClientConfigurationError) as info:
        parse(dsn="postgres://u:s3cret@h:99999/db")
    assert "s3cret" not in str(info.value)


def test_string_that_is_neither_url_nor_keywords_is_rejected() -> None:
    with pytest.raises(ClientConfigurationError, match="invalid DSN"):
        parse(dsn="localhost")


# --- keyword/value DSN ------------------------------------------------------


def test_keyword_dsn_gives_the_same_parameters_as_a_url() -> None:
    params = parse(dsn="host=h port=5433 dbname=d user=u password=p")
    assert params.addrs == (("h", 5433),)
    assert (params.user, params.password, params.database) == ("u", "p", "d")


def test_keyword_dsn_single_quotes_and_backslash_escapes() -> None:
    assert parse(dsn=r"password='a b\' c\\d' user=u").password == "a b' c\\d"


def test_keyword_dsn_allows_spaces_around_equals_and_empty_quoted_values() -> None:
    params = parse(dsn="host = h   dbname= d application_name=''")
    assert params.addrs == (("h", 5432),)
    assert params.database == "d"
    assert params.server_settings == {}


def test_keyword_dsn_unquoted_backslash_escapes_next_character() -> None:
    assert parse(dsn=r"password=a\ b").password == "a b"


def test_keyword_dsn_multi_host_and_ports() -> None:
    params = parse(dsn="host=h1,/tmp port=5433,5434")
    assert params.addrs == (("h1", 5433), "/tmp/.s.PGSQL.5434")


def test_keyword_dsn_unknown_keys_become_server_settings() -> None:
    assert parse(dsn="host=h search_path=s").server_settings == {"search_path": "s"}


def test_keyword_dsn_missing_equals_is_rejected() -> None:
    with pytest.raises(ClientConfigurationError, match="missing \"=\" after 'dbname'"):
        parse(dsn="host=h dbname")


def test_keyword_dsn_unterminated_quote_is_rejected() -> None:
    with pytest.raises(ClientConfigurationError, match="unterminated"):
        parse(dsn="host=h password='abc")


# --- precedence -------------------------------------------------------------


def test_keyword_arguments_override_the_dsn() -> None:
    params = parse(
        dsn="postgres://u:p@h:5433/d", host="other", user="u2", password="p2", database="d2"
    )
    assert params.addrs == (("other", 5432),)
    assert (params.user, params.password, params.database) == ("u2", "p2", "d2")


def test_port_argument_overrides_ports_embedded_in_the_dsn() -> None:
    assert parse(dsn="postgres://h1:1,h2:2/db", port=7).addrs == (("h1", 7), ("h2", 7))


def test_server_settings_argument_overrides_dsn_settings() -> None:
    params = parse(
        dsn="postgres://h?search_path=a&work_mem=1MB", server_settings={"search_path": "b"}
    )
    assert params.server_settings == {"search_path": "b", "work_mem": "1MB"}


def test_dsn_overrides_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGUSER", "envuser")
    monkeypatch.setenv("PGHOST", "envhost")
    params = parse(dsn="postgres://dsnuser@dsnhost/db")
    assert params.user == "dsnuser"
    assert params.hosts == ("dsnhost",)


def test_environment_variables_fill_what_is_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "PGHOST": "eh1,eh2",
        "PGPORT": "5433",
        "PGUSER": "eu",
        "PGPASSWORD": "ep",
        "PGDATABASE": "ed",
        "PGSSLMODE": "require",
        "PGSSLROOTCERT": "/r.pem",
        "PGSSLCERT": "/c.pem",
        "PGSSLKEY": "/k.pem",
        "PGSSLCRL": "/crl.pem",
        "PGSSLMINPROTOCOLVERSION": "TLSv1.2",
        "PGSSLMAXPROTOCOLVERSION": "TLSv1.3",
        "PGTARGETSESSIONATTRS": "read-write",
        "PGCONNECT_TIMEOUT": "7",
        "PGAPPNAME": "envapp",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    params = parse()
    assert params.addrs == (("eh1", 5433), ("eh2", 5433))
    assert (params.user, params.password, params.database) == ("eu", "ep", "ed")
    assert params.sslmode == "require"
    assert (params.sslrootcert, params.sslcert, params.sslkey, params.sslcrl) == (
        "/r.pem",
        "/c.pem",
        "/k.pem",
        "/crl.pem",
    )
    assert (params.ssl_min_protocol_version, params.ssl_max_protocol_version) == (
        "TLSv1.2",
        "TLSv1.3",
    )
    assert params.target_session_attrs == "read-write"
    assert params.connect_timeout == 7.0
    assert params.server_settings == {"application_name": "envapp"}


def test_dsn_application_name_overrides_pgappname(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGAPPNAME", "envapp")
    assert parse(dsn="postgres://h?application_name=dsnapp").server_settings == {
        "application_name": "dsnapp"
    }


def test_fallback_application_name_applies_only_without_application_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dsn = "postgres://h?fallback_application_name=fb"
    assert parse(dsn=dsn).server_settings == {"application_name": "fb"}
    monkeypatch.setenv("PGAPPNAME", "envapp")
    assert parse(dsn=dsn).server_settings == {"application_name": "envapp"}


def test_empty_environment_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGHOST", "")
    monkeypatch.setenv("PGUSER", "")
    params = parse()
    assert params.addrs[-1] == ("localhost", 5432)
    assert params.user == "alice"


# --- hosts and ports --------------------------------------------------------


def test_host_directory_becomes_a_socket_path_with_the_port() -> None:
    assert parse(host="/var/run/pg", port=5433).addrs == ("/var/run/pg/.s.PGSQL.5433",)


def test_host_that_already_names_a_socket_file_is_kept() -> None:
    assert parse(host="/tmp/.s.PGSQL.7777").addrs == ("/tmp/.s.PGSQL.7777",)


def test_host_list_with_one_port_uses_it_for_every_host() -> None:
    assert parse(host=["a", "b"], port="6000").addrs == (("a", 6000), ("b", 6000))


def test_host_list_with_a_port_list_pairs_them() -> None:
    assert parse(host=("a", "b"), port=[1, "2"]).addrs == (("a", 1), ("b", 2))


def test_port_list_of_another_length_is_rejected() -> None:
    with pytest.raises(ClientConfigurationError, match="could not match 3 port numbers to 2"):
        parse(host=["a", "b"], port=[1, 2, 3])


def test_pgport_list_must_match_the_host_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPORT", "1,2")
    with pytest.raises(ClientConfigurationError, match="could not match 2 port numbers to 3"):
        parse(host=["a", "b", "c"])


@pytest.mark.parametrize("port", [-1, 65536, True, "x", 1.5])
def test_invalid_port_argument_is_rejected(port: object) -> None:
    with pytest.raises(ClientConfigurationError, match="invalid port"):
        parse(host="h", port=port)


def test_invalid_pgport_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPORT", "nope")
    with pytest.raises(ClientConfigurationError, match="invalid port 'nope' in environment"):
        parse(host="h")


def test_bare_ipv6_address_in_pghost_is_one_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGHOST", "::1")
    assert parse().addrs == (("::1", 5432),)


def test_host_argument_of_wrong_type_is_rejected() -> None:
    with pytest.raises(ClientConfigurationError, match="invalid host"):
        parse(host=42)


# --- ssl ----------------------------------------------------------------------


def test_ssl_true_means_verify_full_and_is_carried() -> None:
    params = parse(host="h", ssl=True)
    assert (params.sslmode, params.ssl) == ("verify-full", True)


def test_ssl_false_means_disable() -> None:
    params = parse(host="h", ssl=False)
    assert (params.sslmode, params.ssl) == ("disable", False)


def test_ssl_context_is_carried_with_mode_require() -> None:
    context = ssl.create_default_context()
    params = parse(host="h", ssl=context)
    assert params.ssl is context
    assert params.sslmode == "require"


def test_ssl_mode_string_argument_overrides_dsn_sslmode() -> None:
    params = parse(dsn="postgres://h?sslmode=require", ssl="allow")
    assert (params.sslmode, params.ssl) == ("allow", None)


def test_ssl_defaults_to_disable_when_every_host_is_a_unix_socket() -> None:
    assert parse(host="/tmp").sslmode == "disable"


def test_unknown_sslmode_is_rejected_with_its_value() -> None:
    with pytest.raises(ClientConfigurationError, match="invalid sslmode 'sometimes' in DSN"):
        parse(dsn="postgres://h?sslmode=sometimes")


def test_ssl_argument_of_wrong_type_is_rejected() -> None:
    with pytest.raises(ClientConfigurationError, match="invalid ssl"):
        parse(host="h", ssl=1)


def test_direct_tls_needs_at_least_require() -> None:
    with pytest.raises(ClientConfigurationError, match="direct TLS requires"):
        parse(host="h", direct_tls=True)
    assert parse(host="h", ssl="require", direct_tls=True).direct_tls is True


def test_sslnegotiation_direct_in_dsn_means_direct_tls() -> None:
    params = parse(dsn="postgres://h?sslmode=require&sslnegotiation=direct")
    assert (params.sslnegotiation, params.direct_tls) == ("direct", True)


def test_direct_tls_argument_overrides_sslnegotiation() -> None:
    params = parse(dsn="postgres://h?sslmode=require&sslnegotiation=direct", direct_tls=False)
    assert params.direct_tls is False


def test_unknown_tls_version_is_rejected() -> None:
    with pytest.raises(ClientConfigurationError, match="'SSLv3'"):
        parse(dsn="postgres://h?ssl_min_protocol_version=SSLv3")


# --- other settings ---------------------------------------------------------


def test_unknown_target_session_attrs_is_rejected() -> None:
    with pytest.raises(ClientConfigurationError, match="'master'"):
        parse(host="h", target_session_attrs="master")


def test_target_session_attrs_from_dsn() -> None:
    assert parse(dsn="postgres://h?target_session_attrs=standby").target_session_attrs == (
        "standby"
    )


@pytest.mark.parametrize("settings", [["a"], {"a": 1}, {1: "a"}])
def test_server_settings_must_be_a_dict_of_strings(settings: object) -> None:
    with pytest.raises(ClientConfigurationError, match="server_settings"):
        parse(host="h", server_settings=settings)


def test_timeout_argument_becomes_connect_timeout() -> None:
    assert parse(host="h", timeout=2).connect_timeout == 2.0


@pytest.mark.parametrize("timeout", [0, -1, True, "5"])
def test_timeout_must_be_a_positive_number(timeout: object) -> None:
    with pytest.raises(ClientConfigurationError, match="invalid timeout"):
        parse(host="h", timeout=timeout)


def test_connect_timeout_from_dsn_and_zero_means_no_timeout() -> None:
    assert parse(dsn="postgres://h?connect_timeout=10").connect_timeout == 10.0
    assert parse(dsn="postgres://h?connect_timeout=0").connect_timeout is None


def test_unparsable_connect_timeout_is_rejected() -> None:
    with pytest.raises(ClientConfigurationError, match="invalid connect_timeout 'soon'"):
        parse(dsn="postgres://h?connect_timeout=soon")


def test_krbsrvname_and_gsslib_are_carried_and_gsslib_validated() -> None:
    params = parse(dsn="postgres://h?krbsrvname=kpg&gsslib=sspi")
    assert (params.krbsrvname, params.gsslib) == ("kpg", "sspi")
    with pytest.raises(ClientConfigurationError, match="invalid gsslib 'x'"):
        parse(host="h", gsslib="x")


def test_callable_password_is_kept_as_is() -> None:
    def get_password() -> str:
        return "pw"

    params = parse(host="h", password=get_password)
    assert params.password is get_password
    assert params.password_for(("h", 5432)) is get_password


def test_repr_masks_passwords() -> None:
    params = parse(dsn="postgres://u:hunter2@h?sslpassword=keypass")
    text = repr(params)
    assert "hunter2" not in text and "keypass" not in text
    assert "password='***'" in text and "sslpassword='***'" in text


# --- service file -----------------------------------------------------------


SERVICES = """\
# comment
[other]
host=wrong

[prod]
host=svc-host
port=6432
dbname = svc-db
user=svc-user
sslmode=require
application_name=svc-app
keepalives=1
"""


def test_service_argument_reads_the_section_of_the_service_file(tmp_path: Path) -> None:
    path = tmp_path / "services.conf"
    path.write_text(SERVICES)
    params = parse(service="prod", servicefile=str(path))
    assert params.addrs == (("svc-host", 6432),)
    assert (params.user, params.database, params.sslmode) == ("svc-user", "svc-db", "require")
    assert params.server_settings == {"application_name": "svc-app"}


def test_service_named_in_the_dsn_uses_home_service_file(clean_env: Path) -> None:
    (clean_env / ".pg_service.conf").write_text(SERVICES)
    assert parse(dsn="postgres:///?service=prod").hosts == ("svc-host",)


def test_pgservice_and_pgservicefile_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "services.conf"
    path.write_text(SERVICES)
    monkeypatch.setenv("PGSERVICEFILE", str(path))
    monkeypatch.setenv("PGSERVICE", "prod")
    assert parse().user == "svc-user"


def test_dsn_overrides_service_which_overrides_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "services.conf"
    path.write_text(SERVICES)
    monkeypatch.setenv("PGUSER", "env-user")
    monkeypatch.setenv("PGPORT", "1111")
    params = parse(dsn="postgres://dsn-user@/?service=prod", servicefile=path)
    assert params.user == "dsn-user"
    assert params.addrs == (("svc-host", 6432),)


def test_system_service_file_in_pgsysconfdir_is_the_fallback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "pg_service.conf").write_text(SERVICES)
    monkeypatch.setenv("PGSYSCONFDIR", str(tmp_path))
    assert parse(service="prod").user == "svc-user"


def test_undefined_service_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "services.conf"
    path.write_text(SERVICES)
    with pytest.raises(ClientConfigurationError, match='service "nope" not found'):
        parse(service="nope", servicefile=str(path))


# --- password file ----------------------------------------------------------


def test_pgpass_supplies_the_password_for_matching_host(clean_env: Path) -> None:
    write_private(clean_env / ".pgpass", "other:*:*:*:wrong\nh:5432:db:u:right\n")
    params = parse(host="h", user="u", database="db")
    assert params.password is None
    assert params.password_for(("h", 5432)) == "right"


def test_pgpass_wildcards_match_anything(clean_env: Path) -> None:
    write_private(clean_env / ".pgpass", "*:*:*:*:any\n")
    params = parse(host="h", port=1234)
    assert params.password_for(("h", 1234)) == "any"


def test_pgpass_backslash_escapes_colon_and_backslash(clean_env: Path) -> None:
    write_private(clean_env / ".pgpass", "# comment\n*:*:*:we\\:ird:pa\\:ss\\\\word\n")
    params = parse(host="h", user="we:ird")
    assert params.password_for(("h", 5432)) == "pa:ss\\word"


def test_pgpass_escaped_star_matches_only_a_literal_star(clean_env: Path) -> None:
    write_private(clean_env / ".pgpass", "\\*:*:*:*:pw\n")
    assert parse(host="h").password_for(("h", 5432)) is None


def test_pgpass_unix_socket_matches_localhost(clean_env: Path) -> None:
    write_private(clean_env / ".pgpass", "localhost:5433:*:*:sockpw\n")
    params = parse(host="/tmp", port=5433)
    assert params.password_for(params.addrs[0]) == "sockpw"


def test_pgpass_lookup_is_per_host(clean_env: Path) -> None:
    write_private(clean_env / ".pgpass", "h1:*:*:*:one\nh2:*:*:*:two\n")
    params = parse(host=["h1", "h2"])
    assert [params.password_for(addr) for addr in params.addrs] == ["one", "two"]


def test_pgpass_is_not_used_when_a_password_is_given(clean_env: Path) -> None:
    write_private(clean_env / ".pgpass", "*:*:*:*:filepw\n")
    assert parse(host="h", password="given").password_for(("h", 5432)) == "given"


def test_pgpassfile_environment_variable_names_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write_private(tmp_path / "pw", "*:*:*:*:envfile\n")
    monkeypatch.setenv("PGPASSFILE", str(path))
    params = parse(host="h")
    assert params.passfile == str(path)
    assert params.password_for(("h", 5432)) == "envfile"


def test_passfile_in_dsn_names_the_file(tmp_path: Path) -> None:
    path = write_private(tmp_path / "pw", "*:*:*:*:dsnfile\n")
    params = parse(dsn=f"postgres://h?passfile={path}")
    assert params.password_for(("h", 5432)) == "dsnfile"


def test_pgpass_with_group_access_is_ignored_with_a_warning(clean_env: Path) -> None:
    path = write_private(clean_env / ".pgpass", "*:*:*:*:pw\n")
    path.chmod(0o640)
    with pytest.warns(UserWarning, match="group or world access"):
        params = parse(host="h")
    assert params.password_for(("h", 5432)) is None


def test_pgpass_that_is_not_a_file_is_ignored_with_a_warning(clean_env: Path) -> None:
    (clean_env / ".pgpass").mkdir()
    with pytest.warns(UserWarning, match="not a plain file"):
        params = parse(host="h")
    assert params.password_for(("h", 5432)) is None


def test_missing_pgpass_is_silently_ignored() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params = parse(host="h")
    assert params.password_for(("h", 5432)) is None


# --- parity with asyncpg ----------------------------------------------------


PARITY_CASES: list[dict[str, Any]] = [
    {},
    {"dsn": "postgres://u:p@h:5433/db"},
    {"dsn": "postgresql://u%40x:p%3Ass@h/d%2Fb"},
    {"dsn": "postgres://h1:5433,h2/db"},
    {"dsn": "postgres://[::1]:5433/db"},
    {"dsn": "postgres://%2Ftmp/db"},
    {"dsn": "postgres:///db?host=h&port=5433"},
    {"dsn": "postgres:///db?host=/tmp&port=5433"},
    {"dsn": "postgres://h/db?application_name=a&search_path=s"},
    {"dsn": "postgres://h?user=u&password=p&dbname=d"},
    {"dsn": "postgres://h?database=d&sslmode=require"},
    {"dsn": "postgres://h?target_session_attrs=read-only"},
    {"dsn": "postgres://u:p@h:5433/d", "host": "o", "user": "u2", "password": "p2"},
    {"dsn": "postgres://h1:1,h2:2/db", "port": 7},
    {"dsn": "postgres://h?search_path=a", "server_settings": {"search_path": "b"}},
    {"host": ["a", "b"], "port": [1, 2]},
    {"host": ["a", "/tmp"], "port": 6000},
    {"host": "/var/run/pg", "port": "5433"},
    {"host": "h", "ssl": "allow"},
    {"host": "h", "ssl": False},
    {"host": "/tmp"},
    {"env": {"PGHOST": "eh", "PGPORT": "5433", "PGUSER": "eu", "PGDATABASE": "ed"}},
    {"env": {"PGHOST": "h1,h2", "PGPORT": "1,2", "PGPASSWORD": "ep"}},
    {"env": {"PGSSLMODE": "disable", "PGTARGETSESSIONATTRS": "primary"}},
    {"dsn": "postgres://dsnuser@dsnhost/db", "env": {"PGUSER": "eu", "PGHOST": "eh"}},
]


def _asyncpg_view(case: dict[str, Any]) -> dict[str, Any]:
    connect_utils = pytest.importorskip("asyncpg.connect_utils")
    args = {
        name: case.get(name)
        for name in (
            "dsn",
            "host",
            "port",
            "user",
            "password",
            "passfile",
            "database",
            "ssl",
            "direct_tls",
            "server_settings",
            "target_session_attrs",
            "krbsrvname",
            "gsslib",
            "service",
            "servicefile",
        )
    }
    addrs, params = connect_utils._parse_connect_dsn_and_args(**args)
    return {
        "addrs": tuple(addrs),
        "user": params.user,
        "password": params.password,
        "database": params.database,
        "server_settings": params.server_settings or {},
        "sslmode": params.sslmode.name.replace("_", "-"),
        "target_session_attrs": str(params.target_session_attrs.value),
    }


def _pgwire_view(case: dict[str, Any]) -> dict[str, Any]:
    params = parse(**{k: v for k, v in case.items() if k != "env"})
    return {
        "addrs": params.addrs,
        "user": params.user,
        "password": params.password_for(params.addrs[0]),
        "database": params.database,
        "server_settings": params.server_settings,
        "sslmode": params.sslmode,
        "target_session_attrs": params.target_session_attrs,
    }


@pytest.mark.parametrize("case", PARITY_CASES, ids=repr)
def test_resolution_matches_asyncpg(case: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in case.get("env", {}).items():
        monkeypatch.setenv(name, value)
    expected = _asyncpg_view(case)
    assert _pgwire_view(case) == expected


def test_pgpass_lookup_matches_asyncpg(clean_env: Path) -> None:
    write_private(clean_env / ".pgpass", "h:5433:db:u:right\n*:*:*:*:fallback\n")
    case = {"dsn": "postgres://u@h:5433/db"}
    assert _pgwire_view(case) == _asyncpg_view(case)


@pytest.mark.parametrize("password", ["pa#ss", "#", "a?b", "x:y#z?w"])
def test_raw_special_characters_in_uri_password_are_taken_literally_as_psql(
    password: str,
) -> None:
    params = parse(dsn=f"postgresql://alice:{password}@db.example:5433/shop?sslmode=disable")
    assert params.password == password
    assert params.user == "alice"
    assert params.addrs == (("db.example", 5433),)
    assert params.database == "shop"


@pytest.mark.parametrize("mode", ["verify-ca", "verify-full"])
def test_missing_default_root_certificate_message_names_the_path_looked_for(
    clean_env: Path, mode: str
) -> None:
    from pgwire import tls

    expected = str(clean_env / ".postgresql" / "root.crt")
    with pytest.raises(ClientConfigurationError, match=f"'{expected}' does not exist"):
        tls.plan_tls(parse(dsn=f"postgresql://db.example/shop?sslmode={mode}"))


def test_missing_given_root_certificate_message_names_the_path(tmp_path: Path) -> None:
    from pgwire import tls

    missing = tmp_path / "ca.pem"
    with pytest.raises(ClientConfigurationError, match=f"'{missing}' does not exist"):
        tls.plan_tls(
            parse(dsn=f"postgresql://db.example/shop?sslmode=verify-ca&sslrootcert={missing}")
        )


def test_missing_root_certificate_without_home_says_what_was_looked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pgwire import tls

    monkeypatch.setattr(tls, "_dot_postgresql", lambda name: None)
    with pytest.raises(ClientConfigurationError, match="sslrootcert is not set") as info:
        tls.plan_tls(parse(dsn="postgresql://db.example/shop?sslmode=verify-full"))
    assert "'None'" not in str(info.value)
