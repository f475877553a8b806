"""The certificates a node depends on, and when each stops being valid: the BankID and
Freja client certificates, Freja's result-signing certificate, the card CAs, and the
TLS certificates the deployment asks it to watch (``Settings.watched_certificates``,
e.g. the front door's). Read from their files; the alerts warn before one expires."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from service.settings import Settings


def watched(settings: Settings) -> dict[str, str]:
    """name → PEM file, for the files this node is configured with."""
    files = {"bankid_client": settings.bankid.client_cert,
             "freja_client": settings.freja.client_cert,
             "freja_signing": settings.freja.jws_cert_file,
             "card_ca": settings.smartcard.trust_file,
             **settings.watched_certificates}
    return {name: path for name, path in files.items() if path}


def expiry(path: str) -> float | None:
    """When the first certificate of the PEM file ``path`` to expire does (epoch
    seconds); None when the file cannot be read as certificates."""
    try:
        certs = x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError):
        return None
    return min(c.not_valid_after_utc.timestamp() for c in certs) if certs else None
