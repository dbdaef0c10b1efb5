"""Producer–consumer: P producers feed C consumers through a bounded queue.

The common asyncio idiom is an ``asyncio.Queue`` with a ``None`` sentinel that each consumer
puts back for the next one; Go builds it with a buffered channel that the producer side closes
(``close(ch)``) and consumers drain with ``for item := range ch``. The bounded buffer gives
*backpressure*: a producer that gets ahead waits for a free slot instead of filling memory.

Closing is the clean way to say "no more items": a consumer cannot confuse it with an item
(``None`` may be a real item) and nobody has to count sentinels. This module shows both:

* ``produce_consume_asyncio_sentinel`` — the sentinel idiom, done right: one private end
  marker per consumer, put after every producer has finished. A teaching variant, in no
  namespace.
* ``asyncio.produce_consume`` — closing the queue: ``asyncio.Queue.shutdown()`` on Python 3.13+
  (on 3.11/3.12, where it does not exist, the close is emulated with end markers).
* ``anyio.produce_consume`` — anyio memory object streams, the closest thing to a Go channel:
  each producer holds a clone of the send side, and when the last clone is closed every
  consumer's ``async for`` ends. Runs on asyncio and trio: the one to import.
* ``threads.produce_consume`` — ``queue.Queue`` and threads, for blocking code
  (``Queue.shutdown()`` on 3.13+, end markers before).
* ``produce_consume_from_threads`` — blocking producers in threads, async consumers on the
  event loop (asyncio or trio), over a ``culsans.Queue``: the queue that crosses between
  threads and the loop, with a blocking side and an awaitable side.

The contract, for every variant:

* Every item a producer takes from its source is consumed **exactly once**.
* The queue never holds more than ``maxsize`` items.
* If a producer or a consumer raises, the others stop and ``ProducerConsumerError`` is raised. Its
  ``unprocessed`` lists every item taken from a source but not consumed — nothing is silently
  lost — and the original exception is its ``__cause__``.
* If the caller cancels, every task stops, and ``on_unprocessed`` (if given) receives the items
  that were taken but not consumed.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._core import check_callable, check_positive_int, unwrap_group
from ._core.fastpath import gil_enabled
from ._core.lazy import lazy
from ._core.queues import (
    END,
    Closed,
    asyncio_closed,
    close_asyncio,
    close_threads,
    get_threads,
)
from ._core.workers import close_async

if TYPE_CHECKING:
    import asyncio

    import anyio
    import culsans
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
else:
    anyio = lazy(globals(), "anyio")
    asyncio = lazy(globals(), "asyncio")
    culsans = lazy(globals(), "culsans", extra="bridge")

__all__ = [
    "ProducerConsumerError",
    "produce_consume_anyio",
    "produce_consume_asyncio",
    "produce_consume_asyncio_sentinel",
    "produce_consume_from_threads",
    "produce_consume_threads",
]

T = TypeVar("T")
R = TypeVar("R")

Source = Iterable[T] | AsyncIterable[T]
OnUnprocessed = Callable[[list[T]], object]


class ProducerConsumerError(Exception):
    """A producer or a consumer raised, and the pipeline stopped.

    Attributes:
        unprocessed: the items taken from a source but not consumed, in the order taken.
        consumed: how many items were consumed before the pipeline stopped.

    The exception that stopped the pipeline is ``__cause__``.
    """

    def __init__(self, cause: BaseException, unprocessed: list[Any], consumed: int) -> None:
        super().__init__(
            f"pipeline stopped by {type(cause).__name__}: {cause} "
            f"({consumed} item(s) consumed, {len(unprocessed)} unprocessed)"
        )
        self.unprocessed = unprocessed
        self.consumed = consumed
        self.__cause__ = cause


class _Ledger(Generic[T]):
    """Every item between "taken from a source" and "consumed", so none can vanish.

    Each item gets a ticket when a producer takes it; a consumer hands the ticket back when it has
    processed the item. Whatever holds a ticket when the pipeline stops is unprocessed — whether
    it was in the queue, in a producer blocked on a full queue, or in a consumer's hands.

    This one takes no lock: for tasks on one loop, and for threads while the GIL is on, since
    ``next()`` of an ``itertools.count`` and a dict's single store or delete are each one step
    the GIL never splits. ``done`` is one delete, which a hot loop may write out itself
    (``del ledger.pending[ticket]``). ``consumed`` is not counted as items go: ``settle()``
    works it out once every task and thread has finished, as what was taken and is no longer
    pending.
    """

    def __init__(self) -> None:
        self.pending: dict[int, T] = {}
        self._count = itertools.count()
        self.consumed = 0
        self._settled = False

    def take(self, item: T) -> int:
        ticket = next(self._count)
        self.pending[ticket] = item
        return ticket

    def done(self, ticket: int) -> None:
        del self.pending[ticket]

    def unprocessed(self) -> list[T]:
        # Two producers may store out of ticket order: the tickets give the order taken.
        return [self.pending[ticket] for ticket in sorted(self.pending)]

    def settle(self) -> None:
        """Once every task and thread that took or consumed is done: make ``consumed`` final."""
        if not self._settled:
            self._settled = True
            self.consumed = self._taken() - len(self.pending)

    def _taken(self) -> int:
        return next(self._count)  # the next ticket: how many were handed out


def _thread_ledger() -> _Ledger[Any]:
    """The ledger for a call whose producers (or consumers) are threads: without a lock while
    the GIL is on; with one on a free-threaded build, where ``itertools.count`` is not atomic."""
    if gil_enabled():
        return _Ledger()
    return _LockedLedger()


class _LockedLedger(_Ledger[T]):
    """The ledger for threads on a free-threaded build: tickets from a counter under a lock.
    Nothing under the lock calls Python code: with the GIL (should an import turn it back on),
    a thread made to let go of it inside the lock sets every other producer and consumer
    queueing for it through the OS (see acquire_threads in _core/rate.py)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._tickets = 0

    def take(self, item: T) -> int:
        with self._lock:
            ticket = self._tickets
            self._tickets = ticket + 1
            self.pending[ticket] = item
        return ticket

    def done(self, ticket: int) -> None:
        with self._lock:
            del self.pending[ticket]

    def unprocessed(self) -> list[T]:
        with self._lock:
            return super().unprocessed()

    def _taken(self) -> int:
        return self._tickets


_END: Any = object()  # private end marker: no real item can be this object


async def produce_consume_asyncio_sentinel(
    sources: Sequence[Source[T]], consume: Callable[[T], Awaitable[R]], *,
    consumers: int = 2, maxsize: int = 16, on_unprocessed: OnUnprocessed[T] | None = None,
) -> list[R]:
    """Run one producer per source and *consumers* consumers over an ``asyncio.Queue``.

    The end of input is signalled the sentinel way, the only one before Python 3.13: end
    markers, one per consumer, put after every producer has finished, with a private marker so
    ``None`` stays a valid item. A teaching variant, in no namespace: ``produce_consume`` closes
    the queue instead. Cancelling the call cancels every producer and consumer before the
    cancellation goes on.

    Args:
        sources: one iterable or async iterable per producer (at least one), each
            read by its own task.
        consume: the async function each consumer applies to each item.
        consumers: how many consumers (>= 1), each a task.
        maxsize: the queue's capacity (>= 1); producers wait while it is full.
        on_unprocessed: called with the unprocessed items if the call ends early, whether by an
            error or by cancellation.

    Returns:
        What *consume* returned for each item, in the order the items finished.

    Raises:
        ProducerConsumerError: a producer or consumer raised; it carries the first error (also
            its ``__cause__``), every item taken from a source but not consumed
            (``unprocessed``), and how many were consumed.
        TypeError, ValueError: for bad arguments, before anything starts.
    """
    _check_args(sources, consume, consumers, maxsize)
    ledger: _Ledger[T] = _Ledger()
    q: asyncio.Queue[Any] = asyncio.Queue(maxsize)
    results: list[R] = []

    async def consumer() -> None:
        while (entry := await q.get()) is not _END:
            ticket, item = entry
            results.append(await consume(item))
            ledger.done(ticket)

    async def run() -> None:
        async with asyncio.TaskGroup() as tg:
            for _ in range(consumers):
                tg.create_task(consumer())
            async with asyncio.TaskGroup() as producers:
                for source in sources:
                    producers.create_task(_produce(source, ledger, q.put, shield=False))
            # Every producer is done: one marker per consumer ends them all.
            for _ in range(consumers):
                await q.put(_END)

    await _supervise(run(), ledger, on_unprocessed)
    return results


async def produce_consume_asyncio(
    sources: Sequence[Source[T]], consume: Callable[[T], Awaitable[R]], *,
    consumers: int = 2, maxsize: int = 16, on_unprocessed: OnUnprocessed[T] | None = None,
) -> list[R]:
    """Run one producer per source and *consumers* consumers over a closable ``asyncio.Queue``.

    When the last producer finishes, the queue is shut down (Go's ``close(ch)``): consumers
    drain what is left and stop. Cancelling the call cancels every producer and consumer
    before the cancellation goes on; *on_unprocessed* then receives the items taken from a
    source but not consumed.

    Args:
        sources: one iterable or async iterable per producer (at least one).
        consume: the async function each consumer applies to each item.
        consumers: how many consumer tasks (>= 1).
        maxsize: the queue's capacity (>= 1); producers wait while it is full.
        on_unprocessed: called with the unprocessed items if the call ends early, whether by an
            error or by cancellation.

    Returns:
        What *consume* returned for each item, in the order the items finished.

    Raises:
        ProducerConsumerError: a producer or consumer raised; see ``unprocessed``.
        TypeError, ValueError: for bad arguments, before anything starts.
    """
    _check_args(sources, consume, consumers, maxsize)
    ledger: _Ledger[T] = _Ledger()
    q: asyncio.Queue[tuple[int, T]] = asyncio.Queue(maxsize)
    results: list[R] = []
    closed, pending = asyncio_closed(), ledger.pending

    async def consumer() -> None:
        # get_asyncio and ledger.done, written out: no Python call per item but the user's.
        get = q.get
        while True:
            try:
                entry = await get()
            except closed:  # closed and drained (3.13+): no more items, ever
                return
            if entry is END:  # the same, before 3.13
                return
            ticket, item = entry
            results.append(await consume(item))
            del pending[ticket]

    async def run() -> None:
        async with asyncio.TaskGroup() as tg:
            for _ in range(consumers):
                tg.create_task(consumer())
            async with asyncio.TaskGroup() as producers:
                for source in sources:
                    producers.create_task(_produce(source, ledger, q.put, shield=False))
            await close_asyncio(q, consumers)

    await _supervise(run(), ledger, on_unprocessed)
    return results



async def produce_consume_anyio(
    sources: Sequence[Source[T]], consume: Callable[[T], Awaitable[R]], *,
    consumers: int = 2, maxsize: int = 16, on_unprocessed: OnUnprocessed[T] | None = None,
) -> list[R]:
    """Run one producer per source and *consumers* consumers over an anyio memory object stream.

    Each producer owns a clone of the send side and closes it when its source is exhausted;
    when the last clone closes, every consumer's ``async for`` ends: Go's ``close(ch)`` and
    ``range ch``. Runs on asyncio and trio. Cancelling the call (a cancel scope, a cancelled
    task group) cancels every producer and consumer before the cancellation goes on;
    *on_unprocessed* then receives the items taken from a source but not consumed.

    Args:
        sources: one iterable or async iterable per producer (at least one), each
            read by its own task.
        consume: the async function each consumer applies to each item.
        consumers: how many consumers (>= 1), each a task.
        maxsize: the queue's capacity (>= 1); producers wait while it is full.
        on_unprocessed: called with the unprocessed items if the call ends early, whether by an
            error or by cancellation.

    Returns:
        What *consume* returned for each item, in the order the items finished.

    Raises:
        ProducerConsumerError: a producer or consumer raised; it carries the first error (also
            its ``__cause__``), every item taken from a source but not consumed
            (``unprocessed``), and how many were consumed.
        TypeError, ValueError: for bad arguments, before anything starts.
    """
    _check_args(sources, consume, consumers, maxsize)
    ledger: _Ledger[T] = _Ledger()
    send, receive = anyio.create_memory_object_stream[tuple[int, T]](maxsize)
    results: list[R] = []

    async def producer(source: Source[T], out: MemoryObjectSendStream[tuple[int, T]]) -> None:
        async with out:  # closing this clone is this producer's close(ch)
            await _produce(source, ledger, partial(_send, out), shield=True)

    async def consumer(inbox: MemoryObjectReceiveStream[tuple[int, T]]) -> None:
        async with inbox:
            # `async for ticket, item in inbox:` reads the same; _receive skips a trip through
            # the scheduler when an item is already waiting (see _send).
            while (entry := await _receive(inbox)) is not _END:
                ticket, item = entry
                results.append(await consume(item))
                ledger.done(ticket)

    async def run() -> None:
        async with anyio.create_task_group() as tg, send, receive:
            for _ in range(consumers):
                tg.start_soon(consumer, receive.clone())
            for source in sources:
                tg.start_soon(producer, source, send.clone())
        # Leaving the block closed the originals; only the clones keep the stream open.

    await _supervise(run(), ledger, on_unprocessed)
    return results


# Every anyio operation is a checkpoint: it passes through the scheduler once even when it need
# not wait, which costs ~7 µs per item on asyncio against ~1 µs for asyncio.Queue. Like
# asyncio.Queue, these wait only when they must; a producer that never has to wait still lets
# others run once the buffer is full, and a consumer once the buffer is empty.
async def _send(out: MemoryObjectSendStream[Any], entry: Any) -> None:
    try:
        out.send_nowait(entry)
    except anyio.WouldBlock:
        await out.send(entry)  # full: wait for room — the backpressure


async def _receive(inbox: MemoryObjectReceiveStream[Any]) -> Any:
    """The next entry, or _END once every producer has closed and the stream is drained."""
    try:
        return inbox.receive_nowait()
    except anyio.WouldBlock:
        pass
    except anyio.EndOfStream:
        return _END
    try:
        return await inbox.receive()
    except anyio.EndOfStream:
        return _END


def produce_consume_threads(
    sources: Sequence[Iterable[T]], consume: Callable[[T], R], *,
    consumers: int = 2, maxsize: int = 16, on_unprocessed: OnUnprocessed[T] | None = None,
) -> list[R]:
    """Run one producer thread per source and *consumers* consumer threads over a ``queue.Queue``.

    When the last producer finishes, the queue is closed (end markers, one per consumer):
    consumers drain what is left and stop. A thread cannot be cancelled, so when one raises the
    others are *asked* to stop: producers take no new items, and consumers keep draining the
    queue without processing, so that no producer stays blocked on a full queue. Every thread
    is joined before this returns or raises.

    Args:
        sources: one iterable per producer (at least one), each
            read by its own thread.
        consume: the plain function each consumer applies to each item.
        consumers: how many consumers (>= 1), each a thread.
        maxsize: the queue's capacity (>= 1); producers wait while it is full.
        on_unprocessed: called with the unprocessed items if the call ends early, whether by an
            error or by cancellation.

    Returns:
        What *consume* returned for each item, in the order the items finished.

    Raises:
        ProducerConsumerError: a producer or consumer raised; it carries the first error (also
            its ``__cause__``), every item taken from a source but not consumed
            (``unprocessed``), and how many were consumed.
        TypeError, ValueError: for bad arguments, before anything starts.
    """
    _check_args(sources, consume, consumers, maxsize, sync=True)
    ledger: _Ledger[T] = _thread_ledger()
    q: queue.Queue[Any] = queue.Queue(maxsize)
    results: list[R] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def fail(exc: BaseException) -> None:
        failures.append(exc)
        stop.set()

    # --8<-- [start:threads]
    def producer(source: Iterable[T]) -> None:
        try:
            items = iter(source)
            # Look at stop *before* taking the next item, so no item is taken and then dropped.
            while not stop.is_set() and (item := next(items, _END)) is not _END:
                q.put((ledger.take(item), item))
        except BaseException as exc:
            fail(exc)

    def consumer() -> None:
        # A consumer never leaves before the end marker, even after a failure: it keeps
        # draining without processing, so that no producer stays blocked on a full queue.
        while True:
            try:
                ticket, item = get_threads(q)
            except Closed:  # closed and drained
                return
            if stop.is_set():
                continue  # the ledger still holds the item: it is reported as unprocessed
            try:
                results.append(consume(item))
            except BaseException as exc:
                fail(exc)
                continue
            ledger.done(ticket)

    workers = [threading.Thread(target=consumer, name=f"consumer-{i}") for i in range(consumers)]
    producers = [threading.Thread(target=producer, args=(source,), name=f"producer-{i}")
                 for i, source in enumerate(sources)]
    for t in workers + producers:
        t.start()
    for t in producers:
        t.join()
    close_threads(q, consumers)
    for t in workers:
        t.join()
    # --8<-- [end:threads]
    if failures:
        ledger.settle()
        unprocessed = ledger.unprocessed()
        if on_unprocessed is not None and unprocessed:
            on_unprocessed(unprocessed)
        raise ProducerConsumerError(failures[0], unprocessed, ledger.consumed)
    return results



async def produce_consume_from_threads(
    sources: Sequence[Iterable[T]], consume: Callable[[T], Awaitable[R]], *,
    consumers: int = 2, maxsize: int = 16, on_unprocessed: OnUnprocessed[T] | None = None,
) -> list[R]:
    """Run one producer *thread* per source and *consumers* consumer tasks on the event loop.

    For sources that block: a file, a socket, a database cursor, a library with no async API.
    Each is iterated in a thread of its own, which puts the items on a ``culsans.Queue`` (a
    bounded queue with a blocking side for threads and an awaitable side for the loop, on
    asyncio and trio). When the last producer finishes it shuts the queue down, Go's
    ``close(ch)``: consumers drain what is left and stop.

    A thread cannot be cancelled. When the call is cancelled or something raises, producers
    take no new item, and one blocked on a full queue is released at once; one inside its
    source's ``next()`` finishes that call first, and the call waits for it: every producer
    thread has ended before this returns or raises.

    Args:
        sources: one plain iterable (a thread iterates it) per producer (at least one), each
            read by its own thread.
        consume: the async function each consumer applies to each item.
        consumers: how many consumers (>= 1), each a task.
        maxsize: the queue's capacity (>= 1); producers wait while it is full.
        on_unprocessed: called with the unprocessed items if the call ends early, whether by an
            error or by cancellation.

    Returns:
        What *consume* returned for each item, in the order the items finished.

    Raises:
        ProducerConsumerError: a producer or consumer raised; it carries the first error (also
            its ``__cause__``), every item taken from a source but not consumed
            (``unprocessed``), and how many were consumed.
        TypeError, ValueError: for bad arguments, before anything starts.
        MissingExtra: culsans is not installed (the ``[bridge]`` extra).
    """
    _check_args(sources, consume, consumers, maxsize, sync=True)
    ledger: _Ledger[T] = _thread_ledger()
    q: culsans.Queue[tuple[int, T]] = culsans.Queue(maxsize)
    results: list[R] = []
    failures: list[BaseException] = []
    stop = threading.Event()
    running = _Countdown(len(sources))

    # --8<-- [start:from_threads]
    def producer(source: Iterable[T]) -> None:
        try:
            items = iter(source)
            # Look at stop *before* taking the next item, so no item is taken and then dropped.
            while not stop.is_set() and (item := next(items, _END)) is not _END:
                q.sync_q.put((ledger.take(item), item))  # waits while the queue is full
        except culsans.SyncQueueShutDown:
            pass  # stopped while waiting for room: the ledger reports the item unprocessed
        except BaseException as exc:
            failures.append(exc)
            stop.set()
            q.shutdown(immediate=True)  # consumers stop at once; queued items stay owed
        finally:
            if running.done():  # the last producer out closes the queue
                q.shutdown()  # not immediate: consumers still get what is queued

    async def consumer() -> None:
        while True:
            try:
                ticket, item = await q.async_q.get()
            except culsans.AsyncQueueShutDown:  # closed and drained
                return
            results.append(await consume(item))
            ledger.done(ticket)
    # --8<-- [end:from_threads]

    async def run() -> None:
        threads = [threading.Thread(target=producer, args=(source,), name=f"producer-{i}")
                   for i, source in enumerate(sources)]
        try:
            async with anyio.create_task_group() as tg:
                for _ in range(consumers):
                    tg.start_soon(consumer)
                for t in threads:
                    t.start()
        finally:
            # Whatever ended the consumers (the close, an error, a cancellation), release
            # any producer still blocked on a full queue, and wait for every thread.
            stop.set()
            q.shutdown(immediate=True)
            await _join(threads)
        if failures:
            ledger.settle()
            raise ProducerConsumerError(failures[0], ledger.unprocessed(), ledger.consumed)

    await _supervise(run(), ledger, on_unprocessed)
    return results


class _Countdown:
    """A thread-safe count of running producers; ``done`` is true for the last one out."""

    def __init__(self, n: int) -> None:
        self._n = n
        self._lock = threading.Lock()

    def done(self) -> bool:
        with self._lock:
            self._n -= 1
            return self._n == 0


async def _join(threads: list[threading.Thread]) -> None:
    """Wait for *threads* without blocking the loop, even in a cancelled scope. A producer that
    has finished or was released ends within microseconds, so this rarely waits at all; one
    inside a blocking ``next()`` ends when that call returns."""
    with anyio.CancelScope(shield=True):
        delay = 0.0
        for t in threads:
            while t.is_alive():
                await anyio.sleep(delay)
                delay = min(max(delay * 2, 1e-4), 0.01)


# --- shared helpers ----------------------------------------------------------------------------

async def _produce(
    source: Source[T], ledger: _Ledger[T], put: Callable[[tuple[int, T]], Awaitable[None]],
    *, shield: bool,
) -> None:
    # The ticket is taken before the put: an item waiting for a free slot is already owed.
    if isinstance(source, AsyncIterable):
        items = aiter(source)
        try:
            async for item in items:
                await put((ledger.take(item), item))
        finally:
            # The call owns the iteration it started: an async generator stopped early (an
            # error, a cancellation) runs its cleanup now, in this producer, before the call
            # returns; with shield (anyio), a cancellation does not cut that cleanup short.
            await close_async(items, shield=shield)
    else:
        for item in source:
            await put((ledger.take(item), item))


async def _supervise(
    run: Awaitable[None], ledger: _Ledger[T], on_unprocessed: OnUnprocessed[T] | None,
) -> None:
    """Run the pipeline; on the way out early, account for every unprocessed item."""
    try:
        await run
    except BaseException as exc:
        ledger.settle()  # every thread has finished: run() joins them before it ends
        unprocessed = ledger.unprocessed()
        if on_unprocessed is not None and unprocessed:
            on_unprocessed(unprocessed)
        if isinstance(exc, BaseExceptionGroup):
            cause = unwrap_group(exc, Exception)
            if cause is not None:
                raise ProducerConsumerError(cause, unprocessed, ledger.consumed) from cause
        raise


def _check_args(sources: object, consume: object, consumers: object, maxsize: object, *,
                sync: bool = False) -> None:
    if isinstance(sources, str | bytes) or not isinstance(sources, Sequence):
        raise TypeError(
            f"sources must be a sequence of iterables (one per producer), "
            f"got {type(sources).__name__}"
        )
    if not sources:
        raise ValueError("sources must hold at least one iterable (one per producer)")
    for i, source in enumerate(sources):
        if not isinstance(source, Iterable | AsyncIterable):
            raise TypeError(f"sources[{i}] must be iterable, got {type(source).__name__}")
        if sync and not isinstance(source, Iterable):
            raise TypeError(f"sources[{i}] must be a plain iterable for threads, "
                            f"not an async iterable ({type(source).__name__})")
    check_callable("consume", consume)
    check_positive_int("consumers", consumers)
    # asyncio.Queue(0) and queue.Queue(0) mean *unbounded*: no backpressure at all.
    check_positive_int("maxsize", maxsize)
