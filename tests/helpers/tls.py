"""A TLS handshake as a weak or a strong client makes it: does the server agree?"""

from __future__ import annotations

import socket
import ssl


def handshake(port: int, ca_file: str, *, suites: str = "", tls13: bool = False) -> bool:
    """True when a server on 127.0.0.1:``port`` completes a handshake offering only
    ``suites`` (TLS 1.2, any security level) or, with ``tls13``, only TLS 1.3."""
    ctx = ssl.create_default_context(cafile=ca_file)
    if tls13:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    else:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(suites + ":@SECLEVEL=0")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.1"):
            return True
    except ssl.SSLError:
        return False
