"""Mutex: one task at a time in a critical section — Go's ``sync.Mutex``.

Go needs the lock because goroutines run in parallel. asyncio and trio run one task at a time,
so a plain ``counter += 1`` is already safe there — the race appears as soon as the critical
section *awaits*: another task runs at the ``await``, reads the old value, and an update is
lost. Threads need the lock for the same reason as Go, and the GIL does not remove the need: a
thread can be switched out between the read and the write of ``counter += 1``.

The classes give the Go names over each model's own lock:

* ``lock()`` waits for the mutex, ``unlock()`` releases it, and ``async with mu:`` (or
  ``with mu:``) does both — the ``mu.Lock(); defer mu.Unlock()`` of Python.
* A new mutex is unlocked, like Go's zero value.

Which to pick: the mutex of your model. ``anyio.Mutex`` runs on asyncio and trio.

Differences from Go worth knowing: ``anyio.Mutex`` belongs to the task that locked it — only
that task may unlock it — where Go lets any goroutine unlock; asyncio's and threading's locks,
like Go's, do not check. None of these is reentrant. There is no ``TryLock``: Go's own
documentation calls its correct uses rare.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING

from ._core.lazy import lazy

if TYPE_CHECKING:
    import asyncio

    import anyio
else:
    anyio = lazy(globals(), "anyio")
    asyncio = lazy(globals(), "asyncio")


__all__ = [
    "AnyioMutex",
    "AsyncioMutex",
    "ThreadMutex",
]


def _unlocked_error() -> RuntimeError:
    return RuntimeError("unlock of unlocked mutex")


class _AsyncMutex:
    """Go's mutex API over an event loop's lock; the subclasses choose asyncio's or anyio's."""

    _lock: asyncio.Lock | anyio.Lock

    def locked(self) -> bool:
        """Whether some task holds the mutex."""
        return self._lock.locked()

    async def lock(self) -> None:
        """Wait until the mutex is free, then take it.

        Waiters get the mutex in the order they asked for it. A task cancelled while it waits
        does not get the mutex and leaves no trace: the next waiter gets it instead.
        Locking a mutex this task already holds waits forever (asyncio) or raises
        ``RuntimeError`` (anyio): neither is reentrant.
        """
        await self._lock.acquire()

    def unlock(self) -> None:
        """Release the mutex, letting the longest waiter in.

        Raises:
            RuntimeError: the mutex is not locked (Go: a fatal error), or, for
                ``anyio.Mutex``, another task locked it.
        """
        if not self._lock.locked():
            raise _unlocked_error()
        self._lock.release()

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> None:
        self._lock.release()

    def __repr__(self) -> str:
        state = "locked" if self._lock.locked() else "unlocked"
        return f"<{type(self).__name__} {state}, {_waiters(self._lock)} waiting>"


def _waiters(lock: asyncio.Lock | anyio.Lock) -> int:
    # By the class's module, not isinstance: that would import the model the lock is not of.
    if type(lock).__module__.startswith("anyio"):
        return lock.statistics().tasks_waiting  # type: ignore[union-attr]
    return len(lock._waiters or ())  # type: ignore[union-attr]  # asyncio.Lock has no public count


class AsyncioMutex(_AsyncMutex):
    """A mutex for asyncio tasks, over ``asyncio.Lock``.

    Fairness: first come, first served. A new mutex is unlocked; create it anywhere (it binds
    to the event loop on first contended use). Any task may unlock it, as in Go.

    ``async with mu:`` locks and unlocks; ``repr(mu)`` shows whether it is held and how many
    tasks wait.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()


class AnyioMutex(_AsyncMutex):
    """A mutex for anyio tasks, on asyncio or trio, over ``anyio.Lock``.

    Fairness: first come, first served. Only the task that locked the mutex may unlock it
    (``unlock`` raises ``RuntimeError`` otherwise); locking it twice in one task raises
    ``RuntimeError`` instead of waiting forever.

    Args:
        fast_acquire: take a free mutex without passing through the scheduler, as asyncio's
            and Go's locks do. anyio's default checkpoints on every acquire, which costs about
            5 µs on asyncio. The price: a task that locks and unlocks in a loop with no other
            await runs without letting other tasks in. Pass ``False`` for anyio's stricter
            default.
    """

    def __init__(self, *, fast_acquire: bool = True) -> None:
        self._lock = anyio.Lock(fast_acquire=fast_acquire)


class ThreadMutex:
    """A mutex for threads, over ``threading.Lock``.

    A new mutex is unlocked. Any thread may unlock it, as in Go. It is not reentrant: locking
    it twice in one thread waits forever. Fairness is the operating system's: no order among
    waiting threads is promised.

    ``with mu:`` locks and unlocks; ``repr(mu)`` shows whether it is held.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def locked(self) -> bool:
        """Whether some thread holds the mutex."""
        return self._lock.locked()

    def lock(self, timeout: float | None = None) -> bool:
        """Block until the mutex is free and take it; with *timeout*, give up after that long.

        A blocked thread cannot be cancelled from outside: pass a *timeout* where a caller must
        be able to give up.

        Args:
            timeout: the most seconds to wait; ``None`` waits as long as it takes.

        Returns:
            ``True`` if the mutex was taken, ``False`` if *timeout* ran out first.
        """
        return self._lock.acquire(timeout=-1 if timeout is None else timeout)

    def unlock(self) -> None:
        """Release the mutex, letting one waiting thread in.

        Raises:
            RuntimeError: the mutex is not locked (Go: a fatal error).
        """
        if not self._lock.locked():
            raise _unlocked_error()
        self._lock.release()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> None:
        self._lock.release()

    def __repr__(self) -> str:
        return f"<ThreadMutex {'locked' if self._lock.locked() else 'unlocked'}>"
