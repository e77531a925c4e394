"""The inspector's view of the journal: its filter, the row it lists, and the live feed (server-sent events).

The feed stays off the request path: a journal append only resolves the futures live views wait on (O(1)
per connected view); each view then sleeps ``COALESCE_SECONDS`` so a burst of requests becomes one event,
walks back from the newest entry to the last one it sent (O(new entries)) and renders the summary rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from sandbox.core import keys
from sandbox.core.clock import iso
from sandbox.core.errors import BadRequest
from sandbox.records.har import CREDENTIAL_FIELD, CREDENTIAL_HEADER, mask_value
from sandbox.records.journal import Entry, Filters, query_dict

BACKLOG = 500
"""How many of the newest matching requests a freshly opened list shows."""
COALESCE_SECONDS = 0.25
"""A live view sends at most one batch per this many seconds, however fast requests arrive."""
KEEPALIVE_SECONDS = 15.0
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx", "rejected")
"""``class=`` values: a status hundred, or ``rejected`` for any status from 400 up."""


class View:
    """The inspector's filter: the journal's exact fields plus status class and free text (``q``) over the
    path, query, request body and answer, case-insensitive."""

    __slots__ = ("exact", "status_class", "text")

    def __init__(self, query: Mapping[str, str]) -> None:
        try:
            self.exact = Filters.from_query({k: v for k, v in query.items() if v != "" and k != "after"})
        except ValueError as exc:
            raise BadRequest(f"bad filter: {exc}") from None
        self.status_class = query.get("class") or ""
        if self.status_class and self.status_class not in STATUS_CLASSES:
            raise BadRequest(f"class must be one of {', '.join(STATUS_CLASSES)}, got {self.status_class!r}")
        self.text = (query.get("q") or "").strip().lower().encode()

    def __call__(self, entry: Entry) -> bool:
        if not self.exact(entry):
            return False
        if self.status_class == "rejected":
            if entry.status < 400:
                return False
        elif self.status_class and entry.status // 100 != int(self.status_class[0]):
            return False
        if self.text:
            haystack = b"\0".join((entry.path.encode(), entry.query.encode(), entry.raw_body,
                                   entry.response_bytes)).lower()
            return self.text in haystack
        return True


def row(entry: Entry) -> dict[str, Any]:
    """One line of the requests list (no body parsing: cheap enough for every live update)."""
    return {"id": entry.id, "received_at": iso(entry.received), "vendor": entry.vendor,
            "operation": entry.operation, "method": entry.method, "path": entry.path, "status": entry.status,
            "tenant": shown_tenant(entry), "duration_ms": round(entry.duration_ms, 3)}


def shown_tenant(entry: Entry) -> str | None:
    """The tenant, masked like the HAR export when the vendor names it by a credential (an API key)."""
    tenant = entry.tenant
    if not tenant or tenant.encode("latin-1", "replace") not in entry.header_block + entry.query.encode():
        return tenant
    secret = any(CREDENTIAL_HEADER.search(name) and tenant in (value, value.partition(" ")[2].strip())
                 for name, value in entry.headers)
    secret = secret or any(CREDENTIAL_FIELD.match(name) and tenant in (v if isinstance(v, list) else [v])
                           for name, v in query_dict(entry.query).items())
    return mask_value(tenant) if secret else tenant


def newest(entries: list[Entry], match: View, limit: int) -> list[Entry]:
    """The newest ``limit`` matching entries, oldest first."""
    found: list[Entry] = []
    for entry in reversed(entries):
        if match(entry):
            found.append(entry)
            if len(found) == limit:
                break
    found.reverse()
    return found


def _event_id(request: web.Request) -> int:
    raw = request.headers.get("Last-Event-ID") or request.query.get("after") or "0"
    if not raw.isdigit():
        raise BadRequest(f"after must be a request id, got {raw!r}")
    return int(raw)


async def live(request: web.Request) -> web.StreamResponse:
    """``GET /_sandbox/ui/live``: server-sent events, one ``rows`` event per batch of new matching requests.
    The first event holds the newest ``BACKLOG`` matching ones (or those after ``Last-Event-ID``/``after``)."""
    app = request.app
    journal, closing = app[keys.JOURNAL], app[keys.CLOSING]
    match = View(request.query)
    after = _event_id(request)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    everything = journal.since(after)
    last = everything[-1].id if everything else after
    try:
        await _send(response, newest(everything, match, BACKLOG), last)
        while not closing.is_set():
            try:
                await asyncio.wait_for(journal.next_append(), KEEPALIVE_SECONDS)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            await asyncio.sleep(COALESCE_SECONDS)
            fresh = journal.since(last)
            if fresh:
                last = fresh[-1].id
                matching = [e for e in fresh if match(e)]
                if matching:
                    await _send(response, matching, last)
    except ConnectionResetError:  # the page went away
        pass
    return response


async def _send(response: web.StreamResponse, entries: list[Entry], last: int) -> None:
    data = orjson.dumps({"rows": [row(e) for e in entries], "last": last})
    await response.write(b"id: %d\nevent: rows\ndata: %s\n\n" % (last, data))
