"""WaitGroup: wait for a collection of tasks to finish — Go's ``sync.WaitGroup``.

A WaitGroup is a counter. ``add(n)`` raises it before starting n tasks, each task calls
``done()`` when it finishes, and ``wait()`` blocks until the counter is back to zero.
``go(fn)`` does all three for one function, like Go 1.25's ``wg.Go(f)``. The counter may
never go below zero: where Go panics, these raise ``ValueError`` and leave the counter
unchanged.

Why Python rarely needs one. A WaitGroup only *counts*; it does not own the tasks. Forget a
``done()`` and ``wait()`` hangs forever; call ``wait()`` never and the tasks outlive the code
that started them; an error in a task has nowhere to go. Structured concurrency — asyncio's
``TaskGroup``, trio's nursery, anyio's task group — owns its tasks: the block cannot end before
they do, an error cancels the siblings and is raised, and cancelling the block cancels them.
So in async code, prefer a task group:

```python
async with asyncio.TaskGroup() as tg:     # instead of wg.go(...) + wg.wait()
    for url in urls:
        tg.create_task(fetch(url))
```

The classes here are for code that really needs a counter (the tasks are started by someone
else, or the count is known before the tasks exist), and for readers coming from Go. To keep
them safe, each is also a context manager that waits on exit, and ``go()`` keeps the error of a
failing function: ``wait()`` raises them all as an ``ExceptionGroup`` once the counter is zero.

Happens-before, as in Go: everything a task did before its ``done()`` is visible to code that
returns from ``wait()``. A WaitGroup may be reused, but new ``add`` calls must come after every
earlier ``wait`` has returned. Errors belong to the round they happened in — from the counter
leaving zero to its return to zero: ``wait()`` raises the errors of the round it ends (or, on
a counter already at zero, of the last round), and a new round starts clean.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVarTuple

from ._core.lazy import lazy

if TYPE_CHECKING:
    import asyncio

    import anyio
    import anyio.abc
else:
    anyio = lazy(globals(), "anyio", "anyio.abc")
    asyncio = lazy(globals(), "asyncio")


__all__ = ["AnyioWaitGroup", "AsyncioWaitGroup", "ThreadWaitGroup"]

Ts = TypeVarTuple("Ts")  # the arguments a function is started with


class _Counter:
    """The counter and the errors, with the checks every WaitGroup shares.

    A *round* runs from the counter leaving zero to its return to zero. The errors of ``go()``
    functions belong to the round they ran in: ``wait()`` raises those of the round it saw
    end (or, when the counter is already zero, of the last round that ended), and the next
    round starts with none, so an old failure is never raised again after a clean round.
    """

    def __init__(self) -> None:
        self.count = 0
        self.errors: list[Exception] = []  # the running round's
        self.ended: list[Exception] = []  # the last ended round's: what wait() raises

    def apply(self, delta: int) -> int:
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise TypeError(f"delta must be an int, got {type(delta).__name__}")
        if self.count + delta < 0:
            raise ValueError(f"negative WaitGroup counter ({self.count} + {delta})")
        if self.count == 0 and delta > 0:
            self.errors = []  # a new round
        self.count += delta
        if self.count == 0 and delta < 0:
            self.ended = self.errors
        return self.count

    def describe(self, group: object) -> str:
        kept = self.errors if self.count else self.ended
        errors = f", {len(kept)} error(s) kept" if kept else ""
        return f"<{type(group).__name__} count={self.count}{errors}>"

    def raise_errors(self) -> None:
        if self.ended:
            raise ExceptionGroup("functions started with WaitGroup.go() raised", self.ended)


class AsyncioWaitGroup:
    """A WaitGroup for asyncio tasks.

    A new group has a counter of zero, ready to use. ``go()`` starts an ``asyncio`` task (a
    strong reference is kept, so it cannot be garbage collected mid-flight). Used as
    ``async with``, the group waits on exit; if the block raised or was cancelled, it cancels
    the tasks it started and waits for them before the error goes on.

    Do not call ``add`` with a positive delta while a ``wait`` of the previous round is still
    returning: start a new round only after ``wait`` has returned, as in Go.

    ``repr(wg)`` shows the counter and how many errors are kept.
    """

    def __init__(self) -> None:
        self._counter = _Counter()
        self._zero = asyncio.Event()
        self._zero.set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def count(self) -> int:
        """The current counter."""
        return self._counter.count

    def __repr__(self) -> str:
        return self._counter.describe(self)

    def add(self, delta: int = 1) -> None:
        """Add *delta* (which may be negative) to the counter; at zero, every waiter wakes.

        Raises:
            TypeError: *delta* is not an int.
            ValueError: the counter would go below zero; it is left unchanged.
        """
        if self._counter.apply(delta) == 0:
            self._zero.set()
        else:
            self._zero.clear()

    def done(self) -> None:
        """Take one off the counter."""
        self.add(-1)

    async def wait(self) -> None:
        """Wait until the counter is zero; return at once if it already is.

        Cancelling a waiting task only stops that task's wait: the counted tasks go on.

        Raises:
            ExceptionGroup: every error of the functions started with ``go`` in the round
                this wait ends (or, on a counter already at zero, in the last round).
        """
        await self._zero.wait()
        self._counter.raise_errors()

    def go(self, fn: Callable[[*Ts], Awaitable[object]], *args: *Ts) -> None:
        """Run ``await fn(*args)`` in a new task, counted by this group.

        An ``Exception`` that *fn* raises is kept for ``wait`` and does not cancel the other
        tasks. Must be called from a running event loop.
        """
        counter = self._counter
        if counter.count == 0:  # a new round: add() with the checks a delta of 1 never fails
            self.add(1)
        else:
            counter.count += 1
        task = asyncio.create_task(self._run(fn, args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, fn: Callable[..., Awaitable[object]], args: tuple[Any, ...]) -> None:
        try:
            await fn(*args)
        except Exception as exc:
            self._counter.errors.append(exc)
        finally:
            counter = self._counter
            if counter.count > 1:  # done() without its checks: this task was counted
                counter.count -= 1
            else:
                self.done()

    async def __aenter__(self) -> AsyncioWaitGroup:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> None:
        if et is not None:  # the block failed or was cancelled: take our tasks down with it
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            return
        await self.wait()


class AnyioWaitGroup:
    """A WaitGroup for anyio, on asyncio or trio.

    A new group has a counter of zero. ``add``, ``done`` and ``wait`` work anywhere. ``go()``
    needs somewhere to put the task, and anyio has no unowned tasks: use the group as
    ``async with WaitGroup() as wg:``, which opens a task group for ``go()`` — a
    WaitGroup that is, in the end, a task group that counts. If the block raises or is
    cancelled, the tasks started with ``go()`` are cancelled before the error goes on.

    ``repr(wg)`` shows the counter and how many errors are kept.
    """

    def __init__(self) -> None:
        self._counter = _Counter()
        self._zero: anyio.Event | None = None  # made on first use: needs a running event loop
        self._task_group: anyio.abc.TaskGroup | None = None

    @property
    def count(self) -> int:
        """The current counter."""
        return self._counter.count

    def __repr__(self) -> str:
        return self._counter.describe(self)

    def add(self, delta: int = 1) -> None:
        """Add *delta* (which may be negative) to the counter; at zero, every waiter wakes.

        Raises:
            TypeError: *delta* is not an int.
            ValueError: the counter would go below zero; it is left unchanged.
        """
        if self._counter.apply(delta) == 0 and self._zero is not None:
            # An anyio Event cannot be cleared: wake every waiter, and let the next wait()
            # that finds the counter above zero make a fresh one.
            self._zero.set()
            self._zero = None

    def done(self) -> None:
        """Take one off the counter."""
        self.add(-1)

    async def wait(self) -> None:
        """Wait until the counter is zero; return at once if it already is.

        Cancelling a waiting task only stops that task's wait.

        Raises:
            ExceptionGroup: every error of the functions started with ``go`` in the round
                this wait ends (or, on a counter already at zero, in the last round).
        """
        if self._counter.count > 0:
            if self._zero is None:
                self._zero = anyio.Event()
            await self._zero.wait()
        self._counter.raise_errors()

    def go(self, fn: Callable[[*Ts], Awaitable[object]], *args: *Ts) -> None:
        """Run ``await fn(*args)`` in the group's task group, counted by this group.

        An ``Exception`` that *fn* raises is kept for ``wait`` and does not cancel the others.

        Raises:
            RuntimeError: outside ``async with``, where there is no task group to run it in.
        """
        if self._task_group is None:
            raise RuntimeError("WaitGroup.go() needs 'async with WaitGroup() as wg:'")
        self.add(1)

        async def run() -> None:
            try:
                await fn(*args)
            except Exception as exc:  # kept for wait(); a failure does not cancel the others
                self._counter.errors.append(exc)
            finally:
                self.done()

        self._task_group.start_soon(run)

    async def __aenter__(self) -> AnyioWaitGroup:
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> bool | None:
        assert self._task_group is not None
        task_group, self._task_group = self._task_group, None
        if et is None:
            await task_group.__aexit__(None, None, None)
            await self.wait()
            return False
        task_group.cancel_scope.cancel()  # the block failed or was cancelled: so are our tasks
        try:
            return await task_group.__aexit__(et, e, tb)
        except BaseExceptionGroup:
            # Our tasks never raise (run() keeps their errors), so the group only wraps the
            # block's own error: let that go on unchanged instead.
            return False


class ThreadWaitGroup:
    """A WaitGroup for threads.

    A new group has a counter of zero. ``go()`` starts a thread. Used as ``with``, the group
    waits on exit: a thread cannot be cancelled, so even when the block raised, its counted
    work finishes before the error goes on.

    ``repr(wg)`` shows the counter and how many errors are kept.
    """

    def __init__(self) -> None:
        self._counter = _Counter()
        self._cond = threading.Condition()

    @property
    def count(self) -> int:
        """The current counter."""
        with self._cond:
            return self._counter.count

    def __repr__(self) -> str:
        with self._cond:
            return self._counter.describe(self)

    def add(self, delta: int = 1) -> None:
        """Add *delta* (which may be negative) to the counter; at zero, every waiter wakes.

        Raises:
            TypeError: *delta* is not an int.
            ValueError: the counter would go below zero; it is left unchanged.
        """
        with self._cond:
            if self._counter.apply(delta) == 0:
                self._cond.notify_all()

    def done(self) -> None:
        """Take one off the counter."""
        self.add(-1)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the counter is zero, or *timeout* seconds pass.

        A blocked thread cannot be cancelled from outside: pass a *timeout* where a caller must
        be able to give up.

        Returns:
            ``True`` if the counter reached zero, ``False`` on timeout.

        Raises:
            ExceptionGroup: every error of the functions started with ``go`` in the round
                this wait ends (or, on a counter already at zero, in the last round).
        """
        with self._cond:
            if not self._cond.wait_for(lambda: self._counter.count == 0, timeout):
                return False
            self._counter.raise_errors()
            return True

    def go(self, fn: Callable[[*Ts], object], *args: *Ts) -> None:
        """Run ``fn(*args)`` in a new thread, counted by this group.

        An ``Exception`` that *fn* raises is kept for ``wait``.
        """
        self.add(1)

        def run() -> None:
            try:
                fn(*args)
            except Exception as exc:
                with self._cond:
                    self._counter.errors.append(exc)
            finally:
                self.done()

        threading.Thread(target=run, name="waitgroup-go").start()

    def __enter__(self) -> ThreadWaitGroup:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None,
    ) -> None:
        if et is not None:
            with self._cond:
                self._cond.wait_for(lambda: self._counter.count == 0)
            return
        self.wait()
