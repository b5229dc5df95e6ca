"""Signing and verifying the X-DIP headers, each check failing on its own cue."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from opendip.errors import AuthenticationError, Msg
from opendip.pki import (
    CONTENT_HASH,
    SIGNATURE,
    SIGNATURE_CERTIFICATE,
    SIGNATURE_DATE,
    SIGNATURE_HEADERS,
    CertificateAuthority,
    IssuedCertificate,
    SignatureVerifier,
    Signer,
    TrustStore,
    content_hash,
    format_signature_date,
    parse_signature_date,
    signing_string,
)

from .helpers import BODY, PARTICIPANT_DIP_ID, URL, third_party_headers


def rejection(
    verifier: SignatureVerifier,
    headers: dict[str, str],
    *,
    url: str = URL,
    body: bytes = BODY,
    now: datetime | None = None,
) -> AuthenticationError:
    """Run verify expecting a 401 and return the error, for its code and detail."""
    with pytest.raises(AuthenticationError) as caught:
        verifier.verify("POST", url, headers, body, now=now)
    assert caught.value.http_status == 401
    return caught.value


def test_content_hash_is_base64_of_sha256() -> None:
    assert content_hash(b"") == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def test_format_signature_date_is_utc_with_milliseconds() -> None:
    assert format_signature_date(datetime(2026, 11, 25, 13, 40, 0, 123456, UTC)) == "2026-11-25T13:40:00.123Z"
    plus_one = timezone(timedelta(hours=1))
    assert format_signature_date(datetime(2026, 11, 25, 14, 40, tzinfo=plus_one)) == "2026-11-25T13:40:00.000Z"
    with pytest.raises(ValueError):
        format_signature_date(datetime(2026, 11, 25, 13, 40))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T13:40:00.123Z", datetime(2026, 11, 25, 13, 40, 0, 123000, UTC)),
        ("2026-11-25T13:40:00Z", datetime(2026, 11, 25, 13, 40, 0, 0, UTC)),
        ("2026-11-25T13:40:00.123+00:00", datetime(2026, 11, 25, 13, 40, 0, 123000, UTC)),
        ("2026-11-25T13:40:00+00:00", datetime(2026, 11, 25, 13, 40, 0, 0, UTC)),
        ("2026-11-25T14:40:00.5+01:00", datetime(2026, 11, 25, 13, 40, 0, 500000, UTC)),
        ("2026-11-25T13:40:00.123456789Z", datetime(2026, 11, 25, 13, 40, 0, 123456, UTC)),
    ],
)
def test_parse_signature_date_accepts_client_variants(text: str, expected: datetime) -> None:
    parsed = parse_signature_date(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("text", ["2026-11-25T13:40:00", "2026-11-25 13:40:00Z", "yesterday", ""])
def test_parse_signature_date_refuses_dates_without_a_zone_or_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_signature_date(text)


def test_signing_string_lower_cases_the_url_but_keeps_the_method_given() -> None:
    text = signing_string("POST", "HTTP://127.0.0.1:8000/Dip-Channel/IF-043", "D", "H+/=")
    assert text == "POST;http://127.0.0.1:8000/dip-channel/if-043;D;H+/="


def test_round_trip(signer: Signer, verifier: SignatureVerifier, participant: IssuedCertificate) -> None:
    headers = signer.headers("POST", URL, BODY)
    assert set(headers) == set(SIGNATURE_HEADERS)
    result = verifier.verify("POST", URL, headers, BODY)
    assert result.dip_id == PARTICIPANT_DIP_ID
    assert result.serial == participant.serial
    assert result.fingerprint == participant.fingerprint
    assert result.signature_date == parse_signature_date(headers[SIGNATURE_DATE])
    assert result.certificate.serial_number == participant.serial


def test_signer_signs_the_method_upper_case_and_the_url_lower_case(
    signer: Signer, participant_key: rsa.RSAPrivateKey, participant: IssuedCertificate
) -> None:
    now = datetime(2026, 11, 25, 13, 40, 0, 123000, UTC)
    headers = signer.headers("post", URL, BODY, now=now)
    assert headers[SIGNATURE_DATE] == "2026-11-25T13:40:00.123Z"
    assert base64.b64decode(headers[SIGNATURE_CERTIFICATE]) == participant.certificate_pem
    expected = f"POST;http://127.0.0.1:8000/dip-channel/if-043;2026-11-25T13:40:00.123Z;{content_hash(BODY)}"
    participant_key.public_key().verify(
        base64.b64decode(headers[SIGNATURE]), expected.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


@pytest.mark.parametrize("signed_method", ["POST", "post"])
@pytest.mark.parametrize("request_method", ["POST", "post"])
@pytest.mark.parametrize("date_format", ["%Y-%m-%dT%H:%M:%S.{ms}Z", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S+00:00"])
def test_an_independent_client_following_the_spec_verifies(
    verifier: SignatureVerifier,
    participant_key: rsa.RSAPrivateKey,
    participant: IssuedCertificate,
    signed_method: str,
    request_method: str,
    date_format: str,
) -> None:
    now = datetime.now(UTC)
    date = now.strftime(date_format).replace("{ms}", f"{now.microsecond // 1000:03d}")
    headers = third_party_headers(participant_key, participant.certificate_pem, signed_method, URL.upper(), BODY, date)
    result = verifier.verify(request_method, URL, headers, BODY)
    assert result.dip_id == PARTICIPANT_DIP_ID


def test_header_names_are_case_insensitive(signer: Signer, verifier: SignatureVerifier) -> None:
    headers = {name.lower(): value for name, value in signer.headers("POST", URL, BODY).items()}
    assert verifier.verify("POST", URL, headers, BODY).dip_id == PARTICIPANT_DIP_ID


def test_certificate_sent_as_base64_der_is_tolerated(signer: Signer, verifier: SignatureVerifier) -> None:
    headers = signer.headers("POST", URL, BODY)
    der = signer.certificate.public_bytes(serialization.Encoding.DER)
    headers[SIGNATURE_CERTIFICATE] = base64.b64encode(der).decode()
    assert verifier.verify("POST", URL, headers, BODY).dip_id == PARTICIPANT_DIP_ID


@pytest.mark.parametrize("missing", SIGNATURE_HEADERS)
def test_missing_header_is_named(signer: Signer, verifier: SignatureVerifier, missing: str) -> None:
    headers = signer.headers("POST", URL, BODY)
    del headers[missing]
    error = rejection(verifier, headers)
    assert error.msg is Msg.SIGNATURE_HEADERS_MISSING
    assert error.detail == f"missing {missing}"


def test_empty_header_counts_as_missing(signer: Signer, verifier: SignatureVerifier) -> None:
    headers = signer.headers("POST", URL, BODY) | {CONTENT_HASH: ""}
    error = rejection(verifier, headers)
    assert error.msg is Msg.SIGNATURE_HEADERS_MISSING and CONTENT_HASH in error.detail


def test_tampered_body_is_a_content_hash_mismatch(signer: Signer, verifier: SignatureVerifier) -> None:
    error = rejection(verifier, signer.headers("POST", URL, BODY), body=BODY + b" ")
    assert error.msg is Msg.CONTENT_HASH_MISMATCH
    assert content_hash(BODY + b" ") in error.detail


def test_signature_over_another_url_is_invalid(signer: Signer, verifier: SignatureVerifier) -> None:
    headers = signer.headers("POST", "http://127.0.0.1:8000/dip-channel/IF-044", BODY)
    error = rejection(verifier, headers)
    assert error.msg is Msg.SIGNATURE_INVALID
    assert "http://127.0.0.1:8000/dip-channel/if-043" in error.detail


def test_rehashed_body_without_a_new_signature_is_invalid(signer: Signer, verifier: SignatureVerifier) -> None:
    forged = BODY.replace(b"IF-043", b"IF-099")
    headers = signer.headers("POST", URL, BODY) | {CONTENT_HASH: content_hash(forged)}
    assert rejection(verifier, headers, body=forged).msg is Msg.SIGNATURE_INVALID


def test_signature_that_is_not_base64_is_invalid(signer: Signer, verifier: SignatureVerifier) -> None:
    headers = signer.headers("POST", URL, BODY) | {SIGNATURE: "not*base64"}
    assert rejection(verifier, headers).msg is Msg.SIGNATURE_INVALID


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_date_outside_skew_is_rejected(signer: Signer, verifier: SignatureVerifier, offset: timedelta) -> None:
    now = datetime.now(UTC)
    headers = signer.headers("POST", URL, BODY, now=now + offset)
    error = rejection(verifier, headers, now=now)
    assert error.msg is Msg.SIGNATURE_DATE_SKEW
    assert headers[SIGNATURE_DATE] in error.detail and "300 s" in error.detail


def test_date_inside_skew_is_accepted(signer: Signer, verifier: SignatureVerifier) -> None:
    now = datetime.now(UTC)
    headers = signer.headers("POST", URL, BODY, now=now - timedelta(minutes=4))
    assert verifier.verify("POST", URL, headers, BODY, now=now).dip_id == PARTICIPANT_DIP_ID


def test_unparsable_date_is_a_skew_error(signer: Signer, verifier: SignatureVerifier) -> None:
    headers = signer.headers("POST", URL, BODY) | {SIGNATURE_DATE: "25/11/2026 13:40"}
    error = rejection(verifier, headers)
    assert error.msg is Msg.SIGNATURE_DATE_SKEW and "25/11/2026 13:40" in error.detail


@pytest.mark.parametrize(
    "header",
    [
        "!!! not base64 !!!",
        base64.b64encode(b"hello").decode(),
        base64.b64encode(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").decode(),
    ],
)
def test_garbage_certificate_is_malformed(signer: Signer, verifier: SignatureVerifier, header: str) -> None:
    headers = signer.headers("POST", URL, BODY) | {SIGNATURE_CERTIFICATE: header}
    assert rejection(verifier, headers).msg is Msg.CERTIFICATE_MALFORMED


def test_certificate_from_a_foreign_ca_is_untrusted(
    tmp_path: Path, verifier: SignatureVerifier, participant_key: rsa.RSAPrivateKey
) -> None:
    foreign = CertificateAuthority.init(tmp_path, name="Elsewhere CA")
    issued = foreign.issue(PARTICIPANT_DIP_ID, "Acme Energy", public_key=participant_key.public_key())
    headers = Signer(participant_key, issued.certificate_pem).headers("POST", URL, BODY)
    error = rejection(verifier, headers)
    assert error.msg is Msg.CERTIFICATE_UNTRUSTED
    assert "Elsewhere CA" in error.detail


def _signed_with(
    ca: CertificateAuthority,
    key: rsa.RSAPrivateKey,
    now: datetime,
    not_before: datetime,
    not_after: datetime | None = None,
) -> dict[str, str]:
    """Headers signed at `now` with a certificate valid only from `not_before` to `not_after`."""
    issued = ca.issue(
        PARTICIPANT_DIP_ID,
        "Acme Energy",
        public_key=key.public_key(),
        not_before=not_before,
        not_after=not_after,
    )
    return Signer(key, issued.certificate_pem).headers("POST", URL, BODY, now=now)


def test_expired_certificate_says_when_it_expired(
    ca: CertificateAuthority, participant_key: rsa.RSAPrivateKey, verifier: SignatureVerifier
) -> None:
    now = datetime.now(UTC)
    expiry = (now - timedelta(days=1)).replace(microsecond=0)
    headers = _signed_with(ca, participant_key, now, not_before=expiry - timedelta(days=30), not_after=expiry)
    error = rejection(verifier, headers, now=now)
    assert error.msg is Msg.CERTIFICATE_EXPIRED
    assert f"expired at {expiry:%Y-%m-%dT%H:%M:%S}Z" in error.detail
    assert f"CN={PARTICIPANT_DIP_ID}" in error.detail


def test_not_yet_valid_certificate_says_from_when(
    ca: CertificateAuthority, participant_key: rsa.RSAPrivateKey, verifier: SignatureVerifier
) -> None:
    now = datetime.now(UTC)
    start = (now + timedelta(days=2)).replace(microsecond=0)
    headers = _signed_with(ca, participant_key, now, not_before=start)
    error = rejection(verifier, headers, now=now)
    assert error.msg is Msg.CERTIFICATE_EXPIRED
    assert f"not valid before {start:%Y-%m-%dT%H:%M:%S}Z" in error.detail


def test_revoked_certificate_is_rejected_with_the_reason(
    ca: CertificateAuthority, signer: Signer, participant: IssuedCertificate
) -> None:
    revoked: dict[int, str] = {}

    def is_revoked(certificate: x509.Certificate) -> str | None:
        return revoked.get(certificate.serial_number)

    verifier = SignatureVerifier(TrustStore([ca.certificate]), is_revoked=is_revoked)
    verifier.verify("POST", URL, signer.headers("POST", URL, BODY), BODY)
    revoked[participant.serial] = "keyCompromise"
    error = rejection(verifier, signer.headers("POST", URL, BODY))
    assert error.msg is Msg.CERTIFICATE_REVOKED
    assert "keyCompromise" in error.detail
    assert verifier.cache_info().hits >= 1, "revocation must be checked even on a cache hit"


def test_cached_certificate_is_still_checked_for_expiry(
    signer: Signer, verifier: SignatureVerifier, participant: IssuedCertificate
) -> None:
    verifier.verify("POST", URL, signer.headers("POST", URL, BODY), BODY)
    later = participant.not_after + timedelta(seconds=1)
    error = rejection(verifier, signer.headers("POST", URL, BODY, now=later), now=later)
    assert error.msg is Msg.CERTIFICATE_EXPIRED
    info = verifier.cache_info()
    assert (info.hits, info.misses) == (1, 1)


def test_untrusted_certificate_is_not_cached_as_trusted(
    ca: CertificateAuthority, signer: Signer, participant_key: rsa.RSAPrivateKey
) -> None:
    verifier = SignatureVerifier(TrustStore())
    headers = signer.headers("POST", URL, BODY)
    assert rejection(verifier, headers).msg is Msg.CERTIFICATE_UNTRUSTED
    verifier.trust.add(ca.certificate)
    assert verifier.verify("POST", URL, headers, BODY).dip_id == PARTICIPANT_DIP_ID


def test_signer_refuses_a_key_that_does_not_match(participant: IssuedCertificate, ca: CertificateAuthority) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError, match="does not match"):
        Signer(other, participant.certificate_pem)


def test_signer_from_files(
    tmp_path: Path,
    participant: IssuedCertificate,
    participant_key: rsa.RSAPrivateKey,
    verifier: SignatureVerifier,
) -> None:
    key_path = tmp_path / "participant.key"
    key_path.write_bytes(
        participant_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path, _ = participant.write(tmp_path, "participant")
    signer = Signer.from_files(cert_path, key_path)
    assert verifier.verify("PUT", URL, signer.headers("PUT", URL, b""), b"").serial == participant.serial


def test_signature_by_another_key_is_invalid(signer: Signer, verifier: SignatureVerifier) -> None:
    """Someone replaying a participant's certificate cannot sign for it with their own key."""
    headers = signer.headers("POST", URL, BODY)
    text = signing_string("post", URL, headers[SIGNATURE_DATE], headers[CONTENT_HASH]).encode()
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers[SIGNATURE] = base64.b64encode(impostor.sign(text, padding.PKCS1v15(), hashes.SHA256())).decode()
    assert rejection(verifier, headers).msg is Msg.SIGNATURE_INVALID


@pytest.mark.parametrize("forged", [b"\x01", b"\x01" * 10, b"\x00" * 256, b"\xff" * 256])
def test_signature_of_the_wrong_shape_is_invalid(signer: Signer, verifier: SignatureVerifier, forged: bytes) -> None:
    headers = signer.headers("POST", URL, BODY) | {SIGNATURE: base64.b64encode(forged).decode()}
    assert rejection(verifier, headers).msg is Msg.SIGNATURE_INVALID
