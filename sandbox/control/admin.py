"""Health, reset, routes and the clock."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox import __version__
from sandbox.control.body import answer, read_json
from sandbox.core import keys
from sandbox.core.clock import ClockError, iso
from sandbox.core.errors import BadRequest
from sandbox.settings import Settings


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/health", health)
    router.add_post(prefix + "/reset", reset)
    router.add_get(prefix + "/routes", routes)
    router.add_get(prefix + "/clock", clock_get)
    router.add_post(prefix + "/clock", clock_set)


async def health(request: web.Request) -> web.Response:
    app = request.app
    journal = app[keys.JOURNAL]
    skipped = app[keys.DELIVERIES].skipped
    return answer({
        "status": "ok",
        "version": __version__,
        "vendors": [p.name for p in app[keys.PROVIDERS]],
        "journal": {"size": len(journal), "limit": journal.limit, "evicted": journal.evicted,
                    "bytes": journal.bytes, "max_bytes": journal.max_bytes},
        "deliveries": {"size": len(app[keys.DELIVERIES]), "limit": app[keys.DELIVERIES].limit,
                       "evicted": app[keys.DELIVERIES].evicted, "bytes": app[keys.DELIVERIES].bytes,
                       "max_bytes": app[keys.DELIVERIES].max_bytes},
        "skipped": {"size": len(skipped), "limit": skipped.limit, "evicted": skipped.evicted, "bytes": skipped.bytes,
                    "max_bytes": skipped.max_bytes},
        "failures": len(app[keys.FAILURES]),
        "population": app[keys.AUDIENCE].describe(),
        # What this server was started with (flags / SANDBOX_* variables), e.g. to check a container's -e.
        "settings": settings_view(app[keys.SETTINGS]),
    })


def settings_view(settings: Settings) -> dict[str, Any]:
    """The settings as JSON, the control token only as whether one is set (health is not guarded)."""
    view = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(settings).items()}
    view["control_token"] = "***" if settings.control_token else None
    return view


async def reset(request: web.Request) -> web.Response:
    app = request.app
    tenant = request.query.get("tenant") or None
    cleared = app[keys.JOURNAL].clear(tenant)
    app[keys.DELIVERIES].reset(tenant)
    app[keys.WEBHOOKS].reset(tenant)
    app[keys.AUDIENCE].reset(tenant)
    for provider in app[keys.PROVIDERS]:
        provider.reset(tenant)
    app[keys.CLOCK].reset(tenant)
    app[keys.FAULTS].clear(tenant)
    app[keys.LIMITER].reset(tenant)
    if tenant is None:
        app[keys.FAILURES].clear()
    return answer({"status": "ok", "tenant": tenant, "cleared_requests": cleared})


async def routes(request: web.Request) -> web.Response:
    table = [op.describe() for p in request.app[keys.PROVIDERS] for op in p.operations()]
    return answer({"routes": table, "total": len(table)})


async def clock_get(request: web.Request) -> web.Response:
    """``GET /_sandbox/clock[?tenant=T]``: that tenant's time (without ``tenant``: the shared clock)."""
    tenant = request.query.get("tenant") or None
    clock = request.app[keys.CLOCK]
    return answer({"now": iso(clock.time(tenant)), "tenant": tenant, "offset_seconds": clock.offset(tenant)})


async def clock_set(request: web.Request) -> web.Response:
    """``POST /_sandbox/clock[?tenant=T]`` ``{"advance_seconds": N}`` or ``{"now": ISO}``: moves T's clock
    only (and runs only T's due work), or every tenant's without ``tenant``. Checked before anything moves."""
    app = request.app
    tenant = request.query.get("tenant") or None
    body = await read_json(request, default={})
    clock = app[keys.CLOCK]
    if not isinstance(body, dict) or not ({"advance_seconds", "now"} & body.keys()):
        raise BadRequest('expected {"advance_seconds": N} or {"now": "<ISO 8601>"}')
    try:
        if "advance_seconds" in body:
            clock.advance(body["advance_seconds"], tenant)
        else:
            text = body["now"]
            if not isinstance(text, str):
                raise ClockError("now must be an ISO 8601 string")
            try:
                when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise ClockError(f"now is not an ISO 8601 date-time: {text[:64]!r}") from None
            clock.set(when, tenant)
    except (ClockError, OverflowError) as exc:
        raise BadRequest(str(exc)) from None
    for provider in app[keys.PROVIDERS]:
        await provider.on_clock(tenant)
    return answer({"now": iso(clock.time(tenant)), "tenant": tenant, "offset_seconds": clock.offset(tenant)})
