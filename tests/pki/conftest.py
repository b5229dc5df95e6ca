"""Shared PKI fixtures: one real CA and one participant key per test module.

RSA key generation dominates the run time, so keys are made once per module
and reused for every certificate a test needs (issue(public_key=...)).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from opendip.pki import CertificateAuthority, IssuedCertificate, SignatureVerifier, Signer, TrustStore

from .helpers import PARTICIPANT_DIP_ID


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pki")


@pytest.fixture(scope="module")
def ca(pki_dir: Path) -> CertificateAuthority:
    return CertificateAuthority.init(pki_dir)


@pytest.fixture(scope="module")
def participant_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def participant(ca: CertificateAuthority, participant_key: rsa.RSAPrivateKey) -> IssuedCertificate:
    return ca.issue(PARTICIPANT_DIP_ID, "Acme Energy", public_key=participant_key.public_key())


@pytest.fixture(scope="module")
def signer(participant: IssuedCertificate, participant_key: rsa.RSAPrivateKey) -> Signer:
    return Signer(participant_key, participant.certificate_pem)


@pytest.fixture
def verifier(ca: CertificateAuthority) -> SignatureVerifier:
    """A fresh verifier per test so one test's cache never hides another's failure."""
    return SignatureVerifier(TrustStore([ca.certificate]))
