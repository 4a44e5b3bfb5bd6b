"""Throwaway certificates for TLS tests, made with the ``openssl`` command-line tool.

``make_certs(directory)`` writes, all with P-256 keys and ECDSA-SHA256 signatures:

* ``ca.crt``/``ca.key`` -- the certificate authority the tests trust;
* ``server.crt``/``server.key`` -- for ``localhost`` only (a connection to ``127.0.0.1``
  with ``verify-full`` fails the host-name check);
* ``expired.crt``/``expired.key`` -- like the server's, but expired;
* ``client.crt``/``client.key`` -- a client certificate whose CN is ``client_cn``;
* ``other-ca.crt`` -- a second authority that signed none of these.

The files are owned by ``owner`` (uid, gid) when given, keys with mode 0600, so a server
run as another OS user can read them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CertSet", "make_certs", "openssl_path"]


def openssl_path() -> str | None:
    """The ``openssl`` program, or ``None`` when it is not installed."""
    return shutil.which("openssl")


@dataclass(frozen=True)
class CertSet:
    """Paths of the generated files (see the module docstring)."""

    directory: Path

    def __getattr__(self, name: str) -> str:
        # ca_crt -> ca.crt, other_ca_crt -> other-ca.crt
        stem, _, ext = name.rpartition("_")
        if not stem or ext not in ("crt", "key"):
            raise AttributeError(name)
        return str(self.directory / f"{stem.replace('_', '-')}.{ext}")


def _run(*argv: str, cwd: Path) -> None:
    program = openssl_path()
    if program is None:
        raise RuntimeError("the openssl program is not installed")
    proc = subprocess.run(
        [program, *argv], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {argv[0]} failed: {proc.stderr.strip()}")


def _key_and_csr(name: str, cn: str, cwd: Path) -> None:
    _run(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}",
        cwd=cwd,
    )  # fmt: skip


def _self_signed(name: str, cn: str, cwd: Path) -> None:
    _run(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "3", "-subj", f"/CN={cn}",
        cwd=cwd,
    )  # fmt: skip


def _sign(name: str, days: int, extensions: str, cwd: Path) -> None:
    ext = cwd / f"{name}.ext"
    ext.write_text(extensions)
    _run(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", f"{name}.crt", "-days", str(days), "-sha256",
        "-extfile", ext.name,
        cwd=cwd,
    )  # fmt: skip


def make_certs(
    directory: str | os.PathLike[str],
    *,
    client_cn: str = "postgres",
    owner: tuple[int, int] | None = None,
) -> CertSet:
    """Generate the certificate set into ``directory`` (created when missing)."""
    cwd = Path(directory)
    cwd.mkdir(parents=True, exist_ok=True)
    _self_signed("ca", "pgwire test CA", cwd)
    _self_signed("other-ca", "pgwire untrusted CA", cwd)
    server_ext = "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n"
    _key_and_csr("server", "localhost", cwd)
    _sign("server", 3, server_ext, cwd)
    _key_and_csr("expired", "localhost", cwd)
    _sign("expired", -1, server_ext, cwd)
    _key_and_csr("client", client_cn, cwd)
    _sign("client", 3, "extendedKeyUsage=clientAuth\n", cwd)
    for path in cwd.iterdir():
        if owner is not None:
            os.chown(path, *owner)
        path.chmod(0o600 if path.suffix == ".key" else 0o644)
    if owner is not None:
        os.chown(cwd, *owner)
    cwd.chmod(0o755)
    return CertSet(cwd)
