"""The private core every pattern stands on: argument checks, the shared errors, the process pool.

Patterns import this module and nothing else of the package: no pattern imports another
pattern, and none imports the tools. Every public function validates its arguments here before
it starts anything, so bad input fails at once with an error that names the parameter, and no
task, thread or process is left behind.
"""

from __future__ import annotations

import multiprocessing
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

__all__ = [
    "JobError",
    "check_callable",
    "check_picklable",
    "check_positive_int",
    "check_positive_number",
    "new_process_pool",
    "unwrap_group",
]

E = TypeVar("E", bound=BaseException)


class JobError(Exception):
    """A job failed; the original exception is ``__cause__``.

    Raised by the worker pool (and by fail-fast fetches) the way Go's ``errgroup`` returns the
    first error: the other jobs are cancelled and this error says which job failed.

    Attributes:
        index: the failing job's position in the input.
        job: the job itself.
    """

    def __init__(self, index: int, job: object, cause: BaseException) -> None:
        super().__init__(f"job {index} ({job!r}) failed: {type(cause).__name__}: {cause}")
        self.index = index
        self.job = job
        self.__cause__ = cause

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle through their args; keep index, job and cause across processes.
        return (_rebuild_job_error, (self.index, self.job, self.__cause__))


def _rebuild_job_error(index: int, job: object, cause: BaseException) -> JobError:
    return JobError(index, job, cause)


def check_positive_int(name: str, value: object) -> int:
    """Return *value* if it is an int >= 1; otherwise raise an error naming *name*."""
    # bool is an int subclass: ``workers=True`` is a bug, not one worker.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}: {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def check_positive_number(name: str, value: object) -> float:
    """Return *value* as a float if it is a real number > 0; otherwise raise naming *name*."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not value > 0:  # also rejects NaN
        raise ValueError(f"{name} must be > 0, got {value}")
    return float(value)


def check_callable(name: str, value: object) -> None:
    """Raise ``TypeError`` naming *name* unless *value* is callable."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}: {value!r}")


def check_picklable(name: str, fn: object) -> None:
    """Raise ``TypeError`` naming *name* unless *fn* can be sent to another process.

    A process pool pickles the function by reference (module + qualified name), so lambdas,
    nested functions and bound methods of unpicklable objects cannot cross. Checking here, before
    anything is submitted, turns a late ``PicklingError`` from a worker into an early, clear error.
    """
    check_callable(name, fn)
    try:
        pickle.dumps(fn)
    except Exception as exc:
        what = getattr(fn, "__qualname__", repr(fn))
        raise TypeError(
            f"{name} must be picklable to run in another process; {what!r} is not "
            f"(define it at module level, not as a lambda or nested function): {exc}"
        ) from exc


def unwrap_group(group: BaseExceptionGroup[Any], kind: type[E]) -> E | None:
    """Return the first leaf of *group* of type *kind*, if every leaf is of that type.

    Task groups wrap errors in an ``ExceptionGroup``. When the only errors are the ones a pattern
    raised on purpose, the caller gets the first of them as a plain exception (as Go's errgroup
    returns the first error). Anything else (a bug, ``KeyboardInterrupt``) returns ``None`` so
    the caller re-raises the whole group and nothing is hidden.
    """
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    if leaves and all(isinstance(leaf, kind) for leaf in leaves):
        first = leaves[0]
        assert isinstance(first, kind)
        return first
    return None


def new_process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Make a process pool that is safe to start from a program that has threads.

    Forking a process that has other threads running copies their locks in whatever state they
    were in, which can deadlock the child; so on POSIX the pool starts its workers from a clean
    *forkserver* process (the default from Python 3.14 on). The fork server imports this package
    once, when it starts, so that each worker it forks is ready at once (about 25 ms for a pool
    of two, against 250 ms when every worker imports it again).

    Create one pool, reuse it for the life of the program, and close it with ``with`` (or
    ``shutdown()``): its exit waits for the worker processes, so none outlives it.

    Args:
        workers: how many processes (>= 1); by default one per CPU.

    Raises:
        TypeError, ValueError: *workers* is not an int >= 1.
    """
    if workers is not None:
        check_positive_int("workers", workers)
    if sys.platform == "win32":
        return ProcessPoolExecutor(max_workers=workers)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __package__ or "concurrency_patterns"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)
