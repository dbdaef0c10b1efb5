"""Fixtures every contract suite shares.

* ``variant`` is parametrized by each test module over the implementations of its pattern;
  ``anyio_backend`` follows it, so one async test body runs on asyncio and on trio, and a sync
  variant runs in a worker thread of the same test.
* Nothing may outlive a test: ``no_stray_threads_or_processes`` (autouse) fails a test that
  leaves a thread or a child process behind, and ``no_stray_tasks`` (given to every async test)
  fails one that leaves a task running in the event loop.
* ``http_server`` is a real aiohttp server on 127.0.0.1 that counts requests in flight.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import selectors
import sys
import sysconfig
import textwrap
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from hypothesis import HealthCheck, settings

from concurrency_patterns.tools.loopback import (
    HttpServer,
    event_loop_thread,
    serving,
)
from concurrency_patterns.tools.loopback import fast_server as start_fast_server

# Examples are cheap but each starts tasks, threads or processes: a few dozen is plenty, and
# the fixtures below are meant to be shared by every example of one test.
settings.register_profile(
    "contracts",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "contracts"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--workloads", choices=["all", "quick"], default="all",
                     help="benchmark workloads to run: all, or only those marked quick")


def pytest_report_header() -> str:
    """Say whether the GIL is on: the suites also run on free-threaded CPython, where an
    extension module that is not ready for it would quietly turn the GIL back on."""
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    if free_threaded and gil:
        raise pytest.UsageError("free-threaded CPython with the GIL turned back on by an "
                                "import: the suites would not test what they claim to")
    return f"GIL: {'on' if gil else 'off'}" + (" (free-threaded build)" if free_threaded else "")


TERMINAL_WIDTH = 100  # what pyproject.toml promises the terminal output fits


@pytest.hookimpl(hookwrapper=True)
def pytest_terminal_summary(terminalreporter: Any) -> Iterator[None]:
    """pytest-benchmark's tables are built to fit (the columns in pyproject.toml, short row
    names), but its legend is a fixed line of 109 columns: fold any summary line wider than
    TERMINAL_WIDTH, keeping its indent."""
    write_line = terminalreporter.write_line

    def folded(line: str, **markup: Any) -> None:
        if len(line) <= TERMINAL_WIDTH:
            write_line(line, **markup)
            return
        indent = line[:len(line) - len(line.lstrip())]
        for part in textwrap.wrap(line, TERMINAL_WIDTH, subsequent_indent=indent + "  "):
            write_line(part, **markup)

    terminalreporter.write_line = folded
    try:
        yield
    finally:
        terminalreporter.write_line = write_line


def pytest_sessionstart(session: pytest.Session) -> None:
    """Plain ``pytest`` runs each benchmark once, untimed, as a smoke test.

    Timing is switched off here rather than with ``--benchmark-disable`` in the ini file,
    because that flag would make ``pytest --benchmark-only`` skip every benchmark.
    """
    config = session.config
    bench_session = getattr(config, "_benchmarksession", None)
    if bench_session is not None and not (
        config.getoption("benchmark_only") or config.getoption("benchmark_enable")
    ):
        bench_session.disabled = True


@dataclass(frozen=True)
class Variant:
    """One implementation of a pattern, callable the same way from an async test."""

    name: str
    fn: Callable[..., Any]
    backend: str = "asyncio"  # the event loop the test runs on: asyncio, uvloop or trio
    sync: bool = False  # a blocking function: the test runs it in a worker thread

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.sync:
            return await anyio.to_thread.run_sync(partial(self.fn, *args, **kwargs))
        return await self.fn(*args, **kwargs)

    def __str__(self) -> str:
        return self.name


async def read_stream(
    variant: Variant, *args: Any, stop_after: int | None = None,
    on_item: Callable[[Any], object] | None = None, **options: Any,
) -> list[Any]:
    """Read what a stream variant yields, as a user would (stopping after *stop_after*).

    ``variant.fn(*args, **options)`` is a context manager yielding an iterator: an async one,
    or, for a sync variant, a plain one read in a worker thread. *on_item* sees each item as
    it is read.
    """
    read: list[Any] = []

    def take(item: Any) -> bool:
        read.append(item)
        if on_item is not None:
            on_item(item)
        return stop_after is not None and len(read) >= stop_after

    if variant.sync:
        def run() -> None:
            with variant.fn(*args, **options) as items:
                for item in items:
                    if take(item):
                        break

        await anyio.to_thread.run_sync(run)
    else:
        async with variant.fn(*args, **options) as items:
            async for item in items:
                if take(item):
                    break
    return read


@pytest.fixture
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    if "variant" in request.fixturenames:
        variant: Variant = request.getfixturevalue("variant")
        if variant.backend == "uvloop":  # asyncio's API on uvloop's loop
            pytest.importorskip("uvloop")
            return "asyncio", {"use_uvloop": True}
        if variant.backend == "asyncio-virtual":
            return "asyncio", {"loop_factory": VirtualTimeLoop}
        if variant.backend == "trio-virtual":
            from trio.testing import MockClock

            return "trio", {"clock": MockClock(autojump_threshold=0)}
        return variant.backend
    return "asyncio"


# --- virtual time, for exact timing contracts -------------------------------------------------

class _JumpingSelector(selectors.DefaultSelector):
    """A selector that, when the loop would sleep until its next timer with nothing to do,
    moves the loop's clock there instead of sleeping."""

    loop: VirtualTimeLoop

    def select(self, timeout: float | None = None) -> Any:
        events = super().select(0)
        if events or timeout == 0:
            return events
        if timeout is None:  # no timer at all: wait for I/O (or a thread) for real
            return super().select(None)
        self.loop.now += timeout
        return events


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop on a virtual clock: ``loop.time()`` starts at 0 and jumps to the next
    timer whenever every task waits, as trio's ``MockClock(autojump_threshold=0)`` does. A
    timing contract checked on it is exact and does not depend on the machine's speed. (Code
    that waits for real I/O or threads still waits in real time.)"""

    def __init__(self) -> None:
        selector = _JumpingSelector()
        super().__init__(selector)
        selector.loop = self
        self.now = 0.0

    def time(self) -> float:
        return self.now


# --- nothing outlives a test ----------------------------------------------------------------

# multiprocessing starts two helpers once per program and keeps them for its whole life: the
# fork server that new_process_pool() forks workers from, and the resource tracker.
_HELPERS = (b"multiprocessing.forkserver", b"multiprocessing.resource_tracker")


def _child_pids() -> set[int]:
    pids: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                pids.update(int(p) for p in f.read().split())
        except OSError:
            pass
    return {pid for pid in pids if not _is_helper(pid)}


def _is_helper(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except OSError:
        return False  # already gone
    return any(helper in cmdline for helper in _HELPERS)


# Idle threads that trio keeps in its process-wide cache (DNS look-ups run there) belong to
# trio, not to the code under test; so does the process-wide pool Dask's client serializes in
# ("Dask-Offload", started once and kept), and this suite's own "test-" threads.
_NOT_OURS = ("test-", "Trio thread", "Dask-Offload")


def _live_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive() and not t.name.startswith(_NOT_OURS)}


def _settled(check: Callable[[], set[Any]], before: set[Any], seconds: float = 5.0) -> set[Any]:
    """What *check* finds beyond *before*, after giving it a moment to wind down."""
    deadline = time.monotonic() + seconds
    while (extra := check() - before) and time.monotonic() < deadline:
        time.sleep(0.02)
    return extra


@pytest.fixture(autouse=True)
def no_stray_threads_or_processes() -> Iterator[None]:
    threads, children = _live_threads(), _child_pids()
    yield
    stray_threads = _settled(_live_threads, threads)
    assert not stray_threads, f"threads outlived the test: {sorted(t.name for t in stray_threads)}"
    stray_children = _settled(_child_pids, children)
    assert not stray_children, f"child processes outlived the test: {sorted(stray_children)}"


_ANYIO_OWN = ("AnyIO ", "anyio._backends.")  # anyio's own housekeeping tasks


def _running_tasks() -> set[object]:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        import trio

        tasks: set[object] = set()
        pending = [trio.lowlevel.current_root_task()]
        while pending:
            task = pending.pop()
            if not task.name.startswith(_ANYIO_OWN):
                tasks.add(task)
            for nursery in task.child_nurseries:
                pending.extend(nursery.child_tasks)
        return tasks
    # The test runner drives each test and fixture from tasks of its own, and anyio keeps one
    # that shuts its worker processes down with the loop: not ours to judge.
    return {t for t in asyncio.all_tasks()
            if not t.done() and "TestRunner" not in t.get_coro().__qualname__
            and not t.get_name().startswith(_ANYIO_OWN)}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every async test the no_stray_tasks check."""
    for item in items:
        fn = getattr(item, "obj", None)
        inner = getattr(getattr(fn, "hypothesis", None), "inner_test", fn)
        if inspect.iscoroutinefunction(inner):
            item.fixturenames.append("no_stray_tasks")  # type: ignore[attr-defined]


@pytest.fixture
async def no_stray_tasks() -> Any:
    before = _running_tasks()
    yield
    for _ in range(50):  # let tasks that are finishing finish
        stray = _running_tasks() - before
        if not stray:
            return
        await anyio.sleep(0.01)
    pytest.fail(f"tasks outlived the test: {stray}")


# --- anyio's cancellation of asyncio variants -------------------------------------------------

ANYIO_CANCELS = ["move_on_after", "cancelled task group"]


def stopped_by_anyio(call: Callable[[], Awaitable[Any]], how: str) -> float:
    """Run *call* on asyncio, as a FastAPI handler does, under anyio's cancellation after
    0.2 s (*how*: a ``move_on_after`` around it, or a cancelled task group it runs in); return
    the seconds it took to stop. anyio cancels a native asyncio task again at every turn of the
    loop, but only while it waits on a future not yet done, which a busy call may never do."""
    async def main() -> float:
        start = time.monotonic()
        if how == "move_on_after":
            with anyio.move_on_after(0.2):
                await call()
        else:
            async with anyio.create_task_group() as tg:
                tg.start_soon(call)
                await anyio.sleep(0.2)
                tg.cancel_scope.cancel()
        return time.monotonic() - start

    return anyio.run(main, backend="asyncio")


async def drain(stream: Any) -> None:
    """Read a stream's every item, as a user's ``async with ... async for`` does."""
    async with stream as items:
        async for _ in items:
            pass


# --- async generators the call must close ---------------------------------------------------

class Generator:
    """An endless async generator that records whether its cleanup has run, and where."""

    def __init__(self, make: Callable[[int], Any] = lambda i: i) -> None:
        self.make = make
        self.closed = False
        self.read = 0

    async def items(self) -> Any:
        try:
            i = 0
            while True:
                self.read += 1
                yield self.make(i)
                i += 1
        finally:
            await anyio.lowlevel.checkpoint()  # a cleanup that awaits, as most do
            self.closed = True


# --- a real HTTP server on loopback -----------------------------------------------------------

@pytest.fixture(scope="session")
def _server_loop() -> Iterator[asyncio.AbstractEventLoop]:
    with event_loop_thread() as loop:
        yield loop


@pytest.fixture
def http_server(_server_loop: asyncio.AbstractEventLoop) -> Iterator[HttpServer]:
    with serving(_server_loop) as server:
        yield server


@pytest.fixture(scope="session")
def fast_server_url() -> Iterator[str]:
    with start_fast_server() as url:
        yield url


@pytest.fixture
def fast_server(fast_server_url: str) -> str:
    """A minimal HTTP server in a process of its own, for long runs: its base URL."""
    return fast_server_url


class FakeTime:
    """A stand-in for the ``time`` module of a thread variant, for exact timing tests from one
    thread: ``monotonic()`` starts at 0 and moves only when the code sleeps, by exactly what
    it sleeps. ``fake_time`` puts it in place of the modules' ``time``."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.slept.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """The thread variants' clock, made virtual (see FakeTime)."""
    import concurrency_patterns._core.rate
    import concurrency_patterns.cancellation
    import concurrency_patterns.rate_limit

    fake = FakeTime()
    for module in (concurrency_patterns._core.rate, concurrency_patterns.rate_limit,
                   concurrency_patterns.cancellation):
        monkeypatch.setattr(module, "time", fake)
    return fake


# --- twin contracts: the scenarios the Go tests run against x/sync and x/time --------------------

def twins(pattern: str) -> dict[str, dict[str, Any]]:
    """The twin contracts of *pattern* from workloads.json: each scenario's parameters and the
    trace it must produce, here and in the Go test (go_equivalents/<slug>/*_test.go)."""
    from concurrency_patterns.tools.workloads import load_workloads

    return load_workloads("twins")[pattern]


def check_twins_cover(pattern: str, ran: dict[str, Any], not_run: dict[str, str]) -> None:
    """Every twin contract of *pattern* runs in a model (*ran*) or is listed in *not_run* with
    the reason the model differs on purpose; nothing is listed that does not exist."""
    contracts = set(twins(pattern))
    assert set(ran) <= contracts, set(ran) - contracts
    assert set(not_run) <= contracts, set(not_run) - contracts
    assert contracts - set(ran) == set(not_run), contracts - set(ran) - set(not_run)
    assert all(not_run.values())
