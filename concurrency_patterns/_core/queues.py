"""Closing a queue, Go's ``close(ch)``, on every supported Python.

``asyncio.Queue`` and ``queue.Queue`` gained ``shutdown()`` in Python 3.13: after it, getters
still receive what is queued and then ``QueueShutDown`` (``queue.ShutDown``). On 3.11 and 3.12
the close is emulated the classic way: one private end marker per receiver, put after the last
item. Either way a receiver sees the same thing: ``get`` raises ``Closed`` once the queue is
closed and drained.

Invariant: ``close`` is called once, by the last sender, after its last ``put``; with end
markers it must be told how many receivers there are, since each takes exactly one marker.
"""

from __future__ import annotations

import queue
import sys
from typing import TYPE_CHECKING, Any

from .lazy import lazy

if TYPE_CHECKING:
    import asyncio
else:
    asyncio = lazy(globals(), "asyncio")

__all__ = [
    "END", "Closed", "asyncio_closed", "close_asyncio", "close_threads", "get_asyncio",
    "get_threads", "settle_asyncio",
]


class Closed(Exception):
    """The queue is closed and drained: no more items, ever."""


_END: Any = object()  # the 3.11/3.12 end marker: no real item can be this object
END: Any = _END


def asyncio_closed() -> type[BaseException]:
    """What ``await q.get()`` raises once an ``asyncio.Queue`` is closed and drained: for a
    receiver that reads the queue itself in a hot loop, with no coroutine per item around
    each get (``get_asyncio``)::

        closed = asyncio_closed()
        while True:
            try:
                entry = await q.get()
            except closed:      # 3.13 and later: shut down and drained
                return
            if entry is END:    # 3.11 and 3.12: its end marker
                return

    Before 3.13, ``Closed``, which ``q.get()`` never raises.
    """
    if sys.version_info >= (3, 13):
        return asyncio.QueueShutDown
    return Closed


async def settle_asyncio(q: asyncio.Queue[Any]) -> None:
    """Before the caller's own task waits on an empty queue: one bare yield to the loop.

    Code that runs under anyio (a FastAPI handler, ``anyio.move_on_after`` around the call) is
    cancelled by anyio calling ``task.cancel()``, again at every turn of the loop, but only
    while the task waits on a future that is not done yet: cancelling a task whose waiter is
    already done would lose what it is about to receive. A reader whose producers refill the
    queue at once is woken every time before anyio looks, so it is never cancelled and the
    scope spins at 100 % CPU::

        with anyio.move_on_after(0.3):                   # never returns without this yield
            async with map_stream(fn, itertools.count()) as results:
                async for _ in results: ...

    At a bare yield the task waits on nothing, so anyio's next look cancels it. It costs one
    turn of the loop when the reader would have waited anyway, and nothing when it would not.
    """
    if q.empty():
        await asyncio.sleep(0)

# --8<-- [start:close]
if sys.version_info >= (3, 13):
    async def close_asyncio(q: asyncio.Queue[Any], receivers: int) -> None:
        q.shutdown()  # not immediate: receivers still get what is queued

    async def get_asyncio(q: asyncio.Queue[Any]) -> Any:
        try:
            return await q.get()
        except asyncio.QueueShutDown:
            raise Closed from None

    def close_threads(q: queue.Queue[Any], receivers: int) -> None:
        q.shutdown()

    def get_threads(q: queue.Queue[Any]) -> Any:
        try:
            return q.get()
        except queue.ShutDown:
            raise Closed from None

else:
    async def close_asyncio(q: asyncio.Queue[Any], receivers: int) -> None:
        for _ in range(receivers):
            await q.put(_END)

    async def get_asyncio(q: asyncio.Queue[Any]) -> Any:
        entry = await q.get()
        if entry is _END:
            raise Closed
        return entry

    def close_threads(q: queue.Queue[Any], receivers: int) -> None:
        for _ in range(receivers):
            q.put(_END)

    def get_threads(q: queue.Queue[Any]) -> Any:
        entry = q.get()
        if entry is _END:
            raise Closed
        return entry
# --8<-- [end:close]
