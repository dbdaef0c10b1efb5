"""The patterns for asyncio code: ``from concurrency_patterns.asyncio import Mutex, map``.

Every name here runs on asyncio's own primitives (``asyncio.Lock``, ``asyncio.TaskGroup``,
``asyncio.Queue``, aiohttp for the fetch) in a running event loop, uvloop included. Cancelling a
call, by ``task.cancel()``, ``asyncio.timeout`` or an enclosing task group, cancels every task it
started before the cancellation goes on.

The same names, with the same parameters, are in ``concurrency_patterns.anyio`` (asyncio or
trio) and ``concurrency_patterns.threads`` (blocking code); CONTRIBUTING.md lists where a model
differs. ``produce_consume_from_threads`` is for blocking producers feeding async consumers,
so ``threads`` has no counterpart.

Importing this module imports nothing but itself; each name loads its pattern's module when it
is first read; asyncio itself loads when that code first runs.
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
    from .bounded_fetch import fetch_all_asyncio as fetch
    from .bounded_fetch import fetch_stream_asyncio as fetch_stream
    from .cancellation import AsyncioScope as Scope
    from .errgroup import AsyncioErrGroup as ErrGroup
    from .mutex import AsyncioMutex as Mutex
    from .once import AsyncioOnce as Once
    from .pipeline import pipeline_asyncio as pipeline
    from .pipeline import pipeline_stream_asyncio as pipeline_stream
    from .process_offload import offload_all_asyncio as offload_all
    from .process_offload import offload_asyncio as offload
    from .producer_consumer import produce_consume_asyncio as produce_consume
    from .producer_consumer import produce_consume_from_threads
    from .rate_limit import AsyncioKeyedRateLimiter as KeyedRateLimiter
    from .rate_limit import AsyncioRateLimiter as RateLimiter
    from .rwmutex import AsyncioRWMutex as RWMutex
    from .singleflight import AsyncioSingleFlight as SingleFlight
    from .sync_map import AsyncioSyncMap as SyncMap
    from .sync_pool import AsyncioSyncPool as SyncPool
    from .waitgroup import AsyncioWaitGroup as WaitGroup
    from .worker_pool import map_asyncio as map
    from .worker_pool import stream_asyncio as map_stream

_EXPORTS = {
    **_SHARED,
    "ErrGroup": "errgroup:AsyncioErrGroup",
    "Mutex": "mutex:AsyncioMutex",
    "Once": "once:AsyncioOnce",
    "RWMutex": "rwmutex:AsyncioRWMutex",
    "KeyedRateLimiter": "rate_limit:AsyncioKeyedRateLimiter",
    "RateLimiter": "rate_limit:AsyncioRateLimiter",
    "Scope": "cancellation:AsyncioScope",
    "SingleFlight": "singleflight:AsyncioSingleFlight",
    "SyncMap": "sync_map:AsyncioSyncMap",
    "SyncPool": "sync_pool:AsyncioSyncPool",
    "WaitGroup": "waitgroup:AsyncioWaitGroup",
    "fetch": "bounded_fetch:fetch_all_asyncio",
    "fetch_stream": "bounded_fetch:fetch_stream_asyncio",
    "map": "worker_pool:map_asyncio",
    "map_stream": "worker_pool:stream_asyncio",
    "offload": "process_offload:offload_asyncio",
    "offload_all": "process_offload:offload_all_asyncio",
    "pipeline": "pipeline:pipeline_asyncio",
    "pipeline_stream": "pipeline:pipeline_stream_asyncio",
    "produce_consume": "producer_consumer:produce_consume_asyncio",
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
