"""``GET /_sandbox/metrics``: Prometheus text (``sandbox.core.metrics``), and the figures read at scrape time."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from sandbox.core import keys


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/metrics", metrics)


async def metrics(request: web.Request) -> web.Response:
    response = web.Response(body=request.app[keys.METRICS].render())
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


def figures(app: web.Application) -> dict[str, Any]:
    """The app's state for the scrape-time collector: one pass over the journal and the deliveries."""
    journal = app[keys.JOURNAL]
    deliveries = app[keys.DELIVERIES]
    by_channel: Counter[tuple[str, ...]] = Counter((d.vendor, d.channel) for d in deliveries.query({}))
    audience = app.get(keys.AUDIENCE)
    return {
        "journal_entries": len(journal),
        "journal_bytes": sum(len(e.raw_body) + len(e.response_bytes) + len(e.header_block) for e in journal),
        "journal_evicted": journal.evicted,
        "deliveries": by_channel,
        "deliveries_evicted": deliveries.evicted,
        "faults_injected": app[keys.FAULTS].injected,
        "fault_rules": len(app[keys.FAULTS].rules()),
        "rate_limited": app[keys.LIMITER].rejected,
        "population_size": len(audience) if audience is not None else 0,
    }
