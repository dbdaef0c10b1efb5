"""Bounded concurrent fetch: get N URLs with at most ``limit`` requests in flight.

The classic Python version is ``aiohttp`` plus an ``asyncio.Semaphore`` around each request,
one task per URL. Go writes it with ``limit`` worker goroutines reading a channel of URLs and
one shared ``http.Client``. This module does it the Go way: ``limit`` workers pull URLs from
the feed one at a time, so a million URLs — a list, a lazy generator, an async iterable —
never become more than ``limit`` tasks, and memory stays flat.

Every variant comes in two forms:

* ``fetch`` returns one ``FetchResult`` per URL, **in input order**;
* ``fetch_stream`` is a context manager that yields the results **as they finish**, each
  carrying its input ``index``, with at most ``limit`` results waiting for you. Leaving the
  block early stops the requests first::

      async with fetch_stream_anyio(urls_from_a_file(), limit=100) as results:
          async for r in results:
              print(r.index, r.status)

The contract, for every variant and both forms:

* **At most** ``limit`` requests are in flight at any moment (retries included).
* **Redirects** are followed by every variant, up to ``MAX_REDIRECTS`` (10) for one URL;
  ``FetchResult.final_url`` is where the answer came from. An 11th redirect makes the URL an
  error result. (Go's ``http.Client`` gives up at its 10th.)
* ``timeout`` bounds each attempt at a URL. A refused connection, a timeout or a 5xx answer
  becomes an error result; one bad URL never loses the others. A 4xx answer is a result, not
  an error: the server answered, and asking again will not change it.
* ``retries=N`` (off by default) tries a URL again after a connection error, a timeout or a
  502, 503 or 504, up to N more times, waiting an exponential backoff with full jitter — or
  what the server's ``Retry-After`` asks. A retry keeps its worker, so it counts against
  ``limit`` and against ``max_per_second``. ``FetchResult.attempts`` says how many it took.
* ``max_per_second`` (off by default) paces the attempts: at most that many start a second.
* With ``fail_fast=True`` the first failure stops the call and is raised as ``FetchError``.
* Cancelling the call cancels every request it started; nothing outlives it.
* An async generator of URLs is closed (``aclose()``) before the call returns when the call
  stops reading it early; pass ``(u async for u in gen)`` to keep ``gen`` open.
* Bad input — ``limit=0``, a single URL string, a URL that is not a string — is refused with
  an error naming the parameter. A list is checked before anything starts; a lazy feed is
  checked as it is read, and a bad item stops the call there.

Which to pick:

* ``anyio.fetch`` (anyio workers) is the one to import: on asyncio it uses aiohttp, on trio
  each worker owns its connections through the lean client (below).
* ``asyncio.fetch`` (asyncio workers + aiohttp) is asyncio's; with ``client="httptools"``
  it is the fastest client here, uvloop or not.
* ``threads.fetch`` (``limit`` threads, each with its own connections) fits code that is
  not async. A thread costs more than a task: keep ``limit`` in the hundreds.

The clients: ``"aiohttp"``, a full client with one pool for the workers; ``"httptools"``, the
lean one (``_core/http1.py``): llhttp parses every answer, each worker owns one kept-alive
connection per host, and it speaks GET over HTTP/1.1 and TLS only, without proxies, cookies or
compression; ``"httpcore"``, a full client parsed by h11 in pure Python. Every client keeps
the whole contract above; the benchmark tables show what each costs per request.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
    nullcontext,
)
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin

from ._core import check_positive_int, check_positive_number, rate
from ._core import workers as engine
from ._core.lazy import lazy

if TYPE_CHECKING:
    import asyncio
    import email.utils

    import aiohttp
    import anyio
    import httpcore

    from ._core import http1, network
else:
    aiohttp = lazy(globals(), "aiohttp", extra="http")
    anyio = lazy(globals(), "anyio")
    asyncio = lazy(globals(), "asyncio")
    httpcore = lazy(globals(), "httpcore", extra="http")
    http1 = lazy(globals(), "concurrency_patterns._core.http1", extra="http", bind="http1")
    email = lazy(globals(), "email.utils")  # 25 ms to import, for a Retry-After date
    network = lazy(globals(), "concurrency_patterns._core.network", extra="http", bind="network")

__all__ = [
    "MAX_REDIRECTS",
    "FetchError",
    "FetchResult",
    "fetch_all_anyio",
    "fetch_all_asyncio",
    "fetch_all_threads",
    "fetch_stream_anyio",
    "fetch_stream_asyncio",
    "fetch_stream_threads",
]

MAX_REDIRECTS = 10  # redirects followed per URL, by every variant; one more is an error
RETRY_STATUSES = frozenset({502, 503, 504})  # answers worth asking again
BACKOFF_BASE = 0.1  # seconds: the first retry waits up to this, each next up to twice as long
BACKOFF_CAP = 10.0  # seconds: the longest wait between attempts, Retry-After included


class FetchError(Exception):
    """One URL could not be fetched: no answer, a timeout, or a 5xx status.

    Attributes:
        url: the URL that failed.
        index: its position in the input.
        status: the HTTP status for a 5xx answer, ``None`` when no answer arrived.
        timed_out: ``True`` when the request ran past ``timeout``.

    The client library's own exception, if any, is ``__cause__``.
    """

    def __init__(
        self, url: str, index: int, reason: str, *, status: int | None = None,
        timed_out: bool = False,
    ) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.index = index
        self.status = status
        self.timed_out = timed_out


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one URL gave: its status and body, or the error, and how long it took.

    Attributes:
        url: the URL as given.
        status: the HTTP status of the answer, ``None`` when no answer arrived.
        body: the body (kept for a 5xx answer too).
        elapsed: seconds from the moment a worker took the URL to the end of the last
            attempt's body, retries and their waits included.
        error: a ``FetchError`` for no answer, a timeout or a 5xx; ``None`` otherwise.
        final_url: the URL that answered, after any redirects (``None`` when none did).
        index: the URL's position in the input.
        attempts: how many times the URL was tried (1 without retries).
    """

    url: str
    status: int | None
    body: bytes
    elapsed: float
    error: FetchError | None = field(default=None, compare=False)
    final_url: str | None = None
    index: int = 0
    attempts: int = 1

    @property
    def ok(self) -> bool:
        """``True`` when the server answered with a status below 500."""
        return self.error is None

    @property
    def size(self) -> int:
        """The body's length in bytes."""
        return len(self.body)


Answer = tuple[int, bytes, str, str | None]  # status, body, final URL, Retry-After
AsyncGet = Callable[[str], Awaitable[Answer]]  # one attempt at a URL, redirects followed
SyncGet = Callable[[str], Answer]


# --- the asyncio variant: asyncio workers, one aiohttp session ---------------------------------
# --8<-- [start:asyncio]
async def fetch_all_asyncio(
    urls: Iterable[str] | AsyncIterable[str], *, limit: int = 10, timeout: float = 10.0,
    fail_fast: bool = False, retries: int = 0, max_per_second: float | None = None,
    client: Literal["aiohttp", "httptools"] = "aiohttp",
) -> list[FetchResult]:
    """Fetch every URL with asyncio, at most *limit* at a time.

    *limit* worker tasks pull URLs from the feed. With aiohttp they share one session, whose
    pool keeps *limit* connections; with the lean client each owns its connections. A failing
    URL becomes an error result and never stops the others, unless *fail_fast*. Cancelling
    the call (``asyncio.timeout`` around it, a cancelled task) cancels every request before
    the cancellation goes on.

    Args:
        urls: the URLs: a list, any iterable, or an async iterable of strings, read lazily.
        limit: the most requests in flight at once (>= 1).
        timeout: seconds allowed for each attempt, connection to last byte (> 0).
        fail_fast: raise the first failure instead of returning it as a result.
        retries: how many more times to try a URL after a connection error, a timeout or a
            502/503/504 (>= 0; 0 by default).
        max_per_second: start at most this many attempts a second (> 0), in the order the
            URLs were read (``RateLimiter``'s arithmetic, burst 1); retries count too.
            ``None``: no limit.
        client: the HTTP client. ``"aiohttp"``, the default, is a full client: one session,
            a pool of *limit* connections. ``"httptools"`` is the lean one: each worker owns
            its connections and every answer is parsed by llhttp, for a fraction of
            aiohttp's CPU per request (the benchmark tables measure it); it speaks GET over
            HTTP/1.1 and TLS only, with no proxies, cookies or compression (see the docs
            page).

    Returns:
        One ``FetchResult`` per URL, in input order.

    Raises:
        FetchError: with ``fail_fast=True``, the first URL that failed.
        TypeError, ValueError: for bad arguments, before any request is sent (for a lazy
            feed, a bad URL when it is read).
        MissingExtra: the HTTP clients are not installed (the ``[http]`` extra).
    """
    _check_client(client, ("aiohttp", "httptools"))
    feed, pace = _feed(urls, limit, timeout, retries, max_per_second)
    results = _Results()
    async with _asyncio_workers(client, limit, timeout, retries, fail_fast, pace) as make_work:
        await engine.gather_asyncio(feed, limit, make_work, _raise, results.add)
    return results.in_input_order()


@asynccontextmanager
async def fetch_stream_asyncio(
    urls: Iterable[str] | AsyncIterable[str], *, limit: int = 10, timeout: float = 10.0,
    fail_fast: bool = False, retries: int = 0, max_per_second: float | None = None,
    client: Literal["aiohttp", "httptools"] = "aiohttp",
) -> AsyncIterator[AsyncIterator[FetchResult]]:
    """``async with fetch_stream(urls) as results:`` yields each URL's result as it finishes.

    *limit* worker tasks pull URLs from the feed, as ``fetch`` does, but the results come out
    as they finish instead of in one list at the end: at most *limit* requests run and at most
    *limit* results wait to be read, so memory stays flat however long the feed, and a reader
    that falls behind holds the workers back. A failing URL is an error result, unless
    *fail_fast*. Leaving the block early (``break``, an exception, a cancellation) cancels the
    requests still running before the block is left.

    Args:
        urls: the URLs: a list, any iterable, or an async iterable of strings, read lazily.
            limit: the most requests in flight at once (>= 1).
        timeout: seconds allowed for each attempt, connection to last byte (> 0).
        fail_fast: raise the first failure instead of returning it as a result.
        retries: how many more times to try a URL after a connection error, a timeout or a
            502/503/504 (>= 0; 0 by default).
        max_per_second: start at most this many attempts a second (> 0), in the order the
            URLs were read (``RateLimiter``'s arithmetic, burst 1); retries count too.
            ``None``: no limit.
        client: the HTTP client. ``"aiohttp"``, the default, is a full client: one session,
            a pool of *limit* connections. ``"httptools"`` is the lean one: each worker owns
            its connections and every answer is parsed by llhttp, for a fraction of aiohttp's
            CPU per request (the benchmark tables measure it); it speaks GET over HTTP/1.1 and
            TLS only, with no proxies, cookies or compression (see the docs page).

    Yields:
        An async iterator of ``FetchResult``, in the order the URLs finished; each carries its
        ``index`` in the input.

    Raises:
        FetchError: with ``fail_fast=True``, the first URL that failed; the others were
            cancelled.
        TypeError, ValueError: for bad arguments, before any request is sent.
        MissingExtra: the HTTP clients are not installed (the ``[http]`` extra).
    """
    _check_client(client, ("aiohttp", "httptools"))
    feed, pace = _feed(urls, limit, timeout, retries, max_per_second)
    async with _asyncio_workers(client, limit, timeout, retries, fail_fast, pace) as make_work, \
            engine.stream_asyncio(feed, limit, make_work, _raise, _as_is,
                                  engine.buffered(limit)) as results:
        yield results


def _aiohttp_session(limit: int, timeout: float) -> aiohttp.ClientSession:
    """One session for the whole call: a pool of *limit* connections, so that no worker waits
    for one, and a total timeout that bounds each attempt, body and redirects included."""
    connector = aiohttp.TCPConnector(limit=limit)
    return aiohttp.ClientSession(connector=connector,
                                 timeout=aiohttp.ClientTimeout(total=timeout))


@asynccontextmanager
async def _asyncio_workers(
    client: str, limit: int, timeout: float, retries: int, fail_fast: bool,
    pace: rate.Gcra | None,
) -> AsyncIterator[Callable[[], AbstractAsyncContextManager[WorkerFetch]]]:
    """How each worker gets its fetch: a share of one aiohttp session, or its own connections."""
    fetch = partial(_fetch_async, retries=retries, fail_fast=fail_fast, sleep=asyncio.sleep,
                    pace=None if pace is None else partial(rate.acquire_asyncio, pace))
    if client == "aiohttp":
        async with _aiohttp_session(limit, timeout) as session:
            shared = partial(fetch, get=partial(_get_aiohttp, session))
            yield lambda: nullcontext(shared)
        return

    @asynccontextmanager
    async def own_connections() -> AsyncIterator[WorkerFetch]:
        async with http1.AsyncConnections.open(timeout, MAX_REDIRECTS, protocol=True) as mine:
            yield partial(fetch, get=partial(_get_http1, mine))

    yield own_connections


async def _get_aiohttp(session: aiohttp.ClientSession, url: str) -> Answer:
    # aiohttp stops at its max_redirects-th redirect; the others follow that many.
    async with session.get(url, max_redirects=MAX_REDIRECTS + 1) as response:
        body = await response.read()
        return response.status, body, str(response.url), response.headers.get("Retry-After")


async def _get_http1(connections: http1.AsyncConnections, url: str) -> Answer:
    return _answer(*await connections.get(url))


def _answer(response: http1.Response, final_url: str) -> Answer:
    return response.status, response.body, final_url, response.header(b"retry-after")
# --8<-- [end:asyncio]


# --- the anyio variant: aiohttp on asyncio, a connection per worker on trio -------------------
# --8<-- [start:anyio]
async def fetch_all_anyio(
    urls: Iterable[str] | AsyncIterable[str], *, limit: int = 10, timeout: float = 10.0,
    fail_fast: bool = False, retries: int = 0, max_per_second: float | None = None,
    client: Literal["auto", "aiohttp", "httpcore", "httptools"] = "auto",
) -> list[FetchResult]:
    """Fetch every URL with anyio, at most *limit* at a time, on asyncio or trio.

    *limit* worker tasks pull URLs from the feed, so a long or endless feed never becomes more
    than *limit* tasks. A failing URL becomes an error result and never stops the others,
    unless *fail_fast*. Cancelling the call (``anyio.fail_after`` or ``move_on_after`` around it,
    a cancelled task group) cancels every request before the cancellation goes on.

    Args:
        urls: the URLs: a list, any iterable, or an async iterable of strings, read lazily.
            limit: the most requests in flight at once (>= 1).
        timeout: seconds allowed for each attempt, connection to last byte (> 0).
        fail_fast: raise the first failure instead of returning it as a result.
        retries: how many more times to try a URL after a connection error, a timeout or a
            502/503/504 (>= 0; 0 by default).
        max_per_second: start at most this many attempts a second (> 0), in the order the
            URLs were read (``RateLimiter``'s arithmetic, burst 1); retries count too.
            ``None``: no limit.
        client: the HTTP client. ``"auto"`` takes aiohttp on asyncio and ``"httptools"`` on
            trio. With ``"httptools"`` or ``"httpcore"`` each worker owns its connections (one
            per host it meets), so no request waits on a shared pool. ``"httptools"`` is the
            lean client, answers parsed by llhttp (GET over HTTP/1.1 and TLS only, no proxies,
            cookies or compression); ``"httpcore"`` is the full one, parsed by h11 in pure
            Python at several times the CPU per request (the benchmark tables measure both).
            Both run on either backend; ``"aiohttp"`` runs on asyncio only.

    Returns:
        One ``FetchResult`` per URL, in input order.

    Raises:
        FetchError: with ``fail_fast=True``, the first URL that failed.
        TypeError, ValueError: for bad arguments, before any request is sent; also
            ``client="aiohttp"`` on trio.
        MissingExtra: the HTTP clients are not installed (the ``[http]`` extra).
    """
    chosen = _anyio_client(client)
    feed, pace = _feed(urls, limit, timeout, retries, max_per_second)
    results = _Results()
    async with _anyio_workers(chosen, limit, timeout, retries, fail_fast, pace) as make_work:
        await engine.gather_anyio(feed, limit, make_work, _raise, results.add)
    return results.in_input_order()


@asynccontextmanager
async def fetch_stream_anyio(
    urls: Iterable[str] | AsyncIterable[str], *, limit: int = 10, timeout: float = 10.0,
    fail_fast: bool = False, retries: int = 0, max_per_second: float | None = None,
    client: Literal["auto", "aiohttp", "httpcore", "httptools"] = "auto",
) -> AsyncIterator[AsyncIterator[FetchResult]]:
    """``async with fetch_stream(urls) as results:`` yields each result as it finishes, on anyio.

    *limit* worker tasks pull URLs from the feed, as ``fetch`` does, but the results come out
    as they finish: at most *limit* requests run and at most *limit* results wait to be read,
    so memory stays flat however long the feed. A failing URL is an error result, unless
    *fail_fast*. Leaving the block early (``break``, an exception, a cancellation) cancels the
    requests still running before the block is left. Runs on asyncio and trio.

    Args:
        urls: the URLs: a list, any iterable, or an async iterable of strings, read lazily.
            limit: the most requests in flight at once (>= 1).
        timeout: seconds allowed for each attempt, connection to last byte (> 0).
        fail_fast: raise the first failure instead of returning it as a result.
        retries: how many more times to try a URL after a connection error, a timeout or a
            502/503/504 (>= 0; 0 by default).
        max_per_second: start at most this many attempts a second (> 0), in the order the
            URLs were read (``RateLimiter``'s arithmetic, burst 1); retries count too.
            ``None``: no limit.
        client: the HTTP client. ``"auto"`` takes aiohttp on asyncio and ``"httptools"`` on
            trio. With ``"httptools"`` or ``"httpcore"`` each worker owns its connections (one
            per host it meets), so no request waits on a shared pool. ``"httptools"`` is the
            lean client, answers parsed by llhttp (GET over HTTP/1.1 and TLS only, no proxies,
            cookies or compression); ``"httpcore"`` is the full one, parsed by h11 in pure
            Python at several times the CPU per request (the benchmark tables measure both).
            Both run on either backend; ``"aiohttp"`` runs on asyncio only.

    Yields:
        An async iterator of ``FetchResult``, in the order the URLs finished; each carries its
        ``index`` in the input.

    Raises:
        FetchError: with ``fail_fast=True``, the first URL that failed; the others were
            cancelled.
        TypeError, ValueError: for bad arguments, before any request is sent; also
            ``client="aiohttp"`` on trio.
        MissingExtra: the HTTP clients are not installed (the ``[http]`` extra).
    """
    chosen = _anyio_client(client)
    feed, pace = _feed(urls, limit, timeout, retries, max_per_second)
    async with _anyio_workers(chosen, limit, timeout, retries, fail_fast, pace) as make_work, \
            engine.stream_anyio(feed, limit, make_work, _raise, _as_is,
                                engine.buffered(limit)) as results:
        yield results


def _check_client(client: str, known: tuple[str, ...]) -> None:
    if client not in known:
        names = ", ".join(repr(name) for name in known)
        raise ValueError(f"client must be one of {names}, got {client!r}")


def _anyio_client(client: str) -> str:
    """The client the anyio variant uses: *client*, with ``"auto"`` resolved."""
    _check_client(client, ("auto", "aiohttp", "httpcore", "httptools"))
    on_asyncio = _running_on_asyncio()
    if client == "aiohttp" and not on_asyncio:
        raise ValueError("client='aiohttp' needs asyncio; on trio use 'httptools', "
                         "'httpcore' or 'auto'")
    if client == "auto":
        return "aiohttp" if on_asyncio else "httptools"
    return client


WorkerFetch = Callable[[int, str], Awaitable[FetchResult]]


@asynccontextmanager
async def _anyio_workers(
    client: str, limit: int, timeout: float, retries: int, fail_fast: bool,
    pace: rate.Gcra | None,
) -> AsyncIterator[Callable[[], AbstractAsyncContextManager[WorkerFetch]]]:
    """How each worker gets its fetch: a share of one aiohttp session, or its own connections."""
    paced = None if pace is None else partial(rate.acquire_anyio, pace)
    if client == "aiohttp":
        async with _aiohttp_session(limit, timeout) as session:
            fetch = partial(_fetch_async, get=partial(_get_aiohttp, session), retries=retries,
                            fail_fast=fail_fast, sleep=anyio.sleep, pace=paced)
            yield lambda: nullcontext(fetch)
        return
    if client == "httptools":
        # On asyncio a protocol hands bytes to the parser with no task switch per read.
        protocol = _running_on_asyncio()

        @asynccontextmanager
        async def lean_connections() -> AsyncIterator[WorkerFetch]:
            async with http1.AsyncConnections.open(timeout, MAX_REDIRECTS,
                                                   protocol=protocol) as mine:
                yield partial(_fetch_async, get=partial(_get_http1, mine), retries=retries,
                              fail_fast=fail_fast, sleep=anyio.sleep, pace=paced)

        yield lean_connections
        return

    @asynccontextmanager
    async def own_connections() -> AsyncIterator[WorkerFetch]:
        async with _Connections.open() as get:
            # One deadline bounds the whole attempt: connect, request, body and redirects.
            yield partial(_fetch_async, get=get, retries=retries, fail_fast=fail_fast,
                          deadline=partial(anyio.fail_after, timeout), sleep=anyio.sleep,
                          pace=paced)

    yield own_connections


class _Connections:
    """One worker's HTTP connections, one per host (origin) it meets, kept alive.

    A worker sends one request at a time, so it needs no pool: this is the pool's job without
    the pool's bookkeeping, which on a shared pool of *limit* connections costs more than the
    request itself. It keeps at most ``HOSTS`` hosts, closing the one least recently used.
    """

    HOSTS = 8

    def __init__(self) -> None:
        # No timeout per connect, read or write: the attempt's deadline bounds them all, and
        # each of httpcore's own per-operation deadlines is a cancel scope, which costs more
        # than the read it guards (see _core/network.py).
        self._open: OrderedDict[_Host, httpcore.AsyncHTTPConnection] = OrderedDict()

    @classmethod
    @asynccontextmanager
    async def open(cls) -> AsyncIterator[AsyncGet]:
        connections = cls()
        try:
            yield connections.get
        finally:
            with anyio.CancelScope(shield=True):  # close every socket, even when cancelled
                for connection in connections._open.values():
                    await connection.aclose()

    async def get(self, url: str) -> Answer:
        for _ in range(MAX_REDIRECTS + 1):
            target = httpcore.URL(url)
            response = await self._request(target)
            location = _location(response.status, response.headers)
            if location is None:
                return response.status, response.content, url, _retry_after(response.headers)
            url = urljoin(url, location)
        raise httpcore.RemoteProtocolError(f"more than {MAX_REDIRECTS} redirects")

    async def _request(self, url: httpcore.URL) -> httpcore.Response:
        connection, reused = await self._connection(url.origin)
        try:
            return await connection.request("GET", url)
        except (httpcore.RemoteProtocolError, httpcore.ReadError, httpcore.WriteError):
            await self._drop(_host(url.origin))
            if not reused:
                raise
        except BaseException:
            await self._drop(_host(url.origin))  # a cancelled or failed request leaves it unusable
            raise
        # The server closed a kept-alive connection as we reused it: once more, afresh.
        connection, _ = await self._connection(url.origin)
        return await connection.request("GET", url)

    async def _connection(
        self, origin: httpcore.Origin,
    ) -> tuple[httpcore.AsyncHTTPConnection, bool]:
        """This worker's connection to *origin*, and whether it has served before."""
        host = _host(origin)
        connection = self._open.get(host)
        if connection is not None and (connection.has_expired() or connection.is_closed()):
            await self._drop(host)
            connection = None
        if connection is not None:
            self._open.move_to_end(host)
            return connection, True
        if len(self._open) >= self.HOSTS:
            await self._drop(next(iter(self._open)))  # the least recently used host
        connection = self._open[host] = httpcore.AsyncHTTPConnection(
            origin, network_backend=network.UNSCOPED)
        return connection, False

    async def _drop(self, host: _Host) -> None:
        connection = self._open.pop(host, None)
        if connection is not None:
            with anyio.CancelScope(shield=True):
                await connection.aclose()


def _running_on_asyncio() -> bool:
    try:
        return asyncio.current_task() is not None
    except RuntimeError:  # no asyncio loop running in this thread: trio
        return False
# --8<-- [end:anyio]


# --- the thread variant: limit threads, each with its own connections -------------------------
# --8<-- [start:threads]
def fetch_all_threads(
    urls: Iterable[str], *, limit: int = 10, timeout: float = 10.0, fail_fast: bool = False,
    retries: int = 0, max_per_second: float | None = None,
    client: Literal["httptools", "httpcore"] = "httptools",
) -> list[FetchResult]:
    """Fetch every URL from *limit* threads, each owning its own connections.

    *limit* threads pull URLs from the feed, so a long feed never becomes more than *limit*
    threads. A failing URL becomes an error result and never stops the others, unless
    *fail_fast*. Threads cannot be cancelled from outside: on ``KeyboardInterrupt`` or a
    *fail_fast* error no new URL starts, running requests finish, and every thread has ended
    before the call returns or raises.

    Args:
        urls: the URLs: a list or any iterable of strings, read lazily.
        limit: the most requests in flight at once, one thread each (>= 1).
        timeout: seconds allowed for each phase of an attempt: the connection, then each read
            (> 0). A blocking read cannot be interrupted, so this bounds each phase rather than
            the whole request.
        fail_fast: raise the first failure instead of returning it as a result; requests already
            running finish first, and URLs not yet started are dropped.
        retries: how many more times to try a URL after a connection error, a timeout or a
            502/503/504 (>= 0; 0 by default).
        max_per_second: start at most this many attempts a second (> 0), in the order the
            URLs were read (``RateLimiter``'s arithmetic, burst 1); retries count too.
            ``None``: no limit.
        client: ``"httptools"``, the default, is the lean client (answers parsed by llhttp;
            GET over HTTP/1.1 and TLS only); ``"httpcore"`` the full one, parsed by h11 in
            pure Python at several times the CPU per request.

    Returns:
        One ``FetchResult`` per URL, in input order.

    Raises:
        FetchError: with ``fail_fast=True``, the first URL that failed.
        TypeError, ValueError: for bad arguments, before any request is sent.
        MissingExtra: the HTTP clients are not installed (the ``[http]`` extra).
    """
    work = _thread_work(urls, client, timeout, retries, fail_fast)
    feed, pace = _feed(urls, limit, timeout, retries, max_per_second)
    results = _Results()
    engine.gather_threads(feed, limit, partial(work, pace), _raise, results.add, name="fetch")
    return results.in_input_order()


@contextmanager
def fetch_stream_threads(
    urls: Iterable[str], *, limit: int = 10, timeout: float = 10.0, fail_fast: bool = False,
    retries: int = 0, max_per_second: float | None = None,
    client: Literal["httptools", "httpcore"] = "httptools",
) -> Iterator[Iterator[FetchResult]]:
    """``with fetch_stream(urls) as results:`` yields each URL's result as it finishes.

    *limit* threads pull URLs from the feed, as ``fetch`` does, but the results come out as
    they finish: at most *limit* requests run and at most *limit* results wait to be read, so
    memory stays flat however long the feed. Leaving the block early stops the workers: no new
    URL starts, running requests finish, and every thread has ended before the block is left.

    Args:
        urls: the URLs: a list or any iterable of strings, read lazily.
        limit: the most requests in flight at once, one thread each (>= 1).
        timeout: seconds allowed for each phase of an attempt: the connection, then each read
            (> 0). A blocking read cannot be interrupted, so this bounds each phase rather than
            the whole request.
        fail_fast: raise the first failure instead of returning it as a result; requests already
            running finish first, and URLs not yet started are dropped.
        retries: how many more times to try a URL after a connection error, a timeout or a
            502/503/504 (>= 0; 0 by default).
        max_per_second: start at most this many attempts a second (> 0), in the order the
            URLs were read (``RateLimiter``'s arithmetic, burst 1); retries count too.
            ``None``: no limit.
        client: ``"httptools"``, the default, is the lean client (answers parsed by llhttp;
            GET over HTTP/1.1 and TLS only); ``"httpcore"`` the full one, parsed by h11 in
            pure Python at several times the CPU per request.

    Yields:
        An iterator of ``FetchResult``, in the order the URLs finished; each carries its
        ``index`` in the input.

    Raises:
        FetchError: with ``fail_fast=True``, the first URL that failed.
        TypeError, ValueError: for bad arguments, before any request is sent.
        MissingExtra: the HTTP clients are not installed (the ``[http]`` extra).
    """
    work = _thread_work(urls, client, timeout, retries, fail_fast)
    feed, pace = _feed(urls, limit, timeout, retries, max_per_second)
    with engine.stream_threads(feed, limit, partial(work, pace), _raise, _as_is,
                               engine.buffered(limit), name="fetch") as results:
        yield results


def _thread_work(
    urls: object, client: str, timeout: float, retries: int, fail_fast: bool,
) -> Callable[[rate.Gcra | None], AbstractContextManager[Callable[[int, str], FetchResult]]]:
    """Checks what only threads refuse; then, given the pace, how each thread gets its fetch."""
    if isinstance(urls, AsyncIterable) and not isinstance(urls, Iterable):
        raise TypeError("urls must be a plain iterable for threads, not an async iterable")
    _check_client(client, ("httptools", "httpcore"))

    @contextmanager
    def work(pace: rate.Gcra | None) -> Iterator[Callable[[int, str], FetchResult]]:
        fetch = partial(_fetch_sync, retries=retries, fail_fast=fail_fast,
                        pace=_thread_pace(pace))
        if client == "httpcore":
            with _thread_connections(timeout, fetch) as get:
                yield get
            return
        with http1.SyncConnections(timeout, MAX_REDIRECTS) as mine:
            yield partial(fetch, get=partial(_get_http1_sync, mine))

    return work


def _get_http1_sync(connections: http1.SyncConnections, url: str) -> Answer:
    return _answer(*connections.get(url))


@contextmanager
def _thread_connections(timeout: float, fetch: Any) -> Iterator[Callable[[int, str], FetchResult]]:
    """One thread's connections, one per host, kept alive for the thread's life."""
    extensions = {"timeout": dict.fromkeys(("connect", "read", "write", "pool"), timeout)}
    open_: OrderedDict[_Host, httpcore.HTTPConnection] = OrderedDict()

    def connect(origin: httpcore.Origin) -> tuple[httpcore.HTTPConnection, bool]:
        host = _host(origin)
        connection = open_.get(host)
        if connection is not None and (connection.has_expired() or connection.is_closed()):
            open_.pop(host).close()
            connection = None
        if connection is not None:
            open_.move_to_end(host)
            return connection, True
        if len(open_) >= _Connections.HOSTS:
            open_.popitem(last=False)[1].close()  # the least recently used host
        connection = open_[host] = httpcore.HTTPConnection(origin)
        return connection, False

    def request(url: httpcore.URL) -> httpcore.Response:
        connection, reused = connect(url.origin)
        try:
            return connection.request("GET", url, extensions=extensions)
        except (httpcore.RemoteProtocolError, httpcore.ReadError, httpcore.WriteError):
            open_.pop(_host(url.origin)).close()
            if not reused:
                raise
        # The server closed a kept-alive connection as we reused it: once more, afresh.
        return connect(url.origin)[0].request("GET", url, extensions=extensions)

    def get(url: str) -> Answer:
        for _ in range(MAX_REDIRECTS + 1):
            response = request(httpcore.URL(url))
            location = _location(response.status, response.headers)
            if location is None:
                return response.status, response.content, url, _retry_after(response.headers)
            url = urljoin(url, location)
        raise httpcore.RemoteProtocolError(f"more than {MAX_REDIRECTS} redirects")

    try:
        yield partial(fetch, get=get)
    finally:
        for connection in open_.values():
            connection.close()
# --8<-- [end:threads]


# --- one URL, with its retries: shared by every variant ---------------------------------------

async def _fetch_async(
    index: int, url: str, *, get: AsyncGet, retries: int, fail_fast: bool,
    sleep: Callable[[float], Awaitable[Any]], deadline: Callable[[], Any] | None = None,
    pace: Callable[[], Awaitable[None]] | None = None,
) -> FetchResult:
    start = time.perf_counter()
    for attempt in range(1, retries + 2):
        if pace is not None:
            await pace()  # every attempt waits for its slot
        try:
            if deadline is None:  # the client bounds each attempt itself
                answer: Answer | Exception = await get(url)
            else:  # the deadline bounds the whole attempt, body and redirects included
                with deadline():
                    answer = await get(url)
        except Exception as exc:  # any failure of this URL is this URL's result, not the call's
            answer = exc
        wait = _retry_wait(answer, attempt, retries)
        if wait is None:
            return _result(url, index, start, answer, attempt, fail_fast)
        await sleep(wait)
    raise AssertionError("unreachable: the last attempt always returns")


def _fetch_sync(
    index: int, url: str, *, get: SyncGet, retries: int, fail_fast: bool,
    pace: Callable[[], object] | None = None,
) -> FetchResult:
    start = time.perf_counter()
    for attempt in range(1, retries + 2):
        if pace is not None:
            pace()
        try:
            answer: Answer | Exception = get(url)
        except Exception as exc:
            answer = exc
        wait = _retry_wait(answer, attempt, retries)
        if wait is None:
            return _result(url, index, start, answer, attempt, fail_fast)
        time.sleep(wait)
    raise AssertionError("unreachable: the last attempt always returns")


def _retry_wait(answer: Answer | Exception, attempt: int, retries: int) -> float | None:
    """How long to wait before trying again, or ``None`` when this answer is final."""
    if attempt > retries:
        return None
    if isinstance(answer, Exception):
        retry_after = None  # a connection error or a timeout: worth another try
    elif answer[0] in RETRY_STATUSES:
        retry_after = _seconds(answer[3])
    else:
        return None
    if retry_after is not None:
        return min(retry_after, BACKOFF_CAP)
    # Full jitter: anywhere from 0 to the exponential bound, so that many clients failing
    # together do not come back together.
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))


def _result(url: str, index: int, start: float, answer: Answer | Exception, attempts: int,
            fail_fast: bool) -> FetchResult:
    elapsed = time.perf_counter() - start
    if isinstance(answer, Exception):
        timed_out = _is_timeout(answer)
        reason = "timed out" if timed_out else f"{type(answer).__name__}: {answer}"
        error = FetchError(url, index, reason, timed_out=timed_out)
        error.__cause__ = answer
        result = FetchResult(url, None, b"", elapsed, error, None, index, attempts)
    else:
        status, body, final_url, _ = answer
        failed = FetchError(url, index, f"HTTP {status}", status=status) if status >= 500 else None
        result = FetchResult(url, status, body, elapsed, failed, final_url, index, attempts)
    if fail_fast and result.error is not None:
        raise result.error
    return result


# --- shared helpers ----------------------------------------------------------------------------

def _thread_pace(pace: rate.Gcra | None) -> Callable[[], object] | None:
    return None if pace is None else partial(rate.acquire_threads, pace, threading.Lock())


def _feed(
    urls: object, limit: int, timeout: float, retries: int, max_per_second: float | None,
) -> tuple[engine.Feed[str], rate.Gcra | None]:
    # A single URL passed by mistake would otherwise be fetched one character at a time.
    if isinstance(urls, str | bytes) or not isinstance(urls, Iterable | AsyncIterable):
        raise TypeError(f"urls must be an iterable of URL strings, got {type(urls).__name__}")
    if isinstance(urls, Sequence):  # a list is checked whole, before anything starts
        for i, url in enumerate(urls):
            _check_url(i, url)
    check_positive_int("limit", limit)
    check_positive_number("timeout", timeout)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be an int >= 0, got {retries!r}")
    pace = rate.limiter(max_per_second)
    return engine.Feed(urls, check=None if isinstance(urls, Sequence) else _check_url), pace


def _check_url(index: int, url: object) -> None:
    if not isinstance(url, str):
        raise TypeError(f"urls[{index}] must be a str, got {type(url).__name__}: {url!r}")


_Host = tuple[bytes, bytes, int]  # scheme, host, port: httpcore.Origin is not hashable


def _host(origin: httpcore.Origin) -> _Host:
    return origin.scheme, origin.host, origin.port


def _location(status: int, headers: list[tuple[bytes, bytes]]) -> str | None:
    if status not in (301, 302, 303, 307, 308):
        return None
    for name, value in headers:
        if name.lower() == b"location":
            return value.decode("latin-1")
    return None


def _retry_after(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"retry-after":
            return value.decode("latin-1")
    return None


def _seconds(retry_after: str | None) -> float | None:
    """``Retry-After`` as seconds from now: a number of seconds, or an HTTP date."""
    if retry_after is None:
        return None
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_timeout(exc: Exception) -> bool:
    return isinstance(exc, TimeoutError) or type(exc).__name__.endswith("Timeout")


def _raise(index: int, url: str, exc: Exception) -> FetchResult:
    raise exc  # every URL's own failure is already its result: only fail_fast raises here


def _as_is(index: int, url: str, result: FetchResult) -> FetchResult:
    return result


class _Results:
    """The list form: every result, put back in input order at the end."""

    def __init__(self) -> None:
        self._results: list[FetchResult] = []

    def add(self, index: int, url: str, result: FetchResult) -> None:
        self._results.append(result)

    def in_input_order(self) -> list[FetchResult]:
        return sorted(self._results, key=lambda r: r.index)
