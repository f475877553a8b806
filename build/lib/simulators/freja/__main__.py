"""``python -m simulators.freja --bind 127.0.0.1:8447 [--certfile --keyfile --ca-certs]
[--phone-bind 127.0.0.1:8448] [--jws-cert-out FILE]``

With a CA file the TLS listener requires a client certificate signed by it (mutual TLS,
as Freja's RP API does); the RP API is refused on the plain ``--phone-bind`` listener,
which serves the phone and control APIs and the result-signing certificate
(``/jws.pem``, also written to ``--jws-cert-out`` for the nodes to verify results with)."""

from __future__ import annotations

import argparse
import ssl
from pathlib import Path

from hypercorn.config import Config

from service.serve import run_until_signal
from simulators.freja.app import create_app


def main() -> None:
    p = argparse.ArgumentParser(prog="freja-simulator", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bind", default="127.0.0.1:8447")
    p.add_argument("--certfile", default="")
    p.add_argument("--keyfile", default="")
    p.add_argument("--ca-certs", default="", help="CA for client certificates (mTLS)")
    p.add_argument("--phone-bind", default="",
                   help="plain-http listener for the phone and control APIs (host:port)")
    p.add_argument("--jws-cert-out", default="",
                   help="write the result-signing certificate (PEM) here at start-up")
    a = p.parse_args()
    for bind in filter(None, (a.bind, a.phone_bind)):
        if bind.rpartition(":")[0] not in ("127.0.0.1", "localhost"):
            p.error("the simulator binds loopback only")
    config = Config()
    config.bind = [a.bind]
    config.accesslog = None
    if a.phone_bind:
        config.insecure_bind = [a.phone_bind]
    if a.certfile:
        config.certfile, config.keyfile = a.certfile, a.keyfile
        if a.ca_certs:
            config.ca_certs = a.ca_certs
            config.verify_mode = ssl.CERT_REQUIRED
    app = create_app(rp_requires_tls=bool(a.ca_certs))
    if a.jws_cert_out:
        out = Path(a.jws_cert_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(app.state.signing.cert_pem)
    run_until_signal(app, config)


if __name__ == "__main__":
    main()
