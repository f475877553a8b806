"""The one TLS policy of every listener idportal runs (the front door and a node's own
TLS): Mozilla's "intermediate" configuration (ssl-config.mozilla.org, version 5.7).
TLS 1.2 with forward-secret AEAD suites only (no CBC, no SHA-1 MAC, no static RSA key
exchange) and TLS 1.3."""

from __future__ import annotations

TLS12_CIPHERS = ":".join((
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
))
TLS13_CIPHERSUITES = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
# TLS 1.2 is the lowest version: HAProxy's `no-tlsv10 no-tlsv11`, and Python's own floor
# for the node's TLS listener (its server contexts refuse older versions by default).
