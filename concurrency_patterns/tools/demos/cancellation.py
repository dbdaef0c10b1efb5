"""The cancellation demo: a request with a deadline calls three services at once; one fans
out under a shorter deadline of its own; the deadline stops the slow one; a shielded cleanup
runs to the end anyway; the caller learns why."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import anyio

from concurrency_patterns import Cancelled, DeadlineExceeded
from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads

from . import Line, Runs, each_backend, on


def _status(cause: BaseException | None) -> str:
    if cause is None:
        return "ok"
    if isinstance(cause, DeadlineExceeded):
        return "stopped (deadline exceeded)"
    return f"stopped ({cause})"


def demo(w: dict[str, Any]) -> Runs:
    def ms(key: str) -> float:
        return float(w[key]) / 1000

    def line(calls: list[BaseException | None], error: BaseException | None,
             cleaned: bool) -> Line:
        got = "context deadline exceeded" if isinstance(error, DeadlineExceeded) else error
        return (f"cancellation: a request with a {w['deadline_ms']} ms deadline: auth "
                f"{_status(calls[0])}, profile {_status(calls[1])} ({w['shards']} shards "
                f"under a {w['shard_deadline_ms']} ms sub-deadline), recommendations "
                f"{_status(calls[2])}; the caller got: {got}; shielded cleanup "
                f"{'finished' if cleaned else 'did not finish'}")

    async def run_async(scope: Any, sleep: Any, group: Any) -> Line:
        calls: list[BaseException | None] = [None, None, None]
        cleaned = False

        async def call(i: int, seconds: float) -> None:
            try:
                async with scope() as s:
                    await sleep(seconds)
            finally:  # a cancellation from further out goes on; the scope says why
                calls[i] = s.cause

        async def profile() -> None:
            async with scope(ms("shard_deadline_ms")) as s, group() as tg:
                for _ in range(w["shards"]):
                    tg.start_soon(sleep, ms("shard_ms"))
            calls[1] = s.cause

        async def cleanup() -> None:
            nonlocal cleaned
            await sleep(ms("cleanup_ms"))
            cleaned = True

        try:
            async with scope(ms("deadline_ms")) as request:
                try:
                    async with group() as tg:
                        tg.start_soon(call, 0, ms("auth_ms"))
                        tg.start_soon(profile)
                        tg.start_soon(call, 2, ms("recommendations_ms"))
                finally:
                    await request.shielded(cleanup, timeout=10 * ms("cleanup_ms"))
        except DeadlineExceeded as error:
            return line(calls, error, cleaned)
        return line(calls, None, cleaned)

    def run_threads() -> Line:
        calls: list[BaseException | None] = [None, None, None]
        cleaned = False

        def call(scope: cp_threads.Scope, i: int, seconds: float) -> None:
            scope.wait(seconds)  # a blocking call that checks its scope
            calls[i] = scope.cause

        def profile(parent: cp_threads.Scope) -> None:
            with parent.child(ms("shard_deadline_ms")) as scope:
                shards = [threading.Thread(target=scope.wait, args=(ms("shard_ms"),))
                          for _ in range(w["shards"])]
                for t in shards:
                    t.start()
                for t in shards:
                    t.join()
                calls[1] = scope.cause

        def cleanup(scope: cp_threads.Scope) -> None:
            nonlocal cleaned
            cleaned = not scope.wait(ms("cleanup_ms"))

        try:
            with cp_threads.Scope(ms("deadline_ms")) as request:
                try:
                    threads = [
                        threading.Thread(target=call, args=(request.child(), 0, ms("auth_ms"))),
                        threading.Thread(target=profile, args=(request,)),
                        threading.Thread(target=call, args=(request.child(), 2,
                                                            ms("recommendations_ms"))),
                    ]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                    request.check()  # Go: return ctx.Err()
                finally:
                    request.shielded(cleanup, timeout=10 * ms("cleanup_ms"))
        except (DeadlineExceeded, Cancelled) as error:
            return line(calls, error, cleaned)
        return line(calls, None, cleaned)

    return {
        "asyncio": on("asyncio", run_async, cp_asyncio.Scope, asyncio.sleep, AsyncioGroup),
        **each_backend("anyio", run_async, cp_anyio.Scope, anyio.sleep, anyio.create_task_group),
        "threads": run_threads,
    }


class AsyncioGroup:
    """asyncio.TaskGroup with anyio's start_soon, so one handler serves both."""

    def __init__(self) -> None:
        self._tg = asyncio.TaskGroup()

    def start_soon(self, fn: Any, *args: Any) -> None:
        self._tg.create_task(fn(*args))

    async def __aenter__(self) -> AsyncioGroup:
        await self._tg.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> Any:
        return await self._tg.__aexit__(*exc)
