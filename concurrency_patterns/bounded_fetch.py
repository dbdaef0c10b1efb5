"""Bounded concurrent fetch: send N requests with at most ``limit`` in flight, politely.

The classic Python version is ``aiohttp`` plus an ``asyncio.Semaphore`` around each request,
one task per URL. Go writes it with ``limit`` worker goroutines reading a channel of URLs and
one shared ``http.Client``. This module does it the Go way: ``limit`` workers pull requests from
the feed one at a time, so a million URLs — a list, a lazy generator, an async iterable —
never become more than ``limit`` tasks, and memory stays flat.

Every variant comes in two forms:

* ``fetch`` returns one ``FetchResult`` per request, **in input order**;
* ``fetch_stream`` is a context manager that yields the results **as they finish**, each
  carrying its input ``index``, with at most ``limit`` results waiting for you. Leaving the
  block early stops the requests first:

  ```python
  async with fetch_stream_anyio(urls_from_a_file(), limit=100) as results:
      async for r in results:
          print(r.index, r.status)
  ```

The feed holds URL strings or ``Request`` objects (method, URL, headers, body); ``headers=``
adds headers to every request that does not set them itself.

The contract, for every variant and both forms:

* **At most** ``limit`` requests are in flight at any moment, retries and redirects included;
  with ``limit_per_host=``, at most that many to one host (host and port).
* **Pace.** ``max_per_second`` (off by default) lets at most that many requests start a second,
  and ``max_per_second_per_host`` that many to each host. Every request sent counts: each
  retry, and each redirect hop.
* **Redirects** are followed by the library, the same way for every client, up to
  ``MAX_REDIRECTS`` (10) for one URL; ``FetchResult.final_url`` is where the answer came from.
  An 11th redirect makes the URL an error result. A 303 (and a 301 or 302 after a POST)
  becomes a GET without the body; 307 and 308 keep both. A redirect to another origin drops
  ``Authorization``, ``Cookie`` and ``Proxy-Authorization``; one to a scheme other than http
  or https is an error result.
* ``timeout`` bounds each attempt at a URL: connecting to the last byte, redirects included.
  A refused connection, a timeout, a 5xx or 429 answer, or an answer refused (below) becomes
  an error result; one bad URL never loses the others. Any other 4xx answer is a result, not
  an error: the server answered, and asking again will not change it.
* **Caps.** A body is at most ``max_body`` bytes (32 MiB by default) *as decoded*: past it
  the result is an error naming the cap, and that connection is not reused. A gzip or deflate
  body is inflated only up to the cap, so a gzip bomb is an error, not a memory blow-up. An
  answer's head is at most 64 KiB and 128 headers.
* **Retries** (off by default): ``retries=N`` tries a request again up to N more times after
  a connection error, a timeout, or a 429, 502, 503 or 504 answer (``retry_on=`` chooses),
  waiting an exponential backoff with full jitter — or what the server's ``Retry-After`` asks,
  in seconds or as an HTTP date. A ``Retry-After`` longer than 10 s is not waited for: the
  result is the error, saying so. Retries may add at most ``retry_budget`` (20 %) of the first
  attempts, plus 10 per call, so an outage is not hit with N times the traffic.
  ``FetchResult.attempts`` says how many attempts it took and ``retry_reasons`` why each retry
  happened.
* With ``fail_fast=True`` the first failure stops the call and is raised as ``FetchError``.
* Cancelling the call cancels every request it started; nothing outlives it.
* An async generator of URLs is closed (``aclose()``) before the call returns when the call
  stops reading it early; pass ``(u async for u in gen)`` to keep ``gen`` open.
* Bad input — ``limit=0``, a single URL string, an item that is neither a string nor a
  ``Request`` — is refused with an error naming the parameter. A list is checked before
  anything starts; a lazy feed is checked as it is read, and a bad item stops the call there.

Which to pick:

* ``anyio.fetch`` (anyio workers) is the one to import: on asyncio it uses aiohttp, on trio
  each worker owns its connections through the lean client (below).
* ``asyncio.fetch`` (asyncio workers + aiohttp) is asyncio's; with ``client="httptools"``
  it is the fastest client here, uvloop or not.
* ``threads.fetch`` (``limit`` threads, each with its own connections) fits code that is
  not async. A thread costs more than a task: keep ``limit`` in the hundreds.

The clients: ``"aiohttp"``, a full client with one pool for the workers; ``"httptools"``, the
lean one (``_core/http1.py``): llhttp parses every answer and each worker owns one kept-alive
connection per host; ``"httpcore"``, a full client parsed by h11 in pure Python. Or bring your
own: ``client=`` takes an ``aiohttp.ClientSession``, an ``httpx.AsyncClient`` (``httpx.Client``
for threads) or any function from ``Request`` to ``Response``, keeping your auth, cookies,
proxies and TLS settings; the library never closes a client it did not open. Every client
keeps the whole contract above; the benchmark tables show what each costs per request.
"""

from __future__ import annotations

import sys
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
    Mapping,
    Sequence,
)
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
    nullcontext,
)
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, Union

from ._core import check_positive_int, check_positive_number, rate
from ._core import retry as retrying
from ._core import workers as engine
from ._core.http import (
    IDEMPOTENT,
    AnswerRefused,
    BodyTooLarge,
    Headers,
    Request,
    Response,
    check_headers,
    decode,
    follow,
    header,
    origin,
    raw_cap,
    sent_headers,
)
from ._core.keyed import AsyncKeyedSlots, ThreadKeyedSlots
from ._core.lazy import lazy

if TYPE_CHECKING:
    import asyncio
    import email.utils

    import aiohttp
    import anyio
    import httpcore
    import httpx

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
    "MAX_BODY",
    "MAX_REDIRECTS",
    "RETRY_STATUSES",
    "AnswerRefused",
    "BodyTooLarge",
    "FetchError",
    "FetchResult",
    "Request",
    "Response",
    "fetch_all_anyio",
    "fetch_all_asyncio",
    "fetch_all_threads",
    "fetch_stream_anyio",
    "fetch_stream_asyncio",
    "fetch_stream_threads",
]

MAX_REDIRECTS = 10
"""Redirects the fetch follows for one request, with every client; one more is an error
result. (Go's ``http.Client`` gives up at its 10th.)"""

MAX_BODY = 32 * 1024 * 1024
"""The default ``max_body``: the most bytes a body may have, as decoded (32 MiB)."""

RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""The answers ``retries=`` asks again after, unless ``retry_on=`` says otherwise."""

BACKOFF_CAP = retrying.BACKOFF_CAP  # seconds: a longer Retry-After is not waited for


class FetchError(Exception):
    """One request could not be fetched: no answer, a timeout, a 5xx or 429 status, or an
    answer refused (past a cap, a redirect out of http(s)).

    Attributes:
        url: the URL that failed (as given).
        index: its position in the input.
        status: the HTTP status for a 5xx or 429 answer, ``None`` when no answer was taken.
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
    """What one request gave: its status, headers and body, or the error, and how long it took.

    Attributes:
        url: the URL as given.
        status: the HTTP status of the answer, ``None`` when no answer was taken.
        body: the body, decoded (kept for a 5xx answer too).
        elapsed: seconds from the moment a worker took the request to the end of the last
            attempt's body, retries and their waits included.
        error: a ``FetchError`` for no answer, a timeout, a 5xx or 429, or a refused answer;
            ``None`` otherwise.
        final_url: the URL that answered, after any redirects (``None`` when none did).
        index: the request's position in the input.
        attempts: how many times the request was tried (1 without retries).
        headers: the answer's headers, (name, value) pairs as the server sent them.
        retry_reasons: why each retry happened, one entry per retry (``"HTTP 503"``,
            ``"timed out"``, ``"ConnectionRefusedError: ..."``).
        request: the request as sent first (a URL string given in the feed becomes a GET).
    """

    url: str
    status: int | None
    body: bytes
    elapsed: float
    error: FetchError | None = field(default=None, compare=False)
    final_url: str | None = None
    index: int = 0
    attempts: int = 1
    headers: Headers = ()
    retry_reasons: tuple[str, ...] = ()
    request: Request | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        """``True`` when the answer is a result, not an error: below 500, and not 429."""
        return self.error is None

    @property
    def size(self) -> int:
        """The body's length in bytes."""
        return len(self.body)

    def header(self, name: str) -> str | None:
        """The first header of the answer called *name* (any case), or ``None``."""
        return header(self.headers, name)


Item = Union[str, Request]  # noqa: UP007 - a runtime alias, read on Python 3.11 too
AsyncSend = Callable[[Request], Awaitable[Response]]  # a client=: one request, one answer
SyncSend = Callable[[Request], Response]
# One exchange by a deadline (the variant's clock), no redirect followed: what a client does.
_Exchange = Callable[[Request, float], Awaitable[Response]]
_SyncExchange = Callable[[Request, float], Response]
RetryOn = Union[  # noqa: UP007
    Iterable[Union[int, type[BaseException]]], type[BaseException],  # noqa: UP007
    Callable[[FetchResult], bool], None,
]


class _Call:
    """One call's arguments, checked before anything starts, shared by its workers."""

    __slots__ = ("fail_fast", "headers", "host_pace", "host_slots", "limit", "max_body", "pace",
                 "policy", "timeout")

    def __init__(self, urls: object, *, limit: int, timeout: float, fail_fast: bool,
                 retries: int, retry_on: object, retry_budget: float | None,
                 max_per_second: float | None, limit_per_host: int | None,
                 max_per_second_per_host: float | None, headers: object,
                 max_body: int | None) -> None:
        self.limit = check_positive_int("limit", limit)
        self.timeout = check_positive_number("timeout", timeout)
        self.fail_fast = fail_fast
        self.policy = retrying.policy(retries, retry_on, retry_budget, default=_transient,
                                      classify=_classify)
        self.pace = rate.limiter(max_per_second)
        self.host_pace: rate.KeyedGcra | None = None
        if max_per_second_per_host is not None:
            model = rate.limiter(max_per_second_per_host)
            assert model is not None
            self.host_pace = rate.KeyedGcra(model.rate, 1)
        self.host_slots: int | None = None
        if limit_per_host is not None:
            self.host_slots = check_positive_int("limit_per_host", limit_per_host)
        self.headers = () if headers is None else check_headers(headers)
        if max_body is not None:
            check_positive_int("max_body", max_body)
        self.max_body = max_body


def _feed(urls: object, **arguments: Any) -> tuple[engine.Feed[Item], _Call]:
    # A single URL passed by mistake would otherwise be fetched one character at a time.
    if isinstance(urls, str | bytes | Request) or not isinstance(urls, Iterable | AsyncIterable):
        raise TypeError(f"urls must be an iterable of URL strings or Requests, "
                        f"got {type(urls).__name__}")
    if isinstance(urls, Sequence):  # a list is checked whole, before anything starts
        for i, url in enumerate(urls):
            _check_item(i, url)
    call = _Call(urls, **arguments)
    return engine.Feed(urls, check=None if isinstance(urls, Sequence) else _check_item), call


def _check_item(index: int, item: object) -> None:
    if not isinstance(item, str | Request):
        raise TypeError(f"urls[{index}] must be a URL string or a Request, "
                        f"got {type(item).__name__}: {item!r}")


def _request(item: Item, defaults: Headers) -> Request:
    if isinstance(item, Request):
        return item.with_defaults(defaults)
    if defaults:
        return Request(item, headers=defaults)
    # A plain URL: skip the checks of Request(), which a string has no use for.
    plain = object.__new__(Request)
    for name, value in (("url", item), ("method", "GET"), ("headers", ()), ("body", b"")):
        object.__setattr__(plain, name, value)
    return plain


# --- the asyncio variant: asyncio workers, one aiohttp session ---------------------------------
async def fetch_all_asyncio(
    urls: Iterable[str | Request] | AsyncIterable[str | Request], *, limit: int = 10,
    timeout: float = 10.0, fail_fast: bool = False, retries: int = 0,
    retry_on: RetryOn = None, retry_budget: float | None = 0.2,
    max_per_second: float | None = None, limit_per_host: int | None = None,
    max_per_second_per_host: float | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    max_body: int | None = MAX_BODY,
    client: Literal["aiohttp", "httptools"] | aiohttp.ClientSession | httpx.AsyncClient
    | AsyncSend = "aiohttp",
) -> list[FetchResult]:
    """Fetch every request with asyncio, at most *limit* at a time.

    *limit* worker tasks pull requests from the feed. With aiohttp they share one session,
    whose pool keeps *limit* connections; with the lean client each owns its connections. A
    failing request becomes an error result and never stops the others, unless *fail_fast*.
    Cancelling the call (``asyncio.timeout`` around it, a cancelled task) cancels every
    request before the cancellation goes on.

    Args:
        urls: URL strings or ``Request`` objects: a list, any iterable, or an async iterable,
            read lazily.
        limit: the most requests in flight at once (>= 1).
        timeout: seconds allowed for each attempt, connection to last byte, redirects
            included (> 0).
        fail_fast: raise the first failure instead of returning it as a result.
        retries: how many more times to try a request after a retryable failure (>= 0; 0 by
            default).
        retry_on: what is retryable. ``None`` (the default): a 429, 502, 503 or 504 answer, a
            connection error or a timeout. A collection of statuses (ints) and exception
            types: those statuses, and those exceptions (connection errors and timeouts when
            it names none). A predicate: called with each attempt's ``FetchResult``.
        retry_budget: the share of first attempts retries may add (>= 0; 0.2, 20 %, by
            default), plus 10 retries a call always has. ``None``: no budget.
        max_per_second: start at most this many requests a second (> 0), retries and
            redirect hops included, in the order they came (``RateLimiter``'s arithmetic,
            burst 1). ``None``: no limit.
        limit_per_host: the most requests in flight to one host and port (>= 1). A worker
            waiting for its host keeps its place in *limit*: mix hosts in the feed.
        max_per_second_per_host: start at most this many requests a second to one host and
            port (> 0). Each host's state is dropped once it is idle.
        headers: headers for every request that does not set them itself.
        max_body: the most bytes a body may have, decoded (>= 1; 32 MiB by default). Past
            it the result is an error and the connection is not reused. ``None``: no cap.
        client: the HTTP client. ``"aiohttp"``, the default, is a full client: one session,
            a pool of *limit* connections. ``"httptools"`` is the lean one: each worker owns
            its connections and every answer is parsed by llhttp, for a fraction of
            aiohttp's CPU per request (the benchmark tables measure it); it speaks HTTP/1.1
            and TLS, with no proxies or cookies. Or your own ``aiohttp.ClientSession`` or
            ``httpx.AsyncClient`` (its pool bounds the requests too: give it room for
            *limit*), or an async function from ``Request`` to ``Response``. A client you
            pass is never closed.

    Returns:
        One ``FetchResult`` per request, in input order.

    Raises:
        FetchError: with ``fail_fast=True``, the first request that failed.
        TypeError, ValueError: for bad arguments, before any request is sent (for a lazy
            feed, a bad item when it is read).
        MissingExtra: the HTTP clients are not installed (the ``[http]`` extra).
    """
    feed, call = _feed(urls, limit=limit, timeout=timeout, fail_fast=fail_fast,
                       retries=retries, retry_on=retry_on, retry_budget=retry_budget,
                       max_per_second=max_per_second, limit_per_host=limit_per_host,
                       max_per_second_per_host=max_per_second_per_host, headers=headers,
                       max_body=max_body)
    kind = _client_kind(client, ("aiohttp", "httptools"), sync=False)
    results = _Results()
    async with _asyncio_workers(kind, client, call) as make_work:
        await engine.gather_asyncio(feed, call.limit, make_work, _raise, results.add)
    return results.in_input_order()


@asynccontextmanager
async def fetch_stream_asyncio(
    urls: Iterable[str | Request] | AsyncIterable[str | Request], *, limit: int = 10,
    timeout: float = 10.0, fail_fast: bool = False, retries: int = 0,
    retry_on: RetryOn = None, retry_budget: float | None = 0.2,
    max_per_second: float | None = None, limit_per_host: int | None = None,
    max_per_second_per_host: float | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    max_body: int | None = MAX_BODY,
    client: Literal["aiohttp", "httptools"] | aiohttp.ClientSession | httpx.AsyncClient
    | AsyncSend = "aiohttp",
) -> AsyncIterator[AsyncIterator[FetchResult]]:
    """``async with fetch_stream(urls) as results:`` yields each result as it finishes.

    *limit* worker tasks pull requests from the feed, as ``fetch`` does, and take the same
    arguments, but the results come out as they finish instead of in one list at the end: at
    most *limit* requests run and at most *limit* results wait to be read, so memory stays flat
    however long the feed, and a reader that falls behind holds the workers back. A failing
    request is an error result, unless *fail_fast*. Leaving the block early (``break``, an
    exception, a cancellation) cancels the requests still running before the block is left.

    Args:
        urls: URL strings or ``Request`` objects: a list, any iterable, or an async iterable,
            read lazily.
        limit: the most requests in flight at once (>= 1).
        timeout: seconds allowed for each attempt, connection to last byte, redirects
            included (> 0).
        fail_fast: raise the first failure instead of returning it as a result.
        retries: how many more times to try a request after a retryable failure (>= 0; 0 by
            default).
        retry_on: what is retryable. ``None`` (the default): a 429, 502, 503 or 504 answer, a
            connection error or a timeout. A collection of statuses (ints) and exception
            types: those statuses, and those exceptions (connection errors and timeouts when
            it names none). A predicate: called with each attempt's ``FetchResult``.
        retry_budget: the share of first attempts retries may add (>= 0; 0.2, 20 %, by
            default), plus 10 retries a call always has. ``None``: no budget.
        max_per_second: start at most this many requests a second (> 0), retries and
            redirect hops included, in the order they came (``RateLimiter``'s arithmetic,
            burst 1). ``None``: no limit.
        limit_per_host: the most requests in flight to one host and port (>= 1). A worker
            waiting for its host keeps its place in *limit*: mix hosts in the feed.
        max_per_second_per_host: start at most this many requests a second to one host and
            port (> 0). Each host's state is dropped once it is idle.
        headers: headers for every request that does not set them itself.
        max_body: the most bytes a body may have, decoded (>= 1; 32 MiB by default). Past
            it the result is an error and the connection is not reused. ``None``: no cap.
        client: the HTTP client. ``"aiohttp"``, the default, is a full client: one session,
            a pool of *limit* connections. ``"httptools"`` is the lean one: each worker owns
            its connections and every answer is parsed by llhttp, for a fraction of
            aiohttp's CPU per request (the benchmark tables measure it); it speaks HTTP/1.1
            and TLS, with no proxies or cookies. Or your own ``aiohttp.ClientSession`` or
            ``httpx.AsyncClient`` (its pool bounds the requests too: give it room for
            *limit*), or an async function from ``Request`` to ``Response``. A client you
            pass is never closed.

    Yields:
        An async iterator of ``FetchResult``, in the order the requests finished; each
        carries its ``index`` in the input.

    Raises:
        FetchError: with ``fail_fast=True``, the first request that failed; the others were
            cancelled.
        TypeError, ValueError: for bad arguments, before any request is sent.
        MissingExtra: the HTTP clients are not installed (the ``[http]`` extra).
    """
    feed, call = _feed(urls, limit=limit, timeout=timeout, fail_fast=fail_fast,
                       retries=retries, retry_on=retry_on, retry_budget=retry_budget,
                       max_per_second=max_per_second, limit_per_host=limit_per_host,
                       max_per_second_per_host=max_per_second_per_host, headers=headers,
                       max_body=max_body)
    kind = _client_kind(client, ("aiohttp", "httptools"), sync=False)
    async with _asyncio_workers(kind, client, call) as make_work, \
            engine.stream_asyncio(feed, call.limit, make_work, _raise, _as_is,
                                  engine.buffered(call.limit)) as results:
        yield results


class _Model:
    """What a worker needs from its event loop: a clock, sleep, the rate limiter's wait, an
    event for the per-host line, and a deadline around a client that keeps none itself."""

    __slots__ = ("acquire", "clock", "event", "sleep", "within")

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], Awaitable[Any]],
                 acquire: Callable[[rate.Gcra], Awaitable[None]], event: Callable[[], Any],
                 within: Callable[[float], AbstractAsyncContextManager[Any] | Any]) -> None:
        self.clock, self.sleep, self.acquire = clock, sleep, acquire
        self.event, self.within = event, within


def _asyncio_model() -> _Model:
    return _Model(asyncio.get_running_loop().time, asyncio.sleep, rate.acquire_asyncio,
                  asyncio.Event, asyncio.timeout_at)


@asynccontextmanager
async def _asyncio_workers(
    kind: str, client: Any, call: _Call,
) -> AsyncIterator[Callable[[], AbstractAsyncContextManager[WorkerFetch]]]:
    """How each worker gets its fetch: a share of one client, or its own connections."""
    model = _asyncio_model()
    fetch = _AsyncFetch(call, model)
    if kind == "httptools":

        @asynccontextmanager
        async def own_connections() -> AsyncIterator[WorkerFetch]:
            async with http1.AsyncConnections.open(call.max_body, protocol=True) as mine:
                yield partial(fetch, send=mine.send)

        yield own_connections
        return
    async with _shared_client(kind, client, call, model) as send:
        shared = partial(fetch, send=send)
        yield lambda: nullcontext(shared)


@asynccontextmanager
async def _shared_client(kind: str, client: Any, call: _Call,
                         model: _Model) -> AsyncIterator[_Exchange]:
    """One client all workers share: aiohttp's session (ours, or yours), httpx's, or yours."""
    if kind == "aiohttp":
        # One session for the whole call: a pool of *limit* connections, so that no worker
        # waits for one, and no cookie jar (a crawl must not carry one site's cookies on).
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=call.limit),
                                        cookie_jar=aiohttp.DummyCookieJar())
        async with session:
            yield partial(_send_aiohttp, session, call.max_body, model.clock)
    elif kind == "aiohttp-session":
        yield partial(_send_aiohttp, client, call.max_body, model.clock)
    elif kind == "httpx":
        yield partial(_send_httpx, client, call.max_body, model)
    else:  # a function of the user's
        yield partial(_send_callable, client, call.max_body, model)


async def _send_aiohttp(session: aiohttp.ClientSession, max_body: int | None,
                        clock: Callable[[], float], request: Request,
                        deadline: float) -> Response:
    left = deadline - clock()
    if left <= 0:
        raise TimeoutError("timed out")
    async with session.request(
            request.method, request.url, headers=request.headers or None,
            data=request.body or None, allow_redirects=False, raise_for_status=False,
            timeout=aiohttp.ClientTimeout(total=left)) as response:
        body = await _read_aiohttp(response, max_body)
        headers = tuple((name.decode("latin-1"), value.decode("latin-1"))
                        for name, value in response.raw_headers)
        return Response(response.status, headers, body, str(response.url))


async def _read_aiohttp(response: aiohttp.ClientResponse, max_body: int | None) -> bytes:
    """The body (aiohttp inflates gzip and deflate as it reads), never more than *max_body*."""
    if max_body is None:
        return await response.read()
    encoding = response.headers.get("Content-Encoding")
    length = response.content_length
    if length is not None and length > (raw_cap(max_body, encoding) or 0):
        response.close()  # not released: the connection is not reused
        raise BodyTooLarge(max_body, length)
    if length is not None and encoding is None:
        return await response.read()  # its length is known and within the cap
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > max_body:
            response.close()
            raise BodyTooLarge(max_body)
        chunks.append(chunk)
    return b"".join(chunks)


async def _send_httpx(client: httpx.AsyncClient, max_body: int | None, model: _Model,
                      request: Request, deadline: float) -> Response:
    async with model.within(deadline):
        built = client.build_request(request.method, request.url, headers=list(request.headers),
                                     content=request.body or None)
        response = await client.send(built, stream=True, follow_redirects=False)
        try:
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():  # inflated by httpx
                size += len(chunk)
                if max_body is not None and size > max_body:
                    raise BodyTooLarge(max_body)
                chunks.append(chunk)
        finally:
            await response.aclose()
    return Response(response.status_code, tuple(response.headers.multi_items()),
                    b"".join(chunks), str(response.url))


async def _send_callable(fn: AsyncSend, max_body: int | None, model: _Model, request: Request,
                         deadline: float) -> Response:
    async with model.within(deadline):
        response = await fn(request)
    return _checked(response, max_body)


def _checked(response: object, max_body: int | None) -> Response:
    if not isinstance(response, Response):
        raise TypeError(f"client= returned {type(response).__name__}, not a Response")
    if max_body is not None and len(response.body) > max_body:
        raise BodyTooLarge(max_body)
    return response


# --- the anyio variant: aiohttp on asyncio, a connection per worker on trio -------------------
async def fetch_all_anyio(
    urls: Iterable[str | Request] | AsyncIterable[str | Request], *, limit: int = 10,
    timeout: float = 10.0, fail_fast: bool = False, retries: int = 0,
    retry_on: RetryOn = None, retry_budget: float | None = 0.2,
    max_per_second: float | None = None, limit_per_host: int | None = None,
    max_per_second_per_host: float | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    max_body: int | None = MAX_BODY,
    client: Literal["auto", "aiohttp", "httpcore", "httptools"] | aiohttp.ClientSession
    | httpx.AsyncClient | AsyncSend = "auto",
) -> list[FetchResult]:
    """Fetch every request with anyio, at most *limit* at a time, on asyncio or trio.

    *limit* worker tasks pull requests from the feed, so a long or endless feed never becomes
    more than *limit* tasks. A failing request becomes an error result and never stops the
    others, unless *fail_fast*. Cancelling the call (``anyio.fail_after`` or ``move_on_after``
    around it, a cancelled task group) cancels every request before the cancellation goes on.

    Args:
        urls: URL strings or ``Request`` objects: a list, any iterable, or an async iterable,
            read lazily.
        limit: the most requests in flight at once (>= 1).
        timeout: seconds allowed for each attempt, connection to last byte, redirects
            included (> 0).
        fail_fast: raise the first failure instead of returning it as a result.
        retries: how many more times to try a request after a retryable failure (>= 0; 0 by
            default).
        retry_on: what is retryable. ``None`` (the default): a 429, 502, 503 or 504 answer, a
            connection error or a timeout. A collection of statuses (ints) and exception
            types: those statuses, and those exceptions (connection errors and timeouts when
            it names none). A predicate: called with each attempt's ``FetchResult``.
        retry_budget: the share of first attempts retries may add (>= 0; 0.2, 20 %, by
            default), plus 10 retries a call always has. ``None``: no budget.
        max_per_second: start at most this many requests a second (> 0), retries and
            redirect hops included, in the order they came. ``None``: no limit.
        limit_per_host: the most requests in flight to one host and port (>= 1).
        max_per_second_per_host: start at most this many requests a second to one host and
            port (> 0).
        headers: headers for every request that does not set them itself.
        max_body: the most bytes a body may have, decoded (>= 1; 32 MiB by default).
            ``None``: no cap.
        client: the HTTP client. ``"auto"`` takes aiohttp on asyncio and ``"httptools"`` on
            trio. With ``"httptools"`` or ``"httpcore"`` each worker owns its connections (one
            per host it meets), so no request waits on a shared pool. ``"httptools"`` is the
            lean client, answers parsed by llhttp (HTTP/1.1 and TLS, no proxies or cookies);
            ``"httpcore"`` is the full one, parsed by h11 in pure Python at several times the
            CPU per request (the benchmark tables measure both). Both run on either backend;
            ``"aiohttp"`` and an ``aiohttp.ClientSession`` run on asyncio only. Or your own
            ``httpx.AsyncClient``, or an async function from ``Request`` to ``Response``. A
            client you pass is never closed.

    Returns:
        One ``FetchResult`` per request, in input order.

    Raises:
        FetchError: with ``fail_fast=True``, the first request that failed.
        TypeError, ValueError: for bad arguments, before any request is sent; also an
            aiohttp client on trio.
        MissingExtra: the HTTP clients are not installed (the ``[http]`` extra).
    """
    feed, call = _feed(urls, limit=limit, timeout=timeout, fail_fast=fail_fast,
                       retries=retries, retry_on=retry_on, retry_budget=retry_budget,
                       max_per_second=max_per_second, limit_per_host=limit_per_host,
                       max_per_second_per_host=max_per_second_per_host, headers=headers,
                       max_body=max_body)
    kind = _anyio_client(client)
    results = _Results()
    async with _anyio_workers(kind, client, call) as make_work:
        await engine.gather_anyio(feed, call.limit, make_work, _raise, results.add)
    return results.in_input_order()


@asynccontextmanager
async def fetch_stream_anyio(
    urls: Iterable[str | Request] | AsyncIterable[str | Request], *, limit: int = 10,
    timeout: float = 10.0, fail_fast: bool = False, retries: int = 0,
    retry_on: RetryOn = None, retry_budget: float | None = 0.2,
    max_per_second: float | None = None, limit_per_host: int | None = None,
    max_per_second_per_host: float | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    max_body: int | None = MAX_BODY,
    client: Literal["auto", "aiohttp", "httpcore", "httptools"] | aiohttp.ClientSession
    | httpx.AsyncClient | AsyncSend = "auto",
) -> AsyncIterator[AsyncIterator[FetchResult]]:
    """``async with fetch_stream(urls) as results:`` yields each result as it finishes, on anyio.

    *limit* worker tasks pull requests from the feed, as ``fetch`` does, and take the same
    arguments, but the results come out as they finish: at most *limit* requests run and at
    most *limit* results wait to be read, so memory stays flat however long the feed. A failing
    request is an error result, unless *fail_fast*. Leaving the block early (``break``, an
    exception, a cancellation) cancels the requests still running before the block is left.
    Runs on asyncio and trio.

    Args:
        urls: URL strings or ``Request`` objects: a list, any iterable, or an async iterable,
            read lazily.
        limit: the most requests in flight at once (>= 1).
        timeout: seconds allowed for each attempt, connection to last byte, redirects
            included (> 0).
        fail_fast: raise the first failure instead of returning it as a result.
        retries: how many more times to try a request after a retryable failure (>= 0; 0 by
            default).
        retry_on: what is retryable. ``None`` (the default): a 429, 502, 503 or 504 answer, a
            connection error or a timeout. A collection of statuses (ints) and exception
            types: those statuses, and those exceptions (connection errors and timeouts when
            it names none). A predicate: called with each attempt's ``FetchResult``.
        retry_budget: the share of first attempts retries may add (>= 0; 0.2, 20 %, by
            default), plus 10 retries a call always has. ``None``: no budget.
        max_per_second: start at most this many requests a second (> 0), retries and
            redirect hops included, in the order they came. ``None``: no limit.
        limit_per_host: the most requests in flight to one host and port (>= 1).
        max_per_second_per_host: start at most this many requests a second to one host and
            port (> 0).
        headers: headers for every request that does not set them itself.
        max_body: the most bytes a body may have, decoded (>= 1; 32 MiB by default).
            ``None``: no cap.
        client: the HTTP client. ``"auto"`` takes aiohttp on asyncio and ``"httptools"`` on
            trio. With ``"httptools"`` or ``"httpcore"`` each worker owns its connections (one
            per host it meets), so no request waits on a shared pool. ``"httptools"`` is the
            lean client, answers parsed by llhttp (HTTP/1.1 and TLS, no proxies or cookies);
            ``"httpcore"`` is the full one, parsed by h11 in pure Python at several times the
            CPU per request (the benchmark tables measure both). Both run on either backend;
            ``"aiohttp"`` and an ``aiohttp.ClientSession`` run on asyncio only. Or your own
            ``httpx.AsyncClient``, or an async function from ``Request`` to ``Response``. A
            client you pass is never closed.

    Yields:
        An async iterator of ``FetchResult``, in the order the requests finished; each
        carries its ``index`` in the input.

    Raises:
        FetchError: with ``fail_fast=True``, the first request that failed; the others were
            cancelled.
        TypeError, ValueError: for bad arguments, before any request is sent; also an
            aiohttp client on trio.
        MissingExtra: the HTTP clients are not installed (the ``[http]`` extra).
    """
    feed, call = _feed(urls, limit=limit, timeout=timeout, fail_fast=fail_fast,
                       retries=retries, retry_on=retry_on, retry_budget=retry_budget,
                       max_per_second=max_per_second, limit_per_host=limit_per_host,
                       max_per_second_per_host=max_per_second_per_host, headers=headers,
                       max_body=max_body)
    kind = _anyio_client(client)
    async with _anyio_workers(kind, client, call) as make_work, \
            engine.stream_anyio(feed, call.limit, make_work, _raise, _as_is,
                                engine.buffered(call.limit)) as results:
        yield results


def _client_kind(client: object, names: tuple[str, ...], *, sync: bool) -> str:
    """Which client *client* is: one of *names*, someone's client object, or a function."""
    if isinstance(client, str):
        if client not in names:
            known = ", ".join(repr(name) for name in names)
            raise ValueError(f"client must be one of {known}, a client object or a function, "
                             f"got {client!r}")
        return client
    aiohttp_module, httpx_module = sys.modules.get("aiohttp"), sys.modules.get("httpx")
    if aiohttp_module is not None and isinstance(client, aiohttp_module.ClientSession):
        if sync:
            raise TypeError("client: an aiohttp.ClientSession needs asyncio, not threads")
        return "aiohttp-session"
    if httpx_module is not None:
        if isinstance(client, httpx_module.AsyncClient):
            if sync:
                raise TypeError("client: threads need an httpx.Client, not an httpx.AsyncClient")
            return "httpx"
        if isinstance(client, httpx_module.Client):
            if not sync:
                raise TypeError("client: async code needs an httpx.AsyncClient, "
                                "not an httpx.Client")
            return "httpx"
    if callable(client):
        if sync and _is_async_function(client):
            raise TypeError("client: threads need a plain function, not an async one")
        if not sync and _is_plain_function(client):
            raise TypeError("client: async code needs an async function (async def), "
                            "not a plain one")
        return "function"
    raise TypeError(f"client must be a client name, a client object or a function, "
                    f"got {type(client).__name__}")


def _is_async_function(fn: object) -> bool:
    import inspect  # only a client= function is looked at

    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None))  # noqa: B004 - an object with an async __call__


def _is_plain_function(fn: object) -> bool:
    """A ``def`` function that is not ``async def`` (a lambda may return a coroutine)."""
    import inspect

    return (inspect.isfunction(fn) and not inspect.iscoroutinefunction(fn)
            and fn.__name__ != "<lambda>")


def _anyio_client(client: object) -> str:
    """The client the anyio variant uses: *client*, with ``"auto"`` resolved."""
    kind = _client_kind(client, ("auto", "aiohttp", "httpcore", "httptools"), sync=False)
    on_asyncio = _running_on_asyncio()
    if kind in ("aiohttp", "aiohttp-session") and not on_asyncio:
        raise ValueError("client: aiohttp needs asyncio; on trio use 'httptools', "
                         "'httpcore' or 'auto'")
    if kind == "auto":
        return "aiohttp" if on_asyncio else "httptools"
    return kind


WorkerFetch = Callable[[int, Item], Awaitable[FetchResult]]


def _anyio_model() -> _Model:
    @asynccontextmanager
    async def within(deadline: float) -> AsyncIterator[None]:
        with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
            yield

    return _Model(anyio.current_time, anyio.sleep, rate.acquire_anyio, anyio.Event, within)


@asynccontextmanager
async def _anyio_workers(
    kind: str, client: Any, call: _Call,
) -> AsyncIterator[Callable[[], AbstractAsyncContextManager[WorkerFetch]]]:
    """How each worker gets its fetch: a share of one client, or its own connections."""
    model = _anyio_model()
    fetch = _AsyncFetch(call, model)
    if kind == "httptools":
        # On asyncio a protocol hands bytes to the parser with no task switch per read.
        protocol = _running_on_asyncio()

        @asynccontextmanager
        async def lean_connections() -> AsyncIterator[WorkerFetch]:
            async with http1.AsyncConnections.open(call.max_body, protocol=protocol) as mine:
                yield partial(fetch, send=mine.send)

        yield lean_connections
        return
    if kind == "httpcore":

        @asynccontextmanager
        async def own_connections() -> AsyncIterator[WorkerFetch]:
            async with _Connections.open(call.max_body) as send:
                yield partial(fetch, send=send)

        yield own_connections
        return
    async with _shared_client(kind, client, call, model) as send:
        shared = partial(fetch, send=send)
        yield lambda: nullcontext(shared)


class _Connections:
    """One worker's httpcore connections, one per host (origin) it meets, kept alive.

    A worker sends one request at a time, so it needs no pool: this is the pool's job without
    the pool's bookkeeping, which on a shared pool of *limit* connections costs more than the
    request itself. It keeps at most ``HOSTS`` hosts, closing the one least recently used.
    """

    HOSTS = 8

    def __init__(self, max_body: int | None) -> None:
        # No timeout per connect, read or write: the attempt's deadline bounds them all, and
        # each of httpcore's own per-operation deadlines is a cancel scope, which costs more
        # than the read it guards (see _core/network.py).
        self._open: OrderedDict[_Host, httpcore.AsyncHTTPConnection] = OrderedDict()
        self._max_body = max_body

    @classmethod
    @asynccontextmanager
    async def open(cls, max_body: int | None) -> AsyncIterator[_Exchange]:
        connections = cls(max_body)
        try:
            yield connections.send
        finally:
            with anyio.CancelScope(shield=True):  # close every socket, even when cancelled
                for connection in connections._open.values():
                    await connection.aclose()

    async def send(self, request: Request, deadline: float) -> Response:
        with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
            target = httpcore.URL(request.url)
            connection, reused = await self._connection(target.origin)
            try:
                return await self._exchange(connection, target, request)
            except (httpcore.RemoteProtocolError, httpcore.ReadError, httpcore.WriteError):
                await self._drop(_host(target.origin))
                if not reused or request.method not in IDEMPOTENT:
                    raise
            except BaseException:
                # A cancelled, failed or refused exchange leaves the connection unusable.
                await self._drop(_host(target.origin))
                raise
            # The server closed a kept-alive connection as we reused it: once more, afresh.
            connection, _ = await self._connection(target.origin)
            try:
                return await self._exchange(connection, target, request)
            except BaseException:
                await self._drop(_host(target.origin))
                raise

    async def _exchange(self, connection: httpcore.AsyncHTTPConnection, url: httpcore.URL,
                        request: Request) -> Response:
        async with connection.stream(request.method, url, headers=_wire_headers(request),
                                     content=request.body or None) as response:
            encoding = _find(response.headers, b"content-encoding")
            cap = raw_cap(self._max_body, encoding)
            _check_length(response.headers, cap, self._max_body)
            chunks, size = [], 0
            async for chunk in response.aiter_stream():
                size += len(chunk)
                if cap is not None and size > cap:
                    raise BodyTooLarge(self._max_body or 0)
                chunks.append(chunk)
        return _httpcore_response(response, request.url, b"".join(chunks), encoding,
                                  self._max_body)

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


# --- the thread variant: limit threads, each with its own connections -------------------------
def fetch_all_threads(
    urls: Iterable[str | Request], *, limit: int = 10, timeout: float = 10.0,
    fail_fast: bool = False, retries: int = 0, retry_on: RetryOn = None,
    retry_budget: float | None = 0.2, max_per_second: float | None = None,
    limit_per_host: int | None = None, max_per_second_per_host: float | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    max_body: int | None = MAX_BODY,
    client: Literal["httptools", "httpcore"] | httpx.Client | SyncSend = "httptools",
) -> list[FetchResult]:
    """Fetch every request from *limit* threads, each owning its own connections.

    *limit* threads pull requests from the feed, so a long feed never becomes more than
    *limit* threads. A failing request becomes an error result and never stops the others,
    unless *fail_fast*. Threads cannot be cancelled from outside: on ``KeyboardInterrupt`` or a
    *fail_fast* error no new request starts, running requests finish, and every thread has
    ended before the call returns or raises.

    Args:
        urls: URL strings or ``Request`` objects: a list or any iterable, read lazily.
        limit: the most requests in flight at once, one thread each (>= 1).
        timeout: seconds allowed for each attempt, connection to last byte, redirects
            included (> 0). A blocking read cannot be interrupted: each connect and read
            waits at most what is left of it, so a read under way may end a little past it.
        fail_fast: raise the first failure instead of returning it as a result; requests
            already running finish first, and requests not yet started are dropped.
        retries: how many more times to try a request after a retryable failure (>= 0; 0 by
            default).
        retry_on: what is retryable. ``None`` (the default): a 429, 502, 503 or 504 answer, a
            connection error or a timeout. A collection of statuses (ints) and exception
            types: those statuses, and those exceptions (connection errors and timeouts when
            it names none). A predicate: called with each attempt's ``FetchResult``.
        retry_budget: the share of first attempts retries may add (>= 0; 0.2, 20 %, by
            default), plus 10 retries a call always has. ``None``: no budget.
        max_per_second: start at most this many requests a second (> 0), retries and
            redirect hops included, in the order they came. ``None``: no limit.
        limit_per_host: the most requests in flight to one host and port (>= 1).
        max_per_second_per_host: start at most this many requests a second to one host and
            port (> 0).
        headers: headers for every request that does not set them itself.
        max_body: the most bytes a body may have, decoded (>= 1; 32 MiB by default).
            ``None``: no cap.
        client: ``"httptools"``, the default, is the lean client (answers parsed by llhttp;
            HTTP/1.1 and TLS); ``"httpcore"`` the full one, parsed by h11 in pure Python at
            several times the CPU per request. Or your own ``httpx.Client`` (shared by the
            threads), or a function from ``Request`` to ``Response`` (called from every
            thread; the timeout cannot bound it). A client you pass is never closed.

    Returns:
        One ``FetchResult`` per request, in input order.

    Raises:
        FetchError: with ``fail_fast=True``, the first request that failed.
        TypeError, ValueError: for bad arguments, before any request is sent.
        MissingExtra: the HTTP clients are not installed (the ``[http]`` extra).
    """
    work = _thread_work(urls, client)
    feed, call = _feed(urls, limit=limit, timeout=timeout, fail_fast=fail_fast,
                       retries=retries, retry_on=retry_on, retry_budget=retry_budget,
                       max_per_second=max_per_second, limit_per_host=limit_per_host,
                       max_per_second_per_host=max_per_second_per_host, headers=headers,
                       max_body=max_body)
    results = _Results()
    engine.gather_threads(feed, call.limit, partial(work, _SyncFetch(call)), _raise, results.add,
                          name="fetch")
    return results.in_input_order()


@contextmanager
def fetch_stream_threads(
    urls: Iterable[str | Request], *, limit: int = 10, timeout: float = 10.0,
    fail_fast: bool = False, retries: int = 0, retry_on: RetryOn = None,
    retry_budget: float | None = 0.2, max_per_second: float | None = None,
    limit_per_host: int | None = None, max_per_second_per_host: float | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    max_body: int | None = MAX_BODY,
    client: Literal["httptools", "httpcore"] | httpx.Client | SyncSend = "httptools",
) -> Iterator[Iterator[FetchResult]]:
    """``with fetch_stream(urls) as results:`` yields each result as it finishes.

    *limit* threads pull requests from the feed, as ``fetch`` does, and take the same
    arguments, but the results come out as they finish: at most *limit* requests run and at
    most *limit* results wait to be read, so memory stays flat however long the feed. Leaving
    the block early stops the workers: no new request starts, running requests finish, and
    every thread has ended before the block is left.

    Args:
        urls: URL strings or ``Request`` objects: a list or any iterable, read lazily.
        limit: the most requests in flight at once, one thread each (>= 1).
        timeout: seconds allowed for each attempt, connection to last byte, redirects
            included (> 0). A blocking read cannot be interrupted: each connect and read
            waits at most what is left of it, so a read under way may end a little past it.
        fail_fast: raise the first failure instead of returning it as a result; requests
            already running finish first, and requests not yet started are dropped.
        retries: how many more times to try a request after a retryable failure (>= 0; 0 by
            default).
        retry_on: what is retryable. ``None`` (the default): a 429, 502, 503 or 504 answer, a
            connection error or a timeout. A collection of statuses (ints) and exception
            types: those statuses, and those exceptions (connection errors and timeouts when
            it names none). A predicate: called with each attempt's ``FetchResult``.
        retry_budget: the share of first attempts retries may add (>= 0; 0.2, 20 %, by
            default), plus 10 retries a call always has. ``None``: no budget.
        max_per_second: start at most this many requests a second (> 0), retries and
            redirect hops included, in the order they came. ``None``: no limit.
        limit_per_host: the most requests in flight to one host and port (>= 1).
        max_per_second_per_host: start at most this many requests a second to one host and
            port (> 0).
        headers: headers for every request that does not set them itself.
        max_body: the most bytes a body may have, decoded (>= 1; 32 MiB by default).
            ``None``: no cap.
        client: ``"httptools"``, the default, is the lean client (answers parsed by llhttp;
            HTTP/1.1 and TLS); ``"httpcore"`` the full one, parsed by h11 in pure Python at
            several times the CPU per request. Or your own ``httpx.Client`` (shared by the
            threads), or a function from ``Request`` to ``Response`` (called from every
            thread; the timeout cannot bound it). A client you pass is never closed.

    Yields:
        An iterator of ``FetchResult``, in the order the requests finished; each carries its
        ``index`` in the input.

    Raises:
        FetchError: with ``fail_fast=True``, the first request that failed.
        TypeError, ValueError: for bad arguments, before any request is sent.
        MissingExtra: the HTTP clients are not installed (the ``[http]`` extra).
    """
    work = _thread_work(urls, client)
    feed, call = _feed(urls, limit=limit, timeout=timeout, fail_fast=fail_fast,
                       retries=retries, retry_on=retry_on, retry_budget=retry_budget,
                       max_per_second=max_per_second, limit_per_host=limit_per_host,
                       max_per_second_per_host=max_per_second_per_host, headers=headers,
                       max_body=max_body)
    with engine.stream_threads(feed, call.limit, partial(work, _SyncFetch(call)), _raise, _as_is,
                               engine.buffered(call.limit), name="fetch") as results:
        yield results


def _thread_work(
    urls: object, client: Any,
) -> Callable[[_SyncFetch], AbstractContextManager[Callable[[int, Item], FetchResult]]]:
    """Checks what only threads refuse; then, given the call's fetch (one for all its threads:
    it holds the call's limiters), how each thread gets its connections."""
    if isinstance(urls, AsyncIterable) and not isinstance(urls, Iterable):
        raise TypeError("urls must be a plain iterable for threads, not an async iterable")
    kind = _client_kind(client, ("httptools", "httpcore"), sync=True)

    @contextmanager
    def work(fetch: _SyncFetch) -> Iterator[Callable[[int, Item], FetchResult]]:
        call = fetch.call
        if kind == "httpcore":
            with _ThreadConnections(call.max_body) as mine:
                yield partial(fetch, send=mine.send)
        elif kind == "httptools":
            with http1.SyncConnections(call.max_body) as lean:
                yield partial(fetch, send=lean.send)
        elif kind == "httpx":
            yield partial(fetch, send=partial(_send_httpx_sync, client, call.max_body))
        else:
            yield partial(fetch, send=partial(_send_callable_sync, client, call.max_body))

    return work


class _ThreadConnections(AbstractContextManager["_ThreadConnections"]):
    """One thread's httpcore connections, one per host, kept alive for the thread's life."""

    def __init__(self, max_body: int | None) -> None:
        self._open: OrderedDict[_Host, httpcore.HTTPConnection] = OrderedDict()
        self._max_body = max_body
        # Every socket operation waits only what is left of the request's deadline.
        self._network = network.Deadline()

    def __exit__(self, *exc_info: object) -> None:
        for connection in self._open.values():
            connection.close()
        self._open.clear()

    def _connect(self, origin: httpcore.Origin) -> tuple[httpcore.HTTPConnection, bool]:
        host = _host(origin)
        connection = self._open.get(host)
        if connection is not None and (connection.has_expired() or connection.is_closed()):
            self._open.pop(host).close()
            connection = None
        if connection is not None:
            self._open.move_to_end(host)
            return connection, True
        if len(self._open) >= _Connections.HOSTS:
            self._open.popitem(last=False)[1].close()  # the least recently used host
        connection = self._open[host] = httpcore.HTTPConnection(
            origin, network_backend=self._network)
        return connection, False

    def send(self, request: Request, deadline: float) -> Response:
        url = httpcore.URL(request.url)
        connection, reused = self._connect(url.origin)
        try:
            return self._exchange(connection, url, request, deadline)
        except (httpcore.RemoteProtocolError, httpcore.ReadError, httpcore.WriteError):
            self._drop(url.origin)
            if not reused or request.method not in IDEMPOTENT:
                raise
        except BaseException:
            self._drop(url.origin)
            raise
        # The server closed a kept-alive connection as we reused it: once more, afresh.
        try:
            return self._exchange(self._connect(url.origin)[0], url, request, deadline)
        except BaseException:
            self._drop(url.origin)
            raise

    def _drop(self, origin: httpcore.Origin) -> None:
        connection = self._open.pop(_host(origin), None)
        if connection is not None:
            connection.close()

    def _exchange(self, connection: httpcore.HTTPConnection, url: httpcore.URL,
                  request: Request, deadline: float) -> Response:
        self._network.deadline = deadline
        with connection.stream(request.method, url, headers=_wire_headers(request),
                               content=request.body or None) as response:
            encoding = _find(response.headers, b"content-encoding")
            cap = raw_cap(self._max_body, encoding)
            _check_length(response.headers, cap, self._max_body)
            chunks, size = [], 0
            for chunk in response.iter_stream():
                size += len(chunk)
                if cap is not None and size > cap:
                    raise BodyTooLarge(self._max_body or 0)
                chunks.append(chunk)
        return _httpcore_response(response, request.url, b"".join(chunks), encoding,
                                  self._max_body)


def _send_httpx_sync(client: httpx.Client, max_body: int | None, request: Request,
                     deadline: float) -> Response:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    built = client.build_request(request.method, request.url, headers=list(request.headers),
                                 content=request.body or None, timeout=left)
    response = client.send(built, stream=True, follow_redirects=False)
    try:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if max_body is not None and size > max_body:
                raise BodyTooLarge(max_body)
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise TimeoutError("timed out")
    finally:
        response.close()
    return Response(response.status_code, tuple(response.headers.multi_items()),
                    b"".join(chunks), str(response.url))


def _send_callable_sync(fn: SyncSend, max_body: int | None, request: Request,
                        deadline: float) -> Response:
    return _checked(fn(request), max_body)


# --- one request, with its redirects and retries: shared by every variant ---------------------

class _AsyncFetch:
    """One call's fetch of one request, for a worker on an event loop: each attempt follows
    its redirects, each request sent waits for the host's place and the rates; a failed
    attempt is retried as the policy says."""

    __slots__ = ("call", "model", "slots")

    def __init__(self, call: _Call, model: _Model) -> None:
        self.call, self.model = call, model
        self.slots = None if call.host_slots is None else \
            AsyncKeyedSlots(call.host_slots, model.event)

    async def __call__(self, index: int, item: Item, *, send: _Exchange) -> FetchResult:
        call, model = self.call, self.model
        request = _request(item, call.headers)
        start = time.perf_counter()
        policy = call.policy
        if policy is not None and policy.budget is not None:
            policy.budget.first_attempt()
        reasons: tuple[str, ...] = ()
        attempt = 1
        while True:
            try:
                outcome: Response | Exception = await self._attempt(request, send)
            except Exception as exc:  # any failure of this URL is this URL's result
                outcome = exc
            result = _result(request, index, start, outcome, attempt, reasons)
            if policy is None:
                return _final(result, None, call.fail_fast)
            wait, why_not = _retry_wait(policy, result, attempt)
            if wait is None:
                return _final(result, why_not, call.fail_fast)
            reasons += (_reason(result),)
            attempt += 1
            await model.sleep(wait)

    async def _attempt(self, request: Request, send: _Exchange) -> Response:
        call, model = self.call, self.model
        deadline = None
        for _ in range(MAX_REDIRECTS + 1):
            if self.slots is None:
                if call.host_pace is not None:
                    await model.acquire(call.host_pace.get(_host_key(request.url), model.clock()))
                if call.pace is not None:
                    await model.acquire(call.pace)  # every request sent waits for its slot
                if deadline is None:
                    deadline = model.clock() + call.timeout
                response = await send(request, deadline)
            else:
                key = _host_key(request.url)
                async with self.slots.hold(key):
                    if call.host_pace is not None:
                        await model.acquire(call.host_pace.get(key, model.clock()))
                    if call.pace is not None:
                        await model.acquire(call.pace)
                    if deadline is None:
                        deadline = model.clock() + call.timeout
                    response = await send(request, deadline)
            onward = follow(request, response)
            if onward is None:
                return response
            request = onward
        raise AnswerRefused(f"more than {MAX_REDIRECTS} redirects")


class _SyncFetch:
    """``_AsyncFetch`` for threads: the same steps, with blocking waits under one lock."""

    __slots__ = ("call", "lock", "slots")

    def __init__(self, call: _Call) -> None:
        self.call = call
        self.lock = threading.Lock()  # the rate limiters' reservations; never held asleep
        self.slots = None if call.host_slots is None else ThreadKeyedSlots(call.host_slots)

    def __call__(self, index: int, item: Item, *, send: _SyncExchange) -> FetchResult:
        call = self.call
        request = _request(item, call.headers)
        start = time.perf_counter()
        policy = call.policy
        if policy is not None and policy.budget is not None:
            policy.budget.first_attempt()
        reasons: tuple[str, ...] = ()
        attempt = 1
        while True:
            try:
                outcome: Response | Exception = self._attempt(request, send)
            except Exception as exc:
                outcome = exc
            result = _result(request, index, start, outcome, attempt, reasons)
            if policy is None:
                return _final(result, None, call.fail_fast)
            wait, why_not = _retry_wait(policy, result, attempt)
            if wait is None:
                return _final(result, why_not, call.fail_fast)
            reasons += (_reason(result),)
            attempt += 1
            time.sleep(wait)

    def _attempt(self, request: Request, send: _SyncExchange) -> Response:
        call = self.call
        deadline = None
        for _ in range(MAX_REDIRECTS + 1):
            key = _host_key(request.url) if call.host_pace is not None or self.slots is not None \
                else None
            with nullcontext() if self.slots is None else self.slots.hold(key):
                if call.host_pace is not None:
                    host_pace = call.host_pace
                    rate.acquire_threads_keyed(partial(host_pace.get, key), self.lock)
                if call.pace is not None:
                    rate.acquire_threads(call.pace, self.lock)
                if deadline is None:
                    deadline = time.monotonic() + call.timeout
                response = send(request, deadline)
            onward = follow(request, response)
            if onward is None:
                return response
            request = onward
        raise AnswerRefused(f"more than {MAX_REDIRECTS} redirects")


def _result(request: Request, index: int, start: float, outcome: Response | Exception,
            attempts: int, reasons: tuple[str, ...]) -> FetchResult:
    elapsed = time.perf_counter() - start
    url = request.url
    if isinstance(outcome, Exception):
        timed_out = _is_timeout(outcome)
        reason = "timed out" if timed_out else retrying.describe(outcome)
        error = FetchError(url, index, reason, timed_out=timed_out)
        error.__cause__ = outcome
        return FetchResult(url, None, b"", elapsed, error, None, index, attempts, (), reasons,
                           request)
    status = outcome.status
    failed = FetchError(url, index, f"HTTP {status}", status=status) \
        if status >= 500 or status == 429 else None
    return FetchResult(url, status, outcome.body, elapsed, failed, outcome.url, index, attempts,
                       outcome.headers, reasons, request)


def _final(result: FetchResult, why_not: str | None, fail_fast: bool) -> FetchResult:
    if why_not is not None and result.error is not None:
        old = result.error
        error = FetchError(old.url, old.index, f"{_reason(result)}; not retried: {why_not}",
                           status=old.status, timed_out=old.timed_out)
        error.__cause__ = old.__cause__
        result = replace(result, error=error)
    if fail_fast and result.error is not None:
        raise result.error
    return result


def _reason(result: FetchResult) -> str:
    error = result.error
    if error is not None and error.__cause__ is not None:
        return "timed out" if error.timed_out else retrying.describe(error.__cause__)
    return f"HTTP {result.status}"


def _retry_wait(policy: retrying.Policy, result: FetchResult,
                attempt: int) -> tuple[float | None, str | None]:
    """How long to wait before trying again, or ``None`` and why not, when this is final."""
    if attempt > policy.retries or not policy.wants(result):
        return None, None
    retry_after = None if result.status is None else _seconds(result.header("retry-after"))
    if retry_after is not None and retry_after > BACKOFF_CAP:
        return None, (f"Retry-After asks for {retry_after:.0f} s, more than the "
                      f"{BACKOFF_CAP:g} s a retry may wait")
    if policy.budget is not None and not policy.budget.take():
        return None, "the retry budget is spent"
    return (policy.backoff(attempt) if retry_after is None else retry_after), None


def _transient(result: FetchResult) -> bool:
    """The default ``retry_on``: 429, 502, 503, 504, a connection error or a timeout."""
    if result.status is not None:
        return result.status in RETRY_STATUSES
    error = result.error
    return error is not None and _transient_error(error.__cause__)


def _transient_error(exc: BaseException | None) -> bool:
    """A failure that asking again may cure: no connection, a timeout, a connection cut."""
    if exc is None or isinstance(exc, AnswerRefused):
        return False
    if isinstance(exc, TimeoutError | OSError):
        return True
    module = type(exc).__module__.partition(".")[0]
    if module == "aiohttp":
        return isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError)
    if module == "httpcore":
        return isinstance(exc, httpcore.NetworkError | httpcore.TimeoutException
                          | httpcore.RemoteProtocolError)
    if module == "httpx":
        return isinstance(exc, sys.modules["httpx"].TransportError)
    return module == "concurrency_patterns" and isinstance(exc, http1.ProtocolError)


def _classify(items: Iterable[object]) -> Callable[[FetchResult], bool]:
    """``retry_on`` as a collection: statuses, and exception types (connection errors and
    timeouts when it names none)."""
    statuses, kinds = set(), []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599:
            statuses.add(item)
        elif isinstance(item, type) and issubclass(item, BaseException):
            kinds.append(item)
        else:
            raise TypeError(f"retry_on must hold HTTP statuses and exception types, "
                            f"got {item!r}")
    chosen = tuple(kinds)

    def wants(result: FetchResult) -> bool:
        if result.status is not None:
            return result.status in statuses
        cause = None if result.error is None else result.error.__cause__
        return isinstance(cause, chosen) if chosen else _transient_error(cause)

    return wants


# --- shared helpers ----------------------------------------------------------------------------

_Host = tuple[bytes, bytes, int]  # scheme, host, port: httpcore.Origin is not hashable


def _host(origin: httpcore.Origin) -> _Host:
    return origin.scheme, origin.host, origin.port


def _host_key(url: str) -> tuple[str, int | None]:
    """What per-host limits count by: host and port."""
    return origin(url)[1:]


def _wire_headers(request: Request) -> list[tuple[bytes, bytes]]:
    """The headers httpcore sends (it adds ``Host`` from the URL)."""
    return [(n.encode("latin-1"), v.encode("latin-1")) for n, v in sent_headers(request)]


def _find(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _check_length(headers: list[tuple[bytes, bytes]], cap: int | None,
                  max_body: int | None) -> None:
    length = _find(headers, b"content-length")
    if cap is not None and length is not None and length.isdigit() and int(length) > cap:
        raise BodyTooLarge(max_body or 0, int(length))


def _httpcore_response(response: httpcore.Response, url: str, body: bytes,
                       encoding: str | None, max_body: int | None) -> Response:
    headers = tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in response.headers)
    return Response(response.status, headers, decode(body, encoding, max_body), url)


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
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        import datetime

        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - time.time())


def _is_timeout(exc: Exception) -> bool:
    return isinstance(exc, TimeoutError) or type(exc).__name__.endswith("Timeout")


def _raise(index: int, url: Item, exc: Exception) -> FetchResult:
    raise exc  # every URL's own failure is already its result: only fail_fast raises here


def _as_is(index: int, url: Item, result: FetchResult) -> FetchResult:
    return result


class _Results:
    """The list form: every result, put back in input order at the end."""

    def __init__(self) -> None:
        self._results: list[FetchResult] = []

    def add(self, index: int, url: Item, result: FetchResult) -> None:
        self._results.append(result)

    def in_input_order(self) -> list[FetchResult]:
        return sorted(self._results, key=lambda r: r.index)
