"""The journal over HTTP: list with filters (and long poll), HAR export, one entry, clear."""

from __future__ import annotations

from aiohttp import web

from sandbox.control.body import answer, float_param, int_param
from sandbox.core import keys
from sandbox.core.errors import BadRequest, NotFound
from sandbox.records.har import to_har
from sandbox.records.journal import Entry, Filters, page

MAX_WAIT_SECONDS = 60.0


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/requests", list_requests)
    router.add_get(prefix + "/requests.har", export_har)
    router.add_delete(prefix + "/requests", clear_requests)
    router.add_get(prefix + "/requests/{id}", get_request)


def filters_of(request: web.Request) -> Filters:
    try:
        return Filters.from_query(request.query)
    except ValueError as exc:
        raise BadRequest(f"bad filter: {exc}") from None


async def selected(request: web.Request) -> tuple[list[Entry], list[Entry]]:
    """(the page of entries to show, every matching entry): filters, ``wait``/``count`` long poll, ``limit``."""
    journal = request.app[keys.JOURNAL]
    match = filters_of(request)
    limit = int_param(request, "limit")
    wait = min(float_param(request, "wait", 0.0), MAX_WAIT_SECONDS)
    count = int_param(request, "count", 1) or 1
    found = await journal.wait(match, count, wait) if wait > 0 else journal.select(match)
    return page(found, limit), found


async def list_requests(request: web.Request) -> web.Response:
    entries, found = await selected(request)
    return answer({"requests": [e.as_dict() for e in entries], "total": len(found)})


async def export_har(request: web.Request) -> web.Response:
    """The same selection as a HAR 1.2 document; credentials masked unless ``mask=0``."""
    entries, _ = await selected(request)
    mask = request.query.get("mask", "1").lower() not in ("0", "false", "no")
    views = [{**e.as_dict(), "response_text": e.response_bytes.decode("utf-8", "replace")} for e in entries]
    return answer(to_har(views, mask=mask))


async def get_request(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    entry = request.app[keys.JOURNAL].get(int(raw)) if raw.isdigit() else None
    if entry is None:
        raise NotFound(f"no request with id {raw}")
    return answer(entry.as_dict())


async def clear_requests(request: web.Request) -> web.Response:
    tenant = request.query.get("tenant") or None
    cleared = request.app[keys.JOURNAL].clear(tenant)
    return answer({"cleared": cleared, "tenant": tenant})
