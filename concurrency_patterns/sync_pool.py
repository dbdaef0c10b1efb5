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
* ``try_get()`` takes an idle object, or builds one if there is room, and returns None rather
  than wait. In async code it is no coroutine: ``await get()`` costs one per call, even when
  it need not wait;
* a ``put()`` with no object out raises ``ValueError``. With ``check_puts=True`` the pool
  also keeps each object out by identity, and refuses any put of an object that is not out
  (a second ``put`` while others are out, an object from elsewhere), so that no object is
  ever handed to two callers at once. That check costs a dict entry per borrow, so it is
  asked for, not paid by every pool;
* if ``reset`` raises, the object is dropped, not reused, and its place is freed; so is the
  place of a ``new()`` that raises;
* cancelling a ``get()`` that waits (async), or its ``timeout`` running out (threads), loses
  no object: it has taken none.

``statistics()`` says how many objects exist, are idle and are out, and how many callers
wait.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from ._core import check_callable, check_positive_int, check_positive_number
from ._core.fastpath import gil_enabled
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
    """The objects: built, idle, out; what every pool keeps.

    Invariant: ``_created`` counts the idle objects, the ones out and the places held for a
    ``new()`` or a ``reset()`` under way, and never exceeds ``_max_size``. With *check_puts*,
    ``_out`` maps ``id()`` to each object out (identity, so unhashable objects work); without,
    it is None and the pool keeps only the count.
    """

    def __init__(self, new: Callable[[], T], reset: Callable[[T], object] | None,
                 max_size: int, check_puts: bool) -> None:
        check_callable("new", new)
        if reset is not None:
            check_callable("reset", reset)
        if not isinstance(check_puts, bool):
            raise TypeError(f"check_puts must be a bool, got {type(check_puts).__name__}")
        self._new, self._reset = new, reset
        self._max_size = check_positive_int("max_size", max_size)
        self._idle: list[T] = []
        self._out: dict[int, T] | None = {} if check_puts else None
        self._created = 0

    def _taken(self, obj: T) -> T:
        if self._out is not None:
            self._out[id(obj)] = obj
        return obj

    def _check_put(self, obj: T) -> None:
        out = self._out
        if out is None:
            # The count alone: more objects back than are out. Read the idle count first: a
            # place can only be given up (``_created`` fall) by an object that is not idle.
            if len(self._idle) >= self._created:
                raise _not_out()
        elif out.pop(id(obj), None) is None:
            raise _not_out()

    def _stats(self, waiting: int) -> PoolStatistics:
        created, idle = self._created, len(self._idle)
        return PoolStatistics(created, idle, created - idle, waiting, self._max_size)


class ThreadSyncPool(_Books[T]):
    """A bounded pool of reusable objects that threads share: ``SyncPool[T]``.

    ``obj = pool.get()`` takes an idle object or builds one with *new*; when *max_size*
    objects are out, it waits for one to be returned, up to *timeout* seconds.
    ``pool.put(obj)`` resets it and gives it back; ``with pool.borrow() as obj:`` does both.
    An idle object is taken and given back with no lock while the GIL is on (``list.pop``
    and ``append`` are atomic); the lock is for the count, for waiting, and for everything
    on a free-threaded build. A caller that arrives as an object is returned may take it
    before a thread that was waiting wakes: that one waits on, within its timeout.

    Args:
        new: builds an object; called while fewer than *max_size* exist and none is idle.
        reset: called on each object as it is returned, before anyone else gets it.
        max_size: the most objects that exist at once (>= 1).
        check_puts: check, by identity, that each ``put()`` returns an object that is out of
            this pool. Without it a ``put()`` with no object out is refused, but a second put
            of an object while others are out is not seen.

    Raises:
        TypeError, ValueError: for a bad argument, naming it.
    """

    def __init__(self, new: Callable[[], T], *, reset: Callable[[T], object] | None = None,
                 max_size: int, check_puts: bool = False) -> None:
        super().__init__(new, reset, max_size, check_puts)
        self._lock = threading.Lock()
        self._returned = threading.Condition(self._lock)
        self._waiting = 0
        self._gil = gil_enabled()  # decided once: a build's GIL can be turned on, never off
        self._plain = self._gil and self._out is None and self._reset is None

    def get(self, timeout: float | None = None) -> T:
        """An idle object, a new one if there is room, or else the next one returned.

        Raises:
            TimeoutError: none came within *timeout* seconds; nothing was taken.
        """
        if timeout is not None:
            check_positive_number("timeout", timeout)
        # try_get()'s first lines, inlined: a call costs on the path every borrow takes.
        if not self._waiting:  # an idle object, and nobody waiting for one: no lock
            try:
                obj = self._idle.pop()
            except IndexError:
                pass
            else:
                if self._out is not None:
                    self._out[id(obj)] = obj
                return obj
        return cast(T, self._get_slow(timeout))  # it waits, so never None

    def try_get(self) -> T | None:
        """An idle object, or a new one if there is room; None, at once, if every object is
        out. ``obj = pool.try_get()`` then ``if obj is None: obj = pool.get()`` never waits
        while it need not."""
        if not self._waiting:
            try:
                obj = self._idle.pop()
            except IndexError:
                pass
            else:
                if self._out is not None:
                    self._out[id(obj)] = obj
                return obj
        return self._get_slow(None, wait=False)

    def _get_slow(self, timeout: float | None, wait: bool = True) -> T | None:
        idle = self._idle
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while True:
                try:
                    return self._taken(idle.pop())
                except IndexError:
                    pass
                if self._created < self._max_size:
                    self._created += 1  # hold the place while new() runs, outside the lock
                    break
                if not wait:
                    return None
                left = None if deadline is None else deadline - time.monotonic()
                self._waiting += 1
                try:
                    # The predicate is checked before the wait: an object put back since
                    # the pop above is seen here, not missed.
                    ok = self._returned.wait_for(
                        lambda: idle or self._created < self._max_size, left)
                finally:
                    self._waiting -= 1
                if not ok:
                    raise TimeoutError(f"no object came back within {timeout} s")
        try:
            obj = self._new()
        except BaseException:
            self._give_up_place()
            raise
        return self._taken(obj)

    def put(self, obj: T) -> None:
        """Reset *obj* and return it to the pool, for the next ``get()``.

        Raises:
            ValueError: *obj* is not out of this pool (see *check_puts*).
        """
        idle = self._idle
        if self._plain:  # no check, no reset, the GIL on: the usual pool, in the fewest steps
            if len(idle) >= self._created:  # _check_put(), inlined
                raise _not_out()
            # No lock: a thread about to wait counted itself in _waiting before it checks
            # for an idle object, so either it sees this one or this sees it waiting.
            idle.append(obj)
            if self._waiting:
                with self._lock:
                    self._returned.notify()
            return
        self._put_checked(obj)

    def _put_checked(self, obj: T) -> None:
        """``put()`` with the identity check, a reset, or no GIL."""
        self._check_put(obj)
        if self._reset is not None:
            try:
                self._reset(obj)
            except BaseException:
                self._give_up_place()  # a broken object is dropped; its place is free
                raise
        if self._gil:  # no lock, as in put()
            self._idle.append(obj)
            if self._waiting:
                with self._lock:
                    self._returned.notify()
            return
        with self._lock:  # free-threaded: the same, ordered by the lock
            self._idle.append(obj)
            if self._waiting:
                self._returned.notify()

    def _give_up_place(self) -> None:
        with self._lock:
            self._created -= 1
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
            return self._stats(self._waiting)

    def __repr__(self) -> str:
        s = self.statistics()
        return (f"<ThreadSyncPool {s.in_use} out, {s.idle} idle of {s.max_size}, "
                f"{s.waiting} waiting>")


class _AsyncSyncPool(_Books[T]):
    """The async pools' body: one event loop, so no lock. A caller that finds no idle object
    and no room waits in line; a returned object is handed straight to the first in line (or
    the room it frees, to build one), so a newcomer cannot take it first.

    Invariants: ``_line`` holds the callers waiting, in order, and is empty whenever an object
    is idle or there is room (a caller only queues when neither is so, and every put or freed
    place serves the line first). A caller that was served counts in ``_created`` and, if
    handed an object, as out before it resumes.
    """

    _name = ""

    def __init__(self, new: Callable[[], T], *, reset: Callable[[T], object] | None = None,
                 max_size: int, check_puts: bool = False) -> None:
        super().__init__(new, reset, max_size, check_puts)
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
        # try_get(), inlined: a call costs on the path every borrow takes.
        idle = self._idle
        if idle:  # and so no one waits (the invariant): take it, without a trip
            obj = idle.pop()
            if self._out is not None:
                self._out[id(obj)] = obj
            return obj
        if not self._line and self._created < self._max_size:
            self._created += 1  # hold the place while new() runs
            return self._build()
        return await self._wait_in_line()

    def try_get(self) -> T | None:
        """An idle object, or a new one if there is room; None, at once, if every object is
        out or others wait. Unlike ``get()`` it is no coroutine, and costs none: for a hot loop,
        ``obj = pool.try_get()`` then ``if obj is None: obj = await pool.get()``."""
        try:
            obj = self._idle.pop()  # idle, so no one waits (the invariant)
        except IndexError:
            if not self._line and self._created < self._max_size:
                self._created += 1
                return self._build()
            return None
        if self._out is not None:
            self._out[id(obj)] = obj
        return obj

    async def _wait_in_line(self) -> T:
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
        """Reset *obj* and return it to the pool, for the next ``get()``.

        Raises:
            ValueError: *obj* is not out of this pool (see *check_puts*).
        """
        idle, out = self._idle, self._out
        if out is None:  # _check_put(), inlined: every call costs, on a path this short
            if len(idle) >= self._created:
                raise _not_out()
        elif out.pop(id(obj), None) is None:
            raise _not_out()
        if self._reset is not None:
            try:
                self._reset(obj)
            except BaseException:
                self._created -= 1  # dropped: its place is free again
                self._free_place()
                raise
        if self._line:
            self._hand_over(obj)
        else:
            idle.append(obj)

    def _build(self) -> T:
        """Build an object in a place already counted in ``_created``."""
        try:
            obj = self._new()
        except BaseException:
            self._created -= 1
            self._free_place()
            raise
        return self._taken(obj)

    def _hand_over(self, obj: T) -> None:
        while self._line:
            waiter = self._line.popleft()
            self._taken(obj)
            if self._serve(waiter, obj):
                return
            self._check_put(obj)  # not taken after all: out no more
        self._idle.append(obj)

    def _free_place(self) -> None:
        while self._line:
            waiter = self._line.popleft()
            self._created += 1
            if self._serve(waiter, _BUILD):
                return
            self._created -= 1

    def _pass_on(self, handed: Any) -> None:
        if handed is _BUILD:
            self._created -= 1
            self._free_place()
        else:
            self._check_put(handed)
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
        return self._stats(len(self._line))

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
    scope. ``try_get()`` takes an object only if it need not wait, and is no coroutine.
    ``statistics()`` says how many objects exist, are idle, are out, and who waits.
    Waiting callers form a line of ``asyncio`` futures: a returned object goes straight to
    the first.

    Args:
        new: builds an object; called while fewer than *max_size* exist and none is idle.
        reset: called on each object as it is returned, before anyone else gets it.
        max_size: the most objects that exist at once (>= 1).
        check_puts: check, by identity, that each ``put()`` returns an object that is out of
            this pool. Without it a ``put()`` with no object out is refused, but a second put
            of an object while others are out is not seen.

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
    scope. ``try_get()`` takes an object only if it need not wait, and is no coroutine.
    ``statistics()`` says how many objects exist, are idle, are out, and who waits.
    Waiting callers form a line of ``anyio`` events: a returned object goes straight to the
    first.

    Args:
        new: builds an object; called while fewer than *max_size* exist and none is idle.
        reset: called on each object as it is returned, before anyone else gets it.
        max_size: the most objects that exist at once (>= 1).
        check_puts: check, by identity, that each ``put()`` returns an object that is out of
            this pool. Without it a ``put()`` with no object out is refused, but a second put
            of an object while others are out is not seen.

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
