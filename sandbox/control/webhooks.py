"""``GET /_sandbox/webhooks``: the outbound calls the sandbox made (one entry per attempt), with the journal's
filters (vendor, operation, tenant, method, path, status, ``body.<path>``, ``after``) plus ``url``,
``attempt`` and ``label``, and its long poll (``wait`` seconds for ``count`` entries); ``DELETE`` clears."""

from __future__ import annotations

from aiohttp import web

from sandbox.control.body import answer, float_param, int_param
from sandbox.control.requests import MAX_WAIT_SECONDS
from sandbox.core import keys
from sandbox.core.errors import BadRequest
from sandbox.records.webhooks import outbound_filters


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/webhooks", list_webhooks)
    router.add_delete(prefix + "/webhooks", clear_webhooks)


async def list_webhooks(request: web.Request) -> web.Response:
    log = request.app[keys.WEBHOOKS].log
    try:
        match = outbound_filters(request.query)
    except ValueError as exc:
        raise BadRequest(f"bad filter: {exc}") from None
    wait = min(float_param(request, "wait", 0.0), MAX_WAIT_SECONDS)
    count = int_param(request, "count", 1) or 1
    found = await log.wait(match, count, wait) if wait > 0 else await log.select_async(match)
    limit = int_param(request, "limit")
    shown = found[:limit] if limit else found
    return answer({"webhooks": [e.as_dict() for e in shown], "total": len(found)})


async def clear_webhooks(request: web.Request) -> web.Response:
    tenant = request.query.get("tenant") or None
    return answer({"cleared": request.app[keys.WEBHOOKS].log.clear(tenant), "tenant": tenant})
