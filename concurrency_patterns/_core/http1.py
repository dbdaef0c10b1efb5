"""HTTP/1.1 over a worker's own connections, every answer parsed by llhttp (``httptools``).

This is the fetch's lean client, for the case a service owner meets most: many requests, each
worker one at a time. What it costs per request is the parser's C code and a few Python calls;
the benchmark tables measure it against the full clients.

**What is llhttp's** (through ``httptools``, the parser under uvicorn): every byte of the
answer — the status line, headers, fixed-length, chunked and read-to-close bodies, interim
1xx answers, and whether the connection may be kept.

**What is ours**, and all of it: the request (any method, the caller's headers, a body with
its ``Content-Length``; ``Host``, ``User-Agent``, ``Accept`` and ``Accept-Encoding: identity``
unless the caller sets them), keeping a connection per host, closing it when the answer says
so, the caps on an answer's head and body, and one retry on a fresh connection when a
kept-alive one turns out closed. Redirects, decoding gzip and deflate, and retries belong to
the fetch (``_core/http.py``), the same for every client. It is deliberately small: HTTP/1.1
and TLS; no proxies, no cookies, no chunked uploads.

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
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import anyio
import anyio.abc
import httptools

from .http import (
    IDEMPOTENT,
    MAX_HEAD,
    MAX_HEADERS,
    AnswerRefused,
    BodyTooLarge,
    Request,
    Response,
    decode,
    sent_headers,
)
from .http import raw_cap as _raw_cap

__all__ = [
    "AsyncConnections",
    "InvalidURL",
    "ProtocolError",
    "SyncConnections",
    "open_anyio",
    "open_asyncio",
]

HOSTS = 8  # hosts a worker keeps a connection to; the least recently used one is closed
# What a request target may hold as it is; anything else (a space, non-ASCII) is %-encoded.
_SAFE = "/?#[]@!$&'()*+,;=-._~:%"


class ProtocolError(Exception):
    """The server's answer broke HTTP/1.1 or ended before it was whole."""


class InvalidURL(AnswerRefused):
    """The URL cannot be fetched over HTTP: another scheme, no host, a bad port."""


@dataclass(frozen=True, slots=True)
class _Target:
    host: str
    port: int
    tls: bool
    request: bytes  # the whole request, ready to send
    url: str
    head: bool  # a HEAD request: the answer has no body, whatever its headers say
    idempotent: bool  # safe to send again when a kept-alive connection turns out closed

    @property
    def key(self) -> tuple[str, int, bool]:
        return self.host, self.port, self.tls


# scheme, the authority (user, host, port), and the request target (path and query, no fragment)
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^#]*)")
_PLAIN = re.compile(r"[\x21-\x7e]*")  # a target with nothing to %-encode


def _target(request: Request) -> _Target:
    """What to connect to and what to send for *request*: checked here, before any socket."""
    url = request.url
    match = _URL.match(url)
    if match is None:
        raise InvalidURL(f"not an absolute http(s) URL: {url!r}")
    scheme, authority, path = match.groups()
    host, port, tls, shown = _origin(scheme.lower(), authority)
    if not path.startswith("/"):
        path = "/" + path  # "http://host" or "http://host?q"
    if _PLAIN.fullmatch(path) is None:
        path = quote(path, safe=_SAFE)  # a space, a non-ASCII character
    lines = [f"{request.method} {path} HTTP/1.1", f"Host: {shown}"]
    lines += [f"{name}: {value}" for name, value in sent_headers(request)]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return _Target(host, port, tls, head + request.body, url, request.method == "HEAD",
                   request.method in IDEMPOTENT)


@functools.lru_cache(maxsize=256)  # a worker asks for the same few hosts again and again
def _origin(scheme: str, authority: str) -> tuple[str, int, bool, str]:
    """Host, port, TLS or not, and the ``Host`` header, for ``scheme://authority``."""
    if scheme not in ("http", "https"):
        raise InvalidURL(f"unsupported scheme {scheme!r}")
    try:
        parts = urlsplit(f"{scheme}://{authority}")
        port = parts.port  # a port that is not a number raises ValueError
    except ValueError as exc:
        raise InvalidURL(f"bad host or port {authority!r}: {exc}") from None
    host = parts.hostname
    if not host:
        raise InvalidURL(f"no host in {scheme}://{authority}")
    if parts.username is not None:  # refused rather than dropped: pass an Authorization header
        raise InvalidURL(f"credentials in a URL are not sent by this client: {host}")
    tls = scheme == "https"
    default = 443 if tls else 80
    try:
        ascii_host = host.encode("ascii").decode("ascii")
    except UnicodeEncodeError:
        # A name in another script, as DNS knows it.
        ascii_host = host.encode("idna").decode("ascii")
    shown = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    if port is not None and port != default:
        shown += f":{port}"
    return ascii_host, port or default, tls, shown


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the trusted certificates takes milliseconds: once per process, not per call.
    return ssl.create_default_context()


class _HeadDone(Exception):
    """Raised from llhttp's callback to stop at the end of a HEAD answer's head: llhttp cannot
    be told that a body the headers announce will not come."""


class _Exchange:
    """The parser's side of one connection: feed it bytes, it says when the answer is whole.

    Invariant: ``waiting`` is true from ``begin()`` until the answer is whole. Bytes arriving
    outside it — a server talking out of turn — mark the connection ``broken``, as does an
    answer that runs to the close, a HEAD answer (the parser is spent) and an answer past a cap.
    """

    __slots__ = ("_cap", "_framed", "_head", "_head_bytes", "_is_head", "_keep", "_max_body",
                 "_parser", "_size", "body", "broken", "error", "headers", "waiting")

    def __init__(self, max_body: int | None) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._max_body = max_body
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.waiting = False
        self.broken = False
        self.error: Exception | None = None  # what one of llhttp's callbacks refused
        self._head = False  # the status line and headers are read
        self._framed = False  # ... and say where the body ends (a length, or chunks)
        self._keep = False  # the answer lets the connection serve again
        self._is_head = False
        self._head_bytes = 0
        self._size = 0
        self._cap: int | None = None

    def begin(self, head: bool = False) -> None:
        self.headers, self.body = [], []
        self.waiting, self._head, self._framed, self._keep = True, False, False, False
        self._is_head, self._head_bytes, self._size, self._cap = head, 0, 0, self._max_body

    def feed(self, data: bytes) -> bool:
        """Parse *data*; ``True`` once the answer is whole. A malformed answer raises
        ``httptools.HttpParserError``; one past a cap, ``AnswerRefused``."""
        if not self.waiting:
            self.broken = True
            return False
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError:
            self.broken = True
            error, self.error = self.error, None
            if isinstance(error, _HeadDone):
                self.waiting = False
                return True
            if error is not None:
                raise error from None
            raise
        if not self._head:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD:
                self.broken = True
                raise AnswerRefused(f"the answer's head is larger than {MAX_HEAD} bytes")
        return not self.waiting

    def eof(self) -> bool:
        """The server closed its side: ``True`` when that ends the answer (a body that runs
        to the close), ``False`` when it cut the answer short."""
        if self.waiting and self._head and not self._framed:
            self.waiting, self.broken = False, True
            return True
        return not self.waiting

    def response(self, url: str) -> Response:
        headers = tuple((name.decode("latin-1"), value.decode("latin-1"))
                        for name, value in self.headers)
        body = b"".join(self.body)
        self.body = []
        encoding = None
        for name, value in headers:
            if name.lower() == "content-encoding":
                encoding = value
        body = decode(body, encoding, self._max_body)
        return Response(self._parser.get_status_code(), headers, body, url)

    @property
    def reusable(self) -> bool:
        return self._keep and not (self.broken or self.waiting)

    # --- llhttp's callbacks: an exception here stops the parser, and feed() raises it -------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        if len(self.headers) > MAX_HEADERS:
            self.error = AnswerRefused(f"the answer has more than {MAX_HEADERS} headers")
            raise self.error
        lower = name.lower()
        if lower in (b"content-length", b"transfer-encoding"):
            self._framed = True
        if lower == b"content-encoding" and self._max_body is not None:
            self._cap = _raw_cap(self._max_body, value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        self._head = True
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            return
        if self._is_head:  # no body follows, whatever Content-Length says
            self._keep = self._parser.should_keep_alive()
            self.error = _HeadDone()
            raise self.error
        if self._cap is not None:
            for name, value in self.headers:
                if name.lower() == b"content-length" and value.isdigit() \
                        and int(value) > self._cap:
                    self.error = BodyTooLarge(self._max_body or 0, int(value))
                    raise self.error

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._cap is not None and self._size > self._cap:
            self.error = BodyTooLarge(self._max_body or 0)
            raise self.error
        self.body.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self._parser.get_status_code() < 200:  # interim: the real answer follows
            self.headers, self.body, self._head, self._framed = [], [], False, False
            self._head_bytes = 0
            return
        # llhttp knows this only inside its callbacks: once the answer is complete, it forgets.
        self._keep = self._parser.should_keep_alive()
        self.waiting = False


_CUT_SHORT = "the server closed the connection before its answer was whole"


# --- asyncio: a protocol ----------------------------------------------------------------------

class _AsyncioConnection(asyncio.Protocol):
    """Bytes go to the parser from the transport's callback; the request's task waits on one
    future per request, woken once, when the answer is whole."""

    def __init__(self, max_body: int | None) -> None:
        self._exchange = _Exchange(max_body)
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
        self._exchange.begin(target.head)
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._arm(loop, deadline)
        try:
            self._transport.write(target.request)
            await self._waiter
        finally:
            self._waiter = None
        return self._exchange.response(target.url)

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


async def open_asyncio(target: _Target, deadline: float,
                       max_body: int | None) -> _AsyncioConnection:
    """A connection on the running asyncio loop (uvloop's too), by the loop's *deadline*."""
    loop = asyncio.get_running_loop()
    tls = _tls_context() if target.tls else None
    async with asyncio.timeout_at(deadline):
        _, connection = await loop.create_connection(
            functools.partial(_AsyncioConnection, max_body), target.host, target.port, ssl=tls,
            server_hostname=target.host if tls else None)
    return connection


# --- anyio: a byte stream ---------------------------------------------------------------------

class _StreamConnection:
    def __init__(self, stream: anyio.abc.ByteStream, max_body: int | None) -> None:
        self._stream = stream
        self._exchange = _Exchange(max_body)
        self.closed = False

    async def request(self, target: _Target, deadline: float) -> Response:
        exchange = self._exchange
        exchange.begin(target.head)
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
        return exchange.response(target.url)

    @property
    def reusable(self) -> bool:
        return not self.closed and self._exchange.reusable

    async def aclose(self) -> None:
        self.closed = True
        with anyio.CancelScope(shield=True):  # close the socket, even when cancelled
            await self._stream.aclose()


async def open_anyio(target: _Target, deadline: float,
                     max_body: int | None) -> _StreamConnection:
    """A connection on anyio's running backend, trio or asyncio, by anyio's *deadline*."""
    with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
        if target.tls:
            stream: anyio.abc.ByteStream = await anyio.connect_tcp(
                target.host, target.port, tls=True, ssl_context=_tls_context(),
                tls_hostname=target.host, tls_standard_compatible=False)
        else:
            stream = await anyio.connect_tcp(target.host, target.port)
    return _StreamConnection(stream, max_body)


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
    the pool's bookkeeping. Each ``send`` — connecting, every byte — must end by its deadline
    (the clock's time, as ``clock()`` reads it), or it raises ``TimeoutError``.

    Use ``async with AsyncConnections.open(...) as connections:``; leaving the block closes
    every connection.

    Args:
        max_body: the most bytes a body may have, decoded (``None``: no cap).
        protocol: ``True`` (asyncio only) for ``asyncio.Protocol`` connections; ``False`` for
            anyio byte streams, on either backend.
    """

    def __init__(self, max_body: int | None, protocol: bool) -> None:
        self._max_body = max_body
        self._new: Callable[[_Target, float, int | None], Awaitable[_AsyncConnection]]
        if protocol:
            self._new, self.clock = open_asyncio, asyncio.get_running_loop().time
        else:
            self._new, self.clock = open_anyio, anyio.current_time
        # Invariant: every connection in here is the only one to its host, and idle.
        self._idle: OrderedDict[tuple[str, int, bool], _AsyncConnection] = OrderedDict()

    @classmethod
    @asynccontextmanager
    async def open(cls, max_body: int | None, *, protocol: bool,
                   ) -> AsyncIterator[AsyncConnections]:
        connections = cls(max_body, protocol)
        try:
            yield connections
        finally:
            for connection in connections._idle.values():
                await connection.aclose()
            connections._idle.clear()

    async def send(self, request: Request, deadline: float) -> Response:
        """One exchange: send *request*, return the answer (a redirect is not followed)."""
        return await self._request(_target(request), deadline)

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
                    if not target.idempotent:
                        raise
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
        connection = await self._new(target, deadline, self._max_body)
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
    def __init__(self, sock: socket.socket, max_body: int | None) -> None:
        self._sock = sock
        self._exchange = _Exchange(max_body)
        self.closed = False

    def request(self, target: _Target, deadline: float) -> Response:
        exchange = self._exchange
        exchange.begin(target.head)
        self._sock.settimeout(_left(deadline))
        self._sock.sendall(target.request)
        while True:
            # Each read may take only what is left of the deadline, so a server that trickles
            # bytes forever is cut off too, not only one that goes silent.
            self._sock.settimeout(_left(deadline))
            data = self._sock.recv(65536)  # socket.timeout (a TimeoutError) past the deadline
            if not data:
                if exchange.eof():
                    break
                raise ProtocolError(_CUT_SHORT)
            if exchange.feed(data):
                break
        return exchange.response(target.url)

    @property
    def reusable(self) -> bool:
        return not self.closed and self._exchange.reusable

    def close(self) -> None:
        self.closed = True
        self._sock.close()


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


class SyncConnections(AbstractContextManager["SyncConnections"]):
    """``AsyncConnections`` for one thread, with blocking sockets. Each ``send`` ends by its
    deadline (``time.monotonic()``): every connect and read waits only what is left of it."""

    clock = staticmethod(time.monotonic)

    def __init__(self, max_body: int | None) -> None:
        self._max_body = max_body
        self._idle: OrderedDict[tuple[str, int, bool], _SocketConnection] = OrderedDict()

    def __exit__(self, *exc_info: object) -> None:
        for connection in self._idle.values():
            connection.close()
        self._idle.clear()

    def send(self, request: Request, deadline: float) -> Response:
        """One exchange: send *request*, return the answer (a redirect is not followed)."""
        target = _target(request)
        connection = self._idle.pop(target.key, None)
        if connection is not None and connection.reusable:
            try:
                response = connection.request(target, deadline)
            except TimeoutError:  # an OSError too, but no sign of a closed connection
                connection.close()
                raise
            except (ProtocolError, OSError):
                connection.close()  # closed by the server while idle: once more, afresh
                if not target.idempotent:
                    raise
            except BaseException:
                connection.close()
                raise
            else:
                self._keep(target, connection)
                return response
        elif connection is not None:
            connection.close()
        connection = self._connect(target, deadline)
        try:
            response = connection.request(target, deadline)
        except BaseException:
            connection.close()
            raise
        self._keep(target, connection)
        return response

    def _connect(self, target: _Target, deadline: float) -> _SocketConnection:
        sock = socket.create_connection((target.host, target.port), timeout=_left(deadline))
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if target.tls:
                sock = _tls_context().wrap_socket(sock, server_hostname=target.host)
        except BaseException:
            sock.close()
            raise
        return _SocketConnection(sock, self._max_body)

    def _keep(self, target: _Target, connection: _SocketConnection) -> None:
        if not connection.reusable:
            connection.close()
            return
        self._idle[target.key] = connection
        if len(self._idle) > HOSTS:
            self._idle.popitem(last=False)[1].close()
