"""The node's HTTP/1.1 protocol under Uvicorn: Uvicorn's httptools protocol with two
changes of our own.

- A limit on the request head (``BoundedHttpTools``): httptools has none.
- A response leaves in one write (``OneWrite``): Uvicorn writes the status line and
  headers, then the body, each with its own ``send`` system call. On loopback (HAProxy
  beside the node) a ``send`` also runs the receiving side's TCP work, so a response
  that leaves in one call costs the node about half its sending (BENCHMARKS.md). The
  head is held back until the body's first write and joined to it; nothing else
  changes (a ``100 Continue`` goes at once, a close sends what was held, the head of a
  HEAD answer, which has no body write, goes alone).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class OneWrite(asyncio.Transport):
    """One response's view of its connection: the first write (the head, which Uvicorn
    writes alone) waits for the next (the body, or its first chunk) and both go in one
    call. Every other write, and every other method, goes straight through."""

    __slots__ = ("_conn", "_first", "_held")

    def __init__(self, conn: asyncio.Transport) -> None:
        super().__init__()
        self._conn = conn
        self._held = b""
        self._first = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._first and data != CONTINUE:
            self._first = False
            self._held = bytes(data)
            return
        if self._held:
            data, self._held = self._held + data, b""
        self._conn.write(data)

    def flush(self) -> None:
        if self._held:
            held, self._held = self._held, b""
            self._conn.write(held)

    def close(self) -> None:
        self.flush()  # a head without its body goes out as before: the client sees it
        self._conn.close()

    def abort(self) -> None:
        self._conn.abort()

    def is_closing(self) -> bool:
        return self._conn.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._conn.get_extra_info(name, default)

    def get_write_buffer_size(self) -> int:
        return self._conn.get_write_buffer_size() + len(self._held)

    def pause_reading(self) -> None:
        self._conn.pause_reading()

    def resume_reading(self) -> None:
        self._conn.resume_reading()

    def is_reading(self) -> bool:
        return self._conn.is_reading()


# The request line and headers together. h11 (Hypercorn) answers 431 past 16 KiB on its
# own; httptools has no limit and would buffer a header of any size.
MAX_HEAD_BYTES = 16 * 1024
_TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n"
              b"connection: close\r\n\r\n")


class _HeadTooLarge(Exception):
    pass


class BoundedHttpTools(HttpToolsProtocol):
    """Uvicorn's httptools protocol, each response in one write (``OneWrite``), with a
    limit on the request head (request line and headers): past ``MAX_HEAD_BYTES`` the
    node answers 431 and closes the connection, before the app sees the request. Counted
    twice: as parsed (a head that arrives in one read) and as received while incomplete
    (a head that keeps coming), so httptools never buffers more than the limit and one
    read."""

    _in_head = False
    _head_size = 0  # the head as parsed so far
    _head_bytes = 0  # bytes received while the head was incomplete
    _too_large = False

    def on_message_begin(self) -> None:
        self._in_head, self._head_size = True, 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._grow(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._grow(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()
        # Uvicorn made the request's cycle and scheduled it (it has not run yet). A HEAD
        # answer has no body write to join: Uvicorn writes its head alone, as before.
        if self.cycle is not None and self.scope["method"] != "HEAD":
            self.cycle.transport = OneWrite(self.transport)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._in_head:
            self._head_bytes = 0
            return
        self._head_bytes += len(data)
        if self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
            self._refuse()

    def send_400_response(self, msg: str) -> None:
        # A callback's exception reaches uvicorn as a parser error (a 400): ours is a 431.
        if self._too_large:
            self._refuse()
        else:
            super().send_400_response(msg)

    def _grow(self, n: int) -> None:
        self._head_size += n
        if self._head_size > MAX_HEAD_BYTES:
            self._too_large = True
            raise _HeadTooLarge

    def _refuse(self) -> None:
        self.transport.write(_TOO_LARGE)
        self.transport.close()


