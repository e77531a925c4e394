"""Per-vendor control: what a vendor holds (``GET``) and run-time additions to it (``POST``)."""

from __future__ import annotations

from aiohttp import web

from sandbox.control.body import answer, read_json
from sandbox.core import keys
from sandbox.core.errors import BadRequest, NotFound
from sandbox.core.provider import Provider


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/vendors", list_vendors)
    router.add_get(prefix + "/vendors/{vendor}", get_vendor)
    router.add_post(prefix + "/vendors/{vendor}/{collection}", add_data)


def _provider(request: web.Request) -> Provider:
    name = request.match_info["vendor"]
    found = next((p for p in request.app[keys.PROVIDERS] if p.name == name), None)
    if found is None:
        raise NotFound(f"unknown vendor {name!r}", details={"vendors": [p.name for p in request.app[keys.PROVIDERS]]})
    return found


async def list_vendors(request: web.Request) -> web.Response:
    return answer({"vendors": [{"name": p.name, **p.describe()} for p in request.app[keys.PROVIDERS]]})


async def get_vendor(request: web.Request) -> web.Response:
    """What the vendor holds, by collection (campaigns, schedules and due times, dashboard objects);
    ``?tenant=`` narrows run-time state to one tenant (default: every tenant)."""
    provider = _provider(request)
    tenant = request.query.get("tenant") or None
    return answer({"vendor": provider.name, "tenant": tenant, **provider.describe(),
                   "collections": provider.snapshot(tenant)})


async def add_data(request: web.Request) -> web.Response:
    """Body: one item (or a list of items); ``?tenant=`` scopes them (default: every tenant)."""
    provider = _provider(request)
    collection = request.match_info["collection"]
    tenant = request.query.get("tenant") or None
    body = await read_json(request)
    items = body if isinstance(body, list) else [body]
    try:
        stored = [provider.add_data(collection, item, tenant) for item in items]
    except LookupError as exc:
        raise NotFound(str(exc)) from None
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return answer({"vendor": provider.name, "collection": collection, "tenant": tenant, "added": stored},
                  status=201)
