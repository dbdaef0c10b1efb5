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

async def sleep_together(delays: list[float]) -> None:
    """The article's example: three sleeps awaited together finish with the longest."""
    await asyncio.gather(*(asyncio.sleep(d) for d in delays))


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
        ctx.progress("OS threads: a byte over pipes")
        pipe = 5000 if ctx.quick else 20_000
        m.add("os_thread", "OS threads, blocking on pipes",
              ctx.python(time_pipe_switch, n=pipe, repeat=5), "s")
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

def time_pipe_switch(n: int, repeat: int) -> list[float]:
    """Seconds per round trip of one byte between two OS threads over two pipes: each side
    blocks in the kernel's ``read``, so every hand-off is a kernel context switch that wakes
    a sleeping thread. Python adds a few bytecodes per hand-off and no GIL wait: a thread
    releases the GIL before it blocks, so the one it wakes finds it free. The first round
    warms up and is dropped."""
    import os

    out = []
    for _ in range(repeat + 1):
        ping_r, ping_w = os.pipe()
        pong_r, pong_w = os.pipe()

        def echo(ping_r: int = ping_r, pong_w: int = pong_w) -> None:
            for _ in range(n):
                os.write(pong_w, os.read(ping_r, 1))

        other = threading.Thread(target=echo)
        other.start()
        start = time.perf_counter()
        for _ in range(n):
            os.write(ping_w, b"x")
            os.read(pong_r, 1)
        out.append((time.perf_counter() - start) / n)
        other.join()
        for fd in (ping_r, ping_w, pong_r, pong_w):
            os.close(fd)
    return out[1:]


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
    method = ("A token passed back and forth, per round trip (two switches). **Goroutines:** "
              "two Go goroutines over unbuffered channels (100,000 trips). **OS threads:** "
              "two threads that each block in the kernel's `read` on a pipe and write the "
              "byte back on another (20,000 trips; 5,000 with `--quick`): every hand-off is a "
              "kernel context switch waking a sleeping thread, and nothing else — the threads "
              "are Python's, which release the GIL before they block, so the thread woken "
              "finds it free and adds only a few bytecodes. Beside them, not judged: two "
              "goroutines each locked to an OS thread (`runtime.LockOSThread`), which adds "
              "Go's scheduler hand-off to the kernel's; Python threads over "
              "`queue.SimpleQueue` (a lock and the GIL's hand-off as well); asyncio tasks over "
              "`asyncio.Queue`. Median of 5 rounds.")
    rule = ("Ratio = a round trip between OS threads (the pipe) / between goroutines. "
            "**Holds** at 5× or more; **holds only partly** from 2×; **does not hold** below.")
    patterns = ("producer_consumer", "mutex")
    judged = ("os_thread", "goroutine")

    def measure(self, ctx: Context) -> Measured:
        m = Measured()
        ctx.progress("Go: goroutines, and locked OS threads")
        go = ctx.go("switch", "-n", "100000", "-repeat", "5")
        m.add("goroutine", "Go goroutines", [s / 100000 for s in go["seconds"]], "s")
        slow = 2000 if ctx.quick else 10_000  # round trips between OS threads take ~50 µs
        go = ctx.go("switch", "-n", str(slow), "-repeat", "5", "-os-threads")
        m.add("go_thread", "Go, locked OS threads", [s / slow for s in go["seconds"]], "s")
        ctx.progress("OS threads: a byte over pipes")
        pipe = 5000 if ctx.quick else 20_000
        m.add("os_thread", "OS threads, blocking on pipes",
              ctx.python(time_pipe_switch, n=pipe, repeat=5), "s")
        ctx.progress("Python: threads and asyncio tasks")
        m.add("thread", "Python threads", ctx.python(time_switch, kind="threads", n=slow,
                                                     repeat=5), "s")
        m.add("task", "asyncio tasks", ctx.python(time_switch, kind="tasks", n=100000,
                                                  repeat=5), "s")
        return m

    def judge(self, m: Measured) -> Judgement:
        r = m.median("os_thread") / m.median("goroutine")
        return graded(r, 5, 2, f"a round trip between OS threads costs {ratio_text(r)} one "
                      f"between goroutines ({m['os_thread'].text(spread=False)} vs "
                      f"{m['goroutine'].text(spread=False)})")

    def summary(self, m: Measured) -> tuple[str, str]:
        return (f"round trip — OS threads {m['os_thread'].text()}, goroutines "
                f"{m['goroutine'].text()}; beside: Go's locked threads {m['go_thread'].text()}, "
                f"Python threads {m['thread'].text()}, asyncio {m['task'].text()}",
                ratio_text(m.median("os_thread") / m.median("goroutine")))


# --- cooperative ------------------------------------------------------------------------------

def _busy(seconds: float) -> None:
    """Compute for *seconds* without awaiting or blocking: pure Python arithmetic."""
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        for i in range(1000):
            x += i * i


def time_stall(kind: str, busy: float, repeat: int) -> list[float]:
    """The longest gap, per round, between two ticks of a ticker that asks to wake every
    millisecond while another unit computes for *busy* seconds: asyncio tasks, or threads."""
    if kind == "threads":
        out = []
        for _ in range(repeat):
            stop = threading.Event()
            longest = [0.0]

            def tick(stop: threading.Event = stop, longest: list[float] = longest) -> None:
                last = time.perf_counter()
                while not stop.is_set():
                    time.sleep(0.001)
                    now = time.perf_counter()
                    longest[0] = max(longest[0], now - last)
                    last = now

            ticker = threading.Thread(target=tick)
            ticker.start()
            time.sleep(0.005)
            _busy(busy)
            stop.set()
            ticker.join()
            out.append(longest[0])
        return out

    async def one_round() -> float:
        stop = asyncio.Event()
        longest = 0.0

        async def tick() -> None:
            nonlocal longest
            last = time.perf_counter()
            while not stop.is_set():
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                longest = max(longest, now - last)
                last = now

        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0.005)
        _busy(busy)  # a coroutine that computes: nothing else on the loop runs meanwhile
        await asyncio.sleep(0.002)  # the ticker's first wake after the busy spell
        stop.set()
        await ticker
        return longest

    async def rounds() -> list[float]:
        return [await one_round() for _ in range(repeat)]

    return asyncio.run(rounds())


class Cooperative(Claim):
    id = "cooperative"
    title = "asyncio schedules cooperatively, Go preemptively"
    articles = ("002",)
    said = "Model: cooperative (event loop) vs preemptive (scheduler)"
    gist = ("The concurrency table calls asyncio's model cooperative (an event loop) and Go's "
            "preemptive (a scheduler): a coroutine runs until it awaits, a goroutine can be "
            "interrupted.")
    method = ("While one unit computes for 200 ms without awaiting, yielding or calling out "
              "(pure arithmetic; Go's loop has no function call in it either), a second asks "
              "to wake every millisecond and records the longest gap between two of its "
              "wake-ups. asyncio: two tasks on one loop. Go: two goroutines with GOMAXPROCS=1, "
              "so the ticker can only run if the scheduler takes the core from the busy one, "
              "and again with one P per core. Python threads beside them (the GIL's switch "
              "interval is 5 ms). 3 rounds each (2 with `--quick`, 100 ms busy).")
    rule = ("Stall = the longest gap / the busy time. **Holds** if asyncio's stall is 50% or "
            "more (the loop waits for the busy task) and Go's, on one P, is 25% or less (the "
            "busy goroutine is preempted); **holds only partly** if one of the two is so; "
            "**does not hold** if neither is.")
    patterns = ("cancellation", "worker_pool")
    judged = ("asyncio", "go1")

    def measure(self, ctx: Context) -> Measured:
        busy, repeat = (0.1, 2) if ctx.quick else (0.2, 3)
        m = Measured(params={"busy": busy, "cores": ctx.cores})
        ctx.progress(f"asyncio: a task computing for {busy * 1000:.0f} ms")
        m.add("asyncio", "asyncio: longest gap", ctx.python(time_stall, kind="tasks",
                                                             busy=busy, repeat=repeat), "s")
        ctx.progress(f"threads: a thread computing for {busy * 1000:.0f} ms")
        m.add("threads", "Python threads: longest gap", ctx.python(
            time_stall, kind="threads", busy=busy, repeat=repeat), "s")
        for procs in sorted({1, ctx.cores}):
            ctx.progress(f"Go, GOMAXPROCS={procs}: a goroutine computing")
            got = ctx.go("stall", "-busy", f"{busy * 1000:.0f}ms", "-procs", str(procs),
                         "-repeat", str(repeat))
            m.add(f"go{procs}", f"Go, GOMAXPROCS={procs}: longest gap", got["longest_gap"],
                  "s")
        return m

    def judge(self, m: Measured) -> Judgement:
        busy = m.params["busy"]
        py, go = m.median("asyncio") / busy, m.median("go1") / busy
        text = (f"while a unit computed for {quantity(busy, 's')}, asyncio's ticker waited "
                f"{m['asyncio'].text(spread=False)} ({py:.0%}), Go's on one P "
                f"{m['go1'].text(spread=False)} ({go:.0%})")
        if py >= 0.5 and go <= 0.25:
            return Judgement(Verdict.HOLDS, text)
        if py >= 0.5 or go <= 0.25:
            return Judgement(Verdict.PARTLY, text)
        return Judgement(Verdict.FAILS, text)

    def summary(self, m: Measured) -> tuple[str, str]:
        cores = m.params["cores"]
        return (f"longest gap while {quantity(m.params['busy'], 's')} of work ran — asyncio "
                f"{m['asyncio'].text()}, threads {m['threads'].text()}, Go on 1 P "
                f"{m['go1'].text()}"
                + (f", on {cores} {m[f'go{cores}'].text()}" if cores > 1 else ""), "")
