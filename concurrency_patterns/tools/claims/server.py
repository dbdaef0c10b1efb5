"""The Python server of the HTTP claims: aiohttp, the same routes as the Go server.

    python -m concurrency_patterns.tools.claims.server [--upstream URL] [--uvloop]

It listens on a free port of 127.0.0.1, prints ``{"url": ...}`` and serves until its stdin
closes. Routes:

* ``GET /json`` — a small JSON object, the articles' "simple JSON response".
* ``GET /data/{id}`` — the articles' I/O-bound endpoint: call the upstream API and the cache
  *concurrently*, then answer both (as the Go server does, with two goroutines).
* ``GET /data-naive/{id}`` — the same, written as the article's Python handler is: a new
  client session for every request, and the two calls one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

__all__ = ["make_app"]

SESSION = web.AppKey("session", aiohttp.ClientSession)
UPSTREAM = web.AppKey("upstream", str)


async def json_endpoint(request: web.Request) -> web.Response:
    return web.json_response({"message": "pong"})


async def data_endpoint(request: web.Request) -> web.Response:
    session, upstream = request.app[SESSION], request.app[UPSTREAM]
    item = request.match_info["id"]

    async def api() -> Any:
        async with session.get(f"{upstream}/api/{item}") as response:
            response.raise_for_status()
            return await response.json()

    async def cache() -> str:
        async with session.get(f"{upstream}/cache/{item}") as response:
            response.raise_for_status()
            return await response.text()

    # Both calls at once, as the Go handler does with two goroutines.
    api_data, cache_data = await asyncio.gather(api(), cache())
    return web.json_response({"api": api_data, "cache": cache_data})


async def naive_data_endpoint(request: web.Request) -> web.Response:
    """The article's handler, as written: a session per request, one call after the other."""
    upstream, item = request.app[UPSTREAM], request.match_info["id"]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{upstream}/api/{item}") as response:
            api_data = await response.json()
        async with session.get(f"{upstream}/cache/{item}") as response:
            cache_data = await response.text()
    return web.json_response({"api": api_data, "cache": cache_data})


def make_app(upstream: str = "") -> web.Application:
    app = web.Application()
    app[UPSTREAM] = upstream

    async def client_session(app: web.Application) -> AsyncIterator[None]:
        # One session for the server's life: connections to the upstream are reused.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            app[SESSION] = session
            yield

    app.cleanup_ctx.append(client_session)
    app.router.add_get("/json", json_endpoint)
    app.router.add_get("/data/{id}", data_endpoint)
    app.router.add_get("/data-naive/{id}", naive_data_endpoint)
    return app


async def serve(upstream: str) -> None:
    runner = web.AppRunner(make_app(upstream), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    host, port = runner.addresses[0][:2]
    print(json.dumps({"url": f"http://{host}:{port}"}), flush=True)
    try:
        await asyncio.to_thread(sys.stdin.read)  # until the parent closes our stdin
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m concurrency_patterns.tools.claims.server")
    parser.add_argument("--upstream", default="", help="base URL of the upstream (for /data)")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    args = parser.parse_args(argv)
    if args.uvloop:
        import uvloop

        uvloop.run(serve(args.upstream))
    else:
        asyncio.run(serve(args.upstream))
    return 0


if __name__ == "__main__":
    sys.exit(main())
