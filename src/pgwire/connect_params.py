"""Resolution of connection parameters, the way asyncpg and libpq do it.

``parse_connect_arguments`` turns what the user passed to ``connect()`` into one
``ConnectParams``.  It does no network I/O; it reads only the environment, the
connection service file and the password file.

Precedence, highest first, for every setting:

1. keyword arguments of ``connect()``;
2. the DSN, either a URL (``postgres://`` / ``postgresql://``) or a libpq
   keyword/value string (``host=h port=5432 dbname=d``);
3. the connection service file section named by ``service`` (argument, DSN or
   ``PGSERVICE``);
4. the ``PG*`` environment variables;
5. defaults: unix sockets in the usual directories and then ``localhost``,
   port 5432, the OS user, a database named like the user.

DSN keys that are not connection parameters become server settings (GUCs sent
in the startup packet), as in asyncpg.  Empty values count as "not given".

Deliberate differences from asyncpg, all towards libpq:

* a ``?port=`` query parameter applies to the URL's hosts that carry no port of
  their own (asyncpg ignores it whenever the URL names a host);
* the service file is honoured without a DSN and ``PGSERVICE`` is honoured; a
  service that no file defines is an error;
* ``.pgpass`` is consulted per host (``ConnectParams.password_for``), and its
  backslash escapes are decoded;
* a bare IPv6 address (``::1``) in ``host=``/``PGHOST`` is one host, not host
  and port;
* bad values raise ``ClientConfigurationError`` naming the value (asyncpg lets
  some ``ValueError``s from ``int()`` escape).
"""

from __future__ import annotations

import getpass
import os
import re
import ssl as ssl_module
import stat
import sys
import urllib.parse
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

from pgwire.exceptions import ClientConfigurationError

__all__ = [
    "DEFAULT_PORT",
    "SSL_MODES",
    "TARGET_SESSION_ATTRS",
    "ConnectParams",
    "parse_connect_arguments",
]

Password: TypeAlias = "str | Callable[[], str | Awaitable[str]]"
Addr: TypeAlias = "tuple[str, int] | str"

DEFAULT_PORT = 5432
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
SSL_NEGOTIATIONS = ("postgres", "direct")
TARGET_SESSION_ATTRS = (
    "any",
    "primary",
    "standby",
    "prefer-standby",
    "read-write",
    "read-only",
)
TLS_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
GSS_LIBS = ("gssapi", "sspi")
CHANNEL_BINDINGS = ("disable", "prefer", "require")
LOAD_BALANCE_HOSTS = ("disable", "random")
AUTH_METHOD_NAMES = ("password", "md5", "gss", "sspi", "scram-sha-256", "none")

_WINDOWS = sys.platform == "win32"
_DEFAULT_HOSTS: tuple[str, ...] = (
    ("localhost",)
    if _WINDOWS
    else ("/run/postgresql", "/var/run/postgresql", "/tmp", "/private/tmp", "localhost")
)
_SOCKET_PREFIX = ".s.PGSQL."

# Keys of a DSN or service file that configure the client rather than the
# server.  'database' is asyncpg's alias of 'dbname'.
_CLIENT_KEYS = frozenset(
    {
        "port",
        "dbname",
        "user",
        "password",
        "passfile",
        "service",
        "servicefile",
        "sslmode",
        "sslcert",
        "sslkey",
        "sslrootcert",
        "sslcrl",
        "sslpassword",
        "sslnegotiation",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "target_session_attrs",
        "load_balance_hosts",
        "channel_binding",
        "require_auth",
        "krbsrvname",
        "gsslib",
        "connect_timeout",
        "fallback_application_name",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
    }
)
#: libpq's TCP keepalive options (none of them has an environment variable in libpq).
KEEPALIVE_KEYS = (
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
)
# libpq keywords a service file may hold that are really server settings.
_SERVICE_SETTING_KEYS = frozenset({"application_name", "options"})

_ENV_VARS = {
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "dbname": "PGDATABASE",
    "sslmode": "PGSSLMODE",
    "sslnegotiation": "PGSSLNEGOTIATION",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcrl": "PGSSLCRL",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
    "channel_binding": "PGCHANNELBINDING",
    "require_auth": "PGREQUIREAUTH",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "krbsrvname": "PGKRBSRVNAME",
    "gsslib": "PGGSSLIB",
}

_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
_BRACKETED_HOST = re.compile(r"\[([^\]]+)\](?::(.*))?")


@dataclass(frozen=True)
class _PassEntry:
    """One line of a password file; ``None`` patterns are ``*`` wildcards."""

    host: str | None
    port: str | None
    database: str | None
    user: str | None
    password: str

    def matches(self, host: str, port: str, database: str, user: str) -> bool:
        return all(
            pattern is None or pattern == value
            for pattern, value in (
                (self.host, host),
                (self.port, port),
                (self.database, database),
                (self.user, user),
            )
        )


@dataclass(frozen=True)
class ConnectParams:
    """Everything needed to open a connection, fully resolved.

    ``addrs[i]`` is the address to try for ``hosts[i]``, in order: a
    ``(host, port)`` pair for TCP or the path of a unix socket.  ``password``
    is what the user, the DSN, the service file or ``PGPASSWORD`` gave (a
    callable is kept as is); use ``password_for(addr)``, which falls back to
    the password file, to get the password for one address.

    ``ssl`` is the user's ``ssl`` argument when it was a ``bool`` or an
    ``SSLContext``, else ``None``; ``sslmode`` is always resolved.
    ``connect_timeout`` is ``None`` when no timeout applies.
    The keepalive settings are libpq's: ``keepalives`` (on unless turned
    off), ``keepalives_idle`` and ``keepalives_interval`` in seconds,
    ``keepalives_count`` probes, ``tcp_user_timeout`` in milliseconds; ``None``
    leaves the operating system's default (see :mod:`pgwire.keepalive`).
    ``passfile_entries`` holds the parsed password file (read only when no
    password was given); it is left out of ``repr()``.
    """

    addrs: tuple[Addr, ...]
    hosts: tuple[str, ...]
    user: str
    password: Password | None
    database: str
    server_settings: dict[str, str]
    sslmode: str = "prefer"
    ssl: object | None = None
    sslrootcert: str | None = None
    sslcert: str | None = None
    sslkey: str | None = None
    sslcrl: str | None = None
    sslpassword: str | None = None
    ssl_min_protocol_version: str | None = None
    ssl_max_protocol_version: str | None = None
    sslnegotiation: str | None = "postgres"
    direct_tls: bool = False
    target_session_attrs: str = "any"
    load_balance_hosts: str = "disable"
    channel_binding: str = "prefer"
    require_auth: str | None = None
    connect_timeout: float | None = None
    passfile: str | None = None
    krbsrvname: str | None = None
    gsslib: str = "gssapi"
    keepalives: bool = True
    keepalives_idle: int | None = None
    keepalives_interval: int | None = None
    keepalives_count: int | None = None
    tcp_user_timeout: int | None = None
    passfile_entries: tuple[_PassEntry, ...] = field(default=(), compare=False)

    def __repr__(self) -> str:
        shown = []
        for name in self.__dataclass_fields__:
            if name == "passfile_entries":
                continue
            value = getattr(self, name)
            if name in ("password", "sslpassword") and value is not None:
                shown.append(f"{name}='***'")
            else:
                shown.append(f"{name}={value!r}")
        return f"ConnectParams({', '.join(shown)})"

    def password_for(self, addr: Addr) -> Password | None:
        """The password to use for ``addr``, one of ``self.addrs``.

        The given password if there was one; else the first password-file line
        matching the address, the database and the user (a unix socket counts
        as host ``localhost``, as in libpq); else ``None``.
        """
        if self.password is not None:
            return self.password
        if isinstance(addr, str):
            host = "localhost"
            port = addr.rpartition(_SOCKET_PREFIX)[2]
        else:
            host, port = addr[0], str(addr[1])
        for entry in self.passfile_entries:
            if entry.matches(host, port, self.database, self.user):
                return entry.password
        return None


# --------------------------------------------------------------------------
# Sources of settings other than keyword arguments

HostSpec: TypeAlias = "tuple[str, int | None]"


@dataclass
class _Source:
    """Settings from one origin: libpq keywords, hosts, server settings."""

    origin: str
    values: dict[str, str] = field(default_factory=dict)
    hosts: list[HostSpec] | None = None
    settings: dict[str, str] = field(default_factory=dict)


def _config_error(message: str) -> ClientConfigurationError:
    return ClientConfigurationError(message)


def _parse_port(text: str, origin: str | None) -> int:
    where = f" in {origin}" if origin else ""
    stripped = text.strip()
    if not stripped.isdigit() or not 0 < int(stripped) < 65536:
        raise _config_error(f"invalid port {text!r}{where}")
    return int(stripped)


def _parse_port_list(text: str, origin: str | None) -> list[int]:
    return [_parse_port(part, origin) for part in text.split(",")]


def _parse_hostspec(item: str, origin: str, *, url: bool) -> HostSpec:
    """Split one ``host[:port]`` element; ``url`` means percent-encoded."""
    port_text: str | None
    if item.startswith("["):
        match = _BRACKETED_HOST.fullmatch(item)
        if match is None:
            raise _config_error(f"invalid IPv6 address {item!r} in {origin}")
        host, port_text = match.group(1), match.group(2)
    elif not url and (item.startswith("/") or item.count(":") > 1):
        host, port_text = item, None
    else:
        host, sep, port_text = item.partition(":")
        if not sep:
            port_text = None
    if url:
        host = urllib.parse.unquote(host)
        if port_text is not None:
            port_text = urllib.parse.unquote(port_text)
    port = _parse_port(port_text, origin) if port_text else None
    return host, port


def _parse_hostlist(text: str, origin: str, *, url: bool = False) -> list[HostSpec]:
    specs = [_parse_hostspec(item, origin, url=url) for item in text.split(",")]
    for host, _ in specs:
        if not host:
            raise _config_error(f"empty host name in {origin}")
    return specs


def _source_from_mapping(
    items: Mapping[str, str], origin: str, *, unknown_as_settings: bool
) -> _Source:
    """Sort libpq keywords into connection values, hosts and server settings."""
    source = _Source(origin)
    for key, value in items.items():
        if not value:
            continue
        if key == "host":
            source.hosts = _parse_hostlist(value, origin)
        elif key == "database":
            source.values.setdefault("dbname", value)
        elif key == "dbname":
            source.values["dbname"] = value
        elif key in _CLIENT_KEYS:
            source.values[key] = value
        elif unknown_as_settings or key in _SERVICE_SETTING_KEYS:
            source.settings[key] = value
    return source


def _parse_keyword_dsn(dsn: str) -> dict[str, str]:
    """Parse libpq's ``key=value key='quoted \\' value'`` form."""
    result: dict[str, str] = {}
    pos, end = 0, len(dsn)
    while True:
        while pos < end and dsn[pos].isspace():
            pos += 1
        if pos >= end:
            return result
        start = pos
        while pos < end and dsn[pos] != "=" and not dsn[pos].isspace():
            pos += 1
        key = dsn[start:pos]
        while pos < end and dsn[pos].isspace():
            pos += 1
        if pos >= end or dsn[pos] != "=":
            raise _config_error(f'invalid DSN: missing "=" after {key!r}')
        pos += 1
        while pos < end and dsn[pos].isspace():
            pos += 1
        chars: list[str] = []
        if pos < end and dsn[pos] == "'":
            pos += 1
            while True:
                if pos >= end:
                    raise _config_error(f"invalid DSN: unterminated quoted value of {key!r}")
                char = dsn[pos]
                if char == "\\" and pos + 1 < end:
                    chars.append(dsn[pos + 1])
                    pos += 2
                elif char == "'":
                    pos += 1
                    break
                else:
                    chars.append(char)
                    pos += 1
        else:
            while pos < end and not dsn[pos].isspace():
                if dsn[pos] == "\\" and pos + 1 < end:
                    pos += 1
                chars.append(dsn[pos])
                pos += 1
        result[key] = "".join(chars)


def _parse_url_dsn(dsn: str, scheme: str) -> _Source:
    if scheme not in ("postgresql", "postgres"):
        raise _config_error(
            'invalid DSN: scheme is expected to be either "postgresql" or "postgres", '
            f"got {scheme!r}"
        )
    rest = dsn[len(scheme) + 3 :]
    # libpq's URI rules, not RFC 3986's: user information runs to the first '@' met
    # before any '/', so '#', '?' and ':' in a password are taken literally (as psql
    # does); there is no fragment.
    auth_end = min((i for i in (rest.find("@"), rest.find("/")) if i >= 0), default=-1)
    if auth_end >= 0 and rest[auth_end] == "@":
        auth, rest = rest[:auth_end], rest[auth_end + 1 :]
    else:
        auth = ""
    netloc_end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    hostspec, rest = rest[:netloc_end], rest[netloc_end:]
    path, _, query = rest.partition("?")

    try:
        pairs = urllib.parse.parse_qsl(query, strict_parsing=True) if query else []
    except ValueError:
        raise _config_error("invalid DSN: malformed query string") from None
    source = _source_from_mapping(dict(pairs), "DSN", unknown_as_settings=True)

    user, _, password = auth.partition(":")
    netloc_values = {
        "user": urllib.parse.unquote(user),
        "password": urllib.parse.unquote(password),
        "dbname": urllib.parse.unquote(path[1:]),
    }
    for key, value in netloc_values.items():
        if value:
            source.values[key] = value

    if hostspec:
        specs = [_parse_hostspec(item, "DSN", url=True) for item in hostspec.split(",")]
        if len(specs) == 1 and not specs[0][0]:
            # 'postgres://:5433/db': a port for the default host.
            if specs[0][1] is not None:
                source.values["port"] = str(specs[0][1])
        elif any(not host for host, _ in specs):
            raise _config_error("empty host name in DSN")
        else:
            source.hosts = specs
    return source


def _parse_dsn(dsn: str) -> _Source:
    match = _URL_SCHEME.match(dsn)
    if match is not None:
        return _parse_url_dsn(dsn, match.group(1))
    if "=" in dsn:
        return _source_from_mapping(_parse_keyword_dsn(dsn), "DSN", unknown_as_settings=True)
    raise _config_error(
        "invalid DSN: expected a postgresql:// URL or key=value pairs, "
        f"got a string of {len(dsn)} characters without '=' or '://'"
    )


def _home() -> Path | None:
    if _WINDOWS:
        appdata = os.environ.get("APPDATA")
        return Path(appdata) / "postgresql" if appdata else None
    try:
        return Path.home()
    except (RuntimeError, KeyError):
        return None


def _read_service_section(path: Path, service: str) -> dict[str, str] | None:
    """The ``[service]`` section of a service file, or ``None`` if absent."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return None
    found = False
    section: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if found:
                break
            found = line[1:].partition("]")[0] == service
            continue
        if found:
            key, sep, value = line.partition("=")
            if not sep:
                raise _config_error(f'syntax error in service file "{path}", line {lineno}')
            section[key.strip()] = value.strip()
    return section if found else None


def _service_source(service: str, servicefile: str | None, env: Mapping[str, str]) -> _Source:
    candidates: list[Path] = []
    user_file = servicefile or env.get("PGSERVICEFILE")
    if user_file:
        candidates.append(Path(user_file))
    else:
        home = _home()
        if home is not None:
            candidates.append(home / ("pg_service.conf" if _WINDOWS else ".pg_service.conf"))
    sysconfdir = env.get("PGSYSCONFDIR")
    if sysconfdir:
        candidates.append(Path(sysconfdir) / "pg_service.conf")
    for path in candidates:
        section = _read_service_section(path, service)
        if section is not None:
            return _source_from_mapping(section, "service file", unknown_as_settings=False)
    raise _config_error(f'definition of service "{service}" not found')


def _env_source(env: Mapping[str, str]) -> _Source:
    source = _Source("environment")
    for key, var in _ENV_VARS.items():
        value = env.get(var)
        if value:
            source.values[key] = value
    pghost = env.get("PGHOST")
    if pghost:
        source.hosts = _parse_hostlist(pghost, "PGHOST")
    appname = env.get("PGAPPNAME")
    if appname:
        source.settings["application_name"] = appname
    return source


# --------------------------------------------------------------------------
# Password file


def _split_passfile_line(line: str) -> list[str | None]:
    """Split on unescaped colons; decode escapes; a bare ``*`` becomes None."""
    fields: list[str | None] = []
    chars: list[str] = []
    escaped_any = False
    pos = 0
    while pos < len(line):
        char = line[pos]
        if char == "\\" and pos + 1 < len(line):
            chars.append(line[pos + 1])
            escaped_any = True
            pos += 2
            continue
        if char == ":":
            fields.append(_passfile_field(chars, escaped_any))
            chars, escaped_any = [], False
        else:
            chars.append(char)
        pos += 1
    fields.append(_passfile_field(chars, escaped_any))
    return fields


def _passfile_field(chars: list[str], escaped: bool) -> str | None:
    text = "".join(chars)
    return None if text == "*" and not escaped else text


def _read_passfile(path: Path) -> tuple[_PassEntry, ...]:
    """Entries of a libpq password file; unsafe files are ignored with a warning."""
    try:
        st = path.stat()
    except OSError:
        return ()
    if not stat.S_ISREG(st.st_mode):
        warnings.warn(f"password file {str(path)!r} is not a plain file", UserWarning, 3)
        return ()
    if not _WINDOWS and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.warn(
            f"password file {str(path)!r} has group or world access; "
            "permissions should be u=rw (0600) or less",
            UserWarning,
            3,
        )
        return ()
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return ()
    entries = []
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if not line or line.startswith("#"):
            continue
        fields = _split_passfile_line(line)
        if len(fields) < 5:
            continue
        host, port, database, user, password = fields[:5]
        entries.append(_PassEntry(host, port, database, user, password or ""))
    return tuple(entries)


# --------------------------------------------------------------------------
# Resolution


class _Resolver:
    """Looks a libpq keyword up in the sources, highest precedence first."""

    def __init__(self, sources: Sequence[_Source]) -> None:
        self.sources = sources

    def get(self, key: str) -> tuple[str, str] | None:
        """``(value, origin)`` of the first source that sets ``key``."""
        for source in self.sources:
            value = source.values.get(key)
            if value:
                return value, source.origin
        return None

    def value(self, key: str) -> str | None:
        found = self.get(key)
        return found[0] if found else None


def _choose(name: str, value: str, choices: Sequence[str], origin: str | None) -> str:
    where = f" in {origin}" if origin else ""
    if value not in choices:
        raise _config_error(
            f"invalid {name} {value!r}{where}: expected one of {', '.join(choices)}"
        )
    return value


def _resolve_hosts(host: object, resolver: _Resolver) -> list[HostSpec]:
    """The hosts to try, each with the port it names itself (or ``None``)."""
    if host:
        given = [host] if isinstance(host, str) else host
        if not isinstance(given, (list, tuple)) or not all(
            isinstance(h, str) and h for h in given
        ):
            raise _config_error(
                f"invalid host {host!r}: expected a non-empty str or a sequence of them"
            )
        return [(h, None) for h in given]
    for source in resolver.sources:
        if source.hosts:
            return source.hosts
    return [(h, None) for h in _DEFAULT_HOSTS]


def _port_argument(port: object) -> list[int]:
    items = list(port) if isinstance(port, (list, tuple)) else [port]
    result = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            if not 0 < item < 65536:
                raise _config_error(f"invalid port {item!r}")
            result.append(item)
        elif isinstance(item, str):
            result.extend(_parse_port_list(item, None))
        else:
            raise _config_error(f"invalid port {item!r}")
    return result


def _resolve_ports(hosts: list[HostSpec], port: object, resolver: _Resolver) -> list[int]:
    if port:
        defaults = _port_argument(port)
        own_ports_apply = False
    else:
        found = resolver.get("port")
        defaults = _parse_port_list(*found) if found else [DEFAULT_PORT]
        own_ports_apply = True
    if len(defaults) == 1:
        defaults = defaults * len(hosts)
    elif len(defaults) != len(hosts):
        raise _config_error(f"could not match {len(defaults)} port numbers to {len(hosts)} hosts")
    return [
        own if own is not None and own_ports_apply else default
        for (_, own), default in zip(hosts, defaults, strict=True)
    ]


def _socket_path(directory: str, port: int) -> str:
    if _SOCKET_PREFIX in directory:
        return directory
    return os.path.join(directory, f"{_SOCKET_PREFIX}{port}")


def _resolve_timeout(timeout: object, resolver: _Resolver) -> float | None:
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise _config_error(f"invalid timeout {timeout!r}: expected a number greater than 0")
        return float(timeout)
    found = resolver.get("connect_timeout")
    if found is None:
        return None
    text, origin = found
    try:
        seconds = float(text)
    except ValueError:
        raise _config_error(f"invalid connect_timeout {text!r} in {origin}") from None
    # libpq: zero or a negative value means to wait indefinitely.
    return seconds if seconds > 0 else None


def _resolve_ssl(ssl: object, resolver: _Resolver, have_tcp: bool) -> tuple[str, object | None]:
    """``(sslmode, ssl)`` from the ``ssl`` argument or sslmode settings."""
    if ssl is None:
        found = resolver.get("sslmode")
        if found is None:
            return ("prefer" if have_tcp else "disable"), None
        mode, origin = found
        return _choose("sslmode", mode.replace("_", "-"), SSL_MODES, origin), None
    if ssl is True:
        return "verify-full", True
    if ssl is False:
        return "disable", False
    if isinstance(ssl, str):
        return _choose("sslmode", ssl.replace("_", "-"), SSL_MODES, None), None
    if isinstance(ssl, ssl_module.SSLContext):
        return "require", ssl
    raise _config_error(
        f"invalid ssl {ssl!r}: expected None, a bool, an ssl.SSLContext or an sslmode string"
    )


def _setting(
    name: str, value: object, choices: Sequence[str], resolver: _Resolver, default: str
) -> str:
    """A keyword argument (when not None) or else the resolved libpq setting."""
    if value is not None:
        return _choose(name, str(value), choices, None)
    found = resolver.get(name)
    return _choose(name, found[0], choices, found[1]) if found else default


def _check_require_auth(value: str, origin: str | None) -> str:
    """Validate libpq's ``require_auth`` list: all methods, or all negated (``!md5``)."""
    where = f" in {origin}" if origin else ""
    items = [item.strip() for item in value.split(",")]
    negated = {item.startswith("!") for item in items}
    if len(negated) > 1:
        raise _config_error(
            f"invalid require_auth {value!r}{where}: negative and positive methods cannot be mixed"
        )
    for item in items:
        if item.lstrip("!") not in AUTH_METHOD_NAMES:
            raise _config_error(
                f"invalid require_auth method {item!r}{where}: expected one of "
                + ", ".join(AUTH_METHOD_NAMES)
            )
    return ",".join(items)


def _resolve_server_settings(server_settings: object, resolver: _Resolver) -> dict[str, str]:
    if server_settings is not None and (
        not isinstance(server_settings, dict)
        or not all(isinstance(k, str) for k in server_settings)
        or not all(isinstance(v, str) for v in server_settings.values())
    ):
        raise _config_error(
            f"invalid server_settings {server_settings!r}: expected None or a dict[str, str]"
        )
    merged: dict[str, str] = {}
    for source in reversed(resolver.sources):
        merged.update(source.settings)
    if server_settings:
        merged.update(server_settings)
    encoding = merged.get("client_encoding")
    if encoding is not None and encoding.strip().upper().replace("-", "") not in (
        "UTF8",
        "UNICODE",
    ):
        raise _config_error(
            f"client_encoding {encoding!r} is not supported: pgwire exchanges text with the "
            "server in UTF8 only (the database itself may use any encoding; the server "
            "converts)"
        )
    fallback = resolver.value("fallback_application_name")
    if fallback and "application_name" not in merged:
        merged["application_name"] = fallback
    return merged


def _resolve_keepalive(name: str, value: object, resolver: _Resolver) -> int | None:
    """A keepalive option as libpq reads it: an integer; 0 means the system default."""
    origin = None
    if value is None:
        found = resolver.get(name)
        if found is None:
            return None
        value, origin = found
    where = f" in {origin}" if origin else ""
    if name == "keepalives" and isinstance(value, bool):
        return int(value)
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            number = None
    else:
        number = None
    if number is None or number < 0:
        raise _config_error(
            f"invalid {name} {value!r}{where}: expected an integer greater than or equal to 0"
        )
    if number > _SOCKOPT_MAX and name != "keepalives":
        # The socket option is a C int (setsockopt(2)); refuse here, before connecting.
        raise _config_error(
            f"invalid {name} {value!r}{where}: expected an integer from 0 to {_SOCKOPT_MAX}"
        )
    return number


#: The largest value a keepalive socket option (a C ``int``) can hold.
_SOCKOPT_MAX = 2**31 - 1


def _optional_str(name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)  # type: ignore[no-any-return]
    raise _config_error(f"invalid {name} {value!r}: expected a str")


def parse_connect_arguments(
    *,
    dsn: str | None = None,
    host: str | Sequence[str] | None = None,
    port: int | str | Sequence[int | str] | None = None,
    user: str | None = None,
    password: Password | None = None,
    passfile: str | os.PathLike[str] | None = None,
    database: str | None = None,
    ssl: object | None = None,
    direct_tls: bool | None = None,
    server_settings: dict[str, str] | None = None,
    target_session_attrs: str | None = None,
    timeout: float | None = None,
    service: str | None = None,
    servicefile: str | os.PathLike[str] | None = None,
    krbsrvname: str | None = None,
    gsslib: str | None = None,
    channel_binding: str | None = None,
    require_auth: str | None = None,
    load_balance_hosts: str | None = None,
    keepalives: bool | int | None = None,
    keepalives_idle: int | None = None,
    keepalives_interval: int | None = None,
    keepalives_count: int | None = None,
    tcp_user_timeout: int | None = None,
) -> ConnectParams:
    """Resolve ``connect()``'s arguments into ``ConnectParams``.

    ``None`` (and, for ``host``/``port``, any empty value) means "not given".
    ``timeout`` is the connect timeout; when ``None``, ``connect_timeout`` from
    the DSN, the service file or ``PGCONNECT_TIMEOUT`` applies.  Raises
    ``ClientConfigurationError`` for any invalid value; error messages never
    contain a password.
    """
    env = os.environ
    if dsn is not None and not isinstance(dsn, str):
        raise _config_error(f"invalid dsn of type {type(dsn).__name__}: expected a str")
    dsn_source = _parse_dsn(dsn) if dsn else _Source("DSN")
    env_source = _env_source(env)

    service_name = service or dsn_source.values.get("service") or env.get("PGSERVICE")
    sources = [dsn_source]
    if service_name:
        chosen_file = _optional_str("servicefile", servicefile) or dsn_source.values.get(
            "servicefile"
        )
        sources.append(_service_source(service_name, chosen_file, env))
    sources.append(env_source)
    resolver = _Resolver(sources)

    host_specs = _resolve_hosts(host, resolver)
    ports = _resolve_ports(host_specs, port, resolver)
    hosts = tuple(h for h, _ in host_specs)
    addrs: tuple[Addr, ...] = tuple(
        _socket_path(h, p) if h.startswith("/") else (h, p)
        for h, p in zip(hosts, ports, strict=True)
    )
    have_tcp = any(isinstance(addr, tuple) for addr in addrs)

    if user is None:
        user = resolver.value("user")
    if user is None:
        try:
            user = getpass.getuser()
        except Exception:  # getpass raises OSError or KeyError, by platform
            raise _config_error("could not determine user name to connect with") from None
    if password is None:
        password = resolver.value("password")
    if database is None:
        database = resolver.value("dbname") or user

    passfile_path = _optional_str("passfile", passfile) or resolver.value("passfile")
    if passfile_path is None:
        home = _home()
        if home is not None:
            passfile_path = str(home / ("pgpass.conf" if _WINDOWS else ".pgpass"))
    entries: tuple[_PassEntry, ...] = ()
    if password is None and passfile_path is not None:
        entries = _read_passfile(Path(passfile_path))

    sslmode, ssl_value = _resolve_ssl(ssl, resolver, have_tcp)
    if direct_tls is not None:
        sslnegotiation = "direct" if direct_tls else "postgres"
    else:
        found = resolver.get("sslnegotiation")
        sslnegotiation = (
            _choose("sslnegotiation", found[0], SSL_NEGOTIATIONS, found[1])
            if found
            else "postgres"
        )
    if sslnegotiation == "direct" and SSL_MODES.index(sslmode) < SSL_MODES.index("require"):
        raise _config_error(
            f"direct TLS requires sslmode=require, verify-ca, or verify-full, not {sslmode!r}"
        )
    tls_versions = {}
    for key in ("ssl_min_protocol_version", "ssl_max_protocol_version"):
        found = resolver.get(key)
        tls_versions[key] = _choose(key, found[0], TLS_VERSIONS, found[1]) if found else None

    if target_session_attrs is None:
        found = resolver.get("target_session_attrs")
        attrs = (
            _choose("target_session_attrs", found[0], TARGET_SESSION_ATTRS, found[1])
            if found
            else "any"
        )
    else:
        attrs = _choose(
            "target_session_attrs", str(target_session_attrs), TARGET_SESSION_ATTRS, None
        )

    binding = _setting("channel_binding", channel_binding, CHANNEL_BINDINGS, resolver, "prefer")
    if binding == "require" and sslmode == "disable":
        raise _config_error("channel_binding=require needs TLS, but sslmode is 'disable'")
    balance = _setting(
        "load_balance_hosts", load_balance_hosts, LOAD_BALANCE_HOSTS, resolver, "disable"
    )
    auth_found = (require_auth, None) if require_auth else resolver.get("require_auth")
    required_auth = _check_require_auth(*auth_found) if auth_found else None
    if (
        sslmode != "disable"
        and ssl_value is None
        and resolver.value("sslrootcert") == "system"
        and sslmode != "verify-full"
    ):
        raise _config_error(f"sslrootcert=system requires sslmode=verify-full, not {sslmode!r}")

    if gsslib is None:
        gsslib = resolver.value("gsslib") or ("sspi" if _WINDOWS else "gssapi")
    gsslib = _choose("gsslib", gsslib, GSS_LIBS, None)

    given = {
        "keepalives": keepalives,
        "keepalives_idle": keepalives_idle,
        "keepalives_interval": keepalives_interval,
        "keepalives_count": keepalives_count,
        "tcp_user_timeout": tcp_user_timeout,
    }
    alive = {key: _resolve_keepalive(key, given[key], resolver) for key in KEEPALIVE_KEYS}

    return ConnectParams(
        addrs=addrs,
        hosts=hosts,
        user=user,
        password=password,
        database=database,
        server_settings=_resolve_server_settings(server_settings, resolver),
        sslmode=sslmode,
        ssl=ssl_value,
        sslrootcert=resolver.value("sslrootcert"),
        sslcert=resolver.value("sslcert"),
        sslkey=resolver.value("sslkey"),
        sslcrl=resolver.value("sslcrl"),
        sslpassword=resolver.value("sslpassword"),
        ssl_min_protocol_version=tls_versions["ssl_min_protocol_version"],
        ssl_max_protocol_version=tls_versions["ssl_max_protocol_version"],
        sslnegotiation=sslnegotiation,
        direct_tls=sslnegotiation == "direct",
        target_session_attrs=attrs,
        load_balance_hosts=balance,
        channel_binding=binding,
        require_auth=required_auth,
        connect_timeout=_resolve_timeout(timeout, resolver),
        passfile=passfile_path,
        krbsrvname=krbsrvname if krbsrvname is not None else resolver.value("krbsrvname"),
        gsslib=gsslib,
        keepalives=alive["keepalives"] != 0,
        keepalives_idle=alive["keepalives_idle"] or None,
        keepalives_interval=alive["keepalives_interval"] or None,
        keepalives_count=alive["keepalives_count"] or None,
        tcp_user_timeout=alive["tcp_user_timeout"] or None,
        passfile_entries=entries,
    )
