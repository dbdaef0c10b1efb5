"""The bounded_fetch demo: N URLs from a loopback server, some failing, at most ``limit`` at once.

The server counts the requests in flight, so the line shows the bound held where it matters.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import anyio

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads

from ..loopback import loopback_server
from . import Line, Runs


def demo(w: dict[str, Any]) -> Runs:
    def run(fetch: Callable[..., Any], sync: bool, backend: str = "asyncio") -> Line:
        with loopback_server("demo-http-server") as server:
            urls = [server.url(i, delay=w["delay_ms"] / 1000,
                               status=503 if i in w["failing"] else 200) for i in range(w["urls"])]
            call = partial(fetch, urls, limit=w["limit"])
            results = call() if sync else anyio.run(call, backend=backend)
            failed = [f"item {i}: HTTP {r.status}" for i, r in enumerate(results) if not r.ok]
            return (f"bounded_fetch: {len(urls)} URLs, limit {w['limit']}: "
                    f"{len(urls) - len(failed)} ok, {len(failed)} failed ({', '.join(failed)}), "
                    f"at most {server.max_in_flight} in flight")

    return {
        "asyncio": lambda: run(cp_asyncio.fetch, False),
        "anyio/asyncio": lambda: run(cp_anyio.fetch, False),
        "anyio/trio": lambda: run(cp_anyio.fetch, False, "trio"),
        "threads": lambda: run(cp_threads.fetch, True),
    }
