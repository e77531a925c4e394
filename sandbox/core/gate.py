"""The pipeline's two hooks for rate limits, fault injection and metrics.

``guard(call, entry)`` runs in place of the operation's handler: the vendor's rate limit first (429 in the
vendor's shape when enforced and exceeded), then the first fault rule that fires, then the handler.
``finish(request, entry)`` counts the answer for the metrics and tells whether a fault acts on the
connection itself (a dropped connection, a trickled body), which ``faulted`` then carries out. Both are O(1)
and add no coroutine when no rule exists.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from sandbox.core import keys
from sandbox.core.errors import BadRequest, SandboxError, TooManyRequests, Unauthorized, Unexpected
from sandbox.core.faults import BY_STATUS, NAMED_ERRORS, SLOW_BODY_CHUNKS, SLOW_BODY_MS, FaultBook, Rule
from sandbox.core.metrics import Metrics
from sandbox.core.operations import Call, Reply
from sandbox.core.ratelimit import USAGE, Applied

CONNECTION_EFFECTS = ("drop", "slow_body")
"""Effects ``faulted`` carries out on the connection (read from the journal entry's ``fault``)."""


async def guard(call: Call, entry: Any) -> Reply:
    """Rate limit, then faults, then the operation's handler."""
    provider = call.provider
    limiter = call.context.limiter
    book: FaultBook = call.context.faults
    applied: Applied | None = provider.rate_limit(call)
    # windows follow the tenant's clock
    usage = None if applied is None else limiter.hit(call.tenant, provider.name, applied, call.now)
    if usage is None:
        return await (_faulted(call, entry, book) if book else call.operation.handler(call))
    assert applied is not None
    call.extras[USAGE] = usage
    if usage.exceeded:
        limiter.rejected[(provider.name, usage.group)] += 1
        raise TooManyRequests(f"{usage.group} limit of {usage.limit} reached", details=usage.details())
    try:
        return await (_faulted(call, entry, book) if book else call.operation.handler(call))
    finally:
        if applied.limit.seconds is None:
            limiter.leave(call.tenant, provider.name, applied)


async def _faulted(call: Call, entry: Any, book: FaultBook) -> Reply:
    """The first fault rule that fires for this call, or the handler (no coroutine of its own without rules)."""
    request = call.request
    operation = call.operation
    paths = (request.path, operation.path, request.path.removeprefix(f"/{call.provider.name}"))
    picked = book.pick(call.tenant, call.provider.name, operation.name, paths, request.method, call.body)
    if picked is None:
        return await call.operation.handler(call)
    rule, draw = picked
    entry.fault = {"rule": rule.id, "effect": rule.effect}
    delay = book.delay_ms(rule, call.tenant, draw)
    if delay:
        entry.fault["delay_ms"] = round(delay, 3)
        await asyncio.sleep(delay / 1000)
    effect = rule.get("effect")
    if effect == "drop":
        return Reply(b"", 0)
    reply = _fault_reply(call, rule)
    if reply is None:
        reply = await call.operation.handler(call)
    if rule.get("headers"):
        reply.headers = {**reply.headers, **rule.get("headers")}
    if effect in ("empty", "malformed", "truncated"):
        reply.body = _reshape(effect, reply.body)
    return reply


def _fault_reply(call: Call, rule: Rule) -> Reply | None:
    """The answer a rule puts in place of the handler's, or None to run the handler."""
    named = NAMED_ERRORS.get(rule.get("effect", ""))
    status = rule.get("status")
    if named is None and status is None and "response_body" not in rule.spec:
        return None
    if named is not None:
        kind, default = named
        status = status or default
    else:
        status = status or 200
        kind = BY_STATUS.get(status, Unexpected)
    if "response_body" in rule.spec:
        body = rule.get("response_body")
        return Reply(body.encode() if isinstance(body, str) else body, status)
    error: SandboxError
    if kind is Unauthorized:  # as if the credential were wrong: vendors that echo it do
        error = Unauthorized("credential", "injected fault", credential=call.credential)
    else:
        error = kind("Bad Request" if kind is BadRequest else "")  # renderers that show a text get the label
    reply = call.provider.render_error(error, call.request)
    reply.status = status
    return reply


def _reshape(effect: str, body: Any) -> bytes:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    if effect == "empty":
        return b""
    if effect == "truncated":
        return raw[: len(raw) // 2]
    return raw[:-1] + b"," + raw[-1:] if raw else b"{"  # malformed: [1,2,] / {"a":1,}


def finish(metrics: Metrics, entry: Any) -> bool:
    """Count the answer; True when a fault acts on the connection (``faulted`` carries it out), so a request
    without one costs no coroutine here."""
    metrics.observe(entry)
    fault = entry.fault
    return fault is not None and fault["effect"] in CONNECTION_EFFECTS


async def faulted(request: web.Request, entry: Any, response: web.Response) -> web.StreamResponse:
    """Drop the connection or trickle the body as the entry's fault says."""
    app = request.app
    fault = entry.fault
    if fault["effect"] == "drop":
        if request.transport is not None:
            request.transport.abort()
        return response
    rule = app[keys.FAULTS].get(fault["rule"])
    settings = rule.spec if rule is not None else {}
    body = response.body if isinstance(response.body, bytes) else b""
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    chunks = max(min(settings.get("chunks", SLOW_BODY_CHUNKS), len(body)), 1)
    pause = settings.get("duration_ms", SLOW_BODY_MS) / 1000 / chunks
    size = -(-len(body) // chunks)
    try:
        for start in range(0, max(len(body), 1), max(size, 1)):
            await asyncio.sleep(pause)
            await stream.write(body[start:start + size])
        await stream.write_eof()
    except ConnectionError:  # the client gave up waiting: what a slow answer is for
        pass
    return stream
