"""CPU-bound claims: how fast each language computes, and what runs in parallel.

The functions at the top of each claim are the Python measurements; they run in a fresh
interpreter (``Context.python``). The Go side is ``go_equivalents/claims`` (cpu.go).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from concurrency_patterns import new_process_pool
from concurrency_patterns import processes as cp_processes
from concurrency_patterns._core.fastpath import gil_enabled
from concurrency_patterns.tools.claims.core import (
    Claim,
    Context,
    Judgement,
    Measured,
    Unmeasurable,
    Verdict,
    installed,
    peak_rss,
    quantity,
    ratio_text,
    timed,
)
from concurrency_patterns.tools.demos.process_offload import run_sequential

__all__ = ["count_up", "fib"]


# --- cpu-fib ----------------------------------------------------------------------------------

def fib(n: int) -> int:
    """The articles' CPU benchmark, as naive in Python as in Go: about 2·fib(n+1) calls."""
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def fib_calls(n: int) -> int:
    """How many calls fib(n) makes: 2·fib(n+1) − 1."""
    a, b = 0, 1
    for _ in range(n + 1):
        a, b = b, a + b
    return 2 * a - 1


def time_fib(n: int, repeat: int) -> list[float]:
    fib(min(n, 20))  # warm-up
    return [timed(lambda: fib(n)) for _ in range(repeat)]


def build_flags() -> str:
    """How this interpreter was built, as far as speed goes: with or without profile-guided
    optimisation (PGO) and link-time optimisation (LTO)."""
    import sysconfig

    args = sysconfig.get_config_var("CONFIG_ARGS") or ""
    pgo = "--enable-optimizations" in args
    lto = "--with-lto" in args
    return f"{'with' if pgo else 'without'} PGO, {'with' if lto else 'without'} LTO"


class CpuFib(Claim):
    id = "cpu-fib"
    title = "Go is 10×+ faster than Python on CPU-bound work"
    articles = ("003", "002")
    said = "fib(35): 15 vs 200 req/s (13×); fib(40): 45.2 s vs 0.8 s (56×)"
    gist = ("Both articles time the naive recursive Fibonacci. One serves fib(35) over HTTP "
            "(Python 15 req/s, Go 200 req/s) and concludes Go is 10+ times faster for "
            "CPU-intensive work; the other times fib(40): 45.2 s in Python, 0.8 s in Go.")
    method = ("The same recursive `fib(n)` in both languages, each timed in its own process "
              "around the call only (Go's binary is built beforehand). n = 35, scaled down from "
              "40 so a run takes seconds (27 with `--quick`); fib(40) makes 11× as many calls "
              "as fib(35), so the ledger also shows each side scaled up to fib(40) by call "
              "count. Wall time, median of the rounds.")
    rule = ("Ratio = Python's median time / Go's, set against each article's own figure: "
            "article 001's \"10+ times\" is met at 10× or more; article 002's 56× is met "
            "within a factor of two (28–112×). **Holds** if both are met; **holds only "
            "partly** if one is; **does not hold** if neither is. How the interpreter was "
            "built is reported beside: a build without profile-guided optimisation runs "
            "this code slower.")
    patterns = ("process_offload",)
    judged = ("python", "go")

    def measure(self, ctx: Context) -> Measured:
        n = 27 if ctx.quick else 35
        m = Measured(params={"n": n, "build": build_flags()})
        ctx.progress(f"Python fib({n})")
        m.add("python", f"Python fib({n})", ctx.python(time_fib, n=n, repeat=3 if ctx.quick
                                                        else 5), "s")
        ctx.progress(f"Go fib({n})")
        go = ctx.go("fib", "-n", str(n), "-repeat", "10" if ctx.quick else "20")
        m.add("go", f"Go fib({n})", go["seconds"], "s")
        scale = fib_calls(40) / fib_calls(n)
        m.add("python40", "Python fib(40), scaled by calls", m.median("python") * scale, "s")
        m.add("go40", "Go fib(40), scaled by calls", m.median("go") * scale, "s")
        # The HTTP figures cannot both be right: by Little's law, 15 req/s at a 2.5 s median
        # latency means ~37 requests in flight, sharing one GIL.
        fib35 = m.median("python") * fib_calls(35) / fib_calls(n)
        m.notes.append(
            f"The article's HTTP figures disagree with each other: 15 req/s at a 2.5 s median "
            f"latency means about 37 requests in flight (Little's law), which leaves one "
            f"GIL-bound Python process about 67 ms of CPU per request — but fib(35) takes "
            f"{quantity(fib35, 's')} of CPU here.")
        return m

    def judge(self, m: Measured) -> Judgement:
        r = m.median("python") / m.median("go")
        ten, fifty_six = r >= 10, 28 <= r <= 112
        met = {True: "is met", False: "is not met"}
        said = (f"Go is {ratio_text(r)} faster on fib({m.params['n']}): article 001's 10+× "
                f"{met[ten]}, article 002's 56× {met[fifty_six]}"
                f"{'' if fifty_six else ' (within a factor of two)'}")
        if build := m.params.get("build"):
            said += f"; Python built {build}"
        if ten and fifty_six:
            return Judgement(Verdict.HOLDS, said)
        if ten or fifty_six:
            return Judgement(Verdict.PARTLY, said)
        return Judgement(Verdict.FAILS, said)

    def summary(self, m: Measured) -> tuple[str, str]:
        n = m.params["n"]
        return (f"fib({n}): Python {m['python'].text()}, Go {m['go'].text()}; scaled to "
                f"fib(40): {m['python40'].text()} vs {m['go40'].text()}",
                f"Py/Go {ratio_text(m.median('python') / m.median('go'))}")


# --- gil-threads ------------------------------------------------------------------------------

def count_up(n: int) -> int:
    """The article's CPU-bound loop: pure Python bytecode, so the GIL is held throughout."""
    total = 0
    for i in range(n):
        total += i
    return total


def _threaded(fn: Callable[[], Any], threads: int) -> float:
    workers = [threading.Thread(target=fn) for _ in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - start


def time_threads(n: int, threads: int, repeat: int) -> dict[str, Any]:
    """``threads`` calls of count_up(n): one after another, then one per thread. The two are
    timed alternately, so a slow patch of a noisy machine hits both."""
    sequential, threaded = [], []
    count_up(n // 10)  # warm-up
    for _ in range(repeat):
        sequential.append(timed(lambda: [count_up(n) for _ in range(threads)]))
        threaded.append(_threaded(lambda: count_up(n), threads))
    return {"sequential": sequential, "threaded": threaded, "gil": gil_enabled(),
            "python": sys.version.split()[0]}


class GilThreads(Claim):
    id = "gil-threads"
    title = "CPU-bound Python on 4 threads is no faster than on 1"
    articles = ("003",)
    said = "4 threads no faster than 1"
    gist = ("Because of the GIL, only one thread runs Python bytecode at a time: four threads "
            "each running a CPU-bound loop finish no sooner than one thread running the loop "
            "four times.")
    method = ("The article's loop (`total += i` for i in range(n), n = 10 million; 2 million "
              "with `--quick`), four times in one thread, then once in each of four threads; "
              "the two timed alternately, three times each. Wall time. The interpreter is the "
              "default (GIL) build; the table says so.")
    rule = ("Speed-up = one thread's time / four threads' time. **Holds** at 1.1× or less; "
            "**holds only partly** up to 1.5×; **does not hold** above (a free-threaded build "
            "would get there).")
    patterns = ("process_offload", "worker_pool")
    judged = ("sequential/threaded",)

    def measure(self, ctx: Context) -> Measured:
        n = 2_000_000 if ctx.quick else 10_000_000
        ctx.progress(f"4 × count_up({n:,}) on 1 thread and on 4")
        got = ctx.python(time_threads, n=n, threads=4, repeat=3)
        m = Measured(params={"n": n, "threads": 4, "gil": got["gil"], "python": got["python"]})
        m.add("sequential", "4 loops, 1 thread", got["sequential"], "s")
        m.add("threaded", "4 loops, 4 threads", got["threaded"], "s")
        m.add_ratios("sequential", "threaded", "speed-up, round by round")
        if not got["gil"]:
            m.notes.append("This interpreter runs without the GIL (free-threaded build).")
        return m

    def judge(self, m: Measured) -> Judgement:
        s = m.ratio("sequential", "threaded")
        if s <= 1.1:
            return Judgement(Verdict.HOLDS, f"4 threads: {s:.2f}× the speed of 1 (GIL "
                             f"{'on' if m.params.get('gil', True) else 'off'})")
        if s <= 1.5:
            return Judgement(Verdict.PARTLY, f"4 threads are {s:.2f}× faster: a little")
        return Judgement(Verdict.FAILS, f"4 threads are {s:.2f}× faster than 1")

    def summary(self, m: Measured) -> tuple[str, str]:
        s = m.ratio("sequential", "threaded")
        return (f"1 thread {m['sequential'].text()}, 4 threads {m['threaded'].text()} "
                f"(Python {m.params['python']})",
                f"{s:.2f}× speed-up{m.ratio_basis('sequential', 'threaded')}")


# --- parallel speed-ups, judged against what the machine gives ---------------------------------

PARALLEL_RULE = (
    "Efficiency = speed-up / the machine's parallel capacity at that moment (see the control "
    "row: {cores} independent processes at once against one, read alongside the measurement, "
    "before each of its rounds and after the last; the lowest reading counts; the number of "
    "cores where there is no Go). **Holds** at 80% or more; **holds only partly** while the "
    "speed-up is still at least 1.2×; **does not hold** below. If the machine itself gave "
    "less than 1.2× at the time, the claim is *not measured*; if the readings differ by more "
    "than 15% and the rule would say *does not hold*, it is *not measured* either, as noisy: "
    "the machine changed under the measurement, so a low speed-up says nothing of the claim.")

UNSTEADY = 0.15  # the control's readings may differ this much before a run is noisy


def with_capacity(ctx: Context, m: Measured, measure: Callable[[int], None],
                  rounds: int) -> None:
    """Run ``measure(r)`` for each of *rounds* rounds, reading the machine's parallel capacity
    before each round and after the last: the control runs alongside the measurement, so a
    slow patch during any round shows in the readings, not only one at either end."""
    if not ctx.has_go():
        m.notes.append("No Go toolchain: speed-ups are judged against the number of cores.")
        for r in range(rounds):
            measure(r)
        return
    readings = []
    for r in range(rounds + 1):
        ctx.progress(f"the machine's parallel capacity, reading {r + 1}/{rounds + 1}")
        readings.append(ctx.parallel_capacity())
        if r < rounds:
            measure(r)
    m.add("capacity", f"control: {ctx.cores} processes at once vs 1 (Go fib)", readings,
          "x", "control")


def capacity(m: Measured) -> float:
    """The machine's parallel capacity during the run: the lower of the control's readings
    (a dip during the run is what the measurement had to work with), or the number of
    cores where there is no control."""
    return min(m["capacity"].values) if "capacity" in m else float(m.params["cores"])


def unsteady(m: Measured) -> str:
    """Why the run is noisy, if the control's readings disagree by more than UNSTEADY."""
    if "capacity" not in m:
        return ""
    low, high = min(m["capacity"].values), max(m["capacity"].values)
    if high <= low * (1 + UNSTEADY):
        return ""
    return (f"noisy: the machine's parallel capacity moved between {low:.2f}× and "
            f"{high:.2f}× during the run")


def judge_speedup(m: Measured, speedup: float, what: str) -> Judgement:
    """The shared rule of the parallel claims (PARALLEL_RULE)."""
    if m.params["cores"] < 2:
        return Judgement(Verdict.UNMEASURED, "one core: nothing to run in parallel on")
    ceiling = capacity(m)
    text = f"{what} {speedup:.2f}× of a possible {ceiling:.2f}× ({speedup / ceiling:.0%})"
    if ceiling < 1.2:
        return Judgement(Verdict.UNMEASURED, f"the machine gave only {ceiling:.2f}× to "
                         f"{m.params['cores']} processes at the time")
    if speedup >= 0.8 * ceiling:
        return Judgement(Verdict.HOLDS, text)
    if speedup >= 1.2:
        return Judgement(Verdict.PARTLY, text)
    if why := unsteady(m):
        return Judgement(Verdict.UNMEASURED, f"{why}; {text}")
    return Judgement(Verdict.FAILS, text)


# --- go-parallel ------------------------------------------------------------------------------

class GoParallel(Claim):
    id = "go-parallel"
    title = "Goroutines run CPU-bound work on every core"
    articles = ("002",)
    said = "CPU parallelism: Python no (GIL), Go yes (GOMAXPROCS)"
    gist = ("The concurrency table contrasts Python's lack of CPU parallelism (the GIL) with "
            "Go, whose goroutines run on as many cores as GOMAXPROCS allows.")
    method = ("Go's fib(n) (n = 35; 32 with `--quick`), once per core: all on one goroutine, "
              "then one goroutine each, the two taken in turn by 8 processes of 3 rounds each, "
              "with a reading of the control before every second pair; wall time, median. The "
              "Python side of the contrast is gil-threads.")
    rule = PARALLEL_RULE.format(cores="as many")
    patterns = ("process_offload", "worker_pool")
    judged = ("one/all", "capacity")

    def measure(self, ctx: Context) -> Measured:
        n, cores = (32 if ctx.quick else 35), ctx.cores
        m = Measured(params={"n": n, "cores": cores})
        one: list[float] = []
        every: list[float] = []

        def one_round(r: int) -> None:
            ctx.progress(f"Go: {cores} × fib({n}) on 1 goroutine and on {cores}, round "
                         f"{r + 1}/{rounds}")
            for _ in range(2):
                for goroutines, out in ((1, one), (cores, every)):
                    got = ctx.go("fib", "-n", str(n), "-units", str(cores), "-goroutines",
                                 str(goroutines), "-repeat", "3")
                    out += got["seconds"]

        rounds = 4
        with_capacity(ctx, m, one_round, rounds)
        m.add("one", f"{cores} × fib({n}), 1 goroutine", one, "s")
        m.add("all", f"{cores} × fib({n}), {cores} goroutines", every, "s")
        m.add_ratios("one", "all", "speed-up, round by round")
        return m

    def judge(self, m: Measured) -> Judgement:
        return judge_speedup(m, m.ratio("one", "all"), "goroutines:")

    def summary(self, m: Measured) -> tuple[str, str]:
        s = m.ratio("one", "all")
        return (f"1 goroutine {m['one'].text()}, {m.params['cores']} goroutines "
                f"{m['all'].text()}", f"{s:.2f}× speed-up{m.ratio_basis('one', 'all')}")


# --- processes --------------------------------------------------------------------------------

def time_processes(n: int, units: int, workers: int, repeat: int) -> dict[str, list[float]]:
    """``units`` calls of count_up(n), in this process and on a process pool (this project's
    ``new_process_pool``), timed alternately. The pool is started and warmed up first: the
    figure is the work, not process start-up."""
    items = [n] * units
    sequential, pooled = [], []
    with new_process_pool(workers) as pool:
        cp_processes.offload_all(count_up, [1] * workers * 2, executor=pool)  # start every worker
        for _ in range(repeat):
            sequential.append(timed(lambda: run_sequential(count_up, items)))
            pooled.append(timed(lambda: cp_processes.offload_all(count_up, items, executor=pool)))
    return {"sequential": sequential, "pooled": pooled}


class Processes(Claim):
    id = "processes"
    title = "A process pool gives true parallelism for CPU-bound Python"
    articles = ("003",)
    said = "each process has its own GIL: truly parallel"
    gist = ("Each process has its own interpreter and GIL, so CPU-bound work spread over a "
            "process pool (the article uses `multiprocessing.Pool(4)`) runs truly in parallel.")
    method = ("The article's loop (n = 10 million; 3 million with `--quick`), 2 jobs per "
              "core, run in this process and then on this project's `new_process_pool` with "
              "one worker per core, through `concurrency_patterns.processes.offload_all`; "
              "timed alternately, 5 times each (3 with `--quick`), each round in a fresh "
              "interpreter with a pool started and warmed up before timing, and a reading of "
              "the control before it. Wall time.")
    rule = PARALLEL_RULE.format(cores="as many")
    patterns = ("process_offload", "worker_pool")
    judged = ("sequential/pooled", "capacity")

    def measure(self, ctx: Context) -> Measured:
        # Each job must outweigh the pool's dispatch cost, even with --quick.
        n, cores = (3_000_000 if ctx.quick else 10_000_000), ctx.cores
        units = 2 * cores
        m = Measured(params={"n": n, "cores": cores, "units": units})

        rounds = 3 if ctx.quick else 5
        got: dict[str, list[float]] = {"sequential": [], "pooled": []}

        def one_round(r: int) -> None:
            ctx.progress(f"{units} × count_up({n:,}) in 1 process and on {cores} workers, "
                         f"round {r + 1}/{rounds}")
            for key, values in ctx.python(time_processes, n=n, units=units, workers=cores,
                                          repeat=1).items():
                got[key] += values

        with_capacity(ctx, m, one_round, rounds)
        m.add("sequential", f"{units} loops, 1 process", got["sequential"], "s")
        m.add("pooled", f"{units} loops, {cores} worker processes", got["pooled"], "s")
        m.add_ratios("sequential", "pooled", "speed-up, round by round")
        return m

    def judge(self, m: Measured) -> Judgement:
        return judge_speedup(m, m.ratio("sequential", "pooled"), "processes:")

    def summary(self, m: Measured) -> tuple[str, str]:
        s = m.ratio("sequential", "pooled")
        return (f"1 process {m['sequential'].text()}, {m.params['cores']} workers "
                f"{m['pooled'].text()}",
                f"{s:.2f}× speed-up{m.ratio_basis('sequential', 'pooled')}")


# --- numpy-gil --------------------------------------------------------------------------------

# NumPy's linear algebra may itself start threads (OpenBLAS, MKL); with those, "two threads"
# would be measuring the library's parallelism, not Python's. One thread each, then.
SINGLE_THREADED_BLAS = {name: "1" for name in (
    "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")}


def time_numpy(threads: int, repeat: int, scale: float) -> dict[str, Any]:
    """Three NumPy workloads, ``threads`` units each, run one after another and then one unit per
    thread: big matrix products (BLAS, compute-bound), an element-wise function over a
    million floats, and the same function over a hundred floats, many times (call overhead)."""
    import numpy as np

    rng = np.random.default_rng(0)
    matrix = rng.random((256, 256))
    big, out = rng.random(1_000_000), np.empty(1_000_000)
    small = rng.random(100)
    work: dict[str, Callable[[], Any]] = {
        "matmul": lambda: [matrix @ matrix for _ in range(int(200 * scale))],
        "large": lambda: [np.sin(big, out=out) for _ in range(int(40 * scale))],
        "small": lambda: [np.sin(small) for _ in range(int(150_000 * scale))],
    }
    result: dict[str, Any] = {"numpy": np.__version__}
    for name, fn in work.items():
        fn()  # warm-up
        sequential: list[float] = []
        threaded: list[float] = []

        def one_after_another(fn: Callable[[], Any] = fn) -> None:
            for _ in range(threads):
                fn()

        for _ in range(repeat):
            sequential.append(timed(one_after_another))
            threaded.append(_threaded(fn, threads))
        result[name] = {"sequential": sequential, "threaded": threaded}
    return result


class NumpyGil(Claim):
    id = "numpy-gil"
    title = "NumPy releases the GIL, so numerical work runs in parallel on threads"
    articles = ("003",)
    said = "C extensions such as NumPy release the GIL: truly parallel"
    gist = ("Libraries written in C, like NumPy, release the GIL while they compute, so "
            "numerical work on several threads truly runs in parallel.")
    method = ("Three NumPy workloads, one unit per core: 256×256 matrix products (with the BLAS "
              "library held to one thread of its own, so only Python's threads are measured), "
              "`np.sin` over a million floats, and `np.sin` over 100 floats called many times. "
              "Each run in one thread, then one unit per thread; wall time, median of 3 "
              "alternating rounds, each in a fresh interpreter with a reading of the control "
              "before it. `--quick` does a fifth of the work.")
    rule = ("Speed-up on as many threads as cores, against the machine's parallel capacity at "
            "that moment (the control row, as in processes: the lowest reading counts). "
            "**Holds** if both the matrix products and the small calls reach 80% of it; "
            "**holds only partly** if the matrix products do but the small calls do not; "
            "**does not hold** if the matrix products do not. If the machine itself gave less "
            "than 1.2×, *not measured*; if the control's readings differ by more than 15% "
            "where the rule would say *does not hold*, *not measured* as noisy.")
    patterns = ("process_offload",)
    judged = ("matmul", "small", "capacity")

    def measure(self, ctx: Context) -> Measured:
        if not installed("numpy"):
            raise Unmeasurable("NumPy is not installed (it comes with the [dev] extra)")
        m = Measured(params={"cores": ctx.cores})
        got: dict[str, Any] = {}
        rounds = 3

        def one_round(r: int) -> None:
            ctx.progress(f"NumPy: 3 workloads on 1 thread and on {ctx.cores}, round "
                         f"{r + 1}/{rounds}")
            this = ctx.python(time_numpy, threads=ctx.cores, repeat=1,
                              scale=0.2 if ctx.quick else 1.0, env=SINGLE_THREADED_BLAS)
            got["numpy"] = this.pop("numpy")
            for key, runs in this.items():
                for way, values in runs.items():
                    got.setdefault(key, {}).setdefault(way, []).extend(values)

        with_capacity(ctx, m, one_round, rounds)
        m.params["numpy"] = got["numpy"]
        labels = {"matmul": "256×256 matrix products", "large": "np.sin, 1M floats",
                  "small": "np.sin, 100 floats"}
        for key, label in labels.items():
            seq, par = got[key]["sequential"], got[key]["threaded"]
            m.add(f"{key}_seq", f"{label}, 1 thread", seq, "s")
            m.add(f"{key}_par", f"{label}, {ctx.cores} threads", par, "s")
            m.add(key, f"{label}: speed-up", [a / b for a, b in zip(seq, par, strict=True)],
                  "x")
        return m

    def judge(self, m: Measured) -> Judgement:
        matmul, large, small = m.median("matmul"), m.median("large"), m.median("small")
        ceiling = capacity(m)
        figures = (f"matrix products {matmul:.2f}×, 1M floats {large:.2f}×, 100 floats "
                   f"{small:.2f}× of a possible {ceiling:.2f}×")
        if ceiling < 1.2:
            return Judgement(Verdict.UNMEASURED, f"the machine gave only {ceiling:.2f}× to "
                             f"{m.params['cores']} processes at the time")
        if matmul < 0.8 * ceiling:
            if why := unsteady(m):
                return Judgement(Verdict.UNMEASURED, f"{why}; {figures}")
            return Judgement(Verdict.FAILS, f"little parallel speed-up: {figures}")
        if small < 0.8 * ceiling:
            return Judgement(Verdict.PARTLY, f"{figures}: a short call holds the GIL for most "
                             "of its time")
        return Judgement(Verdict.HOLDS, figures)

    def summary(self, m: Measured) -> tuple[str, str]:
        return (f"on {m.params['cores']} threads: matrix products {m['matmul'].text()}, "
                f"1M floats {m['large'].text()}, 100 floats {m['small'].text()}",
                f"{m.median('matmul'):.2f}× speed-up")


# --- json-parse -------------------------------------------------------------------------------

def write_records(path: str, n: int) -> dict[str, int]:
    """A JSON array of n user-like records (the same file both languages parse)."""
    rng = random.Random(0)
    records = [{"id": i, "name": f"user{i}", "email": f"user{i}@example.com",
                "active": rng.random() < 0.5, "score": round(rng.random() * 100, 3),
                "tags": rng.sample(["admin", "beta", "ops", "dev", "qa"], 2)} for i in range(n)]
    with open(path, "w") as f:
        json.dump(records, f)
    return {"bytes": os.path.getsize(path)}


def time_json_parse(path: str, library: str, repeat: int,
                    collector: bool = True) -> dict[str, Any]:
    """Time ``loads`` of the whole file (read into memory first: parsing, not the disk);
    without *collector*, with the cyclic garbage collector off, so that the difference is
    what its passes over the growing heap of new containers cost."""
    import gc

    if not collector:
        gc.disable()
    data = Path(path).read_bytes()
    if library == "orjson":
        import orjson

        loads: Callable[[bytes], Any] = orjson.loads
    else:
        loads = json.loads
    seconds, count = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        records = loads(data)
        seconds.append(time.perf_counter() - start)
        count = len(records)
        del records
    return {"seconds": seconds, "records": count, "peak_rss": peak_rss()}


class JsonParse(Claim):
    id = "json-parse"
    title = "Parsing 1M JSON records: Python 12.5 s, orjson 3.2 s, Go 1.8 s"
    articles = ("002",)
    said = "json 12.5 s, orjson 3.2 s, Go 1.8 s (json/Go 6.9×)"
    gist = ("Parsing a million JSON records takes 12.5 s with Python's `json`, 3.2 s with "
            "orjson and 1.8 s in Go (memory 1.2 GB, 800 MB, 400 MB).")
    method = ("One file, a JSON array of 1 million user-like records (id, name, e-mail, flag, "
              "score, two tags; about 131 MB) — 200,000 with `--quick` — parsed whole, after "
              "reading it into memory, by `json.loads`, `orjson.loads` (if installed) and Go's "
              "`json.Unmarshal`, into typed structs (what Go code does) and into `[]any` (what "
              "Python builds). `json.loads` is also timed with the cyclic garbage collector "
              "off: each of the millions of dicts and lists it creates counts towards the "
              "collector's next pass, and those passes walk the whole growing heap, so a large "
              "part of the default time is the collector's. Wall time, median of 3; peak RSS of "
              "each process beside it.")
    rule = ("**Holds** if Go (typed) is fastest, orjson second, and `json`/Go is within a "
            "factor of 2 of the article's 6.9× (3.5× to 14×); **holds only partly** if Go "
            "still beats `json` but the order or the size of the gap differs; **does not "
            "hold** if `json` is as fast as Go.")
    patterns = ()
    judged = ("json", "orjson", "go")

    def measure(self, ctx: Context) -> Measured:
        n = 200_000 if ctx.quick else 1_000_000
        path = str(ctx.scratch / f"records-{n}.json")
        ctx.progress(f"writing {n:,} records")
        size = ctx.python(write_records, path=path, n=n)["bytes"]
        m = Measured(params={"records": n, "bytes": size})
        libraries = ["json", *(["orjson"] if installed("orjson") else [])]
        for library in libraries:
            ctx.progress(f"Python {library}.loads")
            got = ctx.python(time_json_parse, path=path, library=library, repeat=3)
            m.add(library, f"Python {library}.loads", got["seconds"], "s")
            m.add(f"{library}_rss", f"Python {library}: peak RSS", got["peak_rss"], "B", "RSS")
        ctx.progress("Python json.loads, the garbage collector off")
        got = ctx.python(time_json_parse, path=path, library="json", repeat=3, collector=False)
        m.add("json_nogc", "Python json.loads, collector off", got["seconds"], "s")
        if "orjson" not in libraries:
            m.notes.append("orjson is not installed here, so it was not measured.")
        for key, flag in (("go", []), ("go_any", ["-untyped"])):
            ctx.progress("Go json.Unmarshal" + (" into []any" if flag else ""))
            got = ctx.go("json", "-file", path, "-repeat", "3", *flag)
            label = "Go json.Unmarshal into " + ("[]any" if flag else "[]Record")
            m.add(key, label, got["seconds"], "s")
            m.add(f"{key}_rss", f"{label}: peak RSS", got["peak_rss"], "B", "RSS")
        return m

    def collector(self, m: Measured) -> str:
        """What the garbage collector's share of json.loads was, if it was measured."""
        if "json_nogc" not in m:
            return ""
        share = 1 - m.median("json_nogc") / m.median("json")
        return (f"; the garbage collector took {share:.0%} of json.loads' time (with it off: "
                f"{m['json_nogc'].text(spread=False)})")

    def judge(self, m: Measured) -> Judgement:
        judgement = self._judge(m)
        return Judgement(judgement.verdict, judgement.reason + self.collector(m))

    def _judge(self, m: Measured) -> Judgement:
        py, go = m.median("json"), m.median("go")
        r = py / go
        orjson = m.median("orjson") if "orjson" in m else None
        if r <= 1:
            return Judgement(Verdict.FAILS, f"json.loads is {1 / r:.2f}× as fast as Go")
        order = orjson is None or go < orjson < py
        if order and 3.5 <= r <= 14:
            return Judgement(Verdict.HOLDS, f"json/Go {ratio_text(r)}"
                             + (f", orjson/Go {ratio_text(orjson / go)}" if orjson else ""))
        why = [f"json/Go is {ratio_text(r)}, not 6.9×"] if not 3.5 <= r <= 14 else []
        if orjson is not None and orjson <= go:
            why.append(f"orjson beats Go's encoding/json by {ratio_text(go / orjson)}")
        return Judgement(Verdict.PARTLY, "Go beats json.loads, but " + "; ".join(why))

    def summary(self, m: Measured) -> tuple[str, str]:
        parts = [f"json {m['json'].text()}"]
        if "orjson" in m:
            parts.append(f"orjson {m['orjson'].text()}")
        parts += [f"Go {m['go'].text()} (into []any: {m['go_any'].text()})"]
        return f"{m.params['records']:,} records: " + ", ".join(parts), \
            ratio_text(m.median("json") / m.median("go"))


# --- cpu-mem ----------------------------------------------------------------------------------

# Memory of the two CPU benchmarks, in an interpreter that loads nothing else: a process that
# imported this package (or the probe's machinery) would count that too. It prints the peak RSS.
MEMORY_PROBE = """
import json, sys
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
work, arg = sys.argv[1], sys.argv[2]
if work == "fib":
    fib(int(arg))
else:
    data = open(arg, "rb").read()
    if work == "orjson":
        import orjson
        records = orjson.loads(data)
    else:
        records = json.loads(data)
# VmHWM, not getrusage's ru_maxrss, which Linux carries over from the parent across exec.
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"peak_rss": int(hwm.split()[1]) * 1024}))
"""


class CpuMem(Claim):
    id = "cpu-mem"
    title = "The CPU benchmarks' memory: fib 50 MB vs 2 MB; 1M JSON records 1.2 GB, 800 MB, 400 MB"
    articles = ("002",)
    said = "fib(40): Python 50 MB, Go 2 MB; JSON: json 1.2 GB, orjson 800 MB, Go 400 MB"
    gist = ("Article 002's CPU tables give memory beside time: fib(40) takes 50 MB in Python "
            "and 2 MB in Go; parsing a million JSON records takes 1.2 GB with `json`, 800 MB "
            "with orjson and 400 MB in Go.")
    method = ("Peak RSS (the kernel's high-water mark of resident memory) of a process that does "
              "one thing: Python's recursive `fib(n)` (n = 30: the recursion is only n deep, "
              "so n barely matters), then Go's; parsing json-parse's file (1 million records, "
              "about 131 MB; 200,000 with `--quick`), read whole first, with `json.loads`, "
              "`orjson.loads` (if installed) and Go's `json.Unmarshal` into typed records. The "
              "Python processes run a bare interpreter that imports nothing else, so the figure "
              "is the interpreter and the work. Each is the median of 3 processes. The records' "
              "fields are this ledger's: the article doesn't give its own.")
    rule = ("Three Python/Go ratios set against the article's own: fib 25× (50 / 2 MB), "
            "`json` 3× (1.2 GB / 400 MB), orjson 2× (800 / 400 MB); a ratio is met within a "
            "factor of two. Ratios, not megabytes, because the records' size and the machine "
            "are unknown. **Holds** if all three are met (two where orjson is not installed); "
            "**holds only partly** if some are; **does not hold** if none is.")
    patterns = ("process_offload",)
    judged = ("python_fib", "go_fib", "json", "orjson", "go_json")
    # what each Python figure is called, its Go counterpart and the article's ratio
    SAID: ClassVar[dict[str, tuple[str, str, float]]] = {
        "python_fib": ("fib", "go_fib", 25.0), "json": ("json", "go_json", 3.0),
        "orjson": ("orjson", "go_json", 2.0)}

    def measure(self, ctx: Context) -> Measured:
        n, records = 30, (200_000 if ctx.quick else 1_000_000)
        path = ctx.scratch / f"records-{records}.json"
        if not path.exists():
            ctx.progress(f"writing {records:,} records")
            ctx.python(write_records, path=str(path), n=records)
        m = Measured(params={"n": n, "records": records})

        def peaks(what: str, arg: str) -> list[float]:
            ctx.progress(f"Python {what}: peak RSS")
            return [ctx.script(sys.executable, MEMORY_PROBE, what, arg)["peak_rss"]
                    for _ in range(3)]

        m.add("python_fib", f"Python fib({n}): peak RSS", peaks("fib", str(n)), "B", "peak RSS")
        ctx.progress("Go fib: peak RSS")
        m.add("go_fib", f"Go fib({n}): peak RSS",
              [ctx.go("fib", "-n", str(n), "-repeat", "1")["peak_rss"] for _ in range(3)],
              "B", "peak RSS")
        for library in ("json", *(["orjson"] if installed("orjson") else [])):
            m.add(library, f"Python {library}.loads: peak RSS", peaks(library, str(path)), "B",
                  "peak RSS")
        ctx.progress("Go json.Unmarshal: peak RSS")
        m.add("go_json", "Go json.Unmarshal into []Record: peak RSS",
              [ctx.go("json", "-file", str(path), "-repeat", "1")["peak_rss"]
               for _ in range(3)], "B", "peak RSS")
        if "orjson" not in m:
            m.notes.append("orjson is not installed here, so it was not measured.")
        return m

    def judge(self, m: Measured) -> Judgement:
        met: list[str] = []
        missed: list[str] = []
        for key, (name, go, said) in self.SAID.items():
            if key not in m:
                continue
            r = m.median(key) / m.median(go)
            text = f"{name}/Go {ratio_text(r)} (said {ratio_text(said)})"
            (met if said / 2 <= r <= said * 2 else missed).append(text)
        reason = (f"fib: Python {m['python_fib'].text(spread=False)}, Go "
                  f"{m['go_fib'].text(spread=False)}; {m.params['records']:,} records: json "
                  f"{m['json'].text(spread=False)}"
                  + (f", orjson {m['orjson'].text(spread=False)}" if "orjson" in m else "")
                  + f", Go {m['go_json'].text(spread=False)}; met: "
                  + (", ".join(met) or "none") + "; not met: " + (", ".join(missed) or "none"))
        if not missed:
            return Judgement(Verdict.HOLDS, reason)
        return Judgement(Verdict.PARTLY if met else Verdict.FAILS, reason)

    def summary(self, m: Measured) -> tuple[str, str]:
        return (f"fib({m.params['n']}): Python {m['python_fib'].text()}, Go "
                f"{m['go_fib'].text()}; {m.params['records']:,} records: json "
                f"{m['json'].text()}"
                + (f", orjson {m['orjson'].text()}" if "orjson" in m else "")
                + f", Go {m['go_json'].text()}",
                f"fib {ratio_text(m.median('python_fib') / m.median('go_fib'))}, json "
                f"{ratio_text(m.median('json') / m.median('go_json'))}")


# --- pypy -------------------------------------------------------------------------------------

# The same work for CPython and PyPy, with nothing but the standard library: PyPy has neither
# this package nor its dependencies. Each is timed after a warm-up, so PyPy's JIT has compiled
# the loop before the clock starts, as it would have in a long-running service.
PYPY_PROBE = """
import json, sys, time
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
n, path, repeat = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
data = open(path, "rb").read()
fib(n - 5); json.loads(data)  # warm-up
out = {"fib": [], "json": [], "version": sys.version.split()[0],
       "implementation": sys.implementation.name}
for _ in range(repeat):
    start = time.perf_counter(); fib(n); out["fib"].append(time.perf_counter() - start)
    start = time.perf_counter(); json.loads(data); out["json"].append(time.perf_counter() - start)
print(json.dumps(out))
"""


class PyPy(Claim):
    id = "pypy"
    title = "PyPy is 2–5× faster than CPython"
    articles = ("003",)
    said = "PyPy (JIT) 2–5× faster than CPython; not every library is supported"
    gist = ("Asked whether PyPy helps, the article answers that PyPy, a JIT compiler, is "
            "\"indeed 2-5x faster than CPython\", with limited library support.")
    method = ("Debian's `pypy3` (`apt-get install pypy3`) and this CPython run the same "
              "standard-library script: the recursive `fib(n)` of cpu-fib (n = 32; 27 with "
              "`--quick`) and `json.loads` of json-parse's file (1 million records; 200,000 "
              "with `--quick`), each after a warm-up, so the JIT has compiled the code before "
              "timing, 3 rounds each. Neither uses a C extension: what PyPy cannot run "
              "(many C extensions) is beyond this measurement.")
    rule = ("Speed-up = CPython's time / PyPy's, per workload. **Holds** if both speed-ups "
            "are 2× or more (the article's range or beyond; above 5× is said); **holds only "
            "partly** if one is; **does not hold** if neither is. Without `pypy3` on PATH, "
            "*not measured*.")
    patterns = ("process_offload",)
    judged = ("cpython_fib", "pypy_fib", "cpython_json", "pypy_json")

    def measure(self, ctx: Context) -> Measured:
        pypy = shutil.which("pypy3")
        if pypy is None:
            raise Unmeasurable("no pypy3 on PATH (Debian: apt-get install pypy3)")
        n, records = (27, 200_000) if ctx.quick else (32, 1_000_000)
        path = str(ctx.scratch / f"pypy-records-{records}.json")
        ctx.progress(f"writing {records:,} records")
        ctx.python(write_records, path=path, n=records)
        m = Measured(params={"n": n, "records": records})
        for key, python in (("cpython", sys.executable), ("pypy", pypy)):
            ctx.progress(f"{key}: fib({n}) and json.loads")
            got = ctx.script(python, PYPY_PROBE, str(n), path, "3")
            m.params[f"{key}_version"] = f"{got['implementation']} {got['version']}"
            m.add(f"{key}_fib", f"{key}: fib({n})", got["fib"], "s")
            m.add(f"{key}_json", f"{key}: json.loads, {records:,} records", got["json"], "s")
        return m

    def judge(self, m: Measured) -> Judgement:
        fib = m.median("cpython_fib") / m.median("pypy_fib")
        parse = m.median("cpython_json") / m.median("pypy_json")
        text = (f"PyPy ({m.params.get('pypy_version', '?')}) ran fib {ratio_text(fib)} and "
                f"json.loads {ratio_text(parse)} as fast as CPython")
        beyond = [w for w, s in (("fib", fib), ("json.loads", parse)) if s > 5]
        if beyond:
            text += f" ({' and '.join(beyond)} beyond the article's 5×)"
        fast = [s >= 2 for s in (fib, parse)]
        if all(fast):
            return Judgement(Verdict.HOLDS, text)
        return Judgement(Verdict.PARTLY if any(fast) else Verdict.FAILS, text)

    def summary(self, m: Measured) -> tuple[str, str]:
        return (f"fib({m.params['n']}): CPython {m['cpython_fib'].text()}, PyPy "
                f"{m['pypy_fib'].text()}; json.loads: CPython {m['cpython_json'].text()}, "
                f"PyPy {m['pypy_json'].text()}",
                f"{ratio_text(m.median('cpython_fib') / m.median('pypy_fib'))} fib")
