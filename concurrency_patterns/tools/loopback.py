"""A real HTTP server on 127.0.0.1, run on an event loop in its own thread.

The contract tests and the demo fetch from it. ``GET /item/<i>?delay=<seconds>&status=<code>``
answers ``item <i>`` after the delay, with the status; ``GET /hop/<n>/<i>`` redirects n times
before it lands there. The server counts the requests it is handling
at each moment and keeps the highest count, so a client's promise to keep at most ``limit``
requests in flight is checked where it matters: at the server.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from .._core.lazy import lazy

if TYPE_CHECKING:
    from aiohttp import web
else:  # the server is aiohttp's: it comes with the [http] extra, as the fetch's clients do
    web = lazy(globals(), "aiohttp.web", bind="web", extra="http")


__all__ = ["HttpServer", "event_loop_thread", "fast_server", "loopback_server", "serving"]


class HttpServer:
    """The running server's address and counters."""

    def __init__(self) -> None:
        self.base = ""
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests = 0
        self.attempts: dict[str, int] = {}
        self.peers: set[object] = set()  # the client ends of the connections requests came on

    def url(self, i: int = 0, *, delay: float = 0.0, status: int = 200) -> str:
        query = {k: v for k, v in (("delay", delay), ("status", status)) if v not in (0, 200)}
        return f"{self.base}/item/{i}" + (f"?{urlencode(query)}" if query else "")

    def flaky_url(self, key: str, fails: int, *, status: int = 503,
                  retry_after: str | None = None) -> str:
        """A URL that answers *status* (with ``Retry-After``, if given) to its first *fails*
        requests, then ``item <key>``; ``attempts[key]`` counts the requests it got."""
        query = {"status": status, **({"retry_after": retry_after} if retry_after else {})}
        return f"{self.base}/flaky/{key}/{fails}?{urlencode(query)}"

    def redirect_url(self, hops: int, i: int = 0) -> str:
        """A URL that redirects *hops* times (302) before ``/item/<i>`` answers."""
        return f"{self.base}/hop/{hops}/{i}"

    @property
    def refused_url(self) -> str:
        """A URL on a loopback port where nothing listens: the connection is refused."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        return f"http://127.0.0.1:{port}/item/0"

    def reset(self) -> None:
        self.max_in_flight = self.in_flight
        self.requests = 0
        self.peers.clear()

    async def flaky(self, request: web.Request) -> web.Response:
        key, fails = request.match_info["key"], int(request.match_info["fails"])
        self.attempts[key] = self.attempts.get(key, 0) + 1
        if self.attempts[key] > fails:
            return web.Response(text=f"item {key}")
        headers = {}
        if retry_after := request.query.get("retry_after"):
            headers["Retry-After"] = retry_after
        return web.Response(status=int(request.query["status"]), headers=headers)

    async def hop(self, request: web.Request) -> web.Response:
        hops, i = int(request.match_info["hops"]), request.match_info["i"]
        target = f"/hop/{hops - 1}/{i}" if hops > 1 else f"/item/{i}"
        raise web.HTTPFound(target)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        if request.transport is not None:
            self.peers.add(request.transport.get_extra_info("peername"))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            delay = float(request.query.get("delay", 0))
            status = int(request.query.get("status", 200))
            if delay:
                await asyncio.sleep(delay)
            return web.Response(status=status, text=f"item {request.match_info['i']}")
        finally:
            self.in_flight -= 1


@contextmanager
def serving(loop: asyncio.AbstractEventLoop) -> Iterator[HttpServer]:
    """Start a fresh server (fresh port, fresh counters) on *loop*, which runs in a thread."""
    server = HttpServer()
    app = web.Application()
    app.router.add_get("/item/{i}", server.handle)
    app.router.add_get("/hop/{hops}/{i}", server.hop)
    app.router.add_get("/flaky/{key}/{fails}", server.flaky)
    # handler_cancellation: when a client gives up, its handler stops too, so in_flight is true.
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None)

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        server.base = f"http://127.0.0.1:{port}"

    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)


@contextmanager
def event_loop_thread(name: str = "test-http-server") -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in a daemon thread, stopped and closed on exit."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name=name, daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@contextmanager
def loopback_server(name: str = "loopback-http-server") -> Iterator[HttpServer]:
    """A fresh server on its own event loop thread, for one use: both are stopped on exit."""
    with event_loop_thread(name) as loop, serving(loop) as server:
        yield server


# --- a fast server in a process of its own ------------------------------------------------------

class _Answer(asyncio.Protocol):
    """Answers every ``GET /item/<i>`` on a kept-alive connection with ``item <i>``: no framework,
    so that a client's cost, not the server's, is what a long run measures."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.pending = b""

    def data_received(self, data: bytes) -> None:
        self.pending += data
        while (end := self.pending.find(b"\r\n\r\n")) >= 0:
            head, self.pending = self.pending[:end], self.pending[end + 4:]
            path = head.split(b" ", 2)[1]
            body = b"item " + path.rsplit(b"/", 1)[-1]
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b"
                                 % (len(body), body))


def _serve_fast() -> None:
    """Run the fast server: print ``{"url": ...}``, serve until stdin closes."""
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Answer, "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        print(json.dumps({"url": f"http://127.0.0.1:{port}"}), flush=True)
        await loop.run_in_executor(None, sys.stdin.read)  # the parent closes stdin to stop us
        server.close()

    asyncio.run(main())


@contextmanager
def fast_server() -> Iterator[str]:
    """A minimal HTTP server on 127.0.0.1 in a process of its own (its own core and GIL), for
    long runs: its base URL. It stops when the block ends."""
    process = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        url: str = json.loads(process.stdout.readline())["url"]
        yield url
    finally:
        process.stdin.close()
        process.wait(10)


if __name__ == "__main__":
    _serve_fast()
