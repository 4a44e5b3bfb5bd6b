"""Password authentication as pure functions: md5 and SCRAM-SHA-256 (RFC 5802, RFC 7677).

Nothing here performs I/O; the protocol core feeds server messages in and
sends the returned bytes. Failures raise :class:`AuthenticationError`, whose
message never contains the password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata

__all__ = ["AuthenticationError", "md5_password", "ScramClient"]


class AuthenticationError(Exception):
    """The server's authentication exchange was malformed or failed verification."""


def md5_password(user: str, password: str, salt: bytes) -> bytes:
    """The response to AuthenticationMD5Password: ``'md5' + md5(md5(password + user) + salt)``."""
    inner = hashlib.md5(password.encode("utf-8") + user.encode("utf-8")).hexdigest()
    outer = hashlib.md5(inner.encode("ascii") + salt).hexdigest()
    return b"md5" + outer.encode("ascii")


def _saslprep(password: str) -> str:
    """A practical SASLprep (RFC 4013): map and normalise; fall back to the raw string.

    PostgreSQL itself uses the raw password when it is not valid SASLprep input,
    so failures here are not errors.
    """
    mapped = "".join(
        " " if unicodedata.category(ch) == "Zs" else ch
        for ch in password
        if ch not in "\u00ad\u034f\u1806\u180b\u180c\u180d\u200b\u200c\u200d\u2060\ufe00"
        "\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07\ufe08\ufe09\ufe0a\ufe0b\ufe0c\ufe0d"
        "\ufe0e\ufe0f\ufeff"
    )
    normalized = unicodedata.normalize("NFKC", mapped)
    if not normalized:
        return password
    for ch in normalized:
        if unicodedata.category(ch) in ("Cc", "Co", "Cs", "Cn") and ch not in "\t":
            return password
    return normalized


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


class ScramClient:
    """Client side of one SCRAM-SHA-256(-PLUS) exchange.

    Usage: ``first = client.client_first()``; then
    ``final = client.client_final(server_first)``; then
    ``client.verify_server_final(server_final)`` raises unless the server
    proved it knows the password.

    ``channel_binding`` is ``None`` (no binding, ``n,,``) or the
    ``tls-server-end-point`` hash of the server certificate (``p=...``).
    """

    MECHANISM = "SCRAM-SHA-256"
    MECHANISM_PLUS = "SCRAM-SHA-256-PLUS"

    def __init__(
        self, password: str, *, channel_binding: bytes | None = None, nonce: str | None = None
    ) -> None:
        self._password = _saslprep(password).encode("utf-8")
        self._cbind_data = channel_binding
        self._gs2_header = b"p=tls-server-end-point,," if channel_binding is not None else b"n,,"
        self._nonce = nonce or base64.b64encode(secrets.token_bytes(18)).decode("ascii")
        self._client_first_bare = b""
        self._server_signature = b""

    @property
    def mechanism(self) -> str:
        return self.MECHANISM_PLUS if self._cbind_data is not None else self.MECHANISM

    def client_first(self) -> bytes:
        # The user name is taken from the startup packet, so it is left empty here.
        self._client_first_bare = b"n=,r=" + self._nonce.encode("ascii")
        return self._gs2_header + self._client_first_bare

    def client_final(self, server_first: bytes) -> bytes:
        attrs = _parse_attributes(server_first)
        try:
            server_nonce = attrs["r"]
            salt = base64.b64decode(attrs["s"], validate=True)
            iterations = int(attrs["i"])
        except (KeyError, ValueError) as exc:
            raise AuthenticationError("malformed SCRAM server-first-message") from exc
        if not server_nonce.startswith(self._nonce) or len(server_nonce) <= len(self._nonce):
            raise AuthenticationError("SCRAM server nonce does not extend the client nonce")
        if iterations < 1:
            raise AuthenticationError("SCRAM iteration count is invalid")

        salted = hashlib.pbkdf2_hmac("sha256", self._password, salt, iterations)
        client_key = _hmac(salted, b"Client Key")
        stored_key = hashlib.sha256(client_key).digest()
        server_key = _hmac(salted, b"Server Key")

        cbind_input = self._gs2_header + (self._cbind_data or b"")
        final_without_proof = (
            b"c=" + base64.b64encode(cbind_input) + b",r=" + server_nonce.encode("ascii")
        )
        auth_message = b",".join((self._client_first_bare, server_first, final_without_proof))
        client_signature = _hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, client_signature, strict=False))
        self._server_signature = _hmac(server_key, auth_message)
        return final_without_proof + b",p=" + base64.b64encode(proof)

    def verify_server_final(self, server_final: bytes) -> None:
        attrs = _parse_attributes(server_final)
        if "e" in attrs:
            raise AuthenticationError(f"SCRAM authentication failed: {attrs['e']}")
        try:
            signature = base64.b64decode(attrs["v"], validate=True)
        except (KeyError, ValueError) as exc:
            raise AuthenticationError("malformed SCRAM server-final-message") from exc
        if not self._server_signature or not hmac.compare_digest(
            signature, self._server_signature
        ):
            raise AuthenticationError(
                "SCRAM server signature does not match: the server could not prove "
                "it knows the password"
            )


def _parse_attributes(message: bytes) -> dict[str, str]:
    try:
        text = message.decode("ascii")
    except UnicodeDecodeError as exc:
        raise AuthenticationError("SCRAM message is not ASCII") from exc
    attrs: dict[str, str] = {}
    for part in text.split(","):
        if len(part) >= 2 and part[1] == "=":
            attrs[part[0]] = part[2:]
    return attrs
