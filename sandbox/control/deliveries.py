"""``GET /_sandbox/deliveries``: what would have been sent (filters: vendor, tenant, campaign_id, user...), each
with its lifecycle so far (``status``, ``history``), and the ``funnel`` of everything that matched.
``status=<s>`` keeps the deliveries whose history has reached ``s`` (e.g. ``clicked``).

``GET /_sandbox/deliveries/skipped``: the users sends left out, with the reason (same filters plus
``reason``), the users skipped per reason (``counts``), and the vocabulary of reasons (``reasons``)."""

from __future__ import annotations

from aiohttp import web

from sandbox.control.body import answer, int_param
from sandbox.core import keys
from sandbox.records.deliveries import REASONS, reason_counts


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/deliveries", list_deliveries)
    router.add_get(prefix + "/deliveries/skipped", list_skipped)


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


async def list_skipped(request: web.Request) -> web.Response:
    log = request.app[keys.DELIVERIES].skipped
    found = log.query(request.query)
    limit = int_param(request, "limit")
    shown = found[:limit] if limit else found
    return answer({"skipped": [s.as_dict() for s in shown], "total": len(found), "counts": reason_counts(found),
                   "evicted": log.evicted, "reasons": REASONS})
