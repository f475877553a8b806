"""Each response leaves the node in one write (``service.uvicorn_protocol.OneWrite``),
and nothing a client sees changes: keep-alive, pipelining, HEAD, a streamed body,
``Expect: 100-continue``, a handler that fails after its head. A real Uvicorn server on
loopback with the node's protocol; the writes are counted on the connection."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from service.uvicorn_protocol import CONTINUE, BoundedHttpTools, OneWrite

WRITES: list[bytes] = []


class _Counted:
    """The connection as the protocol sees it, with every write noted."""

    def __init__(self, conn: asyncio.Transport) -> None:
        self._conn = conn

    def write(self, data: bytes) -> None:
        WRITES.append(bytes(data))
        self._conn.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class CountingProtocol(BoundedHttpTools):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(_Counted(transport))  # type: ignore[arg-type]


async def page(request: Request) -> Response:
    return PlainTextResponse("x" * 1500, headers={"x-extra": "1"})


async def echo(request: Request) -> Response:
    return PlainTextResponse(await request.body())


async def stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"one,", b"two,", b"three"):
            await asyncio.sleep(0.01)
            yield part
    return StreamingResponse(chunks(), media_type="text/plain")


async def broken(request: Request) -> Response:
    class Half(Response):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"10")]})
            raise RuntimeError("the handler failed after its head")
    return Half()


APP = Starlette(routes=[Route("/page", page, methods=["GET", "HEAD"]),
                        Route("/echo", echo, methods=["POST"]), Route("/stream", stream),
                        Route("/broken", broken)])


@pytest.fixture
async def server() -> AsyncIterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(APP, host="127.0.0.1", port=port, http=CountingProtocol,
                                        lifespan="off", log_config=None, log_level="critical"))
    task = asyncio.create_task(srv.serve())
    for _ in range(500):  # up to 5 s
        if srv.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        srv.should_exit = True
        await task


async def _read_response(reader: asyncio.StreamReader, *, head_only: bool = False) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lower = head.lower()
    if head_only:
        return head, b""
    if b"content-length:" in lower:
        n = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
        return head, await reader.readexactly(n)
    body = b""
    while True:  # chunked
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        data = await reader.readexactly(size + 2)
        if size == 0:
            return head, body
        body += data[:-2]


@contextlib.asynccontextmanager
async def _connection(port: int) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def test_each_response_leaves_in_one_write_over_a_kept_alive_connection(server: int) -> None:
    WRITES.clear()
    async with _connection(server) as (reader, writer):
        for _ in range(3):
            writer.write(b"GET /page HTTP/1.1\r\nhost: x\r\n\r\n")
            head, body = await _read_response(reader)
            assert head.startswith(b"HTTP/1.1 200") and b"x-extra: 1" in head
            assert body == b"x" * 1500
    assert len(WRITES) == 3
    assert all(w.startswith(b"HTTP/1.1 200") and w.endswith(b"x" * 1500) for w in WRITES)


async def test_pipelined_requests_are_answered_in_order_each_in_one_write(server: int) -> None:
    WRITES.clear()
    async with _connection(server) as (reader, writer):
        writer.write(b"GET /page HTTP/1.1\r\nhost: x\r\n\r\n"
                     b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello"
                     b"GET /page HTTP/1.1\r\nhost: x\r\n\r\n")
        bodies = [(await _read_response(reader))[1] for _ in range(3)]
    assert bodies == [b"x" * 1500, b"hello", b"x" * 1500]
    assert len(WRITES) == 3


async def test_a_head_request_gets_its_head_alone_and_the_connection_goes_on(server: int) -> None:
    WRITES.clear()
    async with _connection(server) as (reader, writer):
        writer.write(b"HEAD /page HTTP/1.1\r\nhost: x\r\n\r\n")
        head, _ = await _read_response(reader, head_only=True)
        writer.write(b"GET /page HTTP/1.1\r\nhost: x\r\n\r\n")  # the connection goes on
        assert (await _read_response(reader))[1] == b"x" * 1500
    assert head.startswith(b"HTTP/1.1 200") and b"content-length: 1500" in head.lower()
    assert len(WRITES) == 2 and WRITES[0] == head


async def test_a_streamed_body_arrives_whole_its_head_with_the_first_chunk(server: int) -> None:
    WRITES.clear()
    async with _connection(server) as (reader, writer):
        writer.write(b"GET /stream HTTP/1.1\r\nhost: x\r\n\r\n")
        head, body = await _read_response(reader)
    assert b"transfer-encoding: chunked" in head.lower()
    assert body == b"one,two,three"
    assert WRITES[0].startswith(b"HTTP/1.1 200") and WRITES[0].endswith(b"one,\r\n")


async def test_a_client_that_expects_100_continue_gets_it_before_it_sends_the_body(server: int) -> None:
    WRITES.clear()
    async with _connection(server) as (reader, writer):
        writer.write(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n"
                     b"expect: 100-continue\r\n\r\n")
        assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5) == CONTINUE
        writer.write(b"hello")
        head, body = await _read_response(reader)
    assert head.startswith(b"HTTP/1.1 200") and body == b"hello"
    assert WRITES[0] == CONTINUE and len(WRITES) == 2


async def test_a_handler_that_fails_after_its_head_closes_the_connection_after_the_head(
        server: int) -> None:
    async with _connection(server) as (reader, writer):
        writer.write(b"GET /broken HTTP/1.1\r\nhost: x\r\n\r\n")
        got = await asyncio.wait_for(reader.read(), 5)  # to the end: the node closed
    assert got.startswith(b"HTTP/1.1 200")  # the head went out as before, then the close


class _Recording(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0


def test_the_head_waits_for_the_body_and_later_writes_go_straight_through() -> None:
    conn = _Recording()
    one = OneWrite(conn)
    one.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert conn.writes == [] and one.get_write_buffer_size() == 19
    one.write(b"body")
    one.write(b"more")
    assert conn.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"more"]


def test_a_held_head_is_sent_before_the_connection_closes() -> None:
    conn = _Recording()
    one = OneWrite(conn)
    one.write(b"HTTP/1.1 200 OK\r\n\r\n")
    one.close()
    assert conn.writes == [b"HTTP/1.1 200 OK\r\n\r\n"] and conn.closed and one.is_closing()
