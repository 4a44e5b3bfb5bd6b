"""Password authentication: md5 and SCRAM-SHA-256 as pure functions and through the core.

SCRAM is checked against the test vector of RFC 7677 section 3. pgwire, like libpq,
leaves the user name out of the client-first-message (``n=``: the server takes it from
the startup packet), so the exact proof of the RFC does not apply verbatim. The tests
therefore use a small reference implementation of RFC 5802 (``rfc5802_final``) which is
itself first proven against the RFC vector, and compare pgwire with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

import pytest

from pgwire import exceptions
from pgwire.protocol import messages
from pgwire.protocol.auth import AuthenticationError, ScramClient, md5_password
from pgwire.protocol.core import ConnectionState, ProtocolCore

# RFC 7677, section 3.
RFC_PASSWORD = "pencil"
RFC_CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_FIRST = (
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)
RFC_CLIENT_FINAL = (
    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)
RFC_SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def rfc5802_final(
    password: str, client_first_bare: bytes, server_first: bytes
) -> tuple[bytes, bytes]:
    """Reference client-final-message and server-final-message (no channel binding)."""
    attrs = dict(part.split(b"=", 1) for part in server_first.split(b","))
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(attrs[b"s"]), int(attrs[b"i"])
    )
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    without_proof = b"c=biws,r=" + attrs[b"r"]
    auth_message = client_first_bare + b"," + server_first + b"," + without_proof
    signature = hmac.new(hashlib.sha256(client_key).digest(), auth_message, "sha256").digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    server_signature = hmac.new(server_key, auth_message, "sha256").digest()
    return (
        without_proof + b",p=" + base64.b64encode(proof),
        b"v=" + base64.b64encode(server_signature),
    )


def test_reference_implementation_reproduces_the_rfc_7677_vector() -> None:
    final, server_final = rfc5802_final(
        RFC_PASSWORD, b"n=user,r=" + RFC_CLIENT_NONCE.encode(), RFC_SERVER_FIRST
    )

    assert final == RFC_CLIENT_FINAL
    assert server_final == RFC_SERVER_FINAL


# ---------------------------------------------------------------- md5


def test_md5_password_for_a_known_salt() -> None:
    # md5("postgres" + "postgres") is the well-known 3175bce1d3201d16594cebf9d7eb3f9d.
    assert md5_password("postgres", "postgres", b"\x01\x02\x03\x04") == (
        b"md568be9ed08db75f318087ab337aaea044"
    )


def test_md5_password_depends_on_the_salt() -> None:
    assert md5_password("u", "p", b"aaaa") != md5_password("u", "p", b"bbbb")


# ---------------------------------------------------------------- SCRAM as functions


def test_scram_client_first_message_has_no_binding_and_an_empty_user() -> None:
    client = ScramClient(RFC_PASSWORD, nonce=RFC_CLIENT_NONCE)

    assert client.mechanism == "SCRAM-SHA-256"
    assert client.client_first() == b"n,,n=,r=rOprNGfwEbeRWgbNEkqO"


def test_scram_client_final_message_matches_rfc_5802() -> None:
    client = ScramClient(RFC_PASSWORD, nonce=RFC_CLIENT_NONCE)
    client.client_first()

    expected, _ = rfc5802_final(
        RFC_PASSWORD, b"n=,r=" + RFC_CLIENT_NONCE.encode(), RFC_SERVER_FIRST
    )

    assert client.client_final(RFC_SERVER_FIRST) == expected


def test_scram_client_final_keeps_the_rfc_nonce_and_binding_fields() -> None:
    client = ScramClient(RFC_PASSWORD, nonce=RFC_CLIENT_NONCE)
    client.client_first()

    final = client.client_final(RFC_SERVER_FIRST)

    assert final.startswith(RFC_CLIENT_FINAL.rsplit(b",p=", 1)[0] + b",p=")


def test_scram_accepts_the_correct_server_signature() -> None:
    client = ScramClient(RFC_PASSWORD, nonce=RFC_CLIENT_NONCE)
    client.client_first()
    client.client_final(RFC_SERVER_FIRST)
    _, server_final = rfc5802_final(
        RFC_PASSWORD, b"n=,r=" + RFC_CLIENT_NONCE.encode(), RFC_SERVER_FIRST
    )

    client.verify_server_final(server_final)  # does not raise


def test_scram_rejects_a_wrong_server_signature() -> None:
    client = ScramClient(RFC_PASSWORD, nonce=RFC_CLIENT_NONCE)
    client.client_first()
    client.client_final(RFC_SERVER_FIRST)

    # The RFC's signature belongs to the "n=user" exchange, not to this one.
    with pytest.raises(AuthenticationError, match="signature"):
        client.verify_server_final(RFC_SERVER_FINAL)


def test_scram_reports_a_server_error_attribute() -> None:
    client = ScramClient(RFC_PASSWORD, nonce=RFC_CLIENT_NONCE)
    client.client_first()
    client.client_final(RFC_SERVER_FIRST)

    with pytest.raises(AuthenticationError, match="invalid-proof"):
        client.verify_server_final(b"e=invalid-proof")


def test_scram_rejects_a_server_nonce_that_does_not_extend_the_client_nonce() -> None:
    client = ScramClient(RFC_PASSWORD, nonce=RFC_CLIENT_NONCE)
    client.client_first()

    with pytest.raises(AuthenticationError, match="nonce"):
        client.client_final(b"r=somethingElse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")


@pytest.mark.parametrize(
    "server_first",
    [
        b"r=rOprNGfwEbeRWgbNEkqOxyz,i=4096",  # no salt
        b"r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=many",
        b"r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
        b"r=rOprNGfwEbeRWgbNEkqOxyz,s=!!!,i=4096",
    ],
)
def test_scram_rejects_a_malformed_server_first_message(server_first: bytes) -> None:
    client = ScramClient(RFC_PASSWORD, nonce=RFC_CLIENT_NONCE)
    client.client_first()

    with pytest.raises(AuthenticationError):
        client.client_final(server_first)


def test_scram_error_messages_never_contain_the_password() -> None:
    client = ScramClient("hunter2-secret", nonce=RFC_CLIENT_NONCE)
    client.client_first()
    client.client_final(RFC_SERVER_FIRST)

    with pytest.raises(AuthenticationError) as info:
        client.verify_server_final(b"v=AAAA")
    assert "hunter2" not in str(info.value)


def test_scram_plus_announces_tls_server_end_point_binding() -> None:
    client = ScramClient(RFC_PASSWORD, channel_binding=b"\x01" * 32, nonce=RFC_CLIENT_NONCE)

    assert client.mechanism == "SCRAM-SHA-256-PLUS"
    assert client.client_first().startswith(b"p=tls-server-end-point,,n=,r=")


# ---------------------------------------------------------------- through the core


def backend(tag: bytes, body: bytes = b"") -> bytes:
    return tag + struct.pack("!i", len(body) + 4) + body


def auth(code: int, data: bytes = b"") -> bytes:
    return backend(b"R", struct.pack("!i", code) + data)


READY = backend(b"Z", b"I")
AUTH_OK = auth(0)


def started_core(password: str | None = "pencil") -> ProtocolCore:
    core = ProtocolCore(user="user", database="db", password=password)
    core.startup()
    core.data_to_send()
    return core


def test_trust_needs_no_password() -> None:
    core = started_core(password=None)

    core.receive_data(AUTH_OK + READY)

    assert core.state is ConnectionState.READY
    assert core.data_to_send() == b""


def test_cleartext_password_is_sent_as_is() -> None:
    core = started_core()

    core.receive_data(auth(3))

    assert core.data_to_send() == messages.password_message(b"pencil")
    assert core.auth_method == "password"
    core.receive_data(AUTH_OK + READY)
    assert core.state is ConnectionState.READY


def test_md5_answer_uses_the_salt_from_the_server() -> None:
    core = started_core()

    core.receive_data(auth(5, b"\x01\x02\x03\x04"))

    assert core.data_to_send() == messages.password_message(
        md5_password("user", "pencil", b"\x01\x02\x03\x04")
    )
    assert core.auth_method == "md5"


def test_password_request_without_a_password_answers_with_an_empty_password() -> None:
    core = started_core(password=None)

    core.receive_data(auth(3))

    assert core.data_to_send() == messages.password_message(b"")
    assert core.state is ConnectionState.STARTUP


@pytest.mark.parametrize(("code", "name"), [(2, "KerberosV5"), (7, "GSSAPI"), (9, "SSPI")])
def test_unsupported_authentication_method_fails_the_login(code: int, name: str) -> None:
    core = started_core()
    op = core.head
    assert op is not None

    core.receive_data(auth(code))

    assert isinstance(op.error, exceptions.InterfaceError)
    assert name in str(op.error)


def test_sasl_without_scram_sha_256_fails_the_login() -> None:
    core = started_core()
    op = core.head
    assert op is not None

    core.receive_data(auth(10, b"SOMETHING-ELSE\x00\x00"))

    assert isinstance(op.error, exceptions.InterfaceError)
    assert "SOMETHING-ELSE" in str(op.error)


def scram_initial_response(out: bytes) -> bytes:
    """The client-first-message inside a SASLInitialResponse."""
    assert out[:1] == b"p"
    mechanism, _, rest = out[5:].partition(b"\x00")
    assert mechanism == b"SCRAM-SHA-256"
    (size,) = struct.unpack_from("!i", rest)
    return rest[4 : 4 + size]


def run_scram_until_final(core: ProtocolCore) -> tuple[bytes, bytes]:
    """Play the server up to SASLFinal; returns (client-final, correct server-final)."""
    core.receive_data(auth(10, b"SCRAM-SHA-256\x00\x00"))
    client_first = scram_initial_response(core.data_to_send())
    assert client_first.startswith(b"n,,n=,r=")
    client_first_bare = client_first[3:]
    client_nonce = client_first_bare[len(b"n=,r=") :]
    server_first = b"r=" + client_nonce + b"SERVERPART,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"

    core.receive_data(auth(11, server_first))

    out = core.data_to_send()
    expected_final, server_final = rfc5802_final("pencil", client_first_bare, server_first)
    assert out == messages.sasl_response(expected_final)
    return expected_final, server_final


def test_full_scram_exchange_through_the_core() -> None:
    core = started_core()
    op = core.head
    assert op is not None

    _, server_final = run_scram_until_final(core)
    core.receive_data(auth(12, server_final) + AUTH_OK + backend(b"K", b"\x00" * 8) + READY)

    assert op.done and op.error is None
    assert core.auth_method == "SCRAM-SHA-256"
    assert core.state is ConnectionState.READY


def test_scram_with_a_wrong_server_signature_fails_the_login() -> None:
    core = started_core()
    op = core.head
    assert op is not None
    run_scram_until_final(core)

    core.receive_data(auth(12, b"v=" + base64.b64encode(b"\x00" * 32)))

    assert isinstance(op.error, exceptions.InterfaceError)
    assert "signature" in str(op.error)
    assert core.state is ConnectionState.CLOSED


def test_scram_completed_without_server_final_fails_the_login() -> None:
    core = started_core()
    op = core.head
    assert op is not None
    run_scram_until_final(core)

    core.receive_data(AUTH_OK)

    assert isinstance(op.error, exceptions.InterfaceError)
    assert core.state is ConnectionState.CLOSED


def test_wrong_password_reported_by_the_server_is_invalid_password_error() -> None:
    core = started_core()
    op = core.head
    assert op is not None
    run_scram_until_final(core)

    fields = b"SFATAL\x00VFATAL\x00C28P01\x00Mpassword authentication failed\x00\x00"
    core.receive_data(backend(b"E", fields))

    assert isinstance(op.error, exceptions.InvalidPasswordError)
    assert core.state is ConnectionState.CLOSED


def test_sasl_continue_without_sasl_is_a_protocol_error() -> None:
    core = started_core()
    op = core.head
    assert op is not None

    with pytest.raises(exceptions.ProtocolError):
        core.receive_data(auth(11, b"r=x"))

    assert isinstance(op.error, exceptions.ProtocolError)
    assert core.state is ConnectionState.CLOSED


def test_channel_binding_required_refuses_plain_password_methods() -> None:
    core = ProtocolCore(
        user="user", database="db", password="pencil", require_channel_binding=True
    )
    op = core.startup()
    core.data_to_send()

    core.receive_data(auth(5, b"salt"))

    assert isinstance(op.error, exceptions.InterfaceError)
    assert "channel binding" in str(op.error)
    assert core.data_to_send() == b""  # the md5 answer was never sent
