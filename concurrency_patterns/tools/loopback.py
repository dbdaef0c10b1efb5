"""A real HTTP server on 127.0.0.1, run on an event loop in its own thread.

The contract tests and the demo fetch from it. ``GET /item/<i>?delay=<seconds>&status=<code>``
answers ``item <i>`` after the delay, with the status; ``GET /hop/<n>/<i>`` redirects n times
before it lands there. The server counts the requests it is handling
at each moment and keeps the highest count, so a client's promise to keep at most ``limit``
requests in flight is checked where it matters: at the server.

It also answers, for the fetch's requests beyond GET and its defences: ``/echo`` (any method:
the method, headers and body it got, as JSON), ``/goto?to=<url>&status=<code>`` (a redirect
anywhere), and ``/bomb?mb=<n>`` (n MiB of zeros, gzipped to a few KiB). With ``hosts=n`` it
listens on 127.0.0.1 to 127.0.0.n (one port each), and counts the requests in flight per
address, so per-host limits are checked at the server too.
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
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from .._core.lazy import lazy

if TYPE_CHECKING:
    from aiohttp import web
else:  # the server is aiohttp's: it comes with the [http] extra, as the fetch's clients do
    web = lazy(globals(), "aiohttp.web", bind="web", extra="http")


__all__ = [
    "HttpServer",
    "Nginx",
    "event_loop_thread",
    "fast_server",
    "loopback_server",
    "nginx_server",
    "serving",
]


class HttpServer:
    """The running server's address and counters."""

    def __init__(self) -> None:
        self.base = ""
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests = 0
        self.attempts: dict[str, int] = {}
        self.peers: set[object] = set()  # the client ends of the connections requests came on
        self.bases: list[str] = []  # one per address, with hosts=n; bases[0] is base
        self.host_in_flight: dict[str, int] = {}
        self.host_max_in_flight: dict[str, int] = {}
        self.host_times: dict[str, list[float]] = {}  # when each address's requests arrived

    def url(self, i: int = 0, *, delay: float = 0.0, status: int = 200, host: int = 0) -> str:
        query = {k: v for k, v in (("delay", delay), ("status", status)) if v not in (0, 200)}
        base = self.bases[host] if self.bases else self.base
        return f"{base}/item/{i}" + (f"?{urlencode(query)}" if query else "")

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

    def echo_url(self, host: int = 0) -> str:
        return f"{self.bases[host]}/echo"

    def goto_url(self, to: str, status: int = 302) -> str:
        """A URL that redirects (*status*) to *to*, wherever that is."""
        return f"{self.base}/goto?{urlencode({'to': to, 'status': status})}"

    def bomb_url(self, mib: int) -> str:
        """A URL whose answer inflates to *mib* MiB of zeros (gzip), from a few KiB."""
        return f"{self.base}/bomb?mb={mib}"

    def reset(self) -> None:
        self.max_in_flight = self.in_flight
        self.requests = 0
        self.peers.clear()
        self.host_max_in_flight.clear()
        self.host_times.clear()

    async def echo(self, request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response({
            "method": request.method, "headers": dict(request.headers),
            "body": body.decode("latin-1"), "host": request.host,
        })

    async def goto(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.Response(status=int(request.query.get("status", 302)),
                            headers={"Location": request.query["to"]})

    async def bomb(self, request: web.Request) -> web.Response:
        import gzip

        blob = _bombs.get(int(request.query["mb"]))
        if blob is None:
            blob = _bombs[int(request.query["mb"])] = gzip.compress(
                bytes(int(request.query["mb"]) * 2**20), compresslevel=9)
        return web.Response(body=blob, headers={"Content-Encoding": "gzip"})

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
        address = ""
        if request.transport is not None:
            self.peers.add(request.transport.get_extra_info("peername"))
            address = request.transport.get_extra_info("sockname")[0]
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        here = self.host_in_flight[address] = self.host_in_flight.get(address, 0) + 1
        self.host_max_in_flight[address] = max(self.host_max_in_flight.get(address, 0), here)
        self.host_times.setdefault(address, []).append(asyncio.get_running_loop().time())
        try:
            delay = float(request.query.get("delay", 0))
            status = int(request.query.get("status", 200))
            if delay:
                await asyncio.sleep(delay)
            return web.Response(status=status, text=f"item {request.match_info['i']}")
        finally:
            self.in_flight -= 1
            self.host_in_flight[address] -= 1


_bombs: dict[int, bytes] = {}


@contextmanager
def serving(loop: asyncio.AbstractEventLoop, hosts: int = 1) -> Iterator[HttpServer]:
    """Start a fresh server (fresh port, fresh counters) on *loop*, which runs in a thread;
    with *hosts*, on 127.0.0.1 to 127.0.0.<hosts>."""
    server = HttpServer()
    app = web.Application(client_max_size=16 * 2**20)
    app.router.add_route("*", "/echo", server.echo)
    app.router.add_route("*", "/goto", server.goto)
    app.router.add_get("/bomb", server.bomb)
    app.router.add_get("/item/{i}", server.handle)
    app.router.add_get("/hop/{hops}/{i}", server.hop)
    app.router.add_get("/flaky/{key}/{fails}", server.flaky)
    # handler_cancellation: when a client gives up, its handler stops too, so in_flight is true.
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None)

    async def start() -> None:
        await runner.setup()
        for n in range(1, hosts + 1):
            site = web.TCPSite(runner, f"127.0.0.{n}", 0, backlog=1024)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            server.bases.append(f"http://127.0.0.{n}:{port}")
        server.base = server.bases[0]

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


# --- nginx, the real server the fetch's requests beyond GET are tried on ---------------------

_NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    types {{ text/plain txt; application/octet-stream bin; }}
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        gzip on;
        gzip_types text/plain;
        gzip_min_length 0;
        # What nginx saw of a request: its method, its Content-Length and two headers.
        location = /echo {{
            default_type text/plain;
            return 200 "$request_method|$content_length|$http_x_probe|$http_authorization";
        }}
        # PUT stores the body, GET gives it back, DELETE removes it.
        location /dav/ {{
            dav_methods PUT DELETE;
            create_full_put_path on;
            client_max_body_size 16m;
        }}
    }}
}}
"""


@dataclass
class Nginx:
    """A running nginx: its base URL and the files it serves (``text.txt``: text that gzips
    well; ``big.bin``: random bytes)."""

    base: str
    files: dict[str, bytes]


@contextmanager
def nginx_server() -> Iterator[Nginx]:
    """nginx on 127.0.0.1 (``/usr/sbin/nginx``, as Debian installs it), as the user running
    the tests, from a directory of its own; stopped when the block ends."""
    import os
    import random
    import shutil
    import tempfile
    import time
    from pathlib import Path

    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(binary):
        raise FileNotFoundError("nginx is not installed (apt install nginx)")
    with tempfile.TemporaryDirectory(prefix="cp-nginx-") as tmp:
        root = Path(tmp)
        (root / "tmp").mkdir()
        (root / "www" / "dav").mkdir(parents=True)
        rng = random.Random(7)
        files = {
            "text.txt": b"".join(b"line %d of a text that compresses well\n" % i
                                 for i in range(20_000)),
            "big.bin": rng.randbytes(3 * 2**20),
        }
        for name, data in files.items():
            (root / "www" / name).write_bytes(data)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        (root / "nginx.conf").write_text(_NGINX_CONF.format(root=root, port=port))
        process = subprocess.Popen([binary, "-p", str(root), "-c", str(root / "nginx.conf"),
                                    "-e", str(root / "error.log")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("nginx did not start: " + (
                            process.stderr.read().decode() if process.stderr else "")) from None
                    time.sleep(0.02)
            yield Nginx(f"http://127.0.0.1:{port}", files)
        finally:
            process.terminate()
            process.wait(10)
            if process.stderr is not None:
                process.stderr.close()


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
