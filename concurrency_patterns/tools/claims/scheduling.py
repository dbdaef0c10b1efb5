"""Scheduling claims: waiting concurrently, and what starting and switching between units cost.

The Go side is ``go_equivalents/claims`` (sched.go).
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time

from concurrency_patterns.tools.claims.core import (
    Claim,
    Context,
    Judgement,
    Measured,
    Verdict,
    graded,
    quantity,
    ratio_text,
)

__all__: list[str] = []


# --- gather-sleeps ----------------------------------------------------------------------------

# --8<-- [start:gather]
async def sleep_together(delays: list[float]) -> None:
    """The article's example: three sleeps awaited together finish with the longest."""
    await asyncio.gather(*(asyncio.sleep(d) for d in delays))
# --8<-- [end:gather]


def time_gather_sleeps(delays: list[float], repeat: int) -> list[float]:
    async def rounds() -> list[float]:
        out = []
        for _ in range(repeat):
            start = time.perf_counter()
            await sleep_together(delays)
            out.append(time.perf_counter() - start)
        return out

    return asyncio.run(rounds())


class GatherSleeps(Claim):
    id = "gather-sleeps"
    title = "gather of 1, 2 and 3 s sleeps takes about 3 s, not 6"
    articles = ("003",)
    said = "≈ 3 s, not 6 s"
    gist = ("`asyncio.gather` over coroutines sleeping 1, 2 and 3 seconds finishes in about 3 "
            "seconds — the longest sleep — not the 6 seconds of running them in turn.")
    method = ("The article's three sleeps (1, 2, 3 s; a tenth of that with `--quick`), awaited "
              "with `asyncio.gather`, timed inside the event loop, 3 rounds; Go does the same "
              "with three goroutines and a WaitGroup. Wall time.")
    rule = ("Overhead = time − the longest sleep. **Holds** if the overhead is under 5% of the "
            "longest sleep; **holds only partly** if the time is still under 90% of the sum of "
            "the sleeps; **does not hold** otherwise.")
    patterns = ("waitgroup",)
    judged = ("asyncio",)

    def measure(self, ctx: Context) -> Measured:
        scale = 0.1 if ctx.quick else 1.0
        delays = [round(d * scale, 3) for d in (1, 2, 3)]
        m = Measured(params={"delays": delays})
        ctx.progress(f"asyncio.gather of sleeps {delays} s")
        m.add("asyncio", "asyncio.gather", ctx.python(time_gather_sleeps, delays=delays,
                                                      repeat=3), "s")
        ctx.progress("Go: goroutines and a WaitGroup")
        got = ctx.go("sleeps", "-delays", ",".join(f"{d}s" for d in delays), "-repeat", "3")
        m.add("go", "Go goroutines + WaitGroup", got["seconds"], "s")
        return m

    def judge(self, m: Measured) -> Judgement:
        delays = m.params["delays"]
        longest, total = max(delays), sum(delays)
        took = m.median("asyncio")
        overhead = took - longest
        text = f"{quantity(took, 's')} for sleeps of {quantity(longest, 's')} at most"
        if overhead < 0.05 * longest:
            return Judgement(Verdict.HOLDS, f"{text} (+{quantity(max(overhead, 0), 's')})")
        if took < 0.9 * total:
            return Judgement(Verdict.PARTLY, f"{text}: concurrent, with a large overhead")
        return Judgement(Verdict.FAILS, f"{text}: the sleeps ran in turn")

    def summary(self, m: Measured) -> tuple[str, str]:
        return f"asyncio {m['asyncio'].text()}, Go {m['go'].text()}", ""


# --- spawn-cost -------------------------------------------------------------------------------

def _nothing() -> None:
    pass


async def _nothing_async() -> None:
    pass


def time_spawn(kind: str, n: int, repeat: int) -> list[float]:
    """Seconds per unit to start n threads (or asyncio tasks) that do nothing and wait for
    them all; the first round warms up and is dropped."""
    if kind == "threads":
        def round_() -> None:
            threads = [threading.Thread(target=_nothing) for _ in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        out = []
        for _ in range(repeat + 1):
            start = time.perf_counter()
            round_()
            out.append((time.perf_counter() - start) / n)
        return out[1:]

    async def rounds() -> list[float]:
        out = []
        for _ in range(repeat + 1):
            start = time.perf_counter()
            await asyncio.gather(*(asyncio.create_task(_nothing_async()) for _ in range(n)))
            out.append((time.perf_counter() - start) / n)
        return out[1:]

    return asyncio.run(rounds())


class SpawnCost(Claim):
    id = "spawn-cost"
    title = "Creating a goroutine is very cheap; creating an OS thread is expensive"
    articles = ("003",)
    said = "creation cost: OS thread high, goroutine very low"
    gist = ("The goroutine table rates an OS thread's creation cost high and a goroutine's "
            "very low.")
    method = ("Start n units that do nothing and wait for all, per unit: Go goroutines "
              "(n = 10,000), and Go goroutines that each take an OS thread of their own and end "
              "it (`runtime.LockOSThread` without unlocking; n = 1,000) — the same program, so "
              "the ratio compares threads with goroutines, not languages. Python threads and "
              "asyncio tasks beside them. Wall time per unit, median of 7 rounds.")
    rule = ("Ratio = a Go OS thread's cost / a goroutine's. **Holds** at 10× or more; "
            "**holds only partly** from 3×; **does not hold** below.")
    patterns = ("waitgroup", "worker_pool")
    judged = ("go_thread", "goroutine")

    def measure(self, ctx: Context) -> Measured:
        m = Measured()
        ctx.progress("Go: goroutines, and goroutines on OS threads of their own")
        go = ctx.go("spawn", "-n", "10000", "-repeat", "7")
        m.add("goroutine", "Go goroutine", [s / 10000 for s in go["seconds"]], "s")
        go = ctx.go("spawn", "-n", "1000", "-repeat", "7", "-os-threads")
        m.add("go_thread", "Go goroutine on its own OS thread",
              [s / 1000 for s in go["seconds"]], "s")
        ctx.progress("Python: threads and asyncio tasks")
        m.add("thread", "Python thread", ctx.python(time_spawn, kind="threads", n=1000,
                                                    repeat=7), "s")
        m.add("task", "asyncio task", ctx.python(time_spawn, kind="tasks", n=10000, repeat=7),
              "s")
        return m

    def judge(self, m: Measured) -> Judgement:
        r = m.median("go_thread") / m.median("goroutine")
        return graded(r, 10, 3, f"an OS thread costs {ratio_text(r)} a goroutine "
                      f"({m['go_thread'].text(spread=False)} vs "
                      f"{m['goroutine'].text(spread=False)})")

    def summary(self, m: Measured) -> tuple[str, str]:
        return (f"Go: goroutine {m['goroutine'].text()}, OS thread {m['go_thread'].text()}; "
                f"Python: thread {m['thread'].text()}, asyncio task {m['task'].text()}",
                ratio_text(m.median("go_thread") / m.median("goroutine")))


# --- switch-cost ------------------------------------------------------------------------------

def time_switch(kind: str, n: int, repeat: int) -> list[float]:
    """Seconds per round trip of a token between two threads (queues) or two asyncio tasks
    (asyncio queues); the first round warms up and is dropped."""
    if kind == "threads":
        out = []
        for _ in range(repeat + 1):
            ping: queue.SimpleQueue[int] = queue.SimpleQueue()
            pong: queue.SimpleQueue[int] = queue.SimpleQueue()

            def echo(ping: queue.SimpleQueue[int] = ping,
                     pong: queue.SimpleQueue[int] = pong) -> None:
                for _ in range(n):
                    pong.put(ping.get())

            other = threading.Thread(target=echo)
            other.start()
            start = time.perf_counter()
            for i in range(n):
                ping.put(i)
                pong.get()
            out.append((time.perf_counter() - start) / n)
            other.join()
        return out[1:]

    async def rounds() -> list[float]:
        out = []
        for _ in range(repeat + 1):
            ping: asyncio.Queue[int] = asyncio.Queue()
            pong: asyncio.Queue[int] = asyncio.Queue()

            async def echo(ping: asyncio.Queue[int] = ping,
                           pong: asyncio.Queue[int] = pong) -> None:
                for _ in range(n):
                    pong.put_nowait(await ping.get())

            other = asyncio.create_task(echo())
            start = time.perf_counter()
            for i in range(n):
                ping.put_nowait(i)
                await pong.get()
            out.append((time.perf_counter() - start) / n)
            await other
        return out[1:]

    return asyncio.run(rounds())


class SwitchCost(Claim):
    id = "switch-cost"
    title = "Switching between goroutines is very cheap; between OS threads, expensive"
    articles = ("003",)
    said = "context switch cost: OS thread high, goroutine very low"
    gist = ("The goroutine table rates the cost of a context switch between OS threads high "
            "and between goroutines very low.")
    method = ("A token passed back and forth, per round trip (two switches): between two Go "
              "goroutines over unbuffered channels (100,000 trips), and between two goroutines "
              "each locked to its own OS thread, so that every hand-off wakes a sleeping "
              "thread (10,000 trips; 2,000 with `--quick`) — the same program, so the "
              "ratio compares OS threads with goroutines. Python threads (over "
              "`queue.SimpleQueue`) and asyncio tasks (over `asyncio.Queue`) beside them. "
              "Median of 5 rounds.")
    rule = ("Ratio = a round trip between Go's OS threads / between goroutines. **Holds** at "
            "5× or more; **holds only partly** from 2×; **does not hold** below.")
    patterns = ("producer_consumer", "mutex")
    judged = ("go_thread", "goroutine")

    def measure(self, ctx: Context) -> Measured:
        m = Measured()
        ctx.progress("Go: goroutines, and locked OS threads")
        go = ctx.go("switch", "-n", "100000", "-repeat", "5")
        m.add("goroutine", "Go goroutines", [s / 100000 for s in go["seconds"]], "s")
        slow = 2000 if ctx.quick else 10_000  # round trips between OS threads take ~50 µs
        go = ctx.go("switch", "-n", str(slow), "-repeat", "5", "-os-threads")
        m.add("go_thread", "Go, locked OS threads", [s / slow for s in go["seconds"]], "s")
        ctx.progress("Python: threads and asyncio tasks")
        m.add("thread", "Python threads", ctx.python(time_switch, kind="threads", n=slow,
                                                     repeat=5), "s")
        m.add("task", "asyncio tasks", ctx.python(time_switch, kind="tasks", n=100000,
                                                  repeat=5), "s")
        return m

    def judge(self, m: Measured) -> Judgement:
        r = m.median("go_thread") / m.median("goroutine")
        return graded(r, 5, 2, f"a round trip between OS threads costs {ratio_text(r)} one "
                      f"between goroutines ({m['go_thread'].text(spread=False)} vs "
                      f"{m['goroutine'].text(spread=False)})")

    def summary(self, m: Measured) -> tuple[str, str]:
        return (f"round trip — Go: goroutines {m['goroutine'].text()}, OS threads "
                f"{m['go_thread'].text()}; Python: threads {m['thread'].text()}, asyncio "
                f"{m['task'].text()}", ratio_text(m.median("go_thread") / m.median("goroutine")))
