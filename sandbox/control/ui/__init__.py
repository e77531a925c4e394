"""The web inspector: ``GET /_sandbox/ui`` (and ``/`` when no vendor claims it).

A small static app (``static/``: one HTML page, one script, one stylesheet; no CDN, no build step) over the
control API's JSON, plus the few read-only endpoints it needs that the JSON API lacks: the live requests
feed (server-sent events), one request with its credentials masked, the HAR of the list's filter, a
population summary and each vendor's tables. The files are read once at startup; serving them touches no disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.control.body import answer
from sandbox.control.requests import stream_har
from sandbox.control.ui.live import View, live
from sandbox.core import keys
from sandbox.core.errors import NotFound
from sandbox.records.har import har_entry, mask_entry
from sandbox.records.journal import Entry, parse_json, query_dict

STATIC = Path(__file__).parent / "static"
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
ENTRY_FIELDS = frozenset({"id", "received_at", "tenant", "vendor", "operation", "method", "path", "query",
                          "headers", "body", "raw_body", "status", "response", "response_headers", "duration_ms"})


def setup(app: web.Application, prefix: str) -> None:
    app[keys.UI_FILES] = {p.name: (p.read_bytes(), CONTENT_TYPES.get(p.suffix, "application/octet-stream"))
                  for p in STATIC.iterdir() if p.is_file()}
    app.on_shutdown.append(_close_live_views)
    router = app.router
    router.add_get(prefix + "/ui", page)
    router.add_get(prefix + "/ui/static/{name}", static)
    router.add_get(prefix + "/ui/live", live)
    router.add_get(prefix + "/ui/requests.har", har)
    router.add_get(prefix + "/ui/requests/{id}", request_detail)
    router.add_get(prefix + "/ui/population", population)
    router.add_get(prefix + "/ui/vendors/{vendor}", vendor)


async def _close_live_views(app: web.Application) -> None:
    app[keys.JOURNAL].wake_all()  # live views stop at their next wake-up (``Journal.closing``)


def _file(request: web.Request, name: str) -> web.Response:
    found = request.app[keys.UI_FILES].get(name)
    if found is None:
        raise NotFound(f"no inspector file {name!r}")
    body, content_type = found
    return web.Response(body=body, content_type=content_type, headers={"Cache-Control": "no-cache"})


async def page(request: web.Request) -> web.Response:
    return _file(request, "index.html")


async def static(request: web.Request) -> web.Response:
    return _file(request, request.match_info["name"])


# Pages hold no data: a browser must load them before it can ask for the control token (``page = True``
# marks handlers a control-token guard lets through; the page then sends the token with every data call).
page.page = True  # type: ignore[attr-defined]
static.page = True  # type: ignore[attr-defined]


async def root(request: web.Request) -> web.Response:
    """``GET /`` from a browser when no vendor claims it: to the inspector, keeping the query (``?tenant=``)."""
    target = "/_sandbox/ui" + (f"?{request.query_string}" if request.query_string else "")
    return web.Response(status=302, headers={"Location": target})


root.page = True  # type: ignore[attr-defined]


def _view(entry: Entry) -> dict[str, Any]:
    return {**entry.as_dict(), "response_text": entry.response_bytes.decode("utf-8", "replace")}


async def request_detail(request: web.Request) -> web.Response:
    """One request as the inspector shows it: credentials masked as in the HAR export (headers, query,
    body keys, the tenant when it is the key), the raw answer, and under ``notes`` every further journal field
    that is set (notes, hint, an injected fault...), as it is."""
    raw = request.match_info["id"]
    entry = request.app[keys.JOURNAL].get(int(raw)) if raw.isascii() and raw.isdigit() else None
    if entry is None:
        raise NotFound(f"no request with id {raw}")
    view = mask_entry(_view(entry))
    masked = har_entry(view, mask=False)
    sent = masked["request"]
    raw_body = sent.get("postData", {}).get("text", "")
    body = parse_json(raw_body.encode())
    if body is None and entry.form:
        body = query_dict(raw_body)
    query: dict[str, list[str]] = {}
    for item in sent["queryString"]:
        query.setdefault(item["name"], []).append(item["value"])
    return answer({
        **view,
        "tenant": masked["_tenant"],
        "url": sent["url"],
        "headers": [[h["name"], h["value"]] for h in sent["headers"]],
        "query": query,
        "body": body,
        "raw_body": raw_body,
        "body_parsed": body is not None,
        "response_type": masked["response"]["content"]["mimeType"],
        "response_headers": [[h["name"], h["value"]] for h in masked["response"]["headers"]],
        "notes": {k: v for k, v in view.items()
                  if k not in ENTRY_FIELDS and k != "response_text" and v not in (None, "", [], {})},
    })


async def har(request: web.Request) -> web.StreamResponse:
    """The requests the list shows (same filter: vendor, operation, tenant, status, class, q), as HAR 1.2,
    credentials masked."""
    entries = request.app[keys.JOURNAL].select(View(request.query))
    return await stream_har(request, entries, masked=True,
                            headers={"Content-Disposition": 'attachment; filename="sandbox-requests.har"'})


async def population(request: web.Request) -> web.Response:
    """Users per channel and platform (reachable, from the audience engine), tiers, countries, top events, as
    ``?tenant=`` sees the population (its own writes on top of the shared one; default: the shared one)."""
    service = request.app[keys.AUDIENCE]
    counts = service.summary(tenant=request.query.get("tenant") or None)
    return answer({"population": service.describe(), "reach": counts["reachable"],
                   "counted_profiles": counts["profiles"], "tiers": counts["customer_types"],
                   "countries": counts["countries"], "top_events": dict(counts["top_events"])})


async def vendor(request: web.Request) -> web.Response:
    """A vendor's tables: its dashboard collections (as ``/_sandbox/vendors/<name>/<collection>`` lists them,
    provisioned objects included) and its ``snapshot``: run-time state such as schedules and their due times."""
    name = request.match_info["vendor"]
    provider = next((p for p in request.app[keys.PROVIDERS] if p.name == name), None)
    if provider is None:
        raise NotFound(f"unknown vendor {name!r}", details={"vendors": [p.name for p in request.app[keys.PROVIDERS]]})
    tenant = request.query.get("tenant") or None
    return answer({"vendor": provider.name, "tenant": tenant, **provider.describe(),
                   "collections": {c: provider.list_data(c, tenant) for c in provider.collections},
                   "state": provider.snapshot(tenant)})
