"""The one middleware every vendor request goes through: read, journal, run, render errors once."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from time import perf_counter
from typing import Any

import orjson
from aiohttp import web

from sandbox.core import gate, keys
from sandbox.core.errors import InvalidBody, MethodNotAllowed, NotFound, PayloadTooLarge, SandboxError, Unexpected
from sandbox.core.operations import Call, Operation, Reply
from sandbox.core.provider import Provider

CONTROL_PREFIX = "/_sandbox"
log = logging.getLogger("sandbox")


class Endpoint:
    """One mounted operation. Its route handler only carries it: the middleware runs the pipeline."""

    __slots__ = ("operation", "provider")

    def __init__(self, operation: Operation, provider: Provider) -> None:
        self.operation = operation
        self.provider = provider

    def handler(self) -> Any:
        async def endpoint(request: web.Request) -> web.StreamResponse:  # pragma: no cover
            raise RuntimeError("vendor endpoints run inside the sandbox middleware")

        endpoint.endpoint = self  # type: ignore[attr-defined]
        return endpoint


@web.middleware
async def sandbox_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path == CONTROL_PREFIX or request.path.startswith(CONTROL_PREFIX + "/"):
        return await _control(request, handler)
    if _is_page(request):
        return await handler(request)
    return await _vendor(request)


def _is_page(request: web.Request) -> bool:
    """A page for people (a route whose handler has ``page = True``, e.g. ``/``), asked for by a browser
    (``Accept: text/html``) and claimed by no vendor; anything else there gets the vendor-shaped 404."""
    return (getattr(request.match_info.handler, "page", False) and request.method in ("GET", "HEAD")
            and "text/html" in request.headers.get("Accept", "")
            and _claimant(request.app[keys.PROVIDERS], request) is None)


async def _control(request: web.Request, handler: Any) -> web.StreamResponse:
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


def control_error(err: SandboxError) -> web.Response:
    return web.Response(body=orjson.dumps({"error": err.as_dict()}), status=err.status,
                        content_type="application/json")


async def _vendor(request: web.Request) -> web.StreamResponse:
    app = request.app
    started = perf_counter()
    endpoint = getattr(request.match_info.handler, "endpoint", None)
    if isinstance(endpoint, Endpoint):
        provider: Provider | None = endpoint.provider
        operation: Operation | None = endpoint.operation
    else:
        provider, operation = _claimant(app[keys.PROVIDERS], request), None
    raw, oversize = await _read_body(request, app[keys.SETTINGS].max_body_size)
    journal = app[keys.JOURNAL]
    entry = journal.open(app[keys.CLOCK].time(), request.method, request.path, request.query_string,
                         request.raw_headers, raw)
    call: Call | None = None
    if provider is not None:
        entry.vendor = provider.name
    if operation is not None:
        entry.operation = operation.name
    try:
        if provider is not None:
            entry.tenant = provider.tenant_hint(request)
        if oversize:
            raise PayloadTooLarge(f"request body larger than {app[keys.SETTINGS].max_body_size} bytes")
        if operation is None or provider is None:
            raise _from_http(request.match_info.http_exception, request)
        call = Call(request, operation, provider, raw)
        call.tenant = entry.tenant = provider.admit(call)
        entry.form = operation.body == "form"
        call.body = parse_body(operation, raw)
        app[keys.VALIDATORS].check(operation, call.body)
        provider.check(call)
        reply = await gate.guard(call, entry)  # rate limits and fault rules, then operation.handler
    except SandboxError as err:
        reply = _render(provider, err, request)
    except Exception as exc:
        reply = _unexpected(app, entry, provider, exc, request)
    try:
        headers = dict(reply.headers)
        if provider is not None:
            headers.update(provider.headers(request, call))
        body = reply.body if isinstance(reply.body, bytes) else orjson.dumps(reply.body)
    except Exception as exc:
        reply = _unexpected(app, entry, provider, exc, request)
        headers, body = dict(reply.headers), orjson.dumps(reply.body)
    headers.setdefault("Content-Type", provider.content_type if provider is not None else "application/json")
    if call is not None and (call.notes or call.hint):
        entry.notes, entry.hint = tuple(call.notes), call.hint
    entry.status = reply.status
    entry.response_bytes = bytes(memoryview(body))  # orjson over-allocates its output; keep a tight copy
    entry.duration_ms = (perf_counter() - started) * 1000
    journal.append(entry)
    return await gate.finish(request, entry, web.Response(body=body, status=reply.status, headers=headers))


def _unexpected(app: web.Application, entry: Any, provider: Provider | None, exc: Exception,
                request: web.Request) -> Reply:
    """An exception nobody anticipated: logged, remembered for the pytest plugin, answered as the vendor's 5xx."""
    log.exception("unexpected error in %s %s", request.method, request.path)
    app[keys.FAILURES].append({"id": entry.id, "vendor": entry.vendor, "operation": entry.operation,
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


async def _read_body(request: web.Request, limit: int) -> tuple[bytes, bool]:
    """The body as sent, or (b"", True) when it exceeds ``limit`` (the excess is drained, not kept)."""
    if not request.body_exists:
        return b"", False
    declared = request.content_length
    chunks: list[bytes] = []
    size = 0
    oversize = declared is not None and declared > limit
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            oversize = True
        if not oversize:
            chunks.append(chunk)
    return (b"", True) if oversize else (b"".join(chunks), False)


def parse_body(operation: Operation, raw: bytes) -> Any:
    """Parse by the operation's body kind; raise InvalidBody with the parser's reason."""
    kind = operation.body
    if kind == "none":
        return None
    if kind == "form":
        return parse_form(raw)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidBody(str(exc), details={"reason": "not_json", "position": exc.pos}) from None
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
