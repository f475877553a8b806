"""``providers.json_post`` against a scripted server on loopback: connections are kept
and reused, and every way an answer can go wrong (too long, malformed, cut off, late,
closed by the server) fails that call alone with an ``OSError`` or ``TimeoutError`` and
never hands a stale answer to the next call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from service.providers.json_post import JsonPoster

Reply = Callable[[bytes], bytes | None]  # the request's body → what the server writes


def ok(body: bytes, *, close: bool = False) -> bytes:
    extra = b"Connection: close\r\n" if close else b""
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra +
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


@asynccontextmanager
async def server(reply: Reply) -> AsyncIterator[tuple[str, list[int]]]:
    """A server that answers each request with ``reply(body)`` (None: say nothing);
    yields its base URL and a list that counts requests per connection."""
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(0)
        index = len(connections) - 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                body = await reader.readexactly(length)
                connections[index] += 1
                out = reply(body)
                if out is not None:
                    writer.write(out)
                    await writer.drain()
                if out is not None and b"Connection: close" in out:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/rp/v6.0", connections
    finally:
        srv.close()


async def test_calls_reuse_one_kept_alive_connection() -> None:
    async with server(lambda body: ok(body)) as (url, connections):
        poster = JsonPoster(url, ssl_context=None, timeout_s=2)
        for i in range(3):
            answer = await poster.post("collect", b'{"orderRef":"%d"}' % i)
            assert (answer.status, answer.body) == (200, b'{"orderRef":"%d"}' % i)
        assert connections == [3]
        await poster.close()


async def test_a_chunked_answer_and_an_error_status_are_read() -> None:
    chunked = (b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\n{\"err\r\n7\r\norCode\"\r\n5\r\n:\"x\"}\r\n0\r\n\r\n")
    async with server(lambda body: chunked) as (url, _):
        poster = JsonPoster(url, ssl_context=None, timeout_s=2)
        answer = await poster.post("auth", b"{}")
        assert (answer.status, answer.body) == (400, b'{"errorCode":"x"}')
        await poster.close()


async def test_a_server_that_closes_after_answering_gets_a_new_connection_next_time() -> None:
    async with server(lambda body: ok(body, close=True)) as (url, connections):
        poster = JsonPoster(url, ssl_context=None, timeout_s=2)
        assert (await poster.post("a", b"1")).body == b"1"
        assert (await poster.post("a", b"2")).body == b"2"
        assert connections == [1, 1]
        await poster.close()


@pytest.mark.parametrize(("answer", "why"), [
    (ok(b"x" * 70_000), "longer than"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: nine\r\n\r\n{}", "malformed"),
    (b"NOT HTTP AT ALL\r\n\r\n", "malformed"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"cut\"",
     "closed the connection"),
], ids=["too long", "bad length", "not http", "cut off"])
async def test_a_bad_answer_fails_its_call_and_the_next_call_is_answered(
        answer: bytes, why: str) -> None:
    bad = [True]

    def reply(body: bytes) -> bytes:
        if bad.pop() if bad else False:
            return answer
        return ok(body)

    async with server(reply) as (url, _):
        poster = JsonPoster(url, ssl_context=None, timeout_s=2, max_body=65536)
        with pytest.raises(ConnectionError, match=why):
            await poster.post("collect", b'{"n":1}')
        assert (await poster.post("collect", b'{"n":2}')).body == b'{"n":2}'
        await poster.close()


async def test_a_call_that_times_out_closes_its_connection() -> None:
    # Its answer, should it come, could only arrive on that connection: closed, so no
    # later call can read it as its own.
    async with server(lambda body: None if body == b'"slow"' else ok(body)) as (
            url, connections):
        poster = JsonPoster(url, ssl_context=None, timeout_s=0.3)
        with pytest.raises(TimeoutError):
            await poster.post("collect", b'"slow"')
        assert (await poster.post("collect", b'"fast"')).body == b'"fast"'
        assert len(connections) == 2
        await poster.close()


async def test_nobody_listening_is_an_os_error() -> None:
    async with server(lambda body: ok(body)) as (url, _):
        pass  # closed again: the port is free now
    poster = JsonPoster(url, ssl_context=None, timeout_s=2)
    with pytest.raises(OSError):
        await poster.post("auth", b"{}")


def test_the_host_header_names_the_origin() -> None:
    for url, host in (("http://127.0.0.1:8444/rp/v6.0", b"127.0.0.1:8444"),
                      ("https://appapi2.bankid.com/rp/v6.0", b"appapi2.bankid.com"),
                      ("http://[::1]:8444/rp", b"[::1]:8444"), ("https://[::1]/rp", b"[::1]")):
        poster = JsonPoster(url, ssl_context=None, timeout_s=1)
        assert poster.host_header == host
        assert poster._request("collect", b"{}").startswith(
            b"POST " + url.split(host.decode(), 1)[1].encode() + b"/collect HTTP/1.1\r\nHost: "
            + host + b"\r\n")


def test_only_http_and_https_urls_are_taken() -> None:
    for url in ("ftp://x/rp", "bankid.example/rp", "http:///rp"):
        with pytest.raises(ValueError, match="not an http"):
            JsonPoster(url, ssl_context=None, timeout_s=1)
