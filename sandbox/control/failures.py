"""``GET /_sandbox/failures``: unexpected server-side exceptions with their tracebacks.

Each failure names the journal entry (``id``) whose handling raised it; ``tenant`` is that entry's tenant
(None once the entry was evicted). Filters: ``tenant``, ``after`` (entry id).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.control.body import answer, int_param
from sandbox.core import keys


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/failures", list_failures)


async def list_failures(request: web.Request) -> web.Response:
    journal = request.app[keys.JOURNAL]
    tenant = request.query.get("tenant") or None
    after = int_param(request, "after", 0) or 0
    found: list[dict[str, Any]] = []
    for failure in request.app[keys.FAILURES]:
        entry = journal.get(failure["id"]) if isinstance(failure.get("id"), int) else None
        view = {**failure, "tenant": entry.tenant if entry is not None else failure.get("tenant")}
        if (failure.get("id") or 0) > after and (tenant is None or view["tenant"] == tenant):
            found.append(view)
    return answer({"failures": found, "total": len(found)})
