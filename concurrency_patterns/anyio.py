"""The patterns for anyio code, on asyncio or trio: ``from concurrency_patterns.anyio import map``.

Every name here runs on anyio's primitives (``anyio.Lock``, task groups, memory object streams,
cancel scopes), so the same code runs under ``anyio.run(main)`` and
``anyio.run(main, backend="trio")``. Cancellation is anyio's: level-triggered, a cancelled scope
cancels the task again at every checkpoint until the scope exits, and every call cancels the
tasks it started before the cancellation goes on.

The same names, with the same parameters, are in ``concurrency_patterns.asyncio`` and
``concurrency_patterns.threads``; CONTRIBUTING.md lists where a model differs.

Importing this module imports anyio and nothing else; trio loads only when code runs on it,
and each name loads its pattern's module when it is first read.
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
    from .bounded_fetch import fetch_all_anyio as fetch
    from .bounded_fetch import fetch_stream_anyio as fetch_stream
    from .cancellation import AnyioScope as Scope
    from .errgroup import AnyioErrGroup as ErrGroup
    from .mutex import AnyioMutex as Mutex
    from .once import AnyioOnce as Once
    from .pipeline import pipeline_anyio as pipeline
    from .pipeline import pipeline_stream_anyio as pipeline_stream
    from .process_offload import offload_all_anyio as offload_all
    from .process_offload import offload_anyio as offload
    from .producer_consumer import produce_consume_anyio as produce_consume
    from .producer_consumer import produce_consume_from_threads
    from .rate_limit import AnyioKeyedRateLimiter as KeyedRateLimiter
    from .rate_limit import AnyioRateLimiter as RateLimiter
    from .rwmutex import AnyioRWMutex as RWMutex
    from .singleflight import AnyioSingleFlight as SingleFlight
    from .sync_map import AnyioSyncMap as SyncMap
    from .sync_pool import AnyioSyncPool as SyncPool
    from .waitgroup import AnyioWaitGroup as WaitGroup
    from .worker_pool import map_anyio as map
    from .worker_pool import stream_anyio as map_stream

_EXPORTS = {
    **_SHARED,
    "ErrGroup": "errgroup:AnyioErrGroup",
    "Mutex": "mutex:AnyioMutex",
    "Once": "once:AnyioOnce",
    "RWMutex": "rwmutex:AnyioRWMutex",
    "KeyedRateLimiter": "rate_limit:AnyioKeyedRateLimiter",
    "RateLimiter": "rate_limit:AnyioRateLimiter",
    "Scope": "cancellation:AnyioScope",
    "SingleFlight": "singleflight:AnyioSingleFlight",
    "SyncMap": "sync_map:AnyioSyncMap",
    "SyncPool": "sync_pool:AnyioSyncPool",
    "WaitGroup": "waitgroup:AnyioWaitGroup",
    "fetch": "bounded_fetch:fetch_all_anyio",
    "fetch_stream": "bounded_fetch:fetch_stream_anyio",
    "map": "worker_pool:map_anyio",
    "map_stream": "worker_pool:stream_anyio",
    "offload": "process_offload:offload_anyio",
    "offload_all": "process_offload:offload_all_anyio",
    "pipeline": "pipeline:pipeline_anyio",
    "pipeline_stream": "pipeline:pipeline_stream_anyio",
    "produce_consume": "producer_consumer:produce_consume_anyio",
    "produce_consume_from_threads": "producer_consumer:produce_consume_from_threads",
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
    "produce_consume_from_threads",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
