"""The classic concurrency patterns in every Python model, each beside its Go equivalent.

Import the patterns from the namespace of the model your code runs on. Each namespace has the
same names, so moving code from one model to another is one changed import line:

```python
from concurrency_patterns.asyncio import ErrGroup, Mutex, fetch, map   # asyncio tasks
from concurrency_patterns.anyio import ErrGroup, Mutex, fetch, map     # anyio: asyncio or trio
from concurrency_patterns.threads import ErrGroup, Mutex, fetch, map   # blocking code, threads
from concurrency_patterns.processes import map, offload                # work in processes
```

==============================  ===========================================================
``Mutex``, ``RWMutex``          Go's ``sync.Mutex`` and ``sync.RWMutex``
``Once``                        Go's ``sync.Once``: one call, every caller gets its value
``WaitGroup``                   Go's ``sync.WaitGroup`` (and why a task group replaces it)
``ErrGroup``                    Go's ``errgroup``: a task group with a limit, first error wins
``SingleFlight``                Go's ``singleflight``: callers of one key share one call
``RateLimiter``                 at most ``rate`` operations per second, ``burst`` at once
``SyncMap``, ``SyncPool``       Go's ``sync.Map`` and a bounded ``sync.Pool``
``Scope``                       deadlines and causes down a tree of work: ``context.Context``
``fetch``, ``fetch_stream``     fetch N URLs, at most ``limit`` in flight
``map``, ``map_stream``         your function over a feed of jobs, at most ``limit`` at once
``pipeline``, ``pipeline_stream``  stages joined by bounded channels
``produce_consume``             producers and consumers around a bounded queue
``offload``, ``offload_all``    CPU-bound work in other processes
==============================  ===========================================================

The types every model shares (``FetchResult``, ``JobError``, ``Stage``, ``PipelineError``,
``DeadlineExceeded``, ...) are defined once, exported here and by every namespace.

Nothing is imported before it is used: ``import concurrency_patterns.threads`` loads no
third-party package and not even ``asyncio``; a pattern's module loads when one of its names is
first read, and its model's library (anyio, trio, the HTTP clients) when it first runs. The HTTP
clients come with the ``[http]`` extra and culsans with ``[bridge]``: a missing one raises
``MissingExtra``, an ``ImportError`` naming the extra to install.

The implementation is one module per pattern (``concurrency_patterns.mutex`` holds the mutex of
every model); the ``tools`` subpackage is the command line, the demos, the benchmarks' and the
docs' helpers, and is not part of the library.
"""

from __future__ import annotations

from ._exports import lazy_exports

# Not typing.TYPE_CHECKING: importing typing costs more than everything else here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._core.errors import JobError
    from ._core.lazy import MissingExtra
    from ._core.processes import new_process_pool
    from .bounded_fetch import (
        MAX_BODY,
        MAX_REDIRECTS,
        RETRY_STATUSES,
        AnswerRefused,
        BodyTooLarge,
        FetchError,
        FetchResult,
        Request,
        Response,
    )
    from .cancellation import Cancelled, DeadlineExceeded
    from .pipeline import PipelineError, Stage, capacity
    from .producer_consumer import ProducerConsumerError
    from .sync_pool import PoolStatistics
    from .worker_pool import Completed

__version__ = "0.2.0"

# The types and helpers every model shares, each defined once. Every namespace exports them too.
_SHARED = {
    "AnswerRefused": "bounded_fetch:AnswerRefused",
    "BodyTooLarge": "bounded_fetch:BodyTooLarge",
    "Cancelled": "cancellation:Cancelled",
    "Completed": "worker_pool:Completed",
    "DeadlineExceeded": "cancellation:DeadlineExceeded",
    "FetchError": "bounded_fetch:FetchError",
    "FetchResult": "bounded_fetch:FetchResult",
    "JobError": "_core.errors:JobError",
    "MAX_BODY": "bounded_fetch:MAX_BODY",
    "MAX_REDIRECTS": "bounded_fetch:MAX_REDIRECTS",
    "RETRY_STATUSES": "bounded_fetch:RETRY_STATUSES",
    "MissingExtra": "_core.lazy:MissingExtra",
    "PipelineError": "pipeline:PipelineError",
    "PoolStatistics": "sync_pool:PoolStatistics",
    "ProducerConsumerError": "producer_consumer:ProducerConsumerError",
    "Request": "bounded_fetch:Request",
    "Response": "bounded_fetch:Response",
    "Stage": "pipeline:Stage",
    "capacity": "pipeline:capacity",
    "new_process_pool": "_core.processes:new_process_pool",
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
    "new_process_pool",
]

__getattr__, __dir__ = lazy_exports(__name__, _SHARED)
