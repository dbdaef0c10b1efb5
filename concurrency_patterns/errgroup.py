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
  block, and is raised as itself when the block ends; so is an error of the block's own.
  Nothing is lost: every error is in ``g.errors`` in the order they happened, and the first
  carries a note naming the others. Once the group has stopped, nothing more starts:
  ``go()`` cancels a caller inside the group and tells one outside it (``RuntimeError``),
  and ``try_go()`` returns ``False``.
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
    import anyio.lowlevel
else:
    anyio = lazy(globals(), "anyio", "anyio.abc", "anyio.lowlevel")
    asyncio = lazy(globals(), "asyncio")

__all__ = ["AnyioErrGroup", "AsyncioErrGroup", "ThreadErrGroup"]

Ts = TypeVarTuple("Ts")  # the arguments a function is started with


class _Errors:
    """The errors of one group, in the order they happened, and how the block ends."""

    def __init__(self, collect: bool) -> None:
        self.collect = collect
        self.errors: list[Exception] = []

    def raise_if_any(self, errors: list[Exception] | None = None) -> None:
        errors = self.errors if errors is None else errors
        if not errors:
            return
        if self.collect:
            raise ExceptionGroup("functions started in the ErrGroup raised", errors)
        first, others = errors[0], errors[1:]
        if others:
            first.add_note(f"ErrGroup: {len(others)} more error(s) after this one, in its "
                           f".errors: {', '.join(type(e).__name__ for e in others)}")
        raise first


def _stopping_error() -> RuntimeError:
    return RuntimeError("the ErrGroup has stopped (an error, cancel(), or its block has ended):"
                        " nothing more starts from outside it")


def _body_first(errors: list[Exception], before: int, body: BaseException) -> list[Exception]:
    """The group's errors with the block's own in its place by time: after the *before*
    errors that happened before the block raised, ahead of any that came while it ended."""
    if not isinstance(body, Exception):
        return errors
    return [*errors[:before], body, *errors[before:]]


def _limit(limit: int | None) -> float:
    return math.inf if limit is None else check_positive_int("limit", limit)


def _not_entered() -> RuntimeError:
    return RuntimeError("use the group as 'with ErrGroup() as g:'")


def _describe(group: object, running: int, limit: float, errors: int) -> str:
    bound = "" if math.isinf(limit) else f"/{limit:g}"
    return f"<{type(group).__name__} {running}{bound} running, {errors} error(s)>"


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
        # go() calls waiting for room, in order: each is handed a place (True), or told the
        # group has stopped (False).
        self._waiters: deque[asyncio.Future[bool]] = deque()
        self._refused: list[asyncio.Future[None]] = []  # go() calls after the group stopped
        self._group: asyncio.TaskGroup | None = None
        self._host: asyncio.Task[Any] | None = None
        self._cancelled = False  # cancel() was called
        self._failed = False  # a function raised (unless collect_errors)
        self._body_ended = False  # the block's own code is done: only its functions may start
        # The name of every task that runs one of the group's functions: how go() knows its
        # caller is one of them, with no set of tasks kept up to date as they start and end.
        self._tag = f"{type(self).__name__} {id(self):#x}: a function"

    @property
    def errors(self) -> list[Exception]:
        """Every error so far, in the order they happened."""
        return self._errors.errors

    async def go(self, fn: Callable[[*Ts], Awaitable[object]], *args: *Ts) -> None:
        """Start ``fn(*args)`` in a new task, waiting for room under the limit first.

        Callers waiting for room get it in the order they asked. Once the group has stopped
        (a function raised, or ``cancel()``), nothing more starts: a caller inside the group
        (the block, or one of its functions) is cancelled with it, here; a caller outside it
        gets ``RuntimeError`` when the block ends.

        Raises:
            TypeError: *fn* is not callable.
            RuntimeError: the group is not entered (``async with``), or it stopped and the
                caller is outside it.
        """
        group = self._group
        if (group is not None and not self._failed and not self._cancelled
                and self._running < self._limit and not self._waiters and callable(fn)):
            self._running += 1  # the fast path, when there is room: _take_now, inlined
            group.create_task(self._run(fn, args), name=self._tag)
            return
        check_callable("fn", fn)
        group = self._entered()
        if not self._stopping():
            if self._take_now():
                group.create_task(self._run(fn, args), name=self._tag)
                return
            waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                placed = await waiter  # a finishing task hands its place over: True
            except BaseException:
                if waiter.done() and not waiter.cancelled() and waiter.result():
                    self._give()  # handed over as we were cancelled: pass it on
                elif waiter in self._waiters:
                    self._waiters.remove(waiter)
                raise
            # Once the block's own code is done, the group may finish at any moment: only its
            # own functions may still start others (Go's g.Go during Wait).
            if placed and self._body_ended and not self._inside():
                self._give()
                raise _stopping_error()
            if placed:
                group.create_task(self._run(fn, args), name=self._tag)
                return
        await self._refuse()

    def try_go(self, fn: Callable[[*Ts], Awaitable[object]], *args: *Ts) -> bool:
        """Start ``fn(*args)`` if there is room now; ``False`` (nothing started) if not, or
        once the group has stopped.

        Raises:
            TypeError: *fn* is not callable.
            RuntimeError: the group is not entered (``async with``).
        """
        check_callable("fn", fn)
        group = self._entered()
        if self._stopping() or not self._take_now():
            return False
        group.create_task(self._run(fn, args), name=self._tag)
        return True

    def cancel(self) -> None:
        """Cancel every running function and the block; the block then ends quietly."""
        self._cancelled = True
        self._turn_away_waiters()
        if self._host is not None:
            self._host.cancel()

    async def _run(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        try:
            await fn(*args)
        except Exception as exc:
            self._errors.errors.append(exc)  # in the order they happen: the first is first
            if not self._errors.collect:
                self._failed = True  # before _give below: no waiter gets this place
                raise  # the task group cancels the others and the block
        finally:
            self._give()

    def _inside(self) -> bool:
        """Whether the caller is the block's task or one of the group's functions."""
        me = asyncio.current_task()
        return me is self._host or (me is not None and me.get_name() == self._tag)

    def _stopping(self) -> bool:
        return self._failed or self._cancelled

    def _take_now(self) -> bool:
        if self._running < self._limit and not self._waiters:
            self._running += 1
            return True
        return False

    def _give(self) -> None:
        if self._stopping():
            self._running -= 1
            self._turn_away_waiters()
            return
        while self._waiters:  # hand the place to the longest waiter, if one is still there
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)
                return
        self._running -= 1

    def _turn_away_waiters(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(False)

    async def _refuse(self) -> None:
        # The group has stopped. A caller inside it is cancelled by the task group at once
        # (the failing task's end schedules it), so it waits here for that; a caller outside
        # it would wait for nothing, so the block's end tells it so.
        #
        #     async with ErrGroup(limit=1) as g:
        #         await g.go(fails_soon)
        #         await g.go(more)       # waits for room; the error comes: cancelled here
        parked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._refused.append(parked)
        try:
            await parked
        finally:
            self._refused.remove(parked)

    def _entered(self) -> asyncio.TaskGroup:
        if self._group is None:
            raise RuntimeError("use the group as 'async with ErrGroup() as g:'")
        return self._group

    async def __aenter__(self) -> AsyncioErrGroup:
        self._host = asyncio.current_task()
        assert self._host is not None
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> bool:
        assert self._group is not None
        assert self._host is not None
        before = len(self.errors)  # the errors that came before the block's own, if any
        self._body_ended = True
        try:
            await self._group.__aexit__(et, e, tb)
        except BaseExceptionGroup as group:
            leaves = _leaves(group)
            if not all(isinstance(x, Exception) for x in leaves):
                raise  # a KeyboardInterrupt or the like: unchanged
            # The block's own error comes out as itself, as a function's does (with the
            # functions' errors, the first by time wins).
            errors = _body_first(self.errors, before, e) if e in leaves else self.errors
            self._errors.raise_if_any(errors)
            raise  # not reached: every leaf is an error, so there is one to raise
        except asyncio.CancelledError:
            if not (self._cancelled and self._host.uncancel() == 0):
                raise  # cancelled from outside, not by cancel()
            return True
        finally:
            self._group = None
            for parked in self._refused:  # callers outside the group, still waiting
                if not parked.done():
                    parked.set_exception(_stopping_error())
        self._errors.raise_if_any()
        return False

    def __repr__(self) -> str:
        return _describe(self, self._running, self._limit, len(self.errors))


def _leaves(group: BaseExceptionGroup[Any]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out += _leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc]
    return out


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
        # No limiter with no limit: nothing ever waits for room, and a borrow costs.
        self._slots = None if limit is None else anyio.CapacityLimiter(self._limit)
        self._running = 0  # with no limiter: the functions started and not yet ended
        self._group: anyio.abc.TaskGroup | None = None
        self._stopped = False  # a function raised (unless collect_errors), cancel(), or exit
        self._body_ended = False  # the block's own code is done: only its functions may start
        self._host = 0  # the id of the block's task
        # The name of every task that runs one of the group's functions: how go() knows its
        # caller is one of them, with no set of tasks kept up to date as they start and end.
        self._tag = f"{type(self).__name__} {id(self):#x}: a function"

    @property
    def errors(self) -> list[Exception]:
        """Every error so far, in the order they happened."""
        return self._errors.errors

    async def go(self, fn: Callable[[*Ts], Awaitable[object]], *args: *Ts) -> None:
        """Start ``fn(*args)`` in a new task, waiting for room under the limit first.

        Callers waiting for room get it in the order they asked. Once the group has stopped
        (a function raised, or ``cancel()``), nothing more starts: a caller inside the group
        (the block, or one of its functions) is cancelled with it, here; a caller outside it
        gets ``RuntimeError``.

        Raises:
            TypeError: *fn* is not callable.
            RuntimeError: the group is not entered (``async with``), or it stopped and the
                caller is outside it.
        """
        check_callable("fn", fn)
        group = self._entered()
        if not self._stopped:
            slots, token = self._slots, None
            if slots is not None:
                token = object()  # the limiter counts borrowers; each task is one
                try:
                    slots.acquire_on_behalf_of_nowait(token)  # room: no scheduler trip
                except anyio.WouldBlock:
                    await slots.acquire_on_behalf_of(token)
            # Once the block's own code is done, only the group's own functions may start
            # others (Go's g.Go during Wait), on asyncio and on trio alike.
            if not self._stopped and not (self._body_ended and not self._inside()):
                self._running += 1
                group.start_soon(self._run, fn, args, token, name=self._tag)
                return
            if slots is not None:
                slots.release_on_behalf_of(token)
        # Stopped: the group's cancel scope is cancelled, so a caller inside it stops at this
        # checkpoint; one outside it does not, and is told.
        await anyio.lowlevel.checkpoint()
        raise _stopping_error()

    def try_go(self, fn: Callable[[*Ts], Awaitable[object]], *args: *Ts) -> bool:
        """Start ``fn(*args)`` if there is room now; ``False`` (nothing started) if not, or
        once the group has stopped.

        Raises:
            TypeError: *fn* is not callable.
            RuntimeError: the group is not entered (``async with``).
        """
        check_callable("fn", fn)
        group = self._entered()
        if self._stopped or group.cancel_scope.cancel_called:
            return False
        token = None
        if self._slots is not None:
            token = object()
            try:
                self._slots.acquire_on_behalf_of_nowait(token)
            except anyio.WouldBlock:
                return False
        self._running += 1
        group.start_soon(self._run, fn, args, token, name=self._tag)
        return True

    def cancel(self) -> None:
        """Cancel every running function and the block; the block then ends quietly."""
        self._entered().cancel_scope.cancel()
        self._stopped = True

    def _inside(self) -> bool:
        """Whether the caller is the block's task or one of the group's functions."""
        me = anyio.get_current_task()
        return me.id == self._host or me.name == self._tag

    async def _run(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...],
                   token: object) -> None:
        try:
            await fn(*args)
        except Exception as exc:
            self._errors.errors.append(exc)
            if not self._errors.collect:
                assert self._group is not None
                self._stopped = True
                self._group.cancel_scope.cancel()  # the others, and the block
        finally:
            self._running -= 1
            if token is not None:
                assert self._slots is not None
                self._slots.release_on_behalf_of(token)

    def _entered(self) -> anyio.abc.TaskGroup:
        if self._group is None:
            raise RuntimeError("use the group as 'async with ErrGroup() as g:'")
        return self._group

    async def __aenter__(self) -> AnyioErrGroup:
        self._host = anyio.get_current_task().id
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> bool | None:
        assert self._group is not None
        before = len(self.errors)  # the errors that came before the block's own, if any
        self._body_ended = True
        try:
            # Our tasks never raise (_run keeps their errors): only the block's own exit
            # status, or a cancellation, comes out of here.
            suppressed = await self._group.__aexit__(et, e, tb)
        except BaseExceptionGroup as group:
            leaves = _leaves(group)
            if e is None or e not in leaves or not all(isinstance(x, Exception) for x in leaves):
                raise  # a KeyboardInterrupt or the like: unchanged
            # The block's own error comes out as itself, as a function's does (with the
            # functions' errors, the first by time wins).
            self._errors.raise_if_any(_body_first(self.errors, before, e))
            raise  # not reached
        finally:
            self._group = None
            self._stopped = True  # a caller outside, still waiting for room, is told
        self._errors.raise_if_any()
        return suppressed

    def __repr__(self) -> str:
        return _describe(self, self._running, self._limit, len(self.errors))


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
        self._line: deque[object] = deque()  # a ticket per go() waiting for room, in order
        self._waiting = 0  # callers in wait_for: a finishing thread notifies only for them
        self._fatal: BaseException | None = None  # a BaseException in a function: re-raised
        self._entered = False
        self.cancelled = threading.Event()
        """Set at the first error (unless ``collect_errors``) or by ``cancel()``."""

    @property
    def errors(self) -> list[Exception]:
        """Every error so far, in the order they happened."""
        with self._cond:
            return list(self._errors.errors)

    def go(self, fn: Callable[[*Ts], object], *args: *Ts) -> bool:
        """Start ``fn(*args)`` in a new thread, blocking for room under the limit first.

        Callers waiting for room get it in the order they asked. Once the group has stopped (a
        function raised, or ``cancel()``), nothing more starts.

        Returns:
            ``True`` if it started; ``False`` once the group has stopped.

        Raises:
            TypeError: *fn* is not callable.
            RuntimeError: the group is not entered (``with``).
        """
        check_callable("fn", fn)
        # Made before the lock and started after it: no Python code runs under the lock (see
        # acquire_threads in _core/rate.py for what a GIL switch inside it costs).
        thread = threading.Thread(target=self._run, args=(fn, args), name="errgroup")
        with self._cond:
            if not self._entered:
                raise _not_entered()
            if self._line or self._running >= self._limit or self.cancelled.is_set():
                ticket = object()  # no room now, or others wait first: wait in line
                self._line.append(ticket)
                self._waiting += 1
                try:
                    self._cond.wait_for(lambda: self.cancelled.is_set() or (
                        self._line[0] is ticket and self._running < self._limit))
                finally:
                    self._waiting -= 1
                    self._line.remove(ticket)
                    self._cond.notify_all()  # the next in line may go now
                if self.cancelled.is_set():
                    return False
            self._admit(thread)
        thread.start()
        return True

    def try_go(self, fn: Callable[[*Ts], object], *args: *Ts) -> bool:
        """Start ``fn(*args)`` if there is room now and nobody waits for it; ``False``
        (nothing started) if not, or once the group has stopped.

        Raises:
            TypeError: *fn* is not callable.
            RuntimeError: the group is not entered (``with``).
        """
        check_callable("fn", fn)
        thread = threading.Thread(target=self._run, args=(fn, args), name="errgroup")
        with self._cond:
            if not self._entered:
                raise _not_entered()
            if self._line or self._running >= self._limit or self.cancelled.is_set():
                return False
            self._admit(thread)
        thread.start()
        return True

    def cancel(self) -> None:
        """Start nothing more and set ``cancelled``; running functions finish."""
        with self._cond:
            self.cancelled.set()
            self._cond.notify_all()

    def _admit(self, thread: threading.Thread) -> None:
        """Under the lock: count *thread* as running, and keep it to join."""
        self._running += 1
        if len(self._threads) > 2 * self._running + 16:  # forget finished threads as we go:
            self._threads = [t for t in self._threads if t.is_alive()]  # memory stays flat
        self._threads.append(thread)

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except Exception as exc:
            with self._cond:
                self._errors.errors.append(exc)
                if not self._errors.collect:
                    self.cancelled.set()
        except BaseException as exc:  # SystemExit, KeyboardInterrupt: the block raises it
            with self._cond:
                if self._fatal is None:
                    self._fatal = exc
                self.cancelled.set()
        finally:
            with self._cond:
                self._running -= 1
                if self._waiting:  # someone waits for room, or for the last to finish
                    self._cond.notify_all()

    def __enter__(self) -> ThreadErrGroup:
        self._entered = True
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> None:
        if et is not None:
            self.cancel()  # the block failed: start nothing more
        # Running functions may still start others (Go allows g.Go until Wait returns): wait
        # until none runs, then join every thread the group started.
        with self._cond:
            self._waiting += 1
            try:
                self._cond.wait_for(lambda: self._running == 0)
            finally:
                self._waiting -= 1
            threads, self._threads = self._threads, []
            self._entered = False
        for thread in threads:
            thread.join()
        if self._fatal is not None:
            raise self._fatal  # a panic comes out of the block, as conc re-panics in Wait
        if et is None:
            self._errors.raise_if_any()

    def __repr__(self) -> str:
        with self._cond:
            return _describe(self, self._running, self._limit, len(self._errors.errors))
