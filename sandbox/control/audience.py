"""Profiles and audience estimates over the shared population."""

from __future__ import annotations

import numpy as np
from aiohttp import web

from sandbox.control.body import answer, int_param, read_json
from sandbox.core import keys
from sandbox.core.errors import BadRequest, NotFound
from sandbox.population.audience.tree import validate_tree

SAMPLE_SIZE = 10
PROFILES_PAGE_MAX = 10_000
"""The most profiles one ``GET /_sandbox/profiles`` returns (each is decoded for the answer); page with
``offset`` for more."""


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/profiles", list_profiles)
    router.add_get(prefix + "/profiles/{identity}", get_profile)
    router.add_post(prefix + "/audience/estimate", estimate)


async def list_profiles(request: web.Request) -> web.Response:
    """``?limit=&offset=`` and equality filters on fields or custom properties (``?country=IN&Plan=pro``);
    ``?tenant=T``: the population as tenant T sees it (with its writes), else the built population."""
    filters = {k: v for k, v in request.query.items() if k not in ("limit", "offset", "tenant")}
    people = request.app[keys.AUDIENCE].profiles(tenant=request.query.get("tenant"), where=filters)
    offset = max(int_param(request, "offset", 0) or 0, 0)
    limit = int_param(request, "limit", 100) or 100
    limit = min(limit if limit > 0 else 100, PROFILES_PAGE_MAX)
    return answer({"profiles": people[offset:offset + limit], "total": len(people)})


async def get_profile(request: web.Request) -> web.Response:
    identity = request.match_info["identity"]
    found = request.app[keys.AUDIENCE].find(identity, tenant=request.query.get("tenant"))
    if found is None:
        raise NotFound(f"no profile with identity, external id, email, objectId, internal id or phone {identity!r}")
    return answer(found)


async def estimate(request: web.Request) -> web.Response:
    """Body: ``{"tree": <neutral tree>}`` or ``{"vendor": "<name>", "audience": <that vendor's filter>}``,
    plus optional ``channel``, ``platforms``, ``count_devices``, ``tenant``, ``sample`` (how many ids)."""
    app = request.app
    body = await read_json(request, default={})
    if not isinstance(body, dict) or ("tree" in body) == ("vendor" in body):
        raise BadRequest('expected {"tree": {...}} or {"vendor": "<name>", "audience": {...}}')
    service = app[keys.AUDIENCE]
    tenant = body.get("tenant")
    if tenant is not None and not isinstance(tenant, str):
        raise BadRequest('"tenant" must be a string')
    channel = body.get("channel")
    platforms = body.get("platforms")
    resolve = None
    if "vendor" in body:
        provider = next((p for p in app[keys.PROVIDERS] if p.name == body["vendor"]), None)
        if provider is None:
            raise BadRequest(f"unknown vendor {body['vendor']!r}",
                             details={"vendors": [p.name for p in app[keys.PROVIDERS]]})
        try:
            query = provider.audience(body.get("audience"), tenant)
        except (ValueError, LookupError) as exc:
            raise BadRequest(f"{provider.name} audience: {exc}") from None
        if query is None:
            raise BadRequest(f"{provider.name} does not translate audiences yet")
        tree, resolve = query.tree, query.resolve_member
        channel = channel if channel is not None else query.channel
        platforms = platforms if platforms is not None else query.platforms
    else:
        tree = body["tree"]
    size = body.get("sample", SAMPLE_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise BadRequest(f"sample must be a whole number of ids to show (default {SAMPLE_SIZE}), got {size!r}")
    try:
        validate_tree(tree)
        matched = int(np.count_nonzero(service.evaluate(tree, tenant=tenant, resolve_member=resolve)))
        sample = service.members(tree, tenant=tenant, resolve_member=resolve, limit=min(size, PROFILES_PAGE_MAX))
        counts = service.estimate(tree, tenant=tenant, channel=channel, platforms=platforms,
                                  count_devices=bool(body.get("count_devices")), resolve_member=resolve)
    except (ValueError, LookupError) as exc:
        raise BadRequest(str(exc)) from None
    return answer({"tree": tree, "channel": channel, "matched": matched, "estimates": counts,
                   "sample": [p.get("identity") for p in sample]})
