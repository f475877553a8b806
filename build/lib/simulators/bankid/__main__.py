"""``python -m simulators.bankid --bind 127.0.0.1:8444 [--certfile --keyfile --ca-certs]
[--phone-bind 127.0.0.1:8445]``

With a CA file the TLS listener requires a client certificate signed by it (mutual TLS,
as the real RP API does). The phone and control APIs are also served on the plain
``--phone-bind`` listener, where the RP API is refused: only the TLS listener with a
verified client certificate serves ``/rp/v6.0``."""

from __future__ import annotations

import argparse
import ssl

import uvicorn
from hypercorn.config import Config

from service.serve import run_until_signal
from simulators.bankid.app import create_app


def main() -> None:
    p = argparse.ArgumentParser(prog="bankid-simulator", description=__doc__)
    p.add_argument("--bind", default="127.0.0.1:8444")
    p.add_argument("--certfile", default="")
    p.add_argument("--keyfile", default="")
    p.add_argument("--ca-certs", default="", help="CA for client certificates (mTLS)")
    p.add_argument("--phone-bind", default="",
                   help="plain-http listener for the phone and control APIs (host:port)")
    p.add_argument("--order-ttl", type=float, default=180.0)
    p.add_argument("--qr-max-age", type=float, default=10.0)
    p.add_argument("--delay-ms", type=int, default=0, help="default approval delay")
    p.add_argument("--server", choices=("hypercorn", "uvicorn"), default="hypercorn",
                   help="uvicorn (httptools, uvloop) spends less CPU per request, for the "
                        "benchmark's plain-http simulator; mutual TLS needs hypercorn")
    a = p.parse_args()
    if a.bind.rpartition(":")[0] not in ("127.0.0.1", "localhost"):
        p.error("the simulator binds loopback only")
    config = Config()
    config.bind = [a.bind]
    config.accesslog = None
    if a.phone_bind:
        if a.phone_bind.rpartition(":")[0] not in ("127.0.0.1", "localhost"):
            p.error("the simulator binds loopback only")
        config.insecure_bind = [a.phone_bind]
    if a.certfile:
        config.certfile, config.keyfile = a.certfile, a.keyfile
        if a.ca_certs:
            config.ca_certs = a.ca_certs
            config.verify_mode = ssl.CERT_REQUIRED
    app = create_app(order_ttl_s=a.order_ttl, qr_max_age_s=a.qr_max_age,
                     default_delay_ms=a.delay_ms, rp_requires_tls=bool(a.ca_certs))
    if a.server == "uvicorn":
        if a.certfile or a.phone_bind:
            p.error("--server uvicorn serves one plain-http listener: no TLS, no --phone-bind")
        host, _, port = a.bind.rpartition(":")
        uvicorn.run(app, host=host, port=int(port), loop="uvloop", http="httptools",
                    log_level="warning", access_log=False, server_header=False)
        return
    run_until_signal(app, config)


if __name__ == "__main__":
    main()
