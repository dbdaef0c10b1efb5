"""The articles' own framework for the HTTP claims: FastAPI on uvicorn, one worker process.

    python -m concurrency_patterns.tools.claims.fastapi_server

As ``server`` does for aiohttp, it listens on a free port of 127.0.0.1, prints
``{"url": ...}`` and serves until its stdin closes. One route, ``GET /json``, the articles'
"simple JSON response", written as FastAPI's documentation writes it. uvicorn runs with what
``uvicorn[standard]`` brings, as a production FastAPI service does: httptools to parse HTTP
and uvloop for the event loop; access logs off, as for every server measured. An idle
keep-alive connection is kept 75 s, as aiohttp keeps it, not uvicorn's default 5 s: at a fixed
rate over 10,000 connections each connection sends a request only every few seconds.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys

import uvicorn
from fastapi import FastAPI

__all__ = ["app"]

app = FastAPI()


@app.get("/json")
async def json_endpoint() -> dict[str, str]:
    return {"message": "pong"}


async def serve() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    host, port = listener.getsockname()
    config = uvicorn.Config(app, access_log=False, log_level="warning", backlog=1024,
                            loop="uvloop", http="httptools", timeout_keep_alive=75)
    server = uvicorn.Server(config)
    running = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        if running.done():  # it failed to start: say why
            await running
        await asyncio.sleep(0.01)
    print(json.dumps({"url": f"http://{host}:{port}"}), flush=True)
    await asyncio.to_thread(sys.stdin.read)  # until the parent closes our stdin
    server.should_exit = True
    await running


def main() -> int:
    import uvloop

    uvloop.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
