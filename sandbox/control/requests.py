"""The journal over HTTP: list with filters, paging (and long poll), HAR export, one entry, clear.

``GET /requests`` answers one page (``limit``, default ``DEFAULT_PAGE``, at most ``MAX_PAGE``) and ``next``:
the cursor to pass as ``after=`` for the following page (null on the last one). The HAR export is streamed
in batches, handing the event loop back between them, so a large journal never stalls other requests.
``mask=1`` masks credentials in list and single-entry reads; the HAR export masks unless ``mask=0``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from aiohttp import web

from sandbox.control.body import answer, float_param, int_param
from sandbox.core import keys, safejson
from sandbox.core.errors import BadRequest, NotFound
from sandbox.records.har import har_entry, har_header, mask_entry
from sandbox.records.journal import Entry, Filters, Journal, LoopBudget, page

MAX_WAIT_SECONDS = 60.0
HAR_BATCH_BYTES = 1024 * 1024
"""Bytes of entries rendered into one write of a streamed HAR export."""


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/requests", list_requests)
    router.add_get(prefix + "/requests.har", export_har)
    router.add_delete(prefix + "/requests", clear_requests)
    router.add_get(prefix + "/requests/{id}", get_request)


def filters_of(request: web.Request, kind: type[Filters] = Filters) -> Filters:
    try:
        return kind.from_query(request.query)
    except (ValueError, OverflowError) as exc:
        raise BadRequest(f"bad filter: {exc}") from None


def flag(request: web.Request, name: str, default: bool) -> bool:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    return raw.lower() not in ("0", "false", "no", "off")


async def matching(request: web.Request, journal: Journal | None = None,
                   kind: type[Filters] = Filters) -> list[Entry]:
    """Every entry of ``journal`` (default: the request journal) matching the ``kind`` filters of the query,
    after the ``wait``/``count`` long poll when one is asked for."""
    journal = request.app[keys.JOURNAL] if journal is None else journal
    match = filters_of(request, kind)
    wait = min(float_param(request, "wait", 0.0), MAX_WAIT_SECONDS)
    count = int_param(request, "count", 1) or 1
    return await journal.wait(match, count, wait) if wait > 0 else await journal.select_async(match)


def view(entry: Entry, masked: bool) -> dict[str, Any]:
    shown = entry.as_dict()
    return mask_entry(shown) if masked else shown


async def list_requests(request: web.Request) -> web.Response:
    limit = int_param(request, "limit")
    if limit is not None and limit < 1:
        raise BadRequest(f"query parameter limit must be at least 1, got {limit}")
    found = await matching(request)
    shown, cursor = page(found, limit)
    masked = flag(request, "mask", False)
    return answer({"requests": [view(e, masked) for e in shown], "total": len(found), "next": cursor})


async def export_har(request: web.Request) -> web.StreamResponse:
    """Every matching entry as a HAR 1.2 document (``limit`` caps it); credentials masked unless ``mask=0``."""
    limit = int_param(request, "limit")
    found = await matching(request)
    if limit is not None and limit > 0:
        found = found[:limit]
    return await stream_har(request, found, masked=flag(request, "mask", True))


async def stream_har(request: web.Request, found: Sequence[Entry], *, masked: bool,
                     headers: Mapping[str, str] | None = None) -> web.StreamResponse:
    """``found`` as a HAR 1.2 document, written in batches with the loop free between them (a whole journal
    can be large)."""
    response = web.StreamResponse(headers={"Content-Type": "application/json", **(headers or {})})
    await response.prepare(request)
    head = orjson.dumps({"log": har_header()})
    await response.write(head[:-2] + b',"entries":[')
    budget = LoopBudget()
    parts: list[bytes] = []
    held = 0
    for number, entry in enumerate(found):
        shown = {**entry.as_dict(keep=False), "response_text": entry.response_bytes.decode("utf-8", "replace")}
        parts.append(safejson.dumps(har_entry(shown, mask=masked)))
        held += entry.size
        if held >= HAR_BATCH_BYTES or number == len(found) - 1:
            await response.write((b"," if number >= len(parts) else b"") + b",".join(parts))
            parts, held = [], 0
        await budget.spend()  # other requests (health checks) run between slices of the export
    await response.write(b"]}}")
    await response.write_eof()
    return response


async def get_request(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    entry = request.app[keys.JOURNAL].get(int(raw)) if raw.isascii() and raw.isdigit() else None
    if entry is None:
        raise NotFound(f"no request with id {raw}")
    return answer(view(entry, flag(request, "mask", False)))


async def clear_requests(request: web.Request) -> web.Response:
    tenant = request.query.get("tenant") or None
    cleared = request.app[keys.JOURNAL].clear(tenant)
    return answer({"cleared": cleared, "tenant": tenant})
