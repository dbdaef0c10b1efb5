"""At most ``n`` holders per key — per host — with no state kept for a key nobody holds.

A semaphore per key, made when the key is first held and dropped when its last holder leaves,
so a crawl over a million hosts keeps an entry only for the hosts with a request in flight.
Waiters for one key are served first come, first served; a key's waiters never hold up another
key's.

Invariant (both versions): ``_held[key]`` exists exactly while someone holds or waits for
*key*; its count is the number of holders, at most ``n``; a freed place goes straight to the
first waiter (the count does not drop and rise again, so a newcomer cannot take it first).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

__all__ = ["AsyncKeyedSlots", "ThreadKeyedSlots"]


class _Entry:
    __slots__ = ("count", "waiters")

    def __init__(self) -> None:
        self.count = 1
        self.waiters: deque[Any] = deque()


def _release(held: dict[object, _Entry], key: object) -> None:
    """A holder of *key* leaves: its place goes straight to the first waiter, or the count
    drops, and the entry goes with the last holder."""
    entry = held[key]
    if entry.waiters:
        entry.waiters.popleft().set()
    else:
        entry.count -= 1
        if entry.count == 0:
            del held[key]


class AsyncKeyedSlots:
    """For tasks of one event loop; *event* makes the loop's event (asyncio's or anyio's)."""

    __slots__ = ("_event", "_held", "n")

    def __init__(self, n: int, event: Callable[[], Any]) -> None:
        self.n = n
        self._event = event
        self._held: dict[object, _Entry] = {}

    @asynccontextmanager
    async def hold(self, key: object) -> AsyncIterator[None]:
        entry = self._held.get(key)
        if entry is None:
            self._held[key] = _Entry()
        elif entry.count < self.n and not entry.waiters:
            entry.count += 1
        else:
            event = self._event()
            entry.waiters.append(event)
            try:
                await event.wait()
            except BaseException:
                if event.is_set():  # the place was handed to us as we were cancelled
                    _release(self._held, key)
                else:
                    entry.waiters.remove(event)
                raise
        try:
            yield
        finally:
            _release(self._held, key)

    def __len__(self) -> int:
        return len(self._held)


class ThreadKeyedSlots:
    """For threads: the same, under one lock never held while waiting."""

    __slots__ = ("_held", "_lock", "n")

    def __init__(self, n: int) -> None:
        self.n = n
        self._lock = threading.Lock()
        self._held: dict[object, _Entry] = {}

    @contextmanager
    def hold(self, key: object) -> Iterator[None]:
        with self._lock:
            entry = self._held.get(key)
            if entry is None:
                self._held[key] = _Entry()
                event = None
            elif entry.count < self.n and not entry.waiters:
                entry.count += 1
                event = None
            else:
                event = threading.Event()
                entry.waiters.append(event)
        if event is not None:
            event.wait()  # set by the holder that frees a place: it is ours
        try:
            yield
        finally:
            with self._lock:
                _release(self._held, key)

    def __len__(self) -> int:
        return len(self._held)
