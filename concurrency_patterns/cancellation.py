"""Cancellation: deadlines and cancellation trees, Go's ``context.Context`` beside Python's scopes.

A request arrives with a deadline. The handler calls three services at once; one of them fans
out again, with a shorter deadline of its own. When the deadline passes, everything below it
stops; the caller learns why (the deadline, or a cancel with a cause); and cleanup that must
finish — an audit record, a released lease — runs anyway, under a bound of its own.

Go passes a ``context.Context`` down every call: ``context.WithTimeout`` derives a child with a
deadline (never later than its parent's), ``WithCancelCause`` lets the canceller say why, and
``context.Cause(ctx)`` tells the caller; ``context.WithoutCancel`` gives cleanup a context the
parent's cancellation cannot reach. Python's async frameworks cancel by *scope* instead: the
block that owns a deadline cancels everything inside it, at its next ``await``, with no
argument to pass down. Each variant here is such a scope, with what Go's context adds:

* **the effective deadline**: a scope's ``deadline`` is the earliest of its own and every
  enclosing scope's, so a sub-operation can shorten its deadline, never extend it, and
  ``remaining()`` says how long is left — to pass on to a downstream service, as gRPC does;
* **a cause**: ``cancel(cause)`` says why, and ``cause`` reports it afterwards — a
  ``DeadlineExceeded`` when the deadline passed (Go's ``context.Cause``), for the scope and
  for every scope inside it;
* **shielded cleanup**: ``shielded(fn, *args, timeout=...)`` runs *fn* where the scope's
  cancellation cannot reach it, bounded by its own timeout (Go's ``WithoutCancel`` plus
  ``WithTimeout``).

When the deadline passes, the block raises ``DeadlineExceeded`` (a ``TimeoutError``), as
``fail_after`` does; with ``move_on=True`` it ends quietly, as ``move_on_after`` does, and
``cause`` says what happened. A block that ``cancel()`` stopped always ends quietly: whoever
cancelled it knows why.

Variants: ``asyncio.Scope`` (over ``asyncio.timeout``), ``anyio.Scope`` (over anyio's
``CancelScope``, on asyncio and trio) and ``threads.Scope``. Threads cannot be interrupted: a
``threads.Scope`` is a token that the work checks — ``check()``, ``wait(seconds)``, ``cancelled``
— like Go code selecting on ``ctx.Done()``. A blocking call that never checks runs to its end;
so does a thread started by ``asyncio.to_thread`` when its awaiting task is cancelled.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from contextvars import ContextVar, Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple

from ._core import check_callable
from ._core.fastpath import READY, READY_TRUE
from ._core.lazy import lazy

if TYPE_CHECKING:
    import asyncio

    import anyio
    from anyio._core import _eventloop as _anyio_eventloop
else:
    anyio = lazy(globals(), "anyio")
    _anyio_eventloop = lazy(globals(), "anyio._core._eventloop", bind="_anyio_eventloop")
    asyncio = lazy(globals(), "asyncio")


__all__ = ["AnyioScope", "AsyncioScope", "Cancelled", "DeadlineExceeded", "ThreadScope"]

Ts = TypeVarTuple("Ts")  # the arguments a function is started with

T = TypeVar("T")


class Cancelled(Exception):
    """A scope was cancelled. Go's ``context.Canceled``.

    It is the ``cause`` of a scope cancelled without one, and what ``threads.Scope.check()``
    raises after a cancel; ``__cause__`` is then the cause the canceller gave, if any.
    """


class DeadlineExceeded(TimeoutError):
    """A scope's deadline passed. Go's ``context.DeadlineExceeded``.

    Raised when a scope's block ends because of its deadline (unless ``move_on=True``), and
    the ``cause`` of that scope and of every scope inside it. A ``TimeoutError``, so code that
    catches timeouts catches it.
    """


def _check_timeout(timeout: object) -> float:
    if timeout is None:
        return math.inf
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"timeout must be a number of seconds or None, got "
                        f"{type(timeout).__name__}: {timeout!r}")
    if not timeout >= 0:  # also rejects NaN
        raise ValueError(f"timeout must be >= 0 seconds, got {timeout}")
    return float(timeout)


def _check_cause(cause: object) -> BaseException | None:
    if cause is not None and not isinstance(cause, BaseException):
        raise TypeError(f"cause must be an exception or None, got {type(cause).__name__}")
    return cause


def _deadline_cause(timeout: float, inherited: bool) -> DeadlineExceeded:
    if inherited:
        return DeadlineExceeded("an enclosing scope's deadline passed")
    return DeadlineExceeded(f"the deadline passed ({timeout:g} s)")


_asyncio_scope: ContextVar[AsyncioScope | None] = ContextVar("asyncio_scope", default=None)


class _Arming(threading.local):
    """The asyncio scopes entered since this thread's loop last ran its callbacks, whose
    timers it sets when it next does.

    A deadline can only fire while the loop runs, and the loop only runs once the task gives
    it up, at an ``await`` that waits. A block that ends before that, the usual one, needs no
    timer at all; setting one (a timer handle pushed on the loop's heap, then cancelled) is
    most of what ``asyncio.timeout`` costs. So a scope's timer is set by one callback the
    loop runs next, for every scope entered since, and only for those still open."""

    loop: Any = None
    pending: list[AsyncioScope]
    scheduled = False


_arming = _Arming()


def _arm_soon(scope: AsyncioScope, loop: asyncio.AbstractEventLoop) -> None:
    arming = _arming
    if arming.loop is not loop:  # the first scope on this loop (or on a new one)
        arming.loop, arming.pending, arming.scheduled = loop, [], False
    arming.pending.append(scope)
    if not arming.scheduled:
        arming.scheduled = True
        loop.call_soon(_arm_pending, arming)


def _arm_pending(arming: _Arming) -> None:
    arming.scheduled = False
    pending, arming.pending = arming.pending, []
    for scope in pending:
        scope._arm()


class AsyncioScope:
    """A block with a deadline and a cause, over ``asyncio.timeout``.

    ``async with Scope(timeout=2.0) as scope:`` cancels the block when the deadline
    passes — its own, or an enclosing scope's if that is earlier — and when ``scope.cancel()``
    is called. Tasks the block creates in a ``TaskGroup`` are cancelled with it. A scope is
    used once, by the task that enters it; ``cancel`` may be called from any task of the loop.

    Args:
        timeout: seconds from entry (>= 0), or ``None`` for no deadline of its own.
        move_on: when the deadline passes, end the block quietly instead of raising.

    Raises:
        DeadlineExceeded: from the block, when its deadline passed (unless ``move_on``).
        TypeError, ValueError: for a bad argument, naming it, before the block runs.
    """

    # Slots: a scope is entered and left on every request, and a plain object is lighter
    # for the allocator and the garbage collector than one with a __dict__.
    __slots__ = ("_cancelled", "_cause", "_exited", "_move_on", "_own_deadline", "_parent",
                 "_timeout_s", "_timer", "_token", "deadline")

    def __init__(self, timeout: float | None = None, *, move_on: bool = False) -> None:
        # The usual timeout, a float or None, checked inline: a scope per request adds up.
        self._timeout_s = (math.inf if timeout is None else timeout
                           if type(timeout) is float and timeout >= 0
                           else _check_timeout(timeout))
        self._move_on = move_on
        self._parent: AsyncioScope | None = None
        self._timer: asyncio.Timeout | None = None
        self._token: Token[AsyncioScope | None] | None = None
        self._cancelled = False  # cancel() was called
        self._exited = False
        self.deadline = math.inf  # the loop's clock; the earliest of its own and its parents'
        self._own_deadline = False  # this scope's timer enforces the deadline, not a parent's
        self._cause: BaseException | None = None

    @property
    def cause(self) -> BaseException | None:
        """Why the block was stopped: the cause given to ``cancel`` (``Cancelled`` if none
        was), ``DeadlineExceeded`` from the moment the deadline has passed, an enclosing
        scope's cause; ``None`` while nothing has stopped it."""
        if self._cause is None and self._timer is not None and not self._exited:
            try:
                now = asyncio.get_running_loop().time()
            except RuntimeError:  # read from outside the loop (another thread): as it stands
                return self._cause
            if now >= self.deadline:
                self._cause = _deadline_cause(self._timeout_s, inherited=not self._own_deadline)
        return self._cause

    @staticmethod
    def current() -> AsyncioScope | None:
        """The innermost scope the calling task runs in, or ``None``."""
        return _asyncio_scope.get()

    def remaining(self) -> float:
        """Seconds until the deadline (``inf`` if none; 0 once it has passed)."""
        return max(0.0, self.deadline - asyncio.get_running_loop().time())

    def cancel(self, cause: BaseException | None = None) -> None:
        """Cancel the block and everything in it; *cause* says why (the first one stays)."""
        cause = _check_cause(cause)
        if self._cancelled or self._exited or self._timer is None or self._timer.expired():
            return  # the first cause stays; a scope past its deadline is stopping already
        if self.cause is not None:
            return  # the deadline has passed (an enclosing one's, whose timer fires first)
        self._cancelled = True
        self._cause = cause if cause is not None else Cancelled("the scope was cancelled")
        self._timer.reschedule(asyncio.get_running_loop().time())  # fire now

    async def shielded(self, fn: Callable[[*Ts], Awaitable[T]], *args: *Ts,
                       timeout: float) -> T:
        """Run ``await fn(*args)`` to the end even if the scope is cancelled meanwhile,
        bounded by *timeout* seconds of its own (Go: ``WithoutCancel`` + ``WithTimeout``).
        If the caller is cancelled while it runs, the cancellation goes on once it is done."""
        check_callable("fn", fn)
        seconds = _check_timeout(timeout)

        async def bounded() -> T:
            async with asyncio.timeout(seconds):
                return await fn(*args)

        # A task of its own, so that the caller's cancellation cannot reach it; the caller
        # waits for it however often it is cancelled meanwhile, then goes on cancelling.
        task = asyncio.ensure_future(bounded())
        cancelled = False
        while True:
            try:
                result = await asyncio.shield(task)
                break
            except asyncio.CancelledError:
                if task.done():
                    raise
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError
        return result

    async def __aenter__(self) -> AsyncioScope:
        if self._timer is not None:
            raise RuntimeError("a Scope is used once")
        loop = asyncio.get_running_loop()
        self._parent = _asyncio_scope.get()
        parent_deadline = self._parent.deadline if self._parent else math.inf
        now = loop.time()
        self.deadline = deadline = min(now + self._timeout_s, parent_deadline)
        # Only a deadline earlier than the parent's needs a timer: the parent's fires first.
        self._own_deadline = own = deadline < parent_deadline
        self._timer = timer = asyncio.timeout_at(None)
        await timer.__aenter__()
        if own:
            if deadline <= now:  # passed already: at once, as asyncio.timeout(0) does
                timer.reschedule(deadline)
            else:  # when the loop next runs, if the block is still open (see _Arming)
                _arm_soon(self, loop)
        self._token = _asyncio_scope.set(self)
        return self

    def _arm(self) -> None:
        timer = self._timer
        # Not if the block has ended, nor if cancel() has set the timer to fire already.
        if not self._exited and timer is not None and timer.when() is None:
            timer.reschedule(self.deadline)

    def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                  tb: TracebackType | None) -> Awaitable[bool | None]:
        # A plain method that returns what ``async with`` awaits. A block that ended on its
        # own, before any deadline, is the usual case: it needs no coroutine at all.
        assert self._timer is not None
        assert self._token is not None
        _asyncio_scope.reset(self._token)
        self._exited = True
        pending = _arming.pending if _arming.loop is not None else None
        if pending and pending[-1] is self:  # never armed: its place in the list goes too
            pending.pop()
        timer = self._timer
        if exc_type is None and not timer.expired():
            # What the timer's own exit does when it has not fired: its handle, if set, goes.
            if timer.when() is not None:
                timer.reschedule(None)
            return READY
        return self._exit(exc_type, exc, tb)

    async def _exit(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                    tb: TracebackType | None) -> bool:
        assert self._timer is not None
        try:
            await self._timer.__aexit__(exc_type, exc, tb)
        except TimeoutError:
            # Our timer fired and the cancellation it caused came back to us.
            if self._cancelled:
                return True  # cancel(): whoever cancelled knows why
            self._cause = self._cause or _deadline_cause(self._timeout_s, inherited=False)
            if self._move_on:
                return True
            raise self._cause from None
        if self._timer.expired() and self._cause is None:
            # The timer fired, yet the block ended without the cancellation it caused:
            #     except asyncio.CancelledError: pass   # swallowed
            #     except asyncio.CancelledError: raise ValueError   # replaced
            # asyncio delivers a cancellation once, so the block ran on past its deadline.
            # It is too late to stop it; the cause at least tells the truth.
            self._cause = _deadline_cause(self._timeout_s, inherited=False)
        if exc_type is not None and issubclass(exc_type, asyncio.CancelledError):
            # Cancelled from further out: an enclosing scope's deadline or cancel, or not ours.
            self._cause = self._cause or _inherited(self, asyncio.get_running_loop().time())
        return False


def _inherited(scope: Any, now: float) -> BaseException | None:
    """Why a cancellation from further out is passing through *scope*: an enclosing deadline
    (the scope's own deadline is the earliest of them all), an enclosing scope's cancel with
    its cause — or ``None``, when the cancellation is not one of these scopes' doing."""
    if now >= scope.deadline:
        return _deadline_cause(0.0, inherited=True)
    parent = scope._parent
    while parent is not None:
        if parent.cause is not None:
            return parent.cause  # type: ignore[no-any-return]
        parent = parent._parent
    return None


_anyio_scope: ContextVar[AnyioScope | None] = ContextVar("anyio_scope", default=None)


def _no_clock() -> float:
    raise RuntimeError("the scope has not been entered")


class AnyioScope:
    """A block with a deadline and a cause, over anyio's ``CancelScope``, on asyncio or trio.

    ``async with Scope(timeout=2.0) as scope:`` cancels the block when the deadline passes (its
    own, or an enclosing scope's if that is earlier) and when ``scope.cancel()`` is called.
    Tasks the block starts in a task group are cancelled with it. ``scope.cause`` says why the
    block was stopped; ``scope.shielded(fn, timeout=...)`` runs cleanup that the scope's
    cancellation does not reach, with a bound of its own. anyio already takes the earliest
    deadline of the enclosing scopes (``anyio.current_effective_deadline()``, which this
    scope's ``deadline`` agrees with); this adds the cause and the bounded cleanup.

    Args:
        timeout: seconds from entry (>= 0), or ``None`` for no deadline of its own.
        move_on: when the deadline passes, end the block quietly instead of raising.

    Raises:
        DeadlineExceeded: from the block, when its deadline passed (unless ``move_on``).
        TypeError, ValueError: for a bad argument, naming it, before the block runs.
    """

    __slots__ = ("_cancelled", "_cause", "_clock", "_exited", "_move_on", "_own_deadline",
                 "_parent", "_scope", "_timeout_s", "_token", "deadline")

    def __init__(self, timeout: float | None = None, *, move_on: bool = False) -> None:
        # The usual timeout, a float or None, checked inline: a scope per request adds up.
        self._timeout_s = (math.inf if timeout is None else timeout
                           if type(timeout) is float and timeout >= 0
                           else _check_timeout(timeout))
        self._move_on = move_on
        self._parent: AnyioScope | None = None
        self._clock: Callable[[], float] = _no_clock  # the backend's, once entered
        self._scope: anyio.CancelScope | None = None
        self._token: Token[AnyioScope | None] | None = None
        self._cancelled = False
        self._exited = False
        self.deadline = math.inf  # anyio's clock (anyio.current_time())
        self._own_deadline = False  # this scope enforces the deadline, not an enclosing one
        self._cause: BaseException | None = None

    @property
    def cause(self) -> BaseException | None:
        """Why the block was stopped: the cause given to ``cancel`` (``Cancelled`` if none
        was), ``DeadlineExceeded`` from the moment the deadline has passed, an enclosing
        scope's cause; ``None`` while nothing has stopped it."""
        if self._cause is None and self._scope is not None and not self._exited:
            try:
                now = self._clock()
            except Exception:  # read from outside the event loop (another thread): as it stands
                return self._cause
            if now >= self.deadline:
                self._cause = _deadline_cause(self._timeout_s, inherited=not self._own_deadline)
        return self._cause

    @staticmethod
    def current() -> AnyioScope | None:
        """The innermost scope the calling task runs in, or ``None``."""
        return _anyio_scope.get()

    def remaining(self) -> float:
        """Seconds until the deadline (``inf`` if none; 0 once it has passed)."""
        return max(0.0, self.deadline - anyio.current_time())

    def cancel(self, cause: BaseException | None = None) -> None:
        """Cancel the block and everything in it; *cause* says why (the first one stays)."""
        cause = _check_cause(cause)
        if self._cancelled or self._scope is None or self._exited:
            return
        if self.cause is not None:
            return  # the deadline has passed: the first cause stays
        self._cancelled = True
        self._cause = cause if cause is not None else Cancelled("the scope was cancelled")
        self._scope.cancel(str(self._cause))

    async def shielded(self, fn: Callable[[*Ts], Awaitable[T]], *args: *Ts,
                       timeout: float) -> T:
        """Run ``await fn(*args)`` to the end even if the scope is cancelled meanwhile,
        bounded by *timeout* seconds of its own (Go: ``WithoutCancel`` + ``WithTimeout``)."""
        check_callable("fn", fn)
        seconds = _check_timeout(timeout)
        with anyio.CancelScope(shield=True):  # noqa: SIM117  (cancellation stops here)
            with anyio.fail_after(seconds):  # ... and this bound replaces it
                result = await fn(*args)
        return result

    async def __aenter__(self) -> AnyioScope:
        if self._scope is not None:
            raise RuntimeError("a Scope is used once")
        # The backend, looked up once: anyio.current_time(), current_effective_deadline()
        # and CancelScope() would each look it up (sniffio, then a dict) before calling it,
        # and a scope per request adds up. get_async_backend is anyio's own, not in its
        # public API; the contract suites run this on asyncio and trio.
        backend = _anyio_eventloop.get_async_backend()
        self._clock = backend.current_time
        self._parent = _anyio_scope.get()
        enclosing = backend.current_effective_deadline()
        if enclosing == -math.inf:
            # An enclosing scope is cancelled already (anyio says -inf): by a deadline or by a
            # cancel, which the enclosing scopes' causes tell apart. This scope's own deadline
            # is then its parent's, not one that has passed.
            #     top.cancel(); async with Scope() as inner: ...   # inner.cause: top's cause
            enclosing = self._parent.deadline if self._parent is not None else math.inf
        self.deadline = min(backend.current_time() + self._timeout_s, enclosing)
        # Only a deadline earlier than the enclosing one is this scope's own to enforce; an
        # equal one belongs to the enclosing scope, which catches its own cancellation.
        own = self.deadline if self.deadline < enclosing else math.inf
        self._own_deadline = own < math.inf
        self._scope = backend.create_cancel_scope(deadline=own)  # anyio.CancelScope(...)
        self._scope.__enter__()
        self._token = _anyio_scope.set(self)
        return self

    def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                  tb: TracebackType | None) -> Awaitable[bool | None]:
        # A plain method that returns what ``async with`` awaits: nothing here waits, so no
        # coroutine is made for it.
        assert self._scope is not None
        assert self._token is not None
        _anyio_scope.reset(self._token)
        if exc_type is None and not self._scope.cancel_called:
            # The block ended on its own and nothing cancelled it, the usual case: no clock
            # to read and nothing to tell, as with asyncio.Scope.
            self._exited = True
            self._scope.__exit__(None, None, None)
            return READY
        cause = self.cause  # the deadline's, if it has passed, before this scope is closed
        self._exited = True
        swallowed = self._scope.__exit__(exc_type, exc, tb)
        if self._scope.cancelled_caught:
            if self._cancelled:
                return READY_TRUE
            self._cause = cause or _deadline_cause(self._timeout_s, inherited=False)
            if self._move_on:
                return READY_TRUE
            raise self._cause from None
        if self._scope.cancel_called and self._cause is None:
            # Our deadline cancelled the block, which ended some other way:
            #     except anyio.get_cancelled_exc_class(): raise ValueError   # replaced
            # The cause at least tells the truth.
            self._cause = _deadline_cause(self._timeout_s, inherited=False)
        if exc_type is not None and issubclass(exc_type, anyio.get_cancelled_exc_class()):
            self._cause = self._cause or _inherited(self, self._clock())
        return READY_TRUE if swallowed else READY


class ThreadScope:
    """A cancellation token with a deadline and a cause, for threads: Go's ``context.Context``.

    A thread cannot be interrupted, so the work checks the scope: ``check()`` raises once it
    is cancelled or past its deadline, ``wait(seconds)`` sleeps but wakes at once when it is,
    and ``cancelled`` says whether it is. Pass the scope to the work explicitly, as Go passes
    ``ctx``; ``child(timeout)`` derives a scope that a ``cancel`` of this one reaches and whose
    deadline is never later than this one's.

    Used as ``with ThreadScope(timeout=2.0) as scope:``, leaving the block cancels the
    children still running (Go's ``defer cancel()``); the block swallows the ``Cancelled``
    that its own ``cancel()`` caused, and lets ``DeadlineExceeded`` out.
    Every method may be called from any thread.

    Args:
        timeout: seconds from now (>= 0), or ``None`` for no deadline of its own.
        parent: the scope this one is a child of (``parent.child(timeout)`` says the same).

    Raises:
        TypeError, ValueError: for a bad argument, naming it.
    """

    def __init__(self, timeout: float | None = None, *,
                 parent: ThreadScope | None = None) -> None:
        seconds = _check_timeout(timeout)
        if parent is not None and not isinstance(parent, ThreadScope):
            raise TypeError(f"parent must be a threads.Scope or None, got {type(parent).__name__}")
        self._timeout_s = seconds
        self._parent = parent
        self._lock = threading.Lock()
        self._done: threading.Event | None = None  # made by the first wait(), like _children
        # Made by the first child: most scopes have none, and a WeakSet costs more to make
        # than the rest of a scope together.
        self._children: weakref.WeakSet[ThreadScope] | None = None
        self._cause: BaseException | None = None
        self._cancelled_here = False  # cancel() was called on this scope itself
        self._closed = False  # its block has ended: new children are born cancelled
        self.deadline: float = min(time.monotonic() + seconds,
                                   parent.deadline if parent else math.inf)
        if parent is not None:
            parent._adopt(self)

    def child(self, timeout: float | None = None) -> ThreadScope:
        """A scope that this one's cancel reaches, with a deadline no later than this one's."""
        return ThreadScope(timeout, parent=self)

    def remaining(self) -> float:
        """Seconds until the deadline (``inf`` if none; 0 once it has passed)."""
        return max(0.0, self.deadline - time.monotonic())

    @property
    def cause(self) -> BaseException | None:
        """Why the scope is done: the cause given to ``cancel`` (its own or a parent's),
        ``Cancelled`` if none was, ``DeadlineExceeded`` if the deadline passed; or ``None``."""
        if self._cause is None and time.monotonic() >= self.deadline:
            inherited = self._parent is not None and self.deadline == self._parent.deadline
            self._finish(_deadline_cause(self._timeout_s, inherited))
        return self._cause

    @property
    def cancelled(self) -> bool:
        """Whether the scope is done: cancelled, or past its deadline."""
        return self.cause is not None

    def cancel(self, cause: BaseException | None = None) -> None:
        """Cancel this scope and its children; *cause* says why (the first one stays)."""
        cause = _check_cause(cause)
        if self.cause is not None:
            return  # done already: a deadline nobody had read yet counts too; the first stays
        with self._lock:
            self._cancelled_here = self._cancelled_here or self._cause is None
        self._finish(cause if cause is not None else Cancelled("the scope was cancelled"))

    def check(self) -> None:
        """Raise if the scope is done: ``DeadlineExceeded``, or ``Cancelled`` (whose
        ``__cause__`` is the cause given to ``cancel``). A checkpoint for blocking work."""
        cause = self.cause
        if cause is None:
            return
        if isinstance(cause, DeadlineExceeded | Cancelled):
            raise cause
        raise Cancelled(f"the scope was cancelled: {cause!r}") from cause

    def wait(self, seconds: float | None = None) -> bool:
        """Sleep up to *seconds* (all the way to the deadline if ``None``), waking as soon as
        the scope is done. Returns whether it is done: ``if scope.wait(0.1): return``."""
        limit = self.remaining() if seconds is None else min(_check_timeout(seconds),
                                                            self.remaining())
        with self._lock:  # _finish sets _cause under the lock, then the event it finds
            if self._cause is not None:
                return True
            if self._done is None:
                self._done = threading.Event()
            done = self._done
        done.wait(None if math.isinf(limit) else limit)
        return self.cancelled

    def shielded(self, fn: Callable[[ThreadScope, *Ts], T], *args: *Ts, timeout: float) -> T:
        """Call ``fn(scope, *args)`` with a fresh scope that this one's cancellation cannot
        reach, whose deadline is *timeout* seconds away (Go: ``WithoutCancel`` +
        ``WithTimeout``): for cleanup that must run after the work was cancelled.

        Raises:
            TypeError, ValueError: *fn* is not callable, or *timeout* is not a number of
                seconds >= 0, before anything runs.
        """
        check_callable("fn", fn)
        return fn(ThreadScope(timeout), *args)

    def __enter__(self) -> ThreadScope:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        with self._lock:
            self._closed = True
            children = list(self._children) if self._children and self._cause is None else []
        for child in children:  # Go's defer cancel(): release what still runs below
            child._finish(Cancelled("the enclosing scope's block ended"))
        if self._parent is not None:
            with self._parent._lock:
                if self._parent._children is not None:
                    self._parent._children.discard(self)
        # The Cancelled that this scope's own cancel() caused ends the block quietly.
        return isinstance(exc, Cancelled) and self._cancelled_here

    def _adopt(self, child: ThreadScope) -> None:
        with self._lock:
            cause = self._cause
            if cause is None and self._closed:
                cause = Cancelled("the enclosing scope's block ended")
            if cause is None:
                if self._children is None:
                    self._children = weakref.WeakSet()
                self._children.add(child)
        if cause is not None:
            child._finish(cause)  # born into a cancelled parent

    def _finish(self, cause: BaseException) -> None:
        with self._lock:
            if self._cause is not None:
                return
            self._cause = cause
            children = list(self._children) if self._children else []
            done = self._done
        if done is not None:
            done.set()
        for child in children:
            child._finish(cause)  # Go: a parent's cancel reaches every child, with its cause

    def __repr__(self) -> str:
        left = self.remaining()
        return (f"<ThreadScope {'done: ' + repr(self._cause) if self._cause else 'running'}, "
                f"{'no deadline' if math.isinf(left) else f'{left:.3f} s left'}>")
