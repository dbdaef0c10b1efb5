"""Once: run an initialisation exactly once, however many callers race — Go's ``sync.Once``.

Many tasks need a shared thing (a connection pool, a parsed file) and the first to need it
should make it. ``once.do(f)`` calls ``f`` if and
only if no earlier call succeeded; every concurrent caller waits until that one call has
finished, and all get its value — ``do`` returns what ``f`` returned, like Go's
``sync.OnceValue``.

What happens when ``f`` fails is where Python and Go part ways:

* **Go**: if ``f`` panics, ``Do`` considers it to have returned. The Once is done, and later calls
  do nothing (``OnceValue`` re-panics with the same value on every call). A panic in Go is a bug,
  not something to retry.
* **Here**: if ``f`` raises, the exception goes to the caller that ran it *and* to every caller
  that was waiting on that attempt, and the Once is **not** done: the next call runs ``f`` again.
  In Python an exception is an ordinary outcome — a database that was not up yet — and caching
  it forever would turn one bad second into a broken process.
* If the caller running ``f`` is **cancelled**, ``f`` is interrupted and the Once is not done;
  the callers that were waiting are not cancelled with it: one of them runs ``f`` again.

Happens-before, as in Go: everything ``f`` did is visible to every caller that returns from
``do``. Calling ``do`` on the same Once from inside ``f`` deadlocks, as in Go.

Which to pick: the Once of your model. ``anyio.Once`` runs on asyncio and trio.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, TypeVarTuple

from ._core import check_callable
from ._core.lazy import lazy

if TYPE_CHECKING:
    import asyncio

    import anyio
else:
    anyio = lazy(globals(), "anyio")
    asyncio = lazy(globals(), "asyncio")

__all__ = ["AnyioOnce", "AsyncioOnce", "ThreadOnce"]

Ts = TypeVarTuple("Ts")  # the arguments a function is started with

T = TypeVar("T")


class _Event(Protocol):
    def set(self) -> None: ...
    async def wait(self) -> object: ...


class _Attempt:
    """One run of ``f``, shared by every caller that arrives while it runs."""

    def __init__(self, finished: Any) -> None:
        self.finished = finished  # an Event of the caller's model
        self.error: BaseException | None = None  # set if f raised; None if it was cancelled


def _describe(once: object, done: bool, running: bool) -> str:
    state = "done" if done else "running" if running else "not done"
    return f"<{type(once).__name__} {state}>"


class _AsyncOnce(Generic[T]):
    """The Once for one event loop; the subclasses choose asyncio's or anyio's Event."""

    _new_event: Callable[[], _Event]

    def __init__(self) -> None:
        self._done = False
        self._value: T | None = None
        self._attempt: _Attempt | None = None

    @property
    def done(self) -> bool:
        """Whether ``f`` has returned successfully."""
        return self._done

    def __repr__(self) -> str:
        return _describe(self, self._done, self._attempt is not None)

    async def do(self, fn: Callable[[*Ts], Awaitable[T]], *args: *Ts) -> T:
        """Run ``await fn(*args)`` unless a call already succeeded; return its value.

        The first caller runs *fn*; callers that arrive while it runs wait for it and get its
        value. Once a call has succeeded, ``do`` returns the stored value at once and never
        calls *fn* again, whatever *fn* a later caller passes.

        If the caller running *fn* is cancelled, *fn* is interrupted, the Once is not done,
        and one of the waiting callers runs *fn* again. A waiting caller that is cancelled
        only stops waiting.

        Args:
            fn: an async function; only the first successful call's value is kept.
            *args: its arguments.

        Returns:
            The value of the call that succeeded.

        Raises:
            TypeError: *fn* is not callable.
            Exception: whatever *fn* raised, in the caller that ran it and in every caller
                that was waiting for that run; the next call tries again.
        """
        check_callable("fn", fn)
        while not self._done:  # the fast path is one attribute read, as Go's atomic load
            attempt = self._attempt
            if attempt is None:
                return await self._run(fn, args)
            await attempt.finished.wait()
            if attempt.error is not None:
                raise attempt.error
            # Done, or the runner was cancelled: look again (and maybe run f ourselves).
        return self._value  # type: ignore[return-value]

    async def _run(self, fn: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> T:
        attempt = self._attempt = _Attempt(self._new_event())
        try:
            value = await fn(*args)
        except Exception as exc:
            attempt.error = exc
            raise
        else:
            self._value, self._done = value, True
            return value
        finally:  # success, error or cancellation: release the waiters
            self._attempt = None
            attempt.finished.set()


class AsyncioOnce(_AsyncOnce[T]):
    """Run an async initialisation once among asyncio tasks, and share its value: ``Once[T]``.

    ``await once.do(fn, *args)``: the first caller runs *fn*; callers that arrive while it runs
    wait for it and get its value; once a call has succeeded, every later ``do`` returns the
    stored value at once. An error is not cached: the next ``do`` tries again (where Go's Once
    stays done after a panic). If the caller running *fn* is cancelled, *fn* is interrupted and
    a waiting caller runs it again; a waiting caller that is cancelled only stops waiting.
    A new Once has not run; ``repr(once)`` shows whether it is done or running.
    Over ``asyncio.Event``.
    """

    @staticmethod
    def _new_event() -> asyncio.Event:
        return asyncio.Event()


class AnyioOnce(_AsyncOnce[T]):
    """Run an async initialisation once among anyio tasks, on asyncio or trio: ``Once[T]``.

    ``await once.do(fn, *args)``: the first caller runs *fn*; callers that arrive while it runs
    wait for it and get its value; once a call has succeeded, every later ``do`` returns the
    stored value at once. An error is not cached: the next ``do`` tries again (where Go's Once
    stays done after a panic). If the caller running *fn* is cancelled, *fn* is interrupted and
    a waiting caller runs it again; a waiting caller that is cancelled only stops waiting.
    A new Once has not run; ``repr(once)`` shows whether it is done or running.
    Over ``anyio.Event``.
    """

    @staticmethod
    def _new_event() -> anyio.Event:
        return anyio.Event()


class ThreadOnce(Generic[T]):
    """Run an initialisation once among threads, and share its value: ``Once[T]``.

    ``once.do(fn, *args)``: the first caller runs *fn* in its own thread; callers that arrive
    while it runs block until it ends and get its value; once a call has succeeded, every later
    ``do`` returns the stored value at once. An error is not cached: the next ``do`` tries
    again (where Go's Once stays done after a panic). A running *fn* cannot be cancelled.
    A new Once has not run; ``repr(once)`` shows whether it is done or running.
    """

    def __init__(self) -> None:
        self._done = False
        self._value: T | None = None
        self._attempt: _Attempt | None = None
        self._lock = threading.Lock()  # guards _attempt: "am I the one to run f?"

    @property
    def done(self) -> bool:
        """Whether ``f`` has returned successfully."""
        return self._done

    def __repr__(self) -> str:
        return _describe(self, self._done, self._attempt is not None)

    def do(self, fn: Callable[[*Ts], T], *args: *Ts) -> T:
        """Run ``fn(*args)`` unless a call already succeeded; return its value.

        The first caller runs *fn* in its own thread; callers that arrive while it runs block
        until it finishes and get its value.

        Raises:
            TypeError: *fn* is not callable.
            Exception: whatever *fn* raised, in the caller that ran it and in every caller
                that was waiting for that run; the next call tries again.
        """
        check_callable("fn", fn)
        while not self._done:
            with self._lock:
                if self._done:
                    break
                attempt = self._attempt
                if attempt is None:
                    attempt = self._attempt = _Attempt(threading.Event())
                    runner = True
                else:
                    runner = False
            if runner:
                return self._run(attempt, fn, args)
            attempt.finished.wait()
            if attempt.error is not None:
                raise attempt.error
        return self._value  # type: ignore[return-value]

    def _run(self, attempt: _Attempt, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            value = fn(*args)
        except Exception as exc:
            attempt.error = exc
            raise
        else:
            # Store the value before publishing done: a reader that sees done sees the value.
            self._value = value
            self._done = True
            return value
        finally:
            with self._lock:
                self._attempt = None
            attempt.finished.set()
