"""What every fetch client shares: the request and answer types, redirects, decoding and caps.

The fetch sends each request through one of several clients (aiohttp, httpcore, the lean
``http1`` client, the user's own). Each client makes **one exchange**: one request, one answer,
no redirects. Everything a crawler's safety depends on happens here, once, for all of them:

* which redirect to follow, with which method, body and headers (``follow``): a redirect to
  another origin never carries ``Authorization`` or ``Cookie``, and a redirect never leaves
  http and https;
* decoding a gzip or deflate body (``decode``), never past the body cap: a gzip bomb is an
  error, not a memory blow-up;
* the caps on an answer's head and body (``MAX_HEAD``, ``BodyTooLarge``).

This module imports nothing beyond the standard library; zlib is imported on first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

__all__ = [
    "MAX_HEAD",
    "MAX_HEADERS",
    "AnswerRefused",
    "IDEMPOTENT",
    "BodyTooLarge",
    "Headers",
    "Request",
    "Response",
    "check_headers",
    "decode",
    "follow",
    "header",
    "origin",
    "raw_cap",
    "sent_headers",
]

MAX_HEAD = 64 * 1024  # bytes of status line and headers an answer may have
MAX_HEADERS = 128  # header lines an answer may have
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "concurrency-patterns"
# Methods a client may send again on a fresh connection when a kept-alive one was closed under
# it (RFC 9110, 9.2.2): a POST may have been acted on, so it is not sent twice.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
# Methods whose request has a body by definition: an empty one is sent as Content-Length: 0.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Headers the client sets from the URL and the body, never the caller.
_FRAMING = frozenset({"host", "content-length", "transfer-encoding"})
# What the library asks for unless the request says otherwise: no compression by default
# (a request that wants gzip asks for it, and gets it inflated).
_DEFAULTS = (("User-Agent", USER_AGENT), ("Accept", "*/*"), ("Accept-Encoding", "identity"))

Headers = tuple[tuple[str, str], ...]  # (name, value) pairs, in the order they were sent

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110: a method, a header name
_BAD_VALUE = re.compile(r"[\r\n\x00]")  # a header value may not start another header
# Headers that say who you are: kept on one origin, dropped when a redirect leaves it.
_CREDENTIALS = frozenset({"authorization", "cookie", "proxy-authorization"})
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding",
                           "transfer-encoding"})


class AnswerRefused(Exception):
    """The answer cannot be taken: a redirect that leaves http(s), a head or body past its
    cap, a body that does not decode, too many redirects. Not retried by default: asking
    again gets the same answer. A fetch reports it as the ``__cause__`` of its result's
    ``FetchError``."""


class BodyTooLarge(AnswerRefused):
    """The body (as decoded) is larger than ``max_body``; the connection is not reused.

    Args:
        max_body: the cap, in bytes.
        announced: the ``Content-Length`` the answer gave, when that alone passed the cap.

    Attributes:
        max_body: the cap, in bytes.
    """

    def __init__(self, max_body: int, announced: int | None = None) -> None:
        said = "" if announced is None else f" (Content-Length says {announced})"
        super().__init__(f"the body is larger than max_body={max_body} bytes{said}")
        self.max_body = max_body


def _headers(given: object, what: str) -> Headers:
    """*given* (a mapping or (name, value) pairs) as checked pairs of strings."""
    items: Iterable[object]
    if isinstance(given, Mapping):
        items = given.items()
    elif isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise TypeError(f"{what} must be a mapping or (name, value) pairs, "
                        f"got {type(given).__name__}")
    else:
        items = given
    pairs = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise TypeError(f"{what} must hold (name, value) pairs, got {item!r}")
        name, value = item
        if not isinstance(name, str) or _TOKEN.fullmatch(name) is None:
            raise ValueError(f"{what}: {name!r} is not a header name")
        if not isinstance(value, str):
            raise TypeError(f"{what}[{name!r}] must be a str, got {type(value).__name__}")
        if _BAD_VALUE.search(value):  # "x\r\nHost: evil" would be a second header
            raise ValueError(f"{what}[{name!r}] holds a line break or NUL: {value!r}")
        pairs.append((name, value))
    return tuple(pairs)


@dataclass(frozen=True, slots=True, init=False)
class Request:
    """One HTTP request: a method, a URL, headers and a body. Frozen, so it can be shared.

    The fetch takes these wherever it takes a URL string; a string is ``Request(url)``.

    Args:
        url: an absolute http or https URL.
        method: any HTTP method (``"GET"`` by default), sent as given.
        headers: a mapping or (name, value) pairs; they override the call's ``headers=``.
            Names and values are checked: a value with a line break is refused.
        body: the bytes to send, with a ``Content-Length``; empty by default.

    Raises:
        TypeError, ValueError: a URL that is not a string, a method that is not a token, a
            header that is not a (str, str) pair or would split the request, a body that is
            not bytes.
    """

    url: str
    method: str
    headers: Headers
    body: bytes

    def __init__(self, url: str, method: str = "GET",
                 headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
                 body: bytes = b"") -> None:
        if not isinstance(url, str):
            raise TypeError(f"url must be a str, got {type(url).__name__}: {url!r}")
        if not isinstance(method, str) or _TOKEN.fullmatch(method) is None:
            raise ValueError(f"method must be an HTTP method name, got {method!r}")
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError(f"body must be bytes, got {type(body).__name__}")
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "headers", _headers(headers, "headers"))
        object.__setattr__(self, "body", bytes(body))

    def header(self, name: str) -> str | None:
        """The first header called *name* (any case), or ``None``."""
        return header(self.headers, name)

    def with_defaults(self, defaults: Headers) -> Request:
        """This request with the call's default *defaults* added, where it sets none itself."""
        if not defaults:
            return self
        mine = {name.lower() for name, _ in self.headers}
        extra = tuple((n, v) for n, v in defaults if n.lower() not in mine)
        return Request(self.url, self.method, extra + self.headers, self.body) if extra else self


@dataclass(frozen=True, slots=True)
class Response:
    """One answer to one request, as a client gives it: no redirect followed.

    A ``client=`` callable returns one of these. The body is whole and decoded (gzip or deflate
    undone), and is at most the call's ``max_body`` bytes.

    Attributes:
        status: the HTTP status.
        headers: (name, value) pairs as the server sent them (a mapping given here becomes
            pairs).
        body: the body.
        url: the URL that answered.
    """

    status: int
    headers: Headers
    body: bytes
    url: str

    def __post_init__(self) -> None:
        if isinstance(self.status, bool) or not isinstance(self.status, int) \
                or not 100 <= self.status <= 999:
            raise ValueError(f"status must be an HTTP status (100-999), got {self.status!r}")
        if not isinstance(self.headers, tuple):  # a dict, or a list of pairs: as pairs
            object.__setattr__(self, "headers", _headers(self.headers, "headers"))
        if not isinstance(self.body, bytes):
            if not isinstance(self.body, bytearray | memoryview):
                raise TypeError(f"body must be bytes, got {type(self.body).__name__}")
            object.__setattr__(self, "body", bytes(self.body))
        if not isinstance(self.url, str):
            raise TypeError(f"url must be a str, got {type(self.url).__name__}")

    def header(self, name: str) -> str | None:
        """The first header called *name* (any case), or ``None``."""
        return header(self.headers, name)


def header(headers: Headers, name: str) -> str | None:
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def sent_headers(request: Request) -> Headers:
    """The headers a client sends for *request* after ``Host``: the library's defaults where
    the request sets none, the request's own (less the framing ones), and ``Content-Length``
    for a body. The lean client and httpcore send exactly these."""
    given = {name.lower() for name, _ in request.headers}
    sent = [(name, value) for name, value in _DEFAULTS if name.lower() not in given]
    sent += [(name, value) for name, value in request.headers if name.lower() not in _FRAMING]
    if request.body or request.method in _BODY_METHODS:
        sent.append(("Content-Length", str(len(request.body))))
    return tuple(sent)


def check_headers(headers: object) -> Headers:
    """The call's ``headers=``, checked."""
    return _headers(headers, "headers")


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of *url*, with the default port filled in: what "another origin"
    compares."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def follow(request: Request, response: Response) -> Request | None:
    """The request a redirect answer sends us to next; ``None`` for any other answer.

    As browsers, requests and httpx do: 303, and 301 or 302 after a POST, become a GET without
    the body; 307 and 308 keep method and body. A redirect to another origin (scheme, host or
    port) drops ``Authorization``, ``Cookie`` and ``Proxy-Authorization``.

    Raises:
        AnswerRefused: the redirect leads out of http and https (``file:``, ``ftp:``, ...).
    """
    if response.status not in REDIRECTS:
        return None
    location = response.header("location")
    if location is None:
        return None
    url = urljoin(response.url, location.strip())
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise AnswerRefused(f"redirect to {url!r} refused: only http and https are followed")
    method, body, headers = request.method, request.body, request.headers
    if (response.status == 303 and method != "HEAD") or \
            (response.status in (301, 302) and method == "POST"):
        method, body = "GET", b""
        headers = tuple((n, v) for n, v in headers if n.lower() not in _BODY_HEADERS)
    if origin(url) != origin(request.url):
        headers = tuple((n, v) for n, v in headers if n.lower() not in _CREDENTIALS)
    return Request(url, method, headers, body)


def decode(body: bytes, encoding: str | None, max_body: int | None) -> bytes:
    """*body* with its ``Content-Encoding`` (gzip, deflate, or both) undone, never producing
    more than *max_body* bytes. Other encodings (br, zstd) are left as sent.

    Raises:
        BodyTooLarge: the decoded body would pass *max_body*.
        AnswerRefused: the body does not decode.
    """
    if encoding is not None:
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
        if all(c in ("gzip", "x-gzip", "deflate", "identity") for c in codings):
            for coding in reversed(codings):  # the last one applied comes off first
                if coding != "identity":
                    body = _inflate(body, coding, max_body)
    if max_body is not None and len(body) > max_body:
        raise BodyTooLarge(max_body)
    return body


def _inflate(body: bytes, coding: str, max_body: int | None) -> bytes:
    import zlib

    # gzip: wbits 16 + 15; deflate is meant to be zlib-wrapped (15) but some servers send it
    # raw (-15), as browsers accept.
    tries = (31,) if coding != "deflate" else (15, -15)
    for wbits in tries:
        inflater = zlib.decompressobj(wbits)
        try:
            # max_length stops a bomb as it inflates: never more than the cap, plus one byte
            # to tell "exactly the cap" from "more than the cap".
            out = inflater.decompress(body, 0 if max_body is None else max_body + 1)
        except zlib.error as exc:
            if wbits == tries[-1]:
                raise AnswerRefused(f"the {coding} body does not decode: {exc}") from None
            continue
        if max_body is not None and (len(out) > max_body or inflater.unconsumed_tail):
            raise BodyTooLarge(max_body)
        return out
    raise AssertionError("unreachable")


def raw_cap(max_body: int | None, encoding: str | None) -> int | None:
    """How many bytes of body to take off the wire, for a body whose decoded size is capped
    at *max_body*. A compressed body of incompressible data is slightly larger than the
    data, so it is allowed a little more."""
    if max_body is None:
        return None
    if encoding is None or encoding.strip().lower() == "identity":
        return max_body
    return max_body + max_body // 64 + 1024
