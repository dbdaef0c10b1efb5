"""The classic concurrency patterns in every Python model, each beside its Go equivalent.

Each pattern is a module named by its slug, with one variant per concurrency model:

========================  ===============================================================
``bounded_fetch``         fetch N URLs, at most ``limit`` in flight
``producer_consumer``     producers and consumers around a bounded queue, closed when done
``worker_pool``           W workers over a feed of jobs, errgroup-style errors
``waitgroup``             Go's ``sync.WaitGroup`` (and why a task group usually replaces it)
``mutex``                 Go's ``sync.Mutex``
``rwmutex``               Go's ``sync.RWMutex``: many readers or one writer, neither starved
``once``                  Go's ``sync.Once``: one call of ``f``, every caller gets its value
``process_offload``       CPU-bound work in other processes, from async or sync code
``rate_limit``            at most ``rate`` operations per second, ``burst`` at once (GCRA)
``errgroup``              Go's ``errgroup``: a task group with a limit; the first error wins
``singleflight``          Go's ``singleflight``: concurrent callers for one key share one call
``pipeline``              stages joined by bounded channels, fan-out and fan-in, first error
``cancellation``          deadlines and causes down a tree of work: Go's ``context.Context``
``sync_map``              Go's ``sync.Map``: atomic map operations, and a compute-once cache
``sync_pool``             Go's ``sync.Pool``, bounded: reuse objects that are costly to build
========================  ===============================================================

Everything public is importable from here: ``from concurrency_patterns import map_anyio``.
Each module's docstring says which variant to pick; each class and function states its
contract (arguments, errors, cancellation) in its own docstring.

The package's ``tools`` subpackage is the command line (``concurrency-patterns``) and what the
repository's demo, benchmarks and docs use. It is not part of the library: no pattern imports
it, and nothing from it is exported here.
"""

from __future__ import annotations

from ._core import JobError
from .bounded_fetch import (
    MAX_REDIRECTS,
    FetchError,
    FetchResult,
    fetch_all_anyio,
    fetch_all_asyncio,
    fetch_all_threads,
    fetch_stream_anyio,
    fetch_stream_asyncio,
    fetch_stream_threads,
)
from .cancellation import AnyioScope, AsyncioScope, Cancelled, DeadlineExceeded, ThreadScope
from .errgroup import AnyioErrGroup, AsyncioErrGroup, ThreadErrGroup
from .mutex import AnyioMutex, AsyncioMutex, ThreadMutex
from .once import AnyioOnce, AsyncioOnce, ThreadOnce
from .pipeline import (
    PipelineError,
    Stage,
    capacity,
    pipeline_anyio,
    pipeline_asyncio,
    pipeline_stream_anyio,
    pipeline_stream_asyncio,
    pipeline_stream_threads,
    pipeline_threads,
)
from .process_offload import (
    new_process_pool,
    offload_all_anyio,
    offload_all_asyncio,
    offload_all_sync,
    offload_anyio,
    offload_asyncio,
    offload_sync,
)
from .producer_consumer import (
    ProducerConsumerError,
    produce_consume_anyio,
    produce_consume_asyncio,
    produce_consume_asyncio_sentinel,
    produce_consume_from_threads,
    produce_consume_threads,
)
from .rate_limit import AnyioRateLimiter, AsyncioRateLimiter, ThreadRateLimiter
from .rwmutex import AnyioRWMutex, AsyncioRWMutex, ThreadRWMutex
from .singleflight import AnyioSingleFlight, AsyncioSingleFlight, ThreadSingleFlight
from .sync_map import AnyioSyncMap, AsyncioSyncMap, ThreadSyncMap
from .sync_pool import AnyioSyncPool, AsyncioSyncPool, PoolStatistics, ThreadSyncPool
from .waitgroup import AnyioWaitGroup, AsyncioWaitGroup, ThreadWaitGroup
from .worker_pool import (
    Completed,
    map_anyio,
    map_asyncio,
    map_processes,
    map_threads,
    stream_anyio,
    stream_asyncio,
    stream_processes,
    stream_threads,
)

__version__ = "0.1.0"

__all__ = [
    # bounded_fetch
    "MAX_REDIRECTS",
    "FetchError",
    "FetchResult",
    "fetch_all_anyio",
    "fetch_all_asyncio",
    "fetch_all_threads",
    "fetch_stream_anyio",
    "fetch_stream_asyncio",
    "fetch_stream_threads",
    # producer_consumer
    "ProducerConsumerError",
    "produce_consume_anyio",
    "produce_consume_asyncio",
    "produce_consume_asyncio_sentinel",
    "produce_consume_from_threads",
    "produce_consume_threads",
    # worker_pool
    "JobError",
    "map_anyio",
    "map_asyncio",
    "map_processes",
    "map_threads",
    "Completed",
    "stream_anyio",
    "stream_asyncio",
    "stream_processes",
    "stream_threads",
    # waitgroup
    "AnyioWaitGroup",
    "AsyncioWaitGroup",
    "ThreadWaitGroup",
    # mutex
    "AnyioMutex",
    "AsyncioMutex",
    "ThreadMutex",
    # rwmutex
    "AnyioRWMutex",
    "AsyncioRWMutex",
    "ThreadRWMutex",
    # once
    "AnyioOnce",
    "AsyncioOnce",
    "ThreadOnce",
    # process_offload
    "new_process_pool",
    "offload_all_anyio",
    "offload_all_asyncio",
    "offload_all_sync",
    "offload_anyio",
    "offload_asyncio",
    "offload_sync",
    # rate_limit
    "AnyioRateLimiter",
    "AsyncioRateLimiter",
    "ThreadRateLimiter",
    # errgroup
    "AnyioErrGroup",
    "AsyncioErrGroup",
    "ThreadErrGroup",
    # singleflight
    "AnyioSingleFlight",
    "AsyncioSingleFlight",
    "ThreadSingleFlight",
    # pipeline
    "PipelineError",
    "Stage",
    "capacity",
    "pipeline_anyio",
    "pipeline_asyncio",
    "pipeline_stream_anyio",
    "pipeline_stream_asyncio",
    "pipeline_stream_threads",
    "pipeline_threads",
    # cancellation
    "AnyioScope",
    "AsyncioScope",
    "Cancelled",
    "DeadlineExceeded",
    "ThreadScope",
    # sync_map
    "AnyioSyncMap",
    "AsyncioSyncMap",
    "ThreadSyncMap",
    # sync_pool
    "AnyioSyncPool",
    "AsyncioSyncPool",
    "PoolStatistics",
    "ThreadSyncPool",
]
