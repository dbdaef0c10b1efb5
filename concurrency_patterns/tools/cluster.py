"""A Dask cluster as a ``concurrent.futures.Executor``, for the demo, the tests and benchmarks.

``process_offload`` and ``worker_pool`` accept any ``Executor``; a Dask ``Client``'s
``get_executor()`` is one. ``dask_executor()`` gives one of two clusters behind the same
interface:

* **embedded** (the default): a ``LocalCluster`` of *workers* worker processes, one thread
  each, started here and closed when the block ends, workers and all;
* every call runs: Dask's default would run identical calls (same function, same arguments)
  once and share the result, which is not what an ``Executor`` promises;
* **real**: a running scheduler, when an address is given — the ``address`` argument, or the
  ``CONCURRENCY_PATTERNS_DASK_SCHEDULER`` environment variable (``tcp://host:8786``). The
  cluster is someone else's: leaving the block only disconnects from it.

Dask comes with the ``[dask]`` extra (``pip install 'concurrency-patterns[dask]'``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

__all__ = ["ADDRESS_VARIABLE", "dask_executor"]

ADDRESS_VARIABLE = "CONCURRENCY_PATTERNS_DASK_SCHEDULER"


@contextmanager
def dask_executor(address: str | None = None, *,
                  workers: int = 2) -> Iterator[tuple[Any, Any]]:
    """``(client, executor)`` for a Dask cluster: the one at *address* (or at
    ``$CONCURRENCY_PATTERNS_DASK_SCHEDULER``), else a ``LocalCluster`` of *workers* processes.

    Raises:
        ModuleNotFoundError: ``distributed`` is not installed (the ``[dask]`` extra).
    """
    from distributed import Client, LocalCluster

    address = address or os.environ.get(ADDRESS_VARIABLE) or None
    with ExitStack() as stack:
        if address is None:
            cluster = stack.enter_context(LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers, threads_per_worker=1, processes=True,
                host="127.0.0.1",  # scheduler, workers and their HTTP routes on loopback only
                # The scheduler serves its HTTP routes (health, metrics; the dashboard needs
                # bokeh, not installed) whatever this says: None means port 8787, which a
                # second cluster finds taken and warns about. A free port never clashes.
                dashboard_address="127.0.0.1:0"))
            client = stack.enter_context(Client(cluster))  # type: ignore[no-untyped-call]
        else:
            client = stack.enter_context(Client(address))  # type: ignore[no-untyped-call]
        # pure=False: Dask takes a function as pure by default and runs identical calls once,
        # sharing the result; an Executor runs every call, and so does this one.
        executor = client.get_executor(pure=False)
        try:
            yield client, executor
        finally:
            executor.shutdown(wait=False)
