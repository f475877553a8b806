"""``idportal dev``: one auth node + Redis + the BankID simulator (mTLS) + the two demo
e-services, on loopback, in the foreground until Ctrl-C. Everything is stopped by pid
on the way out, also when start-up fails."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from ha import procs, stack


def main(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir).resolve()
    port = args.port
    ports = {"node": port, "bankid": port + 1, "phone": port + 2, "redis": 6380,
             "mina-sidor": 8601, "bygglov": 8602}
    for name, p in ports.items():
        try:
            procs.wait_port(p, timeout=0.05)
        except procs.ProcError:
            continue
        print(f"port {p} ({name}) is already in use: stop what runs there first")
        return 1
    started: list[procs.Proc] = []
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        m = stack.prepare(run_dir)
        issuer = f"https://127.0.0.1:{port}"
        r = procs.start_redis("redis", ports["redis"], run_dir / "redis", aof=True,
                              log=run_dir / "logs" / "redis.log", started=started)
        started.append(sim := stack.start_simulator(m, ports["bankid"], ports["phone"]))
        settings = stack.write_settings(m, issuer=issuer, redis_url=f"redis://127.0.0.1:{r.port}/0",
                                        bankid_port=ports["bankid"])
        started.append(node := stack.start_node(m, settings, port, name="node-1"))
        stack.wait_http(f"{issuer}/readyz", stack.ssl_context(m), proc=node)
        procs.wait_port(sim.port, proc=sim)
        for cid, label in (("mina-sidor", "Mina sidor"), ("bygglov", "Bygglov")):
            d = stack.start_demo(m, client_id=cid, name=label, port=ports[cid], issuer=issuer,
                                 phone_port=ports["phone"])
            started.append(d)
        for d in started[-2:]:
            procs.wait_port(d.port, proc=d)
        print(f"""
idportal is running (one node; `idportal cluster up` runs the HA cluster).

  Citizen, start here:   https://127.0.0.1:{ports['mina-sidor']}/   (Mina sidor, PIN or BankID)
                         https://127.0.0.1:{ports['bygglov']}/   (Bygglov, needs BankID: SSO/step-up)
  BankID "phone":        http://127.0.0.1:{ports['phone']}/phone   (approve the waiting order)
  PIN test citizen:      194001011008 with PIN 1234 (config/pin-register.toml)
  Issuer:                {issuer}/.well-known/openid-configuration
  TLS CA to trust:       {m.ca.cert}
  Logs:                  {run_dir / 'logs'}

Ctrl-C stops everything.""", flush=True)
        while not stop.is_set():
            if any(not p.alive() for p in started):
                dead = [p.name for p in started if not p.alive()]
                print(f"stopped: {', '.join(dead)} exited; see {run_dir / 'logs'}")
                return 1
            stop.wait(1.0)
        return 0
    except KeyboardInterrupt:
        return 0
    except procs.ProcError as exc:
        print(f"start-up failed: {exc}")
        return 1
    finally:
        for p in reversed(started):
            procs.stop(p)
