"""The direct path: a vendor request answered as soon as it is parsed, without aiohttp's per-request machinery.

Around a handler aiohttp spends about 50 µs of CPU per request (waking the connection's task, a task per
request, a writer, the router, the middleware chain, the response's preparation and its write), more than the
whole sandbox pipeline. ``FastProtocol`` is aiohttp's own connection protocol (the same parser, limits,
timeouts and keep-alive) with one addition: when a request has been parsed whole (its body arrived with it)
while aiohttp has nothing to do on that connection, and it is for a vendor operation's fixed path, it is
answered at once: the same ``web.Request`` aiohttp would make goes to ``pipeline.answer``, the work the
middleware does for a vendor route (auth, validation, journal, deliveries) before it makes aiohttp's response,
and the answer is written as aiohttp writes it (status line, the reply's headers, ``Content-Length``,
``Date``, ``Server``). Plain requests (``sandbox.core.lean``) are read straight from the connection's bytes
while aiohttp's parser is at a message boundary, and go to ``pipeline.answer`` as ``LeanRequest``s.

Everything else stays aiohttp's, in order on the same connection: control routes, pages, unknown paths and
routes with path parameters, bodies still arriving, ``Connection: close`` and HTTP/1.0, ``Expect``, upgrades,
malformed requests, every request while a fault rule exists (a fault may act on the connection) and while
the client is not reading its answers (aiohttp's writer waits for it). A request behind one aiohttp is
answering waits for it; one behind a handler that suspended waits for that (and a graceful shutdown waits
for the handler, as for aiohttp's own).
``SANDBOX_FAST_PATH=0`` turns the direct path off (aiohttp answers everything).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine, Generator, MutableMapping
from http import HTTPStatus
from time import perf_counter
from typing import Any

from aiohttp import hdrs, web
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11, RawRequestMessage
from aiohttp.http_writer import _serialize_headers
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_response import REASON_PHRASES
from aiohttp.web_server import Server
from aiohttp.web_urldispatcher import UrlMappingMatchInfo

from sandbox.core import gate, keys, lean, pipeline

log = logging.getLogger("sandbox")

FAST_PATH_ENV = "SANDBOX_FAST_PATH"
EMPTY_BODY_STATUSES = frozenset({204, 304})
"""Answers that carry no body and no ``Content-Length`` (as aiohttp writes them)."""

Route = tuple[pipeline.Endpoint, UrlMappingMatchInfo]


class FastServer(Server):
    """aiohttp's ``Server`` whose connections are ``FastProtocol``s over the app's vendor routes."""

    def __init__(self, server: Server, app: web.Application) -> None:
        super().__init__(server.request_handler, request_factory=server.request_factory,
                         handler_cancellation=server.handler_cancellation, loop=server._loop, **server._kwargs)
        self.app = app
        self.routes = routes_of(app)
        self.heads = lean.Heads()
        """The heads of plain requests seen on any connection (``lean.Heads``)."""
        self.context = app[keys.CONTEXT]
        """Its fault book: while it holds a rule, aiohttp answers every request (a fault may act on the
        connection); its metrics count direct answers."""
        self.direct = 0
        """Requests answered on the direct path."""

    def __call__(self) -> RequestHandler:
        return FastProtocol(self, loop=self._loop, **self._kwargs)


class _Rest:
    """Awaiting it runs the rest of a coroutine that already ran up to its first suspension (``pending`` is
    what it yielded then), as the task would have, had it started the coroutine itself."""

    __slots__ = ("coro", "pending")

    def __init__(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        self.coro, self.pending = coro, pending

    def __await__(self) -> Generator[Any, Any, Any]:
        pending = self.pending
        while True:
            try:
                step, value = self.coro.send, (yield pending)
            except BaseException as exc:  # the task passes cancellation (and anything thrown) on
                step, value = self.coro.throw, exc
            try:
                pending = step(value)
            except StopIteration as stop:
                return stop.value


class FastProtocol(RequestHandler):
    """aiohttp's connection protocol, answering whole vendor requests itself while it is idle (module
    docstring)."""

    __slots__ = ("_draining", "_finishing", "_plain")

    def __init__(self, manager: FastServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._finishing: asyncio.Task[None] | None = None
        """A handler of the direct path that suspended, finishing in this task (held here: the loop keeps only
        a weak reference); requests parsed behind it wait in aiohttp's queue."""
        self._draining = False
        self._plain = True
        """Whether aiohttp's parser is at a message boundary, so that plain requests can be read here
        (``_read_plain``): true until it is handed bytes it may keep something of."""

    def data_received(self, data: bytes) -> None:
        if self._plain and data:
            data = self._read_plain(data)
            if not data:
                return
        waiter = self._waiter
        if waiter is None or waiter.done() or self._payload_parser is not None or self._upgraded:
            super().data_received(data)  # aiohttp's task is at work (or not started yet): it keeps the order
            return
        self._parse(data)  # aiohttp's task is parked, waiting for requests: parse without waking it...
        if not self._draining:  # (reading a body resumes the parser: a drain already under way goes on)
            self._drain()  # ...answer what can be answered here, and wake it for the rest

    def _read_plain(self, data: bytes) -> bytes:
        """Answer the plain requests (``lean.Heads.frame``) at the front of ``data`` while the connection is idle and
        each is for a vendor operation's fixed path; return the rest, for aiohttp's parser. Reading plain
        requests here stops for good once that rest may leave something in aiohttp's parser (a request not
        plain or not all there, or more or larger ones than it takes at once)."""
        manager: FastServer = self._manager  # type: ignore[assignment]
        while data:
            found = _frame(manager.heads, data)
            if found is None:
                self._plain = False
                return data
            route = manager.routes.get((found.method, found.target)) if self._idle() else None
            if route is None:
                self._plain = _all_plain(data, manager.heads)
                return data
            data = data[found.end:]
            self._request_count += 1  # as aiohttp counts what its parser reads
            endpoint, match_info = route
            self._run(lean.LeanRequest(found, manager.app, match_info, self.transport), endpoint)
        return data

    def _idle(self) -> bool:
        """Nothing in progress or queued on this connection, and nothing asks for aiohttp's own path (module
        docstring): a request read now can be answered now."""
        waiter = self._waiter
        manager: FastServer = self._manager  # type: ignore[assignment]
        return (waiter is not None and not waiter.done() and self._finishing is None and not self._messages
                and self._payload_parser is None and not self._upgraded and not manager.context.faults
                and not self._paused and not (self._close or self._force_close) and self.transport is not None)

    def _parse(self, data: bytes) -> None:
        """aiohttp's parsing of ``data`` into its queue, without waking its task."""
        waiter, self._waiter = self._waiter, None
        try:
            super().data_received(data)
        finally:
            self._waiter = waiter

    def _drain(self) -> None:
        """Answer the queued requests the direct path takes, in order; wake aiohttp at the first it does not."""
        messages = self._messages
        self._draining = True
        try:
            while self._finishing is None and self.transport is not None and not (self._close or self._force_close):
                if not messages:
                    # aiohttp's parser may hold requests back that it counts as still in flight (one taken by
                    # aiohttp before its body came): its task would parse them on its next body read
                    count = self._request_count
                    self._parse(b"")
                    if self._request_count == count:
                        break
                    continue
                message, payload = messages[0]
                route = self._route(message, payload)
                if route is None:
                    break
                messages.popleft()
                if self._parser is not None:  # as aiohttp's task does: free the parser's slot, resume parsing
                    self._parser.message_consumed()
                if self._buffer_paused and len(messages) <= self._msg_queue_resume_size:
                    self._resume_reading_if_drained()
                self._answer(message, payload, route)
        finally:
            self._draining = False
        waiter = self._waiter
        if messages and self._finishing is None and waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _route(self, message: Any, payload: StreamReader) -> Route | None:
        """The vendor operation that answers ``message`` on the direct path, or None (aiohttp answers it; also
        while the client is not reading its answers: aiohttp's writer waits for it)."""
        manager: FastServer = self._manager  # type: ignore[assignment]
        if (type(message) is not RawRequestMessage or manager.context.faults or self._paused or message.should_close
                or message.version != HttpVersion11 or message.upgrade or not payload.is_eof()
                or hdrs.EXPECT in message.headers):
            return None
        return manager.routes.get((message.method, message.url.raw_path))

    def _answer(self, message: RawRequestMessage, payload: StreamReader, route: Route) -> None:
        assert self._request_factory is not None
        request: web.Request = self._request_factory(message, payload, self, None,  # type: ignore[arg-type,assignment]
                                                     self._task_handler)  # type: ignore[arg-type]
        endpoint, request._match_info = route
        self._run(request, endpoint)

    def _run(self, request: web.Request | lean.LeanRequest, endpoint: pipeline.Endpoint) -> None:
        """Answer ``request`` on the direct path: now, or when its handler finishes (what follows waits)."""
        manager: FastServer = self._manager  # type: ignore[assignment]
        manager.direct += 1
        manager.requests_count += 1
        coro = pipeline.answer(request, perf_counter(), endpoint)  # type: ignore[arg-type]
        try:
            pending = coro.send(None)
        except StopIteration as stop:
            self._reply(request, stop.value)
        except Exception as exc:
            self._fail(exc)
        else:  # the handler awaits something: it finishes in a task, and what follows waits for it
            self._request_in_progress = True  # (a graceful shutdown waits for it, as for aiohttp's own)
            self._finishing = self._loop.create_task(self._finish(request, _Rest(coro, pending)))

    async def _finish(self, request: web.Request | lean.LeanRequest, rest: _Rest) -> None:
        try:
            answered = await rest
        except Exception as exc:
            self._fail(exc)
        else:
            self._reply(request, answered)
        finally:
            self._finishing = None
            self._request_in_progress = False
            shutting_down = self._handler_waiter
            if shutting_down is not None and not shutting_down.done():
                shutting_down.set_result(None)
        self._drain()

    def _reply(self, request: web.Request | lean.LeanRequest, answered: tuple[int, dict[str, str], bytes, Any]
               ) -> None:
        try:
            status, headers, body, entry = answered
            manager: FastServer = self._manager  # type: ignore[assignment]
            gate.finish(manager.context.metrics, entry)  # no fault rule exists: nothing acts on the connection
            self._write(status, headers, body, False)
        except Exception as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        """An exception past the pipeline's own handling (it catches all it can): logged, and answered as
        aiohttp answers one, with a plain 500 and the connection closed."""
        self.log_exception("Error handling request", exc_info=exc)
        status = HTTPStatus.INTERNAL_SERVER_ERROR
        body = f"{status.value} {status.phrase}\n\n{status.description}".encode()
        self._write(status.value, {hdrs.CONTENT_TYPE: "text/plain; charset=utf-8"}, body, True)

    def _write(self, status: int, headers: MutableMapping[str, str], body: bytes, close: bool) -> None:
        """The answer as aiohttp writes it (``headers`` never name the four the server adds); then the
        connection is idle and aiohttp's keep-alive timer runs, or it is closed."""
        transport = self.transport
        if transport is None:
            return
        if status in EMPTY_BODY_STATUSES or status < 200:
            body = b""
        else:
            headers[hdrs.CONTENT_LENGTH] = str(len(body))
        headers[hdrs.DATE] = rfc822_formatted_time()
        headers[hdrs.SERVER] = SERVER_SOFTWARE
        if close:
            headers[hdrs.CONNECTION] = "close"
        transport.write(_serialize_headers(f"HTTP/1.1 {status} {REASON_PHRASES.get(status, '')}", headers) + body)
        if close:
            self.force_close()
        elif self._keepalive_timeout > 0:
            self._next_keepalive_close_time = self._loop.time() + self._keepalive_timeout
            if self._keepalive_handle is None:
                self._keepalive_handle = self._loop.call_at(self._next_keepalive_close_time,
                                                            self._process_keepalive)

    def resume_reading(self, resume_parser: bool = True) -> None:
        """aiohttp's, but while a drain is under way and reading was not paused: reading a body calls it, and it
        would run the parser over nothing once per request; the drain runs it once, when its queue is empty."""
        if self._draining and not (self._reading_paused or self._buffer_paused):
            return
        super().resume_reading(resume_parser)

    def _process_keepalive(self) -> None:
        if self._finishing is not None:  # not idle: a handler of the direct path is still at work
            self._keepalive_handle = self._loop.call_at(self._loop.time() + self._keepalive_timeout,
                                                        self._process_keepalive)
            return
        super()._process_keepalive()


PLAIN_HANDOVER_REQUESTS = 8
"""Most requests handed to aiohttp's parser at once while plain requests are still read here (its queue
takes 32 before it holds the rest back)."""
PLAIN_HANDOVER_BYTES = 16 * 1024
"""Most body bytes handed to aiohttp's parser at once while plain requests are still read here (its payload
stream holds back beyond 64 KiB)."""


def _frame(heads: lean.Heads, data: bytes) -> lean.Frame | None:
    """``heads.frame(data)``; a bug in framing costs the direct path, not the connection (aiohttp's parser
    then reads it)."""
    try:
        return heads.frame(data)
    except Exception:
        log.exception("could not frame a request; aiohttp's parser reads this connection from here")
        return None


def _all_plain(data: bytes, heads: lean.Heads) -> bool:
    """Whether aiohttp's parser, handed ``data``, reads it all and is left at a message boundary: a few plain
    requests, each all there, with small bodies."""
    count = size = 0
    while data:
        found = _frame(heads, data)
        count += 1
        if found is None or count > PLAIN_HANDOVER_REQUESTS:
            return False
        size += len(found.body)
        if size > PLAIN_HANDOVER_BYTES:
            return False
        data = data[found.end:]
    return True


def routes_of(app: web.Application) -> dict[tuple[str, str], Route]:
    """(method, path) -> the vendor operation mounted there, for every route without path parameters."""
    routes: dict[tuple[str, str], Route] = {}
    for route in app.router.routes():
        endpoint = getattr(route.handler, "endpoint", None)
        if isinstance(endpoint, pipeline.Endpoint) and isinstance(route.resource, web.PlainResource):
            match_info = UrlMappingMatchInfo({}, route)
            match_info.add_app(app)
            match_info.freeze()
            routes[(route.method, route.resource.canonical)] = (endpoint, match_info)
    return routes


def install(app: web.Application) -> None:
    """Serve ``app``'s connections with ``FastProtocol`` (unless ``SANDBOX_FAST_PATH=0``)."""
    if os.environ.get(FAST_PATH_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return
    make = app._make_handler

    def make_fast(*, loop: asyncio.AbstractEventLoop | None = None, **kwargs: Any) -> Server:
        return FastServer(make(loop=loop, **kwargs), app)

    app._make_handler = make_fast  # type: ignore[method-assign]
