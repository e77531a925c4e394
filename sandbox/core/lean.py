"""Whole, plain HTTP/1.1 requests read straight from a connection's bytes, for the direct path.

Nearly every request a vendor SDK sends is the same plain shape: ``METHOD /path HTTP/1.1``, a few
``Name: value`` lines, a ``Content-Length`` body that arrived with its headers. ``Heads.frame`` reads one
such request from the front of a buffer with a few C-level byte operations and one regular expression; anything
outside that shape (chunked bodies, ``Expect``, ``Upgrade``, ``Connection`` other than ``keep-alive``, HTTP/1.0,
folded or padded header lines, bytes outside printable ASCII, no ``Host`` or two of a header aiohttp allows
once, a body still arriving) is not framed, and the
connection's bytes go to aiohttp's parser as before. A framed request is exactly what aiohttp's parser would
make of those bytes, so handing it to aiohttp instead leaves aiohttp's parser at a message boundary.

``LeanRequest`` is such a request as the pipeline reads it (the few ``web.Request`` attributes vendor
operations use: method, path, headers, raw headers, query, match info, app, transport, body), made without
aiohttp's per-request objects (a URL, a payload stream, the request itself).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from aiohttp import web
from aiohttp.helpers import HeadersMixin, sentinel
from aiohttp.http_parser import SINGLETON_HEADERS
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

MAX_HEAD = 8190
"""Longest head (request line and headers) framed here; longer ones are aiohttp's (its line limit)."""
MAX_LINES = 100
"""Most header lines framed here (aiohttp's own limit is higher; such requests are not plain)."""
_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_VALUE = rb"[!-~](?:[ \t!-~]*[!-~])?"
_LINE = re.compile(rb"(" + _TOKEN + rb"):[ ]?(" + _VALUE + rb")\r\n")
"""One header line: a token name, a colon, at most one space, a value of printable ASCII with no space or tab
at either end. (aiohttp strips such padding; a line that has it is not framed, so both read the same.)"""
_LINES = re.compile(rb"(?:" + _TOKEN + rb":[ ]?" + _VALUE + rb"\r\n)*")
_REQUEST_LINE = re.compile(rb"([A-Z]+) (/[!-~]*) HTTP/1\.1")
_REFUSED = frozenset({b"transfer-encoding", b"upgrade", b"expect", b"sec-websocket-key1"})
"""Headers that make a request not plain (aiohttp decides what they mean, or refuses them)."""
_SINGLETONS = frozenset(name.encode("ascii") for name in SINGLETON_HEADERS)
"""Headers a request has at most once (aiohttp refuses a second ``Host``, ``Content-Type``, ``User-Agent``...):
a request with two is aiohttp's to refuse."""
EMPTY_QUERY: MultiDictProxy[str] = MultiDictProxy(MultiDict())


class Frame(NamedTuple):
    """One plain request at the front of a buffer."""

    end: int
    """Where it ends in the buffer (the next request starts there)."""
    method: str
    target: str
    raw_headers: tuple[tuple[bytes, bytes], ...]
    headers: CIMultiDict[str]
    """``raw_headers`` as text, this request's own."""
    body: bytes


class Head(NamedTuple):
    """What a plain head says, kept by ``Heads`` for the next request with the same head."""

    method: str
    target: str
    raw_headers: tuple[tuple[bytes, bytes], ...]
    headers: CIMultiDict[str]
    """A template: each request gets a copy."""
    length_at: int
    """Where ``Content-Length`` (spelled so, its value after one space) is in ``raw_headers``, or -1."""
    length: int
    """The body's length when ``length_at`` is -1 (then the value is part of the key)."""


LENGTH_DIGITS = 18
"""Longest ``Content-Length`` value framed here (below 2**63; a longer one is aiohttp's to refuse)."""
HEADS = 512
"""Distinct heads ``Heads`` keeps (all forgotten at once when full)."""
KEPT_HEAD_BYTES = 2048
"""Longer heads are read each time, not kept: ``Heads`` holds at most about 512 x 2 KB and what they say."""
_LENGTH_LINE = b"\r\nContent-Length: "


class Heads:
    """The heads plain requests came with, by their bytes but the ``Content-Length`` value: a client sends the
    same head again and again (same endpoint, credentials, user agent) with bodies of varying length, so a head
    is read once and each request copies what it says (``frame``)."""

    def __init__(self) -> None:
        self._known: dict[bytes, Head] = {}

    def frame(self, data: bytes) -> Frame | None:
        """The plain request at the front of ``data``, whole, or None (not plain, or not all there yet)."""
        head_end = data.find(b"\r\n\r\n", 0, MAX_HEAD + 4)
        if head_end < 0:
            return None
        at = data.find(_LENGTH_LINE, 0, head_end)
        value = b""
        if at < 0:
            key = data[:head_end]
        else:
            digits = at + len(_LENGTH_LINE)
            digits_end = data.find(b"\r", digits, head_end + 1)
            key = data[:digits] + data[digits_end:head_end]
            value = data[digits:digits_end]
        head = self._known.get(key)
        if head is None:
            head = read_head(data, head_end, at >= 0)
            if head is None:
                return None
            if len(key) <= KEPT_HEAD_BYTES:
                if len(self._known) >= HEADS:
                    self._known.clear()
                self._known[key] = head
        raw_headers, headers, length = head.raw_headers, head.headers.copy(), head.length
        where = head.length_at
        if where >= 0:
            if not value.isdigit() or len(value) > LENGTH_DIGITS:
                return None
            length = int(value)
            raw_headers = (*raw_headers[:where], (raw_headers[where][0], value), *raw_headers[where + 1:])
            headers["Content-Length"] = value.decode("ascii")
        start = head_end + 4
        end = start + length
        if end > len(data):
            return None
        return Frame(end, head.method, head.target, raw_headers, headers, data[start:end])


def read_head(data: bytes, head_end: int, keyed_without_length: bool) -> Head | None:
    """What the head ending at ``head_end`` says, if it is plain (module docstring). ``keyed_without_length``:
    ``Heads`` keys it without its ``Content-Length`` value (spelled so, after one space), which each request
    then brings."""
    line_end = data.find(b"\r\n")
    request_line = _REQUEST_LINE.fullmatch(data, 0, line_end)
    if request_line is None:
        return None
    lines_end = head_end + 2
    if line_end < head_end and _LINES.fullmatch(data, line_end + 2, lines_end) is None:
        return None
    raw_headers = tuple(_LINE.findall(data, line_end + 2, lines_end)) if line_end < head_end else ()
    if len(raw_headers) > MAX_LINES:
        return None
    length, length_at = 0, -1
    seen: set[bytes] = set()
    for index, (name, value) in enumerate(raw_headers):
        lowered = name.lower()
        if lowered in _SINGLETONS:
            if lowered in seen:
                return None
            seen.add(lowered)
        if lowered == b"content-length":
            if length_at >= 0 or not value.isdigit() or len(value) > LENGTH_DIGITS:
                return None
            length, length_at = int(value), index
        elif lowered == b"connection":
            if value.lower() != b"keep-alive":
                return None
        elif lowered in _REFUSED:
            return None
    if b"host" not in seen:  # aiohttp refuses an HTTP/1.1 request without one
        return None
    if not keyed_without_length:
        length_at = -1  # the value is part of the head's key
    method, target = request_line.groups()
    headers = CIMultiDict([(name.decode("ascii"), value.decode("ascii")) for name, value in raw_headers])
    return Head(method.decode("ascii"), target.decode("ascii"), raw_headers, headers, length_at, length)


class _Body:
    """A body that is all there: what ``pipeline.read_body`` asks of a request's ``content``."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def is_eof(self) -> bool:
        return True

    def read_nowait(self) -> bytes:
        return self.data


class LeanRequest(HeadersMixin):
    """A framed request with the ``web.Request`` attributes the pipeline and the vendors read (module
    docstring). ``content_type`` and ``content_length`` are aiohttp's own (``HeadersMixin``)."""

    __slots__ = ("_content_dict", "_content_type", "_headers", "_stored_content_type", "app", "content",
                 "match_info", "method", "path", "raw_headers", "transport")

    query_string = ""
    query = EMPTY_QUERY

    def __init__(self, found: Frame, app: web.Application, match_info: Any, transport: Any) -> None:
        self.method = found.method
        self.path = found.target
        self.raw_headers = found.raw_headers
        self._headers = CIMultiDictProxy(found.headers)
        self.content = _Body(found.body)
        self.app = app
        self.match_info = match_info
        self.transport = transport
        self._content_type: str | None = None
        self._content_dict: dict[str, str] | None = None
        self._stored_content_type: Any = sentinel

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self._headers

    @property
    def body_exists(self) -> bool:
        """As aiohttp's: a body was declared (``Content-Length`` above 0)."""
        return bool(self.content.data)
