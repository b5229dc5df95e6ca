"""The certificate cache is keyed by header text a client chooses: padding one public certificate gives
endless distinct texts, so long texts must not be kept (issue 16: no cache keyed by client text without a
byte bound)."""

from __future__ import annotations

import base64
import gc
import tracemalloc

from opendip.pki import SignatureVerifier, Signer
from opendip.pki.signing import MAX_CACHED_CERTIFICATE_CHARS

from .helpers import BODY, URL

PADDED = 50
PAD_BYTES = 100_000


def test_padded_certificate_headers_are_verified_but_not_kept(signer: Signer, verifier: SignatureVerifier) -> None:
    headers = signer.headers("POST", URL, BODY)
    name = next(key for key in headers if key.lower() == "x-dip-signature-certificate")
    pem = base64.b64decode(headers[name])
    assert len(headers[name]) <= MAX_CACHED_CERTIFICATE_CHARS, "a real certificate's header is cached"
    verifier.verify("POST", URL, headers, BODY)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(PADDED):  # the same certificate, each time behind a different run of blank lines
            padded = base64.b64encode(b"\n" * (PAD_BYTES + n) + pem).decode()
            assert verifier.verify("POST", URL, {**headers, name: padded}, BODY).fingerprint
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # before the bound every padded text stayed in the cache: about 50 x 133 KB = 6.7 MB
    assert kept < PADDED * PAD_BYTES / 10, f"{kept:,} bytes kept after {PADDED} padded headers"
    assert verifier.cache_info().currsize == 1
