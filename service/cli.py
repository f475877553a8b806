"""``idportal``: the one command for operators.

    idportal serve [--config FILE] [--bind 127.0.0.1:8443] [--certfile F --keyfile F]
                   [--server uvicorn|hypercorn] [--drain SECONDS] [--metrics-bind HOST:PORT]
    idportal keys generate|rotate [--dir DIR]
    idportal clients check FILE | clients secret | clients reload
    idportal pin issue|reset|revoke|status PNR | pin import FILE | pin hash | pin seed
    idportal representation list|add|remove   who may act for which organisation
    idportal pki                      test cards for the smart-card login
    idportal dashboard                the Grafana dashboard, generated from ha/dashboard.py
    idportal image build              the node's image (Containerfile; buildah, podman)
    idportal audit search|export      the audit trail in PostgreSQL
    idportal support lookup|citizen|unlock|logout   the support desk
    idportal dev                      one node + Redis + BankID simulator (see README)
    idportal cluster up|down|status   the local HA cluster (ha/)
    idportal drill KIND               a failover drill under load, with a report
    idportal load SCENARIO            Locust citizen journeys against the cluster
    idportal capacity                 the knee, and nodes needed for a peak
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.settings import DEFAULT_SERVER, SERVERS, SettingsError, load_settings


def _serve(args: argparse.Namespace) -> int:
    from service import serve

    settings = load_settings(args.config)
    host = args.bind.rpartition(":")[0]
    if host not in ("127.0.0.1", "localhost", "[::1]") and not args.allow_any_address:
        print(f"refusing to bind {host}: pass --allow-any-address to listen beyond loopback",
              file=sys.stderr)
        return 2
    try:
        with asyncio.Runner(loop_factory=serve.loop_factory()) as runner:
            runner.run(serve.run(settings, bind=args.bind, certfile=args.certfile,
                                 keyfile=args.keyfile, drain_s=args.drain, access_log=args.access_log,
                                 server=args.server, metrics_bind=args.metrics_bind))
    except serve.StartupError as exc:
        # A clients file, PIN register or keys folder the node cannot use: say which and
        # what is wrong with it, not a traceback.
        print(f"idportal serve: cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


def _keys(args: argparse.Namespace) -> int:
    from service.oidc import keyring

    settings = load_settings(args.config)
    folder = Path(args.dir or settings.keys_dir)
    publish_for = settings.lifetimes.key_publication
    if args.action == "generate":
        made = keyring.generate(folder)
        print("created: " + (", ".join(k.kid for k in made) if made else "nothing (keys exist)"))
    else:
        new, pruned = keyring.rotate(folder, publish_for=publish_for)
        print(f"new signing keys: {', '.join(new)}; pruned: {', '.join(pruned) or 'none'}; "
              f"retired keys stay published for {publish_for} s")
    return 0


def _clients(args: argparse.Namespace) -> int:
    from service.oidc import clients

    if args.action == "secret":
        secret, digest = clients.new_secret()
        print(f"client secret (give to the e-service): {secret}")
        print(f'secret_sha256 = "{digest}"   (put in the clients file)')
        return 0
    if args.action == "reload":
        return _clients_reload(args)
    if not args.file:
        print("clients check needs FILE", file=sys.stderr)
        return 2
    try:
        reg = clients.load(args.file)
    except clients.ClientsError as exc:
        print(exc, file=sys.stderr)
        return 1
    for c in reg.clients.values():
        subjects = f"pairwise subjects in sector {c.sector}" if c.sector else "public subjects"
        print(f"ok  {c.client_id}: {c.token_endpoint_auth_method}, min {c.min_loa.rsplit('/', 1)[-1]},"
              f" {len(c.redirect_uris)} redirect URI(s), {subjects}")
    return 0


def _clients_reload(args: argparse.Namespace) -> int:
    """Check the clients file the cluster's nodes read and have them take it now; wait
    until every node shows it (their metrics listeners). A file that does not validate is
    not touched: the nodes keep the clients they have."""
    import time
    import urllib.request

    from ha import cluster as clustermod
    from service.oidc import clients

    c = clustermod.require_running(args.run_dir)
    if c is None:
        return 2
    path = Path(args.file or load_settings(c.settings_file).clients_file)
    try:
        reg = clients.load(path)
    except clients.ClientsError as exc:
        print(f"{path} does not validate; the nodes keep the clients they have:\n{exc}",
              file=sys.stderr)
        return 1
    os.utime(path)  # the nodes read a file again when its modification time changes
    want = path.stat().st_mtime
    nodes = clustermod.describe(c)["nodes"]
    waiting = {n["name"]: n["metrics_url"] for n in nodes}
    deadline = time.monotonic() + args.timeout
    while waiting and time.monotonic() < deadline:
        for name, url in list(waiting.items()):
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 - loopback
                    text = resp.read().decode()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("idportal_clients_file_mtime_seconds ") and abs(
                        float(line.split()[1]) - want) < 0.001:
                    print(f"{name}: runs with {len(reg.clients)} e-services from {path}")
                    del waiting[name]
        time.sleep(0.2)
    for name in waiting:
        print(f"{name}: has not taken the file after {args.timeout:.0f} s", file=sys.stderr)
    _config_event(c.settings_file, "clients reload",
                  detail={"file": str(path), "e_services": str(len(reg.clients))})
    return 1 if waiting else 0


def _representation(args: argparse.Namespace) -> int:
    from service.orgnummer import InvalidOrgNumber
    from service.orgnummer import parse as parse_org
    from service.personnummer import InvalidPersonalNumber
    from service.personnummer import parse as parse_person
    from service.providers import representation as reg

    try:
        if args.action == "list":
            for e in reg.load(args.file):
                print(f"{e.personal_number}  {e.org_number[:6]}-{e.org_number[6:]}  "
                      f"{e.role:<9}  {e.org_name}")
            return 0
        if not args.personal_number or not args.org_number:
            print(f"representation {args.action} needs --personal-number and --org-number",
                  file=sys.stderr)
            return 2
        person = parse_person(args.personal_number).digits
        org = parse_org(args.org_number).digits
        if args.action == "add":
            if not args.org_name:
                print("representation add needs --org-name", file=sys.stderr)
                return 2
            done = reg.change(args.file, add=reg.Representation(person, org, args.org_name,
                                                                 args.role))
        else:
            done = reg.change(args.file, remove=(person, org))
    except (reg.RegisterError, InvalidPersonalNumber, InvalidOrgNumber) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(done)
    if args.config:  # also into the audit trail of the deployment the settings name
        _config_event(args.config, f"representation {args.action}", person=person,
                      detail={"org_number": org, "role": args.role, "file": args.file})
    return 0


def _config_event(config: str, change: str, *, person: str = "",
                  detail: dict[str, str] | None = None) -> None:
    """A configuration change as an audit event (kind ``config``), written to the
    deployment's audit stream; a store that cannot be reached is said, not fatal (the
    change itself is made and logged)."""
    import asyncio
    import getpass as gp
    import time

    from service.audit.events import PSEUDONYM_PURPOSE, AuditEvent, pseudonym
    from service.oidc import keyring
    from service.store import StoreUnavailable, open_store

    settings = load_settings(config)
    subject = ""
    if person:
        ring = keyring.load(Path(settings.keys_dir), publish_for=0)
        subject = pseudonym(ring.derived_key(PSEUDONYM_PURPOSE), person)
    event = AuditEvent(kind="config", outcome="success", ts=time.time(), subject=subject,
                       node="cli", detail={"change": change, "by": gp.getuser(),
                                           **(detail or {})})

    async def record() -> None:
        store = open_store(settings)
        try:
            await store.audit.record(event)
        finally:
            await store.close()

    try:
        asyncio.run(record())
    except StoreUnavailable as exc:
        print(f"not recorded in the audit trail (the store cannot be reached): {exc}",
              file=sys.stderr)


def _audit(args: argparse.Namespace) -> int:
    """Search the audit trail, or export everything stored about one citizen."""
    import datetime as dt
    import json

    import psycopg

    from service.audit import pg
    from service.audit.events import PSEUDONYM_PURPOSE, pseudonym
    from service.oidc import keyring
    from service.personnummer import InvalidPersonalNumber, parse

    settings = load_settings(args.config)
    if not settings.audit.dsn:
        print("no audit store configured (audit.dsn)", file=sys.stderr)
        return 2
    subject = ""
    if args.action == "export":
        try:
            person = parse(args.personal_number or "")
        except InvalidPersonalNumber as exc:
            print(f"not a personal number: {exc}", file=sys.stderr)
            return 2
        ring = keyring.load(Path(settings.keys_dir), publish_for=0)
        subject = pseudonym(ring.derived_key(PSEUDONYM_PURPOSE), person.digits)

    def when(value: str) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value).astimezone(dt.UTC) if value else None

    query = pg.Query(subject=subject, reference=args.reference, client_id=args.client,
                     outcome=args.outcome, since=when(args.since), until=when(args.until),
                     limit=100_000 if args.action == "export" else args.limit)
    try:
        with pg.connect_sync(settings.audit) as conn:
            rows = pg.search(conn, query)
    except psycopg.Error as exc:
        print(f"the audit store cannot be reached: {exc}", file=sys.stderr)
        return 1
    if args.action == "export":
        text = json.dumps({"personal_number": person.digits, "pseudonym": subject,
                           "events": rows}, indent=1, ensure_ascii=False)
        if args.out:
            Path(args.out).write_text(text + "\n")
            Path(args.out).chmod(0o600)
            print(f"{len(rows)} events written to {args.out}")
        else:
            print(text)
        return 0
    if args.json:
        print(json.dumps(rows, indent=1, ensure_ascii=False))
        return 0
    for r in rows:
        print(f"{r['ts'][:19]}  {r['kind']:<8} {r['outcome']:<8} {r['client_id']:<14} "
              f"{r['method']:<9} {r['node']:<8} ref {r['reference']}")
    print(f"{len(rows)} events")
    return 0


def _support(args: argparse.Namespace) -> int:
    """The support desk's commands (service/support.py)."""
    import asyncio
    import json

    import psycopg

    from service import support
    from service.errors import BankIDError
    from service.personnummer import InvalidPersonalNumber, parse
    from service.store import StoreUnavailable, open_store

    settings = load_settings(args.config)
    if args.action in ("unlock", "logout") and not (args.operator and args.reason):
        print(f"support {args.action} needs --operator NAME and --reason TEXT (audited)",
              file=sys.stderr)
        return 2
    pnr = ""
    if args.action != "lookup":
        try:
            pnr = parse(args.subject).digits
        except InvalidPersonalNumber as exc:
            print(f"not a personal number: {exc}", file=sys.stderr)
            return 2

    async def go() -> Any:
        store = open_store(settings)
        try:
            if args.action == "citizen":
                return await support.citizen(settings, store, pnr)
            if args.action == "verify-caller":
                return await support.verify_caller(settings, store, pnr,
                                                   operator=args.operator,
                                                   say=lambda m: print(m, file=sys.stderr))
            if args.action == "unlock":
                return {"cleared": await support.unlock(settings, store, pnr,
                                                        operator=args.operator,
                                                        reason=args.reason)}
            return {"ended": await support.logout(settings, store, pnr,
                                                  operator=args.operator, reason=args.reason)}
        finally:
            await store.close()

    result: Any
    try:
        result = support.lookup(settings, args.subject) if args.action == "lookup" \
            else asyncio.run(go())
    except (psycopg.Error, StoreUnavailable, BankIDError) as exc:
        print(f"cannot reach the stores or BankID: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False, default=str))
        return 1 if args.action == "verify-caller" and not result["verified"] else 0
    if args.action == "lookup":
        for r in result:
            print(f"{r['ts'][:19]}  {r['kind']:<8} {r['outcome']:<8} {r['client_id']:<14} "
                  f"{r['method']:<9} node {r['node']}  {r['detail']}")
        print(f"{len(result)} events with reference {args.subject}")
    elif args.action == "citizen":
        print("recent logins:")
        for r in result["recent_logins"]:
            print(f"  {r['ts'][:19]}  {r['kind']:<8} {r['outcome']:<8} {r['client_id']:<14} "
                  f"{r['method']:<9} ref {r['reference']}")
        print(f"active sessions: {len(result['sessions'])}")
        for sess in result["sessions"]:
            print(f"  {sess['method']} since {sess['since']}: {', '.join(sess['e_services'])}")
        print(f"PIN counters: {result['pin'] or 'none (not locked)'}")
    elif args.action == "verify-caller":
        print(f"the caller is {result['name']} ({args.subject}): confirmed in BankID"
              if result["verified"] else f"NOT confirmed ({result['status']} "
              f"{result['hint']}): do not change anything for this caller")
        return 0 if result["verified"] else 1
    elif args.action == "unlock":
        print(f"PIN locks lifted ({result['cleared']} counters); recorded in the audit trail")
    else:
        print(f"{result['ended']} sessions ended, their e-services told (back-channel "
              f"logout); recorded in the audit trail")
    return 0


def _image(args: argparse.Namespace) -> int:
    from ha import image

    try:
        tag = image.build(Path(args.work_dir))
    except image.ImageError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"built {tag} (also :dev); run it with: podman run {' '.join(image.RUN_FLAGS)} "
          f"--network host -v <settings folder>:/etc/idportal:ro {tag}")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    from ha import dashboard

    print(dashboard.write(Path(args.out)))
    return 0


def _pki(args: argparse.Namespace) -> int:
    from ha import pki

    kit = pki.card_kit(Path(args.dir), server_ca=pki.make_ca(Path(args.server_ca_dir)))
    print(f"card CA:          {kit.card_ca.cert}")
    print(f"its CRL:          {kit.crl}")
    print(f"listener:         {kit.listener.cert} (key {kit.listener.key})")
    for kind, card in kit.cards.items():
        print(f"card {kind + ':':<12} {card.cert} (key {card.key}; for a browser: "
              f"{kit.folder / f'card-{kind}.p12'}, password {pki.P12_PASSWORD.decode()})")
    return 0


PIN_CHANGES = ("issue", "reset", "revoke", "import")


def _pin(args: argparse.Namespace) -> int:
    """The PIN life cycle (service/pin_admin.py) and the test register's tools."""
    from service.providers.pin_hashes import hasher
    from service.settings import PinSettings

    if args.action == "hash":
        ph = hasher(PinSettings())
        pin = getpass.getpass("PIN: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
        print(ph.hash(pin))
        return 0
    if args.action == "seed":
        from service import testpeople

        text = testpeople.register_toml(args.count, pin=args.pin, ph=hasher(PinSettings()))
        Path(args.out or "config/pin-register.toml").write_text(text)
        print(f"wrote {args.count} test citizens with PIN {args.pin} to "
              f"{args.out or 'config/pin-register.toml'}")
        return 0
    return _pin_store(args)


def _pin_store(args: argparse.Namespace) -> int:
    import json

    from service import pin_admin
    from service.personnummer import InvalidPersonalNumber, parse
    from service.providers.pin_register import RegisterError
    from service.store import StoreUnavailable, open_store

    settings = load_settings(args.config)
    if args.action in PIN_CHANGES and not (args.operator and args.reason):
        print(f"pin {args.action} needs --operator NAME and --reason TEXT (audited)",
              file=sys.stderr)
        return 2
    if not args.subject:
        print(f"pin {args.action} needs a "
              f"{'register file' if args.action == 'import' else 'personal number'}",
              file=sys.stderr)
        return 2
    if args.action != "import":
        try:
            parse(args.subject)
        except InvalidPersonalNumber as exc:
            print(f"not a personal number: {exc}", file=sys.stderr)
            return 2

    async def go() -> dict[str, Any]:
        store = open_store(settings)
        try:
            if args.action in ("issue", "reset"):
                letter = await pin_admin.issue(
                    settings, store, args.subject, operator=args.operator, reason=args.reason,
                    reset=args.action == "reset", given_name=args.given_name,
                    family_name=args.family_name, locale=args.lang,
                    out_dir=Path(args.out) if args.out else None)
                return {"letter": str(letter.path), "letter_id": letter.letter_id,
                        "expires": letter.expires}
            if args.action == "revoke":
                return {"revoked": await pin_admin.revoke(settings, store, args.subject,
                                                          operator=args.operator,
                                                          reason=args.reason)}
            if args.action == "import":
                read, written = await pin_admin.import_file(
                    settings, store, Path(args.subject), fmt=args.format,
                    replace=args.replace, operator=args.operator, reason=args.reason)
                return {"read": read, "written": written}
            return await pin_admin.status(store, args.subject)
        finally:
            await store.close()

    try:
        result = asyncio.run(go())
    except (pin_admin.PinAdminError, RegisterError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        print(f"cannot reach the store: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
    elif args.action in ("issue", "reset"):
        print(f"letter {result['letter_id']} written to {result['letter']} (mode 600): print "
              "it and send it by post; the code in it works until "
              f"{time.strftime('%Y-%m-%d', time.localtime(result['expires']))}, once")
    elif args.action == "revoke":
        print("revoked: the PIN and any letter's code no longer work" if result["revoked"]
              else "this citizen has no PIN: nothing to revoke")
    elif args.action == "import":
        print(f"read {result['read']} citizens, wrote {result['written']} "
              f"({'replacing' if args.replace else 'keeping'} records the store had)")
    else:
        print("  ".join(f"{k}: {v}" for k, v in result.items()))
    return 1 if args.action == "revoke" and not result["revoked"] else 0


# What the operator commands need beyond the node's own dependencies (the extra "ops"):
# the demo e-services (authlib), the simulated phone's camera (zxingcpp, numpy), load
# (locust) and the reports' plots (matplotlib). A production node image has none of them.
OPS_MODULES = ("authlib", "itsdangerous", "zxingcpp", "numpy", "locust", "matplotlib")


def _ops_missing() -> list[str]:
    import importlib.util

    def absent(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is None
        except (ImportError, ValueError):
            return True

    return [m for m in OPS_MODULES if absent(m)]


def _ops(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """An operator command: it says what to install instead of failing half-way."""
    def command(args: argparse.Namespace) -> int:
        missing = _ops_missing()
        if missing:
            print(f"idportal {args.command} needs the operator tools ({', '.join(missing)} "
                  "missing): pip install 'idportal[ops]' (./setup.sh does)", file=sys.stderr)
            return 2
        return run(args)

    return command


@_ops
def _dev(args: argparse.Namespace) -> int:
    import ha.devrun

    return ha.devrun.main(args)


@_ops
def _cluster(args: argparse.Namespace) -> int:
    import ha.cluster

    return ha.cluster.main(args)


@_ops
def _drill(args: argparse.Namespace) -> int:
    import ha.drills.runner

    return ha.drills.runner.main(args)


@_ops
def _load(args: argparse.Namespace) -> int:
    import loadtests.run

    return loadtests.run.main(args)


@_ops
def _capacity(args: argparse.Namespace) -> int:
    import loadtests.capacity

    return loadtests.capacity.main(args)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="idportal", description="The city's one login.")
    p.add_argument("--config", help="TOML settings file (default: $IDPORTAL_CONFIG)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run one auth node (Uvicorn, or Hypercorn)")
    s.add_argument("--bind", default="127.0.0.1:8443", help="host:port (default %(default)s)")
    s.add_argument("--certfile", default="", help="TLS certificate (PEM) for https")
    s.add_argument("--keyfile", default="", help="TLS private key (PEM)")
    s.add_argument("--drain", type=float, default=0.0,
                   help="seconds to report not-ready before stopping on SIGTERM")
    s.add_argument("--server", choices=SERVERS, default=DEFAULT_SERVER,
                   help="the HTTP server: uvicorn (default: HTTP/1.1 with a C parser, "
                        "about a quarter less CPU per login; nodes sit behind HAProxy) or "
                        "hypercorn (HTTP/1.1 and h2, for a node that browsers reach directly)")
    s.add_argument("--access-log", action="store_true", help="the server's access log to stdout")
    s.add_argument("--metrics-bind", default="",
                   help="host:port of the internal listener for /metrics (default: the "
                        "metrics_bind setting; empty serves no metrics). Never put it behind "
                        "the front door")
    s.add_argument("--allow-any-address", action="store_true", help=argparse.SUPPRESS)
    s.set_defaults(func=_serve)

    k = sub.add_parser("keys", help="signing keys in the shared keys folder")
    k.add_argument("action", choices=["generate", "rotate"])
    k.add_argument("--dir", help="keys folder (default: keys_dir from the settings)")
    k.set_defaults(func=_keys)

    c = sub.add_parser("clients", help="the e-services (clients file)")
    c.add_argument("action", choices=["check", "secret", "reload"],
                   help="check FILE: validate; secret: a new client secret; reload: check "
                        "the running cluster's clients file and wait until every node runs "
                        "with it (no restart)")
    c.add_argument("file", nargs="?", help="clients TOML file (check; reload: instead of "
                                           "the cluster's own)")
    c.add_argument("--run-dir", default="run/cluster", help="the cluster (reload)")
    c.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (reload)")
    c.set_defaults(func=_clients)

    rp = sub.add_parser("representation",
                        help="who may act for which organisation (changes are audited)")
    rp.add_argument("action", choices=["list", "add", "remove"])
    rp.add_argument("--file", default="config/representation.toml",
                    help="the register (TOML); each change is appended to FILE.audit.jsonl")
    rp.add_argument("--personal-number", default="")
    rp.add_argument("--org-number", default="", help="NNNNNN-NNNN")
    rp.add_argument("--org-name", default="")
    rp.add_argument("--role", default="signatory",
                    choices=["signatory", "employee", "agent"])
    rp.set_defaults(func=_representation)

    au = sub.add_parser("audit", help="the audit trail in PostgreSQL: search it, or export "
                                      "everything stored about one citizen")
    au.add_argument("action", choices=["search", "export"])
    au.add_argument("personal_number", nargs="?", help="export: whose events")
    au.add_argument("--reference", default="", help="a support reference (request id)")
    au.add_argument("--client", default="", help="an e-service's client_id")
    au.add_argument("--outcome", default="", choices=["", "success", "failure", "refused"])
    au.add_argument("--since", default="", help="ISO time, e.g. 2026-11-30T08:00")
    au.add_argument("--until", default="", help="ISO time")
    au.add_argument("--limit", type=int, default=200)
    au.add_argument("--json", action="store_true")
    au.add_argument("--out", default="", help="export: write to this file (mode 600)")
    au.set_defaults(func=_audit)

    sp = sub.add_parser("support", help="the support desk: look up a reference or a citizen, "
                                        "lift PIN locks, log a citizen out everywhere")
    sp.add_argument("action", choices=["lookup", "citizen", "verify-caller", "unlock",
                                       "logout"])
    sp.add_argument("subject", help="lookup: a support reference; else a personal number")
    sp.add_argument("--operator", default="", help="unlock, logout: who does it (audited)")
    sp.add_argument("--reason", default="", help="unlock, logout: why (audited)")
    sp.add_argument("--json", action="store_true", help="for the desk's own tools")
    sp.set_defaults(func=_support)

    im = sub.add_parser("image", help="build the node's image from the Containerfile: buildah "
                                      "on a Debian root made by mmdebstrap, no registry")
    im.add_argument("action", choices=["build"])
    im.add_argument("--work-dir", default="run/image")
    im.set_defaults(func=_image)

    db = sub.add_parser("dashboard", help="write the Grafana dashboard (login SLOs, the "
                                          "store, failovers) as JSON to import into Grafana")
    db.add_argument("--out", default="ha/monitoring/dashboard.json")
    db.set_defaults(func=_dashboard)

    pk = sub.add_parser("pki", help="test material for smart-card login: a card CA and its "
                                    "CRL, the card listener's certificate, and cards "
                                    "(citizen, staff, no-number, revoked, expired, "
                                    "untrusted) as PEM and as .p12 for a browser")
    pk.add_argument("--dir", default="run/pki-cards")
    pk.add_argument("--server-ca-dir", default="run/cluster/pki",
                    help="the local CA the listener's certificate comes from")
    pk.set_defaults(func=_pki)

    pn = sub.add_parser("pin", aliases=["pins"], help="the PIN life cycle: activation "
                        "letters (issue, reset), revoke, import a register, status; hash and "
                        "seed for test registers",
                        formatter_class=argparse.RawDescriptionHelpFormatter, description="""\
  issue PNR    a one-time activation code in a printable letter (HTML, mode 600); the
               citizen chooses a PIN with it at /pin/aktivera; a PIN they have keeps
               working until then
  reset PNR    the same, and the current PIN stops working now
  revoke PNR   the PIN and any letter's code stop working
  status PNR   the PIN's state and any pending letter (never a hash)
  import FILE  a register (TOML or CSV; argon2id, bcrypt or pbkdf2_sha256 hashes):
               citizens the store lacks, or all with --replace
  hash | seed  an argon2id hash of a PIN on stdin; a seeded test register
issue, reset, revoke and import need --operator and --reason and are audit events.""")
    pn.add_argument("action", choices=["issue", "reset", "revoke", "import", "status", "hash",
                                       "seed"])
    pn.add_argument("subject", nargs="?", default="",
                    help="a personal number; import: the register file")
    pn.add_argument("--operator", default="", help="issue, reset, revoke, import: who does "
                                                   "it (audited)")
    pn.add_argument("--reason", default="", help="issue, reset, revoke, import: why "
                                                 "(audited)")
    pn.add_argument("--given-name", default="", help="issue: the letter's name, for a "
                                                     "citizen with no PIN record yet")
    pn.add_argument("--family-name", default="")
    pn.add_argument("--lang", choices=["sv", "en"], default="sv", help="the letter's language")
    pn.add_argument("--out", default="", help="issue, reset: the letter's folder (default "
                                              "pin.letters_dir); seed: the file to write")
    pn.add_argument("--format", choices=["auto", "toml", "csv"], default="auto",
                    help="import: the register's format (auto: by the file's suffix)")
    pn.add_argument("--replace", action="store_true",
                    help="import: overwrite records the store has (default: keep them)")
    pn.add_argument("--json", action="store_true", help="for the desk's own tools")
    pn.add_argument("--count", type=int, default=1000, help="seed: how many test citizens")
    pn.add_argument("--pin", default="1234", help="seed: their PIN")
    pn.set_defaults(func=_pin)

    d = sub.add_parser("dev", help="one node + Redis + BankID simulator + demo e-services, "
                                   "in the foreground")
    d.add_argument("--run-dir", default="run/dev")
    d.add_argument("--port", type=int, default=8443)
    d.set_defaults(func=_dev)

    cl = sub.add_parser("cluster", help="the local HA cluster")
    cl.add_argument("action", choices=["up", "down", "status", "restart", "rolling-restart"],
                    help="restart NAME: one process (a node drains first); rolling-restart: "
                         "every node in turn without a failed login (a rolling upgrade)")
    cl.add_argument("name", nargs="?", default="", help="the process to restart (restart)")
    cl.add_argument("--nodes", type=int, default=3)
    cl.add_argument("--server", choices=SERVERS, default=DEFAULT_SERVER,
                    help="the nodes' HTTP server (up; see serve --server)")
    cl.add_argument("--run-dir", default="run/cluster")
    cl.add_argument("--front-door", choices=["single", "ha"], default="single",
                    help="ha: two HAProxy sharing a floating address (keepalived, VRRP) in "
                         "network namespaces (needs root); single (default): one HAProxy "
                         "on 127.0.0.1, where namespaces are not available")
    cl.add_argument("--monitoring", action="store_true",
                    help="also Prometheus (with the alert rules) and a Redis exporter per "
                         "Redis, on loopback")
    cl.add_argument("--json", action="store_true")
    cl.set_defaults(func=_cluster)

    dr = sub.add_parser("drill", help="a failover drill under load against the running cluster")
    dr.add_argument("kind", choices=["redis-primary-kill", "redis-primary-freeze", "replica-kill",
                                     "sentinel-kill", "sentinel-and-replica-kill", "node-kill",
                                     "two-nodes-kill", "node-freeze", "haproxy-reload",
                                     "rolling-restart", "primary-partition", "haproxy-kill",
                                     "front-door-freeze", "postgres-kill"])
    dr.add_argument("--load", type=int, default=6, help="concurrent citizens (default %(default)s)")
    dr.add_argument("--duration", type=float, default=20.0, help="seconds of load (default %(default)s)")
    dr.add_argument("--approval-delay", type=float, default=0.0,
                    help="seconds each citizen takes to approve in the e-ID app")
    dr.add_argument("--provider", choices=["bankid", "freja"], default="bankid",
                    help="the e-ID the citizens of the load log in with (default %(default)s)")
    dr.add_argument("--report", default="ha/reports",
                    help="folder for JSON, Markdown and PNG; a report already there is kept "
                         "(this one goes to RUN_DIR/reports) unless --overwrite")
    dr.add_argument("--overwrite", action="store_true",
                    help="replace the drill's report in --report")
    dr.add_argument("--allow-skip", action="store_true",
                    help="exit 0 when the drill cannot run here (default: exit 3)")
    dr.add_argument("--run-dir", default="run/cluster")
    dr.add_argument("--strict", action="store_true", help="also fail when a goal is not met")
    dr.set_defaults(func=_drill)

    ld = sub.add_parser("load", help="a headless Locust run of citizen journeys against the cluster")
    # The scenarios of loadtests/scenarios.py (a test keeps the two the same).
    ld.add_argument("scenario", choices=["peak", "bankid", "freja", "sso", "pin", "stepup",
                                         "refresh", "logout"])
    ld.add_argument("--users", type=int, default=20, help="peak concurrent users (default %(default)s)")
    ld.add_argument("--duration", type=float, default=60.0, help="seconds; the run stops itself")
    ld.add_argument("--shape", default="constant",
                    choices=["constant", "ramp", "spike", "soak", "step"])
    ld.add_argument("--approval-delay", default="0",
                    help="seconds the citizen takes in the BankID app: 0, 10 or a range 5-20")
    ld.add_argument("--processes", type=int, default=0,
                    help="Locust worker processes (default: half the cores, at least 1; the "
                         "other half is left to the cluster)")
    ld.add_argument("--think-time", default="",
                    help="seconds between a user's journeys, e.g. 0 or 0.5-2 (default per class)")
    ld.add_argument("--slo", default="", help="SLO file (default loadtests/slo.toml)")
    ld.add_argument("--out", default="loadtests/results/latest")
    ld.add_argument("--run-dir", default="run/cluster")
    ld.set_defaults(func=_load)

    cp = sub.add_parser("capacity", help="find the knee and plan nodes for a peak")
    cp.add_argument("--scenario", default="peak")
    cp.add_argument("--steps", default="2,4,8,12,16,24,32", help="users per step")
    cp.add_argument("--step-duration", type=float, default=20.0)
    cp.add_argument("--think-time", default="0", help="seconds between journeys (0 saturates)")
    cp.add_argument("--population", type=int, default=600_000, help="people who may log in")
    cp.add_argument("--peak-hour-share", type=float, default=0.03,
                    help="share of the population logging in during the peak hour")
    cp.add_argument("--peak-factor", type=float, default=3.0,
                    help="busiest minute against the peak hour's average")
    cp.add_argument("--growth", type=float, default=1.2, help="next year's peak against this year's")
    cp.add_argument("--cores-per-node", type=int, default=2,
                    help="cores of each production node (planning is per core)")
    cp.add_argument("--out", default="loadtests/results/capacity")
    cp.add_argument("--run-dir", default="run/cluster")
    cp.set_defaults(func=_capacity)
    return p


# SIGPIPE stays ignored (Python's own default) for every command: a node, a drill or a
# load run that writes to a socket its peer has closed gets an EPIPE to handle. Restoring
# SIGPIPE's default, as pipe-friendly tools do, killed `idportal serve` when a client hung
# up early and `idportal drill haproxy-reload` when HAProxy's old worker closed a
# connection. A closed stdout (`idportal cluster status | head`) is handled below.
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE  # what a shell reports for a tool SIGPIPE ended


def _stdout_is_closed() -> bool:
    """Whether nobody reads our stdout any more (a pipe whose reader has gone)."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):
        return False
    poll = select.poll()
    poll.register(fd, select.POLLOUT)
    return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poll.poll(0))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # here, not at exit, so that a closed stdout is seen below
        return code
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    except BrokenPipeError:
        if not _stdout_is_closed():
            raise  # a socket's, not stdout's: not ours to hide
        # Whoever read our output stopped: end quietly, without the interpreter's
        # complaint about an unflushable stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
