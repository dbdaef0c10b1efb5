"""The process-pool factory the process-based variants share."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .checks import check_positive_int
from .lazy import lazy

if TYPE_CHECKING:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
else:
    multiprocessing = lazy(globals(), "multiprocessing")

__all__ = ["new_process_pool"]


def new_process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Make a process pool that is safe to start from a program that has threads.

    Forking a process that has other threads running copies their locks in whatever state they
    were in, which can deadlock the child; so on POSIX the pool starts its workers from a clean
    *forkserver* process (the default from Python 3.14 on). The fork server imports the process
    variants' modules once, when it starts, so that each worker it forks is ready at once
    instead of importing them again.

    Create one pool, reuse it for the life of the program, and close it with ``with`` (or
    ``shutdown()``): its exit waits for the worker processes, so none outlives it.

    Args:
        workers: how many processes (>= 1); by default one per CPU.

    Raises:
        TypeError, ValueError: *workers* is not an int >= 1.
    """
    if workers is not None:
        check_positive_int("workers", workers)
    # Imported here: concurrent.futures.process imports multiprocessing, which only a pool needs.
    from concurrent.futures import ProcessPoolExecutor

    if sys.platform == "win32":
        return ProcessPoolExecutor(max_workers=workers)
    context = multiprocessing.get_context("forkserver")
    # The modules whose functions a worker unpickles: the caller's and the process variants'.
    context.set_forkserver_preload(
        ["__main__", "concurrency_patterns.worker_pool", "concurrency_patterns.process_offload"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)
