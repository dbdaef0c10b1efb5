"""Sync map: a map that concurrent code can share, with Go's ``sync.Map`` operations.

Go's ``sync.Map`` offers ``Load``, ``Store``, ``LoadOrStore``, ``LoadAndDelete``, ``Swap``,
``CompareAndSwap``, ``CompareAndDelete`` and ``Range``, each atomic. Its documentation says a
plain map with a ``Mutex`` is usually better, and that ``sync.Map`` pays off in two cases only:
keys written once and then read many times (a cache that only grows), and goroutines working
on disjoint sets of keys.

In CPython, **a single dict operation is atomic**: ``d[k] = v``, ``d.get(k)``, ``d.pop(k,
None)``, ``d.setdefault(k, v)``, each with the GIL held (and on free-threaded CPython under
the dict's own lock). What is **not** atomic is any sequence of them:

* check-then-set: ``if k not in d: d[k] = make()`` — two threads both see "not in", both set;
* read-modify-write: ``d[k] = d.get(k, 0) + 1`` — an update is lost;
* iterating while another thread inserts: ``RuntimeError: dictionary changed size during
  iteration``.

Free-threaded CPython changes none of that: it keeps single operations atomic with per-object
locks, and it makes the races in compound operations more frequent, since threads then really
run at once.

``threads.SyncMap`` makes every operation of Go's list atomic with one lock. Striped locks (one
per shard of keys) would only help where threads run Python at once, which the GIL prevents;
on free-threaded CPython they would, and the benchmark is where to see it.

In async code, a dict is already safe between ``await`` s: no other task runs until this one
awaits. What needs care is an ``await`` *inside* the critical section — a cache that fetches
what it misses. ``asyncio.SyncMap`` and ``anyio.SyncMap`` add ``load_or_compute(key, fn)``:
concurrent callers for one key run ``fn`` once, callers for other keys are not held up, and
``threads.SyncMap`` has it too.

The contract, for every variant:

* Each operation is atomic: ``load_or_store`` has one winner among concurrent callers,
  ``compare_and_swap`` succeeds for exactly one of them.
* ``range(fn)`` / ``items()`` iterate a snapshot taken atomically: they never fail, whatever
  other threads do meanwhile, and every key present for the whole iteration is visited once.
* ``load_or_compute(key, fn)``: while a computation for *key* runs, other callers for *key*
  wait for it and get its value; an error or a cancellation is not stored — the caller gets
  it, and the next caller (one of those waiting, if any) computes again. Nothing stays locked.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from ._core import check_callable
from ._core.lazy import lazy

if TYPE_CHECKING:
    import asyncio

    import anyio
else:
    anyio = lazy(globals(), "anyio")
    asyncio = lazy(globals(), "asyncio")

__all__ = ["AnyioSyncMap", "AsyncioSyncMap", "ThreadSyncMap"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING: Any = object()


class _SyncMapOps(Generic[K, V]):
    """Go's ``sync.Map`` operations over a dict, each one atomic: it runs under ``_guard``,
    a lock for threads; for tasks on one event loop, which only switch at an ``await``, no
    lock at all. Invariant: ``_data`` is only touched under ``_guard``.

    A read is ``key in data`` then ``data[key]``, one operation under the guard, never
    ``data.get(key)``: on free-threaded CPython 3.13, ``dict.get`` on a dict that threads
    share does not scale as a subscript does, even under the lock (the benchmark's 3.13t
    rows measure it)."""

    _guard: AbstractContextManager[Any]

    def __init__(self) -> None:
        self._data: dict[K, V] = {}
        # load_or_compute's lock per key being computed, with how many callers hold or wait
        # for it; dropped when none does, so the map never grows with the keys it computed.
        self._computing: dict[K, tuple[Any, int]] = {}

    def load(self, key: K, default: V | None = None) -> V | None:
        """The value for *key*, or *default*. Go: ``Load``."""
        with self._guard:
            data = self._data
            return data[key] if key in data else default  # noqa: SIM401 - see the class

    def store(self, key: K, value: V) -> None:
        """Set *key* to *value*. Go: ``Store``."""
        with self._guard:
            self._data[key] = value

    def load_or_store(self, key: K, value: V) -> tuple[V, bool]:
        """The existing value and ``True`` if *key* is present; otherwise store *value* and
        return it with ``False``. Among concurrent callers exactly one stores. Go:
        ``LoadOrStore``."""
        with self._guard:
            data = self._data
            if key in data:
                return data[key], True
            data[key] = value
            return value, False

    def load_and_delete(self, key: K) -> tuple[V | None, bool]:
        """Remove *key*; its value and whether it was present. Go: ``LoadAndDelete``."""
        hash(key)  # an unhashable key is a TypeError on an empty map too, where pop() skips it
        with self._guard:
            data = self._data
            if key not in data:
                return None, False
            value = data[key]
            del data[key]
        return value, True

    def delete(self, key: K) -> None:
        """Remove *key* if present. Go: ``Delete``."""
        hash(key)  # an unhashable key is a TypeError on an empty map too, where pop() skips it
        with self._guard:
            if key in self._data:
                del self._data[key]

    def swap(self, key: K, value: V) -> tuple[V | None, bool]:
        """Set *key* to *value*; the previous value and whether there was one. Go: ``Swap``."""
        with self._guard:
            data = self._data
            previous = data[key] if key in data else _MISSING  # noqa: SIM401 - see the class
            data[key] = value
        return (None, False) if previous is _MISSING else (previous, True)

    def compare_and_swap(self, key: K, old: V, new: V) -> bool:
        """Set *key* to *new* if its value is *old* (``==``); whether it did. Go:
        ``CompareAndSwap``."""
        with self._guard:
            data = self._data
            if key not in data or data[key] != old:
                return False
            data[key] = new
            return True

    def compare_and_delete(self, key: K, old: V) -> bool:
        """Remove *key* if its value is *old*; whether it did. Go: ``CompareAndDelete``."""
        with self._guard:
            data = self._data
            if key not in data or data[key] != old:
                return False
            del data[key]
            return True

    def items(self) -> list[tuple[K, V]]:
        """A snapshot of the pairs, taken atomically: safe to iterate while others write."""
        with self._guard:
            return list(self._data.items())

    def range(self, fn: Callable[[K, V], object]) -> None:
        """Call ``fn(key, value)`` for each pair of a snapshot, until it returns ``False``.
        Go: ``Range``. *fn* runs without the lock, so it may use the map."""
        check_callable("fn", fn)
        for key, value in self.items():
            if fn(key, value) is False:
                return

    def clear(self) -> None:
        """Remove every key. Go: ``Clear``."""
        with self._guard:
            self._data.clear()

    def __len__(self) -> int:
        with self._guard:
            return len(self._data)

    def __contains__(self, key: object) -> bool:
        with self._guard:
            return key in self._data

    def __iter__(self) -> Iterator[K]:
        """The keys of a snapshot."""
        return iter([k for k, _ in self.items()])

    def _enter_compute(self, key: K, new_lock: Callable[[], Any]) -> Any:
        """The lock of *key*'s computation, counting the caller in (under ``_guard``)."""
        lock, users = self._computing.get(key) or (new_lock(), 0)
        self._computing[key] = (lock, users + 1)
        return lock

    def _leave_compute(self, key: K) -> None:
        lock, users = self._computing[key]
        if users == 1:
            del self._computing[key]  # no one waits: forget the lock
        else:
            self._computing[key] = (lock, users - 1)

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {len(self)} keys, "
                f"{len(self._computing)} being computed>")


class ThreadSyncMap(_SyncMapOps[K, V]):
    """A map that any number of threads may share; Go's ``sync.Map``, with one lock.

    Every method is atomic. ``load`` and ``len`` take the lock too: not for safety in CPython,
    where a single dict read is atomic, but so that a read never sees a compound operation
    half done. The zero value is usable: ``threads.SyncMap()`` is an empty map.
    """

    def __init__(self) -> None:
        super().__init__()
        self._guard = threading.Lock()

    def load_or_compute(self, key: K, fn: Callable[[], V]) -> V:
        """The value for *key*; if absent, ``fn()`` computes and stores it. Concurrent callers
        for *key* wait for one computation; callers for other keys do not wait. If ``fn``
        raises, nothing is stored, the error goes to its caller, and the next caller computes.
        """
        check_callable("fn", fn)
        data = self._data
        with self._guard:
            if key in data:
                return data[key]
            key_lock = self._enter_compute(key, threading.Lock)
        try:
            with key_lock:  # one computation per key; other keys go on
                with self._guard:
                    if key in data:
                        return data[key]  # computed while we waited
                computed = fn()
                with self._guard:
                    self._data[key] = computed
                return computed
        finally:
            with self._guard:
                self._leave_compute(key)


class _AsyncSyncMap(_SyncMapOps[K, V]):
    """The async maps' shared body. Between awaits no other task runs, so each operation needs
    no lock; only ``load_or_compute`` awaits inside its critical section, and it holds a lock
    per key while it does. Not for sharing between threads: use ``threads.SyncMap`` for that."""

    def __init__(self) -> None:
        super().__init__()
        self._guard = nullcontext()

    def _new_lock(self) -> Any:
        raise NotImplementedError

    async def load_or_compute(self, key: K, fn: Callable[[], Awaitable[V]]) -> V:
        """The value for *key*; if absent, ``await fn()`` computes and stores it. Concurrent
        callers for *key* wait for one computation; other keys are not held up. If ``fn``
        raises or its caller is cancelled, nothing is stored and the next caller computes."""
        check_callable("fn", fn)
        value = self._data.get(key, _MISSING)
        if value is not _MISSING:
            return cast(V, value)
        lock = self._enter_compute(key, self._new_lock)
        try:
            async with lock:
                value = self._data.get(key, _MISSING)
                if value is _MISSING:  # nobody computed it while we waited: our turn
                    value = await fn()
                    self._data[key] = value
                return cast(V, value)
        finally:
            self._leave_compute(key)


class AsyncioSyncMap(_AsyncSyncMap[K, V]):
    """Go's ``sync.Map`` for asyncio tasks, with ``load_or_compute`` for a cache that awaits.

    Every operation is atomic: ``load``, ``store``, ``load_or_store``, ``load_and_delete``,
    ``delete``, ``swap``, ``compare_and_swap``, ``compare_and_delete``, ``items``, ``range``,
    ``clear``, ``len``. Between awaits no other task runs, so the operations need no lock; only
    ``load_or_compute`` awaits inside its critical section, and it holds a lock per key while
    it does: concurrent callers for one key wait for one computation, and other keys are not
    held up. Not for sharing between threads (use the ``threads`` namespace's ``SyncMap``).
    The zero value is usable: ``SyncMap()`` is an empty map, ``SyncMap[K, V]`` when typed.
    Over an ``asyncio.Lock`` per key being computed.
    """

    def _new_lock(self) -> Any:
        return asyncio.Lock()


class AnyioSyncMap(_AsyncSyncMap[K, V]):
    """Go's ``sync.Map`` for anyio tasks, on asyncio or trio, with an awaiting cache.

    Every operation is atomic: ``load``, ``store``, ``load_or_store``, ``load_and_delete``,
    ``delete``, ``swap``, ``compare_and_swap``, ``compare_and_delete``, ``items``, ``range``,
    ``clear``, ``len``. Between awaits no other task runs, so the operations need no lock; only
    ``load_or_compute`` awaits inside its critical section, and it holds a lock per key while
    it does: concurrent callers for one key wait for one computation, and other keys are not
    held up. Not for sharing between threads (use the ``threads`` namespace's ``SyncMap``).
    The zero value is usable: ``SyncMap()`` is an empty map, ``SyncMap[K, V]`` when typed.
    Over an ``anyio.Lock`` per key being computed.
    """

    def _new_lock(self) -> Any:
        return anyio.Lock()
