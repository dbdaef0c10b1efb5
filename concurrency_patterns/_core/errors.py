"""The errors every pattern shares, and how a task group's errors become one error."""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["JobError", "unwrap_group"]

E = TypeVar("E", bound=BaseException)


class JobError(Exception):
    """A job failed; the original exception is ``__cause__``.

    Raised by the worker pool (and by fail-fast fetches) the way Go's ``errgroup`` returns the
    first error: the other jobs are cancelled and this error says which job failed.

    Attributes:
        index: the failing job's position in the input.
        job: the job itself.
        attempts: how many times the job ran (1 without retries).
        retry_reasons: why each retry happened, one entry per retry.
    """

    def __init__(self, index: int, job: object, cause: BaseException, *, attempts: int = 1,
                 retry_reasons: tuple[str, ...] = ()) -> None:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(
            f"job {index} ({job!r}) failed{tries}: {type(cause).__name__}: {cause}")
        self.index = index
        self.job = job
        self.attempts = attempts
        self.retry_reasons = retry_reasons
        self.__cause__ = cause

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle through their args; keep everything across processes.
        return (_rebuild_job_error, (self.index, self.job, self.__cause__, self.attempts,
                                     self.retry_reasons))


def _rebuild_job_error(index: int, job: object, cause: BaseException, attempts: int = 1,
                       retry_reasons: tuple[str, ...] = ()) -> JobError:
    return JobError(index, job, cause, attempts=attempts, retry_reasons=retry_reasons)


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
