"""Mutual TLS: the server context for `opendip up --tls`, the client context for deliveries,
and a uvicorn protocol that hands the client's certificate to the application.

uvicorn (0.54) does not fill in the ASGI TLS extension, so `TlsHttpToolsProtocol`
reads the peer certificate from the connection's SSL object once per
connection and puts it in every request's `scope["extensions"]["tls"]`, the
place the ASGI spec gives it (`client_cert_chain`: PEM strings, leaf first).
The edge then checks that the TLS client and the request signer are the same
participant.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from opendip.config import Settings
from opendip.pki.authority import CA_CERT, ensure_hub_identity

TRUSTED_DIR = "trusted"


def trusted_ca_files(settings: Settings) -> list[Path]:
    """The environment's CA and every external CA an operator trusted (pki/trusted/*.pem)."""
    directory = settings.pki_dir / TRUSTED_DIR
    extra = sorted(directory.glob("*.pem")) if directory.is_dir() else []
    return [settings.pki_dir / CA_CERT, *extra]


def trust_bundle(settings: Settings) -> str:
    return "".join(path.read_text() for path in trusted_ca_files(settings))


def server_context(settings: Settings) -> ssl.SSLContext:
    """TLS 1.2+, the hub's certificate, client certificates checked against the trusted CAs."""
    cert, key = ensure_hub_identity(settings.pki_dir, settings.hub_dip_id)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.load_verify_locations(cadata=trust_bundle(settings))
    optional = settings.tls_client_certificates.lower() == "optional"
    context.verify_mode = ssl.CERT_OPTIONAL if optional else ssl.CERT_REQUIRED
    return context


def client_context(settings: Settings, identity: tuple[Path, Path] | None = None) -> ssl.SSLContext:
    """For https webhooks: the hub's client certificate; servers trusted by the system store or our CAs."""
    cert, key = identity or ensure_hub_identity(settings.pki_dir, settings.hub_dip_id)
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cadata=trust_bundle(settings))
    context.load_cert_chain(cert, key)
    return context


def peer_certificate_pem(transport: Any) -> str | None:
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode("ascii")


class TlsHttpToolsProtocol(HttpToolsProtocol):
    """httptools protocol that fills in the ASGI TLS extension from the connection."""

    _tls: dict[str, Any] | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None:
            self._tls = None
            return
        pem = peer_certificate_pem(transport)
        self._tls = {
            "server_cert": None,
            "client_cert_chain": [pem] if pem else [],
            "client_cert_name": None,
            "client_cert_error": None,
            "tls_version": None,
            "cipher_suite": None,
        }

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._tls is not None:
            cast(dict[str, Any], self.scope)["extensions"] = {"tls": self._tls}


def client_certificate(scope: Mapping[str, Any]) -> str | None:
    """The TLS client's leaf certificate (PEM) from the ASGI scope, if the connection had one."""
    tls = (scope.get("extensions") or {}).get("tls")
    if not tls:
        return None
    chain = tls.get("client_cert_chain") or []
    return chain[0] if chain else None


def is_tls(scope: Mapping[str, Any]) -> bool:
    return (scope.get("extensions") or {}).get("tls") is not None or scope.get("scheme") == "https"


def serve_options(settings: Settings) -> dict[str, Any]:
    """uvicorn.run() options for `opendip up --tls`: our context, and the protocol that exposes the client cert."""
    cert, key = ensure_hub_identity(settings.pki_dir, settings.hub_dip_id)
    return {
        "http": TlsHttpToolsProtocol,
        "ssl_certfile": str(cert),
        "ssl_keyfile": str(key),
        "ssl_context_factory": lambda _config, _default: server_context(settings),
    }
