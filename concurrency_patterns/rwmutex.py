"""RWMutex: many readers or one writer — Go's ``sync.RWMutex``.

When a value is read far more often than it is written (a configuration, a cache), a plain
mutex makes readers queue behind each other for no reason. A reader–writer lock lets any number
of readers in together and gives a writer the lock alone.

The hard part is fairness. If readers may always join readers already inside, a steady stream
of them keeps a writer out forever. These locks follow Go's policy, which starves neither side:

* A reader gets in at once unless a writer holds the lock **or is waiting for it**. So once a
  writer waits, new readers queue behind it, and the readers already inside drain out.
* When a writer unlocks, every reader that queued while it waited or held the lock gets in
  together, before the next writer. Writers get the lock one at a time, in arrival order.

The contract, for every variant:

* ``rlock()``/``runlock()`` and ``lock()``/``unlock()`` as in Go; ``reading()`` and
  ``writing()`` are context managers that do both.
* ``runlock()`` or ``unlock()`` of a lock not held that way raises ``RuntimeError``.
* A task cancelled while waiting leaves no trace: it does not get the lock, and if it was the
  writer that kept readers waiting, those readers get in. (If the lock had already been handed
  to it when the cancellation arrived, it is released on its behalf.)

The lock is not reentrant, and a reader cannot upgrade to a writer: ``rlock()`` then ``lock()``
in one task waits forever, as in Go.

Which to pick: the lock of your model. ``anyio.RWMutex`` runs on asyncio and trio.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Awaitable, Callable, Generator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Any, cast

from ._core.fastpath import READY
from ._core.lazy import lazy

if TYPE_CHECKING:
    import asyncio

    import anyio
else:
    anyio = lazy(globals(), "anyio")
    asyncio = lazy(globals(), "asyncio")


__all__ = [
    "AnyioRWMutex",
    "AsyncioRWMutex",
    "ThreadRWMutex",
]


class _AsyncReading:
    """``async with rw.reading():``, with rlock's free path taken inline: a block that gets
    in at once (no writer holds or waits) costs no coroutine, on entry or exit."""

    __slots__ = ("_rw",)

    def __init__(self, rw: _AsyncRWMutex) -> None:
        self._rw = rw

    def __aenter__(self) -> Awaitable[None]:
        rw = self._rw
        if not rw._writer and not rw._writers:  # rlock()'s first lines
            rw._readers += 1
            return READY
        return rw.rlock()

    def __aexit__(self, *exc: object) -> Awaitable[None]:
        rw = self._rw
        if rw._readers > 1 or (rw._readers == 1 and not rw._writers):
            rw._readers -= 1  # runlock()'s path when nobody is to be let in, inlined
        else:
            rw.runlock()
        return READY


class _AsyncWriting:
    """``async with rw.writing():``, with lock's free path taken inline."""

    __slots__ = ("_rw",)

    def __init__(self, rw: _AsyncRWMutex) -> None:
        self._rw = rw

    def __aenter__(self) -> Awaitable[None]:
        rw = self._rw
        if not rw._writer and not rw._readers and not rw._writers:  # lock()'s first lines
            rw._writer = True
            return READY
        return rw.lock()

    def __aexit__(self, *exc: object) -> Awaitable[None]:
        self._rw.unlock()
        return READY


class _Held:
    """``with``: the same for threads."""

    __slots__ = ("_acquire", "_release")

    def __init__(self, acquire: Callable[[], object], release: Callable[[], None]) -> None:
        self._acquire, self._release = acquire, release

    def __enter__(self) -> None:
        self._acquire()

    def __exit__(self, *exc: object) -> None:
        self._release()


class _Batch:
    """The readers queued behind a writer; they get in together. *waiters* holds what they
    wait on: one future each (asyncio), or one event they share (anyio)."""

    __slots__ = ("count", "waiters")

    def __init__(self) -> None:
        self.count = 0
        self.waiters: list[Any] = []


def _describe(rw: object, readers: int, writer: bool, writers: int, waiting: int) -> str:
    held = "write-locked" if writer else f"{readers} reader(s) inside" if readers else "unlocked"
    return f"<{type(rw).__name__} {held}, {writers} writer(s) and {waiting} reader(s) waiting>"


class _AsyncRWMutex:
    """The policy above for one event loop; subclasses say what a waiter is.

    Every state change happens between awaits, so one thread needs no lock for the state. Locks
    are *handed over*: an unlock that lets a waiter in updates the state on the waiter's behalf
    and then wakes it, so nobody can slip in between. A waiter whose task was cancelled may
    still be queued when the lock is handed on: ``_wake`` says whether it took the lock, and
    the waiter's own ``except`` block gives back a lock it took as the cancellation arrived.
    """

    def __init__(self) -> None:
        self._readers = 0  # readers inside
        self._writer = False  # a writer inside
        self._writers: deque[Any] = deque()  # writers waiting, in arrival order
        self._batch = _Batch()  # readers waiting
        # The context managers keep no state of their own, so one of each serves every block.
        self._reading = _AsyncReading(self)
        self._writing = _AsyncWriting(self)

    # What a waiter is, per model: the subclasses say. A waiter is awaited until it is let in.
    def _writer_waiter(self) -> Any:
        raise NotImplementedError

    def _reader_waiter(self, batch: _Batch) -> Any:
        raise NotImplementedError

    def _wake(self, waiter: Any) -> bool:
        """Let *waiter* in; False if it had stopped waiting (cancelled), and so was not."""
        raise NotImplementedError

    def _woken(self, waiter: Any) -> bool:
        raise NotImplementedError

    def _let_in(self, batch: _Batch) -> int:
        """Wake the readers of *batch*; how many were let in."""
        raise NotImplementedError

    async def rlock(self) -> None:
        """Wait for a read lock, then hold it alongside any other readers.

        A reader gets in at once unless a writer holds the lock or waits for it; otherwise it
        waits for that writer's turn to end, and then gets in with every reader that queued
        meanwhile. A task cancelled while it waits does not get the lock and leaves no trace.
        """
        if not self._writer and not self._writers:
            self._readers += 1
            return
        batch = self._batch
        batch.count += 1
        waiter = self._reader_waiter(batch)
        try:
            await waiter
        except BaseException:
            if self._woken(waiter):
                self.runlock()  # let in as the cancellation arrived: give the lock back
            else:
                batch.count -= 1
            raise

    def runlock(self) -> None:
        """Release a read lock; the last reader out lets the next writer in.

        Raises:
            RuntimeError: no read lock is held.
        """
        if self._readers == 0:
            raise RuntimeError("runlock of unlocked RWMutex")
        self._readers -= 1
        if self._readers == 0 and self._writers:
            self._hand_to_writer()

    async def lock(self) -> None:
        """Wait for the write lock, then hold it alone.

        Writers get the lock one at a time, in arrival order. Once a writer waits, new readers
        queue behind it, so a stream of readers cannot starve it. A task cancelled while it
        waits does not get the lock, and readers that were queued only behind it get in.
        """
        if not self._writer and not self._readers and not self._writers:
            self._writer = True
            return
        turn = self._writer_waiter()
        self._writers.append(turn)
        try:
            await turn
        except BaseException:
            if self._woken(turn):
                self.unlock()
            else:
                if turn in self._writers:  # not passed over by a hand-over already
                    self._writers.remove(turn)
                if not self._writer and not self._writers:
                    self._admit_readers()  # readers were only waiting for this writer
            raise

    def unlock(self) -> None:
        """Release the write lock: the readers that queued meanwhile go first, then the next writer.

        Raises:
            RuntimeError: the write lock is not held.
        """
        if not self._writer:
            raise RuntimeError("unlock of unlocked RWMutex")
        self._writer = False
        if self._batch.count:
            self._admit_readers()  # readers that waited go first, then the next writer
        elif self._writers:
            self._hand_to_writer()

    def _admit_readers(self) -> None:
        batch, self._batch = self._batch, _Batch()
        admitted = self._let_in(batch)
        self._readers += admitted
        if not admitted and self._writers:  # every reader had been cancelled
            self._hand_to_writer()

    def _hand_to_writer(self) -> None:
        while self._writers:
            if self._wake(self._writers.popleft()):
                self._writer = True
                return
        if self._batch.count:  # every writer had been cancelled: the readers behind them
            self._admit_readers()

    def __repr__(self) -> str:
        return _describe(self, self._readers, self._writer, len(self._writers), self._batch.count)

    def reading(self) -> AbstractAsyncContextManager[None]:
        """``async with rw.reading():`` holds a read lock for the block."""
        return cast("AbstractAsyncContextManager[None]", self._reading)

    def writing(self) -> AbstractAsyncContextManager[None]:
        """``async with rw.writing():`` holds the write lock for the block."""
        return cast("AbstractAsyncContextManager[None]", self._writing)


class AsyncioRWMutex(_AsyncRWMutex):
    """A reader–writer lock for asyncio tasks: many readers or one writer, neither starved.

    ``async with rw.reading():`` and ``async with rw.writing():`` hold it for a block;
    ``rlock``/``runlock`` and ``lock``/``unlock`` are Go's names. Go's policy, which starves
    neither side: a reader gets in at once unless a writer holds the lock or waits for it;
    when a writer unlocks, every reader that queued meanwhile gets in together, before the
    next writer; writers get it one at a time, in arrival order. A task cancelled while it
    waits leaves no trace. Any task may release a lock another task took, as in Go. It is not
    reentrant, and a reader cannot upgrade: ``rlock()`` then ``lock()`` in one task waits
    forever. A new lock is unlocked; ``repr(rw)`` shows the readers inside, whether a writer
    holds it, and who waits. Each waiting task waits on a future of its own.
    """

    # A future each, not an asyncio.Event: Event.wait() is a coroutine that makes a future
    # anyway, and takes it out of a list when it wakes.
    def _writer_waiter(self) -> asyncio.Future[None]:
        return asyncio.get_running_loop().create_future()

    def _reader_waiter(self, batch: _Batch) -> asyncio.Future[None]:
        waiter = asyncio.get_running_loop().create_future()
        batch.waiters.append(waiter)
        return waiter

    def _wake(self, waiter: asyncio.Future[None]) -> bool:
        if waiter.done():  # cancelled while it waited
            return False
        waiter.set_result(None)
        return True

    def _woken(self, waiter: asyncio.Future[None]) -> bool:
        return waiter.done() and not waiter.cancelled()

    def _let_in(self, batch: _Batch) -> int:
        # Each future still waiting is one reader let in. A cancelled one is done already,
        # whether or not its task has yet run the except block that uncounts it.
        admitted = 0
        for waiter in batch.waiters:  # _wake(), inlined: one call fewer per reader
            if not waiter.done():
                waiter.set_result(None)
                admitted += 1
        return admitted


class AnyioRWMutex(_AsyncRWMutex):
    """A reader–writer lock for anyio tasks, on asyncio or trio: many readers or one writer.

    ``async with rw.reading():`` and ``async with rw.writing():`` hold it for a block;
    ``rlock``/``runlock`` and ``lock``/``unlock`` are Go's names. Go's policy, which starves
    neither side: a reader gets in at once unless a writer holds the lock or waits for it;
    when a writer unlocks, every reader that queued meanwhile gets in together, before the
    next writer; writers get it one at a time, in arrival order. A task cancelled while it
    waits leaves no trace. Any task may release a lock another task took, as in Go. It is not
    reentrant, and a reader cannot upgrade: ``rlock()`` then ``lock()`` in one task waits
    forever. A new lock is unlocked; ``repr(rw)`` shows the readers inside, whether a writer
    holds it, and who waits. Each writer waits on an ``anyio.Event``; the readers queued
    behind a writer share one.
    """

    # A cancelled task runs its except block before it can be let in: an event set on its
    # behalf meanwhile is seen there (``_woken``), and the lock given back.
    def _writer_waiter(self) -> _Gate:
        return _Gate()

    def _reader_waiter(self, batch: _Batch) -> _Gate:
        if not batch.waiters:
            batch.waiters.append(_Gate())
        return cast(_Gate, batch.waiters[0])

    def _wake(self, waiter: _Gate) -> bool:
        waiter.event.set()
        return True

    def _woken(self, waiter: _Gate) -> bool:
        return waiter.event.is_set()

    def _let_in(self, batch: _Batch) -> int:
        # Every reader still counted is let in; one cancelled meanwhile sees the event set
        # in its except block, and gives its lock back.
        for waiter in batch.waiters:
            waiter.event.set()
        return batch.count


class _Gate:
    """An ``anyio.Event`` to await, as an asyncio future is awaited; the readers of a batch
    may all await one."""

    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = anyio.Event()

    def __await__(self) -> Generator[Any, None, None]:
        return self.event.wait().__await__()


class ThreadRWMutex:
    """A reader–writer lock for threads: many readers or one writer, neither starved.

    ``with rw.reading():`` and ``with rw.writing():`` hold it for a block; ``rlock``/``runlock``
    and ``lock``/``unlock`` are Go's names. Go's policy, which starves neither side: a reader
    gets in at once unless a writer holds the lock or waits for it; when a writer unlocks,
    every reader that queued meanwhile gets in together, before the next writer; writers get
    it one at a time, in arrival order. A blocked thread cannot be cancelled from outside.
    It is not reentrant, and a reader cannot upgrade. A new lock is unlocked; ``repr(rw)``
    shows its state.
    """

    # One condition variable guards the state. A waiting reader is let in when its batch
    # number moves on; a waiting writer, when the lock is granted to its ticket.

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers: deque[int] = deque()  # tickets of waiting writers, in arrival order
        self._tickets = 0
        self._granted: int | None = None  # the ticket the lock was just handed to
        self._batch = 0  # number of the current batch of waiting readers
        self._batch_count = 0
        self._reading = _Held(self.rlock, self.runlock)  # no state of their own: one serves all
        self._writing = _Held(self.lock, self.unlock)

    def rlock(self) -> None:
        """Block until a read lock is held, alongside any other readers.

        The same policy as the async locks: a reader waits while a writer holds the lock or
        waits for it. A blocked thread cannot be cancelled.
        """
        with self._cond:
            if not self._writer and not self._writers:
                self._readers += 1
                return
            batch = self._batch
            self._batch_count += 1
            self._cond.wait_for(lambda: self._batch != batch)

    def runlock(self) -> None:
        """Release a read lock; the last reader out lets the next writer in.

        Raises:
            RuntimeError: no read lock is held.
        """
        with self._cond:
            if self._readers == 0:
                raise RuntimeError("runlock of unlocked RWMutex")
            self._readers -= 1
            if self._readers == 0 and self._writers:
                self._hand_to_writer()

    def lock(self) -> None:
        """Block until the write lock is held, alone; writers are served in arrival order."""
        with self._cond:
            if not self._writer and not self._readers and not self._writers:
                self._writer = True
                return
            ticket = self._tickets
            self._tickets += 1
            self._writers.append(ticket)
            self._cond.wait_for(lambda: self._granted == ticket)
            self._granted = None

    def unlock(self) -> None:
        """Release the write lock: the readers that queued meanwhile go first, then the next writer.

        Raises:
            RuntimeError: the write lock is not held.
        """
        with self._cond:
            if not self._writer:
                raise RuntimeError("unlock of unlocked RWMutex")
            self._writer = False
            if self._batch_count:  # readers that waited go first, then the next writer
                self._readers += self._batch_count
                self._batch_count = 0
                self._batch += 1
                self._cond.notify_all()
            elif self._writers:
                self._hand_to_writer()

    def _hand_to_writer(self) -> None:
        self._writer = True
        self._granted = self._writers.popleft()
        self._cond.notify_all()

    def __repr__(self) -> str:
        return _describe(self, self._readers, self._writer, len(self._writers), self._batch_count)

    def reading(self) -> AbstractContextManager[None]:
        """``with rw.reading():`` holds a read lock for the block."""
        return self._reading

    def writing(self) -> AbstractContextManager[None]:
        """``with rw.writing():`` holds the write lock for the block."""
        return self._writing
