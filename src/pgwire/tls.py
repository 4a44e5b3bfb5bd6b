"""TLS for PostgreSQL connections, following libpq's rules (and asyncpg's ``ssl=``).

``plan_tls(params)`` turns resolved connection parameters into a :class:`TlsPlan`: the
``ssl.SSLContext`` to use and what to do when the server refuses TLS or the handshake
fails.  ``tls_server_end_point(der)`` computes the channel-binding data of RFC 5929 for
SCRAM-SHA-256-PLUS.

Rules, per ``sslmode``:

* ``disable`` -- never TLS.
* ``allow`` -- plain first; TLS only when the server rejects the plain attempt with an
  authorization error (a ``hostssl``-only ``pg_hba.conf``).
* ``prefer`` -- TLS first; plain when the server answers the SSLRequest with ``N`` or the
  handshake fails.
* ``require`` -- TLS or nothing; the certificate is not checked, except that, as in libpq,
  an existing root certificate file (``sslrootcert`` or ``~/.postgresql/root.crt``) makes it
  check the chain like ``verify-ca``.
* ``verify-ca`` -- TLS with the chain checked against the root certificates.
* ``verify-full`` -- ``verify-ca`` plus the host name.

A user's ``ssl.SSLContext`` is used as given, under ``require`` rules (no fallback).
``ssl=True`` is asyncpg's: ``verify-full``, with the system trust store when there is no
root certificate file.  ``sslrootcert=system`` also selects the system trust store.  The
client certificate defaults to ``~/.postgresql/postgresql.crt``/``.key`` and is loaded only
when the files exist; the CRL (``sslcrl``, default ``~/.postgresql/root.crl``) only when
the chain is checked.  The minimum protocol version defaults to TLSv1.2, as in libpq.
Unix-domain sockets never use TLS (libpq and asyncpg skip it there too).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path

from .connect_params import SSL_MODES, ConnectParams
from .exceptions import ClientConfigurationError, error_from_fields
from .protocol import messages

__all__ = [
    "ALPN_PROTOCOL",
    "TlsFallback",
    "TlsPlan",
    "open_transport",
    "plan_tls",
    "tls_server_end_point",
]

#: The ALPN protocol name PostgreSQL 17 requires for direct TLS.
ALPN_PROTOCOL = "postgresql"

_TLS_VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


@dataclass(frozen=True)
class TlsPlan:
    """How one connection attempt uses TLS.

    ``context`` is ``None`` for ``sslmode=disable``.  ``first_plain`` means: try without TLS
    first (``allow``).  ``fallback_plain`` means a refusal (``N``) or a failed handshake
    lets the connection continue without TLS (``allow``, ``prefer``).  ``check_hostname``
    tells whether the server name is verified.
    """

    mode: str
    context: ssl.SSLContext | None
    direct: bool = False

    @property
    def first_plain(self) -> bool:
        return self.mode == "allow"

    @property
    def fallback_plain(self) -> bool:
        return self.mode in ("allow", "prefer")

    def at_least(self, mode: str) -> bool:
        return SSL_MODES.index(self.mode) >= SSL_MODES.index(mode)


def _dot_postgresql(name: str) -> Path | None:
    if sys.platform == "win32":
        appdata = os.environ.get("APPDATA")
        return Path(appdata) / "postgresql" / name if appdata else None
    try:
        return Path.home() / ".postgresql" / name
    except (RuntimeError, KeyError):
        return None


def _existing_default(name: str) -> str | None:
    path = _dot_postgresql(name)
    return str(path) if path is not None and path.is_file() else None


def plan_tls(params: ConnectParams) -> TlsPlan:
    """The TLS plan for ``params``; raises ``ClientConfigurationError`` for bad files."""
    mode = params.sslmode
    if params.ssl is False or mode == "disable":
        return TlsPlan("disable", None)
    if isinstance(params.ssl, ssl.SSLContext):
        context = params.ssl
        if params.direct_tls:
            context.set_alpn_protocols([ALPN_PROTOCOL])
        return TlsPlan("require", context, params.direct_tls)
    return TlsPlan(
        mode, build_context(params, system_default=params.ssl is True), params.direct_tls
    )


def build_context(params: ConnectParams, *, system_default: bool = False) -> ssl.SSLContext:
    """A client ``SSLContext`` for ``params.sslmode`` and the ``ssl*`` file settings.

    ``system_default`` (asyncpg's ``ssl=True``) uses the system trust store when no root
    certificate file exists instead of failing.
    """
    mode = params.sslmode
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = _TLS_VERSIONS[params.ssl_min_protocol_version or "TLSv1.2"]
    if params.ssl_max_protocol_version:
        context.maximum_version = _TLS_VERSIONS[params.ssl_max_protocol_version]
    if params.direct_tls:
        context.set_alpn_protocols([ALPN_PROTOCOL])

    verify = mode in ("verify-ca", "verify-full")
    rootcert = params.sslrootcert
    if rootcert == "system":
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        verify = True
    elif rootcert is not None:
        if not os.path.isfile(rootcert):
            if verify:
                raise ClientConfigurationError(
                    f"root certificate file {rootcert!r} does not exist "
                    f"(sslmode={mode} needs it to verify the server certificate)"
                )
        else:
            _load_verify(context, rootcert, "sslrootcert")
            verify = True
    else:
        default_root = _existing_default("root.crt")
        if default_root is not None:
            _load_verify(context, default_root, "sslrootcert")
            verify = True
        elif system_default:
            context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        elif verify:
            looked_for = _dot_postgresql("root.crt")
            where = (
                f"root certificate file {str(looked_for)!r} does not exist"
                if looked_for is not None
                else "no root certificate file: sslrootcert is not set and the home "
                "directory (for ~/.postgresql/root.crt) is unknown"
            )
            raise ClientConfigurationError(
                f"{where}: either provide the file (sslrootcert), use the system's trusted "
                f"roots with sslrootcert=system, or change sslmode to disable server "
                f"certificate verification (sslmode={mode})"
            )

    if verify:
        context.verify_mode = ssl.CERT_REQUIRED
        context.check_hostname = mode == "verify-full"
        crl = params.sslcrl or _existing_default("root.crl")
        if crl is not None:
            if not os.path.exists(crl):
                raise ClientConfigurationError(
                    f"certificate revocation list {crl!r} does not exist"
                )
            _load_verify(context, crl, "sslcrl")
            context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE

    cert = params.sslcert or _existing_default("postgresql.crt")
    if cert is not None:
        if not os.path.isfile(cert):
            raise ClientConfigurationError(f"client certificate file {cert!r} does not exist")
        key = params.sslkey or (
            str(_dot_postgresql("postgresql.key")) if params.sslcert is None else None
        )
        if key is not None and not os.path.isfile(key):
            raise ClientConfigurationError(f"client key file {key!r} does not exist")
        try:
            context.load_cert_chain(cert, key, password=params.sslpassword or None)
        except ssl.SSLError as exc:
            # The password is never part of the message.
            raise ClientConfigurationError(
                f"could not load client certificate {cert!r} / key {key!r}: {exc.reason or exc}"
            ) from None
    return context


def _load_verify(context: ssl.SSLContext, path: str, what: str) -> None:
    try:
        context.load_verify_locations(cafile=path)
    except (ssl.SSLError, OSError) as exc:
        raise ClientConfigurationError(f"could not load {what} file {path!r}: {exc}") from None


# --------------------------------------------------------------------------------------
# Channel binding (RFC 5929 tls-server-end-point)

# Signature algorithm OIDs whose digest is stronger than SHA-256.
_STRONG_HASHES = {
    "1.2.840.113549.1.1.12": "sha384",  # sha384WithRSAEncryption
    "1.2.840.113549.1.1.13": "sha512",  # sha512WithRSAEncryption
    "1.2.840.10045.4.3.3": "sha384",  # ecdsa-with-SHA384
    "1.2.840.10045.4.3.4": "sha512",  # ecdsa-with-SHA512
}
# Signature algorithms without a separate digest: PostgreSQL cannot bind to them either.
_NO_DIGEST = {"1.3.101.112": "Ed25519", "1.3.101.113": "Ed448"}


def tls_server_end_point(der: bytes) -> bytes:
    """The ``tls-server-end-point`` channel-binding data of a DER certificate.

    The certificate hashed with its signature's digest algorithm, where MD5 and SHA-1
    (and SHA-224 and SHA-256) become SHA-256 (RFC 5929, section 4.1).  Raises
    ``ValueError`` for certificates that name no digest (Ed25519, Ed448).
    """
    oid = _signature_algorithm_oid(der)
    if oid in _NO_DIGEST:
        raise ValueError(
            f"channel binding is impossible with a {_NO_DIGEST[oid]} server certificate"
        )
    return hashlib.new(_STRONG_HASHES.get(oid, "sha256"), der).digest()


def _der_header(data: bytes, pos: int) -> tuple[int, int, int]:
    """``(tag, content_start, content_end)`` of the DER element at ``pos``."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    return tag, pos, pos + length


def _signature_algorithm_oid(der: bytes) -> str:
    """The dotted OID of ``Certificate.signatureAlgorithm.algorithm``."""
    try:
        _, start, _ = _der_header(der, 0)  # Certificate SEQUENCE
        _, _, tbs_end = _der_header(der, start)  # tbsCertificate
        _, alg_start, _ = _der_header(der, tbs_end)  # AlgorithmIdentifier SEQUENCE
        tag, oid_start, oid_end = _der_header(der, alg_start)
    except IndexError:
        raise ValueError("malformed server certificate") from None
    if tag != 0x06:
        raise ValueError("malformed server certificate: no signature algorithm")
    raw = der[oid_start:oid_end]
    parts = [raw[0] // 40, raw[0] % 40]
    value = 0
    for byte in raw[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


# --------------------------------------------------------------------------------------
# Opening the transport


class TlsFallback(Exception):
    """Internal: TLS failed under a mode that allows plain; retry on a new connection."""


class _Negotiation(asyncio.Protocol):
    """Placeholder protocol until the session protocol takes over: keeps the SSLRequest reply."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.reply: asyncio.Future[bytes] = loop.create_future()
        #: Bytes after the first chunk, and a future resolved when more arrive or the
        #: connection ends (used to read an ErrorResponse to the SSLRequest).
        self.more = bytearray()
        self._more_waiter: asyncio.Future[None] | None = None
        self.closed = False

    def data_received(self, data: bytes) -> None:
        if not self.reply.done():
            self.reply.set_result(data)
        else:
            self.more += data
            self._wake()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()
        if not self.reply.done():
            self.reply.set_exception(ConnectionResetError("the server closed the connection"))
            # Nobody may be waiting any more (the connect attempt timed out or moved on).
            self.reply.exception()

    def _wake(self) -> None:
        waiter, self._more_waiter = self._more_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def read_more(self) -> None:
        """Wait until more bytes arrive or the connection ends."""
        if not self.closed:
            self._more_waiter = self._loop.create_future()
            await self._more_waiter


async def _error_reply(first: bytes, negotiation: _Negotiation, label: str) -> Exception:
    """The server's ErrorResponse to the SSLRequest, as its exception class (libpq reports
    it too, instead of trying again); ``ConnectionError`` when it is cut short."""
    data = bytearray(first)
    while True:
        data += negotiation.more
        negotiation.more.clear()
        if len(data) >= 5:
            length = int.from_bytes(data[1:5], "big")
            if length < 4 or length > 30000:
                break
            if len(data) >= 1 + length:
                fields = messages.parse_error_fields(bytes(data[5 : 1 + length]))
                return error_from_fields(fields)
        if negotiation.closed:
            break
        await negotiation.read_more()
    return ConnectionError(
        f"server {label} answered the TLS request with a malformed error response"
    )


async def open_transport(
    host: str, port: int, plan: TlsPlan, *, use_tls: bool, label: str
) -> tuple[asyncio.Transport, bytes | None]:
    """Open a TCP connection to ``host:port`` and negotiate TLS when ``use_tls``.

    Returns the transport (its protocol is a placeholder: set the session's protocol and
    call its ``connection_made``) and the server certificate in DER form when TLS is on.
    Raises ``ConnectionError`` when the server refuses TLS and ``plan`` allows no plain
    fallback, or answers the SSLRequest with anything but ``S``, ``N`` or an error; the
    server's error (a :class:`~pgwire.PostgresError`) when it answers with one; an
    ``ssl.SSLError`` naming the server when the handshake fails, and
    :class:`TlsFallback` when the handshake failed but plain is allowed.  These rules
    are libpq's (``fe-connect.c``: an error reply is reported, an invalid one fails).
    """
    loop = asyncio.get_running_loop()
    context = plan.context
    if not use_tls or context is None:
        transport, _ = await loop.create_connection(lambda: _Negotiation(loop), host, port)
        return transport, None
    if plan.direct:
        try:
            transport, _ = await loop.create_connection(
                lambda: _Negotiation(loop), host, port, ssl=context, server_hostname=host
            )
        except ssl.SSLError as exc:
            raise _handshake_error(exc, label, plan) from exc
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None or ssl_object.selected_alpn_protocol() != ALPN_PROTOCOL:
            transport.abort()
            raise ConnectionError(
                f"server {label} did not select the {ALPN_PROTOCOL!r} ALPN protocol for direct "
                "TLS (PostgreSQL 17 or later is needed)"
            )
        return transport, ssl_object.getpeercert(binary_form=True)

    raw, negotiation = await loop.create_connection(lambda: _Negotiation(loop), host, port)
    try:
        raw.write(messages.ssl_request())
        reply = await negotiation.reply
    except BaseException:
        raw.abort()
        raise
    if reply[:1] == b"S":
        if len(reply) > 1:
            # Bytes after 'S' were not protected by TLS: a man in the middle may have sent them.
            raw.abort()
            raise ConnectionError(f"server {label} sent unencrypted data after its TLS response")
        try:
            upgraded = await loop.start_tls(raw, negotiation, context, server_hostname=host)
        except ssl.SSLError as exc:
            raw.abort()
            if plan.fallback_plain:
                raise TlsFallback from exc
            raise _handshake_error(exc, label, plan) from exc
        except BaseException:
            raw.abort()
            raise
        assert upgraded is not None
        ssl_object = upgraded.get_extra_info("ssl_object")
        return upgraded, ssl_object.getpeercert(binary_form=True)
    if reply[:1] == b"N":
        if len(reply) > 1:
            raw.abort()
            raise ConnectionError(f"server {label} sent unexpected data after refusing TLS")
        if plan.fallback_plain:
            return raw, None
        raw.abort()
        raise ConnectionError(
            f"server {label} refused TLS (SSLRequest answered 'N'), "
            f"but sslmode={plan.mode} requires it"
        )
    if reply[:1] == b"E":
        # A server failure such as "too many connections": report it at once, as libpq
        # does, rather than trying again without TLS.
        try:
            error = await _error_reply(reply, negotiation, label)
        finally:
            raw.abort()
        raise error
    raw.abort()
    raise ConnectionError(
        f"server {label} sent an invalid response to the TLS request: {reply[:16]!r} "
        "(is it a PostgreSQL server?)"
    )


def _handshake_error(exc: ssl.SSLError, label: str, plan: TlsPlan) -> ssl.SSLError:
    reason = getattr(exc, "verify_message", None) or exc.reason or str(exc)
    message = f"TLS handshake with {label} failed (sslmode={plan.mode}): {reason}"
    try:
        new = type(exc)(exc.errno, message)
    except Exception:
        new = ssl.SSLError(exc.errno, message)
    for attr in ("verify_code", "verify_message", "reason", "library"):
        if hasattr(exc, attr):
            with contextlib.suppress(AttributeError):
                setattr(new, attr, getattr(exc, attr))
    return new
