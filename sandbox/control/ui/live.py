"""The inspector's view of the journal: its filter, the row it lists, and the live feed (server-sent events).

The feed stays off the request path: a journal append only resolves the futures live views wait on (O(1)
per connected view); each view then sleeps ``COALESCE_SECONDS`` so a burst of requests becomes one event,
walks back from the newest entry to the last one it sent and renders at most ``BATCH`` summary rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from sandbox.core import keys
from sandbox.core.errors import BadRequest
from sandbox.records.har import CREDENTIAL_FIELD, CREDENTIAL_HEADER, mask_value
from sandbox.records.journal import Entry, Filters, query_dict

BACKLOG = 500
"""How many of the newest matching requests a freshly opened list shows."""
COALESCE_SECONDS = 0.25
"""A live view sends at most one batch per this many seconds, however fast requests arrive."""
BATCH = 200
"""At most this many (the newest) matching requests per batch: under heavy load a view costs a bounded
amount of work per second, not some per request (the page keeps the newest 1000 rows anyway)."""
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


class Rows:
    """Entries -> lines of the requests list: a few plain fields, no body parsing (``received`` is epoch
    seconds; the page formats it). Whether a tenant is shown masked is decided once per vendor and tenant."""

    __slots__ = ("_tenants",)

    def __init__(self) -> None:
        self._tenants: dict[tuple[str | None, str], str] = {}

    def __call__(self, entry: Entry) -> dict[str, Any]:
        tenant = entry.tenant
        if tenant:
            key = (entry.vendor, tenant)
            shown = self._tenants.get(key)
            if shown is None:
                if len(self._tenants) > 10_000:
                    self._tenants.clear()
                shown = self._tenants[key] = shown_tenant(entry)
            tenant = shown
        return {"id": entry.id, "received": entry.received, "vendor": entry.vendor, "operation": entry.operation,
                "method": entry.method, "path": entry.path, "status": entry.status, "tenant": tenant,
                "duration_ms": round(entry.duration_ms, 3)}


def shown_tenant(entry: Entry) -> str | None:
    """The tenant, masked like the HAR export when the vendor names it by a credential (an API key)."""
    tenant = entry.tenant
    if not tenant or tenant.encode("latin-1", "replace") not in entry.header_block + entry.query.encode():
        return tenant
    secret = any(CREDENTIAL_HEADER.search(name) and tenant in (value, value.partition(" ")[2].strip())
                 for name, value in entry.headers)
    secret = secret or any(CREDENTIAL_FIELD.search(name) and tenant in (v if isinstance(v, list) else [v])
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
    The first event holds the newest ``BACKLOG`` matching ones (or those after ``Last-Event-ID``/``after``);
    after the journal was cleared (reset) an event with ``"reset": true`` holds the whole list afresh."""
    app = request.app
    journal = app[keys.JOURNAL]
    match = View(request.query)
    after = _event_id(request)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    rows = Rows()
    everything = journal.since(after)
    last = everything[-1].id if everything else after
    clears = journal.clears
    try:
        await _send(response, rows, newest(everything, match, BACKLOG), last)
        while not journal.closing:
            try:
                await asyncio.wait_for(journal.next_append(), KEEPALIVE_SECONDS)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            await asyncio.sleep(COALESCE_SECONDS)
            if journal.clears != clears:  # a reset or DELETE removed entries: the page lists afresh
                clears = journal.clears
                everything = journal.since(0)
                last = everything[-1].id if everything else last
                await _send(response, rows, newest(everything, match, BACKLOG), last, reset=True)
                continue
            fresh = journal.since(last)
            if fresh:
                last = fresh[-1].id
                matching = newest(fresh, match, BATCH)
                if matching:
                    await _send(response, rows, matching, last)
    except ConnectionResetError:  # the page went away
        pass
    return response


async def _send(response: web.StreamResponse, rows: Rows, entries: list[Entry], last: int,
                reset: bool = False) -> None:
    data = orjson.dumps({"rows": [rows(e) for e in entries], "last": last, "reset": reset})
    await response.write(b"id: %d\nevent: rows\ndata: %s\n\n" % (last, data))
