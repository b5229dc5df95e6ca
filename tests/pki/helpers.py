"""Test data and an independent DIP client built only from raw `cryptography` calls.

The third-party client deliberately does not import opendip.pki: it follows
dip-facts section 6 literally, so a test using it proves interoperability
rather than agreement of our code with itself.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PARTICIPANT_DIP_ID = "1009012345"
URL = "http://127.0.0.1:8000/dip-channel/IF-043"
BODY = b'[{"payload": {"S0": {"interfaceID": "IF-043"}}}]'


def third_party_headers(
    key: rsa.RSAPrivateKey, certificate_pem: bytes, method: str, url: str, body: bytes, date: str
) -> dict[str, str]:
    """Sign as an outside client would: `METHOD;url-in-lower-case;date;hash`, PKCS#1 v1.5 SHA-256."""
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    text = f"{method};{url.lower()};{date};{digest}"
    signature = key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return {
        "X-DIP-Signature-Date": date,
        "X-DIP-Content-Hash": digest,
        "X-DIP-Signature-Certificate": base64.b64encode(certificate_pem).decode("ascii"),
        "X-DIP-Signature": base64.b64encode(signature).decode("ascii"),
    }
