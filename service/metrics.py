"""Prometheus metrics of one node (served on ``/metrics``). Labels take values from
fixed sets only (routes, outcomes, BankID codes mapped to the known ones), so a
misbehaving peer cannot grow the series without bound."""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    ProcessCollector,
)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # process_cpu_seconds_total, resident memory, fds, …


def _commit() -> str:
    """The commit this node runs: IDPORTAL_COMMIT (an image sets it), else the checkout's
    HEAD, else 'unknown'."""
    if os.environ.get("IDPORTAL_COMMIT"):
        return os.environ["IDPORTAL_COMMIT"][:40]
    git = Path(__file__).resolve().parents[1] / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            if (git / ref).exists():
                return (git / ref).read_text().strip()[:40]
            for line in (git / "packed-refs").read_text().splitlines():
                if line.endswith(" " + ref):
                    return line.split()[0][:40]
            return "unknown"
        return head[:40]
    except OSError:
        return "unknown"


def _version() -> str:
    try:
        return importlib.metadata.version("idportal")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


BUILD = Info("idportal_build", "The version and commit this node runs", registry=REGISTRY)
BUILD.info({"version": _version(), "commit": _commit()})

REQUESTS = Counter(
    "idportal_http_requests_total", "HTTP requests by route and status class",
    ["route", "status"], registry=REGISTRY,
)
LATENCY = Histogram(
    "idportal_http_request_seconds", "HTTP request latency by route", ["route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
LOGINS = Counter(
    "idportal_logins_total", "Login events by method and outcome", ["method", "outcome"],
    registry=REGISTRY,
)
TOKENS = Counter(
    "idportal_token_grants_total", "Token endpoint grants by type and outcome",
    ["grant_type", "outcome"], registry=REGISTRY,
)
STORE_RETRIES = Counter(
    "idportal_store_retries_total", "Store calls retried, by error kind", ["error"],
    registry=REGISTRY,
)
STORE_UNAVAILABLE = Counter(
    "idportal_store_unavailable_total", "Store calls that failed after the retry budget",
    registry=REGISTRY,
)
FAILOVERS_SEEN = Counter(
    "idportal_store_failovers_seen_total", "Times this node saw the Redis primary change",
    registry=REGISTRY,
)
STORE_LATENCY = Histogram(
    "idportal_store_call_seconds", "Latency of store calls incl. retries", ["op"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
BACKCHANNEL = Counter(
    "idportal_backchannel_logout_total",
    "Back-channel logout attempts by outcome (ok, failed: retried later, expired: given up)",
    ["outcome"], registry=REGISTRY,
)
BACKCHANNEL_QUEUE = Gauge(
    "idportal_backchannel_queue", "Ended sessions with back-channel logouts still to deliver",
    registry=REGISTRY,
)
PIN_VERIFY_CPU = Histogram(
    "idportal_pin_verify_cpu_seconds",
    "CPU time of one argon2id PIN verification: the floor under each PIN login's cost",
    buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5), registry=REGISTRY,
)
PIN_ACTIVATIONS = Counter(
    "idportal_pin_activations_total",
    "PINs chosen with a letter's activation code, by outcome (success, failed: wrong "
    "number or code or an expired one, used: taken by another browser first, locked)",
    ["outcome"], registry=REGISTRY,
)
PIN_VERIFICATIONS = Counter(
    "idportal_pin_verifications_total",
    "argon2id PIN verifications run (the lockout policy bounds them per citizen)",
    registry=REGISTRY,
)
PIN_VERIFY_QUEUE = Histogram(
    "idportal_pin_verify_queue_seconds",
    "Time a PIN verification waited for a free hashing slot (one per core)",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=REGISTRY,
)
READY = Gauge("idportal_ready", "1 when the node can serve", registry=REGISTRY)
CERT_EXPIRY = Gauge(
    "idportal_certificate_expiry_timestamp_seconds",
    "When a certificate the node uses or watches stops being valid (the earliest of a "
    "bundle)", ["certificate"], registry=REGISTRY,
)
AUDIT_BACKLOG = Gauge(
    "idportal_audit_backlog", "Audit events waiting in the stream to be shipped to PostgreSQL",
    registry=REGISTRY,
)
AUDIT_SHIPPED = Counter(
    "idportal_audit_shipped_total", "Audit events this node shipped into PostgreSQL",
    registry=REGISTRY,
)
AUDIT_SHIP_FAILURES = Counter(
    "idportal_audit_ship_failures_total",
    "Failed attempts to ship a batch of audit events (PostgreSQL unreachable or refusing)",
    registry=REGISTRY,
)
CLIENTS_FILE = Gauge(
    "idportal_clients_file_mtime_seconds",
    "The modification time of the clients file the node runs with (idportal clients reload "
    "waits until every node shows the new one)", registry=REGISTRY,
)
CLIENTS = Gauge("idportal_clients", "E-services the node knows", registry=REGISTRY)
SIGNING_KEY_CREATED = Gauge(
    "idportal_signing_key_created_timestamp_seconds",
    "When the oldest key that signs ID tokens now was made", registry=REGISTRY,
)
