"""libpq's ``require_auth``: refuse authentication methods the user did not allow.

The check runs when the server's authentication request arrives, before any password
leaves the client, so a server (or an impostor) asking for a weaker method than required
never sees the password, not even hashed.
"""

from __future__ import annotations

from . import exceptions
from .protocol.core import ConnectionState, ProtocolCore

__all__ = ["PolicyCore", "allowed_methods"]

# Authentication request codes of the protocol, by libpq's method names.
_METHOD_OF_CODE = {3: "password", 5: "md5", 10: "scram-sha-256", 2: "gss", 7: "gss", 9: "sspi"}
_DESCRIPTION = {
    "password": "a cleartext password",
    "md5": "an MD5 hashed password",
    "scram-sha-256": "SASL authentication",
    "gss": "GSSAPI authentication",
    "sspi": "SSPI authentication",
    "none": "no authentication",
}
_ALL = frozenset(_DESCRIPTION)


def allowed_methods(require_auth: str) -> frozenset[str]:
    """The set of methods a validated ``require_auth`` list allows."""
    items = require_auth.split(",")
    if items[0].startswith("!"):
        return _ALL - {item[1:] for item in items}
    return frozenset(items)


class PolicyCore(ProtocolCore):
    """A :class:`ProtocolCore` that closes the session on a forbidden auth request.

    ``label`` names the server in the error, e.g. ``"127.0.0.1:5432"``.
    """

    def __init__(self, *, require_auth: str, label: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._require_auth = require_auth
        self._allowed = allowed_methods(require_auth)
        self._label = label
        self._auth_requested = False

    def _authentication(self, payload: bytes) -> None:
        if self.state is ConnectionState.STARTUP and len(payload) >= 4:
            code = int.from_bytes(payload[:4], "big")
            method = _METHOD_OF_CODE.get(code)
            if code == 0 and not self._auth_requested:
                method = "none"
            if code != 0:
                self._auth_requested = True
            if method is not None and method not in self._allowed:
                self._close(
                    exceptions.InterfaceError(
                        f'authentication method requirement "{self._require_auth}" failed: '
                        f"server {self._label} requested {_DESCRIPTION[method]}"
                    )
                )
                return
        super()._authentication(payload)
