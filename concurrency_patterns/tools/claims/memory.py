"""Memory claims: what a goroutine, a coroutine, a thread and a point cost, and how many fit.

"Memory" means different things, and the articles rarely say which. The ledger names the kind
beside every figure:

* **RSS** (resident set size, from ``/proc``): the pages of a process that are in RAM — what
  the machine really spends. It moves in 4 KiB pages and includes the allocator's slack.
* **heap**: what the language's allocator handed out — ``tracemalloc`` in Python,
  ``runtime.MemStats`` in Go. Exact to the byte and blind to the rest of the process.
* **virtual** (``VmSize``): address space reserved, most of it never touched. A thread's stack
  is reserved here in full but only becomes RSS as it is used.

Every Python figure comes from a fresh interpreter, as a difference between two readings in it.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import threading
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any, ClassVar

from concurrency_patterns.tools.claims.core import (
    Claim,
    Context,
    Judgement,
    Killed,
    Measured,
    Verdict,
    installed,
    memory_total,
    peak_rss,
    ratio_text,
    read_proc_status,
    size_text,
)

__all__ = ["Point", "PointOptimized"]


def _rss() -> int:
    return read_proc_status()["VmRSS"]


# --- goroutine-mem ----------------------------------------------------------------------------

class GoroutineMem(Claim):
    id = "goroutine-mem"
    title = "1000 goroutines cost about 2 MB; a goroutine about 2 KB"
    articles = ("003", "002")
    said = "1000 goroutines ≈ 2 MB; ≈ 2 KB each"
    gist = ("Launching 1000 goroutines adds only about 2 MB of memory; a goroutine starts with "
            "a stack of about 2 KB.")
    method = ("Go starts n goroutines that each block on one channel and measures, while all "
              "are parked: the process's **RSS** growth (what the claim is about) and, from "
              "`runtime.MemStats`, the goroutine stacks (`StackInuse`) and heap (`HeapInuse`, "
              "where each goroutine's descriptor lives). n = 1,000 (the article's) and 100,000 "
              "(per-goroutine cost without page rounding). Median of 3 processes.")
    rule = ("**Holds** if 1,000 goroutines add 1–4 MB of RSS and one goroutine costs 1–4 kB "
            "of RSS (at 100,000); **holds only partly** if one of the two is in range; **does "
            "not hold** if neither is.")
    patterns = ("waitgroup",)
    judged = ("rss1000", "per100000")

    def measure(self, ctx: Context) -> Measured:
        m = Measured(params={"sizes": [1000, 100_000]})
        for n in (1000, 100_000):
            ctx.progress(f"Go: {n:,} parked goroutines")
            runs = [ctx.go("goroutines", "-n", str(n)) for _ in range(3)]
            m.add(f"rss{n}", f"{n:,} goroutines: RSS growth", [r["rss_delta"] for r in runs],
                  "B", "RSS")
            m.add(f"per{n}", f"per goroutine (of {n:,}): RSS",
                  [r["rss_delta"] / n for r in runs], "B", "RSS")
            m.add(f"stack{n}", f"per goroutine (of {n:,}): stack",
                  [r["stack_delta"] / n for r in runs], "B", "Go stacks (StackInuse)")
            m.add(f"heap{n}", f"per goroutine (of {n:,}): heap",
                  [r["heap_delta"] / n for r in runs], "B", "Go heap (HeapInuse)")
        return m

    def judge(self, m: Measured) -> Judgement:
        total, each = m.median("rss1000"), m.median("per100000")
        total_ok, each_ok = 1e6 <= total <= 4e6, 1e3 <= each <= 4e3
        figures = f"1,000 goroutines: {size_text(total)}; one: {size_text(each)} of RSS"
        if total_ok and each_ok:
            return Judgement(Verdict.HOLDS, figures)
        if total_ok or each_ok:
            return Judgement(Verdict.PARTLY, figures)
        return Judgement(Verdict.FAILS, figures)

    def summary(self, m: Measured) -> tuple[str, str]:
        return (f"1,000: {m['rss1000'].text()} RSS; each (of 100,000): "
                f"{m['per100000'].text()} RSS = {m['stack100000'].text(spread=False)} stack + "
                f"{m['heap100000'].text(spread=False)} heap", "")


# --- coroutine-mem ----------------------------------------------------------------------------

async def _parked(event: asyncio.Event) -> None:
    await event.wait()


def coroutine_memory(n: int, trace: bool) -> dict[str, float]:
    """Bytes per coroutine object and per Task parked on an Event: from tracemalloc's count
    (heap) when *trace*, else from RSS (tracemalloc's own bookkeeping would inflate RSS)."""
    if trace:
        tracemalloc.start()

    def reading() -> int:
        return tracemalloc.get_traced_memory()[0] if trace else _rss()

    async def main() -> dict[str, float]:
        event = asyncio.Event()
        holder: list[Any] = [None] * n  # the list itself is allocated before the baseline
        gc.collect()
        base = reading()
        for i in range(n):
            holder[i] = _parked(event)
        bare = reading() - base
        for i in range(n):
            holder[i] = asyncio.create_task(holder[i])
        await asyncio.sleep(0)  # every task runs to its first await and parks there
        await asyncio.sleep(0)
        task = reading() - base
        event.set()
        await asyncio.gather(*holder)
        return {"coroutine": bare / n, "task": task / n}

    return asyncio.run(main())


class CoroutineMem(Claim):
    id = "coroutine-mem"
    title = "A Python coroutine costs about 1 KB"
    articles = ("002",)
    said = "~1 KB per coroutine (Go: ~2 KB per goroutine)"
    gist = ("The concurrency table puts Python's overhead at about 1 KB per coroutine, against "
            "about 2 KB per goroutine.")
    method = ("100,000 coroutines (20,000 with `--quick`) of `async def f(): await "
              "event.wait()`: first as bare coroutine objects (created, never started), "
              "then each wrapped in an asyncio Task and run to its `await` — the unit "
              "that actually runs concurrently, as a goroutine does. **Heap** from "
              "tracemalloc (exact, in one interpreter) and **RSS** growth from a second "
              "interpreter without tracemalloc. Median of 3 runs each (2 with `--quick`).")
    rule = ("Judged on the parked Task, the unit that runs concurrently as a goroutine does "
            "(a bare coroutine object never runs on its own; its size is reported beside): "
            "**holds** if a Task costs 0.5–2 kB (heap); **holds only partly** if it costs "
            "within twice that range (0.25–4 kB); **does not hold** otherwise.")
    patterns = ("waitgroup", "bounded_fetch")
    judged = ("coroutine", "task")

    def measure(self, ctx: Context) -> Measured:
        n, runs = (20_000, 2) if ctx.quick else (100_000, 3)
        m = Measured(params={"n": n, "python": sys.version.split()[0]})
        ctx.progress(f"{n:,} coroutines and tasks: heap")
        heap = [ctx.python(coroutine_memory, n=n, trace=True) for _ in range(runs)]
        ctx.progress(f"{n:,} coroutines and tasks: RSS")
        rss = [ctx.python(coroutine_memory, n=n, trace=False) for _ in range(runs)]
        m.add("coroutine", "bare coroutine object: heap", [r["coroutine"] for r in heap], "B",
              "heap (tracemalloc)")
        m.add("task", "parked asyncio Task (with its coroutine): heap",
              [r["task"] for r in heap], "B", "heap (tracemalloc)")
        m.add("coroutine_rss", "bare coroutine object: RSS", [r["coroutine"] for r in rss], "B",
              "RSS")
        m.add("task_rss", "parked asyncio Task: RSS", [r["task"] for r in rss], "B", "RSS")
        return m

    def judge(self, m: Measured) -> Judgement:
        coro, task = m.median("coroutine"), m.median("task")
        figures = (f"a parked Task costs {size_text(task)} (heap; a bare coroutine "
                   f"{size_text(coro)})")
        if 500 <= task <= 2000:
            return Judgement(Verdict.HOLDS, figures)
        if 250 <= task <= 4000:
            return Judgement(Verdict.PARTLY, f"near, not within, 0.5–2 kB: {figures}")
        return Judgement(Verdict.FAILS, figures)

    def summary(self, m: Measured) -> tuple[str, str]:
        return (f"heap: coroutine {m['coroutine'].text()}, Task {m['task'].text()}; RSS: "
                f"Task {m['task_rss'].text()}", "")


# --- thread-mem -------------------------------------------------------------------------------

def thread_memory(n: int) -> dict[str, Any]:
    """RSS and virtual size added by n threads parked on an Event."""
    import resource

    release = threading.Event()
    threads = [threading.Thread(target=release.wait) for _ in range(n)]
    before = read_proc_status()
    for t in threads:
        t.start()
    time.sleep(0.1)
    after = read_proc_status()
    release.set()
    for t in threads:
        t.join()
    stack_limit = resource.getrlimit(resource.RLIMIT_STACK)[0]
    return {"rss": after["VmRSS"] - before["VmRSS"], "virtual": after["VmSize"] - before["VmSize"],
            "stack_size": threading.stack_size(), "rlimit_stack": stack_limit}


class ThreadMem(Claim):
    id = "thread-mem"
    title = "An OS thread costs 1–8 MB; 1000 Python threads might need 1–2 GB"
    articles = ("003",)
    said = "1–8 MB per thread; 1000 threads ≈ 1–2 GB"
    gist = ("An OS thread costs about 1–8 MB, so where 1000 goroutines add about 2 MB, 1000 "
            "Java or Python threads \"might need 1–2 GB\".")
    method = ("1,000 Python threads (real OS threads) parked on an Event; growth of the "
              "process's **RSS** (memory in use) and of its **virtual** size (address space "
              "reserved). Two reservations make the virtual size large and cost almost no "
              "memory: each thread's stack, reserved in full (by default the stack rlimit, "
              "8 MiB here) of which only touched pages become RSS; and glibc's malloc arenas, "
              "64 MiB of address space each, at most 8 per core, made as threads first "
              "allocate. Median of 3 processes.")
    rule = ("Judged on what the article means, the memory 1,000 threads need (RSS): "
            "**holds** if it is 0.5 GB or more (its 1–2 GB, within a factor of two); "
            "**holds only partly** if it is 0.1–0.5 GB; **does not hold** below 0.1 GB. "
            "The address space reserved is reported beside, not judged.")
    patterns = ("worker_pool", "bounded_fetch")
    judged = ("rss",)

    def measure(self, ctx: Context) -> Measured:
        n = 1000
        ctx.progress(f"{n:,} parked threads")
        runs = [ctx.python(thread_memory, n=n) for _ in range(3)]
        m = Measured(params={"n": n, "rlimit_stack": runs[0]["rlimit_stack"],
                             "stack_size": runs[0]["stack_size"]})
        m.add("rss", f"{n:,} threads: RSS growth", [r["rss"] for r in runs], "B", "RSS")
        m.add("virtual", f"{n:,} threads: virtual growth", [r["virtual"] for r in runs], "B",
              "virtual (VmSize)")
        m.add("rss_each", "per thread: RSS", [r["rss"] / n for r in runs], "B", "RSS")
        m.add("virtual_each", "per thread: virtual", [r["virtual"] / n for r in runs], "B",
              "virtual (VmSize)")
        return m

    def judge(self, m: Measured) -> Judgement:
        rss = m.median("rss")
        figures = (f"1,000 threads use {size_text(rss)} of RSS ({size_text(rss / 1000)} each) "
                   f"and reserve {size_text(m.median('virtual'))} of address space")
        if rss >= 0.5e9:
            return Judgement(Verdict.HOLDS, figures)
        if rss >= 0.1e9:
            return Judgement(Verdict.PARTLY, f"less than the article says: {figures}")
        return Judgement(Verdict.FAILS, f"a small part of the article's 1–2 GB: {figures}")

    def summary(self, m: Measured) -> tuple[str, str]:
        return (f"1,000 threads: RSS {m['rss'].text()}, virtual {m['virtual'].text()}; each "
                f"{m['rss_each'].text(spread=False)} RSS, "
                f"{m['virtual_each'].text(spread=False)} reserved", "")


# --- max-concurrent ---------------------------------------------------------------------------

def many_tasks(n: int) -> dict[str, float]:
    """Start n asyncio tasks that park on one Event, then release them all and wait."""
    async def main() -> dict[str, float]:
        event = asyncio.Event()
        gc.collect()
        before = _rss()
        start = time.perf_counter()
        tasks = [asyncio.create_task(_parked(event)) for _ in range(n)]
        await asyncio.sleep(0)  # each task runs to its await
        spawned = time.perf_counter() - start
        rss = _rss() - before
        event.set()
        await asyncio.gather(*tasks)
        return {"spawn_seconds": spawned, "total_seconds": time.perf_counter() - start,
                "rss_delta": rss, "peak_rss": peak_rss()}

    return asyncio.run(main())


def many_threads(n: int) -> dict[str, float]:
    """Start n threads that park on one Event, then release them all and join them."""
    release = threading.Event()
    before = _rss()
    start = time.perf_counter()
    threads = [threading.Thread(target=release.wait) for _ in range(n)]
    for t in threads:
        t.start()
    spawned = time.perf_counter() - start
    rss = _rss() - before
    release.set()
    for t in threads:
        t.join()
    return {"spawn_seconds": spawned, "total_seconds": time.perf_counter() - start,
            "rss_delta": rss, "peak_rss": peak_rss()}


class MaxConcurrent(Claim):
    id = "max-concurrent"
    title = "asyncio handles 100K+ concurrent tasks; Go 1M+ goroutines"
    articles = ("002", "003")
    said = ("asyncio 100K+, Go 1M+ (003: goroutines \"hundreds of thousands\", threads "
            "\"thousands\")")
    gist = ("The concurrency table gives asyncio a maximum of 100K+ concurrent tasks (I/O "
            "bound) and Go 1M+ goroutines; the other article's table puts the limit at "
            "thousands of OS threads and hundreds of thousands of goroutines.")
    method = ("n tasks (asyncio), goroutines (Go) or threads, each parked on one event, then "
              "all released and waited for; the time to start them all, the total, and the "
              "**RSS** growth while all are alive. asyncio and Go at 10K, 100K and 1M (asyncio "
              "1M is left out with `--quick`), threads at 1K and 10K (1K with `--quick`). One "
              "fresh process per size.")
    rule = ("**Holds** if asyncio runs 100,000 tasks and Go 1,000,000 goroutines, each in "
            "under 60 s and half this machine's memory; **holds only partly** if only one "
            "does; **does not hold** if neither does. The larger sizes are reported beside.")
    patterns = ("waitgroup", "worker_pool")

    def measure(self, ctx: Context) -> Measured:
        m = Measured(params={"memory": memory_total()})
        sizes = {"asyncio": [10_000, 100_000] + ([] if ctx.quick else [1_000_000]),
                 "go": [10_000, 100_000, 1_000_000],
                 "threads": [1000] + ([] if ctx.quick else [10_000])}
        m.params["sizes"] = sizes
        failed: dict[str, str] = m.params.setdefault("failed", {})
        for model, ns in sizes.items():
            for n in ns:
                ctx.progress(f"{model}: {n:,} at once")
                try:
                    if model == "go":
                        got = ctx.go("goroutines", "-n", str(n))
                    elif model == "asyncio":
                        got = ctx.python(many_tasks, n=n)
                    else:
                        got = ctx.python(many_threads, n=n)
                except Killed as exc:  # SIGKILL: the out-of-memory killer, as a rule
                    failed[f"{model}{n}"] = f"killed by {exc}" + (
                        " (out of memory)" if str(exc) == "SIGKILL" else "")
                    break  # a larger size would not fit either
                except subprocess.TimeoutExpired:
                    failed[f"{model}{n}"] = "not finished in 10 minutes"
                    break
                name = {"go": "goroutines", "asyncio": "asyncio tasks", "threads": "threads"}
                label = f"{n:,} {name[model]}"
                m.add(f"{model}{n}_time", f"{label}: start, run, finish", got["total_seconds"],
                      "s")
                m.add(f"{model}{n}_rss", f"{label}: RSS growth", got["rss_delta"], "B", "RSS")
        return m

    def _ok(self, m: Measured, model: str, n: int) -> bool:
        key = f"{model}{n}"
        if f"{key}_time" not in m:
            return False
        memory = m.params.get("memory") or float("inf")
        return m.median(f"{key}_time") < 60 and m.median(f"{key}_rss") < memory / 2

    def judge(self, m: Measured) -> Judgement:
        py, go = self._ok(m, "asyncio", 100_000), self._ok(m, "go", 1_000_000)
        figures = []
        for model, n, name in (("asyncio", 100_000, "asyncio 100K"),
                               ("asyncio", 1_000_000, "asyncio 1M"),
                               ("go", 1_000_000, "Go 1M")):
            if f"{model}{n}_time" in m:
                figures.append(f"{name}: {m[f'{model}{n}_time'].text(spread=False)}, "
                               f"{m[f'{model}{n}_rss'].text(spread=False)}")
        for key, why in m.params.get("failed", {}).items():
            figures.append(f"{key.replace('asyncio', 'asyncio ').replace('go', 'Go ')}: {why}")
        text = "; ".join(figures) or "neither asyncio's 100K tasks nor Go's 1M goroutines ran"
        if py and go:
            return Judgement(Verdict.HOLDS, text)
        if py or go:
            return Judgement(Verdict.PARTLY, text)
        return Judgement(Verdict.FAILS, text)

    def summary(self, m: Measured) -> tuple[str, str]:
        parts = []
        failed = m.params.get("failed", {})
        for model, name in (("asyncio", "asyncio"), ("go", "Go"), ("threads", "threads")):
            ran = [n for n in m.params["sizes"][model] if f"{model}{n}_time" in m]
            if ran:
                key = f"{model}{max(ran)}"
                parts.append(f"{name} {max(ran):,}: {m[f'{key}_time'].text(spread=False)}, "
                             f"{m[f'{key}_rss'].text(spread=False)}")
            parts += [f"{name} {int(k[len(model):]):,}: {why}" for k, why in failed.items()
                      if k.startswith(model) and k[len(model):].isdigit()]
        return "; ".join(parts), ""


# --- points-mem -------------------------------------------------------------------------------

@dataclass
class Point:
    x: float
    y: float
    z: float


@dataclass
class PointOptimized:
    __slots__ = ("x", "y", "z")  # no per-instance __dict__
    x: float
    y: float
    z: float


def points_memory(n: int, kind: str, trace: bool) -> dict[str, float]:
    """Memory of the article's list of n points (``Point(i, i*2, i*3)``), or of an n×3 NumPy
    array: heap from tracemalloc when *trace*, else RSS growth."""
    if kind == "numpy":
        import numpy as np  # before the baseline: the module is not part of the figure
    if trace:
        tracemalloc.start()
    gc.collect()
    base = tracemalloc.get_traced_memory()[0] if trace else _rss()
    points: Any
    if kind == "numpy":
        points = np.empty((n, 3))
        points[:, 0] = np.arange(n)
        points[:, 1] = points[:, 0] * 2
        points[:, 2] = points[:, 0] * 3
        printed = points.nbytes
    else:
        cls = Point if kind == "dataclass" else PointOptimized
        points = [cls(i, i * 2, i * 3) for i in range(n)]
        printed = sys.getsizeof(points)  # what the article's code prints: the list alone
    used = (tracemalloc.get_traced_memory()[0] if trace else _rss()) - base
    return {"bytes": used, "printed": printed, "count": len(points)}


class PointsMem(Claim):
    id = "points-mem"
    title = "1M points: dataclass ~200 MB, with __slots__ ~70 MB, Go ~24 MB"
    articles = ("002",)
    said = "dataclass ~200 MB, __slots__ ~70 MB, Go ~24 MB"
    gist = ("A million `Point(x, y, z)` dataclass instances take about 200 MB, about 70 MB "
            "with `__slots__`, and a Go slice of a million three-float structs about 24 MB.")
    method = ("The article's code: a list of `Point(i, i*2, i*3)` for i below 1 million, with "
              "the plain dataclass and with `__slots__`; Go's `make([]Point, n)`. **Heap** "
              "growth (tracemalloc; `MemStats.HeapAlloc` in Go), and **RSS** growth from "
              "separate processes. A NumPy n×3 array is measured as Python's contiguous "
              "equivalent. MB here is 10⁶ bytes, as 24 MB = 1M × 24 bytes shows.")
    rule = ("Each of the three figures (dataclass, `__slots__`, Go; heap) **matches** if it is "
            "within ±30% of the article's. **Holds** if all three match; **holds only "
            "partly** if one or two do; **does not hold** if none does.")
    patterns = ()
    judged = ("dataclass", "slots", "go")

    CLAIMED: ClassVar[dict[str, float]] = {"dataclass": 200e6, "slots": 70e6, "go": 24e6}

    def measure(self, ctx: Context) -> Measured:
        n = 1_000_000
        m = Measured(params={"n": n})
        labels = {"dataclass": "@dataclass Point", "slots": "@dataclass with __slots__",
                  "numpy": "NumPy array (n×3 float64)"}
        for kind, label in labels.items():
            if kind == "numpy" and not installed("numpy"):
                m.notes.append("NumPy is not installed: its row was not measured.")
                continue
            ctx.progress(f"1M points: {label}")
            heap = ctx.python(points_memory, n=n, kind=kind, trace=True)
            rss = ctx.python(points_memory, n=n, kind=kind, trace=False)
            m.add(kind, f"Python {label}: heap", heap["bytes"], "B", "heap (tracemalloc)")
            m.add(f"{kind}_rss", f"Python {label}: RSS", rss["bytes"], "B", "RSS")
            if kind != "numpy":
                m.add(f"{kind}_printed", f"Python {label}: sys.getsizeof(points)",
                      heap["printed"], "B", "what the article's code prints")
        ctx.progress("1M points: Go")
        got = ctx.go("points", "-n", str(n))
        m.add("go", "Go []Point: heap", got["heap_delta"], "B", "Go heap (HeapAlloc)")
        m.add("go_rss", "Go []Point: RSS", got["rss_delta"], "B", "RSS")
        m.notes.append(
            f"The article's Python prints `sys.getsizeof(points)`, which is the list's own array "
            f"of pointers — {m['dataclass_printed'].text()} — not the points it refers to. Its "
            f"Go prints `m.Alloc/1024/1024`, in MiB: {got['printed_mib']} for the same 24 MB.")
        return m

    def judge(self, m: Measured) -> Judgement:
        matches = [k for k, claimed in self.CLAIMED.items()
                   if abs(m.median(k) - claimed) <= 0.3 * claimed]
        figures = ", ".join(f"{k} {size_text(m.median(k))}" for k in self.CLAIMED)
        if len(matches) == len(self.CLAIMED):
            return Judgement(Verdict.HOLDS, figures)
        if matches:
            misses = [k for k in self.CLAIMED if k not in matches]
            return Judgement(Verdict.PARTLY, f"{figures}; off by more than 30%: "
                             + ", ".join(misses))
        return Judgement(Verdict.FAILS, figures)

    def summary(self, m: Measured) -> tuple[str, str]:
        parts = [f"dataclass {m['dataclass'].text()}", f"__slots__ {m['slots'].text()}"]
        if "numpy" in m:
            parts.append(f"NumPy {m['numpy'].text()}")
        parts.append(f"Go {m['go'].text()} (heap)")
        return ", ".join(parts), f"Py/Go {ratio_text(m.median('dataclass') / m.median('go'))}"
