"""A flood of anonymous logins from one address, on a fresh cluster on free ports: what it
leaves in Redis, and what the citizens logging in meanwhile from other addresses see.

Three phases of ``--duration`` seconds each, the citizens logging in (PIN, each from an
address of its own) throughout:
- quiet: no flood, the citizens' baseline;
- limited: one address (127.0.0.2) sends ``--requests`` /authorize requests as fast as
  ``--concurrency`` connections allow; the front door answers 429 past its limit;
- unlimited: the same flood from an address the front door does not limit (127.0.0.1,
  exempt in the local cluster), to show what reaches the store: nothing, since a login
  transaction travels sealed in the browser (``service/login/transaction.py``).

Bounded in count and time; prints the figures and writes them to ``--out``.

    python -m benchmarks.flood_bench [--requests 20000] [--concurrency 32] [--citizens 6]
                                     [--duration 30] [--out benchmarks/results/flood.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import statistics
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from ha import cluster as clustermod
from ha import stack
from tests.helpers import citizen

REGISTER = tomllib.loads((stack.REPO / "config" / "pin-register.toml").read_text())["citizen"]


def redis_memory(c: clustermod.Cluster) -> dict[str, int]:
    r = c.redis_client(c.primary_port() or c.layout.redis[0], timeout=5)
    try:
        mem = r.info("memory")
        keys = int(r.dbsize())
    finally:
        r.close()
    return {"used_memory": int(mem["used_memory"]), "keys": keys}


async def citizens_loop(info: dict[str, Any], n: int, stop: asyncio.Event,
                        results: list[tuple[bool, float]]) -> None:
    async def one(i: int) -> None:
        transport = httpx.AsyncHTTPTransport(
            verify=ssl.create_default_context(cafile=info["ca_file"]),
            local_address=f"127.0.0.{3 + i}")
        redirect = info["demos"]["mina-sidor"] + "/callback"
        pnr = str(REGISTER[500 + i]["personal_number"])
        async with httpx.AsyncClient(base_url=info["issuer"], transport=transport,
                                     timeout=30) as b:
            while not stop.is_set():
                b.cookies.clear()
                started = time.perf_counter()
                try:
                    resp, _ = await citizen.start(b, "mina-sidor", redirect_uri=redirect)
                    final = await citizen.pin_login(b, citizen.login_url(resp), pnr, "1234")
                    ok = final.status_code == 303
                except (httpx.HTTPError, AssertionError):
                    ok = False
                results.append((ok, time.perf_counter() - started))
                await asyncio.sleep(0.5)

    await asyncio.gather(*(one(i) for i in range(n)))


async def flood(info: dict[str, Any], source: str, requests: int, concurrency: int,
                deadline: float) -> dict[str, int]:
    params, _ = citizen.authorize_params("mina-sidor",
                                         redirect_uri=info["demos"]["mina-sidor"] + "/callback")
    url = "/authorize?" + urlencode(params)
    codes: dict[str, int] = {}
    left = iter(range(requests))
    transport = httpx.AsyncHTTPTransport(
        verify=ssl.create_default_context(cafile=info["ca_file"]), local_address=source,
        limits=httpx.Limits(max_connections=concurrency))

    async with httpx.AsyncClient(base_url=info["issuer"], transport=transport, timeout=30) as b:
        async def worker() -> None:
            for _ in left:
                if time.monotonic() > deadline:
                    return
                try:
                    r = await b.get(url)
                    key = str(r.status_code)
                except httpx.HTTPError as exc:
                    key = type(exc).__name__
                codes[key] = codes.get(key, 0) + 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return codes


def summary(results: list[tuple[bool, float]]) -> dict[str, float]:
    times = sorted(t for ok, t in results if ok)
    return {"logins": len(results), "failed": sum(1 for ok, _ in results if not ok),
            "p50_ms": round(statistics.median(times) * 1000, 1) if times else 0.0,
            "p95_ms": round(times[int(0.95 * (len(times) - 1))] * 1000, 1) if times else 0.0}


async def phase(c: clustermod.Cluster, info: dict[str, Any], name: str, source: str,
                a: argparse.Namespace) -> dict[str, Any]:
    before = redis_memory(c)
    stop = asyncio.Event()
    results: list[tuple[bool, float]] = []
    logins = asyncio.create_task(citizens_loop(info, a.citizens, stop, results))
    started = time.monotonic()
    codes: dict[str, int] = {}
    if source:
        codes = await flood(info, source, a.requests, a.concurrency, started + a.max_flood_s)
    flood_s = time.monotonic() - started
    await asyncio.sleep(max(0.0, a.duration - flood_s))
    stop.set()
    await logins
    after = redis_memory(c)
    row = {"phase": name, "flood_from": source, "flood_codes": codes,
           "flood_seconds": round(flood_s, 1) if source else 0,
           "redis_before": before, "redis_after": after,
           "redis_growth_bytes": after["used_memory"] - before["used_memory"],
           "citizens": summary(results)}
    print(json.dumps(row), flush=True)
    return row


async def main_async(a: argparse.Namespace) -> list[dict[str, Any]]:
    run_dir = Path(tempfile.mkdtemp(prefix="flood-"))
    try:
        c = clustermod.up(run_dir, clustermod.Layout.free(3, demos=True))
        info = clustermod.describe(c)
        rows = [await phase(c, info, "quiet", "", a),
                await phase(c, info, "limited", "127.0.0.2", a),
                await phase(c, info, "unlimited", "127.0.0.1", a)]
        return rows
    finally:
        clustermod.down(run_dir)


def main() -> None:
    ap = argparse.ArgumentParser(prog="flood_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--citizens", type=int, default=6, help="citizens logging in meanwhile")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per phase (at least)")
    ap.add_argument("--max-flood-s", type=float, default=180.0, help="a flood stops after this")
    ap.add_argument("--out", default="benchmarks/results/flood.json")
    a = ap.parse_args()
    rows = asyncio.run(main_async(a))
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               "args": vars(a), "rows": rows}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
