"""Health, reset, routes and the clock."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from aiohttp import web

from sandbox import __version__
from sandbox.control.body import answer, read_json
from sandbox.core import keys
from sandbox.core.errors import BadRequest


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/health", health)
    router.add_post(prefix + "/reset", reset)
    router.add_get(prefix + "/routes", routes)
    router.add_get(prefix + "/clock", clock_get)
    router.add_post(prefix + "/clock", clock_set)


async def health(request: web.Request) -> web.Response:
    app = request.app
    journal = app[keys.JOURNAL]
    return answer({
        "status": "ok",
        "version": __version__,
        "vendors": [p.name for p in app[keys.PROVIDERS]],
        "journal": {"size": len(journal), "limit": journal.limit, "evicted": journal.evicted},
        "deliveries": {"size": len(app[keys.DELIVERIES]), "limit": app[keys.DELIVERIES].limit,
                       "evicted": app[keys.DELIVERIES].evicted},
        "failures": len(app[keys.FAILURES]),
        "population": app[keys.AUDIENCE].describe(),
        # What this server was started with (flags / SANDBOX_* variables), e.g. to check a container's -e.
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(app[keys.SETTINGS]).items()},
    })


async def reset(request: web.Request) -> web.Response:
    app = request.app
    tenant = request.query.get("tenant") or None
    cleared = app[keys.JOURNAL].clear(tenant)
    app[keys.DELIVERIES].reset(tenant)
    app[keys.AUDIENCE].reset(tenant)
    for provider in app[keys.PROVIDERS]:
        provider.reset(tenant)
    app[keys.FAULTS].clear(tenant)
    app[keys.LIMITER].reset(tenant)
    if tenant is None:
        app[keys.FAILURES].clear()
        app[keys.CLOCK].reset()
    return answer({"status": "ok", "tenant": tenant, "cleared_requests": cleared})


async def routes(request: web.Request) -> web.Response:
    table = [op.describe() for p in request.app[keys.PROVIDERS] for op in p.operations()]
    return answer({"routes": table, "total": len(table)})


async def clock_get(request: web.Request) -> web.Response:
    clock = request.app[keys.CLOCK]
    return answer({"now": clock.now().isoformat().replace("+00:00", "Z")})


async def clock_set(request: web.Request) -> web.Response:
    app = request.app
    body = await read_json(request, default={})
    clock = app[keys.CLOCK]
    if not isinstance(body, dict) or not ({"advance_seconds", "now"} & body.keys()):
        raise BadRequest('expected {"advance_seconds": N} or {"now": "<ISO 8601>"}')
    try:
        if "advance_seconds" in body:
            seconds = body["advance_seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                raise ValueError("advance_seconds must be a number")
            clock.advance(float(seconds))
        else:
            when = datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00"))
            if when.tzinfo is None:
                raise ValueError("now must carry a time zone (e.g. a trailing Z)")
            clock.set(when)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    for provider in app[keys.PROVIDERS]:
        await provider.on_clock(app)
    return answer({"now": clock.now().isoformat().replace("+00:00", "Z")})
