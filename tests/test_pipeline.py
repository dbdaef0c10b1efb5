"""The pipeline contract, run against every variant.

Each test writes its stages as plain logic and a ``Model`` turns them into what its variant
takes: async functions for asyncio and anyio (on asyncio and on trio), plain blocking ones for
threads, whose calls then run in a worker thread of the test.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given
from hypothesis import strategies as st

from concurrency_patterns import PipelineError, Stage, capacity
from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.conftest import ANYIO_CANCELS, Generator, drain, stopped_by_anyio

pytestmark = pytest.mark.anyio

Delay = Callable[[Any], float]


@dataclass(frozen=True)
class Model:
    name: str
    run_fn: Callable[..., Any]
    stream_fn: Callable[..., Any]
    backend: str = "asyncio"
    threads: bool = False

    def __str__(self) -> str:
        return self.name

    def stage(self, name: str, fn: Callable[[Any], Any] = lambda x: x, *, limit: int = 1,
              buffer: int = 1, delay: float | Delay = 0.0,
              block: threading.Event | None = None, block_from: int = 0) -> Stage:
        """A stage doing *fn* after *delay* seconds (or waiting for *block*, on items from
        *block_from* on), in this model."""
        pause = delay if callable(delay) else (lambda _: delay)
        if self.threads:
            def sync_fn(x: Any) -> Any:
                if block is not None and x >= block_from:
                    block.wait(10)
                time.sleep(pause(x))
                return fn(x)
            return Stage(name, sync_fn, limit=limit, buffer=buffer)

        async def async_fn(x: Any) -> Any:
            if block is not None and x >= block_from:
                await anyio.sleep_forever()
            await anyio.sleep(pause(x))
            return fn(x)
        return Stage(name, async_fn, limit=limit, buffer=buffer)

    async def run(self, *args: Any, **options: Any) -> list[Any]:
        if self.threads:
            return await anyio.to_thread.run_sync(lambda: self.run_fn(*args, **options))
        result: list[Any] = await self.run_fn(*args, **options)
        return result

    async def read(self, *args: Any, stop_after: int | None = None,
                   on_output: Callable[[Any], object] = lambda _: None,
                   **options: Any) -> list[Any]:
        """Read the stream form as a user would, leaving after *stop_after* outputs."""
        got: list[Any] = []

        def take(value: Any) -> bool:
            got.append(value)
            on_output(value)
            return stop_after is not None and len(got) >= stop_after

        if self.threads:
            def consume() -> None:
                with self.stream_fn(*args, **options) as outputs:
                    for value in outputs:
                        if take(value):
                            break
            await anyio.to_thread.run_sync(consume)
        else:
            async with self.stream_fn(*args, **options) as outputs:
                async for value in outputs:
                    if take(value):
                        break
        return got


ASYNC = [
    Model("asyncio", cp_asyncio.pipeline, cp_asyncio.pipeline_stream),
    Model("anyio-asyncio", cp_anyio.pipeline, cp_anyio.pipeline_stream),
    Model("anyio-trio", cp_anyio.pipeline, cp_anyio.pipeline_stream, backend="trio"),
]
ALL = [*ASYNC, Model("threads", cp_threads.pipeline, cp_threads.pipeline_stream, threads=True)]


@pytest.fixture
def anyio_backend(request: pytest.FixtureRequest) -> str:
    model: Model = request.getfixturevalue("model")
    return model.backend


class Source:
    """A lazy source of ``0, 1, 2, ...`` that counts what the pipeline has read from it."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at, self.read = n, fail_at, 0

    def __iter__(self) -> Iterator[int]:
        for i in range(self.n):
            if i == self.fail_at:
                raise OSError(f"source broke at {i}")
            self.read += 1
            yield i


class Calls:
    """Which items each stage was given, thread-safely."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, Counter[Any]] = {}
        self.now: Counter[str] = Counter()
        self.most: Counter[str] = Counter()

    def tap(self, name: str, fn: Callable[[Any], Any] = lambda x: x) -> Callable[[Any], Any]:
        def tapped(x: Any) -> Any:
            with self.lock:
                self.seen.setdefault(name, Counter())[x] += 1
            return fn(x)
        return tapped


# --- every item, every stage, exactly once ------------------------------------------------

@pytest.mark.parametrize("model", ALL, ids=str)
@pytest.mark.parametrize("form", ["list", "stream"])
async def test_every_item_passes_every_stage_exactly_once(model: Model, form: str) -> None:
    calls = Calls()
    stages = [
        model.stage("parse", calls.tap("parse", lambda x: x * 10), limit=3, buffer=2,
                    delay=lambda x: 0.001 * (x % 3)),
        model.stage("transform", calls.tap("transform", lambda x: x + 1), limit=2),
        model.stage("sink", calls.tap("sink"), limit=1, buffer=4),
    ]
    n = 200
    if form == "list":
        outputs = await model.run(range(n), stages)
    else:
        outputs = await model.read(range(n), stages)
    assert sorted(outputs) == [10 * i + 1 for i in range(n)]
    assert calls.seen["parse"] == Counter(range(n))
    assert calls.seen["transform"] == Counter(10 * i for i in range(n))
    assert calls.seen["sink"] == Counter(10 * i + 1 for i in range(n))


@pytest.mark.parametrize("model", ALL, ids=str)
@given(n=st.integers(0, 60), workers=st.lists(st.integers(1, 4), min_size=1, max_size=4),
       buffer=st.integers(1, 3), ordered=st.booleans())
async def test_any_shape_delivers_each_output_once(model: Model, n: int, workers: list[int],
                                                   buffer: int, ordered: bool) -> None:
    stages = [model.stage(f"s{k}", lambda x: x + 1, limit=w, buffer=buffer)
              for k, w in enumerate(workers)]
    outputs = await model.run(range(n), stages, ordered=ordered)
    expected = [i + len(workers) for i in range(n)]
    assert (outputs if ordered else sorted(outputs)) == expected


@pytest.mark.parametrize("model", ALL, ids=str)
async def test_an_empty_source_gives_an_empty_list(model: Model) -> None:
    assert await model.run([], [model.stage("a")]) == []


@pytest.mark.parametrize("model", ALL, ids=str)
async def test_none_is_an_item_like_any_other(model: Model) -> None:
    outputs = await model.run([None, 0, None], [model.stage("a"), model.stage("b", limit=2)],
                              ordered=True)
    assert outputs == [None, 0, None]


@pytest.mark.parametrize("model", ASYNC, ids=str)
async def test_an_async_iterable_is_a_source(model: Model) -> None:
    async def numbers() -> Any:
        for i in range(20):
            await anyio.lowlevel.checkpoint()
            yield i

    assert sorted(await model.run(numbers(), [model.stage("a", limit=3)])) == list(range(20))


# --- order ------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ALL, ids=str)
@pytest.mark.parametrize("window", [None, 1, 3])
async def test_ordered_keeps_the_source_order(model: Model, window: int | None) -> None:
    # Even items are slow, so completion order differs from input order.
    stages = [model.stage("slow-evens", limit=4, buffer=2,
                          delay=lambda x: 0.01 if x % 2 == 0 else 0.0),
              model.stage("b", limit=2)]
    assert await model.run(range(40), stages, ordered=True, window=window) == list(range(40))


@pytest.mark.parametrize("model", ALL, ids=str)
async def test_completion_order_lets_fast_items_overtake(model: Model) -> None:
    stages = [model.stage("first-is-slow", limit=4, delay=lambda x: 0.2 if x == 0 else 0.0)]
    outputs = await model.run(range(8), stages)
    assert sorted(outputs) == list(range(8))
    assert outputs[0] != 0


@pytest.mark.parametrize("model", ALL, ids=str)
@pytest.mark.parametrize("window", [1, 2, 5])
async def test_the_window_bounds_what_ordered_holds(model: Model, window: int) -> None:
    source = Source(60)
    most = 0

    def seen(_: Any) -> None:
        nonlocal most
        most = max(most, source.read - delivered())

    got: list[Any] = []

    def delivered() -> int:
        return len(got)

    def on_output(value: Any) -> None:
        # Counted as delivered first: the pipeline made room for the next item as it handed
        # this one over, and a thread may read it before this line runs.
        got.append(value)
        seen(value)

    stages = [model.stage("jittery", limit=4, buffer=4, delay=lambda x: 0.002 * (x % 4))]
    outputs = await model.read(source, stages, ordered=True, window=window, on_output=on_output)
    assert outputs == list(range(60))
    assert most <= window


# --- bounded ----------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ALL, ids=str)
@pytest.mark.parametrize(("w0", "b0", "w1", "b1"), [(1, 1, 1, 1), (3, 2, 2, 5)])
async def test_a_stuck_stage_holds_its_buffer_plus_its_workers_and_no_more(
    model: Model, w0: int, b0: int, w1: int, b1: int,
) -> None:
    # The second stage never finishes: upstream fills up and stops, and the source is read
    # exactly as far as the channels allow: 1 waiting at the source, then stage 0's inbox and
    # workers, then stage 1's inbox and workers.
    source = Source(10_000)
    block = threading.Event()
    calls = Calls()
    stages = [model.stage("fast", limit=w0, buffer=b0),
              model.stage("stuck", calls.tap("stuck"), limit=w1, buffer=b1, block=block)]
    unprocessed: list[Any] = []
    undelivered: list[Any] = []  # (item, output) pairs

    async def watch_then_leave() -> None:
        for _ in range(200):
            await anyio.sleep(0.01)
            if source.read >= 1 + w0 + b0 + w1 + b1:
                break
        await anyio.sleep(0.1)  # would it read any further?

    async with anyio.create_task_group() as tg:
        async def run() -> None:
            await model.read(source, stages, on_unprocessed=unprocessed.extend,
                         on_undelivered=undelivered.extend)

        tg.start_soon(run)
        await watch_then_leave()
        assert source.read == 1 + w0 + b0 + w1 + b1
        assert sum(calls.seen.get("stuck", Counter()).values()) <= w1
        if model.threads:
            block.set()  # a thread cannot be cancelled: unstick the stage and let it finish
        else:
            tg.cancel_scope.cancel()
    if not model.threads:
        assert sorted(unprocessed + [i for i, _ in undelivered]) == list(range(source.read))


@pytest.mark.parametrize("model", ALL, ids=str)
async def test_a_slow_caller_holds_the_pipeline_to_its_capacity(model: Model) -> None:
    source = Source(2000)
    stages = [model.stage("a", limit=3, buffer=2), model.stage("b", limit=2, buffer=3)]
    most = 0
    count = 0

    def slow(_: Any) -> None:
        nonlocal most, count
        count += 1
        most = max(most, source.read - count)
        time.sleep(0.0005) if model.threads else None

    outputs = await model.read(source, stages, stop_after=300, on_output=slow)
    assert len(outputs) == 300
    assert most <= capacity(stages)
    assert source.read <= 300 + capacity(stages)


@pytest.mark.parametrize("model", ALL, ids=str)
async def test_no_stage_runs_more_than_its_workers_and_each_reaches_them(model: Model) -> None:
    lock = threading.Lock()
    now: Counter[str] = Counter()
    most: Counter[str] = Counter()

    def gauge(name: str) -> Callable[[Any], Any]:
        def enter(x: Any) -> Any:
            with lock:
                now[name] += 1
                most[name] = max(most[name], now[name])
            return x
        return enter

    def leave(name: str) -> Callable[[Any], Any]:
        def out(x: Any) -> Any:
            with lock:
                now[name] -= 1
            return x
        return out

    # The gauge wraps each stage's whole call, its delay included.
    workers = {"a": 3, "b": 5}
    delays = {"a": 0.005, "b": 0.05}  # b is the slow one, so its inbox fills and all five work

    def stage(name: str) -> Stage:
        inner = model.stage(name, limit=workers[name], buffer=2, delay=delays[name])
        if model.threads:
            def fn(x: Any) -> Any:
                gauge(name)(x)
                try:
                    return inner.fn(x)
                finally:
                    leave(name)(x)
        else:
            async def fn(x: Any) -> Any:  # type: ignore[misc]
                gauge(name)(x)
                try:
                    return await inner.fn(x)
                finally:
                    leave(name)(x)
        return Stage(name, fn, limit=workers[name], buffer=2)

    await model.run(range(60), [stage("a"), stage("b")])
    assert dict(most) == workers


# --- errors -----------------------------------------------------------------------------------

def _boom_at(bad: int) -> Callable[[Any], Any]:
    def fn(x: Any) -> Any:
        if x == bad:
            raise ValueError(f"bad item {x}")
        return x
    return fn


@pytest.mark.parametrize("model", ALL, ids=str)
@pytest.mark.parametrize("ordered", [False, True])
async def test_an_error_names_the_stage_and_the_item_and_loses_nothing(
    model: Model, ordered: bool,
) -> None:
    source = Source(10_000)
    stages = [model.stage("parse", lambda x: x * 2, limit=2, buffer=2),
              model.stage("check", _boom_at(2 * 37), limit=3, delay=0.001),
              model.stage("sink", lambda x: x // 2, limit=1)]
    with pytest.raises(PipelineError) as info:
        await model.run(source, stages, ordered=ordered)
    error = info.value
    assert error.stage == "check"
    assert error.index == 37
    assert error.item == 74
    assert isinstance(error.__cause__, ValueError)
    assert "check" in str(error) and "74" in str(error)
    assert 37 in error.unprocessed
    # every item read from the source was either delivered or reported, once
    assert error.delivered == len(error.results)
    reported = error.results + error.unprocessed + [i for i, _ in error.undelivered]
    assert sorted(reported) == list(range(source.read))
    assert source.read < 10_000  # the source was not read to the end


@pytest.mark.parametrize("model", ALL, ids=str)
async def test_an_error_in_the_stream_reaches_the_reader(model: Model) -> None:
    got: list[Any] = []
    unprocessed: list[Any] = []
    undelivered: list[Any] = []  # (item, output) pairs
    source = Source(500)
    stages = [model.stage("a", limit=2), model.stage("b", _boom_at(40), limit=2)]
    with pytest.raises(PipelineError) as info:
        await model.read(source, stages, on_output=got.append, on_unprocessed=unprocessed.extend,
                         on_undelivered=undelivered.extend)
    assert info.value.stage == "b"
    assert info.value.unprocessed == unprocessed
    assert info.value.delivered == len(got)
    assert sorted(got + unprocessed + [i for i, _ in undelivered]) == list(range(source.read))


@pytest.mark.parametrize("model", ALL, ids=str)
async def test_the_first_error_by_time_is_raised(model: Model) -> None:
    # Item 0 reaches "late" first and fails there after 0.3 s; item 5 fails in "early" at once.
    stages = [model.stage("early", _boom_at(5), limit=2),
              model.stage("late", _boom_at(0), limit=3, buffer=8,
                          delay=lambda x: 0.3 if x == 0 else 0.0)]
    with pytest.raises(PipelineError) as info:
        await model.run(range(50), stages)
    assert info.value.stage == "early"


@pytest.mark.parametrize("model", ALL, ids=str)
async def test_an_error_in_the_source_stops_the_pipeline(model: Model) -> None:
    source = Source(100, fail_at=12)
    with pytest.raises(PipelineError) as info:
        await model.run(source, [model.stage("a", limit=2)])
    assert info.value.stage is None
    assert info.value.index == 12
    assert isinstance(info.value.__cause__, OSError)
    assert sorted(info.value.results + info.value.unprocessed
                  + [i for i, _ in info.value.undelivered]) == list(range(12))


@pytest.mark.parametrize("model", ALL, ids=str)
async def test_the_callers_own_error_comes_out_as_itself(model: Model) -> None:
    unprocessed: list[Any] = []
    undelivered: list[Any] = []  # (item, output) pairs

    def explode(value: Any) -> None:
        if value is not None:
            raise KeyError("the caller's")

    with pytest.raises(KeyError, match="the caller's"):
        await model.read(range(100), [model.stage("a", limit=2)], on_output=explode,
                         on_unprocessed=unprocessed.extend,
                         on_undelivered=undelivered.extend)
    assert len(unprocessed) >= 1  # the one it was handed is delivered; the rest were not


# --- stopping early ---------------------------------------------------------------------------

@pytest.mark.parametrize("model", ALL, ids=str)
async def test_leaving_early_stops_everything_and_reports_the_rest(model: Model) -> None:
    source = Source(1_000_000)
    unprocessed: list[Any] = []
    undelivered: list[Any] = []  # (item, output) pairs
    stages = [model.stage("a", limit=3, buffer=4), model.stage("b", limit=2, buffer=2)]
    got = await model.read(source, stages, stop_after=10, on_unprocessed=unprocessed.extend,
                         on_undelivered=undelivered.extend)
    assert len(got) == 10
    assert sorted(got + unprocessed + [i for i, _ in undelivered]) == list(range(source.read))
    assert source.read <= 10 + capacity(stages)


@pytest.mark.parametrize("model", ASYNC, ids=str)
async def test_cancelling_the_caller_stops_every_stage_and_reports_in_flight(model: Model) -> None:
    source = Source(1_000)
    unprocessed: list[Any] = []
    undelivered: list[Any] = []  # (item, output) pairs
    got: list[Any] = []
    stages = [model.stage("a", limit=2), model.stage("slow", limit=2, delay=0.05)]
    with anyio.move_on_after(0.3) as scope:
        await model.read(source, stages, on_output=got.append, on_unprocessed=unprocessed.extend,
                         on_undelivered=undelivered.extend)
    assert scope.cancelled_caught
    assert unprocessed, "a cancelled pipeline had items in flight"
    assert sorted(got + unprocessed + [i for i, _ in undelivered]) == list(range(source.read))


@pytest.mark.parametrize("model", ASYNC, ids=str)
async def test_a_deadline_on_the_list_form_cancels_it(model: Model) -> None:
    unprocessed: list[Any] = []
    undelivered: list[Any] = []  # (item, output) pairs
    with pytest.raises(TimeoutError):
        with anyio.fail_after(0.2):
            await model.run(range(10**6), [model.stage("slow", limit=4, delay=0.05)],
                            on_unprocessed=unprocessed.extend,
                         on_undelivered=undelivered.extend)
    assert 1 <= len(unprocessed) <= capacity([Stage("x", lambda x: x, limit=4)])


# --- bad input --------------------------------------------------------------------------------

async def _afn(x: Any) -> Any:
    return x


def _fn(x: Any) -> Any:
    return x


@pytest.mark.parametrize(("make", "error", "names"), [
    (lambda: Stage("a", _afn, limit=0), ValueError, "limit"),
    (lambda: Stage("a", _afn, limit=True), TypeError, "limit"),
    (lambda: Stage("a", _afn, buffer=0), ValueError, "buffer"),
    (lambda: Stage("", _afn), TypeError, "name"),
    (lambda: Stage("a", 3), TypeError, "fn"),  # type: ignore[arg-type]
])
def test_a_bad_stage_is_refused_naming_the_parameter(
    make: Callable[[], Any], error: type[Exception], names: str,
) -> None:
    with pytest.raises(error, match=names):
        make()


@pytest.mark.parametrize("model", ALL, ids=str)
@pytest.mark.parametrize(("args", "options", "error", "names"), [
    (("abc", "stage"), {}, TypeError, "source"),
    ((42, "stage"), {}, TypeError, "source"),
    ((range(3), []), {}, ValueError, "stages"),
    ((range(3), "parse"), {}, TypeError, "stages"),
    ((range(3), ["not a stage"]), {}, TypeError, r"stages\[0\]"),
    ((range(3), "twice"), {}, ValueError, "twice"),
    ((range(3), "stage"), {"window": 3}, ValueError, "window"),
    ((range(3), "stage"), {"ordered": True, "window": 0}, ValueError, "window"),
    ((range(3), "stage"), {"ordered": "yes"}, TypeError, "ordered"),
    ((range(3), "stage"), {"on_unprocessed": 5}, TypeError, "on_unprocessed"),
    ((range(3), "wrong-kind"), {}, TypeError, "fn"),
])
async def test_bad_arguments_are_refused_before_anything_starts(
    model: Model, args: tuple[Any, ...], options: dict[str, Any], error: type[Exception],
    names: str,
) -> None:
    ok = _fn if model.threads else _afn
    wrong = _afn if model.threads else _fn
    stages_for = {
        "stage": [Stage("a", ok)],
        "twice": [Stage("twice", ok), Stage("twice", ok)],
        "wrong-kind": [Stage("a", wrong)],
    }
    source, stages = args
    stages = stages_for.get(stages, stages) if isinstance(stages, str) else stages
    with pytest.raises(error, match=names):
        model.stream_fn(source, stages, **options)  # refused at the call, not at the block
    with pytest.raises(error, match=names):
        await model.run(source, stages, **options)


# --- the asyncio variants under anyio's cancellation --------------------------------------------

async def _yielding(x: Any) -> Any:
    await asyncio.sleep(0)  # a stage that finishes at once: the caller never waits long
    return x


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
@pytest.mark.parametrize("form", ["pipeline", "pipeline_stream"])
def test_the_asyncio_pipeline_stops_when_anyio_cancels_it(form: str, how: str) -> None:
    """An endless source through instant stages, cancelled by anyio (as under FastAPI)."""
    stages = (Stage("a", _yielding, limit=2), Stage("b", _yielding))
    if form == "pipeline":
        def call() -> Any:
            return cp_asyncio.pipeline(itertools.count(), stages)
    else:
        def call() -> Any:
            return drain(cp_asyncio.pipeline_stream(itertools.count(), stages))
    assert stopped_by_anyio(call, how) < 30


# --- the source is closed when the pipeline stops reading it ------------------------------------

@pytest.mark.parametrize("model", ASYNC, ids=str)
async def test_leaving_the_stream_early_closes_the_async_generator_source(model: Model) -> None:
    source = Generator()

    async def at_once(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        return x

    async with model.stream_fn(source.items(), (Stage("a", at_once, limit=2),)) as outputs:
        async for _ in outputs:
            break
    assert source.closed


@pytest.mark.parametrize("model", ASYNC, ids=str)
async def test_a_failing_stage_closes_the_async_generator_source(model: Model) -> None:
    source = Generator()

    async def boom(x: int) -> int:
        await asyncio.sleep(0) if model.backend == "asyncio" else await anyio.lowlevel.checkpoint()
        if x == 5:
            raise ValueError("boom")
        return x

    with pytest.raises(PipelineError):
        await model.run_fn(source.items(), (Stage("boom", boom, limit=2),))
    assert source.closed


@pytest.mark.parametrize("model", ASYNC, ids=str)
async def test_a_cancelled_pipeline_closes_the_async_generator_source(model: Model) -> None:
    source = Generator()

    async def slow(x: int) -> int:
        await anyio.sleep(0.01)
        return x

    with anyio.move_on_after(0.05):
        await model.run_fn(source.items(), (Stage("slow", slow, limit=2),))
    assert source.closed and source.read > 0



# --- what was left: not finished, or finished and not delivered ---------------------------------

@pytest.mark.parametrize("model", ASYNC, ids=str)
async def test_a_cancelled_list_call_reports_what_it_had_collected(model: Model) -> None:
    """Items 0-2 pass every stage and are collected inside the call, which is cancelled
    before it returns them: they are reported as finished but undelivered, the rest as
    unprocessed, and none twice."""
    unprocessed: list[Any] = []
    undelivered: list[Any] = []
    block = threading.Event()
    stages = [model.stage("hangs-from-3", lambda x: x * 10, limit=3,
                          block=block, block_from=3)]
    with anyio.move_on_after(0.3):
        await model.run(range(10), stages, on_unprocessed=unprocessed.extend,
                        on_undelivered=undelivered.extend)
    block.set()
    assert sorted(undelivered) == [(0, 0), (1, 10), (2, 20)]
    assert set(unprocessed).isdisjoint({0, 1, 2}) and 3 in unprocessed


@pytest.mark.parametrize("model", ALL, ids=str)
async def test_finished_but_undelivered_items_are_not_reported_to_run_again(model: Model) -> None:
    """A sink that writes each item: leaving the stream early, the items it already wrote are
    never in on_unprocessed (replaying those would write them twice)."""
    written: list[int] = []
    unprocessed: list[Any] = []
    undelivered: list[Any] = []

    def sink(x: int) -> int:
        written.append(x)
        return x

    stages = [model.stage("sink", sink, limit=2, buffer=4)]
    got = await model.read(range(100), stages, stop_after=3,
                           on_unprocessed=unprocessed.extend, on_undelivered=undelivered.extend)
    assert not set(unprocessed) & set(written)
    assert sorted(got + [i for i, _ in undelivered]) == sorted(written)


# --- a stage's retries ----------------------------------------------------------------------------

def _flaky_stage(model: Model, name: str, fails: dict[int, int], **options: Any) -> Stage[Any, Any]:
    """A stage that raises ConnectionError on item x's first ``fails[x]`` calls."""
    calls: Counter[int] = Counter()
    lock = threading.Lock()

    def fn(x: int) -> int:
        with lock:
            calls[x] += 1
            n = calls[x]
        if n <= fails.get(x, 0):
            raise ConnectionError(f"item {x}, call {n}")
        return x * 10

    if model.threads:
        return Stage(name, fn, **options)

    async def async_fn(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        return fn(x)

    return Stage(name, async_fn, **options)


@pytest.mark.parametrize("model", ALL, ids=str)
async def test_a_stage_retries_an_item_before_the_pipeline_stops(model: Model) -> None:
    stage = _flaky_stage(model, "flaky", {2: 2, 5: 1}, limit=2, retries=2)
    assert sorted(await model.run(range(8), [stage])) == [x * 10 for x in range(8)]
    hopeless = _flaky_stage(model, "hopeless", {3: 9}, retries=1)
    with pytest.raises(PipelineError) as info:
        await model.run(range(8), [hopeless])
    assert info.value.stage == "hopeless" and info.value.item == 3
    assert str(info.value.__cause__) == "item 3, call 2"  # the last failure, after its retry


@pytest.mark.parametrize("model", ALL, ids=str)
async def test_a_stage_retries_only_what_retry_on_names(model: Model) -> None:
    stage = _flaky_stage(model, "picky", {1: 1}, retries=3, retry_on=ValueError)
    with pytest.raises(PipelineError) as info:
        await model.run(range(3), [stage])
    assert isinstance(info.value.__cause__, ConnectionError)


def test_bad_stage_retries_are_refused_naming_them() -> None:
    for options, match in [({"retries": -1}, "retries"), ({"retry_on": 3}, "retry_on"),
                           ({"retry_budget": -1.0}, "retry_budget")]:
        with pytest.raises((TypeError, ValueError), match=f"Stage 's': {match}"):
            Stage("s", lambda x: x, **options)
