"""What every benchmark suite shares: workloads, event loops, the Go side, and how rounds run.

* The workloads are the ``benchmarks`` section of ``workloads.json`` — the same file the Go
  programs read. ``--workloads=quick`` keeps the ones marked ``quick``.
* Async code runs in **one event loop per benchmark**, made before timing starts; each round
  enters it once, through anyio's test runner. That entry costs about 10-40 µs, under 1 % of
  every round here; the compare command reports it beside the figures.
* Go's rounds are timed by the Go process itself (``-serve``, see
  ``go_equivalents/internal/harness``), started once per pattern; a virtual clock hands those
  durations to pytest-benchmark, so the pipe between the two processes is never in the figure.
* Plain ``pytest`` runs every benchmark once, untimed, as a smoke test (``tests/conftest.py``
  turns timing off unless ``--benchmark-only`` is given); ``pytest --benchmark-only`` times
  them.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from concurrency_patterns.workloads import load_workloads

ROOT = Path(__file__).resolve().parents[2]
GO_DIR = ROOT / "go_equivalents"
WORKLOADS = load_workloads("benchmarks")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``workload`` with the module's pattern's workloads from workloads.json."""
    if "workload" in metafunc.fixturenames:
        pattern = metafunc.module.PATTERN
        quick = metafunc.config.getoption("workloads") == "quick"
        names = [n for n, w in WORKLOADS[pattern].items() if w.get("quick") or not quick]
        metafunc.parametrize("workload", names)


# --- event loops ------------------------------------------------------------------------------

@contextmanager
def event_loop(backend: str) -> Iterator[Callable[[Callable[[], Awaitable[Any]]], Any]]:
    """An event loop for one benchmark, and a call that runs one async function in it.

    anyio's test runner keeps one event loop and one root task alive and runs each call inside
    them, as a real program's ``asyncio.run(main())`` would (anyio ties its worker processes to
    the root task, so a new root task per round would kill them). Entering it costs 10-40 µs.
    """
    from anyio.pytest_plugin import get_runner

    name, options = {
        "asyncio": ("asyncio", {}),
        "uvloop": ("asyncio", {"use_uvloop": True}),
        "trio": ("trio", {}),
    }[backend]
    with get_runner(name, options) as runner:
        yield lambda fn: runner.run_fixture(fn, {})


# --- the Go side ------------------------------------------------------------------------------

class VirtualClock:
    """A clock that advances only by the durations the Go process reports.

    pytest-benchmark times a round as ``clock() - clock()`` around the call; with this clock
    that difference is exactly Go's own measurement of the round.
    """

    __name__ = "go_clock"  # how pytest-benchmark's JSON names the timer

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


GO_CLOCK = VirtualClock()


class GoProcess:
    """One pattern's Go program in ``-serve`` mode: ask for a timed round, get its duration."""

    def __init__(self, binary: Path) -> None:
        self.process = subprocess.Popen(
            [str(binary), "-serve"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, env={**os.environ, "GOTOOLCHAIN": "local"},
        )
        assert json.loads(self._readline()) == {"ready": True}

    def _readline(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the Go program stopped (exit {self.process.poll()})")
        return line

    def time_round(self, workload: str, params: dict[str, Any] | None = None) -> float:
        assert self.process.stdin is not None
        request = {"workload": workload, "rounds": 1, "params": params or {}}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self._readline())
        if answer.get("error"):
            raise RuntimeError(f"Go {workload}: {answer['error']}")
        seconds: float = answer["seconds"][0]
        return seconds

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(10)


@pytest.fixture(scope="session")
def go_binaries(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """Every Go program, built once; None where there is no Go toolchain."""
    go = shutil.which("go")
    if go is None:
        return None
    out = tmp_path_factory.mktemp("go-bin")
    subprocess.run([go, "build", "-o", str(out), "./..."], cwd=GO_DIR, check=True, timeout=600,
                   env={**os.environ, "GOTOOLCHAIN": "local"})
    return out


@pytest.fixture(scope="module")
def go(request: pytest.FixtureRequest, go_binaries: Path | None) -> Iterator[GoProcess]:
    """The module's pattern's Go program, serving timing requests."""
    if go_binaries is None:
        pytest.skip("no Go toolchain (it comes with the [dev] extra)")
    process = GoProcess(go_binaries / request.module.PATTERN)
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

    @property
    def params(self) -> dict[str, Any]:
        return WORKLOADS[self.pattern][self.workload]

    def _label(self, variant: str) -> None:
        self.benchmark.group = f"{self.pattern}: {self.workload}"
        self.benchmark.name = variant
        self.benchmark.extra_info.update(
            pattern=self.pattern, workload=self.workload, variant=variant, params=self.params,
            **self.extra,
        )

    def _rounds(self, one_round: Callable[[], Any], clock: Callable[[], float]) -> int:
        """Run one warm-up round, untimed, and from its length choose how many to time:
        enough to fill --benchmark-max-time, at least --benchmark-min-rounds."""
        start = clock()
        one_round()
        took = max(clock() - start, 1e-9)
        budget = float(self.config.getoption("benchmark_max_time"))
        return max(int(self.config.getoption("benchmark_min_rounds")),
                   min(200, math.ceil(budget / took)))

    def _time(self, one_round: Callable[[], Any], clock: Callable[[], float]) -> Any:
        if self.benchmark.disabled:  # plain pytest: one round, untimed, to see that it works
            return self.benchmark.pedantic(one_round)
        rounds = self._rounds(one_round, clock)
        return self.benchmark.pedantic(one_round, rounds=rounds)

    def sync(self, variant: str, fn: Callable[[], Any]) -> Any:
        """Time a blocking call; returns what the last round returned."""
        self._label(variant)
        return self._time(fn, time.perf_counter)

    def on_loop(self, variant: str, backend: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Time an async function, every round in one event loop of *backend*."""
        self._label(variant)
        self.benchmark.extra_info["backend"] = backend
        with event_loop(backend) as call:
            return self._time(lambda: call(fn), time.perf_counter)

    def go(self, process: GoProcess, params: dict[str, Any] | None = None,
           variant: str = "go") -> None:
        """Time the Go program's rounds of this workload, as Go measures them."""
        assert self.benchmark._timer is GO_CLOCK, "mark the Go benchmark with @GO_TIMER"
        self._label(variant)

        def one_round() -> None:
            GO_CLOCK.now += process.time_round(self.workload, params)

        self._time(one_round, GO_CLOCK)


@pytest.fixture
def bench(benchmark: Any, request: pytest.FixtureRequest, workload: str) -> Bench:
    """The benchmark of this test's workload; the module may define ``floor(params)``, the
    least time any client could take, reported beside the measurement."""
    module = request.module
    b = Bench(benchmark, request.config, module.PATTERN, workload)
    if hasattr(module, "floor") and (floor := module.floor(b.params)) is not None:
        b.extra["floor_seconds"] = floor
    return b


# Every Go benchmark must read the virtual clock: mark the "go" parameter with this.
GO_TIMER = pytest.mark.benchmark(timer=GO_CLOCK)


def pytest_benchmark_update_machine_info(
    config: pytest.Config, machine_info: dict[str, Any],
) -> None:
    """Name the machine: CPU model, cores, Python, Go."""
    machine_info["cpu_model"] = _cpu_model()
    machine_info["cores"] = os.cpu_count()
    machine_info["python"] = platform.python_version()
    go = shutil.which("go")
    if go:
        version = subprocess.run([go, "version"], capture_output=True, text=True,
                                 env={**os.environ, "GOTOOLCHAIN": "local"})
        machine_info["go"] = version.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# --- the shared fetch target --------------------------------------------------------------------

@pytest.fixture(scope="session")
def fetch_server(go_binaries: Path | None) -> Iterator[str]:
    """The Go net/http server of go_equivalents/bounded_fetch, in its own process: the one
    target every client, Python and Go, fetches from. Its base URL."""
    if go_binaries is None:
        pytest.skip("no Go toolchain (it comes with the [dev] extra)")
    server = subprocess.Popen([str(go_binaries / "bounded_fetch"), "-server"], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdin is not None
    base: str = json.loads(server.stdout.readline())["url"]
    yield base
    server.stdin.close()  # the server's signal to stop
    server.wait(10)
