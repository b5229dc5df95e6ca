"""Which certificate authorities the hub trusts, and whose DIP ID a certificate carries.

Trust is deliberately narrow: a participant's certificate must be issued
*directly* by one of the CAs in the store (the DIP's own CA in each
environment), so checking it is one name lookup and one signature check, cheap
enough to do on a cache miss in the request path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

DIP_ID_URI_PREFIX = "urn:opendip:dip-id:"
"""SAN URI prefix our CA uses to bind a DIP ID into a certificate."""

_DIP_ID_CN = re.compile(r"\d{10}")


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER encoding, lower-case hex: how the portal and logs name a certificate."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def common_name(certificate: x509.Certificate) -> str | None:
    """The subject CN, or None; used in human-readable details."""
    attributes = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not attributes:
        return None
    value = attributes[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def dip_id_of(certificate: x509.Certificate) -> str | None:
    """The DIP ID a certificate is bound to, or None if it names none.

    The SAN URI is authoritative because it cannot be confused with a
    free-text CN; the 10-digit CN is the fallback for certificates issued by
    CAs that only fill in the subject.
    """
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if san is not None:
        for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
            if uri.lower().startswith(DIP_ID_URI_PREFIX) and len(uri) > len(DIP_ID_URI_PREFIX):
                return uri[len(DIP_ID_URI_PREFIX) :]
    cn = common_name(certificate)
    if cn is not None and _DIP_ID_CN.fullmatch(cn):
        return cn
    return None


class TrustStore:
    """A set of trusted CA certificates, indexed by subject name.

    Several CAs may share a subject name (a re-keyed CA keeps its name), so
    each name maps to a list and `issuer_for` tries each by signature.
    """

    def __init__(self, certificates: Iterable[x509.Certificate] = ()) -> None:
        self._by_subject: dict[x509.Name, list[x509.Certificate]] = {}
        for certificate in certificates:
            self.add(certificate)

    @classmethod
    def from_pem_files(cls, paths: Iterable[Path | str]) -> TrustStore:
        """Load every certificate in each PEM file (bundles allowed)."""
        store = cls()
        for path in paths:
            for certificate in x509.load_pem_x509_certificates(Path(path).read_bytes()):
                store.add(certificate)
        return store

    def add(self, certificate: x509.Certificate) -> None:
        """Trust `certificate` as an issuing CA; adding the same one twice is harmless."""
        known = self._by_subject.setdefault(certificate.subject, [])
        if certificate not in known:
            known.append(certificate)

    def issuer_for(self, certificate: x509.Certificate) -> x509.Certificate | None:
        """The trusted CA that issued `certificate` (name match and verified signature), else None."""
        for candidate in self._by_subject.get(certificate.issuer, ()):
            try:
                certificate.verify_directly_issued_by(candidate)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return candidate
        return None

    def __iter__(self) -> Iterator[x509.Certificate]:
        for certificates in self._by_subject.values():
            yield from certificates

    def __len__(self) -> int:
        return sum(len(certificates) for certificates in self._by_subject.values())

    def __contains__(self, certificate: object) -> bool:
        return isinstance(certificate, x509.Certificate) and certificate in self._by_subject.get(
            certificate.subject, ()
        )
