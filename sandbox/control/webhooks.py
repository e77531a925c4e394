"""``GET /_sandbox/webhooks``: the outbound calls the sandbox made (one entry per attempt), with the journal's
filters (vendor, operation, tenant, method, path, status, ``body.<path>``, ``after``) plus ``url``,
``attempt`` and ``label``, and its long poll (``wait`` seconds for ``count`` entries); ``DELETE`` clears."""

from __future__ import annotations

from aiohttp import web

from sandbox.control.body import answer, int_param
from sandbox.control.requests import matching
from sandbox.core import keys
from sandbox.records.webhooks import OutboundFilters


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/webhooks", list_webhooks)
    router.add_delete(prefix + "/webhooks", clear_webhooks)


async def list_webhooks(request: web.Request) -> web.Response:
    found = await matching(request, request.app[keys.WEBHOOKS].log, OutboundFilters)
    limit = int_param(request, "limit")
    shown = found[:limit] if limit else found
    return answer({"webhooks": [e.as_dict() for e in shown], "total": len(found)})


async def clear_webhooks(request: web.Request) -> web.Response:
    tenant = request.query.get("tenant") or None
    return answer({"cleared": request.app[keys.WEBHOOKS].log.clear(tenant), "tenant": tenant})
