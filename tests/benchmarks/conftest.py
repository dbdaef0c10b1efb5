"""What every benchmark suite shares: workloads, the Go side, and how rounds are timed.

* The workloads are the ``benchmarks`` section of ``workloads.json`` — the same file the Go
  programs read. ``--workloads=quick`` keeps the ones marked ``quick``.
* **Every round is timed where it runs**, and only the round: a blocking call with
  ``time.perf_counter`` around it; async code inside one event loop per benchmark (one
  ``anyio.run`` on asyncio, uvloop or trio, whose root task lives through every round), with
  ``perf_counter`` around each ``await``; Go inside the Go process (the pattern's test binary
  run as ``TestServe -serve``, see ``go_equivalents/internal/harness``), started once per
  pattern. Making the loop, starting a
  process or crossing a pipe is never in a figure.
* The durations reach pytest-benchmark through ``MEASURED``, a clock that advances by exactly
  the measured duration of each round, so its statistics, tables and JSON are the usual ones.
* **A library row is timed alternately with the hand-written code of its model**, when the
  module names that code (``HAND_ROUNDS``, made with ``hand_rounds``) or the test passes it
  (``hand=``): a round of the library's, a round of the hand-written code's, and the other
  way round in the next pair. Its *vs hand* is then against those rounds, which met the same
  spells of a noisy machine as its own; the hand-written row of the table is timed on its own
  as well, like every row.
* Plain ``pytest`` runs every benchmark once, untimed, as a smoke test (``tests/conftest.py``
  turns timing off unless ``--benchmark-only`` is given); ``pytest --benchmark-only`` times
  them.
"""

from __future__ import annotations

import functools
import json
import math
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

from concurrency_patterns.tools.claims.core import cpu_model
from concurrency_patterns.tools.compare import baseline_model
from concurrency_patterns.tools.registry import SLUGS
from concurrency_patterns.tools.repo import go_command
from concurrency_patterns.tools.workloads import load_workloads

ROOT = Path(__file__).resolve().parents[2]
GO_DIR = ROOT / "go_equivalents"
WORKLOADS = load_workloads("benchmarks")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``workload`` with the module's pattern's workloads from workloads.json."""
    if "workload" in metafunc.fixturenames:
        pattern = metafunc.module.PATTERN
        quick = metafunc.config.getoption("workloads") == "quick"
        names = [n for n, w in WORKLOADS[pattern].items() if w.get("quick") or not quick]
        # A module may run some tests on some of its workloads only (the fetch's crawl).
        runs_on = getattr(metafunc.module, "runs_on", None)
        if runs_on is not None:
            names = [n for n in names
                     if runs_on(metafunc.function.__name__, WORKLOADS[pattern][n])]
        metafunc.parametrize("workload", names)


# --- the Go side ------------------------------------------------------------------------------

class MeasuredClock:
    """The clock pytest-benchmark reads: it advances only by the durations measured where the
    rounds ran.

    pytest-benchmark times a call as ``clock()`` after minus ``clock()`` before; when the call
    does nothing but ``advance(d)``, that difference is exactly *d*.
    """

    __name__ = "measured_clock"  # how pytest-benchmark's JSON names the timer

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


MEASURED = MeasuredClock()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every benchmark here reads MEASURED."""
    for item in items:
        if "benchmark" in getattr(item, "fixturenames", ()) and "benchmarks" in item.path.parts:
            item.add_marker(pytest.mark.benchmark(timer=MEASURED))


class GoProcess:
    """One pattern's Go test binary serving timing requests (its ``TestServe``, with ``-serve``):
    ask for a timed round, get its duration."""

    def __init__(self, binary: Path) -> None:
        self.process = subprocess.Popen(
            [str(binary), "-test.run", "^TestServe$", "-serve"], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "GOTOOLCHAIN": "local"},
        )
        assert json.loads(self._readline()) == {"ready": True}

    def _readline(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the Go program stopped (exit {self.process.poll()})")
        return line

    def time_round(
        self, workload: str, params: dict[str, Any] | None = None,
    ) -> tuple[float, float]:
        """One timed round: (wall seconds, the Go process's CPU seconds), as Go measured them."""
        assert self.process.stdin is not None
        request = {"workload": workload, "rounds": 1, "params": params or {}}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self._readline())
        if answer.get("error"):
            raise RuntimeError(f"Go {workload}: {answer['error']}")
        return answer["seconds"][0], answer["cpu"][0]

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(10)


@pytest.fixture(scope="session")
def go_binaries(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """Every pattern's Go test binary (``<slug>.test``), built once; None without Go."""
    go = go_command()
    if go is None:
        return None
    out = tmp_path_factory.mktemp("go-bin")
    subprocess.run([go, "test", "-c", "-o", f"{out}/", *(f"./{slug}" for slug in SLUGS)],
                   cwd=GO_DIR, check=True, timeout=600,
                   env={**os.environ, "GOTOOLCHAIN": "local"})
    return out


@pytest.fixture(scope="module")
def go(request: pytest.FixtureRequest, go_binaries: Path | None) -> Iterator[GoProcess]:
    """The module's pattern's Go program, serving timing requests."""
    if go_binaries is None:
        pytest.skip("no Go toolchain (it comes with the [dev] extra)")
    process = GoProcess(go_binaries / f"{request.module.PATTERN}.test")
    yield process
    process.close()


# --- running a benchmark ----------------------------------------------------------------------

@dataclass
class Bench:
    """Runs one variant of one workload as one pytest-benchmark benchmark."""

    benchmark: Any
    config: pytest.Config
    pattern: str
    workload: str
    extra: dict[str, Any] = field(default_factory=dict)
    # The module's hand-written code: model -> (params -> a round). See ``hand_rounds``.
    hand: dict[str, Callable[[dict[str, Any]], Callable[[], Any]]] | None = None

    @property
    def params(self) -> dict[str, Any]:
        return WORKLOADS[self.pattern][self.workload]

    def _label(self, variant: str) -> None:
        assert self.benchmark._timer is MEASURED, "benchmarks here must read MEASURED"
        self.benchmark.group = f"{self.pattern}: {self.workload}"
        self.benchmark.name = variant
        self.benchmark.extra_info.update(
            pattern=self.pattern, workload=self.workload, variant=variant, params=self.params,
            **self.extra,
        )

    def _rounds(self, warmup: float) -> int:
        """How many rounds to time, from how long the warm-up round took: enough to fill
        --benchmark-max-time, at least --benchmark-min-rounds, at most 200. Plain pytest: 0."""
        if self.benchmark.disabled:
            return 0
        budget = float(self.config.getoption("benchmark_max_time"))
        return max(int(self.config.getoption("benchmark_min_rounds")),
                   min(200, math.ceil(budget / max(warmup, 1e-9))))

    def _report(self, durations: list[float], cpu: list[float] | None = None) -> None:
        """Hand the measured rounds to pytest-benchmark (in plain pytest, the one untimed run).

        *cpu* is this process's CPU time in each round: beside the wall time it tells whether
        the client was waiting or working (a fetch whose CPU exceeds its floor cannot reach it).
        """
        if cpu:
            self.benchmark.extra_info["cpu_seconds"] = statistics.median(cpu)
        rounds = iter(durations)
        self.benchmark.pedantic(lambda: MEASURED.advance(next(rounds)),
                                rounds=max(len(durations), 1))

    def _paired(self, variant: str, hand: Any) -> Any:
        """The hand-written round to alternate with *variant*'s: *hand*, or the module's
        ``HAND_ROUNDS`` code of the variant's model; None when there is none, or when nothing
        is timed (plain pytest runs the hand-written code in its own row)."""
        if self.benchmark.disabled:
            return None
        if hand is None and self.hand is not None:
            make = self.hand.get(baseline_model(variant) or "")
            hand = None if make is None else make(self.params)
        return hand

    def _baseline(self, hand_rounds: list[float]) -> None:
        if hand_rounds:
            self.benchmark.extra_info["paired_hand_seconds"] = statistics.median(hand_rounds)

    def sync(self, variant: str, fn: Callable[[], Any],
             hand: Callable[[], Any] | None = None) -> Any:
        """Time a blocking call; returns what the last round returned. With *hand* (or the
        module's ``HAND_ROUNDS``), alternately with the hand-written code's rounds."""
        self._label(variant)
        hand = self._paired(variant, hand)
        warmup, _, result = _timed(fn)
        if hand is not None:
            warmup += _timed(hand)[0]
        durations, cpu, hand_rounds = [], [], []
        for i in range(self._rounds(warmup)):
            if hand is not None and i % 2:  # every other pair, the hand-written round first
                hand_rounds.append(_timed(hand)[0])
            took, used, result = _timed(fn)
            durations.append(took)
            cpu.append(used)
            if hand is not None and not i % 2:
                hand_rounds.append(_timed(hand)[0])
        self._baseline(hand_rounds)
        self._report(durations or [0.0], cpu)
        return result

    def on_loop(self, variant: str, backend: str, fn: Callable[[], Awaitable[Any]],
                hand: Callable[[], Awaitable[Any]] | None = None) -> Any:
        """Time an async function: every round inside one event loop of *backend*. With
        *hand* (or the module's ``HAND_ROUNDS``), alternately with the hand-written code's
        rounds, in the same loop."""
        self._label(variant)
        self.benchmark.extra_info["backend"] = backend
        paired = self._paired(variant, hand)

        async def timed_hand() -> float:
            start = time.perf_counter()
            await paired()
            return time.perf_counter() - start

        async def all_rounds() -> tuple[list[float], list[float], Any]:
            start = time.perf_counter()
            result = await fn()  # the warm-up round, which also sizes the run
            warmup = time.perf_counter() - start
            if paired is not None:
                warmup += await timed_hand()
            durations, cpu, hand_rounds = [], [], []
            for i in range(self._rounds(warmup)):
                if paired is not None and i % 2:  # every other pair, the hand-written first
                    hand_rounds.append(await timed_hand())
                start, cpu_start = time.perf_counter(), time.process_time()
                result = await fn()
                durations.append(time.perf_counter() - start)
                cpu.append(time.process_time() - cpu_start)
                if paired is not None and not i % 2:
                    hand_rounds.append(await timed_hand())
            self._baseline(hand_rounds)
            return durations or [0.0], cpu, result

        if backend == "uvloop":  # not on every interpreter: none for free-threaded CPython
            pytest.importorskip("uvloop")
        name, options = {"asyncio": ("asyncio", {}), "uvloop": ("asyncio", {"use_uvloop": True}),
                         "trio": ("trio", {})}[backend]
        durations, cpu, result = anyio.run(all_rounds, backend=name, backend_options=options)
        self._report(durations, cpu)
        return result

    def go(self, process: GoProcess, params: dict[str, Any] | None = None,
           variant: str = "go") -> None:
        """Time the Go program's rounds of this workload, as Go measures them."""
        self._label(variant)
        warmup, warmup_cpu = process.time_round(self.workload, params)
        timed = [process.time_round(self.workload, params)
                 for _ in range(self._rounds(warmup))] or [(warmup, warmup_cpu)]
        self._report([wall for wall, _ in timed], [cpu for _, cpu in timed])


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result) of one call."""
    start, cpu_start = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - start, time.process_time() - cpu_start, result


def hand_written(
    asyncio_round: Callable[[dict[str, Any]], Awaitable[Any]] | None,
    anyio_round: Callable[[dict[str, Any]], Awaitable[Any]] | None,
    threads_round: Callable[[dict[str, Any]], Any] | None,
) -> list[Any]:
    """Parametrize ``(variant, backend, one_round)`` with the *hand-written* rows: the code a
    competent user writes without the library, in each model, for the same workload. Each
    library variant is measured against the one of its model ("asyncio" against
    "hand-written (asyncio)"); a round takes the workload's parameters."""
    rows = []
    if asyncio_round is not None:
        rows.append(("hand-written (asyncio)", "asyncio", asyncio_round))
    if anyio_round is not None:
        rows += [("hand-written (anyio/asyncio)", "asyncio", anyio_round),
                 ("hand-written (anyio/trio)", "trio", anyio_round)]
    if threads_round is not None:
        rows.append(("hand-written (threads)", "threads", threads_round))
    return variants(*rows)


def hand_rounds(
    asyncio_round: Callable[[dict[str, Any]], Awaitable[Any]] | None,
    anyio_round: Callable[[dict[str, Any]], Awaitable[Any]] | None,
    threads_round: Callable[[dict[str, Any]], Any] | None,
) -> dict[str, Callable[[dict[str, Any]], Callable[[], Any]]]:
    """A module's ``HAND_ROUNDS``: the same rounds as ``hand_written``, by model, for the
    library's rows to alternate with (see ``Bench.sync``)."""
    rounds = {"asyncio": asyncio_round, "anyio/asyncio": anyio_round,
              "anyio/trio": anyio_round, "threads": threads_round}

    def maker(one_round: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
        return lambda params: functools.partial(one_round, params)

    return {model: maker(r) for model, r in rounds.items() if r is not None}


def run_hand_written(bench: Bench, variant: str, backend: str, one_round: Any) -> Any:
    """Time one hand-written row (see ``hand_written``)."""
    params = bench.params
    if backend == "threads":
        return bench.sync(variant, lambda: one_round(params))
    return bench.on_loop(variant, backend, lambda: one_round(params))


def variants(*rows: tuple[Any, ...]) -> list[Any]:
    """Parametrize rows that start with the variant's name, each test named by that name."""
    return [pytest.param(*row, id=row[0]) for row in rows]


@pytest.fixture
def bench(benchmark: Any, request: pytest.FixtureRequest, workload: str) -> Bench:
    """The benchmark of this test's workload; the module may define ``floor(params)``, the
    least time any client could take, reported beside the measurement."""
    module = request.module
    b = Bench(benchmark, request.config, module.PATTERN, workload,
              hand=getattr(module, "HAND_ROUNDS", None))
    if hasattr(module, "floor") and (floor := module.floor(b.params)) is not None:
        b.extra["floor_seconds"] = floor
    return b


def pytest_benchmark_update_machine_info(
    config: pytest.Config, machine_info: dict[str, Any],
) -> None:
    """Name the machine: CPU model, cores, Python, Go."""
    machine_info["cpu_model"] = cpu_model()
    machine_info["cores"] = os.cpu_count()
    machine_info["python"] = platform.python_version()
    go = go_command()
    if go:
        version = subprocess.run([go, "version"], capture_output=True, text=True,
                                 env={**os.environ, "GOTOOLCHAIN": "local"})
        machine_info["go"] = version.stdout.strip()


# --- the shared fetch target --------------------------------------------------------------------

@pytest.fixture(scope="session")
def fetch_server(go_binaries: Path | None) -> Iterator[str]:
    """The Go net/http server of go_equivalents/bounded_fetch (its ``TestLoopbackServer``, with
    ``-server``), in its own process: the one target every client, Python and Go, fetches
    from. Its base URL."""
    if go_binaries is None:
        pytest.skip("no Go toolchain (it comes with the [dev] extra)")
    server = subprocess.Popen(
        [str(go_binaries / "bounded_fetch.test"), "-test.run", "^TestLoopbackServer$",
         "-server"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdin is not None
    base: str = json.loads(server.stdout.readline())["url"]
    yield base
    server.stdin.close()  # the server's signal to stop
    server.wait(10)
