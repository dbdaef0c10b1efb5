"""httpcore's network layer on anyio, without a cancel scope around every read and write.

httpcore talks to sockets through a *network backend* (``httpcore.AsyncNetworkBackend``, its
documented extension point). The stock backends bound each read and each write with a deadline
of its own: ``with anyio.fail_after(timeout):`` (``trio.fail_after`` on trio), entered even when
the timeout is ``None``, and a request makes several of them. On 1,000 requests by 100 workers,
leaving them out saved 10–20% of the CPU a request takes, on trio and on asyncio alike.

The fetch needs none of those scopes: one deadline bounds each whole attempt (connect, write,
read, redirects), so this backend takes no per-operation timeout from the caller, and applies
one only when it is given. Everything else is the stock anyio backend's behaviour: the same
exceptions (``httpcore.ConnectError``, ``ReadError``, ``WriteError`` and the timeouts), TLS
through ``anyio.streams.tls``, and the socket details httpcore asks for.
"""

from __future__ import annotations

import select
import ssl
from collections.abc import Iterable
from typing import Any

import anyio
import anyio.abc
import anyio.streams.tls
import httpcore

__all__ = ["UNSCOPED", "Deadline"]


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            if timeout is None:  # the fetch's case: its attempt deadline bounds this read
                return await self._stream.receive(max_bytes)
            with anyio.fail_after(timeout):
                return await self._stream.receive(max_bytes)
        except anyio.EndOfStream:
            return b""  # httpcore's sign that the server closed the connection
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(exc) from exc
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            raise httpcore.ReadError(exc) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            if timeout is None:
                await self._stream.send(buffer)
                return
            with anyio.fail_after(timeout):
                await self._stream.send(buffer)
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(exc) from exc
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            raise httpcore.WriteError(exc) from exc

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                tls = await anyio.streams.tls.TLSStream.wrap(
                    self._stream, ssl_context=ssl_context, hostname=server_hostname,
                    standard_compatible=False, server_side=False)
        except TimeoutError as exc:
            await self.aclose()
            raise httpcore.ConnectTimeout(exc) from exc
        except (anyio.BrokenResourceError, anyio.EndOfStream, ssl.SSLError, OSError) as exc:
            await self.aclose()
            raise httpcore.ConnectError(exc) from exc
        return _Stream(tls)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._stream.extra(anyio.streams.tls.TLSAttribute.ssl_object, None)
        if info == "client_addr":
            return self._stream.extra(anyio.abc.SocketAttribute.local_address, None)
        if info == "server_addr":
            return self._stream.extra(anyio.abc.SocketAttribute.remote_address, None)
        sock = self._stream.extra(anyio.abc.SocketAttribute.raw_socket, None)
        if info == "socket":
            return sock
        if info == "is_readable":
            # An idle kept-alive connection that is readable has been closed by the server
            # (or sent something unasked): httpcore then opens a new one.
            if sock is None or sock.fileno() < 0:
                return True
            poll = select.poll()
            poll.register(sock, select.POLLIN)
            return bool(poll.poll(0))
        return None


class _Backend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                stream = await anyio.connect_tcp(host, port, local_host=local_address)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(exc) from exc
        except (OSError, anyio.BrokenResourceError) as exc:
            raise httpcore.ConnectError(exc) from exc
        raw = stream.extra(anyio.abc.SocketAttribute.raw_socket)
        for option in socket_options or ():
            raw.setsockopt(*option)
        return _Stream(stream)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


# One backend serves every connection: it keeps no state of its own.
UNSCOPED: httpcore.AsyncNetworkBackend = _Backend()


# --- threads: httpcore's socket backend, bounded by one deadline per request ------------------

class Deadline(httpcore.NetworkBackend):
    """httpcore's sync backend, where every connect, read and write waits at most what is left
    of ``deadline`` (``time.monotonic()``), which the caller sets before each request.

    httpcore's own timeouts are per operation: a server that sends a byte a second keeps each
    read under any read timeout, forever. Here the whole request ends by its deadline, headers
    trickled one by one included.
    """

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()
        self.deadline = float("inf")

    def left(self, timeout: float | None) -> float:
        import time

        left = self.deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("timed out")
        return left if timeout is None else min(left, timeout)

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(
            host, port, self.left(timeout), local_address, socket_options), self)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None,
                            ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(
            path, self.left(timeout), socket_options), self)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, backend: Deadline) -> None:
        self._inner = inner
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._backend.left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._backend.left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(
            ssl_context, server_hostname, self._backend.left(timeout)), self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)
