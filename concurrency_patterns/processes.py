"""Work that runs in other processes, from blocking code: ``concurrency_patterns.processes``.

CPU-bound Python code runs one thread at a time under the GIL, so it runs in parallel only in
processes. The names here are the blocking calls whose work runs in a process pool:

* ``map`` and ``map_stream``: the worker pool of ``concurrency_patterns.threads`` with
  processes for workers. A threaded service whose jobs turn out to be CPU-bound moves here by
  changing one import line.
* ``offload`` and ``offload_all``: one call, or one call per item, in a pool you pass. Async code
  offloads with ``concurrency_patterns.asyncio.offload`` or ``concurrency_patterns.anyio.offload``.
* ``new_process_pool``: the pool to pass, safe to start from a program that has threads.

What runs in a process is pickled: the function must be importable (no lambda, no closure), and
the calls refuse one that is not before anything starts, naming the parameter. Any
``concurrent.futures.Executor`` will do as the pool, a Dask ``Client.get_executor()`` included.

Importing this module imports nothing but itself; multiprocessing loads when a pool is made.
"""

from __future__ import annotations

from . import _SHARED
from ._exports import lazy_exports

# Not typing.TYPE_CHECKING: importing typing costs more than everything else here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import (  # the types every model shares
        MAX_BODY,
        MAX_REDIRECTS,
        RETRY_STATUSES,
        AnswerRefused,
        BodyTooLarge,
        Cancelled,
        Completed,
        DeadlineExceeded,
        FetchError,
        FetchResult,
        JobError,
        MissingExtra,
        PipelineError,
        PoolStatistics,
        ProducerConsumerError,
        Request,
        Response,
        Stage,
        capacity,
        new_process_pool,
    )
    from .process_offload import offload_all_sync as offload_all
    from .process_offload import offload_sync as offload
    from .worker_pool import map_processes as map
    from .worker_pool import stream_processes as map_stream

_EXPORTS = {
    **_SHARED,
    "map": "worker_pool:map_processes",
    "map_stream": "worker_pool:stream_processes",
    "offload": "process_offload:offload_sync",
    "offload_all": "process_offload:offload_all_sync",
}

__all__ = [
    "MAX_BODY",
    "MAX_REDIRECTS",
    "RETRY_STATUSES",
    "AnswerRefused",
    "BodyTooLarge",
    "Cancelled",
    "Completed",
    "DeadlineExceeded",
    "FetchError",
    "FetchResult",
    "JobError",
    "MissingExtra",
    "PipelineError",
    "PoolStatistics",
    "ProducerConsumerError",
    "Request",
    "Response",
    "Stage",
    "capacity",
    "map",
    "map_stream",
    "new_process_pool",
    "offload",
    "offload_all",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
