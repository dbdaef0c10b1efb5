"""ErrGroup: a task group with a limit, whose first error cancels the rest — Go's ``errgroup``.

Go services start concurrent work with ``golang.org/x/sync/errgroup``: ``g.Go(f)`` starts a
goroutine, ``g.Wait()`` returns the first error, ``WithContext`` cancels the others when one
fails, ``SetLimit(n)`` bounds how many run, and ``TryGo`` starts one only if there is room.
Python's task groups cancel the others too, but they have no limit and raise an
``ExceptionGroup`` of everything, not the first error.

The contract, for every variant:

* **Limit**: at most ``limit`` functions run at once. ``await g.go(fn, ...)`` waits for
  room (backpressure: the loop that starts work slows to the pace of the work);
  ``g.try_go(fn, ...)`` starts it only if there is room now, and says whether it did.
  Waiters get room in the order they asked.
* **Errors**: the first function to raise (the first *by time*) cancels the others and the
  block, and is raised as itself when the block ends. Nothing is lost: every error is in
  ``g.errors`` in the order they happened, and the first carries a note naming the others.
  With ``collect_errors=True`` a failure cancels nothing: every function runs, and the block
  raises an ``ExceptionGroup`` of every error.
* **Cancellation**: ``g.cancel()`` cancels every running function and the block, which then
  ends quietly. Cancelling the block from outside (a timeout, a cancelled task group) cancels
  every function before the cancellation goes on. Nothing outlives the block.
* **Bad input**: ``limit=0`` or a non-callable ``fn`` is refused with an error naming it.

Threads cannot be cancelled: ``threads.ErrGroup`` starts no new function after the first error
(or ``cancel()``), sets ``g.cancelled`` for running functions to check, and waits for them.

Which to pick: ``anyio.ErrGroup`` for async code (asyncio or trio), ``asyncio.ErrGroup`` on asyncio
with no dependency, ``threads.ErrGroup`` for blocking code.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVarTuple

from ._core import check_callable, check_positive_int
from ._core.lazy import lazy

if TYPE_CHECKING:
    import asyncio

    import anyio
    import anyio.abc
else:
    anyio = lazy(globals(), "anyio", "anyio.abc")
    asyncio = lazy(globals(), "asyncio")

__all__ = ["AnyioErrGroup", "AsyncioErrGroup", "ThreadErrGroup"]

Ts = TypeVarTuple("Ts")  # the arguments a function is started with


class _Errors:
    """The errors of one group, in the order they happened, and how the block ends."""

    def __init__(self, collect: bool) -> None:
        self.collect = collect
        self.errors: list[Exception] = []

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        if self.collect:
            raise ExceptionGroup("functions started in the ErrGroup raised", self.errors)
        first, others = self.errors[0], self.errors[1:]
        if others:
            first.add_note(f"ErrGroup: {len(others)} more error(s) after this one, in its "
                           f".errors: {', '.join(type(e).__name__ for e in others)}")
        raise first


def _limit(limit: int | None) -> float:
    return math.inf if limit is None else check_positive_int("limit", limit)


def _describe(group: object, running: int, limit: float, errors: int) -> str:
    bound = "" if math.isinf(limit) else f"/{limit:g}"
    return f"<{type(group).__name__} {running}{bound} running, {errors} error(s)>"


# --8<-- [start:asyncio]
class AsyncioErrGroup:
    """Go's errgroup for asyncio tasks: ``async with ErrGroup(limit=10) as g: await g.go(fn)``.

    ``await g.go(fn, *args)`` starts ``fn(*args)`` in a new task, waiting for room under the
    limit first; ``g.try_go`` starts it only if there is room now. The first function to raise
    cancels the others and the block, and the block raises it as itself when it ends; every
    error is in ``g.errors``. Cancelling the block from outside cancels every function before
    the cancellation goes on, and ``g.cancel()`` cancels them all and ends the block quietly.
    Over ``asyncio.TaskGroup``, with a count of running tasks and a queue of waiting ``go()``
    calls, served in the order they asked.

    Args:
        limit: the most functions running at once (>= 1); ``None``, no limit.
        collect_errors: let every function run and raise an ``ExceptionGroup`` of all the
            errors, instead of cancelling the rest at the first one.

    Raises:
        TypeError, ValueError: *limit* is not an int >= 1.
    """

    def __init__(self, *, limit: int | None = None, collect_errors: bool = False) -> None:
        self._limit = _limit(limit)
        self._errors = _Errors(collect_errors)
        self._running = 0
        self._waiters: deque[asyncio.Future[None]] = deque()  # go() calls waiting for room
        self._group: asyncio.TaskGroup | None = None
        self._host: asyncio.Task[Any] | None = None
        self._cancelled = False

    @property
    def errors(self) -> list[Exception]:
        """Every error so far, in the order they happened."""
        return self._errors.errors

    async def go(self, fn: Callable[[*Ts], Awaitable[object]], *args: *Ts) -> None:
        """Start ``fn(*args)`` in a new task, waiting for room under the limit first."""
        check_callable("fn", fn)
        group = self._entered()
        if not self._take_now():
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter  # set by a finishing task, which hands its place over to us
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._give()  # handed over as we were cancelled: pass it on
                else:
                    self._waiters.remove(waiter)
                raise
        group.create_task(self._run(fn, args))

    def try_go(self, fn: Callable[[*Ts], Awaitable[object]], *args: *Ts) -> bool:
        """Start ``fn(*args)`` if there is room now; ``False`` (nothing started) if not."""
        check_callable("fn", fn)
        group = self._entered()
        if self._cancelled or not self._take_now():
            return False
        group.create_task(self._run(fn, args))
        return True

    def cancel(self) -> None:
        """Cancel every running function and the block; the block then ends quietly."""
        self._cancelled = True
        if self._host is not None:
            self._host.cancel()

    async def _run(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        try:
            await fn(*args)
        except Exception as exc:
            self._errors.errors.append(exc)  # in the order they happen: the first is first
            if not self._errors.collect:
                raise  # the task group cancels the others and the block
        finally:
            self._give()

    def _take_now(self) -> bool:
        if self._running < self._limit and not self._waiters:
            self._running += 1
            return True
        return False

    def _give(self) -> None:
        while self._waiters:  # hand the place to the longest waiter, if one is still there
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._running -= 1

    def _entered(self) -> asyncio.TaskGroup:
        if self._group is None:
            raise RuntimeError("use the group as 'async with ErrGroup() as g:'")
        return self._group

    async def __aenter__(self) -> AsyncioErrGroup:
        self._host = asyncio.current_task()
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> bool:
        assert self._group is not None
        assert self._host is not None
        try:
            await self._group.__aexit__(et, e, tb)
        except BaseExceptionGroup as group:
            if not all(isinstance(x, Exception) for x in _leaves(group)) or not self.errors:
                raise  # a KeyboardInterrupt, or an error of the block itself: unchanged
        except asyncio.CancelledError:
            if not (self._cancelled and self._host.uncancel() == 0):
                raise  # cancelled from outside, not by cancel()
            return True
        finally:
            self._group = None
        self._errors.raise_if_any()
        return False

    def __repr__(self) -> str:
        return _describe(self, self._running, self._limit, len(self.errors))
# --8<-- [end:asyncio]


def _leaves(group: BaseExceptionGroup[Any]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out += _leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc]
    return out


# --8<-- [start:anyio]
class AnyioErrGroup:
    """Go's errgroup for anyio tasks, on asyncio or trio: ``async with ErrGroup() as g:``.

    ``await g.go(fn, *args)`` starts ``fn(*args)`` in a new task, waiting for room under the
    limit first; ``g.try_go`` starts it only if there is room now. The first function to raise
    cancels the others and the block, and the block raises it as itself when it ends; every
    error is in ``g.errors``. Cancelling the block from outside (a cancel scope, a cancelled
    task group) cancels every function before the cancellation goes on, and ``g.cancel()``
    cancels them all and ends the block quietly. Over an anyio task group and a
    ``CapacityLimiter``, which serves waiters first come, first served.

    Args:
        limit: the most functions running at once (>= 1); ``None``, no limit.
        collect_errors: let every function run and raise an ``ExceptionGroup`` of all the
            errors, instead of cancelling the rest at the first one.

    Raises:
        TypeError, ValueError: *limit* is not an int >= 1.
    """

    def __init__(self, *, limit: int | None = None, collect_errors: bool = False) -> None:
        self._limit = _limit(limit)
        self._errors = _Errors(collect_errors)
        self._slots = anyio.CapacityLimiter(self._limit)
        self._group: anyio.abc.TaskGroup | None = None

    @property
    def errors(self) -> list[Exception]:
        """Every error so far, in the order they happened."""
        return self._errors.errors

    async def go(self, fn: Callable[[*Ts], Awaitable[object]], *args: *Ts) -> None:
        """Start ``fn(*args)`` in a new task, waiting for room under the limit first."""
        check_callable("fn", fn)
        group = self._entered()
        token = object()  # the limiter counts borrowers; each task is one
        try:
            self._slots.acquire_on_behalf_of_nowait(token)  # room: no trip through the scheduler
        except anyio.WouldBlock:
            await self._slots.acquire_on_behalf_of(token)
        group.start_soon(self._run, fn, args, token)

    def try_go(self, fn: Callable[[*Ts], Awaitable[object]], *args: *Ts) -> bool:
        """Start ``fn(*args)`` if there is room now; ``False`` (nothing started) if not."""
        check_callable("fn", fn)
        group = self._entered()
        token = object()
        if group.cancel_scope.cancel_called:
            return False
        try:
            self._slots.acquire_on_behalf_of_nowait(token)
        except anyio.WouldBlock:
            return False
        group.start_soon(self._run, fn, args, token)
        return True

    def cancel(self) -> None:
        """Cancel every running function and the block; the block then ends quietly."""
        self._entered().cancel_scope.cancel()

    async def _run(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...],
                   token: object) -> None:
        try:
            await fn(*args)
        except Exception as exc:
            self._errors.errors.append(exc)
            if not self._errors.collect:
                assert self._group is not None
                self._group.cancel_scope.cancel()  # the others, and the block
        finally:
            self._slots.release_on_behalf_of(token)

    def _entered(self) -> anyio.abc.TaskGroup:
        if self._group is None:
            raise RuntimeError("use the group as 'async with ErrGroup() as g:'")
        return self._group

    async def __aenter__(self) -> AnyioErrGroup:
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> bool | None:
        assert self._group is not None
        try:
            # Our tasks never raise (_run keeps their errors): only the block's own exit
            # status, or a cancellation, comes out of here.
            suppressed = await self._group.__aexit__(et, e, tb)
        finally:
            self._group = None
        self._errors.raise_if_any()
        return suppressed

    def __repr__(self) -> str:
        return _describe(self, int(self._slots.borrowed_tokens), self._limit, len(self.errors))
# --8<-- [end:anyio]


# --8<-- [start:threads]
class ThreadErrGroup:
    """Go's errgroup for threads: ``with ErrGroup(limit=4) as g: g.go(fn, ...)``.

    ``g.go(fn, *args)`` starts ``fn(*args)`` in a new thread, blocking for room under the limit
    first; ``g.try_go`` starts it only if there is room now. A thread cannot be cancelled:
    after the first error (or ``cancel()``), no new function starts, ``cancelled`` is set for
    running functions to check, and the block waits for them all before it raises the first
    error as itself. Every error is in ``g.errors``; no thread outlives the block.

    Args:
        limit: the most functions running at once (>= 1); ``None``, no limit.
        collect_errors: let every function run and raise an ``ExceptionGroup`` of all the
            errors, instead of cancelling the rest at the first one.

    Raises:
        TypeError, ValueError: *limit* is not an int >= 1.
    """

    def __init__(self, *, limit: int | None = None, collect_errors: bool = False) -> None:
        self._limit = _limit(limit)
        self._errors = _Errors(collect_errors)
        self._cond = threading.Condition()
        self._running = 0
        self._threads: list[threading.Thread] = []
        self.cancelled = threading.Event()
        """Set at the first error (unless ``collect_errors``) or by ``cancel()``."""

    @property
    def errors(self) -> list[Exception]:
        """Every error so far, in the order they happened."""
        with self._cond:
            return list(self._errors.errors)

    def go(self, fn: Callable[[*Ts], object], *args: *Ts) -> bool:
        """Start ``fn(*args)`` in a new thread, blocking for room under the limit first.

        Returns:
            ``True`` if it started; ``False`` once the group is cancelled.
        """
        check_callable("fn", fn)
        with self._cond:
            self._cond.wait_for(lambda: self._running < self._limit or self.cancelled.is_set())
            return self._start_locked(fn, args)

    def try_go(self, fn: Callable[[*Ts], object], *args: *Ts) -> bool:
        """Start ``fn(*args)`` if there is room now; ``False`` (nothing started) if not."""
        check_callable("fn", fn)
        with self._cond:
            return self._running < self._limit and self._start_locked(fn, args)

    def cancel(self) -> None:
        """Start nothing more and set ``cancelled``; running functions finish."""
        with self._cond:
            self.cancelled.set()
            self._cond.notify_all()

    def _start_locked(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
        if self.cancelled.is_set():
            return False
        self._running += 1
        if len(self._threads) > 2 * self._running + 16:  # forget finished threads as we go:
            self._threads = [t for t in self._threads if t.is_alive()]  # memory stays flat
        thread = threading.Thread(target=self._run, args=(fn, args), name="errgroup")
        self._threads.append(thread)
        thread.start()
        return True

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except Exception as exc:
            with self._cond:
                self._errors.errors.append(exc)
                if not self._errors.collect:
                    self.cancelled.set()
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    def __enter__(self) -> ThreadErrGroup:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> None:
        if et is not None:
            self.cancel()  # the block failed: start nothing more
        for thread in self._threads:
            thread.join()
        if et is None:
            self._errors.raise_if_any()

    def __repr__(self) -> str:
        with self._cond:
            return _describe(self, self._running, self._limit, len(self._errors.errors))
# --8<-- [end:threads]
