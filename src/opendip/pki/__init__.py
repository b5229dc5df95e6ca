"""Certificates and request signing: the hub's test CA, the trust store, X-DIP headers.

Import from here; the submodules are split by reason to change, not by caller.
"""

from opendip.pki.authority import CertificateAuthority, IssuedCertificate, ensure_hub_identity
from opendip.pki.signing import (
    CONTENT_HASH,
    SIGNATURE,
    SIGNATURE_CERTIFICATE,
    SIGNATURE_DATE,
    SIGNATURE_HEADERS,
    SignatureVerifier,
    Signer,
    VerifiedSignature,
    content_hash,
    format_signature_date,
    parse_signature_date,
    signing_string,
)
from opendip.pki.trust import DIP_ID_URI_PREFIX, TrustStore, dip_id_of, fingerprint

__all__ = [
    "CONTENT_HASH",
    "DIP_ID_URI_PREFIX",
    "SIGNATURE",
    "SIGNATURE_CERTIFICATE",
    "SIGNATURE_DATE",
    "SIGNATURE_HEADERS",
    "CertificateAuthority",
    "IssuedCertificate",
    "SignatureVerifier",
    "Signer",
    "TrustStore",
    "VerifiedSignature",
    "content_hash",
    "dip_id_of",
    "ensure_hub_identity",
    "fingerprint",
    "format_signature_date",
    "parse_signature_date",
    "signing_string",
]
