"""The process-pool factory the process-based variants share."""

from __future__ import annotations

import sys
import threading
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any

from .checks import check_positive_int
from .lazy import lazy

if TYPE_CHECKING:
    import multiprocessing
    from collections.abc import Callable
    from concurrent.futures import Future, ProcessPoolExecutor
else:
    multiprocessing = lazy(globals(), "multiprocessing")

__all__ = ["new_process_pool"]


def new_process_pool(workers: int | None = None, *,
                     hold_jobs: bool = False) -> ProcessPoolExecutor:
    """Make a process pool whose workers start from a fork server, ready to run.

    Forking a process that has other threads running copies their locks in whatever state they
    were in, which can deadlock the child; so on POSIX the pool starts its workers from a clean
    *forkserver* process (the default from Python 3.14 on). The fork server imports the process
    variants' modules once, when it starts, so that each worker it forks is ready at once
    instead of importing them again.

    Like any ``ProcessPoolExecutor``, the pool moves up to ``workers + 1`` jobs ahead of time
    into the queue its workers read, so that a worker never waits for its next job; a job on
    its way there can no longer be cancelled, and runs. With ``hold_jobs=True`` the pool
    holds every job until a worker process is free instead: ``Future.cancel()`` succeeds for
    every job that has not started, and a job it cannot cancel is one that is running. That
    costs each job a hop through the pool's manager thread while its worker waits; the
    benchmarks measure it as its own row (*hold_jobs=True*).

    Create one pool, reuse it for the life of the program, and close it with ``with`` (or
    ``shutdown()``): its exit runs the jobs it was given, then waits for the worker
    processes, so none outlives it. ``shutdown(cancel_futures=True)`` cancels the jobs that
    have not started instead (with ``hold_jobs=True``, every one of them).

    Args:
        workers: how many processes (>= 1); by default one per CPU.
        hold_jobs: hold each job until a worker is free, so that every job not yet running
            can be cancelled.

    Raises:
        TypeError, ValueError: *workers* is not an int >= 1, or *hold_jobs* not a bool.
    """
    if workers is not None:
        check_positive_int("workers", workers)
    if not isinstance(hold_jobs, bool):
        raise TypeError(f"hold_jobs must be a bool, got {type(hold_jobs).__name__}")
    from concurrent.futures import ProcessPoolExecutor

    pool_class = _held_pool_class() if hold_jobs else ProcessPoolExecutor
    if sys.platform == "win32":
        return pool_class(max_workers=workers)
    context = multiprocessing.get_context("forkserver")
    # The modules whose functions a worker unpickles: the caller's and the process variants'.
    context.set_forkserver_preload(
        ["__main__", "concurrency_patterns.worker_pool", "concurrency_patterns.process_offload"])
    return pool_class(max_workers=workers, mp_context=context)


_HELD_POOL: type[ProcessPoolExecutor] | None = None


def _held_pool_class() -> type[ProcessPoolExecutor]:
    """The class, made on first use: concurrent.futures.process imports multiprocessing,
    which only a pool needs."""
    global _HELD_POOL
    if _HELD_POOL is None:
        _HELD_POOL = _make_held_pool_class()
    return _HELD_POOL


def _make_held_pool_class() -> type[ProcessPoolExecutor]:
    from concurrent.futures import Future, ProcessPoolExecutor

    class HeldProcessPool(ProcessPoolExecutor):
        """A ``ProcessPoolExecutor`` whose ``submit`` keeps each job here until a worker is
        free (see ``new_process_pool``)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._workers: int = self._max_workers  # type: ignore[attr-defined]
            self._held_lock = threading.Lock()
            # Invariants, under _held_lock: len(_held) > 0 only while _busy == _max_workers
            # (or while a dispatch is on its way); _busy counts jobs handed to the pool.
            self._held: deque[tuple[Future[Any], Callable[..., Any], tuple[Any, ...],
                                    dict[str, Any]]] = deque()
            self._busy = 0
            self._closing = False
            self._drained = threading.Condition(self._held_lock)

        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
            outer: Future[Any] = Future()
            with self._held_lock:
                if self._closing:
                    raise RuntimeError("cannot schedule new futures after shutdown")
                self._held.append((outer, fn, args, kwargs))
            self._dispatch()
            return outer

        def _dispatch(self) -> None:
            """Hand held jobs to the pool while a worker is free."""
            while True:
                with self._held_lock:
                    if self._busy >= self._workers or not self._held:
                        self._drained.notify_all()
                        return
                    outer, fn, args, kwargs = self._held.popleft()
                    self._busy += 1
                # False: the caller cancelled it while it was held, so it never runs.
                if not outer.set_running_or_notify_cancel():
                    self._release()
                    continue
                try:
                    inner = super().submit(fn, *args, **kwargs)
                except BaseException as exc:  # a broken pool: every held job fails with it
                    self._release()
                    outer.set_exception(exc)
                    continue
                inner.add_done_callback(partial(self._finished, outer))

        def _release(self) -> None:
            with self._held_lock:
                self._busy -= 1

        def _finished(self, outer: Future[Any], inner: Future[Any]) -> None:
            # Runs in the pool's manager thread: the next job goes out before this one's
            # caller is woken, so the worker waits as little as it can.
            self._release()
            self._dispatch()
            if inner.cancelled():  # shutdown(cancel_futures=True) on the inner queue
                outer.set_exception(RuntimeError("the pool was shut down"))
            elif (exc := inner.exception()) is not None:
                outer.set_exception(exc)
            else:
                outer.set_result(inner.result())

        def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
            with self._held_lock:
                self._closing = True
                held = list(self._held) if cancel_futures else []
                if cancel_futures:
                    self._held.clear()
            for outer, *_ in held:
                outer.cancel()
            if wait:
                with self._held_lock:  # the held jobs run first
                    self._drained.wait_for(lambda: not self._held)
            super().shutdown(wait=wait, cancel_futures=cancel_futures)

    return HeldProcessPool
