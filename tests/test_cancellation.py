"""The cancellation contract, run against every variant.

Each test describes a request — a deadline, and operations that run at once under it, some
with a deadline of their own, some fanning out again — and each model runs it its own way:
asyncio tasks in a ``TaskGroup`` under ``asyncio.Scope``, anyio tasks (on asyncio and trio)
under ``anyio.Scope``, threads under ``threads.Scope``, where the work checks the scope. The
outcome is the same record for all, so one set of assertions holds every variant to the
contract.

Every async model also runs on a virtual clock (trio's ``MockClock``, a virtual asyncio loop),
where a stop must come exactly at its deadline. In real time the bounds are generous: these
machines have 2 cores and are busy, so a stop counts as prompt if it comes within ``SLACK`` of
the deadline.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

from concurrency_patterns import Cancelled, DeadlineExceeded
from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from concurrency_patterns.tools.demos.cancellation import AsyncioGroup
from tests.conftest import ANYIO_CANCELS, FakeTime, VirtualTimeLoop, stopped_by_anyio

pytestmark = pytest.mark.anyio

SLACK = 1.0  # real time: how late a stop may come on a loaded machine (exact: virtual clocks)


@dataclass
class Op:
    """One downstream call: *seconds* of work, under its own *timeout* if given; with
    *fanout*, that many sub-calls of *seconds* each, at once."""

    name: str
    seconds: float
    timeout: float | None = None
    fanout: int = 0
    move_on: bool = False  # its own deadline ends it quietly, so its siblings go on


@dataclass
class Outcome:
    raised: BaseException | None = None  # what the request's block let out
    cause: BaseException | None = None  # the request scope's cause
    finished: set[str] = field(default_factory=set)
    stopped_at: dict[str, float] = field(default_factory=dict)  # seconds after the start
    causes: dict[str, BaseException | None] = field(default_factory=dict)  # each op's scope
    deadlines: dict[str, float] = field(default_factory=dict)  # remaining() on entry
    cleanup_done: bool = False
    elapsed: float = 0.0


@dataclass
class Request:
    deadline: float | None
    ops: list[Op]
    cancel_after: float | None = None  # the handler cancels the request itself
    cancel_cause: BaseException | None = None
    cleanup: float = 0.0  # seconds of shielded cleanup after the work, when > 0
    cleanup_timeout: float = 1.0
    move_on: bool = False


class Model:
    name = ""
    backend: Any = "asyncio"
    slack = SLACK  # how late after a deadline a stop may come, on this model's clock

    def __str__(self) -> str:
        return self.name

    def now(self) -> float:
        """The model's clock: real time, or the event loop's virtual time."""
        return time.monotonic()

    async def run(self, request: Request) -> Outcome:
        raise NotImplementedError


class AsyncModel(Model):
    """The request on asyncio or anyio; the two differ only in their scope, task group and
    sleep."""

    def __init__(self, name: str, backend: str = "asyncio", *, virtual: bool = False) -> None:
        self.kind = "asyncio" if name == "asyncio" else "anyio"
        self.virtual = virtual
        self.name = f"{name}-virtual" if virtual else name
        self.backend = backend
        if virtual:  # the loop's clock jumps to the next timer: deadlines are met exactly
            self.slack = 1e-9
            if backend == "trio":
                from trio.testing import MockClock

                self.backend = ("trio", {"clock": MockClock(autojump_threshold=0)})
            else:
                self.backend = ("asyncio", {"loop_factory": VirtualTimeLoop})
        self.scope: Any = cp_asyncio.Scope if self.kind == "asyncio" else cp_anyio.Scope

    def now(self) -> float:
        return anyio.current_time()

    def task_group(self) -> Any:
        if self.kind == "asyncio":
            return AsyncioGroup()
        return anyio.create_task_group()

    async def sleep(self, seconds: float) -> None:
        await (asyncio.sleep(seconds) if self.kind == "asyncio" else anyio.sleep(seconds))

    async def run(self, request: Request) -> Outcome:
        out = Outcome()
        start = self.now()

        async def op(o: Op) -> None:
            try:
                async with self.scope(o.timeout, move_on=o.move_on) as s:
                    out.deadlines[o.name] = s.remaining()
                    if o.fanout:
                        async with self.task_group() as tg:
                            for _ in range(o.fanout):
                                tg.start_soon(self.sleep, o.seconds)
                    else:
                        await self.sleep(o.seconds)
                    out.finished.add(o.name)
            finally:
                out.stopped_at[o.name] = self.now() - start
                out.causes[o.name] = s.cause

        async def cleanup() -> None:
            await self.sleep(request.cleanup)
            out.cleanup_done = True

        try:
            async with self.scope(request.deadline, move_on=request.move_on) as top:
                try:
                    async with self.task_group() as tg:
                        for o in request.ops:
                            tg.start_soon(op, o)
                        if request.cancel_after is not None:
                            await self.sleep(request.cancel_after)
                            top.cancel(request.cancel_cause)
                finally:
                    if request.cleanup:
                        await top.shielded(cleanup, timeout=request.cleanup_timeout)
        except BaseException as exc:
            out.raised = exc
        out.cause = top.cause
        out.elapsed = self.now() - start
        return out


class ThreadModel(Model):
    """The request with threads: each op a thread with a child scope, that waits on it."""

    name = "threads"

    async def run(self, request: Request) -> Outcome:
        return await anyio.to_thread.run_sync(self._run, request)

    def _run(self, request: Request) -> Outcome:
        out = Outcome()
        start = time.monotonic()
        lock = threading.Lock()
        errors: list[BaseException] = []

        def work(scope: cp_threads.Scope, seconds: float) -> None:
            if scope.wait(seconds):  # woken early: cancelled or past a deadline
                scope.check()

        def op(parent: cp_threads.Scope, o: Op) -> None:
            s = parent.child(o.timeout)
            try:
                with s:
                    out.deadlines[o.name] = s.remaining()
                    if o.fanout:
                        subs = [threading.Thread(target=_catching(errors, lock, work),
                                                 args=(s.child(), o.seconds))
                                for _ in range(o.fanout)]
                        for t in subs:
                            t.start()
                        for t in subs:
                            t.join()
                        s.check()
                    else:
                        work(s, o.seconds)
                    out.finished.add(o.name)
            except DeadlineExceeded:
                if not o.move_on or s.deadline == parent.deadline:
                    raise
            finally:
                out.stopped_at[o.name] = time.monotonic() - start
                out.causes[o.name] = s.cause

        def cleanup(scope: cp_threads.Scope) -> None:
            work(scope, request.cleanup)
            out.cleanup_done = True

        top = cp_threads.Scope(request.deadline)
        try:
            with top:
                try:
                    threads = [threading.Thread(target=_catching(errors, lock, op),
                                                args=(top, o)) for o in request.ops]
                    for t in threads:
                        t.start()
                    if request.cancel_after is not None:
                        time.sleep(request.cancel_after)
                        top.cancel(request.cancel_cause)
                    for t in threads:
                        t.join()
                    top.check()  # Go: return ctx.Err()
                finally:
                    if request.cleanup:
                        top.shielded(cleanup, timeout=request.cleanup_timeout)
        except DeadlineExceeded as exc:
            if not request.move_on:
                out.raised = exc
        except BaseException as exc:
            out.raised = exc
        out.cause = top.cause
        out.elapsed = time.monotonic() - start
        return out


def _catching(errors: list[BaseException], lock: threading.Lock,
              fn: Callable[..., None]) -> Callable[..., None]:
    def run(*args: Any) -> None:
        try:
            fn(*args)
        except (Cancelled, DeadlineExceeded):
            pass  # the work stopped as asked
        except BaseException as exc:
            with lock:
                errors.append(exc)
    return run


REAL_ASYNC: list[Model] = [AsyncModel("asyncio"), AsyncModel("anyio-asyncio"),
                           AsyncModel("anyio-trio", "trio")]
VIRTUAL_ASYNC: list[Model] = [AsyncModel("asyncio", virtual=True),
                              AsyncModel("anyio-asyncio", virtual=True),
                              AsyncModel("anyio-trio", "trio", virtual=True)]
ASYNC_MODELS = REAL_ASYNC
MODELS: list[Model] = [*ASYNC_MODELS, ThreadModel()]
TIMED: list[Model] = [*MODELS, *VIRTUAL_ASYNC]  # the deadline contracts, exact on virtual time


@pytest.fixture
def anyio_backend(request: pytest.FixtureRequest) -> str:
    model: Model = request.getfixturevalue("model")
    return model.backend


# --- the deadline -----------------------------------------------------------------------------

@pytest.mark.parametrize("model", TIMED, ids=str)
async def test_the_deadline_stops_everything_below_it_promptly(model: Model) -> None:
    out = await model.run(Request(0.2, [Op("auth", 0.01), Op("recommendations", 5.0),
                                         Op("profile", 5.0, fanout=3)]))
    assert isinstance(out.raised, DeadlineExceeded)
    assert isinstance(out.cause, DeadlineExceeded)
    assert out.finished == {"auth"}
    assert out.stopped_at["recommendations"] <= 0.2 + model.slack
    assert out.stopped_at["profile"] <= 0.2 + model.slack
    assert out.elapsed <= 0.2 + model.slack


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_work_inside_learns_the_deadline_as_its_cause(model: Model) -> None:
    out = await model.run(Request(0.1, [Op("slow", 5.0), Op("fan", 5.0, fanout=2)]))
    assert isinstance(out.causes["slow"], DeadlineExceeded)
    assert isinstance(out.causes["fan"], DeadlineExceeded)


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_work_that_finishes_in_time_is_untouched(model: Model) -> None:
    out = await model.run(Request(2.0, [Op("a", 0.01), Op("b", 0.02, timeout=1.0),
                                         Op("c", 0.01, fanout=3)]))
    assert out.raised is None and out.cause is None
    assert out.finished == {"a", "b", "c"}
    assert out.causes == {"a": None, "b": None, "c": None}


@pytest.mark.parametrize("model", TIMED, ids=str)
async def test_move_on_ends_the_block_quietly_and_still_says_why(model: Model) -> None:
    out = await model.run(Request(0.1, [Op("slow", 5.0)], move_on=True))
    assert out.raised is None
    assert isinstance(out.cause, DeadlineExceeded)
    assert out.elapsed <= 0.1 + model.slack


# --- nested deadlines -------------------------------------------------------------------------

@pytest.mark.parametrize("model", TIMED, ids=str)
async def test_a_sub_operation_cannot_extend_the_deadline(model: Model) -> None:
    out = await model.run(Request(0.2, [Op("greedy", 5.0, timeout=10.0)]))
    assert out.deadlines["greedy"] <= 0.2
    assert out.stopped_at["greedy"] <= 0.2 + model.slack
    assert isinstance(out.raised, DeadlineExceeded)


@pytest.mark.parametrize("model", TIMED, ids=str)
async def test_a_sub_operation_can_shorten_it(model: Model) -> None:
    out = await model.run(Request(5.0, [Op("quick", 5.0, timeout=0.1, move_on=True),
                                         Op("other", 0.4)]))
    assert out.deadlines["quick"] <= 0.1
    assert 0.1 - 1e-9 <= out.stopped_at["quick"] <= 0.1 + model.slack
    assert isinstance(out.causes["quick"], DeadlineExceeded)
    assert "quick" not in out.finished
    assert "other" in out.finished  # the request's own deadline was far away
    assert out.raised is None and out.cause is None


@pytest.mark.parametrize("model", TIMED, ids=str)
@pytest.mark.parametrize(("parent", "child"), [(0.5, 2.0), (2.0, 0.5), (0.5, None), (None, 0.5),
                                               (None, None)])
async def test_the_nested_deadline_is_the_earlier_one(
    model: Model, parent: float | None, child: float | None,
) -> None:
    out = await model.run(Request(parent, [Op("op", 0.0, timeout=child)]))
    expected = min(parent or math.inf, child or math.inf)
    if math.isinf(expected):
        assert math.isinf(out.deadlines["op"])
    else:
        assert expected - model.slack <= out.deadlines["op"] <= expected


# --- cancel with a cause ----------------------------------------------------------------------

@pytest.mark.parametrize("model", TIMED, ids=str)
async def test_cancel_stops_everything_and_every_scope_reports_its_cause(model: Model) -> None:
    shutdown = ConnectionAbortedError("client went away")
    out = await model.run(Request(None, [Op("a", 5.0), Op("b", 5.0, fanout=2),
                                         Op("c", 5.0, timeout=10.0)],
                                   cancel_after=0.1, cancel_cause=shutdown))
    assert out.raised is None  # the one who cancelled knows why: the block ends quietly
    assert out.cause is shutdown
    assert out.causes == {"a": shutdown, "b": shutdown, "c": shutdown}
    assert out.finished == set()
    assert out.elapsed <= 0.1 + model.slack


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_cancel_without_a_cause_reports_cancelled(model: Model) -> None:
    out = await model.run(Request(None, [Op("a", 5.0)], cancel_after=0.05))
    assert out.raised is None
    assert isinstance(out.cause, Cancelled)
    assert isinstance(out.causes["a"], Cancelled)


# --- shielded cleanup -------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_shielded_cleanup_runs_to_the_end_after_the_deadline(model: Model) -> None:
    out = await model.run(Request(0.1, [Op("slow", 5.0)], cleanup=0.2))
    assert out.cleanup_done
    assert isinstance(out.raised, DeadlineExceeded)
    assert out.elapsed >= 0.1 + 0.2


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_shielded_cleanup_runs_to_the_end_after_a_cancel(model: Model) -> None:
    out = await model.run(Request(None, [Op("slow", 5.0)], cancel_after=0.05, cleanup=0.15))
    assert out.cleanup_done
    assert out.raised is None


@pytest.mark.parametrize("model", TIMED, ids=str)
async def test_shielded_cleanup_is_bounded_by_its_own_timeout(model: Model) -> None:
    out = await model.run(Request(0.05, [Op("slow", 5.0)], cleanup=5.0, cleanup_timeout=0.1))
    assert not out.cleanup_done
    assert isinstance(out.raised, TimeoutError)
    assert out.elapsed <= 0.05 + 0.1 + model.slack


@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_shielded_cleanup_survives_a_second_cancellation(model: Model) -> None:
    assert isinstance(model, AsyncModel)
    done = False

    async def cleanup() -> None:
        nonlocal done
        await model.sleep(0.2)
        done = True

    async def handler() -> None:
        async with model.scope(None) as s:
            try:
                await model.sleep(5.0)
            finally:
                await s.shielded(cleanup, timeout=2.0)

    # the outer deadline fires while the cleanup runs: it still finishes
    with anyio.move_on_after(0.05):
        await handler()
    assert done


# --- the scopes themselves ----------------------------------------------------------------------

@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_current_is_the_innermost_scope(model: Model) -> None:
    assert isinstance(model, AsyncModel)
    cls = model.scope
    assert cls.current() is None
    async with cls(1.0) as outer:
        assert cls.current() is outer
        async with cls(0.5) as inner:
            assert cls.current() is inner
            seen: list[Any] = []

            async def child() -> None:
                seen.append(cls.current())

            async with model.task_group() as tg:
                tg.start_soon(child)
            assert seen == [inner]  # tasks started inside see the scope
        assert cls.current() is outer
    assert cls.current() is None


@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_a_scope_is_used_once(model: Model) -> None:
    assert isinstance(model, AsyncModel)
    scope = model.scope(1.0)
    async with scope:
        pass
    with pytest.raises(RuntimeError, match="once"):
        async with scope:
            pass


@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_the_first_cause_stays(model: Model) -> None:
    assert isinstance(model, AsyncModel)
    first, second = ValueError("first"), KeyError("second")
    async with model.scope() as s:
        s.cancel(first)
        s.cancel(second)
        await model.sleep(1.0)
    assert s.cause is first


def test_a_thread_scope_checks_wait_and_children() -> None:
    parent = cp_threads.Scope(5.0)
    child = parent.child(10.0)
    assert child.deadline == parent.deadline
    assert not child.cancelled and child.cause is None
    child.check()  # not done: no error
    start = time.monotonic()
    assert not child.wait(0.05)
    assert time.monotonic() - start >= 0.04
    cause = OSError("upstream failed")
    threading.Timer(0.05, parent.cancel, args=(cause,)).start()
    start = time.monotonic()
    assert child.wait(5.0)  # woken by the parent's cancel, long before 5 s
    assert time.monotonic() - start < 1.0
    assert child.cause is cause
    with pytest.raises(Cancelled) as info:
        child.check()
    assert info.value.__cause__ is cause
    late = parent.child()
    assert late.cause is cause  # born into a cancelled parent
    assert "done" in repr(child)


def test_a_thread_scope_deadline_needs_no_timer() -> None:
    s = cp_threads.Scope(0.05)
    assert s.wait()  # sleeps to the deadline, then reports it
    with pytest.raises(DeadlineExceeded):
        s.check()
    assert math.isinf(cp_threads.Scope().remaining())


def test_leaving_a_thread_scope_releases_its_children() -> None:
    with cp_threads.Scope() as s:
        child = s.child()
    assert s.cause is None  # the block ended normally
    assert isinstance(child.cause, Cancelled)
    assert isinstance(s.child().cause, Cancelled)


def test_a_thread_scope_swallows_only_its_own_cancel() -> None:
    with cp_threads.Scope() as s:
        s.cancel()
        s.check()  # raises Cancelled, which the block swallows
    parent = cp_threads.Scope()
    with pytest.raises(Cancelled), parent.child() as child:
        parent.cancel()
        child.check()  # the parent's cancel is not the child's to swallow


@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_a_deadline_cannot_stop_a_thread_that_does_not_check(model: Model) -> None:
    # The trap: to_thread's await is cancelled, the thread runs on. Only a thread that checks
    # a cp_threads.Scope stops.
    assert isinstance(model, AsyncModel)
    finished = threading.Event()

    def blocking() -> None:
        time.sleep(0.3)
        finished.set()

    start = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        async with model.scope(0.05):
            await anyio.to_thread.run_sync(blocking, abandon_on_cancel=True)
    assert time.monotonic() - start < 0.3  # the scope did stop waiting...
    assert not finished.is_set()  # ... but the thread is still running
    assert await anyio.to_thread.run_sync(finished.wait, 5.0)


# --- bad input --------------------------------------------------------------------------------

SCOPES = [cp_asyncio.Scope, cp_anyio.Scope, cp_threads.Scope]


@pytest.mark.parametrize("cls", SCOPES, ids=lambda c: c.__name__)
@pytest.mark.parametrize(("timeout", "error"), [(-1, ValueError), (math.nan, ValueError),
                                                ("1", TypeError), (True, TypeError)])
def test_a_bad_timeout_is_refused_naming_it(cls: Any, timeout: Any, error: type) -> None:
    with pytest.raises(error, match="timeout"):
        cls(timeout)


def test_a_bad_parent_or_cause_is_refused_naming_it() -> None:
    with pytest.raises(TypeError, match="parent"):
        cp_threads.Scope(parent=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="fn must be callable"):
        cp_threads.Scope().shielded(42, timeout=1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cause"):
        cp_threads.Scope().cancel("why")  # type: ignore[arg-type]


@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_a_bad_cause_is_refused_naming_it(model: Model) -> None:
    assert isinstance(model, AsyncModel)
    async with model.scope() as s:
        with pytest.raises(TypeError, match="cause"):
            s.cancel("why")
        with pytest.raises(TypeError, match="timeout"):
            await s.shielded(model.sleep, 0, timeout="soon")
        with pytest.raises(TypeError, match="fn must be callable"):
            await s.shielded(42, timeout=1.0)


# --- the traps the docs page warns of ---------------------------------------------------------

@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_a_swallowed_cancellation(model: Model) -> None:
    # Catching the cancellation and going on: asyncio delivers a cancellation once, so the
    # code runs on past the deadline and the block ends as if nothing happened (the scope's
    # cause still says the deadline passed); anyio's cancellation is level-triggered, so the
    # next await raises it again, on asyncio as on trio.
    assert isinstance(model, AsyncModel)
    cancelled = (asyncio.CancelledError if model.kind == "asyncio"
                 else anyio.get_cancelled_exc_class())
    ran_on = False
    start = time.monotonic()

    async def handler() -> Any:
        nonlocal ran_on
        async with model.scope(0.05) as s:
            try:  # noqa: SIM105 - the bug, written the way it is found
                await model.sleep(5.0)
            except cancelled:
                pass  # swallowed
            await model.sleep(0.2)
            ran_on = True
        return s

    if model.kind == "asyncio":
        s = await handler()
        assert ran_on and time.monotonic() - start >= 0.25  # it ran the whole second sleep
        assert isinstance(s.cause, DeadlineExceeded)
    else:
        with pytest.raises(DeadlineExceeded):
            await handler()
        assert not ran_on and time.monotonic() - start < 0.2  # stopped at the next await


# --- the cause, from the moment the deadline passes ---------------------------------------------

@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_the_cause_is_the_deadline_from_the_moment_it_passes(model: Model) -> None:
    assert isinstance(model, AsyncModel)
    seen: list[Any] = []
    with pytest.raises(DeadlineExceeded):
        async with model.scope(0.05) as s:
            try:
                await model.sleep(5)
            except anyio.get_cancelled_exc_class():
                seen.append(s.cause)  # in the cleanup, before the block has ended
                raise
    assert len(seen) == 1 and isinstance(seen[0], DeadlineExceeded)
    assert s.cause is seen[0]


@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_an_error_raised_while_the_deadline_cancels_keeps_its_cause(model: Model) -> None:
    assert isinstance(model, AsyncModel)
    with pytest.raises(ValueError, match="cleanup failed"):
        async with model.scope(0.05) as s:
            try:
                await model.sleep(5)
            except anyio.get_cancelled_exc_class():
                raise ValueError("cleanup failed") from None
    assert isinstance(s.cause, DeadlineExceeded)


@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_a_cancel_after_the_deadline_keeps_the_first_cause(model: Model) -> None:
    assert isinstance(model, AsyncModel)

    async def cancel_it(scope: Any) -> None:
        scope.cancel(ValueError("too late"))

    with pytest.raises(DeadlineExceeded):
        async with model.scope(0.05) as s:
            try:
                await model.sleep(5)
            finally:
                await s.shielded(cancel_it, s, timeout=1.0)
    assert isinstance(s.cause, DeadlineExceeded)


def test_a_thread_scope_cancelled_after_an_unread_deadline_keeps_the_deadline() -> None:
    s = cp_threads.Scope(0.01)
    time.sleep(0.05)  # the deadline passes; nobody reads the scope meanwhile
    s.cancel(ValueError("too late"))
    assert isinstance(s.cause, DeadlineExceeded)
    with pytest.raises(DeadlineExceeded):
        s.check()


# --- the asyncio variant under anyio's cancellation ---------------------------------------------

async def _sleep_in_a_scope() -> None:
    async with cp_asyncio.Scope(timeout=3600):
        await asyncio.sleep(3600)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
def test_the_asyncio_cancellation_stops_when_anyio_cancels_it(how: str) -> None:
    """Waiting as anyio cancels it (as under FastAPI): the wait ends, nothing is left."""
    assert stopped_by_anyio(_sleep_in_a_scope, how) < 30



@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_a_scope_entered_after_its_parent_was_cancelled_inherits_the_cancel(
    model: Model,
) -> None:
    """The child starts late, after the parent's cancel() (a slow machine): its cause is the
    parent's, not a deadline."""
    assert isinstance(model, AsyncModel)
    async with model.scope() as top:
        top.cancel(ValueError("the client went away"))
        with pytest.raises(anyio.get_cancelled_exc_class() if model.kind == "anyio"
                           else asyncio.CancelledError):
            async with model.scope() as inner:
                await model.sleep(5)
    assert isinstance(inner.cause, ValueError)
    assert isinstance(top.cause, ValueError)


def test_a_thread_scope_s_deadlines_exactly_on_a_fake_clock(fake_time: FakeTime) -> None:
    parent = cp_threads.Scope(0.2)
    longer, shorter = parent.child(1.0), parent.child(0.05)
    assert (parent.deadline, longer.deadline, shorter.deadline) == (0.2, 0.2, 0.05)
    fake_time.now = 0.05 - 1e-12
    assert shorter.cause is None and shorter.remaining() == pytest.approx(1e-12)
    fake_time.now = 0.05  # the deadline itself: done
    assert isinstance(shorter.cause, DeadlineExceeded) and shorter.remaining() == 0
    assert parent.cause is None and longer.cause is None
    fake_time.now = 0.2
    for scope in (parent, longer):
        with pytest.raises(DeadlineExceeded):
            scope.check()
    parent.cancel(ValueError("late"))  # after the deadline: the first cause stays
    assert isinstance(parent.cause, DeadlineExceeded)


# --- asyncio.Scope sets its timer only once the block gives up the loop ----------------------

def test_an_asyncio_scope_that_never_waits_sets_no_timer() -> None:
    """A block that ends before it awaits anything that waits leaves the loop's timer heap as
    it found it, however many scopes it enters."""

    async def main() -> tuple[int, int]:
        loop: Any = asyncio.get_running_loop()
        for _ in range(1000):
            async with cp_asyncio.Scope(3600.0), cp_asyncio.Scope(60.0):
                pass
        before = len(loop._scheduled)  # timer handles, cancelled ones too
        await asyncio.sleep(0)  # the loop runs the arming callback: nothing is left to arm
        return before, len(loop._scheduled)

    assert asyncio.run(main()) == (0, 0)


@pytest.mark.parametrize("loops", [1, 2])
def test_an_asyncio_scope_that_waits_is_stopped_at_its_deadline(loops: int) -> None:
    """The timer is set as the block waits, on each new loop the thread runs."""

    async def main() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        async with cp_asyncio.Scope(5.0, move_on=True) as scope:
            await asyncio.sleep(3600)
        assert isinstance(scope.cause, DeadlineExceeded)
        return loop.time() - start

    for _ in range(loops):
        with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
            assert runner.run(main()) == pytest.approx(5.0)


def test_an_asyncio_cancel_before_the_timer_is_set_is_not_undone_by_it() -> None:
    async def main() -> tuple[BaseException | None, float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        async with cp_asyncio.Scope(3600.0) as scope:
            scope.cancel()  # before the loop has run: setting the deadline must not undo it
            await asyncio.sleep(7200)
        return scope.cause, loop.time() - start

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        cause, elapsed = runner.run(main())
    assert isinstance(cause, Cancelled) and elapsed == 0
