"""JSON POSTs to one origin over kept-alive HTTP/1.1 connections: the BankID RP API's
``/auth``, ``/collect`` and ``/cancel``, two of them in every BankID login.

asyncio's transports carry the bytes (TLS, and mutual TLS, with the context given) and
httptools parses the answers: the parser Uvicorn serves with, so nothing new is
installed. It replaces aiohttp here because of what a call costs the node: about 35 µs
of CPU against aiohttp's 130 (``BENCHMARKS.md``), a twentieth of a BankID login each.

A connection is reused while the server keeps it open and it has been idle less than
``idle_s``; a call that fails in any way (refused, reset, timed out, cancelled, an answer
httptools cannot parse or longer than ``max_body``) closes its connection, so no late
answer can reach another call. Nothing is retried here: ``/auth`` starts an order, and
whether to try again is the caller's decision. Every failure is an ``OSError`` (a
``BadAnswer`` for an answer that cannot be read, a ``ConnectionResetError`` for one cut
off) or ``TimeoutError``.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes


class BadAnswer(ConnectionError):
    """The server's answer could not be read: malformed or too long. (A connection the
    server closed before its answer is a ``ConnectionResetError``.)"""


class _Connection(asyncio.Protocol):
    """One connection; one call at a time."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Answer] | None = None
        self.body = bytearray()
        self.too_long = False
        self.closed = False
        self.idle_since = 0.0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionResetError("the server closed the connection"))

    def data_received(self, data: bytes) -> None:
        if self.waiter is None or self.waiter.done():
            self.close()  # nothing was asked: whatever this is, the connection is spent
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(BadAnswer(f"malformed answer ({exc})"))
            self.close()
            return
        if self.too_long:
            self._fail(BadAnswer(f"answer longer than {self.max_body} bytes"))
            self.close()

    # httptools
    def on_body(self, body: bytes) -> None:
        if len(self.body) + len(body) > self.max_body:
            self.too_long = True
        else:
            self.body += body

    def on_message_complete(self) -> None:
        if self.waiter is not None and not self.waiter.done() and not self.too_long:
            if not self.parser.should_keep_alive():
                self.closed = True  # the answer said so: used once more by nobody
            self.waiter.set_result(Answer(self.parser.get_status_code(), bytes(self.body)))

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    async def exchange(self, request: bytes) -> Answer:
        assert self.transport is not None
        self.body.clear()
        self.too_long = False
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class JsonPoster:
    """POSTs JSON to paths under ``base_url`` (http or https); at most ``limit``
    connections at once, each call bounded by ``timeout_s`` as a whole (connecting,
    the TLS handshake, sending, the answer)."""

    def __init__(self, base_url: str, *, ssl_context: ssl.SSLContext | None, timeout_s: float,
                 limit: int = 100, idle_s: float = 4.0, max_body: int = 65536) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = ssl_context if parts.scheme == "https" else None
        if parts.scheme == "https" and self.ssl is None:
            self.ssl = ssl.create_default_context()
        self.prefix = parts.path.rstrip("/") + "/"
        default_port = self.port == (443 if self.ssl else 80)
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        self.host_header = (host if default_port else f"{host}:{self.port}").encode()
        self.timeout_s = timeout_s
        # Below the server's own keep-alive (Uvicorn's default is 5 s): a connection is
        # not reused just as the server closes it.
        self.idle_s = idle_s
        self.max_body = max_body
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(limit)

    def _request(self, path: str, body: bytes) -> bytes:
        return b"".join((b"POST ", (self.prefix + path).encode(), b" HTTP/1.1\r\nHost: ",
                         self.host_header, b"\r\nContent-Type: application/json\r\n"
                         b"Accept: application/json\r\nContent-Length: ",
                         str(len(body)).encode(), b"\r\n\r\n", body))

    def _take(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and now - conn.idle_since < self.idle_s:
                return conn
            conn.close()
        return None

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(
            lambda: _Connection(self.max_body), self.host, self.port, ssl=self.ssl,
            server_hostname=self.host if self.ssl else None)
        return conn

    async def post(self, path: str, body: bytes) -> Answer:
        """``body`` (JSON, already encoded) to ``path`` under the base URL."""
        request = self._request(path, body)
        async with self._slots:
            conn = self._take()
            try:
                async with asyncio.timeout(self.timeout_s):
                    if conn is None:
                        conn = await self._open()
                    answer = await conn.exchange(request)
            except BaseException:
                if conn is not None:
                    conn.close()
                raise
            if conn.closed:
                conn.close()
            else:
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
            return answer

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
        await asyncio.sleep(0)  # let the transports close
