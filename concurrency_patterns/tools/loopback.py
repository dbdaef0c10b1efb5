"""A real HTTP server on 127.0.0.1, run on an event loop in its own thread.

The contract tests and the demo fetch from it. ``GET /item/<i>?delay=<seconds>&status=<code>``
answers ``item <i>`` after the delay, with the status; ``GET /hop/<n>/<i>`` redirects n times
before it lands there. The server counts the requests it is handling
at each moment and keeps the highest count, so a client's promise to keep at most ``limit``
requests in flight is checked where it matters: at the server.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

from aiohttp import web

__all__ = ["HttpServer", "event_loop_thread", "loopback_server", "serving"]


class HttpServer:
    """The running server's address and counters."""

    def __init__(self) -> None:
        self.base = ""
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests = 0

    def url(self, i: int = 0, *, delay: float = 0.0, status: int = 200) -> str:
        query = {k: v for k, v in (("delay", delay), ("status", status)) if v not in (0, 200)}
        return f"{self.base}/item/{i}" + (f"?{urlencode(query)}" if query else "")

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

    async def hop(self, request: web.Request) -> web.Response:
        hops, i = int(request.match_info["hops"]), request.match_info["i"]
        target = f"/hop/{hops - 1}/{i}" if hops > 1 else f"/item/{i}"
        raise web.HTTPFound(target)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
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
