"""Per-vendor control: the vendors, and each vendor's dashboard-data collections (``GET`` what a tenant
sees, ``POST`` run-time additions, ``DELETE`` one). An unknown collection answers with the valid ones."""

from __future__ import annotations

from aiohttp import web

from sandbox.control.body import answer, read_json
from sandbox.core import keys
from sandbox.core.errors import BadRequest, NotFound
from sandbox.core.provider import Provider


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/vendors", list_vendors)
    router.add_get(prefix + "/vendors/{vendor}", list_collections)
    router.add_get(prefix + "/vendors/{vendor}/{collection}", list_data)
    router.add_post(prefix + "/vendors/{vendor}/{collection}", add_data)
    router.add_delete(prefix + "/vendors/{vendor}/{collection}/{item_id}", remove_data)


def _provider(request: web.Request) -> Provider:
    name = request.match_info["vendor"]
    found = next((p for p in request.app[keys.PROVIDERS] if p.name == name), None)
    if found is None:
        raise NotFound(f"unknown vendor {name!r}", details={"vendors": [p.name for p in request.app[keys.PROVIDERS]]})
    return found


def _collection(request: web.Request, provider: Provider) -> str:
    collection = request.match_info["collection"]
    if collection not in provider.collections:
        valid = ", ".join(provider.collections) or "none"
        raise NotFound(f"{provider.name} has no collection {collection!r}; valid: {valid}",
                       details={"collections": list(provider.collections)})
    return collection


async def list_vendors(request: web.Request) -> web.Response:
    return answer({"vendors": [{"name": p.name, "collections": list(p.collections), "strict": p.strict,
                                **p.describe()} for p in request.app[keys.PROVIDERS]]})


async def list_collections(request: web.Request) -> web.Response:
    provider = _provider(request)
    return answer({"vendor": provider.name, "collections": list(provider.collections), "strict": provider.strict})


async def list_data(request: web.Request) -> web.Response:
    provider = _provider(request)
    collection = _collection(request, provider)
    tenant = request.query.get("tenant") or None
    items = provider.list_data(collection, tenant)
    return answer({"vendor": provider.name, "collection": collection, "tenant": tenant, "items": items,
                   "total": len(items)})


async def add_data(request: web.Request) -> web.Response:
    """Body: one item (or a list of items); ``?tenant=`` scopes them (default: every tenant)."""
    provider = _provider(request)
    collection = _collection(request, provider)
    tenant = request.query.get("tenant") or None
    body = await read_json(request)
    items = body if isinstance(body, list) else [body]
    try:
        stored = [provider.add_data(collection, item, tenant) for item in items]
    except (ValueError, TypeError, KeyError) as exc:
        raise BadRequest(f"{provider.name} {collection}: {exc}") from None
    return answer({"vendor": provider.name, "collection": collection, "tenant": tenant, "added": stored},
                  status=201)


async def remove_data(request: web.Request) -> web.Response:
    provider = _provider(request)
    collection = _collection(request, provider)
    tenant = request.query.get("tenant") or None
    item_id = request.match_info["item_id"]
    if not provider.remove_data(collection, item_id, tenant):
        raise NotFound(f"{provider.name} {collection} has no run-time or provisioned {item_id!r}"
                       + (f" for tenant {tenant!r}" if tenant else " for every tenant (pass ?tenant=)"))
    return answer({"vendor": provider.name, "collection": collection, "tenant": tenant, "removed": item_id})
