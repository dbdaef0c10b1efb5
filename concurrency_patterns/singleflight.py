"""Singleflight: concurrent callers for the same key share one call — Go's ``singleflight``.

When a cache entry expires under load, a thousand requests miss it at once and a thousand
identical queries hit the database: a cache stampede. ``golang.org/x/sync/singleflight``
answers it with ``g.Do(key, fn)``: the first caller for a key runs ``fn``; every caller that
arrives while it runs waits for that call and gets its result.

The contract, for every variant:

* **One call per key per flight**: while a call for *key* is in flight, ``do(key, ...)`` joins
  it instead of calling again. Once it is over, the next ``do`` starts a new flight.
* **Shared outcome**: every caller gets the call's value, or its exception, raised as itself;
  each caller's traceback is the failed call's plus its own frames, not every other caller's.
* **Cancellation** (async variants): the call runs in a task of its own, not in a caller's. A
  caller that is cancelled (or whose ``timeout`` runs out) just stops waiting; the others
  are not failed. When the last caller stops waiting, the call is cancelled: nothing runs
  for no one. With ``finish_calls=True`` it runs to its end instead (Go's ``DoChan``), so a
  cache behind it is filled, and ``call_timeout`` bounds every call. The group is a context
  manager that owns those tasks, so none outlives it.
* ``timeout`` caps how long a caller waits (``TimeoutError``); the call goes on for the rest.
* ``forget(key)`` makes the next ``do(key, ...)`` start a new call even while one is in flight.
  Finished flights are always forgotten: the group never grows with the keys it has seen.

Threads cannot be cancelled: in ``threads.SingleFlight`` the first caller runs ``fn`` in its own
thread, and the others wait for it (with their ``timeout``, if given).

Which to pick: ``anyio.SingleFlight`` in async code (asyncio or trio), ``asyncio.SingleFlight``
on asyncio with no dependency, ``threads.SingleFlight`` in blocking code.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Hashable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, TypeVarTuple

from ._core import check_callable, check_positive_number
from ._core.lazy import lazy

if TYPE_CHECKING:
    import asyncio

    import anyio
    import anyio.abc
else:
    anyio = lazy(globals(), "anyio", "anyio.abc")
    asyncio = lazy(globals(), "asyncio")

__all__ = ["AnyioSingleFlight", "AsyncioSingleFlight", "ThreadSingleFlight"]

Ts = TypeVarTuple("Ts")  # the arguments a function is started with

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Flight:
    """One call in flight: who waits for it, and how it ended."""

    def __init__(self, done: Any) -> None:
        self.done = done  # an Event of the caller's model
        self.waiting = 0
        self.value: Any = None
        self.error: BaseException | None = None
        self.cancel: Callable[[], object] = lambda: None

    def outcome(self) -> Any:
        error = self.error
        if error is not None:
            # Every caller raises the one exception object, as Go returns one err to all. Each
            # raise would add the caller's frames to its traceback (about three per caller:
            # 1,500 entries for 500 callers, every frame kept alive), so each caller raises it
            # from where the call failed: its traceback is that, plus this caller's own frames.
            if self.traceback is None:
                self.traceback = error.__traceback__
            raise error.with_traceback(self.traceback)
        return self.value

    traceback: TracebackType | None = None  # the failed call's own, kept at the first raise


def _check(fn: object, timeout: float | None) -> None:
    check_callable("fn", fn)
    if timeout is not None:
        check_positive_number("timeout", timeout)


def _describe(group: object, flights: Mapping[Any, _Flight]) -> str:
    waiting = sum(f.waiting for f in flights.values())
    return f"<{type(group).__name__} {len(flights)} in flight, {waiting} caller(s) waiting>"


class _AsyncSingleFlight(Generic[K, V]):
    """The group for one event loop; the subclasses bring asyncio's or anyio's tasks."""

    def __init__(self, *, finish_calls: bool = False, call_timeout: float | None = None) -> None:
        if call_timeout is not None:
            check_positive_number("call_timeout", call_timeout)
        self._flights: dict[K, _Flight] = {}
        self._finish_calls = finish_calls
        self._call_timeout = call_timeout

    async def do(self, key: K, fn: Callable[[*Ts], Awaitable[V]], *args: *Ts,
                 timeout: float | None = None) -> V:
        """Return ``await fn(*args)``, sharing one call among concurrent callers for *key*.

        Args:
            key: what identifies the call (hashable); callers with equal keys share it.
            fn: an async function; only the call that starts a flight runs it.
            *args: its arguments (those of the caller that starts the flight are used).
            timeout: the most seconds this caller waits (> 0); ``None``, no limit.

        Returns:
            The call's value, the same for every caller of the flight.

        Raises:
            TimeoutError: *timeout* ran out; the call goes on for the other callers.
            TypeError, ValueError: bad *fn* or *timeout*, before anything starts.
            Exception: whatever the call raised, raised in every caller of the flight.
        """
        _check(fn, timeout)
        flight = self._flights.get(key)
        if flight is None:
            flight = self._flights[key] = self._start(key, fn, args)
        flight.waiting += 1
        try:
            await self._wait(flight, timeout)
        except BaseException:
            # This caller stops waiting (cancelled, timed out). The last one to leave a call
            # that is still running cancels it: nobody wants its result any more; unless the
            # group finishes its calls (Go's DoChan), for a cache that stores what they return.
            flight.waiting -= 1
            if flight.waiting == 0 and not flight.done.is_set() and not self._finish_calls:
                flight.cancel()
                self._drop(key, flight)
            raise
        flight.waiting -= 1
        result: V = flight.outcome()
        return result

    def forget(self, key: K) -> None:
        """The next ``do(key, ...)`` starts a new call, even if one is in flight."""
        self._flights.pop(key, None)

    async def _run(self, key: K, flight: _Flight, fn: Callable[..., Awaitable[V]],
                   args: tuple[Any, ...]) -> None:
        try:
            if self._call_timeout is None:
                flight.value = await fn(*args)
            else:
                flight.value = await self._bounded(self._call_timeout, fn, args)
        except Exception as exc:  # the call's own failure is every caller's answer
            flight.error = exc
        except BaseException:  # cancelled: only when no caller waits, or the group closes
            flight.error = RuntimeError(f"the call for {key!r} was cancelled")
            raise
        finally:  # this flight is over: the next do() starts a new one
            self._drop(key, flight)
            flight.done.set()

    def _drop(self, key: K, flight: _Flight) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]

    def _start(self, key: K, fn: Callable[..., Awaitable[V]],
               args: tuple[Any, ...]) -> _Flight:
        raise NotImplementedError

    async def _wait(self, flight: _Flight, timeout: float | None) -> None:
        raise NotImplementedError

    async def _bounded(self, seconds: float, fn: Callable[..., Awaitable[V]],
                       args: tuple[Any, ...]) -> V:
        raise NotImplementedError

    def __repr__(self) -> str:
        return _describe(self, self._flights)


class AsyncioSingleFlight(_AsyncSingleFlight[K, V]):
    """Go's singleflight for asyncio: ``async with SingleFlight() as flights:``.

    ``await flights.do(key, fn, *args)``: the first caller for *key* starts ``fn(*args)`` in
    the group's own ``asyncio.TaskGroup``; callers for the same key that arrive while it runs
    share its result or its error, and a key is forgotten when its call ends (``forget``
    drops it sooner). A caller that is cancelled, or whose *timeout* runs out, only stops
    waiting; when the last caller of a flight leaves, the call is cancelled (unless
    *finish_calls*). Leaving the block cancels every call still in flight. ``repr(group)``
    shows the calls in flight and the callers waiting.

    Args:
        finish_calls: let a call run to its end when every caller has stopped waiting (Go's
            ``DoChan``), so that what it stores (a cache entry) is stored; a new caller for
            the key joins it meanwhile. Leaving the block then waits for the calls still
            running, unless it is left by an error or a cancellation. By default the last
            caller to leave cancels the call.
        call_timeout: the most seconds one call may run (> 0): past it, the call is
            cancelled and every caller gets ``TimeoutError``. ``None``, no bound.

    Raises:
        TypeError, ValueError: *call_timeout* is not a number of seconds > 0.
    """

    def __init__(self, *, finish_calls: bool = False, call_timeout: float | None = None) -> None:
        super().__init__(finish_calls=finish_calls, call_timeout=call_timeout)
        self._group: asyncio.TaskGroup | None = None

    def _start(self, key: K, fn: Callable[..., Awaitable[V]],
               args: tuple[Any, ...]) -> _Flight:
        if self._group is None:
            raise RuntimeError("use the group as 'async with SingleFlight() as g:'")
        flight = _Flight(asyncio.Event())
        task = self._group.create_task(self._run(key, flight, fn, args))
        flight.cancel = task.cancel
        return flight

    async def _wait(self, flight: _Flight, timeout: float | None) -> None:
        if timeout is None:  # no scope to enter: the common case pays for none
            await flight.done.wait()
            return
        async with asyncio.timeout(timeout):
            await flight.done.wait()

    async def _bounded(self, seconds: float, fn: Callable[..., Awaitable[V]],
                       args: tuple[Any, ...]) -> V:
        async with asyncio.timeout(seconds):
            return await fn(*args)

    async def __aenter__(self) -> AsyncioSingleFlight[K, V]:
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> None:
        assert self._group is not None
        if not self._finish_calls or et is not None:
            for flight in list(self._flights.values()):  # no caller is left to wait for them
                flight.cancel()
        group, self._group = self._group, None
        await group.__aexit__(et, e, tb)


class AnyioSingleFlight(_AsyncSingleFlight[K, V]):
    """Go's singleflight for anyio, on asyncio or trio: ``async with SingleFlight() as flights:``.

    ``await flights.do(key, fn, *args)``: the first caller for *key* starts ``fn(*args)`` in
    the group's task group; callers for the same key that arrive while it runs share its
    result or its error, and a key is forgotten when its call ends (``forget`` drops it
    sooner). A caller that is cancelled, or whose *timeout* runs out, only stops waiting; when
    the last caller of a flight leaves, the call is cancelled (unless *finish_calls*). Leaving
    the block cancels every call still in flight. Each call runs in a cancel scope of its own.
    ``repr(group)`` shows the calls in flight and the callers waiting.

    Args:
        finish_calls: let a call run to its end when every caller has stopped waiting (Go's
            ``DoChan``), so that what it stores (a cache entry) is stored; a new caller for
            the key joins it meanwhile. Leaving the block then waits for the calls still
            running, unless it is left by an error or a cancellation. By default the last
            caller to leave cancels the call.
        call_timeout: the most seconds one call may run (> 0): past it, the call is
            cancelled and every caller gets ``TimeoutError``. ``None``, no bound.

    Raises:
        TypeError, ValueError: *call_timeout* is not a number of seconds > 0.
    """

    def __init__(self, *, finish_calls: bool = False, call_timeout: float | None = None) -> None:
        super().__init__(finish_calls=finish_calls, call_timeout=call_timeout)
        self._group: anyio.abc.TaskGroup | None = None

    def _start(self, key: K, fn: Callable[..., Awaitable[V]],
               args: tuple[Any, ...]) -> _Flight:
        if self._group is None:
            raise RuntimeError("use the group as 'async with SingleFlight() as g:'")
        flight, scope = _Flight(anyio.Event()), anyio.CancelScope()
        flight.cancel = scope.cancel  # a scope cancelled before it is entered cancels at once

        async def run() -> None:
            with scope:
                await self._run(key, flight, fn, args)
            if not flight.done.is_set():  # cancelled before it ran: over all the same
                flight.error = RuntimeError(f"the call for {key!r} was cancelled")
                self._drop(key, flight)
                flight.done.set()

        self._group.start_soon(run)
        return flight

    async def _wait(self, flight: _Flight, timeout: float | None) -> None:
        if timeout is None:  # a cancel scope costs more than the wait on asyncio: none needed
            await flight.done.wait()
            return
        with anyio.fail_after(timeout):
            await flight.done.wait()

    async def _bounded(self, seconds: float, fn: Callable[..., Awaitable[V]],
                       args: tuple[Any, ...]) -> V:
        with anyio.fail_after(seconds):
            return await fn(*args)

    async def __aenter__(self) -> AnyioSingleFlight[K, V]:
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> bool | None:
        assert self._group is not None
        if not self._finish_calls or et is not None:
            self._group.cancel_scope.cancel()  # no caller is left to wait for a call in flight
        group, self._group = self._group, None
        return await group.__aexit__(et, e, tb)


class ThreadSingleFlight(Generic[K, V]):
    """Go's singleflight for threads: concurrent callers for one key share one call.

    ``flights.do(key, fn, *args)``: the first caller for *key* runs ``fn(*args)`` in its own
    thread; callers for the same key that arrive while it runs block until it ends and share
    its result or its error, and a key is forgotten when its call ends (``forget`` drops it
    sooner). Nothing can be cancelled: a caller whose *timeout* runs out stops waiting, and
    the call goes on. ``repr(group)`` shows the calls in flight and the callers waiting.
    """

    def __init__(self) -> None:
        self._flights: dict[K, _Flight] = {}
        self._lock = threading.Lock()  # guards _flights and the waiting counts

    def do(self, key: K, fn: Callable[[*Ts], V], *args: *Ts,
           timeout: float | None = None) -> V:
        """Return ``fn(*args)``, sharing one call among concurrent callers for *key*.

        Args:
            key: what identifies the call; any hashable value.
            fn: a plain function; only the first caller's is called.
            *args: its arguments.
            timeout: the most seconds this caller waits (> 0); ``None``, as long as it takes.
                The call itself goes on when a caller stops waiting.

        Returns:
            What the shared call returned.

        Raises:
            Exception: whatever the shared call raised, in every caller that waited for it.
            TimeoutError: *timeout* ran out before the call ended.
            TypeError, ValueError: for a bad argument, naming it.
        """
        _check(fn, timeout)
        with self._lock:
            flight = self._flights.get(key)
            runner = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight(threading.Event())
            flight.waiting += 1
        try:
            if runner:
                self._run(key, flight, fn, args)
            elif not flight.done.wait(timeout):
                raise TimeoutError(f"waited {timeout} s for the call in flight for {key!r}")
        finally:
            with self._lock:
                flight.waiting -= 1
        result: V = flight.outcome()
        return result

    def forget(self, key: K) -> None:
        """The next ``do(key, ...)`` starts a new call, even if one is in flight."""
        with self._lock:
            self._flights.pop(key, None)

    def _run(self, key: K, flight: _Flight, fn: Callable[..., V],
             args: tuple[Any, ...]) -> None:
        try:
            flight.value = fn(*args)
        except BaseException as exc:  # every caller gets it; the runner's raise goes on too
            flight.error = exc
            if not isinstance(exc, Exception):
                raise
        finally:
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.done.set()

    def __repr__(self) -> str:
        with self._lock:
            return _describe(self, self._flights)
