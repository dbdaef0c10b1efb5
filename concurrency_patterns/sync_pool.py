"""Sync pool: reuse objects instead of building new ones — and when that is worth it.

Go's ``sync.Pool`` keeps objects for reuse, typically byte buffers in a hot HTTP handler:
``buf := pool.Get().(*bytes.Buffer); buf.Reset(); ... pool.Put(buf)``. It spares the
garbage collector the allocations, and ``b.ReportAllocs()`` shows the saving. A ``sync.Pool``
has no bound, and it may drop idle objects at any garbage collection: it is a cache for
allocations, not a pool of resources.

CPython is different. Its allocator keeps freed blocks for reuse, and reference counting frees
an object the moment it is dropped, so a fresh small object is already cheap. A pool with a
lock costs more than it saves there. A pool pays when building the object is what costs:
large buffers (a ``bytearray`` of a megabyte is a fresh ``calloc`` and zeroing), and
objects that are slow to build or to connect (parsers, compressors, connections). The
benchmark on the pattern's page shows both sides.

The pools here are **bounded**, since in Python the reason to pool is usually a resource:

* at most ``max_size`` objects exist at once. ``get()`` builds one with ``new()`` while there
  are fewer, then waits for one to be returned;
* ``put(obj)`` runs ``reset(obj)`` and makes it available again; a waiting ``get()`` receives
  it. ``borrow()`` does both around a ``with`` block;
* an object is never held by two callers at once. Putting one that is not out (a second
  ``put``, or an object from elsewhere) raises ``ValueError``;
* if ``reset`` raises, the object is dropped, not reused, and its place is freed; so is the
  place of a ``new()`` that raises;
* cancelling a ``get()`` that waits (async), or its ``timeout`` running out (threads), loses
  no object: it has taken none.

``statistics()`` says how many objects exist, are idle and are out, and how many callers
wait.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from ._core import check_callable, check_positive_int, check_positive_number
from ._core.lazy import lazy

if TYPE_CHECKING:
    import asyncio

    import anyio
else:
    anyio = lazy(globals(), "anyio")
    asyncio = lazy(globals(), "asyncio")

__all__ = ["AnyioSyncPool", "AsyncioSyncPool", "PoolStatistics", "ThreadSyncPool"]

T = TypeVar("T")


@dataclass(frozen=True)
class PoolStatistics:
    """A pool's state, for debugging, as ``SyncPool.statistics()`` returns it.

    Attributes:
        created: how many objects exist (``idle + in_use``).
        idle: how many wait in the pool.
        in_use: how many are out.
        waiting: how many callers wait for one.
        max_size: the most objects that may exist at once.
    """

    created: int
    idle: int
    in_use: int
    waiting: int
    max_size: int


_NOTHING: Any = object()  # a waiter not served yet
_BUILD: Any = object()  # a waiter handed a free place: it builds the object itself


def _not_out() -> ValueError:
    return ValueError("put() of an object that is not out of this pool "
                      "(put twice, or never got from it)")


class _Books(Generic[T]):
    """The objects: built, idle, out. Invariant: ``created == len(idle) + len(out)`` and
    ``created <= max_size``; an object is in ``idle`` or in ``out``, never both. The callers
    hold the model's lock (threads) or run on one event loop (async) around each method."""

    def __init__(self, new: Callable[[], T], reset: Callable[[T], object] | None,
                 max_size: int) -> None:
        check_callable("new", new)
        if reset is not None:
            check_callable("reset", reset)
        self.new, self.reset = new, reset
        self.max_size = check_positive_int("max_size", max_size)
        self.idle: list[T] = []
        self.out: dict[int, T] = {}  # id -> object: identity, so unhashable objects work
        self.created = 0

    def take_idle(self) -> T:
        obj = self.idle.pop()
        self.out[id(obj)] = obj
        return obj

    def give_back(self, obj: T) -> None:
        if self.out.pop(id(obj), None) is None:
            raise _not_out()

    def stats(self, waiting: int) -> PoolStatistics:
        return PoolStatistics(self.created, len(self.idle), len(self.out), waiting,
                              self.max_size)


class ThreadSyncPool(Generic[T]):
    """A bounded pool of reusable objects that threads share.

    Args:
        new: builds an object; called while fewer than *max_size* exist and none is idle.
        reset: called on each object as it is returned, before anyone else gets it.
        max_size: the most objects that exist at once (>= 1).

    Raises:
        TypeError, ValueError: for a bad argument, naming it.
    """

    def __init__(self, new: Callable[[], T], *, reset: Callable[[T], object] | None = None,
                 max_size: int) -> None:
        self._books = _Books(new, reset, max_size)
        self._lock = threading.Lock()
        self._returned = threading.Condition(self._lock)
        self._waiting = 0

    def get(self, timeout: float | None = None) -> T:
        """An idle object, a new one if there is room, or else the next one returned.

        Raises:
            TimeoutError: none came within *timeout* seconds; nothing was taken.
        """
        if timeout is not None:
            check_positive_number("timeout", timeout)
        books = self._books
        with self._lock:
            # The common cases call no Python function while they hold the lock: with the
            # GIL, a thread is made to let go of it only at such a call, and one that lets
            # go holding the lock sets every other thread queueing for it through the OS
            # (see acquire_threads in _core/rate.py).
            if books.idle and not self._waiting:  # an idle object, and nobody waiting
                obj = books.idle.pop()
                books.out[id(obj)] = obj
                return obj
            if self._waiting or books.created >= books.max_size:
                self._waiting += 1
                try:
                    ok = self._returned.wait_for(
                        lambda: books.idle or books.created < books.max_size, timeout)
                finally:
                    self._waiting -= 1
                if not ok:
                    raise TimeoutError(f"no object came back within {timeout} s")
                if books.idle:
                    return books.take_idle()
            books.created += 1  # hold the place while new() runs, outside the lock
        try:
            obj = books.new()
        except BaseException:
            with self._lock:
                books.created -= 1
                self._returned.notify()
            raise
        with self._lock:
            books.out[id(obj)] = obj
        return obj

    def put(self, obj: T) -> None:
        """Reset *obj* and return it to the pool, for the next ``get()``."""
        books = self._books
        if books.reset is None:  # nothing to run outside the lock: one trip through it
            with self._lock:
                if books.out.pop(id(obj), None) is None:  # give_back(), inlined (see get)
                    raise _not_out()
                books.idle.append(obj)
                if self._waiting:
                    self._returned.notify()
            return
        with self._lock:
            if books.out.pop(id(obj), None) is None:
                raise _not_out()
        try:
            if books.reset is not None:
                books.reset(obj)
        except BaseException:
            with self._lock:  # a broken object is dropped; its place is free again
                books.created -= 1
                self._returned.notify()
            raise
        with self._lock:
            books.idle.append(obj)
            if self._waiting:
                self._returned.notify()

    @contextmanager
    def borrow(self, timeout: float | None = None) -> Iterator[T]:
        """``get()`` for the block, ``put()`` after it, however it ends."""
        obj = self.get(timeout)
        try:
            yield obj
        finally:
            self.put(obj)

    def statistics(self) -> PoolStatistics:
        """The pool's state now: objects created, idle, in use, and callers waiting."""
        with self._lock:
            return self._books.stats(self._waiting)

    def __repr__(self) -> str:
        s = self.statistics()
        return (f"<ThreadSyncPool {s.in_use} out, {s.idle} idle of {s.max_size}, "
                f"{s.waiting} waiting>")


class _AsyncSyncPool(Generic[T]):
    """The async pools' body: one event loop, so no lock. A caller that finds no idle object
    and no room waits in line; a returned object is handed straight to the first in line (or
    the room it frees, to build one), so a newcomer cannot take it first.

    Invariants: ``_line`` holds the callers waiting, in order, and is empty whenever an object
    is idle or there is room (a caller only queues when neither is so, and every put or freed
    place serves the line first). A caller that was served counts in ``created`` and, if
    handed an object, in ``out`` before it resumes.
    """

    _name = ""

    def __init__(self, new: Callable[[], T], *, reset: Callable[[T], object] | None = None,
                 max_size: int) -> None:
        self._books = _Books(new, reset, max_size)
        self._line: deque[Any] = deque()  # waiters, first come first served

    # What a waiter is, per model: the subclasses say.
    def _new_waiter(self) -> Any:
        raise NotImplementedError

    async def _wait(self, waiter: Any) -> None:
        raise NotImplementedError

    def _serve(self, waiter: Any, value: Any) -> bool:
        """Hand *value* to *waiter*; False if it has stopped waiting (cancelled)."""
        raise NotImplementedError

    def _served(self, waiter: Any) -> Any:
        """What *waiter* was handed, or ``_NOTHING``."""
        raise NotImplementedError

    async def get(self) -> T:
        """An idle object, a new one if there is room, or else the next one returned."""
        books = self._books
        if not self._line:  # no one waits ahead: take what is here, without a trip
            if books.idle:
                return books.take_idle()
            if books.created < books.max_size:
                books.created += 1  # hold the place while new() runs
                return self._build()
        waiter = self._new_waiter()
        self._line.append(waiter)
        try:
            await self._wait(waiter)
        except BaseException:
            handed = self._served(waiter)
            if handed is _NOTHING:
                if waiter in self._line:
                    self._line.remove(waiter)
            else:  # served as the cancellation arrived: pass it on, untouched
                self._pass_on(handed)
            raise
        handed = self._served(waiter)
        if handed is _BUILD:
            return self._build()
        return cast(T, handed)

    def put(self, obj: T) -> None:
        """Reset *obj* and return it to the pool, for the next ``get()``."""
        books = self._books
        books.give_back(obj)
        try:
            if books.reset is not None:
                books.reset(obj)
        except BaseException:
            books.created -= 1  # dropped: its place is free again
            self._free_place()
            raise
        self._hand_over(obj)

    def _build(self) -> T:
        """Build an object in a place already counted in ``created``."""
        books = self._books
        try:
            obj = books.new()
        except BaseException:
            books.created -= 1
            self._free_place()
            raise
        books.out[id(obj)] = obj
        return obj

    def _hand_over(self, obj: T) -> None:
        books = self._books
        while self._line:
            waiter = self._line.popleft()
            books.out[id(obj)] = obj
            if self._serve(waiter, obj):
                return
            del books.out[id(obj)]
        books.idle.append(obj)

    def _free_place(self) -> None:
        books = self._books
        while self._line:
            waiter = self._line.popleft()
            books.created += 1
            if self._serve(waiter, _BUILD):
                return
            books.created -= 1

    def _pass_on(self, handed: Any) -> None:
        if handed is _BUILD:
            self._books.created -= 1
            self._free_place()
        else:
            del self._books.out[id(handed)]
            self._hand_over(handed)

    @asynccontextmanager
    async def borrow(self) -> AsyncIterator[T]:
        """``get()`` for the block, ``put()`` after it, however it ends."""
        obj = await self.get()
        try:
            yield obj
        finally:
            self.put(obj)

    def statistics(self) -> PoolStatistics:
        """The pool's state now: objects created, idle, in use, and callers waiting."""
        return self._books.stats(len(self._line))

    def __repr__(self) -> str:
        s = self.statistics()
        return (f"<{self._name} {s.in_use} out, {s.idle} idle of {s.max_size}, "
                f"{s.waiting} waiting>")


class AsyncioSyncPool(_AsyncSyncPool[T]):
    """A bounded pool of reusable objects for asyncio tasks: ``SyncPool[T]``.

    ``obj = await pool.get()`` takes an idle object or builds one with *new*; when *max_size*
    objects are out, it waits for one to be returned, first come first served. ``pool.put(obj)``
    resets it and gives it back; ``async with pool.borrow() as obj:`` does both. A caller
    cancelled while it waits has taken nothing; for a deadline on ``get()``, use a cancel
    scope. ``statistics()`` says how many objects exist, are idle, are out, and who waits.
    Waiting callers form a line of ``asyncio`` futures: a returned object goes straight to
    the first.

    Args:
        new: builds an object; called while fewer than *max_size* exist and none is idle.
        reset: called on each object as it is returned, before anyone else gets it.
        max_size: the most objects that exist at once (>= 1).

    Raises:
        TypeError, ValueError: for a bad argument, naming it.
    """

    _name = "AsyncioSyncPool"

    def _new_waiter(self) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    async def _wait(self, waiter: asyncio.Future[Any]) -> None:
        await waiter

    def _serve(self, waiter: asyncio.Future[Any], value: Any) -> bool:
        if waiter.done():  # cancelled while it waited
            return False
        waiter.set_result(value)
        return True

    def _served(self, waiter: asyncio.Future[Any]) -> Any:
        if waiter.done() and not waiter.cancelled():
            return waiter.result()
        return _NOTHING


class AnyioSyncPool(_AsyncSyncPool[T]):
    """A bounded pool of reusable objects for anyio tasks, on asyncio or trio: ``SyncPool[T]``.

    ``obj = await pool.get()`` takes an idle object or builds one with *new*; when *max_size*
    objects are out, it waits for one to be returned, first come first served. ``pool.put(obj)``
    resets it and gives it back; ``async with pool.borrow() as obj:`` does both. A caller
    cancelled while it waits has taken nothing; for a deadline on ``get()``, use a cancel
    scope. ``statistics()`` says how many objects exist, are idle, are out, and who waits.
    Waiting callers form a line of ``anyio`` events: a returned object goes straight to the
    first.

    Args:
        new: builds an object; called while fewer than *max_size* exist and none is idle.
        reset: called on each object as it is returned, before anyone else gets it.
        max_size: the most objects that exist at once (>= 1).

    Raises:
        TypeError, ValueError: for a bad argument, naming it.
    """

    _name = "AnyioSyncPool"

    def _new_waiter(self) -> _AnyioWaiter:
        return _AnyioWaiter()

    async def _wait(self, waiter: _AnyioWaiter) -> None:
        await waiter.event.wait()

    def _serve(self, waiter: _AnyioWaiter, value: Any) -> bool:
        # A cancelled waiter leaves the line in its own except block, before anyone can serve
        # it; one still in the line is still waiting.
        waiter.value = value
        waiter.event.set()
        return True

    def _served(self, waiter: _AnyioWaiter) -> Any:
        return waiter.value


class _AnyioWaiter:
    """A caller in an anyio pool's line: what it was handed, once it was."""

    __slots__ = ("event", "value")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.value: Any = _NOTHING
