"""The one middleware every vendor request goes through: read, journal, run, render errors once."""

from __future__ import annotations

import asyncio
import hmac
import logging
import traceback
import zlib
from collections.abc import Mapping
from time import perf_counter
from typing import Any

import orjson
from aiohttp import StreamReader, hdrs, web

from sandbox.core import gate, keys, safejson
from sandbox.core.context import Context
from sandbox.core.errors import (
    InvalidBody,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    SandboxError,
    Unauthorized,
    Unexpected,
)
from sandbox.core.operations import Call, Operation, Reply
from sandbox.core.provider import Provider

CONTROL_PREFIX = "/_sandbox"
UNGUARDED = frozenset({CONTROL_PREFIX + "/health"})
"""Control routes answered without the control token (container health checks)."""
TOKEN_HEADER = "X-Sandbox-Token"
CONTROL_BODY = web.RequestKey("control_body", bytes)
"""A control request's body, read (bounded, decoded) by the middleware before its handler runs."""
log = logging.getLogger("sandbox")
access = logging.getLogger("sandbox.access")


class Endpoint:
    """One mounted operation. Its route handler only carries it: the middleware runs the pipeline."""

    __slots__ = ("context", "operation", "provider")

    def __init__(self, operation: Operation, provider: Provider, context: Context) -> None:
        self.operation = operation
        self.provider = provider
        self.context = context

    def handler(self) -> Any:
        async def endpoint(request: web.Request) -> web.StreamResponse:  # pragma: no cover
            raise RuntimeError("vendor endpoints run inside the sandbox middleware")

        endpoint.endpoint = self  # type: ignore[attr-defined]
        return endpoint


@web.middleware
async def sandbox_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    started = perf_counter()
    endpoint = getattr(request.match_info.handler, "endpoint", None)
    if isinstance(endpoint, Endpoint):  # a vendor operation's own route (the common case): neither control nor page
        return await vendor(request, started, endpoint)
    if request.path == CONTROL_PREFIX or request.path.startswith(CONTROL_PREFIX + "/"):
        response = await _control(request, handler)
        access_log(request, response.status, started, None, "control", request.query.get("tenant"))
        return response
    if _is_page(request):
        return await handler(request)
    return await vendor(request, started, None)


def _is_page(request: web.Request) -> bool:
    """A page for people (a route whose handler has ``page = True``, e.g. ``/``), asked for by a browser
    (``Accept: text/html``) and claimed by no vendor; anything else there gets the vendor-shaped 404."""
    return (_holds_no_data(request) and request.method in ("GET", "HEAD")
            and "text/html" in request.headers.get("Accept", "")
            and _claimant(request.app[keys.PROVIDERS], request) is None)


def _holds_no_data(request: web.Request) -> bool:
    """A page for people (handler marked ``page = True``: the web inspector's page and files): a browser must
    load it before it can ask for the token, which the page then sends with every data call."""
    return bool(getattr(request.match_info.handler, "page", False))


async def _control(request: web.Request, handler: Any) -> web.StreamResponse:
    settings = request.app[keys.SETTINGS]
    if (settings.control_token and request.path not in UNGUARDED and not _holds_no_data(request)
            and not token_matches(request, settings.control_token)):
        return _closing(control_error(Unauthorized(
            "token", "this sandbox's control API needs its token: send 'Authorization: Bearer <token>' or "
                     "'X-Sandbox-Token: <token>' (the value of --control-token / SANDBOX_CONTROL_TOKEN)")),
            request)
    raw, problem = await read_body(request, settings.max_body_size, settings.request_timeout)
    request[CONTROL_BODY] = raw
    if problem is not None:
        return _closing(control_error(problem), request)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        request.app[keys.CHANGES][0] += 1
    try:
        return await handler(request)
    except SandboxError as err:
        return control_error(err)
    except web.HTTPException as exc:
        return control_error(_from_http(exc, request))
    except Exception as exc:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return control_error(Unexpected(f"{type(exc).__name__}: {exc}"))


def token_matches(request: web.Request, token: str) -> bool:
    given = request.headers.get(TOKEN_HEADER)
    if given is None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        given = value.strip() if scheme.lower() == "bearer" else ""
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8", "replace"))


def control_error(err: SandboxError) -> web.Response:
    return web.Response(body=safejson.dumps({"error": err.as_dict()}), status=err.status,
                        content_type="application/json")


def _closing(response: web.Response, request: web.Request) -> web.Response:
    """A connection whose body was not read to its end is not reused (the client is told so)."""
    if request.body_exists and not request.content.is_eof():
        response.force_close()
    return response


async def vendor(request: web.Request, started: float, endpoint: Endpoint | None) -> web.StreamResponse:
    """A vendor request: ``endpoint`` is its operation's route, None for a path no operation matched (answered
    by the vendor that claims it, else a neutral 404/405)."""
    status, headers, body, entry = await answer(request, started, endpoint)
    response = _closing(web.Response(body=body, status=status, headers=headers), request)
    return await gate.faulted(request, entry, response) if gate.finish(request.app[keys.METRICS], entry) \
        else response


async def answer(request: web.Request, started: float, endpoint: Endpoint | None
                 ) -> tuple[int, dict[str, str], bytes, Any]:
    """``vendor``'s work up to the answer: (status, headers, body, the journal entry, appended)."""
    if endpoint is not None:
        provider: Provider | None = endpoint.provider
        operation: Operation | None = endpoint.operation
        context = endpoint.context
    else:
        app = request.app
        provider, operation, context = _claimant(app[keys.PROVIDERS], request), None, app[keys.CONTEXT]
    settings = context.settings
    raw, problem = await read_body(request, settings.max_body_size, settings.request_timeout)
    journal = context.journal
    entry = journal.open(context.clock.time(), request.method, request.path, request.query_string,
                         request.raw_headers, raw)
    call: Call | None = None
    if provider is not None:
        entry.vendor = provider.name
    if operation is not None:
        entry.operation = operation.name
    try:
        if provider is not None:
            entry.tenant = provider.tenant_hint(request)
        if problem is not None:
            raise problem
        if operation is None or provider is None:
            raise _from_http(request.match_info.http_exception, request)
        call = Call(request, operation, provider, raw, context)
        call.tenant = entry.tenant = provider.admit(call)
        entry.form = operation.body == "form"
        call.body = parse_body(operation, raw)
        context.validators.check(operation, call.body)
        provider.check(call)
        reply = await gate.guard(call, entry)  # rate limits and fault rules, then operation.handler
    except SandboxError as err:
        reply = _render(provider, err, request)
    except Exception as exc:
        reply = _unexpected(context, entry, provider, exc, request)
    try:
        headers = dict(reply.headers)
        if provider is not None:
            headers.update(provider.headers(request, call))
        body = reply.body if isinstance(reply.body, bytes) else orjson.dumps(reply.body)
    except Exception as exc:
        reply = _unexpected(context, entry, provider, exc, request)
        headers, body = dict(reply.headers), safejson.dumps(reply.body)
    headers.setdefault("Content-Type", provider.content_type if provider is not None else "application/json")
    if call is not None and (call.notes or call.hint):
        entry.notes, entry.hint = tuple(call.notes), call.hint
    entry.status = reply.status
    entry.response_bytes = bytes(memoryview(body))  # orjson over-allocates its output; keep a tight copy
    entry.response_headers = tuple(headers.items())
    entry.duration_ms = (perf_counter() - started) * 1000
    journal.append(entry)
    access_log(request, reply.status, started, entry.vendor, entry.operation, entry.tenant)
    return reply.status, headers, body, entry


def access_log(request: web.Request, status: int, started: float, vendor: str | None, operation: str | None,
               tenant: str | None) -> None:
    """One line per request at info: method, path, vendor/operation, status, tenant, milliseconds."""
    if not access.isEnabledFor(logging.INFO):
        return
    ms = round((perf_counter() - started) * 1000, 2)
    what = "/".join(p for p in (vendor, operation) if p) or "-"
    access.info("%s %s %s %s tenant=%s %.2fms", request.method, request.path, what, status, tenant or "-", ms,
                extra={"fields": {"method": request.method, "path": request.path, "vendor": vendor,
                                  "operation": operation, "status": status, "tenant": tenant, "ms": ms}})


def _unexpected(context: Context, entry: Any, provider: Provider | None, exc: Exception,
                request: web.Request) -> Reply:
    """An exception nobody anticipated: logged, remembered for the pytest plugin, answered as the vendor's 5xx."""
    log.exception("unexpected error in %s %s", request.method, request.path)
    context.failures.append({"id": entry.id, "vendor": entry.vendor, "operation": entry.operation,
                             "error": repr(exc), "traceback": traceback.format_exc()})
    return _render(provider, Unexpected(str(exc) or type(exc).__name__), request)


def _render(provider: Provider | None, err: SandboxError, request: web.Request) -> Reply:
    if provider is not None:
        try:
            return provider.render_error(err, request)
        except Exception:  # a broken renderer must not turn into aiohttp's HTML 500
            log.exception("%s could not render %r", provider.name, err)
    return Reply({"error": err.as_dict()}, err.status)


def _claimant(providers: list[Provider], request: web.Request) -> Provider | None:
    return next((p for p in providers if p.claims(request)), None)


def _from_http(exc: web.HTTPException | None, request: web.Request) -> SandboxError:
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = tuple(sorted(exc.allowed_methods))
        return MethodNotAllowed(f"{request.method} is not allowed on {request.path}; allowed: "
                                f"{', '.join(allowed)}", allowed=allowed)
    if exc is None or isinstance(exc, web.HTTPNotFound):
        return NotFound(f"no route for {request.method} {request.path}")
    return SandboxError(exc.reason, status=exc.status)


async def read_body(request: web.Request, limit: int, timeout: float) -> tuple[bytes, SandboxError | None]:
    """(the body, decoded, or what it could be read of; the problem with it, or None).

    A declared ``Content-Length`` over ``limit`` is refused without reading a byte; a body that grows past it
    is not read further; a body not received within ``timeout`` seconds, or one whose ``Content-Encoding``
    cannot be decoded, is refused. ``gzip`` and ``deflate`` are decoded (bounded by ``limit`` too)."""
    if not request.body_exists:
        return b"", None
    declared = request.content_length
    if declared is not None and declared > limit:
        return b"", _too_large(limit)
    content = request.content
    if content.is_eof():  # the whole body came with the headers (the common case): no timer, no iteration
        try:
            raw = content.read_nowait()
        except Exception as exc:
            return b"", InvalidBody(f"the request body could not be read: {exc}", details={"reason": "unreadable"})
        if len(raw) > limit:
            return b"", _too_large(limit)
    else:
        raw, problem = await _read_streamed(content, limit, timeout)
        if problem is not None:
            return raw, problem
    encoding = request.headers.get(hdrs.CONTENT_ENCODING)
    return decode_content(raw, encoding, limit) if encoding and encoding.strip() else (raw, None)


async def _read_streamed(content: StreamReader, limit: int, timeout: float) -> tuple[bytes, SandboxError | None]:
    """A body still arriving: read as it comes, bounded in size and time."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in content.iter_any():
                size += len(chunk)
                if size > limit:
                    return b"", _too_large(limit)
                chunks.append(chunk)
    except TimeoutError:
        return b"".join(chunks), InvalidBody(f"the request body was not received within {timeout:g} s",
                                             details={"reason": "timeout"})
    except Exception as exc:  # a broken chunked encoding, a reset connection...
        return b"".join(chunks), InvalidBody(f"the request body could not be read: {exc}",
                                             details={"reason": "unreadable"})
    return b"".join(chunks), None


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"request body larger than {limit} bytes (--max-body-size)")


DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
"""Content codings decoded (zlib window bits); ``identity`` passes through, anything else is refused."""


def decode_content(raw: bytes, encoding: str, limit: int) -> tuple[bytes, SandboxError | None]:
    """Undo each coding of ``Content-Encoding`` (last applied first); the raw bytes stay when one fails."""
    body = raw
    for coding in reversed([c.strip().lower() for c in encoding.split(",") if c.strip()]):
        if coding == "identity":
            continue
        wbits = DECODERS.get(coding)
        if wbits is None:
            return raw, InvalidBody(f"Content-Encoding {coding!r} is not supported (send gzip, deflate or "
                                    "identity)", details={"reason": "unsupported_encoding"})
        try:
            body = _inflate(body, wbits, limit)
        except zlib.error:
            if coding != "deflate":
                return raw, _undecodable(coding)
            try:  # some clients send raw deflate without the zlib header
                body = _inflate(body, -zlib.MAX_WBITS, limit)
            except zlib.error:
                return raw, _undecodable(coding)
        except OverflowError:
            return b"", _too_large(limit)
    return body, None


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(data, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise OverflowError
    if not inflater.eof:
        raise zlib.error("truncated stream")
    return out


def _undecodable(coding: str) -> InvalidBody:
    return InvalidBody(f"the body is not valid {coding} data", details={"reason": "undecodable"})


def parse_body(operation: Operation, raw: bytes) -> Any:
    """Parse by the operation's body kind; raise InvalidBody with the parser's reason."""
    kind = operation.body
    if kind == "none":
        return None
    if kind == "form":
        return parse_form(raw)
    try:
        body = safejson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidBody(str(exc), details={"reason": "not_json", "position": exc.pos}) from None
    except safejson.TooDeep as exc:
        raise InvalidBody(str(exc), details={"reason": "too_deep", "limit": exc.limit}) from None
    if kind != "json_value" and not isinstance(body, dict):
        raise InvalidBody("the body must be a JSON object",
                          details={"reason": "not_object", "type": type(body).__name__})
    return body


def parse_form(raw: bytes) -> Mapping[str, str]:
    from urllib.parse import parse_qsl

    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError as exc:
        raise InvalidBody(str(exc), details={"reason": "not_form"}) from None
