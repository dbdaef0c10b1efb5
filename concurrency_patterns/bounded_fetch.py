"""Bounded concurrent fetch: get N URLs with at most ``limit`` requests in flight.

The classic Python version is ``aiohttp`` plus an ``asyncio.Semaphore`` around each request,
gathered in one event loop. Go writes the same thing
with a buffered channel used as a semaphore (or ``limit`` worker goroutines reading a channel of
URLs) and one shared ``http.Client``.

Every variant keeps the same promises:

* Results come back **in input order**, one ``FetchResult`` per URL, each with the status,
  the body and the time the request took once it got its slot.
* **At most** ``limit`` requests are in flight at any moment, and one client (one connection
  pool) serves the whole call.
* **Redirects** are followed by every variant, up to ``MAX_REDIRECTS`` (10) for one URL;
  ``FetchResult.final_url`` is where the answer came from. An 11th redirect makes the URL an
  error result. (Go's ``http.Client`` gives up at its 10th.)
* ``timeout`` bounds each request. A refused connection, a timeout or a 5xx answer becomes an
  error result; one bad URL never loses the others. A 4xx answer is a result, not an error: the
  server answered, and asking again will not change it.
* With ``fail_fast=True`` the first failure cancels the requests still running and is raised as
  ``FetchError``.
* Cancelling the call cancels every request it started; nothing outlives it.

Which to pick:

* ``fetch_all_anyio`` (anyio + ``CapacityLimiter`` + a task group) is the one to import:
  it runs on asyncio, with aiohttp, and on trio, with httpx (the ``[trio]`` extra).
* ``fetch_all_asyncio`` (asyncio + aiohttp + ``Semaphore``) is the classic idiom and the
  fastest client here; it runs on asyncio only.
* ``fetch_all_threads`` (a ``ThreadPoolExecutor`` and a blocking client) fits code that is
  not async. Threads cost far more than tasks, so keep ``limit`` in the tens.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
import anyio

from ._core import check_positive_int, check_positive_number, unwrap_group

if TYPE_CHECKING:
    import httpx

__all__ = [
    "MAX_REDIRECTS",
    "FetchError",
    "FetchResult",
    "fetch_all_anyio",
    "fetch_all_asyncio",
    "fetch_all_threads",
]


MAX_REDIRECTS = 10  # redirects followed per URL, by every variant; one more is an error


class FetchError(Exception):
    """One URL could not be fetched: no answer, a timeout, or a 5xx status.

    Attributes:
        url: the URL that failed.
        index: its position in the input list.
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

    ``elapsed`` counts from the moment the request got its slot (not the time spent waiting
    for one) to the end of the body, in seconds. ``final_url`` is the URL that answered, after
    any redirects (``None`` when no answer arrived).
    """

    url: str
    status: int | None
    body: bytes
    elapsed: float
    error: FetchError | None = field(default=None, compare=False)
    final_url: str | None = None

    @property
    def ok(self) -> bool:
        """``True`` when the server answered with a status below 500."""
        return self.error is None

    @property
    def size(self) -> int:
        """The body's length in bytes."""
        return len(self.body)


# --- the asyncio variant: aiohttp + asyncio.Semaphore ------------------------------------------
# --8<-- [start:asyncio]
async def fetch_all_asyncio(
    urls: Sequence[str], *, limit: int = 10, timeout: float = 10.0, fail_fast: bool = False,
) -> list[FetchResult]:
    """Fetch every URL with asyncio and aiohttp, at most *limit* at a time.

    One session (one connection pool of *limit* connections) serves the whole call. A failing
    URL becomes an error result and never stops the others, unless *fail_fast*. Cancelling
    the call (``asyncio.timeout`` around it, a cancelled task) cancels every request it
    started before the cancellation goes on.

    Args:
        urls: the URLs, as a list or other sequence of strings.
        limit: the most requests in flight at once (>= 1).
        timeout: seconds allowed for each request, connection to last byte (> 0).
        fail_fast: raise the first failure instead of returning it as a result.

    Returns:
        One ``FetchResult`` per URL, in input order.

    Raises:
        FetchError: with ``fail_fast=True``, the first URL that failed.
        TypeError, ValueError: for bad arguments, before any request is sent.
    """
    urls = _check_args(urls, limit, timeout)
    results: list[FetchResult | None] = [None] * len(urls)
    # The semaphore is the bound; the connector's pool is sized to match so that no request
    # waits for a connection while holding a slot.
    semaphore = asyncio.Semaphore(limit)
    connector = aiohttp.TCPConnector(limit=limit)
    client_timeout = aiohttp.ClientTimeout(total=timeout)

    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:

        async def fetch_one(index: int, url: str) -> None:
            async with semaphore:
                result = await _get_aiohttp(session, index, url)
            results[index] = result
            if fail_fast and result.error is not None:
                raise result.error

        try:
            # TaskGroup, not gather: if one task raises (fail_fast) or the caller is cancelled,
            # every other task is cancelled and awaited before we return.
            async with asyncio.TaskGroup() as tg:
                for index, url in enumerate(urls):
                    tg.create_task(fetch_one(index, url))
        except BaseExceptionGroup as group:
            _raise_first_fetch_error(group)
    return _finished(results)


async def _get_aiohttp(session: aiohttp.ClientSession, index: int, url: str) -> FetchResult:
    start = time.perf_counter()
    try:
        # aiohttp stops at its max_redirects-th redirect; the others follow that many.
        async with session.get(url, max_redirects=MAX_REDIRECTS + 1) as response:
            body = await response.read()
            status = response.status
            final_url = str(response.url)
    except Exception as exc:  # any failure of this URL is this URL's result, not the call's
        return _failed(url, index, start, exc, timed_out=isinstance(exc, TimeoutError))
    return _answered(url, index, start, status, body, final_url)
# --8<-- [end:asyncio]


# --- the anyio variant: httpx + CapacityLimiter, runs on asyncio and trio ---------------------
# --8<-- [start:anyio]
async def fetch_all_anyio(
    urls: Sequence[str], *, limit: int = 10, timeout: float = 10.0, fail_fast: bool = False,
    client: Literal["auto", "aiohttp", "httpx"] = "auto",
) -> list[FetchResult]:
    """Fetch every URL with anyio, at most *limit* at a time, on asyncio or trio.

    Same arguments, results and errors as ``fetch_all_asyncio``, plus:

    Cancelling the call (a cancelled task group, ``anyio.fail_after`` around it) cancels
    every request it started before the cancellation goes on.

    Args:
        client: the HTTP client. ``"auto"`` takes aiohttp on asyncio and httpx on trio (httpx
            needs the ``[trio]`` extra). Pass ``"httpx"`` on asyncio when the same client on
            both backends matters more than speed (httpx's behaviour, for example on
            redirects, differs from aiohttp's). It costs: at high concurrency httpx's
            connection pool rescans every connection for every queued request, so at
            ``limit=100`` it spends most of its time there.

    Raises:
        FetchError: with ``fail_fast=True``, the first URL that failed.
        TypeError, ValueError: for bad arguments, before any request is sent; also
            ``client="aiohttp"`` on trio.
    """
    urls = _check_args(urls, limit, timeout)
    if client not in ("auto", "aiohttp", "httpx"):
        raise ValueError(f"client must be 'auto', 'aiohttp' or 'httpx', got {client!r}")
    on_asyncio = _running_on_asyncio()
    if client == "aiohttp" and not on_asyncio:
        raise ValueError("client='aiohttp' needs asyncio; on trio use 'httpx' or 'auto'")
    results: list[FetchResult | None] = [None] * len(urls)
    limiter = anyio.CapacityLimiter(limit)

    async with _anyio_client(client == "httpx" or not on_asyncio, limit, timeout) as get:

        async def fetch_one(index: int, url: str) -> None:
            try:
                limiter.acquire_nowait()  # a free slot: take it without a scheduler pass
            except anyio.WouldBlock:
                await limiter.acquire()
            try:
                result = await get(index, url)
            finally:
                limiter.release()
            results[index] = result
            if fail_fast and result.error is not None:
                raise result.error

        try:
            async with anyio.create_task_group() as tg:
                for index, url in enumerate(urls):
                    tg.start_soon(fetch_one, index, url)
        except BaseExceptionGroup as group:
            _raise_first_fetch_error(group)
    return _finished(results)


Getter = Callable[[int, str], Awaitable[FetchResult]]


@asynccontextmanager
async def _anyio_client(use_httpx: bool, limit: int, timeout: float) -> AsyncIterator[Getter]:
    """One client for the whole call, and a function that gets one URL with it."""
    if not use_httpx:
        connector = aiohttp.TCPConnector(limit=limit)
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
            yield partial(_get_aiohttp, session)
        return
    httpx = _import_httpx()
    pool = httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
    async with httpx.AsyncClient(limits=pool, timeout=timeout, follow_redirects=True,
                                 max_redirects=MAX_REDIRECTS) as http:
        yield partial(_get_httpx, http, timeout=timeout)


async def _get_httpx(
    client: httpx.AsyncClient, index: int, url: str, *, timeout: float,
) -> FetchResult:
    start = time.perf_counter()
    try:
        # httpx's timeout applies to each phase (connect, each read); fail_after bounds the
        # whole request, as aiohttp's ``total`` does.
        with anyio.fail_after(timeout):
            response = await client.get(url)
    except Exception as exc:
        return _failed(url, index, start, exc, timed_out=_is_timeout(exc))
    return _answered(url, index, start, response.status_code, response.content,
                     str(response.url))


def _running_on_asyncio() -> bool:
    try:
        return asyncio.current_task() is not None
    except RuntimeError:  # no asyncio loop running in this thread: trio
        return False
# --8<-- [end:anyio]


# --- the thread variant: ThreadPoolExecutor + a blocking client -------------------------------
# --8<-- [start:threads]
def fetch_all_threads(
    urls: Sequence[str], *, limit: int = 10, timeout: float = 10.0, fail_fast: bool = False,
) -> list[FetchResult]:
    """Fetch every URL from *limit* threads sharing one blocking httpx client.

    Same arguments, results and errors as ``fetch_all_asyncio``. A blocking call cannot be
    interrupted, so ``timeout`` bounds each phase of a request (connect, each read) rather than
    the whole of it, and with ``fail_fast=True`` requests already running finish before the
    error is raised (requests not yet started are dropped). Requires httpx.
    """
    urls = _check_args(urls, limit, timeout)
    httpx = _import_httpx()
    pool = httpx.Limits(max_connections=limit, max_keepalive_connections=limit)

    def fetch_one(index: int, url: str) -> FetchResult:
        start = time.perf_counter()
        try:
            response = client.get(url)
        except Exception as exc:
            return _failed(url, index, start, exc, timed_out=_is_timeout(exc))
        return _answered(url, index, start, response.status_code, response.content,
                         str(response.url))

    # httpx.Client is thread-safe: one client, one connection pool, for every thread.
    with httpx.Client(limits=pool, timeout=timeout, follow_redirects=True,
                      max_redirects=MAX_REDIRECTS) as client, \
            ThreadPoolExecutor(max_workers=limit, thread_name_prefix="fetch") as executor:
        futures = [executor.submit(fetch_one, i, url) for i, url in enumerate(urls)]
        if fail_fast:
            _raise_first_thread_failure(futures)
        return [f.result() for f in futures]


def _raise_first_thread_failure(futures: list[Future[FetchResult]]) -> None:
    for future in as_completed(futures):
        error = future.result().error
        if error is not None:
            for other in futures:
                other.cancel()  # requests not started yet are dropped; running ones finish
            raise error
# --8<-- [end:threads]


# --- shared helpers ----------------------------------------------------------------------------

def _check_args(urls: Sequence[str], limit: int, timeout: float) -> list[str]:
    # A single URL passed by mistake would otherwise be fetched one character at a time.
    if isinstance(urls, str | bytes) or not isinstance(urls, Sequence):
        raise TypeError(f"urls must be a sequence of URL strings, got {type(urls).__name__}")
    for i, url in enumerate(urls):
        if not isinstance(url, str):
            raise TypeError(f"urls[{i}] must be a str, got {type(url).__name__}: {url!r}")
    check_positive_int("limit", limit)
    check_positive_number("timeout", timeout)
    return list(urls)


def _answered(
    url: str, index: int, start: float, status: int, body: bytes, final_url: str,
) -> FetchResult:
    elapsed = time.perf_counter() - start
    error = FetchError(url, index, f"HTTP {status}", status=status) if status >= 500 else None
    return FetchResult(url, status, body, elapsed, error, final_url)


def _failed(url: str, index: int, start: float, exc: Exception, *, timed_out: bool) -> FetchResult:
    reason = "timed out" if timed_out else f"{type(exc).__name__}: {exc}"
    error = FetchError(url, index, reason, timed_out=timed_out)
    error.__cause__ = exc
    return FetchResult(url, None, b"", time.perf_counter() - start, error)


def _is_timeout(exc: Exception) -> bool:
    return isinstance(exc, TimeoutError) or type(exc).__name__.endswith("Timeout")


def _finished(results: list[FetchResult | None]) -> list[FetchResult]:
    done = [r for r in results if r is not None]
    assert len(done) == len(results), "every task stores its result before it ends"
    return done


def _raise_first_fetch_error(group: BaseExceptionGroup[Any]) -> None:
    error = unwrap_group(group, FetchError)
    if error is None:
        raise group
    raise error from error.__cause__


def _import_httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "this variant needs httpx: pip install 'concurrency-patterns[trio]'"
        ) from exc
    return httpx
