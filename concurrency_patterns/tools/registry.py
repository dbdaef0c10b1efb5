"""The one list of patterns: every tool, test and docs check that names the patterns reads it.

A pattern's slug names five parts, and ``parts()`` says where each one is: its Python module,
its Go folder, its contract suite, its benchmark suite and its docs page. The demo, compare,
the claims ledger, the site check, the CLI tests and the docs navigation test all derive their
lists from ``PATTERNS``, and ``tests/tools/test_registry.py`` fails when a slug lacks a part,
when a module's ``__all__`` differs from what is listed here, or when the docs' navigation does
not follow this order and these titles.

To add a pattern: add its entry here, then the five parts.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NAMESPACES", "PARTS", "PATTERNS", "SLUGS", "Pattern", "parts", "pattern"]


@dataclass(frozen=True)
class Pattern:
    """One pattern: its slug, how the docs title it, and what it exports."""

    slug: str
    title: str  # the docs' navigation and page title
    summary: str  # what it does, in one line
    go: str  # the Go construct it mirrors
    variants: tuple[str, ...]  # the implementations, one per model, each in a namespace
    also: tuple[str, ...] = ()  # the module's other public names: errors, results, helpers
    teaching: tuple[str, ...] = ()  # variants kept to teach from, in no namespace

    @property
    def exports(self) -> frozenset[str]:
        """Everything the module's ``__all__`` must hold."""
        return frozenset(self.variants + self.also + self.teaching)


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "bounded_fetch", "Bounded fetch", "fetch N URLs with at most `limit` in flight",
        "buffered channel as a semaphore",
        ("fetch_all_asyncio", "fetch_all_anyio", "fetch_all_threads",
         "fetch_stream_asyncio", "fetch_stream_anyio", "fetch_stream_threads"),
        ("FetchError", "FetchResult", "MAX_REDIRECTS", "MAX_BODY", "RETRY_STATUSES", "Request",
         "Response", "AnswerRefused", "BodyTooLarge"),
    ),
    Pattern(
        "producer_consumer", "Producer–consumer",
        "P producers feed C consumers through a bounded queue", "`close(ch)` + `range`",
        ("produce_consume_asyncio", "produce_consume_anyio", "produce_consume_threads",
         "produce_consume_from_threads"),
        ("ProducerConsumerError",),
        # End markers on a queue: what every Python before 3.13 had to write.
        ("produce_consume_asyncio_sentinel",),
    ),
    Pattern(
        "worker_pool", "Worker pool", "W workers over a feed of jobs, errgroup-style errors",
        "jobs/results channels, `errgroup`",
        ("map_asyncio", "map_anyio", "map_threads", "map_processes",
         "stream_asyncio", "stream_anyio", "stream_threads", "stream_processes"),
        ("Completed", "JobError"),
    ),
    Pattern(
        "waitgroup", "WaitGroup", "wait for a set of tasks", "`sync.WaitGroup`, `wg.Go`",
        ("AsyncioWaitGroup", "AnyioWaitGroup", "ThreadWaitGroup"),
    ),
    Pattern(
        "mutex", "Mutex", "one task at a time in a critical section", "`sync.Mutex`",
        ("AsyncioMutex", "AnyioMutex", "ThreadMutex"),
    ),
    Pattern(
        "rwmutex", "RWMutex", "many readers or one writer, neither starved", "`sync.RWMutex`",
        ("AsyncioRWMutex", "AnyioRWMutex", "ThreadRWMutex"),
    ),
    Pattern(
        "once", "Once", "one call of `f`, every caller gets its value",
        "`sync.Once`, `sync.OnceValue`",
        ("AsyncioOnce", "AnyioOnce", "ThreadOnce"),
    ),
    Pattern(
        "process_offload", "Process offload",
        "CPU-bound work in other processes, from async or sync code",
        "goroutines on every core",
        ("offload_asyncio", "offload_anyio", "offload_sync",
         "offload_all_asyncio", "offload_all_anyio", "offload_all_sync"),
        ("new_process_pool",),
    ),
    Pattern(
        "rate_limit", "Rate limit", "at most `rate` operations per second, `burst` at once",
        "`golang.org/x/time/rate`'s `rate.Limiter`",
        ("AsyncioRateLimiter", "AnyioRateLimiter", "ThreadRateLimiter"),
        ("AsyncioKeyedRateLimiter", "AnyioKeyedRateLimiter", "ThreadKeyedRateLimiter"),
    ),
    Pattern(
        "errgroup", "ErrGroup", "a task group with a limit, whose first error cancels the rest",
        "`golang.org/x/sync/errgroup`",
        ("AsyncioErrGroup", "AnyioErrGroup", "ThreadErrGroup"),
    ),
    Pattern(
        "singleflight", "Singleflight", "concurrent callers for the same key share one call",
        "`golang.org/x/sync/singleflight`",
        ("AsyncioSingleFlight", "AnyioSingleFlight", "ThreadSingleFlight"),
    ),
    Pattern(
        "pipeline", "Pipeline", "stages joined by bounded channels, each with its own workers",
        "stages of goroutines joined by channels, closed in turn, with a `context`",
        ("pipeline_asyncio", "pipeline_anyio", "pipeline_threads",
         "pipeline_stream_asyncio", "pipeline_stream_anyio", "pipeline_stream_threads"),
        ("PipelineError", "Stage", "capacity"),
    ),
    Pattern(
        "cancellation", "Cancellation", "deadlines and causes down a tree of concurrent work",
        "`context.WithTimeout`, `WithCancelCause`, `context.Cause`, `WithoutCancel`",
        ("AsyncioScope", "AnyioScope", "ThreadScope"),
        ("Cancelled", "DeadlineExceeded"),
    ),
    Pattern(
        "sync_map", "Sync map", "a map shared by concurrent code, every operation atomic",
        "`sync.Map` (and a map with a `Mutex`, which Go's docs usually prefer)",
        ("ThreadSyncMap", "AsyncioSyncMap", "AnyioSyncMap"),
    ),
    Pattern(
        "sync_pool", "Sync pool", "reuse objects that are costly to build, at most `max_size`",
        "`sync.Pool` of byte buffers",
        ("ThreadSyncPool", "AsyncioSyncPool", "AnyioSyncPool"),
        ("PoolStatistics",),
    ),
)

SLUGS: tuple[str, ...] = tuple(p.slug for p in PATTERNS)

# The public surface: one namespace per model, each re-exporting the patterns under bare names.
NAMESPACES: tuple[str, ...] = ("asyncio", "anyio", "threads", "processes")

# Where each of a pattern's five parts lives, relative to the repository root.
PARTS: dict[str, str] = {
    "module": "concurrency_patterns/{slug}.py",
    "go": "go_equivalents/{slug}/main.go",
    "tests": "tests/test_{slug}.py",
    "benchmark": "tests/benchmarks/bench_{slug}.py",
    "docs": "docs/patterns/{slug}.md",
}


def parts(slug: str) -> dict[str, str]:
    """The paths of *slug*'s five parts, relative to the repository root."""
    return {part: path.format(slug=slug) for part, path in PARTS.items()}


def pattern(name: str) -> Pattern:
    """The pattern called *name*, written with underscores or dashes (``worker-pool``).

    Raises:
        KeyError: no pattern has that slug; the message lists the slugs.
    """
    slug = name.replace("-", "_")
    for p in PATTERNS:
        if p.slug == slug:
            return p
    raise KeyError(f"no pattern {name!r}; the patterns are: {', '.join(SLUGS)}")
