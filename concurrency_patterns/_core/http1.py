"""HTTP/1.1 GET over a worker's own connections, every response parsed by llhttp (``httptools``).

This is the fetch's lean client, for the case a service owner meets most: many GETs, each
worker one request at a time. What it costs per request is the parser's C code and a few
Python calls; the benchmark tables measure it against the full clients.

**What is llhttp's** (through ``httptools``, the parser under uvicorn): every byte of the
answer — the status line, headers, fixed-length, chunked and read-to-close bodies, interim
1xx answers, and whether the connection may be kept.

**What is ours**, and all of it: the request (a ``GET`` line with ``Host``, ``User-Agent``,
``Accept-Encoding: identity`` and ``Accept``), keeping a connection per host, closing it when
the answer says so, following redirects, and one retry on a fresh connection when a kept-alive
one turns out closed. It is deliberately small: GET over HTTP/1.1 and TLS; no proxies, no
cookies, no compression (it asks for none).

Three ways to move the bytes share the parser's side (``_Exchange``):

* ``AsyncConnections(protocol=True)`` — an ``asyncio.Protocol`` (``open_asyncio``): bytes reach
  the parser in the transport's own callback, with no task switch per read. asyncio only,
  uvloop too.
* ``AsyncConnections(protocol=False)`` — an anyio byte stream (``open_anyio``): trio, or
  asyncio through anyio.
* ``SyncConnections`` — blocking sockets, for threads.
"""

from __future__ import annotations

import asyncio
import functools
import re
import socket
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urljoin, urlsplit

import anyio
import anyio.abc
import httptools

__all__ = [
    "AsyncConnections",
    "ProtocolError",
    "Response",
    "SyncConnections",
    "open_anyio",
    "open_asyncio",
]

HOSTS = 8  # hosts a worker keeps a connection to; the least recently used one is closed
USER_AGENT = b"concurrency-patterns"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# What a request target may hold as it is; anything else (a space, non-ASCII) is %-encoded.
_SAFE = "/?#[]@!$&'()*+,;=-._~:%"


class ProtocolError(Exception):
    """The server's answer broke HTTP/1.1, ended before it was whole, or the URL cannot be
    fetched over HTTP (another scheme, no host, too many redirects)."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: list[tuple[bytes, bytes]]  # names as the server sent them
    body: bytes

    def header(self, name: bytes) -> str | None:
        """The first header called *name* (lower case), or ``None``."""
        for key, value in self.headers:
            if key.lower() == name:
                return value.decode("latin-1")
        return None


@dataclass(frozen=True, slots=True)
class _Target:
    host: str
    port: int
    tls: bool
    request: bytes  # the whole request, ready to send

    @property
    def key(self) -> tuple[str, int, bool]:
        return self.host, self.port, self.tls


# scheme, the authority (user, host, port), and the request target (path and query, no fragment)
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^#]*)")
_PLAIN = re.compile(r"[\x21-\x7e]*")  # a target with nothing to %-encode


def _target(url: str) -> _Target:
    """What to connect to and what to send for *url*: checked here, before any socket."""
    match = _URL.match(url)
    if match is None:
        raise ProtocolError(f"not an absolute http(s) URL: {url!r}")
    scheme, authority, path = match.groups()
    host, port, tls, shown = _origin(scheme.lower(), authority)
    if not path.startswith("/"):
        path = "/" + path  # "http://host" or "http://host?q"
    if _PLAIN.fullmatch(path) is None:
        path = quote(path, safe=_SAFE)  # a space, a non-ASCII character
    request = (b"GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n"
               b"Accept-Encoding: identity\r\n\r\n" % (path.encode("ascii"), shown, USER_AGENT))
    return _Target(host, port, tls, request)


@functools.lru_cache(maxsize=256)  # a worker asks for the same few hosts again and again
def _origin(scheme: str, authority: str) -> tuple[str, int, bool, bytes]:
    """Host, port, TLS or not, and the ``Host`` header, for ``scheme://authority``."""
    if scheme not in ("http", "https"):
        raise ProtocolError(f"unsupported scheme {scheme!r}")
    try:
        parts = urlsplit(f"{scheme}://{authority}")
        port = parts.port  # a port that is not a number raises ValueError
    except ValueError as exc:
        raise ProtocolError(f"bad host or port {authority!r}: {exc}") from None
    host = parts.hostname
    if not host:
        raise ProtocolError(f"no host in {scheme}://{authority}")
    if parts.username is not None:  # refused rather than dropped: this client sends no auth
        raise ProtocolError(f"credentials in a URL are not sent by this client: {host}")
    tls = scheme == "https"
    default = 443 if tls else 80
    try:
        ascii_host = host.encode("ascii")
    except UnicodeEncodeError:
        ascii_host = host.encode("idna")  # a name in another script, as DNS knows it
    shown = b"[" + ascii_host + b"]" if b":" in ascii_host else ascii_host
    if port is not None and port != default:
        shown += b":%d" % port
    return ascii_host.decode("ascii"), port or default, tls, shown


def _redirect(url: str, response: Response) -> str | None:
    """Where a redirect answer to *url* sends us next; ``None`` for any other answer."""
    location = response.header(b"location") if response.status in _REDIRECTS else None
    return None if location is None else urljoin(url, location)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the trusted certificates takes milliseconds: once per process, not per call.
    return ssl.create_default_context()


class _Exchange:
    """The parser's side of one connection: feed it bytes, it says when the answer is whole.

    Invariant: ``waiting`` is true from ``begin()`` until the answer is whole. Bytes arriving
    outside it — a server talking out of turn — mark the connection ``broken``, as does an
    answer that runs to the close.
    """

    __slots__ = ("_framed", "_head", "_keep", "_parser", "body", "broken", "headers", "waiting")

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.waiting = False
        self.broken = False
        self._head = False  # the status line and headers are read
        self._framed = False  # ... and say where the body ends (a length, or chunks)
        self._keep = False  # the answer lets the connection serve again

    def begin(self) -> None:
        self.headers, self.body = [], []
        self.waiting, self._head, self._framed, self._keep = True, False, False, False

    def feed(self, data: bytes) -> bool:
        """Parse *data*; ``True`` once the answer is whole. A malformed answer raises
        ``httptools.HttpParserError``."""
        if not self.waiting:
            self.broken = True
            return False
        self._parser.feed_data(data)
        return not self.waiting

    def eof(self) -> bool:
        """The server closed its side: ``True`` when that ends the answer (a body that runs
        to the close), ``False`` when it cut the answer short."""
        if self.waiting and self._head and not self._framed:
            self.waiting, self.broken = False, True
            return True
        return not self.waiting

    def response(self) -> Response:
        return Response(self._parser.get_status_code(), self.headers, b"".join(self.body))

    @property
    def reusable(self) -> bool:
        return self._keep and not (self.broken or self.waiting)

    # --- llhttp's callbacks ---------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._head = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self._parser.get_status_code() < 200:  # interim: the real answer follows
            self.headers, self.body, self._head, self._framed = [], [], False, False
            return
        # llhttp knows this only inside its callbacks: once the answer is complete, it forgets.
        self._keep = self._parser.should_keep_alive()
        self.waiting = False


_CUT_SHORT = "the server closed the connection before its answer was whole"


# --- asyncio: a protocol ----------------------------------------------------------------------

class _AsyncioConnection(asyncio.Protocol):
    """Bytes go to the parser from the transport's callback; the request's task waits on one
    future per request, woken once, when the answer is whole."""

    def __init__(self) -> None:
        self._exchange = _Exchange()
        self._transport: Any = None  # uvloop's transports are not asyncio.Transport
        self._waiter: asyncio.Future[None] | None = None
        self.closed = False
        # One timer serves many requests: armed for the first deadline, and when it fires
        # it fails the request only if *that request's* deadline has passed, else it re-arms
        # for it. Deadlines only move later, so with a 10 s timeout and 10 ms answers it fires
        # once in 10 s instead of being set and cancelled a thousand times.
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            whole = self._exchange.feed(data)
        except Exception as exc:  # a malformed answer
            self._wake(exc)
            self.close()
            return
        if whole:
            self._wake(None)

    def eof_received(self) -> bool:
        whole = self._exchange.eof()
        self._wake(None if whole else ProtocolError(_CUT_SHORT))
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake(exc or ProtocolError(_CUT_SHORT))

    def _arm(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        self._deadline = deadline
        if self._timer is not None and self._timer_at <= deadline:
            return  # it fires first and re-arms
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = loop.call_at(deadline, self._expire, loop), deadline

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        if self._waiter is None or self.closed:
            return  # idle: the next request arms it again
        if loop.time() >= self._deadline:
            self._wake(TimeoutError())
        else:
            self._arm(loop, self._deadline)

    def _wake(self, error: BaseException | None) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)

    async def request(self, target: _Target, deadline: float) -> Response:
        """Send the request; wait for the whole answer until the loop's clock reads
        *deadline*, then raise ``TimeoutError``. A timer shared by the requests (``_arm``)
        does what ``asyncio.timeout`` would, at a fraction of its cost per request."""
        self._exchange.begin()
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._arm(loop, deadline)
        try:
            self._transport.write(target.request)
            await self._waiter
        finally:
            self._waiter = None
        return self._exchange.response()

    @property
    def reusable(self) -> bool:
        return not self.closed and self._exchange.reusable

    def close(self) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._transport is not None:
            self._transport.close()

    async def aclose(self) -> None:
        self.close()


async def open_asyncio(target: _Target, deadline: float) -> _AsyncioConnection:
    """A connection on the running asyncio loop (uvloop's too), by the loop's *deadline*."""
    loop = asyncio.get_running_loop()
    tls = _tls_context() if target.tls else None
    async with asyncio.timeout_at(deadline):
        _, connection = await loop.create_connection(
            _AsyncioConnection, target.host, target.port, ssl=tls,
            server_hostname=target.host if tls else None)
    return connection


# --- anyio: a byte stream ---------------------------------------------------------------------

class _StreamConnection:
    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self._stream = stream
        self._exchange = _Exchange()
        self.closed = False

    async def request(self, target: _Target, deadline: float) -> Response:
        exchange = self._exchange
        exchange.begin()
        with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
            await self._stream.send(target.request)
            while True:
                try:
                    data = await self._stream.receive()
                except anyio.EndOfStream:
                    if exchange.eof():
                        break
                    raise ProtocolError(_CUT_SHORT) from None
                if exchange.feed(data):
                    break
        return exchange.response()

    @property
    def reusable(self) -> bool:
        return not self.closed and self._exchange.reusable

    async def aclose(self) -> None:
        self.closed = True
        with anyio.CancelScope(shield=True):  # close the socket, even when cancelled
            await self._stream.aclose()


async def open_anyio(target: _Target, deadline: float) -> _StreamConnection:
    """A connection on anyio's running backend, trio or asyncio, by anyio's *deadline*."""
    with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
        if target.tls:
            stream: anyio.abc.ByteStream = await anyio.connect_tcp(
                target.host, target.port, tls=True, ssl_context=_tls_context(),
                tls_hostname=target.host, tls_standard_compatible=False)
        else:
            stream = await anyio.connect_tcp(target.host, target.port)
    return _StreamConnection(stream)


# --- one worker's connections, over either -----------------------------------------------------

class _AsyncConnection(Protocol):
    @property
    def reusable(self) -> bool: ...
    async def request(self, target: _Target, deadline: float) -> Response: ...
    async def aclose(self) -> None: ...


# A kept-alive connection the server closed while it was idle fails like this when reused.
_RETRYABLE = (ProtocolError, OSError, anyio.BrokenResourceError, anyio.ClosedResourceError)


class AsyncConnections:
    """One worker's connections, one per host it meets (at most ``HOSTS``), kept alive.

    A worker sends one request at a time, so it needs no pool: this is the pool's job without
    the pool's bookkeeping. Each ``get`` — connecting, every redirect, every byte — must end
    within *timeout* seconds, or it raises ``TimeoutError``.

    Use ``async with AsyncConnections.open(...) as connections:``; leaving the block closes
    every connection.

    Args:
        timeout: seconds for each ``get``.
        max_redirects: redirects followed; one more raises ``ProtocolError``.
        protocol: ``True`` (asyncio only) for ``asyncio.Protocol`` connections; ``False`` for
            anyio byte streams, on either backend.
    """

    def __init__(self, timeout: float, max_redirects: int, protocol: bool) -> None:
        self._timeout = timeout
        self._max_redirects = max_redirects
        self._new: Callable[[_Target, float], Awaitable[_AsyncConnection]]
        if protocol:
            self._new, self._clock = open_asyncio, asyncio.get_running_loop().time
        else:
            self._new, self._clock = open_anyio, anyio.current_time
        # Invariant: every connection in here is the only one to its host, and idle.
        self._idle: OrderedDict[tuple[str, int, bool], _AsyncConnection] = OrderedDict()

    @classmethod
    @asynccontextmanager
    async def open(cls, timeout: float, max_redirects: int, *, protocol: bool,
                   ) -> AsyncIterator[AsyncConnections]:
        connections = cls(timeout, max_redirects, protocol)
        try:
            yield connections
        finally:
            for connection in connections._idle.values():
                await connection.aclose()
            connections._idle.clear()

    async def get(self, url: str) -> tuple[Response, str]:
        """GET *url*, following redirects: the final answer and the URL that gave it."""
        deadline = self._clock() + self._timeout
        for _ in range(self._max_redirects + 1):
            response = await self._request(_target(url), deadline)
            if (onward := _redirect(url, response)) is None:
                return response, url
            url = onward
        raise ProtocolError(f"more than {self._max_redirects} redirects")

    async def _request(self, target: _Target, deadline: float) -> Response:
        key = target.key
        connection = self._idle.get(key)
        if connection is not None:
            if connection.reusable:
                try:
                    response = await connection.request(target, deadline)
                except TimeoutError:
                    await self._drop(key)
                    raise
                except _RETRYABLE:
                    # The server closed a kept-alive connection as we reused it: once more,
                    # on a fresh one.
                    await self._drop(key)
                except BaseException:
                    await self._drop(key)  # a cancelled request leaves it unusable
                    raise
                else:
                    if not connection.reusable:
                        await self._drop(key)
                    elif len(self._idle) > 1:
                        self._idle.move_to_end(key)
                    return response
            else:
                await self._drop(key)
        connection = await self._new(target, deadline)
        try:
            response = await connection.request(target, deadline)
        except BaseException:
            await connection.aclose()
            raise
        if connection.reusable:
            self._idle[key] = connection
            if len(self._idle) > HOSTS:
                await self._idle.popitem(last=False)[1].aclose()  # the least recently used
        else:
            await connection.aclose()
        return response

    async def _drop(self, key: tuple[str, int, bool]) -> None:
        await self._idle.pop(key).aclose()


# --- threads: blocking sockets ----------------------------------------------------------------

class _SocketConnection:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._exchange = _Exchange()
        self.closed = False

    def request(self, target: _Target) -> Response:
        exchange = self._exchange
        exchange.begin()
        self._sock.sendall(target.request)
        while True:
            data = self._sock.recv(65536)  # socket.timeout (a TimeoutError) past the timeout
            if not data:
                if exchange.eof():
                    break
                raise ProtocolError(_CUT_SHORT)
            if exchange.feed(data):
                break
        return exchange.response()

    @property
    def reusable(self) -> bool:
        return not self.closed and self._exchange.reusable

    def close(self) -> None:
        self.closed = True
        self._sock.close()


class SyncConnections(AbstractContextManager["SyncConnections"]):
    """``AsyncConnections`` for one thread, with blocking sockets. A blocking call cannot be
    interrupted, so *timeout* bounds each phase — the connect, each read — not the whole."""

    def __init__(self, timeout: float, max_redirects: int) -> None:
        self._timeout = timeout
        self._max_redirects = max_redirects
        self._idle: OrderedDict[tuple[str, int, bool], _SocketConnection] = OrderedDict()

    def __exit__(self, *exc_info: object) -> None:
        for connection in self._idle.values():
            connection.close()
        self._idle.clear()

    def get(self, url: str) -> tuple[Response, str]:
        for _ in range(self._max_redirects + 1):
            response = self._request(_target(url))
            if (onward := _redirect(url, response)) is None:
                return response, url
            url = onward
        raise ProtocolError(f"more than {self._max_redirects} redirects")

    def _request(self, target: _Target) -> Response:
        connection = self._idle.pop(target.key, None)
        if connection is not None and connection.reusable:
            try:
                response = connection.request(target)
            except TimeoutError:  # an OSError too, but no sign of a closed connection
                connection.close()
                raise
            except (ProtocolError, OSError):
                connection.close()  # closed by the server while idle: once more, afresh
            except BaseException:
                connection.close()
                raise
            else:
                self._keep(target, connection)
                return response
        elif connection is not None:
            connection.close()
        connection = self._connect(target)
        try:
            response = connection.request(target)
        except BaseException:
            connection.close()
            raise
        self._keep(target, connection)
        return response

    def _connect(self, target: _Target) -> _SocketConnection:
        sock = socket.create_connection((target.host, target.port), timeout=self._timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if target.tls:
                sock = _tls_context().wrap_socket(sock, server_hostname=target.host)
        except BaseException:
            sock.close()
            raise
        return _SocketConnection(sock)

    def _keep(self, target: _Target, connection: _SocketConnection) -> None:
        if not connection.reusable:
            connection.close()
            return
        self._idle[target.key] = connection
        if len(self._idle) > HOSTS:
            self._idle.popitem(last=False)[1].close()
