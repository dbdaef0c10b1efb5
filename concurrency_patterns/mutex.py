"""Mutex: one task at a time in a critical section — Go's ``sync.Mutex``.

The articles' ``sync`` example has a thousand goroutines add one to a shared counter under a
mutex. Go needs the lock because goroutines run in parallel. asyncio and trio run one task at a
time, so a plain ``counter += 1`` is already safe there — the race appears as soon as the
critical section *awaits*: another task runs at the ``await``, reads the old value, and an update
is lost. Threads need the lock for the same reason as Go, and the GIL does not remove the need:
a thread can be switched out between the read and the write of ``counter += 1``.

The classes give the Go names over each model's own lock:

* ``lock()`` waits for the mutex, ``unlock()`` releases it, and ``async with mu:`` (or
  ``with mu:``) does both — the ``mu.Lock(); defer mu.Unlock()`` of Python.
* ``unlock()`` of an unlocked mutex raises ``RuntimeError`` (Go: a fatal error).
* A new mutex is unlocked, like Go's zero value.
* A task cancelled while waiting in ``lock()`` does not get the lock and does not leave it held.

Differences from Go worth knowing: ``AnyioMutex`` belongs to the task that locked it —
only that task may unlock it — where Go lets any goroutine unlock; asyncio's and threading's
locks, like Go's, do not check. None of these is reentrant. There is no ``TryLock``: Go's own
documentation calls its correct uses rare.

``count_asyncio``, ``count_anyio`` and ``count_threads`` are the articles' counter,
with a switch forced inside the critical section so that the lock has work to do.
"""

from __future__ import annotations

import asyncio
import threading
import time
from types import TracebackType

import anyio

from ._common import check_positive_int

__all__ = [
    "AnyioMutex",
    "AsyncioMutex",
    "ThreadMutex",
    "count_anyio",
    "count_asyncio",
    "count_threads",
]


def _unlocked_error() -> RuntimeError:
    return RuntimeError("unlock of unlocked mutex")


# --8<-- [start:asyncio]
class _AsyncMutex:
    """Go's mutex API over an event loop's lock; the subclasses choose asyncio's or anyio's."""

    _lock: asyncio.Lock | anyio.Lock

    def locked(self) -> bool:
        """Whether some task holds the mutex."""
        return self._lock.locked()

    async def lock(self) -> None:
        """Wait until the mutex is free and take it."""
        await self._lock.acquire()

    def unlock(self) -> None:
        """Release the mutex. Raises ``RuntimeError`` if it is not locked."""
        if not self._lock.locked():
            raise _unlocked_error()
        self._lock.release()

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> None:
        self._lock.release()


class AsyncioMutex(_AsyncMutex):
    """A mutex for asyncio tasks (over ``asyncio.Lock``: first come, first served)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()


async def count_asyncio(tasks: int, increments: int) -> int:
    """*tasks* tasks each add 1 to a shared counter *increments* times, under the mutex."""
    check_positive_int("tasks", tasks)
    check_positive_int("increments", increments)
    mu = AsyncioMutex()
    counter = 0

    async def work() -> None:
        nonlocal counter
        for _ in range(increments):
            async with mu:
                value = counter
                await asyncio.sleep(0)  # another task runs here: without the lock, updates vanish
                counter = value + 1

    async with asyncio.TaskGroup() as tg:
        for _ in range(tasks):
            tg.create_task(work())
    return counter
# --8<-- [end:asyncio]


# --8<-- [start:anyio]
class AnyioMutex(_AsyncMutex):
    """A mutex for anyio tasks, on asyncio or trio (over ``anyio.Lock``, which is fair).

    Only the task that locked it may unlock it (``unlock`` raises ``RuntimeError`` otherwise).

    Args:
        fast_acquire: take a free mutex without passing through the scheduler, as asyncio's
            and Go's locks do (anyio's default checkpoints on every acquire, which costs about
            5 µs on asyncio). A task that locks and unlocks in a loop with no other await then
            runs without letting others in; pass ``False`` for anyio's stricter default.
    """

    def __init__(self, *, fast_acquire: bool = True) -> None:
        self._lock = anyio.Lock(fast_acquire=fast_acquire)


async def count_anyio(tasks: int, increments: int) -> int:
    """``count_asyncio`` with anyio, on asyncio or trio."""
    check_positive_int("tasks", tasks)
    check_positive_int("increments", increments)
    mu = AnyioMutex()
    counter = 0

    async def work() -> None:
        nonlocal counter
        for _ in range(increments):
            async with mu:
                value = counter
                await anyio.lowlevel.checkpoint()  # a switch inside the critical section
                counter = value + 1

    async with anyio.create_task_group() as tg:
        for _ in range(tasks):
            tg.start_soon(work)
    return counter
# --8<-- [end:anyio]


# --8<-- [start:threads]
class ThreadMutex:
    """A mutex for threads (over ``threading.Lock``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def locked(self) -> bool:
        """Whether some thread holds the mutex."""
        return self._lock.locked()

    def lock(self, timeout: float | None = None) -> bool:
        """Block until the mutex is free and take it; with *timeout*, give up after that long.

        Returns:
            ``True`` if the mutex was taken.
        """
        return self._lock.acquire(timeout=-1 if timeout is None else timeout)

    def unlock(self) -> None:
        """Release the mutex. Raises ``RuntimeError`` if it is not locked."""
        if not self._lock.locked():
            raise _unlocked_error()
        self._lock.release()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> None:
        self._lock.release()


def count_threads(threads: int, increments: int) -> int:
    """``count_asyncio`` with threads."""
    check_positive_int("threads", threads)
    check_positive_int("increments", increments)
    mu = ThreadMutex()
    counter = 0

    def work() -> None:
        nonlocal counter
        for _ in range(increments):
            with mu:
                value = counter
                time.sleep(0)  # give up the GIL inside the critical section
                counter = value + 1

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return counter
# --8<-- [end:threads]
