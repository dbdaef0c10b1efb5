"""W workers over one feed: the engine under the worker pool and the bounded fetch.

This is Go's worker-pool idiom: ``workers`` workers pull ``(index, item)`` pairs from one feed
read lazily (a jobs channel), do the work, and hand each outcome on. However long the feed, at
most ``workers`` items are in the workers' hands and at most ``buffer`` outcomes wait for the
reader, so memory stays flat at a million items.

Each model gets one function with the same shape:

* ``stream_asyncio`` / ``stream_anyio`` — async context managers that yield an async iterator
  of outcomes in completion order; ``stream_threads`` — a context manager that yields an
  iterator.
* ``gather_asyncio`` / ``gather_anyio`` / ``gather_threads`` — the same workers handing each
  outcome straight to ``deliver`` (no buffer, no reader): what the list-returning calls use.
* ``work(index, item)`` does the work. If it raises, ``on_error(index, item, exc)`` decides:
  it returns a value to pass on in place of the result, or raises — and then everything
  stops: the other workers are cancelled (threads start no new item) and the error is
  raised to the caller, as itself. So does an error raised while reading the feed.
* What the reader gets is ``outcome(index, item, value)``; ``gather_*`` calls
  ``deliver(index, item, value)`` instead. Neither allocates more than the caller asks for,
  because this loop runs once per item and its cost is the pool's cost per job.
* Leaving the block early — a ``break``, an exception, a cancellation — stops the workers
  before the block is left: nothing outlives it.

``make_work`` is called once per worker and returns a context manager that yields that
worker's ``work``: a worker can own a resource (an HTTP connection) for its whole life.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
)
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .errors import unwrap_group
from .lazy import lazy
from .queues import settle_asyncio

if TYPE_CHECKING:
    import asyncio

    import anyio
    from anyio.streams.memory import MemoryObjectReceiveStream
else:
    anyio = lazy(globals(), "anyio")
    asyncio = lazy(globals(), "asyncio")

__all__ = [
    "close_async",
    "Feed",
    "buffered",
    "gather_anyio",
    "gather_asyncio",
    "gather_threads",
    "stream_anyio",
    "stream_asyncio",
    "stream_threads",
]

J = TypeVar("J")
R = TypeVar("R")
O = TypeVar("O")  # noqa: E741 - what the reader gets

AsyncWork = Callable[[int, J], Awaitable[R]]
SyncWork = Callable[[int, J], R]
MakeAsyncWork = Callable[[], AbstractAsyncContextManager[AsyncWork[J, R]]]  # one per worker
MakeSyncWork = Callable[[], AbstractContextManager[SyncWork[J, R]]]
OnError = Callable[[int, J, Exception], R]  # a value in place of the result, or raise
Deliver = Callable[[int, J, R], object]

_DRY: Any = object()


def buffered(workers: int) -> int:
    """How many outcomes may wait for the reader: one per worker, so no worker waits for a
    reader that is keeping up."""
    return workers


async def close_async(iterator: object, *, shield: bool) -> None:
    """Close an async generator a call read from, as ``contextlib.aclosing`` would.

    The call that started reading it owns that iteration: when it stops early (an error, a
    ``break``, a cancellation), the generator's ``finally`` runs here, on the caller's side
    and in order, not whenever the garbage collector gets to it, in whatever task then runs
    (trio warns about exactly that). Call it once no task is inside the generator any more.
    With *shield* (anyio), a cancellation of the caller does not cut the cleanup short.
    Anything without ``aclose`` (a plain iterator, a user's own async iterator) is left as it
    is.
    """
    close = getattr(iterator, "aclose", None)
    if close is None:
        return
    if shield:
        with anyio.CancelScope(shield=True):
            await close()
        return
    # asyncio has no shield that holds its caller: the cleanup runs in a task of its own,
    # and the caller waits for it through any cancellation (anyio's cancels it again at
    # every turn of the loop), then lets the cancellation go on.
    closing = asyncio.ensure_future(close())
    cancelled = False
    while not closing.done():
        try:
            await asyncio.shield(closing)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    closing.result()


class Feed(Generic[J]):
    """``(index, item)`` pairs read lazily from an iterable or an async iterable.

    Workers share one feed. A plain iterator is only touched between awaits (or under the
    threads' lock), so it needs no lock of its own; an async iterator does, since two tasks
    must not be inside its ``__anext__`` at once (``needs_lock``).
    """

    def __init__(self, items: Iterable[J] | AsyncIterable[J],
                 check: Callable[[int, J], None] | None = None) -> None:
        self._sync: Iterator[J] | None = None
        self._async: AsyncIterator[J] | None = None
        if isinstance(items, AsyncIterable):
            self._async = aiter(items)
        else:
            self._sync = iter(items)
        self._check = check
        self.count = 0  # items read so far

    @property
    def needs_lock(self) -> bool:
        return self._async is not None

    def next_sync(self) -> tuple[int, J] | None:
        """The next pair, or ``None`` when the feed is dry."""
        assert self._sync is not None
        item = next(self._sync, _DRY)
        return None if item is _DRY else self._numbered(item)

    async def next_async(self) -> tuple[int, J] | None:
        if self._async is None:
            return self.next_sync()
        try:
            item = await anext(self._async)
        except StopAsyncIteration:
            return None
        return self._numbered(item)

    async def aclose(self, *, shield: bool) -> None:
        """Close the async generator this feed read from: see ``close_async``."""
        await close_async(self._async, shield=shield)

    def _numbered(self, item: J) -> tuple[int, J]:
        index = self.count
        if self._check is not None:
            self._check(index, item)
        self.count += 1
        return index, item


async def _work_loop(feed: Feed[J], lock: Any, work: AsyncWork[J, R], on_error: OnError[J, R],
                     deliver: Deliver[J, R]) -> None:
    while True:
        if lock is None:
            pair = await feed.next_async()
        else:
            async with lock:
                pair = await feed.next_async()
        if pair is None:
            return
        index, item = pair
        try:
            value = await work(index, item)
        except Exception as exc:  # Exception only: a cancellation must pass through
            value = on_error(index, item, exc)
        deliver(index, item, value)


# The stream's loop is the same loop with an awaited hand-over. It is written out twice on
# purpose: the gather loop must not create a coroutine per item to deliver it, since that
# alone would double the worker pool's cost per job.
async def _stream_loop(feed: Feed[J], lock: Any, work: AsyncWork[J, R], on_error: OnError[J, R],
                       outcome: Callable[[int, J, R], O],
                       send: Callable[[O], Awaitable[object]]) -> None:
    while True:
        if lock is None:
            pair = await feed.next_async()
        else:
            async with lock:
                pair = await feed.next_async()
        if pair is None:
            return
        index, item = pair
        try:
            value = await work(index, item)
        except Exception as exc:
            value = on_error(index, item, exc)
        await send(outcome(index, item, value))


def _raise_first(group: BaseExceptionGroup[Any]) -> None:
    # The errors that stop a stream are plain exceptions (a worker's, the feed's, or the
    # reader's own); raise the first as itself. Anything else — a cancellation, a
    # KeyboardInterrupt — goes on as the group, with nothing hidden.
    error = unwrap_group(group, Exception)
    if error is None:
        raise group
    raise error


# --- asyncio ----------------------------------------------------------------------------------

async def gather_asyncio(
    feed: Feed[J], workers: int, make_work: MakeAsyncWork[J, R], on_error: OnError[J, R],
    deliver: Deliver[J, R],
) -> None:
    lock = asyncio.Lock() if feed.needs_lock else None

    async def worker() -> None:
        async with make_work() as work:
            await _work_loop(feed, lock, work, on_error, deliver)

    try:
        async with asyncio.TaskGroup() as tg:
            for _ in range(workers):
                tg.create_task(worker())
    except BaseExceptionGroup as group:
        _raise_first(group)
    finally:
        await feed.aclose(shield=False)


class _QueueReader(Generic[O]):
    """The reader's side of the asyncio stream: outcomes until every worker has finished."""

    def __init__(self, outcomes: asyncio.Queue[Any]) -> None:
        self._outcomes = outcomes

    def __aiter__(self) -> _QueueReader[O]:
        return self

    async def __anext__(self) -> O:
        await settle_asyncio(self._outcomes)  # where anyio's cancellation can reach the reader
        outcome = await self._outcomes.get()
        if outcome is _DRY:
            raise StopAsyncIteration
        result: O = outcome
        return result


@asynccontextmanager
async def stream_asyncio(
    feed: Feed[J], workers: int, make_work: MakeAsyncWork[J, R], on_error: OnError[J, R],
    outcome: Callable[[int, J, R], O], buffer: int,
) -> AsyncIterator[AsyncIterator[O]]:
    outcomes: asyncio.Queue[Any] = asyncio.Queue(buffer)
    lock = asyncio.Lock() if feed.needs_lock else None
    running = workers

    async def worker() -> None:
        nonlocal running
        async with make_work() as work:
            await _stream_loop(feed, lock, work, on_error, outcome, outcomes.put)
        running -= 1
        if running == 0:
            await outcomes.put(_DRY)  # the last worker out closes the stream

    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(worker()) for _ in range(workers)]
            try:
                yield _QueueReader(outcomes)
            finally:
                # The reader is done, early or not: stop the workers before the block is left.
                for task in tasks:
                    task.cancel()
    except BaseExceptionGroup as group:
        _raise_first(group)
    finally:
        await feed.aclose(shield=False)


# --- anyio ------------------------------------------------------------------------------------

async def gather_anyio(
    feed: Feed[J], workers: int, make_work: MakeAsyncWork[J, R], on_error: OnError[J, R],
    deliver: Deliver[J, R],
) -> None:
    lock = anyio.Lock(fast_acquire=True) if feed.needs_lock else None

    async def worker() -> None:
        async with make_work() as work:
            await _work_loop(feed, lock, work, on_error, deliver)

    try:
        async with anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(worker)
    except BaseExceptionGroup as group:
        _raise_first(group)
    finally:
        await feed.aclose(shield=True)


@asynccontextmanager
async def stream_anyio(
    feed: Feed[J], workers: int, make_work: MakeAsyncWork[J, R], on_error: OnError[J, R],
    outcome: Callable[[int, J, R], O], buffer: int,
) -> AsyncIterator[MemoryObjectReceiveStream[O]]:
    send, receive = anyio.create_memory_object_stream[O](buffer)
    lock = anyio.Lock(fast_acquire=True) if feed.needs_lock else None

    async def worker(out: Any) -> None:
        async with out, make_work() as work:  # the last clone closed ends the reader's loop
            await _stream_loop(feed, lock, work, on_error, outcome, out.send)

    try:
        async with anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(worker, send.clone())
            send.close()
            try:
                yield receive
            finally:
                # Cancel before closing the reader's end, so that no worker meets a closed
                # stream (BrokenResourceError) on its way out.
                tg.cancel_scope.cancel()
                receive.close()
    except BaseExceptionGroup as group:
        _raise_first(group)
    finally:
        await feed.aclose(shield=True)


# --- threads ----------------------------------------------------------------------------------

def gather_threads(
    feed: Feed[J], workers: int, make_work: MakeSyncWork[J, R], on_error: OnError[J, R],
    deliver: Deliver[J, R], *, name: str = "worker",
) -> None:
    """The thread workers, each result handed to *deliver* (called under a lock)."""
    with stream_threads(feed, workers, make_work, on_error, _nothing, 0, name=name,
                        deliver=deliver) as outcomes:
        for _ in outcomes:  # deliver took every outcome: nothing comes through here
            pass


@contextmanager
def stream_threads(
    feed: Feed[J], workers: int, make_work: MakeSyncWork[J, R], on_error: OnError[J, R],
    outcome: Callable[[int, J, R], O], buffer: int, *, name: str = "worker",
    deliver: Deliver[J, R] | None = None,
) -> Iterator[Iterator[O]]:
    outcomes: queue.Queue[Any] = queue.Queue(buffer)
    lock = threading.Lock()  # guards the feed
    stop = threading.Event()  # set on the first failure, or when the reader leaves
    failures: list[BaseException] = []

    # --8<-- [start:threads]
    def worker() -> None:
        try:
            with make_work() as work:
                while not stop.is_set():
                    with lock:
                        pair = feed.next_sync()
                    if pair is None:
                        break
                    index, item = pair
                    try:
                        value = work(index, item)
                    except Exception as exc:
                        value = on_error(index, item, exc)
                    if deliver is None:
                        outcomes.put(outcome(index, item, value))
                    else:
                        with lock:
                            deliver(index, item, value)
        except BaseException as exc:  # a thread cannot raise to its caller: hand it over
            failures.append(exc)
            stop.set()
        finally:
            outcomes.put(_DRY)
    # --8<-- [end:threads]

    def read() -> Iterator[O]:
        finished = 0
        while finished < workers:
            got = outcomes.get()
            if got is _DRY:
                finished += 1
            elif not failures:
                yield got
        if failures:
            raise failures[0]

    threads = [threading.Thread(target=worker, name=f"{name}-{i}") for i in range(workers)]
    for t in threads:
        t.start()
    try:
        yield read()
    finally:
        # The reader is done, early or not: no new item starts, and what is queued is
        # drained so that no worker stays blocked on a full buffer. Running work finishes.
        stop.set()
        for t in threads:
            while t.is_alive():
                _drain(outcomes)
                t.join(0.01)


def _nothing(index: int, item: object, value: object) -> None:
    return None


def _drain(outcomes: queue.Queue[Any]) -> None:
    try:
        while True:
            outcomes.get_nowait()
    except queue.Empty:
        pass
