"""DIP request signing (dip-facts section 6): the four X-DIP headers, made and checked.

Every request in both directions carries them, so verifying is on the hot path
of every API call. The costly part, decoding the certificate and checking its
issuer, is cached by the exact header string; everything that can change with
time (validity dates, revocation) and everything bound to the request (date,
hash, signature) is checked on every call.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import _CacheInfo, lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from opendip.errors import AuthenticationError, Msg
from opendip.pki.headers import (
    CONTENT_HASH,
    SIGNATURE,
    SIGNATURE_CERTIFICATE,
    SIGNATURE_DATE,
    SIGNATURE_HEADERS,
    content_hash,
    format_signature_date,
    parse_signature_date,
    read_signature_headers,
    signing_string,
    utc_text,
)
from opendip.pki.trust import TrustStore, common_name, dip_id_of, fingerprint

__all__ = [  # the header primitives live in headers.py; this module is their public home
    "CONTENT_HASH",
    "SIGNATURE",
    "SIGNATURE_CERTIFICATE",
    "SIGNATURE_DATE",
    "SIGNATURE_HEADERS",
    "SignatureVerifier",
    "Signer",
    "VerifiedSignature",
    "content_hash",
    "format_signature_date",
    "parse_signature_date",
    "signing_string",
]

_PKCS1 = padding.PKCS1v15()
MAX_CACHED_CERTIFICATE_CHARS = 8192
"""Certificate headers up to this length are cached (a 4096-bit certificate's is about 3,000 characters):
the cache's 1,024 entries then hold at most a few megabytes, however long the headers clients send."""
_SHA256 = hashes.SHA256()


class Signer:
    """Signs outbound requests with one participant's (or the hub's) key and certificate.

    RSA signing costs ~250 µs, so callers sign once per request (a batch),
    never per message.
    """

    def __init__(self, private_key: rsa.RSAPrivateKey, certificate_pem: bytes) -> None:
        self.certificate = x509.load_pem_x509_certificate(certificate_pem)
        public_key = self.certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey) or (
            public_key.public_numbers() != private_key.public_key().public_numbers()
        ):
            raise ValueError("the private key does not match the certificate's public key")
        self._private_key = private_key
        self._certificate_header = base64.b64encode(certificate_pem).decode("ascii")

    @classmethod
    def from_files(cls, cert_path: Path | str, key_path: Path | str) -> Signer:
        """Load a PEM certificate and its unencrypted PEM RSA key."""
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError(f"{key_path}: DIP signatures need an RSA key, not {type(key).__name__}")
        return cls(key, Path(cert_path).read_bytes())

    def headers(self, method: str, url: str, body: bytes, now: datetime | None = None) -> dict[str, str]:
        """The four X-DIP headers for one request.

        The METHOD is signed upper-case (`POST;http://host/dip-channel/if-043;...`), the
        form the public third-party DIP clients build, so receivers written like them
        verify our deliveries; our verifier accepts either case of method.
        """
        date = format_signature_date(now or datetime.now(UTC))
        digest = content_hash(body)
        text = signing_string(method.upper(), url, date, digest).encode("utf-8")
        signature = self._private_key.sign(text, _PKCS1, _SHA256)
        return {
            SIGNATURE_DATE: date,
            CONTENT_HASH: digest,
            SIGNATURE_CERTIFICATE: self._certificate_header,
            SIGNATURE: base64.b64encode(signature).decode("ascii"),
        }


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """Who signed a request, as established by its certificate."""

    certificate: x509.Certificate
    fingerprint: str
    dip_id: str | None
    signature_date: datetime
    serial: int
    signature: bytes = b""  # the decoded X-DIP-Signature: what replay protection records


@dataclass(frozen=True, slots=True)
class _TrustedCertificate:
    """A decoded certificate whose issuer was verified: what the cache keeps."""

    certificate: x509.Certificate
    public_key: rsa.RSAPublicKey
    fingerprint: str
    dip_id: str | None
    label: str
    not_before: datetime
    not_after: datetime


class SignatureVerifier:
    """Checks the X-DIP headers of inbound requests against a TrustStore.

    `is_revoked(cert)` returns a revocation reason or None; it runs on every
    call so a revocation takes effect at once even for cached certificates.
    """

    def __init__(
        self,
        trust: TrustStore,
        max_skew_seconds: float = 300,
        is_revoked: Callable[[x509.Certificate], str | None] | None = None,
        cache_size: int = 1024,
    ) -> None:
        if max_skew_seconds < 0:
            raise ValueError("max_skew_seconds must not be negative")
        self.trust = trust
        self.max_skew_seconds = max_skew_seconds
        self.is_revoked = is_revoked
        self._trusted = lru_cache(maxsize=cache_size)(self._load_trusted)

    def cache_info(self) -> _CacheInfo:
        """functools cache statistics for the certificate cache (hits, misses, size)."""
        return self._trusted.cache_info()

    def clear_cache(self) -> None:
        """Forget decoded certificates, e.g. after the trust store changed."""
        self._trusted.cache_clear()

    def verify(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, now: datetime | None = None
    ) -> VerifiedSignature:
        """Verify one request or raise AuthenticationError with the first failing check."""
        date_text, hash_text, certificate_text, signature_text = read_signature_headers(headers)
        now = now or datetime.now(UTC)
        signature_date = self._check_date(date_text, now)
        self._check_hash(hash_text, body)
        # the cache is keyed by the header's text, which a client chooses (padding a public certificate
        # makes endless distinct texts): only a header of a real certificate's length is kept (issue 16)
        cached = len(certificate_text) <= MAX_CACHED_CERTIFICATE_CHARS
        trusted = self._trusted(certificate_text) if cached else self._load_trusted(certificate_text)
        self._check_validity(trusted, now)
        if self.is_revoked is not None:
            reason = self.is_revoked(trusted.certificate)
            if reason is not None:
                raise AuthenticationError(Msg.CERTIFICATE_REVOKED, f"{trusted.label} was revoked: {reason}")
        signature = self._check_signature(trusted, signature_text, method, url, date_text, hash_text)
        return VerifiedSignature(
            certificate=trusted.certificate,
            fingerprint=trusted.fingerprint,
            dip_id=trusted.dip_id,
            signature_date=signature_date,
            serial=trusted.certificate.serial_number,
            signature=signature,
        )

    def _check_date(self, text: str, now: datetime) -> datetime:
        try:
            signature_date = parse_signature_date(text)
        except ValueError:
            raise AuthenticationError(
                Msg.SIGNATURE_DATE_SKEW,
                f"{SIGNATURE_DATE} {text!r} is not a UTC time such as 2026-11-25T13:40:00.123Z",
            ) from None
        offset = (signature_date - now).total_seconds()
        if abs(offset) > self.max_skew_seconds:
            raise AuthenticationError(
                Msg.SIGNATURE_DATE_SKEW,
                f"{SIGNATURE_DATE} {text!r} is {offset:+.0f} s from hub time "
                f"{format_signature_date(now)}; the allowed skew is ±{self.max_skew_seconds:g} s",
            )
        return signature_date

    @staticmethod
    def _check_hash(text: str, body: bytes) -> None:
        digest = hashlib.sha256(body).digest()
        expected = base64.b64encode(digest).decode("ascii")
        if hmac.compare_digest(text.encode("utf-8", "surrogateescape"), expected.encode()):  # str needs ASCII
            return
        try:  # tolerate a client that drops the base64 padding
            if base64.b64decode(text + "=" * (-len(text) % 4), validate=True) == digest:
                return
        except (binascii.Error, ValueError):
            pass
        raise AuthenticationError(
            Msg.CONTENT_HASH_MISMATCH,
            f"{CONTENT_HASH} is {text!r} but the {len(body)}-byte body hashes to {expected!r}",
        )

    def _load_trusted(self, header: str) -> _TrustedCertificate:
        """Decode and chain-check one certificate header (cached; failures are not)."""
        try:
            data = base64.b64decode(header, validate=True)
            if data.lstrip().startswith(b"-----BEGIN"):
                certificate = x509.load_pem_x509_certificate(data)
            else:  # tolerate base64 of DER, a common client slip
                certificate = x509.load_der_x509_certificate(data)
        except (binascii.Error, ValueError) as exc:
            raise AuthenticationError(
                Msg.CERTIFICATE_MALFORMED, f"{SIGNATURE_CERTIFICATE} does not decode to a certificate: {exc}"
            ) from None
        public_key = certificate.public_key()
        cn = common_name(certificate)
        label = f"certificate serial {certificate.serial_number:#x} for " + (
            f"CN={cn}" if cn is not None else certificate.subject.rfc4514_string()
        )
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise AuthenticationError(
                Msg.CERTIFICATE_MALFORMED,
                f"{label} has a {type(public_key).__name__} key; DIP signatures need RSA",
            )
        if self.trust.issuer_for(certificate) is None:
            raise AuthenticationError(
                Msg.CERTIFICATE_UNTRUSTED,
                f"{label} was issued by {certificate.issuer.rfc4514_string()}, which this hub does not "
                "trust (or the issuer's signature on it does not verify)",
            )
        return _TrustedCertificate(
            certificate=certificate,
            public_key=public_key,
            fingerprint=fingerprint(certificate),
            dip_id=dip_id_of(certificate),
            label=label,
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
        )

    @staticmethod
    def _check_validity(trusted: _TrustedCertificate, now: datetime) -> None:
        if now > trusted.not_after:
            raise AuthenticationError(
                Msg.CERTIFICATE_EXPIRED,
                f"{trusted.label} expired at {utc_text(trusted.not_after)} (hub time {utc_text(now)})",
            )
        if now < trusted.not_before:
            raise AuthenticationError(
                Msg.CERTIFICATE_EXPIRED,
                f"{trusted.label} is not valid before {utc_text(trusted.not_before)} (hub time {utc_text(now)})",
            )

    @staticmethod
    def _check_signature(
        trusted: _TrustedCertificate, signature_text: str, method: str, url: str, date: str, digest: str
    ) -> bytes:
        try:
            signature = base64.b64decode(signature_text, validate=True)
        except (binascii.Error, ValueError):
            raise AuthenticationError(Msg.SIGNATURE_INVALID, f"{SIGNATURE} is not valid base64") from None
        # One RSA operation recovers the signed SHA-256 digest (padding and DigestInfo
        # checked); comparing it with each accepted form then costs a hash, not a verify.
        try:
            signed = trusted.public_key.recover_data_from_signature(signature, _PKCS1, _SHA256)
        except (InvalidSignature, ValueError):
            signed = b""
        for form in dict.fromkeys((method.lower(), method.upper(), method)):
            text = signing_string(form, url, date, digest).encode("utf-8")
            if signed and hmac.compare_digest(signed, hashlib.sha256(text).digest()):
                return signature
        raise AuthenticationError(
            Msg.SIGNATURE_INVALID,
            f"{SIGNATURE} does not verify with the key of {trusted.label} over "
            f"{signing_string(method.lower(), url, date, digest)!r} (method in either case)",
        )
