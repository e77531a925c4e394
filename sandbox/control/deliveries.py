"""``GET /_sandbox/deliveries``: what would have been sent (filters: vendor, tenant, campaign_id, user...), each
with its lifecycle so far (``status``, ``history``), and the ``funnel`` of everything that matched.
``status=<s>`` keeps the deliveries whose history has reached ``s`` (e.g. ``clicked``)."""

from __future__ import annotations

from aiohttp import web

from sandbox.control.body import answer, int_param
from sandbox.core import keys


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/deliveries", list_deliveries)


async def list_deliveries(request: web.Request) -> web.Response:
    engagement = request.app[keys.ENGAGEMENT]
    found = request.app[keys.DELIVERIES].query(request.query)
    wanted = request.query.get("status")
    if wanted:
        found = [d for d in found if engagement.reached(d, wanted)]
    limit = int_param(request, "limit")
    shown = found[:limit] if limit else found
    return answer({"deliveries": [{**d.as_dict(), **engagement.view(d)} for d in shown], "total": len(found),
                   "funnel": engagement.funnel(found)})
