"""Pipeline: stages joined by bounded channels, each stage with its own workers.

Go's pipelines pattern: a source sends items into a channel; each stage runs ``limit``
goroutines that receive from the stage's inbox, call the stage's function, and send what it
returns into the next stage's inbox (fan-out to the workers, fan-in to the next channel); the
last channel is the caller's. Closing the source's channel closes every stage in turn: when a
stage's last worker finds its inbox closed and drained, it closes the next one.

```python
stages = [Stage("parse", parse, limit=2), Stage("enrich", enrich, limit=8, buffer=32),
          Stage("store", store)]
async with pipeline_stream_anyio(lines, stages) as outputs:
    async for row in outputs:       # in completion order; ordered=True for input order
        ...
```

Every variant keeps the same contract:

* **Exactly once.** Every item read from the source passes every stage exactly once, and its
  output reaches the caller exactly once, unless the pipeline stops early.
* **Bounded.** A stage holds at most ``buffer`` items in its inbox plus one per worker, so the
  whole pipeline holds at most ``capacity(stages)`` items however long the source is: the
  source is read lazily, only as fast as the last stage drains.
* **Order.** Outputs come in completion order, or with ``ordered=True`` in the source's order.
  Then at most ``window`` items are between the source and the caller, waiting in the stages
  or in the reorder buffer: the source is not read past ``window`` items ahead of the oldest
  output not yet delivered, so one slow item can hold the others back, but never unboundedly.
* **First error.** If a stage's function raises, the whole pipeline is cancelled and
  ``PipelineError`` is raised, naming the stage, the item's index in the source and the item;
  the original exception is its ``__cause__``. So does an error while reading the source
  (``stage`` is ``None`` then).
* **Nothing silently lost.** Whenever the pipeline stops before the source is exhausted — an
  error, a cancellation, or the caller leaving the ``async with`` early — every source item
  read whose output never reached the caller is reported once, in the source's order, as one
  of two: *unprocessed* (it did not pass every stage: run it again), on
  ``PipelineError.unprocessed`` and to ``on_unprocessed``; or *undelivered* (it passed every
  stage, a sink may have written it: do not), as ``(item, output)`` on
  ``PipelineError.undelivered`` and to ``on_undelivered``.
* **Sources are closed.** An async generator given as the source is closed (``aclose()``)
  before the call returns when the pipeline stops reading it early; pass
  ``(x async for x in gen)`` to keep ``gen`` open.
* **Nothing left running.** No task or thread outlives the call or the ``async with`` block.
  Threads cannot be cancelled: a function already running finishes, then its worker stops.

Variants: ``asyncio`` (``asyncio.Queue``, closed with ``Queue.shutdown()`` on 3.13+ and with
end markers before), ``anyio`` (anyio memory object streams, the closest thing to a Go
channel; on asyncio and trio) and ``threads`` (``queue.Queue`` and one thread per worker,
for blocking functions). Each comes as ``pipeline`` (returns a list) and ``pipeline_stream``
(a context manager whose value you iterate).

Costs: every item crosses one channel per stage, about 1-3 µs each in asyncio and more in
threads, where each hand-off may switch threads. A stage is worth its channel when its work is
I/O-bound or when the stages run at different speeds; a chain of cheap pure functions is
faster as one function.
"""

from __future__ import annotations

import inspect
import queue
import reprlib
import threading
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
)
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from ._core import check_callable, check_positive_int, unwrap_group
from ._core import retry as retrying
from ._core.lazy import lazy
from ._core.queues import (
    END,
    Closed,
    asyncio_closed,
    close_asyncio,
    close_threads,
    get_asyncio,
    get_threads,
    settle_asyncio,
)
from ._core.workers import close_async

if TYPE_CHECKING:
    import asyncio

    import anyio
    import anyio.lowlevel
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
else:
    anyio = lazy(globals(), "anyio", "anyio.lowlevel")
    asyncio = lazy(globals(), "asyncio")

__all__ = [
    "PipelineError",
    "Stage",
    "capacity",
    "pipeline_anyio",
    "pipeline_asyncio",
    "pipeline_stream_anyio",
    "pipeline_stream_asyncio",
    "pipeline_stream_threads",
    "pipeline_threads",
]

OnUnprocessed = Callable[[list[Any]], object]
OnUndelivered = Callable[[list[tuple[Any, Any]]], object]  # (item, output) pairs

In = TypeVar("In", covariant=True)  # covariant, so that a list of unlike stages stays a list
Out = TypeVar("Out", covariant=True)  # of stages (Stage[object, ...]) and type-checks
S = TypeVar("S")
O1 = TypeVar("O1")
O2 = TypeVar("O2")
O3 = TypeVar("O3")
O4 = TypeVar("O4")


@dataclass(frozen=True)
class Stage(Generic[In, Out]):
    """One stage: ``limit`` workers, each taking an item from the stage's inbox, calling
    ``fn(item)`` and sending what it returns on to the next stage.

    Args:
        name: names the stage in errors; unique within a pipeline.
        fn: an async function for the asyncio and anyio variants, a plain one for threads.
        limit: how many run ``fn`` at once (>= 1): Go's fan-out, one worker each.
        buffer: how many items may wait in the stage's inbox (>= 1). A full inbox makes the
            stage before it wait: that is the backpressure. (Go's unbuffered channel has no
            asyncio twin, since ``asyncio.Queue(0)`` is unbounded.)
        retries: how many more times to call ``fn`` on an item after it raised (>= 0; 0 by
            default), after a backoff with full jitter; the worker keeps the item meanwhile.
            The worker pool's and the fetch's policy: only the last failure stops the
            pipeline.
        retry_on: which failures are retried: exception types, or a predicate given the
            exception. ``None`` (the default): any ``Exception``.
        retry_budget: the share of the stage's items whose retries a call allows (>= 0; 0.2
            by default), plus 10; ``None``: no budget.

    Raises:
        TypeError, ValueError: for a bad argument, naming it.
    """

    name: str
    fn: Callable[[In], Out]
    limit: int = 1
    buffer: int = 1
    retries: int = 0
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | \
        Callable[[Exception], bool] | None = None
    retry_budget: float | None = 0.2

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"Stage name must be a non-empty str, got {self.name!r}")
        check_callable(f"Stage {self.name!r}: fn", self.fn)
        check_positive_int(f"Stage {self.name!r}: limit", self.limit)
        check_positive_int(f"Stage {self.name!r}: buffer", self.buffer)
        try:
            _policy(self)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"Stage {self.name!r}: {exc}") from None


def _policy(stage: Stage[Any, Any]) -> retrying.Policy | None:
    """A fresh retry policy for one call: its budget counts that call's items only."""
    return retrying.job_policy(stage.retries, stage.retry_on, stage.retry_budget)


def _async_call(stage: Stage[Any, Any],
                sleep: Callable[[float], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
    """What a worker calls on an item: ``stage.fn``, or ``stage.fn`` with its retries."""
    policy = _policy(stage)
    if policy is None:
        return stage.fn  # no retries: nothing between the worker and fn
    fn = stage.fn

    async def retried(item: Any) -> Any:
        try:
            return (await retrying.call_async(fn, item, policy, sleep))[0]
        except retrying.Exhausted as last:
            raise last.cause from None  # the stage's own failure stops the pipeline

    return retried


def _sync_call(stage: Stage[Any, Any]) -> Callable[[Any], Any]:
    policy = _policy(stage)
    if policy is None:
        return stage.fn
    fn = stage.fn

    def retried(item: Any) -> Any:
        try:
            return retrying.call_sync(fn, item, policy)[0]
        except retrying.Exhausted as last:
            raise last.cause from None

    return retried


def capacity(stages: Sequence[Stage[Any, Any]]) -> int:
    """The most items a pipeline of *stages* holds at once, in completion order.

    One item the source has read and waits to send, each stage's inbox and workers, and the
    last stage's outputs waiting for the caller (one per worker). Also the default ``window``
    of ``ordered=True``.

    Args:
        stages: the pipeline's stages, in order.

    Returns:
        ``1 + sum(buffer + limit for each stage) + the last stage's limit``.
    """
    return 1 + sum(s.buffer + s.limit for s in stages) + stages[-1].limit


class PipelineError(Exception):
    """A stage's function raised, or the source did, and the pipeline stopped.

    Attributes:
        stage: the failing stage's name; ``None`` when reading the source failed.
        index: the item's position in the source (for the source: how many it had given).
        item: what the failing stage was given (``None`` for the source).
        unprocessed: every source item read that did not pass every stage, in the source's
            order, the failing one included: the ones to run again.
        undelivered: ``(item, output)`` for every item that passed every stage but whose
            output never reached the caller, in the source's order: done, not to run again.
        delivered: how many outputs reached the caller before the stop.
        results: for ``pipeline``, the outputs collected before the stop (the streams'
            callers already hold theirs, so it is empty there).

    The original exception is ``__cause__``.
    """

    def __init__(self, stage: str | None, index: int, item: Any, cause: BaseException) -> None:
        where = ("reading the source" if stage is None
                 else f"stage {stage!r} on item {index} ({reprlib.repr(item)})")
        super().__init__(f"pipeline failed in {where}: {type(cause).__name__}: {cause}")
        self.stage = stage
        self.index = index
        self.item = item
        self.unprocessed: list[Any] = []
        self.undelivered: list[tuple[Any, Any]] = []
        self.delivered = 0
        self.results: list[Any] = []
        self.__cause__ = cause


class _Report:
    """Whom to tell what was left when a pipeline stops early, and whether the caller gets
    the outputs only at the end (the list form: until it returns, nothing is delivered)."""

    __slots__ = ("collecting", "on_undelivered", "on_unprocessed")

    def __init__(self, on_unprocessed: OnUnprocessed | None,
                 on_undelivered: OnUndelivered | None, *, collecting: bool = False) -> None:
        self.on_unprocessed = on_unprocessed
        self.on_undelivered = on_undelivered
        self.collecting = collecting


class _Books:
    """Every item between the source and the caller, so none can vanish, and the reorder buffer.

    Invariants: ``in_flight`` holds exactly the items read from the source that have not
    passed every stage, and ``finished`` those that have (the last stage's function returned)
    but whose output the caller has not taken, each keyed by source index (so in source
    order); ``ready`` holds outputs the caller
    may take now, in the order it must take them. Only the source adds to ``in_flight`` and
    only the caller's side moves an item on, one dict operation each, so the threads variant
    needs no lock for them. In the list form, an output the caller took is kept in
    ``collected`` until the call returns: until then it has reached nobody.
    """

    def __init__(self, ordered: bool, report: _Report) -> None:
        self.report = report
        self.in_flight: dict[int, Any] = {}
        self.finished: dict[int, tuple[Any, Any]] = {}  # (item, output) by source index
        self.collected: list[tuple[int, Any, Any]] = []  # (index, item, output), list form
        self.read = 0  # items read from the source
        self.delivered = 0
        self.errors: list[BaseException] = []  # in the order they happened
        self.ready: deque[tuple[int, Any]] = deque()
        self._ordered = ordered
        self._early: dict[int, Any] = {}  # outputs that overtook an older one
        self._next = 0  # the index the caller must get next, when ordered

    def take(self, item: Any) -> int:
        index = self.read
        self.in_flight[index] = item
        self.read += 1
        return index

    def complete(self, index: int, value: Any) -> None:
        """The last stage's function returned for *index*: it will never run again, whether
        or not its output reaches the caller (a sink that wrote it has written it)."""
        self.finished[index] = (self.in_flight.pop(index), value)

    def arrive(self, index: int, value: Any) -> None:
        if not self._ordered:
            self.ready.append((index, value))
            return
        self._early[index] = value
        while self._next in self._early:
            self.ready.append((self._next, self._early.pop(self._next)))
            self._next += 1

    def deliver(self) -> Any:
        index, value = self.ready.popleft()
        item, _ = self.finished.pop(index)
        if self.report.collecting:
            self.collected.append((index, item, value))
        else:
            self.delivered += 1
        return value

    def _undelivered(self, exc: BaseException | None) -> list[tuple[Any, Any]]:
        """(item, output) for every item that passed every stage but whose output reached
        nobody, in source order. In the list form, what the call collected counts too, unless
        a ``PipelineError`` hands it to the caller (its ``results``)."""
        pairs = [(i, item, value) for i, (item, value) in self.finished.items()]
        stopped = exc is not None or bool(self.errors)  # the list form returns nothing then
        if self.report.collecting and stopped and not isinstance(self._first(), PipelineError):
            pairs += self.collected
        return [(item, value) for _, item, value in sorted(pairs, key=lambda p: p[0])]

    def _first(self) -> BaseException | None:
        return self.errors[0] if self.errors else None

    def failed(self, stage: str | None, index: int, item: Any, cause: Exception) -> PipelineError:
        error = PipelineError(stage, index, item, cause)
        self.errors.append(error)
        return error

    def settle(self, exc: BaseException | None) -> None:
        """The pipeline has stopped, every task or thread with it: account for what is left,
        then raise what the caller must see (if anything)."""
        unprocessed = list(self.in_flight.values())
        stopped_early = exc is not None or bool(self.errors)
        undelivered = self._undelivered(exc)
        if self.report.collecting and (
                not stopped_early or isinstance(self._first(), PipelineError)):
            self.delivered = len(self.collected)  # returned, or handed over as its results
        if unprocessed and self.report.on_unprocessed is not None:
            self.report.on_unprocessed(unprocessed)
        if undelivered and self.report.on_undelivered is not None:
            self.report.on_undelivered(undelivered)
        first = self._first()
        if isinstance(first, PipelineError):
            first.unprocessed, first.undelivered = unprocessed, undelivered
            first.delivered = self.delivered
            if self.report.collecting:  # the list form hands over what it had collected
                first.results = [value for _, _, value in self.collected]
        if exc is None:
            if first is not None:
                raise first
            return
        if isinstance(exc, BaseExceptionGroup):
            # user code: an error in a stage, seen from the caller's ``async with`` block
            if first is not None and unwrap_group(exc, Exception) is not None:
                raise first from first.__cause__
            plain = unwrap_group(exc, Exception)  # the caller's own error from inside the block
            if plain is not None:
                raise plain
        raise exc


def _check(source: object, stages: object, ordered: object, window: object,
           on_unprocessed: object, on_undelivered: object, *, sync: bool,
           name: str) -> tuple[list[Stage[Any, Any]], int]:
    if isinstance(source, str | bytes):
        raise TypeError(f"source must be an iterable of items, not a {type(source).__name__}")
    if sync and not isinstance(source, Iterable):
        raise TypeError(f"source must be an iterable for {name}, got {type(source).__name__}")
    if not isinstance(source, Iterable | AsyncIterable):
        raise TypeError(f"source must be an iterable or an async iterable, "
                        f"got {type(source).__name__}")
    if isinstance(stages, str | bytes) or not isinstance(stages, Sequence):
        raise TypeError(f"stages must be a sequence of Stage, got {type(stages).__name__}")
    if not stages:
        raise ValueError("stages must hold at least one Stage")
    names: set[str] = set()
    for i, stage in enumerate(stages):
        if not isinstance(stage, Stage):
            raise TypeError(f"stages[{i}] must be a Stage, got {type(stage).__name__}")
        if stage.name in names:
            raise ValueError(f"stages[{i}]: the name {stage.name!r} is used twice")
        names.add(stage.name)
        is_async = inspect.iscoroutinefunction(stage.fn)
        if sync and is_async:
            raise TypeError(f"stages[{i}] ({stage.name!r}): {name} calls fn in a thread, "
                            f"so fn must be a plain function, not an async one")
        # A lambda may return a coroutine; any other plain function is a blocking one.
        if (not sync and not is_async and inspect.isfunction(stage.fn)
                and stage.fn.__name__ != "<lambda>"):
            raise TypeError(f"stages[{i}] ({stage.name!r}): {name} awaits fn, so fn must be "
                            f"an async function; for blocking code use pipeline_threads")
    if not isinstance(ordered, bool):
        raise TypeError(f"ordered must be a bool, got {type(ordered).__name__}")
    if window is not None:
        check_positive_int("window", window)
        if not ordered:
            raise ValueError("window bounds the reorder buffer: it needs ordered=True")
    if on_unprocessed is not None:
        check_callable("on_unprocessed", on_unprocessed)
    if on_undelivered is not None:
        check_callable("on_undelivered", on_undelivered)
    checked = list(stages)
    return checked, window if isinstance(window, int) else capacity(checked)


@overload
def pipeline_stream_asyncio(
    source: Iterable[S] | AsyncIterable[S], stages: tuple[Stage[S, Awaitable[O1]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractAsyncContextManager[AsyncIterator[O1]]: ...
@overload
def pipeline_stream_asyncio(
    source: Iterable[S] | AsyncIterable[S],
    stages: tuple[Stage[S, Awaitable[O1]], Stage[O1, Awaitable[O2]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractAsyncContextManager[AsyncIterator[O2]]: ...
@overload
def pipeline_stream_asyncio(
    source: Iterable[S] | AsyncIterable[S],
    stages: tuple[Stage[S, Awaitable[O1]], Stage[O1, Awaitable[O2]],
                  Stage[O2, Awaitable[O3]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractAsyncContextManager[AsyncIterator[O3]]: ...
@overload
def pipeline_stream_asyncio(
    source: Iterable[S] | AsyncIterable[S],
    stages: tuple[Stage[S, Awaitable[O1]], Stage[O1, Awaitable[O2]], Stage[O2, Awaitable[O3]],
                  Stage[O3, Awaitable[O4]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractAsyncContextManager[AsyncIterator[O4]]: ...
@overload
def pipeline_stream_asyncio(
    source: Iterable[Any] | AsyncIterable[Any], stages: Sequence[Stage[Any, Awaitable[Any]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractAsyncContextManager[AsyncIterator[Any]]: ...


def pipeline_stream_asyncio(
    source: Iterable[Any] | AsyncIterable[Any], stages: Sequence[Stage[Any, Any]], *,
    ordered: bool = False, window: int | None = None,
    on_unprocessed: OnUnprocessed | None = None,
    on_undelivered: OnUndelivered | None = None,
) -> AbstractAsyncContextManager[AsyncIterator[Any]]:
    """Run *stages* over *source* with asyncio tasks; iterate the outputs inside the block.

    ``async with pipeline_stream(source, stages) as outputs: async for out in outputs:``.
    Each stage runs ``limit`` tasks over an ``asyncio.Queue`` of ``buffer`` items, so the
    pipeline holds at most ``capacity(stages)`` items however long the source. The first error
    cancels every task; cancelling the block, or leaving it early, cancels them too, and every
    task has ended before the block is left.

    Args:
        source: an iterable or async iterable, read lazily; not a str.
        stages: at least one ``Stage``, with unique names and async functions. Given as a
            tuple, the outputs' type follows the stages' for a type checker.
        ordered: outputs in the source's order rather than in completion order.
        window: with ``ordered``, the most items between source and caller; by default
            ``capacity(stages)``.
        on_unprocessed: called once, if the pipeline stops early (an error, a cancellation,
            leaving the block), with the source items that did not pass every stage: the
            ones to run again.
        on_undelivered: called once, if the pipeline stops early, with ``(item, output)``
            for each item that passed every stage but whose output never reached the caller
            (in the list form: a cancelled call returns none): done, not to run again.

    Returns:
        An async context manager whose value is an async iterator of the last stage's outputs.

    Raises:
        PipelineError: a stage or the source raised; it names the stage, the item and its
            index, and lists the unprocessed items. The original exception is ``__cause__``.
        TypeError, ValueError: for a bad argument, at the call, before anything starts.
    """
    checked, window = _check(source, stages, ordered, window, on_unprocessed, on_undelivered,
                             sync=False, name="pipeline_stream_asyncio")
    return _stream_asyncio(source, checked, ordered, window,
                          _Report(on_unprocessed, on_undelivered))


@asynccontextmanager
async def _stream_asyncio(
    source: Iterable[Any] | AsyncIterable[Any],
    stages: list[Stage[Any, Any]], ordered: bool, window: int, report: _Report,
) -> AsyncIterator[AsyncIterator[Any]]:
    books = _Books(ordered, report)
    # inboxes[k] feeds stage k; the last one is the caller's. Stage k's workers send to k+1.
    # The list form has no caller's inbox: its last stage hands each output over itself.
    direct = report.collecting
    # The list form in completion order: what _Books.complete, arrive and deliver would do
    # for it, in one step, with nothing to reorder (the same end state in the books).
    collect_now = direct and not ordered
    into_list, in_flight = books.collected, books.in_flight
    inboxes: list[asyncio.Queue[tuple[int, Any]]] = [asyncio.Queue(s.buffer) for s in stages]
    inboxes.append(asyncio.Queue(stages[-1].limit))
    gate = asyncio.Semaphore(window) if ordered else None
    closed = asyncio_closed()
    running = [s.limit for s in stages]
    done = asyncio.Event()  # the list form: the last stage's last worker has finished

    items = _Source(source)

    async def read_source() -> None:
        inbox = inboxes[0]
        plain = items.plain  # a plain iterable: read it without a coroutine per item
        while True:
            if gate is not None:
                await gate.acquire()  # no more than `window` items ahead of the caller
            try:
                item = next(plain, _DRY) if plain is not None else await items.next()
            except Exception as exc:
                raise books.failed(None, books.read, None, exc) from exc
            if item is _DRY:
                break
            await inbox.put((books.take(item), item))
        await close_asyncio(inbox, stages[0].limit)  # Go: close(out)

    calls = [_async_call(stage, asyncio.sleep) for stage in stages]

    # --8<-- [start:asyncio]
    async def work(k: int) -> None:
        stage, inbox, outbox = stages[k], inboxes[k], inboxes[k + 1]
        last, call = k == len(stages) - 1, calls[k]
        get = inbox.get  # get_asyncio, written out: no coroutine of ours per item
        while True:
            try:
                entry = await get()
            except closed:  # closed and drained (3.13+)
                break
            if entry is END:  # the same, before 3.13
                break
            index, item = entry
            try:
                value = await call(item)
            except Exception as exc:  # not a cancellation: that passes through
                raise books.failed(stage.name, index, item, exc) from exc
            if not last:
                await outbox.put((index, value))
                continue
            if collect_now:  # the list form in completion order: into the list, no reordering
                into_list.append((index, in_flight.pop(index), value))
                continue
            books.complete(index, value)
            if not direct:
                await outbox.put((index, value))
                continue
            books.arrive(index, value)  # the list form: straight into the call's list
            while books.ready:
                books.deliver()
                if gate is not None:
                    gate.release()
        running[k] -= 1
        if running[k] == 0:  # the stage's last worker closes the next channel
            if last and direct:
                done.set()
                return
            receivers = stages[k + 1].limit if k + 1 < len(stages) else 1
            await close_asyncio(outbox, receivers)
    # --8<-- [end:asyncio]

    async def outputs() -> AsyncGenerator[Any, None]:
        if direct:  # the last stage collected them: wait for it, then hand them over
            await done.wait()
            for _, _, value in books.collected:
                yield value
            return
        while True:
            while books.ready:
                value = books.deliver()
                if gate is not None:
                    gate.release()
                yield value
            await settle_asyncio(inboxes[-1])  # where anyio's cancellation can reach the caller
            try:
                index, value = await get_asyncio(inboxes[-1])
            except Closed:
                return
            books.arrive(index, value)

    error: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(read_source())]
            tasks += [tg.create_task(work(k)) for k, s in enumerate(stages)
                      for _ in range(s.limit)]
            reader = outputs()
            try:
                yield reader
            finally:
                # The block is over, early or not: stop every task before it is left.
                await reader.aclose()
                for task in tasks:
                    task.cancel()
    except BaseException as exc:
        error = exc
    try:
        await items.aclose(shield=False)  # the call owns the iteration it started
    except BaseException as exc:
        error = error or exc
    books.settle(error)


@overload
async def pipeline_asyncio(
    source: Iterable[S] | AsyncIterable[S], stages: tuple[Stage[S, Awaitable[O1]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[O1]: ...
@overload
async def pipeline_asyncio(
    source: Iterable[S] | AsyncIterable[S],
    stages: tuple[Stage[S, Awaitable[O1]], Stage[O1, Awaitable[O2]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[O2]: ...
@overload
async def pipeline_asyncio(
    source: Iterable[S] | AsyncIterable[S],
    stages: tuple[Stage[S, Awaitable[O1]], Stage[O1, Awaitable[O2]],
                  Stage[O2, Awaitable[O3]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[O3]: ...
@overload
async def pipeline_asyncio(
    source: Iterable[S] | AsyncIterable[S],
    stages: tuple[Stage[S, Awaitable[O1]], Stage[O1, Awaitable[O2]], Stage[O2, Awaitable[O3]],
                  Stage[O3, Awaitable[O4]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[O4]: ...
@overload
async def pipeline_asyncio(
    source: Iterable[Any] | AsyncIterable[Any], stages: Sequence[Stage[Any, Awaitable[Any]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[Any]: ...


async def pipeline_asyncio(
    source: Iterable[Any] | AsyncIterable[Any], stages: Sequence[Stage[Any, Any]], *,
    ordered: bool = False, window: int | None = None,
    on_unprocessed: OnUnprocessed | None = None,
    on_undelivered: OnUndelivered | None = None,
) -> list[Any]:
    """Run *stages* over *source* with asyncio tasks; return every output in a list.

    The pipeline of ``pipeline_stream``, collected: each stage runs ``limit`` tasks over an
    ``asyncio.Queue`` of ``buffer`` items. The first error cancels every task and is raised;
    cancelling the call cancels every task before the cancellation goes on.

    Args:
        source: an iterable or async iterable, read lazily; not a str.
        stages: at least one ``Stage``, with unique names and async functions. Given as a
            tuple, the outputs' type follows the stages' for a type checker.
        ordered: outputs in the source's order rather than in completion order.
        window: with ``ordered``, the most items between source and caller; by default
            ``capacity(stages)``.
        on_unprocessed: called once, if the pipeline stops early (an error, a cancellation,
            leaving the block), with the source items that did not pass every stage: the
            ones to run again.
        on_undelivered: called once, if the pipeline stops early, with ``(item, output)``
            for each item that passed every stage but whose output never reached the caller
            (in the list form: a cancelled call returns none): done, not to run again.

    Returns:
        The last stage's outputs, in completion order, or in the source's with ``ordered``.

    Raises:
        PipelineError: a stage or the source raised; it names the stage, the item and its
            index, lists the unprocessed items, and carries as ``results`` the outputs
            collected before the stop. The original exception is ``__cause__``.
        TypeError, ValueError: for a bad argument, at the call, before anything starts.
    """
    checked, window = _check(source, stages, ordered, window, on_unprocessed, on_undelivered,
                             sync=False, name="pipeline_asyncio")
    return await _collect(_stream_asyncio(
        source, checked, ordered, window,
        _Report(on_unprocessed, on_undelivered, collecting=True)))


@overload
def pipeline_stream_anyio(
    source: Iterable[S] | AsyncIterable[S], stages: tuple[Stage[S, Awaitable[O1]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractAsyncContextManager[AsyncIterator[O1]]: ...
@overload
def pipeline_stream_anyio(
    source: Iterable[S] | AsyncIterable[S],
    stages: tuple[Stage[S, Awaitable[O1]], Stage[O1, Awaitable[O2]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractAsyncContextManager[AsyncIterator[O2]]: ...
@overload
def pipeline_stream_anyio(
    source: Iterable[S] | AsyncIterable[S],
    stages: tuple[Stage[S, Awaitable[O1]], Stage[O1, Awaitable[O2]],
                  Stage[O2, Awaitable[O3]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractAsyncContextManager[AsyncIterator[O3]]: ...
@overload
def pipeline_stream_anyio(
    source: Iterable[S] | AsyncIterable[S],
    stages: tuple[Stage[S, Awaitable[O1]], Stage[O1, Awaitable[O2]], Stage[O2, Awaitable[O3]],
                  Stage[O3, Awaitable[O4]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractAsyncContextManager[AsyncIterator[O4]]: ...
@overload
def pipeline_stream_anyio(
    source: Iterable[Any] | AsyncIterable[Any], stages: Sequence[Stage[Any, Awaitable[Any]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractAsyncContextManager[AsyncIterator[Any]]: ...


def pipeline_stream_anyio(
    source: Iterable[Any] | AsyncIterable[Any], stages: Sequence[Stage[Any, Any]], *,
    ordered: bool = False, window: int | None = None,
    on_unprocessed: OnUnprocessed | None = None,
    on_undelivered: OnUndelivered | None = None,
) -> AbstractAsyncContextManager[AsyncIterator[Any]]:
    """Run *stages* over *source* with anyio tasks, on asyncio or trio; iterate the outputs.

    ``async with pipeline_stream(source, stages) as outputs: async for out in outputs:``.
    Each stage runs ``limit`` tasks joined by anyio memory object streams of ``buffer`` items,
    the closest thing to a Go channel, so the pipeline holds at most ``capacity(stages)`` items
    however long the source. The first error cancels every task; cancelling the block, or
    leaving it early, cancels them too, and every task has ended before the block is left.

    Args:
        source: an iterable or async iterable, read lazily; not a str.
        stages: at least one ``Stage``, with unique names and async functions. Given as a
            tuple, the outputs' type follows the stages' for a type checker.
        ordered: outputs in the source's order rather than in completion order.
        window: with ``ordered``, the most items between source and caller; by default
            ``capacity(stages)``.
        on_unprocessed: called once, if the pipeline stops early (an error, a cancellation,
            leaving the block), with the source items that did not pass every stage: the
            ones to run again.
        on_undelivered: called once, if the pipeline stops early, with ``(item, output)``
            for each item that passed every stage but whose output never reached the caller
            (in the list form: a cancelled call returns none): done, not to run again.

    Returns:
        An async context manager whose value is an async iterator of the last stage's outputs.

    Raises:
        PipelineError: a stage or the source raised; it names the stage, the item and its
            index, and lists the unprocessed items. The original exception is ``__cause__``.
        TypeError, ValueError: for a bad argument, at the call, before anything starts.
    """
    checked, window = _check(source, stages, ordered, window, on_unprocessed, on_undelivered,
                             sync=False, name="pipeline_stream_anyio")
    return _stream_anyio(source, checked, ordered, window,
                          _Report(on_unprocessed, on_undelivered))


@asynccontextmanager
async def _stream_anyio(
    source: Iterable[Any] | AsyncIterable[Any],
    stages: list[Stage[Any, Any]], ordered: bool, window: int, report: _Report,
) -> AsyncIterator[AsyncIterator[Any]]:
    books = _Books(ordered, report)
    # One channel into each stage and one out of the last. A channel closes when every clone
    # of its send side is closed: each sender owns one clone (Go's close, counted for you).
    channels = [anyio.create_memory_object_stream[tuple[int, Any]](s.buffer) for s in stages]
    channels.append(anyio.create_memory_object_stream[tuple[int, Any]](stages[-1].limit))
    gate = anyio.Semaphore(window) if ordered else None
    # The list form has no caller's channel: its last stage hands each output over itself.
    direct = report.collecting
    # The list form in completion order: what _Books.complete, arrive and deliver would do
    # for it, in one step, with nothing to reorder (the same end state in the books).
    collect_now = direct and not ordered
    into_list, in_flight = books.collected, books.in_flight
    done, last_running = anyio.Event(), [stages[-1].limit]

    items = _Source(source)

    async def read_source(out: MemoryObjectSendStream[tuple[int, Any]]) -> None:
        plain = items.plain  # a plain iterable: read it without a coroutine per item
        async with out:
            while True:
                if gate is not None:
                    await gate.acquire()
                try:
                    item = next(plain, _DRY) if plain is not None else await items.next()
                except Exception as exc:
                    raise books.failed(None, books.read, None, exc) from exc
                if item is _DRY:
                    break
                entry = (books.take(item), item)
                await anyio.lowlevel.checkpoint_if_cancelled()
                try:
                    out.send_nowait(entry)
                except anyio.WouldBlock:
                    await out.send(entry)

    calls = {id(stage): _async_call(stage, anyio.sleep) for stage in stages}

    # --8<-- [start:anyio]
    async def work(stage: Stage[Any, Any], inbox: MemoryObjectReceiveStream[tuple[int, Any]],
                   out: MemoryObjectSendStream[tuple[int, Any]]) -> None:
        last, call = stage is stages[-1], calls[id(stage)]
        async with out:  # the stage's last worker out closes the next channel
            while True:
                # The channel's checkpoint (a trip through the loop) is paid only when it
                # must wait, as asyncio.Queue's is; this line keeps a worker that never
                # waits cancellable.
                await anyio.lowlevel.checkpoint_if_cancelled()
                try:
                    index, item = inbox.receive_nowait()
                except anyio.WouldBlock:
                    try:
                        index, item = await inbox.receive()
                    except anyio.EndOfStream:
                        break
                except anyio.EndOfStream:
                    break
                try:
                    value = await call(item)
                except Exception as exc:
                    raise books.failed(stage.name, index, item, exc) from exc
                if last:
                    if collect_now:  # the list form in completion order: no reordering
                        into_list.append((index, in_flight.pop(index), value))
                        continue
                    books.complete(index, value)
                    if direct:  # the list form: straight into the call's list
                        books.arrive(index, value)
                        while books.ready:
                            books.deliver()
                            if gate is not None:
                                gate.release()
                        continue
                try:
                    out.send_nowait((index, value))
                except anyio.WouldBlock:
                    await out.send((index, value))
    # --8<-- [end:anyio]
        if last and direct:
            last_running[0] -= 1
            if last_running[0] == 0:
                done.set()

    async def outputs(
        inbox: MemoryObjectReceiveStream[tuple[int, Any]],
    ) -> AsyncGenerator[Any, None]:
        if direct:  # the last stage collected them: wait for it, then hand them over
            await done.wait()
            for _, _, value in books.collected:
                yield value
            return
        while True:
            try:
                index, value = inbox.receive_nowait()
            except anyio.WouldBlock:
                try:
                    index, value = await inbox.receive()
                except anyio.EndOfStream:
                    return
            except anyio.EndOfStream:
                return
            books.arrive(index, value)
            while books.ready:
                value = books.deliver()
                if gate is not None:
                    gate.release()
                yield value

    error: BaseException | None = None
    try:
        async with anyio.create_task_group() as tg:
            first_send, _ = channels[0]
            tg.start_soon(read_source, first_send)
            for k, stage in enumerate(stages):
                _, inbox = channels[k]
                out, _ = channels[k + 1]
                for _ in range(stage.limit):
                    tg.start_soon(work, stage, inbox, out.clone())
                out.close()  # only the workers' clones keep the channel open
            reader = outputs(channels[-1][1])
            try:
                yield reader
            finally:
                await reader.aclose()
                tg.cancel_scope.cancel()
    except BaseException as exc:
        error = exc
    finally:
        for send, receive in channels:
            send.close()
            receive.close()
    try:
        await items.aclose(shield=True)  # the call owns the iteration it started
    except BaseException as exc:
        error = error or exc
    books.settle(error)


@overload
async def pipeline_anyio(
    source: Iterable[S] | AsyncIterable[S], stages: tuple[Stage[S, Awaitable[O1]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[O1]: ...
@overload
async def pipeline_anyio(
    source: Iterable[S] | AsyncIterable[S],
    stages: tuple[Stage[S, Awaitable[O1]], Stage[O1, Awaitable[O2]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[O2]: ...
@overload
async def pipeline_anyio(
    source: Iterable[S] | AsyncIterable[S],
    stages: tuple[Stage[S, Awaitable[O1]], Stage[O1, Awaitable[O2]],
                  Stage[O2, Awaitable[O3]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[O3]: ...
@overload
async def pipeline_anyio(
    source: Iterable[S] | AsyncIterable[S],
    stages: tuple[Stage[S, Awaitable[O1]], Stage[O1, Awaitable[O2]], Stage[O2, Awaitable[O3]],
                  Stage[O3, Awaitable[O4]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[O4]: ...
@overload
async def pipeline_anyio(
    source: Iterable[Any] | AsyncIterable[Any], stages: Sequence[Stage[Any, Awaitable[Any]]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[Any]: ...


async def pipeline_anyio(
    source: Iterable[Any] | AsyncIterable[Any], stages: Sequence[Stage[Any, Any]], *,
    ordered: bool = False, window: int | None = None,
    on_unprocessed: OnUnprocessed | None = None,
    on_undelivered: OnUndelivered | None = None,
) -> list[Any]:
    """Run *stages* over *source* with anyio tasks, on asyncio or trio; return every output.

    The pipeline of ``pipeline_stream``, collected: each stage runs ``limit`` tasks joined by
    memory object streams of ``buffer`` items. The first error cancels every task and is raised;
    cancelling the call (a cancel scope, a cancelled task group) cancels every task before the
    cancellation goes on.

    Args:
        source: an iterable or async iterable, read lazily; not a str.
        stages: at least one ``Stage``, with unique names and async functions. Given as a
            tuple, the outputs' type follows the stages' for a type checker.
        ordered: outputs in the source's order rather than in completion order.
        window: with ``ordered``, the most items between source and caller; by default
            ``capacity(stages)``.
        on_unprocessed: called once, if the pipeline stops early (an error, a cancellation,
            leaving the block), with the source items that did not pass every stage: the
            ones to run again.
        on_undelivered: called once, if the pipeline stops early, with ``(item, output)``
            for each item that passed every stage but whose output never reached the caller
            (in the list form: a cancelled call returns none): done, not to run again.

    Returns:
        The last stage's outputs, in completion order, or in the source's with ``ordered``.

    Raises:
        PipelineError: a stage or the source raised; it names the stage, the item and its
            index, lists the unprocessed items, and carries as ``results`` the outputs
            collected before the stop. The original exception is ``__cause__``.
        TypeError, ValueError: for a bad argument, at the call, before anything starts.
    """
    checked, window = _check(source, stages, ordered, window, on_unprocessed, on_undelivered,
                             sync=False, name="pipeline_anyio")
    return await _collect(_stream_anyio(
        source, checked, ordered, window,
        _Report(on_unprocessed, on_undelivered, collecting=True)))


@overload
def pipeline_stream_threads(
    source: Iterable[S], stages: tuple[Stage[S, O1]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractContextManager[Iterator[O1]]: ...
@overload
def pipeline_stream_threads(
    source: Iterable[S], stages: tuple[Stage[S, O1], Stage[O1, O2]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractContextManager[Iterator[O2]]: ...
@overload
def pipeline_stream_threads(
    source: Iterable[S], stages: tuple[Stage[S, O1], Stage[O1, O2], Stage[O2, O3]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractContextManager[Iterator[O3]]: ...
@overload
def pipeline_stream_threads(
    source: Iterable[S],
    stages: tuple[Stage[S, O1], Stage[O1, O2], Stage[O2, O3], Stage[O3, O4]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractContextManager[Iterator[O4]]: ...
@overload
def pipeline_stream_threads(
    source: Iterable[Any], stages: Sequence[Stage[Any, Any]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> AbstractContextManager[Iterator[Any]]: ...


def pipeline_stream_threads(
    source: Iterable[Any], stages: Sequence[Stage[Any, Any]], *,
    ordered: bool = False, window: int | None = None,
    on_unprocessed: OnUnprocessed | None = None,
    on_undelivered: OnUndelivered | None = None,
) -> AbstractContextManager[Iterator[Any]]:
    """Run *stages* over *source* with one thread per worker; iterate the outputs in the block.

    ``with pipeline_stream(source, stages) as outputs: for out in outputs:``. Each stage runs
    ``limit`` threads over a ``queue.Queue`` of ``buffer`` items, and the source is read in a
    thread of its own. A thread cannot be cancelled, so stopping (an error, or leaving the
    block early) is a request: the source is read no further, workers call no function on what
    they still receive (those items are reported unprocessed) and drain their inboxes so that
    nobody stays blocked on a full queue, and every thread is joined before the block is left.

    Args:
        source: an iterable, read lazily; not a str.
        stages: at least one ``Stage``, with unique names and plain functions. Given as a
            tuple, the outputs' type follows the stages' for a type checker.
        ordered: outputs in the source's order rather than in completion order.
        window: with ``ordered``, the most items between source and caller; by default
            ``capacity(stages)``.
        on_unprocessed: called once, if the pipeline stops early (an error, a cancellation,
            leaving the block), with the source items that did not pass every stage: the
            ones to run again.
        on_undelivered: called once, if the pipeline stops early, with ``(item, output)``
            for each item that passed every stage but whose output never reached the caller
            (in the list form: a cancelled call returns none): done, not to run again.

    Returns:
        A context manager whose value is an iterator of the last stage's outputs.

    Raises:
        PipelineError: a stage or the source raised; it names the stage, the item and its
            index, and lists the unprocessed items. The original exception is ``__cause__``.
        TypeError, ValueError: for a bad argument, at the call, before anything starts.
    """
    checked, window = _check(source, stages, ordered, window, on_unprocessed, on_undelivered,
                             sync=True, name="pipeline_stream_threads")
    return _stream_threads(source, checked, ordered, window,
                          _Report(on_unprocessed, on_undelivered))


@contextmanager
def _stream_threads(source: Iterable[Any], stages: list[Stage[Any, Any]], ordered: bool,
                    window: int, report: _Report) -> Iterator[Iterator[Any]]:
    books = _Books(ordered, report)
    inboxes: list[queue.Queue[tuple[int, Any]]] = [queue.Queue(s.buffer) for s in stages]
    inboxes.append(queue.Queue(stages[-1].limit))
    gate = threading.Semaphore(window) if ordered else None
    stop = threading.Event()  # set by the first failure, or when the caller leaves
    lock = threading.Lock()  # guards books.errors and running
    running = [s.limit for s in stages]
    drained = threading.Event()  # the caller's channel was seen closed
    # The list form has no caller's channel: its last stage hands each output over itself,
    # and the caller's own thread reads the source, which saves a thread and a hand-off.
    direct = report.collecting
    # The list form in completion order: what _Books.complete, arrive and deliver would do
    # for it, in one step, with nothing to reorder (the same end state in the books).
    collect_now = direct and not ordered
    into_list, in_flight = books.collected, books.in_flight
    source_read = threading.Event()  # the list form: the caller has started the source

    def halt() -> None:
        stop.set()
        if gate is not None:
            gate.release(window)  # the source may be waiting at the gate: let it see the stop

    def fail(error: BaseException) -> None:
        with lock:
            books.errors.append(error)
        halt()

    def read_source() -> None:
        try:
            items = iter(source)
            while True:
                if gate is not None:
                    gate.acquire()
                # Look at stop *before* reading, so that no item is read and then dropped.
                if stop.is_set():
                    break
                try:
                    item = next(items, _DRY)
                except Exception as exc:
                    fail(PipelineError(None, books.read, None, exc))
                    break
                if item is _DRY:
                    break
                inboxes[0].put((books.take(item), item))
        except BaseException as exc:
            fail(exc)
        finally:
            close_threads(inboxes[0], stages[0].limit)

    calls = [_sync_call(stage) for stage in stages]

    def leave(k: int) -> None:
        with lock:
            running[k] -= 1
            last = running[k] == 0
        if last:  # the stage's last worker closes the next channel
            receivers = stages[k + 1].limit if k + 1 < len(stages) else 1
            close_threads(inboxes[k + 1], receivers)

    # --8<-- [start:threads]
    def work(k: int) -> None:
        stage, inbox, outbox, call = stages[k], inboxes[k], inboxes[k + 1], calls[k]
        last = k == len(stages) - 1
        try:
            while True:
                try:
                    index, item = get_threads(inbox)
                except Closed:
                    break
                if stop.is_set():
                    continue  # drain without working: the books report the item
                try:
                    value = call(item)
                except Exception as exc:
                    fail(PipelineError(stage.name, index, item, exc))
                    continue
                if not last:
                    outbox.put((index, value))
                    continue
                if collect_now:  # the list form in completion order: no lock, no reordering
                    into_list.append((index, in_flight.pop(index), value))
                    continue
                books.complete(index, value)
                if not direct:
                    outbox.put((index, value))
                    continue
                with lock:  # the list form: straight into the call's list
                    books.arrive(index, value)
                    while books.ready:
                        books.deliver()
                        if gate is not None:
                            gate.release()
        except BaseException as exc:
            fail(exc)
        finally:
            leave(k)  # the stage's last worker closes the next channel
    # --8<-- [end:threads]

    def outputs() -> Iterator[Any]:
        while True:
            try:
                index, value = get_threads(inboxes[-1])
            except Closed:
                drained.set()
                return
            if stop.is_set():
                continue
            books.arrive(index, value)
            while books.ready:
                value = books.deliver()
                if gate is not None:
                    gate.release()
                yield value

    workers = [threading.Thread(target=work, args=(k,), name=f"pipeline-{s.name}-{i}")
               for k, s in enumerate(stages) for i in range(s.limit)]

    def collected() -> Iterator[Any]:
        source_read.set()
        read_source()  # in the caller's thread
        for t in workers:
            t.join()
        drained.set()
        for _, _, value in books.collected:
            yield value

    threads = workers if direct else [
        threading.Thread(target=read_source, name="pipeline-source"), *workers]
    for t in threads:
        t.start()
    error: BaseException | None = None
    try:
        yield collected() if direct else outputs()
    except BaseException as exc:
        error = exc
    finally:
        # The block is over, early or not: ask everyone to stop, drain the caller's channel
        # until the last stage closes it, and join every thread.
        if not drained.is_set():
            halt()
            if direct and not source_read.is_set():
                close_threads(inboxes[0], stages[0].limit)  # the source never ran: close it
            _drain(inboxes[-1])
        for t in threads:
            t.join()
    books.settle(error)


@overload
def pipeline_threads(
    source: Iterable[S], stages: tuple[Stage[S, O1]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[O1]: ...
@overload
def pipeline_threads(
    source: Iterable[S], stages: tuple[Stage[S, O1], Stage[O1, O2]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[O2]: ...
@overload
def pipeline_threads(
    source: Iterable[S], stages: tuple[Stage[S, O1], Stage[O1, O2], Stage[O2, O3]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[O3]: ...
@overload
def pipeline_threads(
    source: Iterable[S],
    stages: tuple[Stage[S, O1], Stage[O1, O2], Stage[O2, O3], Stage[O3, O4]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[O4]: ...
@overload
def pipeline_threads(
    source: Iterable[Any], stages: Sequence[Stage[Any, Any]], *,
    ordered: bool = ..., window: int | None = ..., on_unprocessed: OnUnprocessed | None = ...,
    on_undelivered: OnUndelivered | None = ...,
) -> list[Any]: ...


def pipeline_threads(
    source: Iterable[Any], stages: Sequence[Stage[Any, Any]], *,
    ordered: bool = False, window: int | None = None,
    on_unprocessed: OnUnprocessed | None = None,
    on_undelivered: OnUndelivered | None = None,
) -> list[Any]:
    """Run *stages* over *source* with one thread per worker; return every output in a list.

    The pipeline of ``pipeline_stream``, collected: each stage runs ``limit`` threads over a
    ``queue.Queue`` of ``buffer`` items. A thread cannot be cancelled: after the first error the
    source is read no further, running functions finish, every thread is joined, and then the
    error is raised.

    Args:
        source: an iterable, read lazily; not a str.
        stages: at least one ``Stage``, with unique names and plain functions. Given as a
            tuple, the outputs' type follows the stages' for a type checker.
        ordered: outputs in the source's order rather than in completion order.
        window: with ``ordered``, the most items between source and caller; by default
            ``capacity(stages)``.
        on_unprocessed: called once, if the pipeline stops early (an error, a cancellation,
            leaving the block), with the source items that did not pass every stage: the
            ones to run again.
        on_undelivered: called once, if the pipeline stops early, with ``(item, output)``
            for each item that passed every stage but whose output never reached the caller
            (in the list form: a cancelled call returns none): done, not to run again.

    Returns:
        The last stage's outputs, in completion order, or in the source's with ``ordered``.

    Raises:
        PipelineError: a stage or the source raised; it names the stage, the item and its
            index, lists the unprocessed items, and carries as ``results`` the outputs
            collected before the stop. The original exception is ``__cause__``.
        TypeError, ValueError: for a bad argument, at the call, before anything starts.
    """
    checked, window = _check(source, stages, ordered, window, on_unprocessed, on_undelivered,
                             sync=True, name="pipeline_threads")
    results: list[Any] = []
    try:
        with _stream_threads(source, checked, ordered, window,
                             _Report(on_unprocessed, on_undelivered, collecting=True)) as outputs:
            results.extend(outputs)
    except PipelineError as exc:
        exc.results = exc.results or results
        raise
    return results


async def _collect(stream: AbstractAsyncContextManager[AsyncIterator[Any]]) -> list[Any]:
    """A stream's outputs as a list; a ``PipelineError`` carries those collected before it."""
    results: list[Any] = []
    try:
        async with stream as outputs:
            async for value in outputs:
                results.append(value)
    except PipelineError as exc:
        exc.results = exc.results or results
        raise
    return results


def _drain(q: queue.Queue[Any]) -> None:
    """Take everything from *q* until it is closed: its senders can then never block."""
    while True:
        try:
            get_threads(q)
        except Closed:
            return


class _Source:
    """The source, read one item at a time whether it is an iterable or an async iterable."""

    def __init__(self, source: Iterable[Any] | AsyncIterable[Any]) -> None:
        self._async = aiter(source) if isinstance(source, AsyncIterable) else None
        self._sync = None if isinstance(source, AsyncIterable) else iter(source)

    async def aclose(self, *, shield: bool) -> None:
        """Close the async generator the pipeline read from (``close_async``)."""
        await close_async(self._async, shield=shield)

    @property
    def plain(self) -> Iterator[Any] | None:
        """The iterator of a plain (not async) source, for a reader that needs no await."""
        return self._sync

    async def next(self) -> Any:
        """The next item, or ``_DRY``; an error of the source's own is raised as itself."""
        if self._sync is not None:
            return next(self._sync, _DRY)
        assert self._async is not None
        try:
            return await anext(self._async)
        except StopAsyncIteration:
            return _DRY


_DRY: Any = object()  # the source is exhausted
