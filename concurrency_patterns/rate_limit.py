"""Rate limit: at most ``rate`` operations per second, with a stated ``burst``.

A limiter lets ``burst`` operations through at once, then one every ``1 / rate`` seconds: over
any window of ``w`` seconds, at most ``rate * w + burst`` operations start. This is a token
bucket of ``burst`` tokens refilled at ``rate`` per second, kept the way GCRA keeps it: one
timestamp, the time the next operation is due, and no refill timer.

Each caller reserves its slot when it asks and then sleeps until that slot. That is what keeps
the two classic limiter bugs out:

* **every waiter woken on every tick** — a limiter that refills tokens and wakes all waiters
  to race for them burns CPU and serves them in no order; here each waiter sleeps exactly
  until its own slot, and waiters are served first come, first served;
* **the limit exceeded under concurrency** — a limiter that checks, then awaits, then takes a
  token lets many callers through on one check; here reserving is one step that never awaits,
  so two callers cannot take the same slot.

Nothing runs in the background: no timer, task or thread, so nothing can leak (Go's
``time.Tick`` in a loop that ends is the classic leak). A caller that is cancelled while it
waits hands its slot back when no one has queued after it; otherwise that slot goes unused.

Which to pick: the limiter of your model. ``anyio.RateLimiter`` runs on asyncio and trio. The
fetch and the worker pool take ``max_per_second=`` and use the same arithmetic.

**One limit per key.** ``KeyedRateLimiter`` keeps a separate limiter for each key — each host a
crawler reaches, each user of an API — made when the key is first seen and dropped once it is
idle (nobody waits and its bucket is full again, so a fresh one would behave the same). Memory
follows the keys in use now, not every key ever seen: a crawl over a million hosts holds a
few. Each key's bound holds on its own, and a key's waiters never hold up another key. The
fetch's ``max_per_second_per_host=`` is one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Hashable
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING

from ._core.lazy import lazy
from ._core.rate import (
    Gcra,
    KeyedGcra,
    acquire_threads,
    acquire_threads_keyed,
    wait_anyio,
    wait_asyncio,
)

if TYPE_CHECKING:
    import asyncio

    import anyio
else:
    anyio = lazy(globals(), "anyio")
    asyncio = lazy(globals(), "asyncio")

__all__ = [
    "AnyioKeyedRateLimiter",
    "AnyioRateLimiter",
    "AsyncioKeyedRateLimiter",
    "AsyncioRateLimiter",
    "ThreadKeyedRateLimiter",
    "ThreadRateLimiter",
]


def _describe(limiter: object, gcra: Gcra, now: float) -> str:
    return (f"<{type(limiter).__name__} {gcra.rate:g}/s, burst {gcra.burst}, "
            f"booked {gcra.ahead(now):.3f} s ahead>")


class _AsyncRateLimiter:
    """The limiter for one event loop; the subclasses choose asyncio's clock or anyio's."""

    _wait: Callable[[Gcra, float, float], Awaitable[None]]
    _clock: Callable[[], float]

    def __init__(self, rate: float, *, burst: int = 1) -> None:
        self._gcra = Gcra(rate, burst)

    async def acquire(self) -> None:
        """Wait for this caller's slot; callers are served in the order they called.

        A free slot is taken without suspending. A caller cancelled while it waits hands its
        slot back when no one has queued after it.
        """
        # The free slot's path, inline: when the rate never binds, this is all an acquire
        # costs, and a second coroutine per call would add to it.
        now = self._clock()
        slot, left = self._gcra.reserve(now)
        if slot > now or self._gcra.queue:  # later, or others wait before it: in line
            await self._wait(self._gcra, slot, left)

    def try_acquire(self) -> bool:
        """Take a slot if one is free now; ``False`` (and nothing taken) if not."""
        return self._gcra.try_reserve(self._clock())

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> None:
        return None

    def __repr__(self) -> str:
        try:
            now = self._clock()
        except Exception:  # no event loop running: the same clock, read directly
            now = time.monotonic()
        return _describe(self, self._gcra, now)


def _asyncio_now() -> float:
    return asyncio.get_running_loop().time()


def _anyio_now() -> float:
    return anyio.current_time()


def _check_timeout(timeout: object) -> None:
    """A blocking acquire's *timeout*: ``None``, or a number of seconds >= 0."""
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"timeout must be a number of seconds or None, got "
                        f"{type(timeout).__name__}")
    if not timeout >= 0:  # also rejects NaN
        raise ValueError(f"timeout must be >= 0, got {timeout}")


class AsyncioRateLimiter(_AsyncRateLimiter):
    """At most *rate* operations per second among asyncio tasks, *burst* at once.

    ``await limiter.acquire()`` (or ``async with limiter:``) before each operation. A new
    limiter is full: its first *burst* callers go at once. It belongs to no event loop until
    used, and reads that loop's clock. ``repr(limiter)`` shows how far ahead slots are booked.

    Args:
        rate: operations per second (> 0, finite).
        burst: how many may go at once after a quiet spell (>= 1).

    Raises:
        TypeError, ValueError: *rate* or *burst* is not valid; the message names it.
    """

    _wait = staticmethod(wait_asyncio)
    _clock = staticmethod(_asyncio_now)


class _AsyncKeyedRateLimiter:
    """One limiter per key for one event loop; the subclasses choose the clock."""

    _wait: Callable[[Gcra, float, float], Awaitable[None]]
    _clock: Callable[[], float]

    def __init__(self, rate: float, *, burst: int = 1) -> None:
        self._keyed = KeyedGcra(rate, burst)

    async def acquire(self, key: Hashable) -> None:
        """Wait for this caller's slot under *key*; each key's callers are served in the order
        they called, and never wait for another key's."""
        now = self._clock()
        gcra = self._keyed.get(key, now)  # no await between this and the reservation
        slot, left = gcra.reserve(now)
        if slot > now or gcra.queue:
            await self._wait(gcra, slot, left)

    def try_acquire(self, key: Hashable) -> bool:
        """Take a slot under *key* if one is free now; ``False`` (and nothing taken) if not."""
        now = self._clock()
        return self._keyed.get(key, now).try_reserve(now)

    def __len__(self) -> int:
        """How many keys the limiter holds state for: those in use, and idle ones not yet
        dropped (at most as many again)."""
        return len(self._keyed)

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self._keyed.rate:g}/s, burst {self._keyed.burst} "
                f"per key, {len(self._keyed)} keys held>")


class AsyncioKeyedRateLimiter(_AsyncKeyedRateLimiter):
    """At most *rate* operations per second **per key** among asyncio tasks, *burst* at once.

    ``await limiter.acquire(key)`` before each operation on *key* (a host, a user). Each key
    has a limiter of its own, made when the key is first seen and dropped once idle, so memory
    follows the keys in use, however many keys pass. One key's callers never wait for
    another's.

    Args:
        rate: operations per second for each key (> 0, finite).
        burst: how many may go at once on one key after a quiet spell (>= 1).

    Raises:
        TypeError, ValueError: *rate* or *burst* is not valid; the message names it.
    """

    _wait = staticmethod(wait_asyncio)
    _clock = staticmethod(_asyncio_now)


class AnyioRateLimiter(_AsyncRateLimiter):
    """At most *rate* operations per second among anyio tasks, on asyncio or trio.

    ``await limiter.acquire()`` (or ``async with limiter:``) before each operation; callers are
    served in the order they called, each at its slot of the GCRA schedule, and a caller
    cancelled while it waits gives its slot back. A new limiter is full: its first *burst*
    callers go at once. It reads anyio's clock, which a test may replace with trio's
    ``MockClock``. ``repr(limiter)`` shows how far ahead slots are booked.

    Args:
        rate: operations per second (> 0, finite).
        burst: how many may go at once after a quiet spell (>= 1).

    Raises:
        TypeError, ValueError: *rate* or *burst* is not valid; the message names it.
    """

    _wait = staticmethod(wait_anyio)
    _clock = staticmethod(_anyio_now)


class AnyioKeyedRateLimiter(_AsyncKeyedRateLimiter):
    """At most *rate* operations per second **per key** among anyio tasks, on asyncio or trio.

    ``await limiter.acquire(key)`` before each operation on *key*. Each key has a limiter of its
    own, made when the key is first seen and dropped once idle; one key's callers never wait
    for another's. It reads anyio's clock (trio's ``MockClock`` in a test).

    Args:
        rate: operations per second for each key (> 0, finite).
        burst: how many may go at once on one key after a quiet spell (>= 1).

    Raises:
        TypeError, ValueError: *rate* or *burst* is not valid; the message names it.
    """

    _wait = staticmethod(wait_anyio)
    _clock = staticmethod(_anyio_now)


class ThreadRateLimiter:
    """At most *rate* operations per second among threads, *burst* at once.

    ``limiter.acquire()`` (or ``with limiter:``) before each operation; callers are served in
    the order they called, each at its slot of the GCRA schedule, on ``time.monotonic``. A
    sleeping thread cannot be cancelled: pass a *timeout* to ``acquire`` where a caller must be
    able to give up. A new limiter is full: its first *burst* callers go at once. Safe to
    share between threads; ``repr(limiter)`` shows how far ahead slots are booked.

    Args:
        rate: operations per second (> 0, finite).
        burst: how many may go at once after a quiet spell (>= 1).

    Raises:
        TypeError, ValueError: *rate* or *burst* is not valid; the message names it.
    """

    def __init__(self, rate: float, *, burst: int = 1) -> None:
        self._gcra = Gcra(rate, burst)
        self._lock = threading.Lock()  # guards the reservation, never held while sleeping

    def acquire(self, timeout: float | None = None) -> bool:
        """Block until this caller's slot; callers are served in the order they called.

        Args:
            timeout: the most seconds to wait; a caller whose slot is further away takes
                nothing and returns ``False`` at once.

        Returns:
            ``True`` once the slot has come; ``False`` if it was further than *timeout*.

        Raises:
            TypeError, ValueError: *timeout* is not ``None`` or a number of seconds >= 0.
        """
        _check_timeout(timeout)
        return acquire_threads(self._gcra, self._lock, timeout)

    def try_acquire(self) -> bool:
        """Take a slot if one is free now; ``False`` (and nothing taken) if not."""
        with self._lock:
            return self._gcra.try_reserve(time.monotonic())

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> None:
        return None

    def __repr__(self) -> str:
        with self._lock:
            return _describe(self, self._gcra, time.monotonic())


class ThreadKeyedRateLimiter:
    """At most *rate* operations per second **per key** among threads, *burst* at once.

    ``limiter.acquire(key)`` before each operation on *key*. Each key has a limiter of its own,
    made when the key is first seen and dropped once idle; one key's callers never wait for
    another's. Safe to share between threads.

    Args:
        rate: operations per second for each key (> 0, finite).
        burst: how many may go at once on one key after a quiet spell (>= 1).

    Raises:
        TypeError, ValueError: *rate* or *burst* is not valid; the message names it.
    """

    def __init__(self, rate: float, *, burst: int = 1) -> None:
        self._keyed = KeyedGcra(rate, burst)
        self._lock = threading.Lock()  # guards the table and the reservations; never asleep

    def acquire(self, key: Hashable, timeout: float | None = None) -> bool:
        """Block until this caller's slot under *key*; ``False`` (nothing taken) at once if
        that slot is further away than *timeout* seconds."""
        _check_timeout(timeout)
        return acquire_threads_keyed(partial(self._keyed.get, key), self._lock, timeout)

    def try_acquire(self, key: Hashable) -> bool:
        """Take a slot under *key* if one is free now; ``False`` (and nothing taken) if not."""
        with self._lock:
            now = time.monotonic()
            return self._keyed.get(key, now).try_reserve(now)

    def __len__(self) -> int:
        """How many keys the limiter holds state for (idle ones are dropped as it goes)."""
        return len(self._keyed)

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self._keyed.rate:g}/s, burst {self._keyed.burst} "
                f"per key, {len(self._keyed)} keys held>")
