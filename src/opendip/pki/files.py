"""Writing key material safely: atomic replace, owner-only keys, a cross-process lock.

A hub process may read ca.key or hub.key while another creates them; writing
to a temporary file and renaming means a reader sees the old file or the new
one, never half of either.
"""

from __future__ import annotations

import base64
import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from opendip.errors import DipError, Msg

KEY_MODE = 0o600
CERT_MODE = 0o644
_LOCK = ".lock"


def atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Write via a temporary file in the same directory and rename over `path`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on `directory` across processes (not re-entrant)."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / _LOCK).open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM: test keys are protected by file mode, not a passphrase."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_rsa_key(path: Path) -> rsa.RSAPrivateKey:
    """Load an unencrypted PEM key, refusing non-RSA keys (DIP signatures are RSA).

    These are the hub's own keys (CA and hub identity), written by us with
    mode 0600, so the RSA consistency check (~0.1 s a key, several loads per
    start) is skipped; `same_key` still proves each matches its certificate.
    """
    key = serialization.load_pem_private_key(path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{path}: expected an RSA private key, found {type(key).__name__}")
    return key


def same_key(certificate: x509.Certificate, key: rsa.RSAPrivateKey) -> bool:
    """True if `key` is the private half of the certificate's public key."""
    public_key = certificate.public_key()
    return isinstance(public_key, rsa.RSAPublicKey) and (
        public_key.public_numbers() == key.public_key().public_numbers()
    )


def csr_text(value: str) -> bytes:
    """A CSR as PEM text, or base64 of PEM (easier to put in JSON by hand)."""
    if "BEGIN" in value:
        return value.encode()
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise DipError(Msg.SCHEMA_FAILURE, "$.csr: PEM text or base64 of PEM") from None
