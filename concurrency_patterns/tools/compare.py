"""``concurrency-patterns compare``: every variant against Go, one table per workload.

It runs the pytest-benchmark suites of ``tests/benchmarks`` (the same ones
``pytest --benchmark-only`` runs), reads their JSON, and for each pattern workload prints each
variant's median and interquartile range, its ratio to Go (Go = 1.00) and, where a physical
floor exists, its efficiency against that floor. It names the machine, checks the project's
performance targets, and can write the tables as Markdown and JSON and draw them as a chart.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .registry import SLUGS
from .registry import pattern as _pattern
from .repo import CHECKOUT

__all__ = ["Row", "Table", "build_tables", "check_targets", "free_threading", "headlines",
           "interpreter_label", "merge_interpreter", "run_compare", "write_docs"]

ROOT = CHECKOUT
SPREAD_LIMIT = 0.10  # an IQR above 10 % of the median is flagged: the figure is noisy
ANYIO_TAX_LIMIT = 1.10
HAND_WRITTEN_LIMIT = 1.25  # a library variant, against the hand-written code of its model
FLAT_LIMIT = 0.10  # a stream's peak RSS, from a small run to a large one
IMPORT_TIME_LIMIT = 0.020  # a namespace's import, beyond its model's alone: 20 ms
IMPORT_RSS_LIMIT_KIB = 3 * 1024  # ... and 3 MB of peak RSS
# The pattern pages link to it: how to add to the project, and the naming rule.
CONTRIBUTING = ("https://github.com/concurrency-patterns/concurrency-patterns/blob/main/"
                "CONTRIBUTING.md")


@dataclass
class Row:
    variant: str
    median: float  # seconds
    iqr: float
    rounds: int
    ratio_to_go: float | None = None
    efficiency: float | None = None  # floor / median
    per_job: float | None = None  # seconds per job (per item for the pipeline): dispatch cost
    speedup: float | None = None  # sequential median / median, for process_offload
    cpu: float | None = None  # the client's CPU seconds per round (this process, or Go's)
    cpu_per_request: float | None = None  # bounded_fetch: cpu / URLs
    vs_hand: float | None = None  # median / the hand-written row of the same model
    # The median of the hand-written rounds run alternately with this row's, in its own test.
    paired_hand: float | None = None
    over_hand: float | None = None  # seconds per operation beyond the hand-written row

    @property
    def noisy(self) -> bool:
        return self.iqr > SPREAD_LIMIT * self.median


@dataclass
class Table:
    pattern: str
    workload: str
    params: dict[str, Any]
    floor: float | None
    rows: list[Row] = field(default_factory=list)
    date: str | None = None  # the day its run began (YYYY-MM-DD), when the results say
    passes: int = 1  # how many runs of the suite each row's median is the median of

    def row(self, variant: str) -> Row | None:
        return next((r for r in self.rows if r.variant == variant), None)

    @property
    def paired(self) -> bool:
        """Whether its library rows were timed alternately with the hand-written code."""
        return any(r.paired_hand is not None for r in self.rows)


# "tests/benchmarks/bench_mutex.py::test_async[workload-variant] PASSED   [ 5%]"
_RESULT = re.compile(r"\S*bench_(\w+)\.py::(\w+)(?:\[(.*?)\])? (PASSED|FAILED|SKIPPED|ERROR)")


# --- running the suites ---------------------------------------------------------------------

def run_benchmarks(patterns: list[str], quick: bool, out: Path,
                   python: str = sys.executable, go: bool = True) -> int:
    """Run the benchmark suites with pytest under *python*, printing one progress line per
    benchmark; without *go*, the Go rows are left out (another interpreter's run needs none)."""
    suites = ROOT / "tests" / "benchmarks"
    files = [str(suites / f"bench_{p}.py") for p in patterns] or [str(suites)]
    command = [python, "-m", "pytest", *files, "--benchmark-only", "-v",
               f"--benchmark-json={out}", "--benchmark-save-data", "-p", "no:cacheprovider",
               "--no-header", "-rN"]
    if not go:
        command += ["-k", "not test_go"]
    if quick:
        command += ["--workloads=quick", "--benchmark-max-time=0.1", "--benchmark-min-rounds=3"]
    total = _count(command)
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    done = 0
    failed = False
    for line in process.stdout:
        result = _RESULT.match(line)
        if result:
            done += 1
            pattern, test, variant, outcome = result.groups()
            failed |= outcome in ("FAILED", "ERROR")
            name = f"{pattern}: {test}" + (f"[{variant}]" if variant else "")
            line = (f"  [{done:3d}/{total}] {_elapsed(time.monotonic() - start)}  {name}  "
                    f"{outcome.lower()}")
            if len(line) > WIDTH:  # the middle of a long test id goes, its ends stay
                cut = len(line) - WIDTH + 1
                middle = len(name) // 2
                name = name[:middle - cut // 2 - 1] + "…" + name[middle + (cut - cut // 2):]
                line = (f"  [{done:3d}/{total}] {_elapsed(time.monotonic() - start)}  {name}  "
                        f"{outcome.lower()}")
            print(line, flush=True)
        elif failed or line.startswith(("E ", "FAILED", "ERROR")):
            print(line, end="")
    return process.wait()


def _count(command: list[str]) -> int | str:
    """How many benchmarks *command* will run (pytest's collection, a second or two), or "?"."""
    collect = [*(c for c in command if c != "-v"), "--collect-only", "-q"]
    done = subprocess.run(collect, cwd=ROOT, capture_output=True, text=True)
    found = sum(1 for line in done.stdout.splitlines() if "::" in line)
    return found or "?"


def _elapsed(seconds: float) -> str:
    """12.3s under a minute, 4m05s above."""
    if seconds < 60:
        return f"{seconds:5.1f}s"
    return f"{int(seconds // 60):2d}m{int(seconds % 60):02d}s"


# --- building the tables --------------------------------------------------------------------

def build_tables(data: dict[str, Any]) -> list[Table]:
    """One table per pattern workload, from pytest-benchmark's JSON."""
    tables: dict[tuple[str, str], Table] = {}
    for b in data["benchmarks"]:
        info = b["extra_info"]
        if "workload" not in info:  # not a timing (peak memory: see memory_rows)
            continue
        key = (info["pattern"], info["workload"])
        table = tables.setdefault(key, Table(info["pattern"], info["workload"], info["params"],
                                             info.get("floor_seconds"),
                                             date=(data.get("datetime") or "")[:10] or None,
                                             passes=data.get("passes", 1)))
        stats = b["stats"]
        table.rows.append(Row(info["variant"], stats["median"], stats["iqr"], stats["rounds"],
                              cpu=info.get("cpu_seconds"),
                              paired_hand=info.get("paired_hand_seconds")))
    cores = data.get("machine_info", {}).get("cores") or os.cpu_count() or 1
    for table in tables.values():
        _derive(table, cores)
        table.rows.sort(key=lambda r: r.median)
    return sorted(tables.values(), key=lambda t: (_ORDER.get(t.pattern, 99), t.workload))


_ORDER = {slug: i for i, slug in enumerate(SLUGS)}
WIDTH = 100  # what compare prints fits this many columns
_SUFFIX = re.compile(r" \(\d+\.\d+t?\)$")  # " (3.13t)": a row from another interpreter


def _interpreter_suffix(variant: str) -> str:
    found = _SUFFIX.search(variant)
    return found.group(0) if found else ""


def _asked(variant: str) -> bool:
    """Whether *variant* is a row with an option asked for (see ``_ASKED``)."""
    suffix = _interpreter_suffix(variant)
    return bool(_ASKED.search(variant.removesuffix(suffix)))


def interpreter_label(python: str) -> str:
    """"3.13t" for a free-threaded 3.13 with the GIL off, "3.12" for a plain 3.12."""
    probe = ("import sys; gil = getattr(sys, '_is_gil_enabled', lambda: True)(); "
             "print(f'{sys.version_info[0]}.{sys.version_info[1]}' + ('' if gil else 't'))")
    return subprocess.run([python, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.strip()


def merge_interpreter(data: dict[str, Any], other: dict[str, Any], label: str) -> None:
    """Add *other*'s benchmarks to *data*, each variant marked as *label*'s: one table per
    workload, with both interpreters' rows."""
    for b in other.get("benchmarks", []):
        info = b["extra_info"]
        if "variant" in info:
            info["variant"] = f"{info['variant']} ({label})"
        if "memory" in info:  # a peak-memory row: named by its backend
            info["memory"]["backend"] = f"{info['memory']['backend']} ({label})"
        data.setdefault("benchmarks", []).append(b)


def combine_passes(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One set of results from several runs (passes) of the same suites.

    Each row's median is the median of its medians in the passes, and its IQR that of all its
    rounds together. A slow spell of the machine lasts seconds and so falls on the rows
    measured during it: in one pass it can make one row of a table look slow beside the
    others, but it is unlikely to fall on the same row in most passes. The pooled IQR shows
    how far the passes disagreed. The other measurements (peak memory, import cost) are the
    first pass's.
    """
    first = runs[0]
    if len(runs) == 1:
        return first
    seen: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for run in runs:
        for b in run.get("benchmarks", []):
            info = b["extra_info"]
            if "workload" in info:
                seen.setdefault((info["pattern"], info["workload"], info["variant"]),
                                []).append(b)
    benchmarks = [b for b in first.get("benchmarks", []) if "workload" not in b["extra_info"]]
    for passes in seen.values():
        # run_benchmarks saves every round (--benchmark-save-data): two passes, two at least.
        rounds = [x for b in passes for x in b["stats"]["data"]]
        cpu = [b["extra_info"]["cpu_seconds"] for b in passes if "cpu_seconds" in b["extra_info"]]
        paired = [b["extra_info"]["paired_hand_seconds"] for b in passes
                  if "paired_hand_seconds" in b["extra_info"]]
        stats = dict(passes[0]["stats"])
        stats["median"] = statistics.median(b["stats"]["median"] for b in passes)
        q = statistics.quantiles(rounds, n=4)
        stats["iqr"] = q[2] - q[0]
        stats["rounds"] = sum(b["stats"]["rounds"] for b in passes)
        extra = dict(passes[0]["extra_info"])
        if cpu:
            extra["cpu_seconds"] = statistics.median(cpu)
        if paired:  # as the row's own median: the median of the passes'
            extra["paired_hand_seconds"] = statistics.median(paired)
        benchmarks.append({**passes[0], "stats": stats, "extra_info": extra})
    return {**first, "benchmarks": benchmarks, "passes": len(runs)}


# What one round of each pattern's workload does, counted: the unit of the per-operation cost.
_OPERATIONS: dict[str, Callable[[dict[str, Any]], int]] = {
    "bounded_fetch": lambda p: fetch_requests(p),
    "producer_consumer": lambda p: p["items"],
    "worker_pool": lambda p: p["jobs"],
    "waitgroup": lambda p: p["tasks"],
    "mutex": lambda p: p["tasks"] * p["increments"],
    "rwmutex": lambda p: (p["readers"] + p["writers"]) * p["rounds"],
    "once": lambda p: p["callers"],
    "process_offload": lambda p: p["jobs"],
    "rate_limit": lambda p: p["calls"],
    "errgroup": lambda p: p["tasks"],
    "singleflight": lambda p: p["callers"],
    "pipeline": lambda p: p["items"],
    "cancellation": lambda p: p["scopes"] or p["waiters"],
    "sync_map": lambda p: p["workers"] * p["ops"],
    "sync_pool": lambda p: p["workers"] * p["borrows"],
}
_MODEL = re.compile(r"^(asyncio\+uvloop|asyncio|anyio/asyncio|anyio/trio|threads|processes)"
                    r"(?=$| \(|, )")  # "asyncio (httptools)", "threads, SyncPool"; not "threads →"
_NOT_OURS = ("hand-written", "go", "bare ", "plain ", "sequential", "dask")
# A row with an option asked for ("threads, SyncPool, check_puts=True") measures what a
# contract the hand-written code lacks costs: its vs-hand figure is shown, and held to no target.
# So does a fetch row that names the HTTP client it was given ("anyio/trio (httpcore)"): it
# measures that client, where the target is about the pattern around the model's default one.
_ASKED = re.compile(r", \w+=\w+$| \((?:httpcore|httptools)\)$")


def fetch_requests(params: dict[str, Any]) -> int:
    """Requests one round of a fetch workload sends: every URL, and in a crawl once more each
    one answered busy (one URL in ``fail_every``)."""
    urls: int = params["urls"]
    every = params.get("fail_every")
    return urls + (-(-urls // every) if every else 0)


def operations(table: Table) -> int | None:
    """How many operations one round of *table*'s workload does (calls, items, jobs...)."""
    count = _OPERATIONS.get(table.pattern)
    return count(table.params) if count else None


def baseline_model(variant: str) -> str | None:
    """The model whose hand-written row *variant* is measured against ("asyncio",
    "anyio/trio", "threads"...); None for a row that is not one of the library's (Go, a peer,
    a bare primitive, a fresh object each time)."""
    if variant.startswith(_NOT_OURS) or "(peer)" in variant or "fresh" in variant:
        return None
    model = _MODEL.match(variant)
    return None if model is None else model.group(1)


def hand_written_of(table: Table, row: Row) -> Row | None:
    """The hand-written row *row* is measured against: the code of the same model (and the
    same interpreter) a user writes without the library; None for a row that is not one of
    the library's."""
    model = baseline_model(row.variant)
    if model is None:
        return None
    return table.row(f"hand-written ({model}){_interpreter_suffix(row.variant)}")


def _derive(table: Table, cores: int) -> None:
    go = table.row("go")
    count = operations(table)
    for row in table.rows:
        hand = hand_written_of(table, row)
        if hand is not None:
            # Against the hand-written rounds that alternated with the row's own, where the
            # benchmark ran them (see Bench.paired); else against the hand-written row.
            against = row.paired_hand or hand.median
            row.vs_hand = row.median / against
            if count:
                row.over_hand = (row.median - against) / count
        if go is not None:
            row.ratio_to_go = row.median / go.median
        if table.floor:
            row.efficiency = table.floor / row.median
        if table.pattern == "worker_pool" and not table.params.get("sleep_ms"):
            row.per_job = row.median / table.params["jobs"]
        if table.pattern == "pipeline":
            row.per_job = row.median / table.params["items"]
        if table.pattern == "process_offload" and table.params.get("jobs"):
            row.per_job = row.median / table.params["jobs"]
        if table.pattern == "bounded_fetch" and row.cpu is not None:
            row.cpu_per_request = row.cpu / fetch_requests(table.params)
    if table.pattern == "process_offload":
        # The floor is the sequential time spread over every core; each language has its own,
        # and so does each interpreter: "threads (3.13t)" is against "sequential (3.13t)".
        for row in table.rows:
            go_side = row.variant.startswith("go")
            suffix = _interpreter_suffix(row.variant)
            baseline = table.row("go (sequential)" if go_side else f"sequential{suffix}")
            if baseline is not None:
                row.speedup = baseline.median / row.median
                row.efficiency = baseline.median / cores / row.median


def check_targets(tables: list[Table]) -> list[tuple[str, bool, str]]:
    """The project's performance targets: (what, met, the measurement)."""
    checks: list[tuple[str, bool, str]] = []
    for t in tables:
        name = f"{t.pattern}: {t.workload}"
        asyncio_row, anyio_row = t.row("asyncio"), t.row("anyio/asyncio")
        if asyncio_row and anyio_row:
            tax = anyio_row.median / asyncio_row.median
            checks.append((f"{name}: anyio/asyncio at most {ANYIO_TAX_LIMIT:.2f}x asyncio",
                           tax <= ANYIO_TAX_LIMIT, f"{tax:.2f}x"))
        if t.pattern == "bounded_fetch" and t.params.get("urls") == 1000 and asyncio_row:
            checks += _fetch_targets(t, name, asyncio_row)
        for peer in (r for r in t.rows if r.variant.endswith("(peer)")):
            # A peer of a kind ("threads → asyncio: janus (peer)") is held against our rows of
            # that kind; any other against our asyncio and anyio rows.
            kind, _, peer_name = peer.variant.rpartition(": ")
            ours = ([r for r in t.rows if r.variant == kind] if kind else
                    [r for r in (asyncio_row, anyio_row) if r is not None])
            if ours:
                best = min(ours, key=lambda r: r.median)
                ratio = peer.median / best.median
                rival = peer_name.removesuffix(" (peer)")
                checks.append((f"{name}: {best.variant} ahead of {rival}", ratio >= 1.0,
                               f"the peer takes {ratio:.2f}x as long"))
        for row in t.rows:
            if row.vs_hand is not None and not _asked(row.variant):
                hand = hand_written_of(t, row)
                assert hand is not None
                checks.append((f"{name}: {row.variant} within {HAND_WRITTEN_LIMIT:.2f}x "
                               f"{hand.variant}", row.vs_hand <= HAND_WRITTEN_LIMIT,
                               f"{row.vs_hand:.2f}x" + (f", {_delta(row.over_hand)} per "
                                                        "operation" if row.over_hand is not None
                                                        else "")))
        processes, threads = t.row("processes"), t.row("threads")
        if (t.pattern == "process_offload" and processes and processes.speedup
                and t.params.get("spin", 0) >= 1_000_000):  # jobs long enough to spread
            thread_speedup = ""
            if threads and threads.speedup:
                thread_speedup = f"; threads {threads.speedup:.2f}x"
            checks.append((f"{name}: processes at least 1.8x faster than sequential",
                           processes.speedup >= 1.8, f"{processes.speedup:.2f}x{thread_speedup}"))
    return checks


FETCH_PORTABLE_LIMIT = 2.0  # anyio on trio, against asyncio + aiohttp
FETCH_THREADS_LIMIT = 4.0
FETCH_FLOOR_TARGET = 0.70  # the best Python variant, of the latency floor


def _fetch_targets(t: Table, name: str, asyncio_row: Row) -> list[tuple[str, bool, str]]:
    checks = []
    for variant, limit in (("anyio/trio", FETCH_PORTABLE_LIMIT),
                           ("threads", FETCH_THREADS_LIMIT)):
        row = t.row(variant)
        if row is not None:
            ratio = row.median / asyncio_row.median
            checks.append((f"{name}: {variant} within {limit:.0f}x asyncio",
                           ratio <= limit, f"{ratio:.2f}x"))
    python = [r for r in t.rows if r.efficiency is not None and not r.variant.startswith("go")
              and "(peer)" not in r.variant]
    if python:
        best = max(python, key=lambda r: r.efficiency or 0.0)
        assert best.efficiency is not None
        go_row = t.row("go")
        got = f"{best.variant}: {best.efficiency:.0%}"
        if go_row and go_row.efficiency:
            got += f" (Go {go_row.efficiency:.0%})"
        if best.cpu and t.floor and best.cpu >= t.floor:
            got += (f"; its CPU per round, {_time(best.cpu)}, is above the {_time(t.floor)} "
                    "floor: it is CPU-bound, not waiting")
        checks.append((f"{name}: the best Python variant reaches "
                       f"{FETCH_FLOOR_TARGET:.0%} of the floor",
                       best.efficiency >= FETCH_FLOOR_TARGET, got))
    return checks


def memory_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The peak-memory measurements (bounded_fetch's flat-memory benchmark)."""
    return [b["extra_info"]["memory"] | {"name": b["name"]} for b in data["benchmarks"]
            if "memory" in b["extra_info"]]


def import_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The import-cost measurements (bench_imports.py): three rows per namespace."""
    return [row for b in data["benchmarks"] for row in b["extra_info"].get("imports", [])]


def check_imports(rows: list[dict[str, Any]]) -> list[tuple[str, bool, str]]:
    """The target: importing a namespace costs at most 20 ms and 3 MB beyond its model."""
    checks = []
    for ns in dict.fromkeys(r["namespace"] for r in rows):
        mine = [r for r in rows if r["namespace"] == ns]
        model, namespace = mine[0], mine[1]  # the model alone, then the namespace
        extra_s = namespace["median_s"] - model["median_s"]
        extra_kib = namespace["peak_kib"] - model["peak_kib"]
        ok = extra_s <= IMPORT_TIME_LIMIT and extra_kib <= IMPORT_RSS_LIMIT_KIB
        checks.append((f"imports: concurrency_patterns.{ns} within 20 ms and 3 MB of "
                       f"{model['row']}", ok,
                       f"{_delta(extra_s)}, {extra_kib / 1024:+.1f} MB"))
    return checks


def _delta(seconds: float) -> str:
    """A difference of times, signed: ``+1.20 ms``, ``-36.3 ms``."""
    return ("-" if seconds < 0 else "+") + _time(abs(seconds))


def format_imports(rows: list[dict[str, Any]], markdown: bool) -> str:
    """The import costs: each namespace beside its model alone, in fresh interpreters."""
    if not rows:
        return ""
    intro = (f"Import cost, measured {rows[0].get('date', '')} on the same machine: each row is "
             f"the median of {rows[0]['rounds']} fresh interpreters timing one import (start-up "
             "excluded), with their peak RSS after it (VmHWM). Every name read: each name "
             "the namespace serves resolved, which loads its pattern modules; the model's "
             "library itself loads when code first runs.")
    lines = [intro] if not markdown else [
        "#### imports: a namespace beside its model alone", "", f"*{intro}*", "",
        "| namespace | import | time (IQR) | beyond the model | peak RSS | beyond the model |",
        "|---|---|--:|--:|--:|--:|"]
    for ns in dict.fromkeys(r["namespace"] for r in rows):
        mine = [r for r in rows if r["namespace"] == ns]
        base = mine[0]
        for r in mine:
            extra = r is not base
            cells = [ns, f"`{r['row']}`" if r["row"].startswith("import") else r["row"],
                     f"{_time(r['median_s'])} (±{_time(r['iqr_s'] / 2)})",
                     _delta(r["median_s"] - base["median_s"]) if extra else "",
                     f"{r['peak_kib'] / 1024:.1f} MB",
                     f"{(r['peak_kib'] - base['peak_kib']) / 1024:+.1f} MB" if extra else ""]
            lines.append("| " + " | ".join(cells) + " |" if markdown
                         else "  " + "  ".join(c.strip("`") for c in cells if c))
    return "\n".join(lines) + "\n"


def _memory_row(r: dict[str, Any]) -> dict[str, Any]:
    """A memory row in the current shape (rows from runs before every streaming pattern had
    one were bounded_fetch's, with "urls")."""
    if "pattern" in r:
        return r
    return {"pattern": "bounded_fetch", "variant": "anyio.fetch_stream", "items": r["urls"],
            "flat_expected": True, **r}


def format_memory(rows: list[dict[str, Any]], markdown: bool,
                  pattern: str | None = None) -> str:
    """The peak-memory rows (of *pattern*, or all): each streaming variant at a small and a
    large size, each size in a fresh interpreter, with the growth between them."""
    rows = [r for r in map(_memory_row, rows) if pattern is None or r["pattern"] == pattern]
    if not rows:
        return ""
    lines = ["Peak RSS while streaming (VmHWM of a fresh interpreter for each size):"]
    if markdown:
        lines = ["#### Peak RSS while streaming", "",
                 f"VmHWM of a fresh interpreter for each size. A stream passes when its peak "
                 f"grows less than {FLAT_LIMIT:.0%}; the hand-written rows are the code a user "
                 "writes without the library, shown beside it, and the leaky one keeps every "
                 "result on purpose, to show the probe sees memory grow.", "",
                 "| pattern | variant | items | peak RSS | growth |", "|---|---|--:|--:|--:|"]
    for r in rows:
        small, large = r["items"]
        low, high = (k / 1024 for k in r["peak_rss_kib"])
        mark = ("" if not r.get("flat_expected") else
                " ✓" if r["growth"] < FLAT_LIMIT else " ✗")
        cells = [r["pattern"], f"{r['variant']} ({r['backend']})", f"{small:,} → {large:,}",
                 f"{low:.1f} → {high:.1f} MiB", f"{r['growth']:+.1%}{mark}"]
        lines.append("| " + " | ".join(cells) + " |" if markdown else "  " + "  ".join(cells))
    return "\n".join(lines) + "\n"


def check_memory(rows: list[dict[str, Any]]) -> list[tuple[str, bool, str]]:
    """The target: every streaming variant's peak grows less than 10 %."""
    checks = []
    for r in map(_memory_row, rows):
        if r.get("flat_expected"):
            small, large = r["items"]
            checks.append((f"{r['pattern']}: {r['variant']} ({r['backend']}) in flat memory, "
                           f"{small:,} → {large:,} items", r["growth"] < FLAT_LIMIT,
                           f"{r['growth']:+.1%}"))
    return checks


# --- formatting -----------------------------------------------------------------------------

def _unit(seconds: float) -> tuple[str, float]:
    for name, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return name, scale
    return "ns", 1e-9


def times(ratio: float) -> str:
    """A ratio with 3 significant digits at most: 1.95×, 15.2×, 412×."""
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.1f}×" if ratio < 100 else f"{ratio:.0f}×"


def _time(seconds: float) -> str:
    name, scale = _unit(seconds)
    return f"{_figure(seconds / scale)} {name}"


def _figure(value: float, digits: int = 3) -> str:
    """*value* to *digits* significant digits, never in e-notation: 1,160 not 1.16e+03 (nor
    1,159.4), 0.882 not 8.82e-01."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    places = digits - 1 - math.floor(math.log10(abs(value)))
    if abs(round(value, places)) >= 10 ** (digits - places):  # 99.96 rounds up to 100.0
        places -= 1
    return f"{round(value, places):,.{max(0, places)}f}"


def _table_unit(medians: list[float]) -> tuple[str, float]:
    """One unit for a table, chosen by its middle row: where Go takes 0.9 ms and Python 75 ms,
    milliseconds (0.882 and 75.1), not microseconds (882 and 75,091)."""
    return _unit(statistics.median(medians))


def _shares_work(table: Table) -> bool:
    """Whether a floor and a speed-up say anything of *table*: jobs with no work to share
    (500 empty jobs) put every variant at 0 % of its floor, "0.000940× sequential", which
    are not figures. Then the columns are left out."""
    shares = [x for r in table.rows if "sequential" not in r.variant  # 1× of itself
              for x in (r.efficiency, r.speedup) if x is not None]
    return not shares or max(shares) >= 0.05


def _cells(table: Table) -> tuple[list[str], list[list[str]]]:
    unit, scale = _table_unit([r.median for r in table.rows])
    header = ["variant", f"median ({unit})", "IQR", "vs Go"]
    shares = _shares_work(table)
    show_eff = shares and any(r.efficiency is not None for r in table.rows)
    show_job = any(r.per_job is not None for r in table.rows)
    show_speed = shares and any(r.speedup is not None for r in table.rows)
    show_cpu = table.pattern == "bounded_fetch"  # is the client waiting, or working?
    show_cpu_request = any(r.cpu_per_request is not None for r in table.rows)
    show_hand = any(r.vs_hand is not None for r in table.rows)
    show_rps = table.pattern == "bounded_fetch" and bool(table.params.get("fail_every"))
    if show_rps:
        header += ["requests/s", "retries/s"]
    if show_hand:
        header += ["vs hand", "+/op"]
    if show_eff:
        header.append("of floor")
    if show_cpu:
        header.append("client CPU")
    if show_cpu_request:
        header.append("CPU/request")
    if show_job:
        header.append("per item" if table.pattern == "pipeline" else "per job")
    if show_speed:
        header.append("vs sequential")
    body = []
    for r in table.rows:
        cells = [r.variant, _figure(r.median / scale),
                 f"±{_figure(r.iqr / scale, 2)}" + (" ⚠" if r.noisy else ""),
                 _figure(r.ratio_to_go) if r.ratio_to_go is not None else "–"]
        if show_rps:
            retries = fetch_requests(table.params) - table.params["urls"]
            cells += [f"{fetch_requests(table.params) / r.median:,.0f}",
                      f"{retries / r.median:,.0f}"]
        if show_hand:
            cells.append(_figure(r.vs_hand) if r.vs_hand is not None else "–")
            cells.append(_delta(r.over_hand) if r.over_hand is not None else "–")
        if show_eff:
            cells.append(f"{r.efficiency:.0%}" if r.efficiency is not None else "–")
        if show_cpu:
            cells.append(_time(r.cpu) if r.cpu is not None else "–")
        if show_cpu_request:
            cells.append(_time(r.cpu_per_request) if r.cpu_per_request is not None else "–")
        if show_job:
            cells.append(_time(r.per_job) if r.per_job is not None else "–")
        if show_speed:
            cells.append(f"{_figure(r.speedup)}×" if r.speedup is not None else "–")
        body.append(cells)
    return header, body


def _floor_note(table: Table) -> str:
    if not _shares_work(table):
        return ""
    if table.pattern == "process_offload":
        return "floor: the sequential time divided by the number of cores"
    if table.floor:
        if table.pattern == "bounded_fetch" and table.params.get("max_per_second"):
            p = table.params
            return (f"a crawl: {p['urls']} URLs, one in {p['fail_every']} answered 429 or 503 "
                    f"once, {fetch_requests(p)} requests; floor: ({fetch_requests(p)} - 1) / "
                    f"{p['max_per_second']:g} per s = {_time(table.floor)}")
        if table.pattern == "bounded_fetch":
            return (f"floor: ceil({table.params['urls']} / {table.params['limit']}) x "
                    f"{table.params['delay_ms']} ms = {_time(table.floor)}")
        if table.pattern == "rate_limit":
            return (f"floor: ({table.params['calls']} - {table.params['burst']}) calls / "
                    f"{table.params['rate']:g} per s = {_time(table.floor)}")
        if table.pattern == "worker_pool":
            return (f"floor: ceil({table.params['jobs']} / {table.params['workers']}) x "
                    f"{table.params['sleep_ms']} ms = {_time(table.floor)}")
        return f"floor: {_time(table.floor)}"
    return ""


def format_text(tables: list[Table], machine: str) -> str:
    legend = (f"Each figure is the median of the timed rounds, then their interquartile range "
              f"(⚠: above {SPREAD_LIMIT:.0%} of the median, a noisy figure). vs hand: the time "
              "over the hand-written row of the same model (or over the hand-written rounds run "
              "alternately with the row's own, where the benchmark runs them); +/op: what the "
              "library adds to each operation beyond it.")
    out = [machine, textwrap.fill(legend, WIDTH), ""]
    for t in tables:
        header, body = _cells(t)
        widths = [max(len(c) for c in col) for col in zip(header, *body, strict=True)]
        note = _floor_note(t)
        out.append(f"{t.pattern}: {t.workload}")
        if note:
            out.append(f"  ({note})")
        out.append("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        for cells in body:
            out.append("  " + "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))))
        out.append("")
    return "\n".join(out)


def format_markdown(tables: list[Table], machine: str, checks: list[tuple[str, bool, str]],
                    overhead: str, *, heading: str = "###", memory: str = "",
                    chart: Callable[[Table], str] | None = None) -> str:
    """The tables as Markdown, then the memory rows and the targets. With *chart*, each table
    is followed by its chart, at the path *chart* gives."""
    out = [f"**Machine:** {machine}", "", f"**How:** {overhead}.", "",
           "Each figure is the median of the timed rounds with its interquartile range (IQR); "
           f"⚠ marks an IQR above {SPREAD_LIMIT:.0%} of the median. *vs Go* is the ratio to Go's "
           "median on the same workload in the same run (Go = 1.00). *vs hand* is the ratio "
           "to the *hand-written* row of the same model — the code a user writes without the "
           "library — and *+/op* what the library adds to each operation (call, item, job) "
           "beyond it.", ""]
    for t in tables:
        header, body = _cells(t)
        out.append(f"{heading} {table_title(t)}")
        out.append("")
        if t.date:
            passes = f" Each figure is the median of {t.passes} passes." if t.passes > 1 else ""
            paired = (" The vs hand and +/op columns are against the hand-written code's rounds "
                      "run alternately with each row's own." if t.paired else "")
            out += [f"*Run of {t.date}, on the machine above.{passes}{paired}*", ""]
        if note := _floor_note(t):
            out += [f"*{note[0].upper()}{note[1:]}.*", ""]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join(["---"] + ["--:"] * (len(header) - 1)) + "|")
        out += ["| " + " | ".join(cells) + " |" for cells in body]
        out.append("")
        if chart is not None:
            out += [f"![{t.pattern}: {t.workload}, as a chart]({chart(t)})", ""]
    if memory:
        out += [memory]
    if checks:
        out += [f"{heading} Targets", "", "| target | measured | met |", "|---|--:|:-:|"]
        out += [f"| {what} | {got} | {'yes' if ok else '**no**'} |" for what, ok, got in checks]
    return "\n".join(out) + "\n"


def write_docs(tables: list[Table], machine: str, checks: list[tuple[str, bool, str]],
               overhead: str, directory: Path, memory: list[dict[str, Any]] | None = None,
               imports: str = "") -> None:
    """What the docs include, into *directory*:

    * ``benchmarks.md`` and ``benchmarks.png``: every table, and one chart of them all;
    * ``targets.md``: the project's targets and whether this run met them (the methodology
      page shows them; the pattern pages link to it);
    * ``<pattern>.md``: a pattern's tables, each followed by its own chart
      (``<pattern>-<workload>.png``);
    * ``imports.md``: what importing each namespace costs, beside its model alone;
    * ``headlines.md`` and, for a run with a free-threaded interpreter, ``free_threading.md``.

    Charts of an earlier run that this one no longer has are removed.
    """
    directory.mkdir(parents=True, exist_ok=True)
    memory = memory or []
    (directory / "benchmarks.md").write_text(
        format_markdown(tables, machine, [], overhead,
                        memory=format_memory(memory, markdown=True)))
    (directory / "imports.md").write_text(imports)
    (directory / "targets.md").write_text(format_targets(checks))
    draw_chart(tables, directory / "benchmarks.png", machine)
    (directory / "headlines.md").write_text(headlines(tables))
    if text := free_threading(tables):  # only a run with a free-threaded interpreter has it
        (directory / "free_threading.md").write_text(text)
    drawn = {directory / "benchmarks.png"}
    for pattern in sorted({t.pattern for t in tables}):
        mine = [t for t in tables if t.pattern == pattern]
        text = format_markdown(mine, machine, [], overhead, heading="####",
                               memory=format_memory(memory, True, pattern=pattern),
                               chart=lambda t: f"../generated/{chart_name(t)}")
        # Where the makers' side lives: how it is measured, the targets, how to contribute.
        text += ("\nHow these figures are measured, and the targets the project sets for each "
                 "pattern with whether this run met them: the [methodology]"
                 "(../methodology.md#targets). Adding to them: [CONTRIBUTING.md]"
                 f"({CONTRIBUTING}).\n")
        (directory / f"{pattern}.md").write_text(text)
        for t in mine:
            draw_table_chart(t, directory / chart_name(t), machine)
            drawn.add(directory / chart_name(t))
    for old in directory.glob("*.png"):
        if old not in drawn and old.stem.split("-")[0] in SLUGS:
            old.unlink()


def format_targets(checks: list[tuple[str, bool, str]]) -> str:
    """The targets as a Markdown table: what, the measured figure, met or not."""
    if not checks:
        return "*This run checked no target.*\n"
    out = ["| target | measured | met |", "|---|--:|:-:|"]
    out += [f"| {what} | {got} | {'yes' if ok else '**no**'} |" for what, ok, got in checks]
    return "\n".join(out) + "\n"


# The home page's three headline results: (pattern, workload prefix) of the tables they read.
HEADLINE_IO = ("worker_pool", "sleep-")
HEADLINE_CPU = ("process_offload", "8-jobs")
HEADLINE_COORDINATION = ("mutex", "")


def headlines(tables: list[Table]) -> str:
    """Three results worth knowing before anything else, each computed from its table and
    linked to it, as the Markdown the home page includes. A result whose table is missing
    is left out rather than guessed."""

    def table(key: tuple[str, str]) -> Table | None:
        pattern, prefix = key
        return next((t for t in tables
                     if t.pattern == pattern and t.workload.startswith(prefix)), None)

    def link(t: Table) -> str:
        return f"[{t.pattern}: {t.workload}](patterns/{t.pattern}.md#measured)"

    out: list[str] = []
    io = table(HEADLINE_IO)
    if io is not None and (a := io.row("asyncio")) and a.ratio_to_go and (
            th := io.row("threads")) and th.ratio_to_go:
        out.append(f"- **Waiting on I/O, Python keeps up with Go.** Jobs that mostly wait: "
                   f"asyncio takes {a.ratio_to_go:.2f}× Go's time and threads "
                   f"{th.ratio_to_go:.2f}× ({link(io)}).")
    cpu = table(HEADLINE_CPU)
    if cpu is not None and (p := cpu.row("processes")) and p.ratio_to_go and (
            th := cpu.row("threads")) and th.ratio_to_go:
        out.append(f"- **Computing, Go is far ahead.** CPU-bound jobs on every core: Go is "
                   f"{p.ratio_to_go:.0f}× faster than Python's processes and "
                   f"{th.ratio_to_go:.0f}× faster than its threads, which the GIL runs one at "
                   f"a time ({link(cpu)}).")
    co = table(HEADLINE_COORDINATION)
    if co is not None and (a := co.row("asyncio")) and (th := co.row("threads")) and (
            a.ratio_to_go):
        out.append(f"- **Coordinating, tasks beat threads.** Many workers taking turns at a "
                   f"lock: asyncio tasks are {th.median / a.median:.1f}× faster than threads, "
                   f"and Go is {a.ratio_to_go:.0f}× faster than asyncio ({link(co)}).")
    return "\n".join(out) + "\n" if out else ""


def free_threading(tables: list[Table]) -> str:
    """What the free-threaded rows say, as Markdown computed from their tables: the threads'
    speed-up with and without the GIL, and what one thread loses without it. Empty when no
    table has rows of a free-threaded interpreter."""
    out: list[str] = []
    for t in tables:
        for row in t.rows:
            suffix = _interpreter_suffix(row.variant)
            if not suffix.endswith("t)") or row.variant != f"threads{suffix}":
                continue
            gil = t.row("threads")
            where = f"[{t.pattern}: {t.workload}](patterns/{t.pattern}.md#measured)"
            label = suffix.strip(" ()")
            long_jobs = t.params.get("spin", 0) >= 1_000_000  # long enough to spread
            if t.pattern == "process_offload" and not long_jobs:
                continue  # dispatch costs, not parallelism: the tables show them
            if t.pattern == "process_offload" and row.speedup and gil and gil.speedup:
                out.append(f"- **CPU-bound threads run in parallel.** On {label}, threads are "
                           f"{row.speedup:.2f}× as fast as one thread; with the GIL, "
                           f"{gil.speedup:.2f}× ({where}).")
                seq, free_seq = t.row("sequential"), t.row(f"sequential{suffix}")
                if seq and free_seq:
                    out.append(f"- **One thread is slower.** The same jobs one after another "
                               f"take {free_seq.median / seq.median:.2f}× as long on {label} "
                               f"as with the GIL; so against one thread with the GIL, the "
                               f"threads on {label} take {row.median / seq.median:.2f}× the "
                               f"time ({where}).")
            elif gil is not None:
                out.append(f"- Threads on {label} take {row.median / gil.median:.2f}× the time "
                           f"of threads with the GIL ({where}).")
    return "\n".join(out) + "\n" if out else ""


def describe_machine(info: dict[str, Any]) -> str:
    return (f"{info.get('cpu_model', '?')}, {info.get('cores', '?')} cores; "
            f"Python {info.get('python', '?')}; {info.get('go', 'no Go')}")


# --- how the figures were taken ---------------------------------------------------------------

HARNESS = ("each round is timed where it runs and nothing else is: async rounds inside one "
           "event loop per benchmark, blocking calls around the call, Go rounds inside the Go "
           "process; loops, pools, servers and processes are started before timing")


# --- the chart ------------------------------------------------------------------------------

# Colours: Go in Go's blue, this interpreter's rows in Python's blue, another interpreter's
# (3.13t) in Python's yellow, a peer library in grey.
_COLOURS = {"go": "#00ADD8", "python": "#3776AB", "other": "#E0B000", "peer": "#9A9A9A",
            "base": "#6B9E5E"}
# The baselines (the hand-written code, a bare primitive) are hatched as well as coloured:
# apart from the library's own rows at a glance, in print too.
_HATCH = {"base": "///"}
# Chart text, in points at CHART_DPI: CHART_MIN_PT is at least 12 pixels when the chart is
# shown at its own width, as the site shows it at a 1280-pixel window (.ci/check_site.py).
CHART_DPI = 110
CHART_MIN_PT = 8.5
CHART_WIDTH_IN = 7.4


def _kind(variant: str) -> str:
    if variant.startswith("go"):
        return "go"
    if variant.startswith(("hand-written", "bare ", "sequential", "plain ")) or any(
            words in variant for words in (": bare ", "a fresh one each time")):
        return "base"  # what the library is measured against, not one of its variants
    if _interpreter_suffix(variant):
        return "other"
    return "peer" if "(peer)" in variant else "python"


def _colour(variant: str) -> str:
    return _COLOURS[_kind(variant)]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# A workload's slug, read aloud: a number after one of these words stays in its phrase
# ("jobs of 5 ms", "100 tasks × 100 increments"); any other number starts a new phrase.
_JOINS = {"of", "at", "in", "x", "spin", "limit", "delay", "queue"}
_NEW_PHRASE = {"limit", "delay", "queue", "no", "unlimited"}
_WORDS = {"urls": "URLs", "cpu": "CPU", "noop": "no-op", "x": "×"}


def workload_title(workload: str) -> str:
    """A workload's slug as a reader reads it: ``1000-urls-limit-100-delay-10ms`` is
    "1,000 URLs, limit 100, delay 10 ms"; ``sleep-400-jobs-of-5ms-40-workers`` is
    "sleep: 400 jobs of 5 ms, 40 workers"."""
    tokens = workload.split("-")
    phrases: list[list[str]] = [[]]
    lead = bool(tokens) and not tokens[0][:1].isdigit()  # "sleep-400-...": a heading word
    previous = ""
    for token in tokens:
        number = re.fullmatch(r"(\d+)(ms|s)?", token)
        starts = (number is not None and previous not in _JOINS) or (
            token in _NEW_PHRASE and previous != "no")
        if starts and phrases[-1]:
            phrases.append([])
        if number is not None:
            word = f"{int(number.group(1)):,}" + (f" {number.group(2)}" if number.group(2) else "")
        elif token == "s" and previous == "per":
            phrases[-1][-1] = "/s"  # "2000-per-s": 2,000/s
            previous = token
            continue
        else:
            word = _WORDS.get(token, token)
        phrases[-1].append(word)
        previous = token
    text = [" ".join(p).replace(" /s", "/s") for p in phrases if p]
    if lead and len(text) > 1:
        return f"{text[0]}: {', '.join(text[1:])}"
    return ", ".join(text)


def table_title(t: Table) -> str:
    """The pattern's title and the workload, read aloud: "Once: 1,000 callers"."""
    try:
        name = _pattern(t.pattern).title
    except KeyError:  # a table of a pattern this checkout does not have
        name = t.pattern
    return f"{name}: {workload_title(t.workload)}"


def _ratio_axis(ax: Any, values: list[float]) -> None:
    """A log axis of ratios to Go: ticks at 1, 2, 5, 10, ... written 1×, 2×, ...; a line at
    1× (Go), room on the right for each bar's label."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    low, high = min([*values, 1.0]), max([*values, 1.0])
    ax.set_xlim(low / 1.5, high * 3)
    # 1×, 2×, 5×, 10× ... while they fit; over more than two decades, 1×, 10×, 100× only.
    subs = (1.0, 2.0, 5.0) if high / low < 150 else (1.0,)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.axvline(1.0, color=_COLOURS["go"], linewidth=1, linestyle="--")


_KIND_NAMES = {"go": "Go", "python": "this library", "other": "another interpreter (suffix)",
               "peer": "a peer library", "base": "baseline: hand-written, bare or sequential"}


def _legend_kinds(rows: list[Row]) -> list[str]:
    """The kinds of row *rows* has, in the legend's order; none when there is one kind."""
    seen = {_kind(r.variant) for r in rows}
    return [k for k in _KIND_NAMES if k in seen] if len(seen) > 1 else []


def _legend_inches(kinds: list[str]) -> float:
    """The height of the legend under a chart: two kinds to a line."""
    return 0.27 * math.ceil(len(kinds) / 2) + 0.1 if kinds else 0.0


def _legend(fig: Any, kinds: list[str]) -> None:
    """Say what the colours are, for the kinds of row this chart has, under the chart."""
    from matplotlib.patches import Patch

    if not kinds:
        return
    handles = [Patch(facecolor=_COLOURS[k], hatch=_HATCH.get(k), label=_KIND_NAMES[k],
                     edgecolor="white") for k in kinds]
    fig.legend(handles=handles, fontsize=CHART_MIN_PT, loc="lower left", ncols=2,
               bbox_to_anchor=(0.01, 0.035), frameon=False)


def _bars(ax: Any, rows: list[Row], values: list[float], errors: list[float], **kw: Any) -> None:
    kinds = [_kind(r.variant) for r in rows]
    bars = ax.barh([r.variant for r in rows], values, xerr=errors, capsize=2,
                   color=[_COLOURS[k] for k in kinds], edgecolor="white", **kw)
    for bar, kind in zip(bars, kinds, strict=True):
        if kind in _HATCH:
            bar.set_hatch(_HATCH[kind])


def _room(ax: Any, values: list[float], errors: list[float], log: bool) -> None:
    """Room on the right for the longest label, beside the longest bar and its error bar."""
    right = max(v + e for v, e in zip(values, errors, strict=True))
    if log:
        low = min([*values, 1.0])
        decades = math.log10(max(right, 1.0) / low) + 0.4
        ax.set_xlim(low / 1.5, right * 10 ** (0.3 * decades + 0.25))
    else:
        ax.set_xlim(0, right * 1.4)


def draw_table_chart(t: Table, path: Path, machine: str) -> None:
    """One table as one chart: each variant's median as a ratio to Go's, on a log axis with
    Go at 1×; a table with no Go row, absolute times on a linear axis. Fastest on top; the
    baselines (hand-written code, bare primitives) hatched apart from the library's rows."""
    plt = _pyplot()
    rows = list(reversed(t.rows))
    go = t.row("go")
    kinds = _legend_kinds(rows)
    legend = _legend_inches(kinds)
    fig, ax = plt.subplots(figsize=(CHART_WIDTH_IN, 1.3 + 0.32 * len(rows) + legend))
    if go is not None:
        values = [r.median / go.median for r in rows]
        errors = [r.iqr / go.median / 2 for r in rows]
        labels = [times(v) for v in values]
        _bars(ax, rows, values, errors, left=0)
        _ratio_axis(ax, values)
        _room(ax, values, errors, log=True)
        ax.set_xlabel("median time ÷ Go's (log scale; dashed line: Go = 1×); lower is better",
                      fontsize=CHART_MIN_PT)
    else:
        unit, scale = _table_unit([r.median for r in rows])
        values = [r.median / scale for r in rows]
        errors = [r.iqr / scale / 2 for r in rows]
        labels = [f"{_figure(v)} {unit}" for v in values]
        _bars(ax, rows, values, errors)
        _room(ax, values, errors, log=False)
        ax.set_xlabel(f"median time ({unit}, linear scale); lower is better",
                      fontsize=CHART_MIN_PT)
    for y, (value, error, label) in enumerate(zip(values, errors, labels, strict=True)):
        # beside the bar's error bar, never on it
        ax.annotate(label, (value + error, y), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=CHART_MIN_PT)
    _legend(fig, kinds)
    ax.set_title(textwrap.fill(table_title(t), 70), fontsize=10.5, loc="left")
    ax.tick_params(axis="both", labelsize=CHART_MIN_PT)
    ax.margins(y=0.5 / max(len(rows), 1))
    fig.text(0.99, 0.005, machine, fontsize=CHART_MIN_PT, color="#666666", ha="right",
             va="bottom")
    bottom = (legend + 0.22) / fig.get_size_inches()[1]  # the legend, then the machine
    fig.tight_layout(rect=(0, bottom, 1, 1))
    _save(fig, path)
    plt.close(fig)


def _save(fig: Any, path: Path) -> None:
    """At CHART_DPI: every chart is made CHART_WIDTH_IN wide, the width the site shows it at,
    so that its text keeps its size."""
    fig.savefig(path, dpi=CHART_DPI)


def draw_chart(tables: list[Table], path: Path, machine: str) -> None:
    """Every table in one chart: for each, the fastest variant of the library, on this
    interpreter, as a ratio to Go's median, on a log axis with Go at 1×. The baselines
    (hand-written code, bare primitives, sequential runs) and peers are not the library's
    variants, and tables with no Go row are left out."""
    plt = _pyplot()
    points: list[tuple[str, float, str]] = []
    for t in tables:
        go = t.row("go")
        ours = [r for r in t.rows if _kind(r.variant) == "python"]
        if go is None or not ours:
            continue
        best = min(ours, key=lambda r: r.median)
        name = textwrap.fill(table_title(t), 42)
        points.append((name, best.median / go.median, best.variant))
    if not points:
        points.append(("(no table with a Go row)", 1.0, ""))
    points.reverse()  # the first table on top
    height = 1.3 + 0.3 * sum(name.count("\n") + 1 for name, _, _ in points)
    fig, ax = plt.subplots(figsize=(CHART_WIDTH_IN, height))
    values = [v for _, v, _ in points]
    ax.barh([name for name, _, _ in points], values, color=_COLOURS["python"])
    _ratio_axis(ax, values)
    ax.set_xlim(right=max(values) * 40)  # room for the labels: the ratio and the variant
    for y, (_, value, variant) in enumerate(points):
        ax.annotate(f"{times(value)} {variant}",
                    (value, y), xytext=(4, 0), textcoords="offset points", va="center",
                    fontsize=CHART_MIN_PT)
    fig.suptitle("The fastest variant of the library in each table, as a multiple of Go's time",
                 fontsize=10.5, x=0.01, ha="left")
    ax.set_xlabel("median time ÷ Go's (log scale; dashed line: Go = 1×); lower is better",
                  fontsize=CHART_MIN_PT)
    ax.tick_params(axis="both", labelsize=CHART_MIN_PT)
    ax.margins(y=0.5 / len(points))
    fig.text(0.99, 0.005, machine, fontsize=CHART_MIN_PT, color="#666666", ha="right",
             va="bottom")
    fig.tight_layout(rect=(0, 0.02, 1, 0.99))
    _save(fig, path)
    plt.close(fig)


def chart_name(t: Table) -> str:
    """The file name of *t*'s chart: its pattern and workload, safe in a path."""
    return f"{t.pattern}-{re.sub(r'[^A-Za-z0-9._-]+', '_', t.workload)}.png"


# --- the command ----------------------------------------------------------------------------

def load_results(
    paths: list[Path],
) -> tuple[list[Table], dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The tables, the machine, the memory rows and the import rows of one or more results
    files.

    Each file is either pytest-benchmark's JSON (what the suites write) or what ``compare
    --json`` wrote (``docs/generated/benchmarks.json`` is one). A later file's tables replace
    an earlier file's for the same pattern, so a re-measured pattern can be laid over a full
    run.
    """
    by_pattern: dict[str, list[Table]] = {}
    machine: dict[str, Any] = {}
    memory: list[dict[str, Any]] = []
    imports: list[dict[str, Any]] = []
    for path in paths:
        data = json.loads(path.read_text())
        if "tables" in data:  # compare's own JSON: the tables, already derived
            tables = [Table(**{k: v for k, v in t.items() if k != "rows"},
                            rows=[Row(**r) for r in t["rows"]]) for t in data["tables"]]
            info, mem = data.get("machine", {}), data.get("memory", [])
            imp = data.get("imports", [])
        else:
            tables, info, mem = build_tables(data), data.get("machine_info", {}), \
                memory_rows(data)
            imp = import_rows(data)
        mine: dict[str, list[Table]] = {}
        for t in tables:
            mine.setdefault(t.pattern, []).append(t)
        by_pattern.update(mine)
        machine = machine or info
        # A later file's memory rows replace the earlier ones of the same patterns only: a
        # run of two patterns must not drop a third pattern's rows.
        remeasured = {m.get("pattern") for m in mem}
        memory = [m for m in memory if m.get("pattern") not in remeasured] + mem
        imports = imp or imports
    ordered = sorted(by_pattern, key=lambda p: _ORDER.get(p, 99))
    return [t for p in ordered for t in by_pattern[p]], machine, memory, imports


def _usable(status: int, results: Path, what: str) -> bool:
    """Whether a suite's run left results worth showing. Some benchmarks failing (pytest's
    exit 1) still leaves every other one measured: the tables show those, the failures are
    printed above, and compare exits 1 at the end. Anything else (a usage error, an
    interrupted run, no results file) ends the command here."""
    if status in (0, 1) and results.exists():
        if status == 1:
            print(f"{what}: some failed (above); the tables leave them out", file=sys.stderr)
        return True
    print(f"{what} failed (pytest exit {status})", file=sys.stderr)
    return False


def run_compare(patterns: list[str], *, quick: bool, json_path: Path | None,
                markdown_path: Path | None, chart_path: Path | None,
                from_json: list[Path] | None = None, docs_dir: Path | None = None,
                python: Path | None = None, passes: int = 1) -> int:
    failed = 0
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "benchmarks.json"
        if from_json:
            tables, info, memory, imports = load_results(from_json)
            if patterns:
                tables = [t for t in tables if t.pattern in patterns]
        else:
            label = interpreter_label(str(python)) if python is not None else ""
            runs = []
            for n in range(1, passes + 1):
                # The passes follow one another, each interpreter's in turn, so that a slow
                # spell of the machine falls on different rows each time (combine_passes).
                of = f" (pass {n} of {passes})" if passes > 1 else ""
                print("running the benchmark suites"
                      + (" (quick workloads, short rounds)" if quick else "") + of + " ...",
                      flush=True)
                status = run_benchmarks(patterns, quick, raw)
                if not _usable(status, raw, "the benchmarks"):
                    return status or 1
                failed = failed or status
                data = json.loads(raw.read_text())
                if python is not None:
                    print(f"\nrunning them again on {python} ({label}){of} ...", flush=True)
                    other = Path(scratch) / "other.json"
                    status = run_benchmarks(patterns, quick, other, python=str(python),
                                            go=False)
                    if not _usable(status, other, f"the benchmarks on {python}"):
                        return status or 1
                    failed = failed or status
                    merge_interpreter(data, json.loads(other.read_text()), label)
                runs.append(data)
            data = combine_passes(runs)
            tables, info, memory = build_tables(data), data.get("machine_info", {}), \
                memory_rows(data)
            imports = import_rows(data)
    machine = describe_machine(info)
    checks = check_targets(tables) + check_memory(memory) + check_imports(imports)
    print()
    print(format_text(tables, machine))
    if memory:
        print(format_memory(memory, markdown=False))
    if imports:
        print(format_imports(imports, markdown=False))
    for what, ok, got in checks:  # wrapped to 100 columns, as every table above
        print(textwrap.fill(f"{'met ' if ok else 'MISSED'}  {what}: {got}", WIDTH,
                            initial_indent="  ", subsequent_indent="          "))
    overhead = HARNESS
    print("\n" + textwrap.fill(f"how: {overhead}", WIDTH, initial_indent="  ",
                               subsequent_indent="       "))
    summary = json.dumps({
        "machine": info, "tables": [asdict(t) for t in tables], "memory": memory,
        "imports": imports,
        "targets": [{"target": w, "met": ok, "measured": g} for w, ok, g in checks],
    }, indent=2) + "\n"
    if markdown_path:
        markdown_path.write_text(format_markdown(
            tables, machine, checks, overhead, memory=format_memory(memory, markdown=True)
            + format_imports(imports, markdown=True)))
        print(f"wrote {markdown_path}")
    if json_path:
        json_path.write_text(summary)
        print(f"wrote {json_path}")
    if chart_path:
        draw_chart(tables, chart_path, machine)
        print(f"wrote {chart_path}")
    if docs_dir:
        write_docs(tables, machine, checks, overhead, docs_dir, memory=memory,
                   imports=format_imports(imports, markdown=True))
        # The data behind the pages: the prose's figures are computed from it (figures.py),
        # and `compare --from-json docs/generated/benchmarks.json --docs docs/generated`
        # redraws every table and chart from it.
        (docs_dir / "benchmarks.json").write_text(summary)
        print(f"wrote the docs' tables and charts to {docs_dir}")
    return 1 if failed else 0
