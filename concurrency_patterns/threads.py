"""The patterns for blocking code and threads: ``from concurrency_patterns.threads import Mutex``.

Every name here blocks the calling thread and runs concurrent work in threads of its own
(``threading.Lock``, ``queue.Queue``, one thread per worker), so it fits code with no event loop:
a script, a WSGI handler, a CLI. A thread cannot be cancelled from outside: on an error, a
deadline or ``KeyboardInterrupt`` the patterns start no new work, tell running work through a
flag or a ``Scope`` it can check, and join every thread before they return. Where async code
uses a cancel scope, a blocking call takes ``timeout=``.

The same names, with the same parameters, are in ``concurrency_patterns.asyncio`` and
``concurrency_patterns.anyio``; CONTRIBUTING.md lists where a model differs. ``offload`` and
``offload_all`` are the same functions as in ``concurrency_patterns.processes``.

Importing this module imports nothing but itself: not asyncio, not anyio. Each name loads its
pattern's module when it is first read.
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
    from .bounded_fetch import fetch_all_threads as fetch
    from .bounded_fetch import fetch_stream_threads as fetch_stream
    from .cancellation import ThreadScope as Scope
    from .errgroup import ThreadErrGroup as ErrGroup
    from .mutex import ThreadMutex as Mutex
    from .once import ThreadOnce as Once
    from .pipeline import pipeline_stream_threads as pipeline_stream
    from .pipeline import pipeline_threads as pipeline
    from .process_offload import offload_all_sync as offload_all
    from .process_offload import offload_sync as offload
    from .producer_consumer import produce_consume_threads as produce_consume
    from .rate_limit import ThreadKeyedRateLimiter as KeyedRateLimiter
    from .rate_limit import ThreadRateLimiter as RateLimiter
    from .rwmutex import ThreadRWMutex as RWMutex
    from .singleflight import ThreadSingleFlight as SingleFlight
    from .sync_map import ThreadSyncMap as SyncMap
    from .sync_pool import ThreadSyncPool as SyncPool
    from .waitgroup import ThreadWaitGroup as WaitGroup
    from .worker_pool import map_threads as map
    from .worker_pool import stream_threads as map_stream

_EXPORTS = {
    **_SHARED,
    "ErrGroup": "errgroup:ThreadErrGroup",
    "Mutex": "mutex:ThreadMutex",
    "Once": "once:ThreadOnce",
    "RWMutex": "rwmutex:ThreadRWMutex",
    "KeyedRateLimiter": "rate_limit:ThreadKeyedRateLimiter",
    "RateLimiter": "rate_limit:ThreadRateLimiter",
    "Scope": "cancellation:ThreadScope",
    "SingleFlight": "singleflight:ThreadSingleFlight",
    "SyncMap": "sync_map:ThreadSyncMap",
    "SyncPool": "sync_pool:ThreadSyncPool",
    "WaitGroup": "waitgroup:ThreadWaitGroup",
    "fetch": "bounded_fetch:fetch_all_threads",
    "fetch_stream": "bounded_fetch:fetch_stream_threads",
    "map": "worker_pool:map_threads",
    "map_stream": "worker_pool:stream_threads",
    "offload": "process_offload:offload_sync",
    "offload_all": "process_offload:offload_all_sync",
    "pipeline": "pipeline:pipeline_threads",
    "pipeline_stream": "pipeline:pipeline_stream_threads",
    "produce_consume": "producer_consumer:produce_consume_threads",
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
    "ErrGroup",
    "FetchError",
    "FetchResult",
    "JobError",
    "MissingExtra",
    "Mutex",
    "Once",
    "PipelineError",
    "PoolStatistics",
    "ProducerConsumerError",
    "Request",
    "Response",
    "RWMutex",
    "KeyedRateLimiter",
    "RateLimiter",
    "Scope",
    "SingleFlight",
    "Stage",
    "SyncMap",
    "SyncPool",
    "WaitGroup",
    "capacity",
    "fetch",
    "fetch_stream",
    "map",
    "map_stream",
    "new_process_pool",
    "offload",
    "offload_all",
    "pipeline",
    "pipeline_stream",
    "produce_consume",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
