"""``GET /_sandbox/deliveries``: what would have been sent (filters: vendor, tenant, campaign_id, user...)."""

from __future__ import annotations

from aiohttp import web

from sandbox.control.body import answer, int_param
from sandbox.core import keys


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/deliveries", list_deliveries)


async def list_deliveries(request: web.Request) -> web.Response:
    found = request.app[keys.DELIVERIES].query(request.query)
    limit = int_param(request, "limit")
    shown = found[:limit] if limit else found
    return answer({"deliveries": [d.as_dict() for d in shown], "total": len(found)})
