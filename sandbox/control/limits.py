"""``/_sandbox/limits``: the vendors' rate limits, and per-tenant enforcement and lowered limits.

``GET`` shows each vendor's documented limits, whether ``--rate-limits`` enforces them and the overrides;
``POST {"vendor": "<vendor>", "limits": {"<name>": N}, "enabled": true}`` (``?tenant=``; none = every tenant)
turns enforcement on (unless ``"enabled": false``) and lowers or raises the named limits (a limit name or,
for per-API caps, an operation name); ``DELETE`` drops a tenant's overrides and counters.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.control.body import answer, read_json
from sandbox.core import keys
from sandbox.core.errors import BadRequest


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(prefix + "/limits", show)
    router.add_post(prefix + "/limits", configure)
    router.add_delete(prefix + "/limits", clear)


def describe(app: web.Application, tenant: str | None) -> dict[str, Any]:
    limiter = app[keys.LIMITER]
    overrides = limiter.overrides()
    shown = {scope: o for scope, o in overrides.items() if tenant is None or scope in (None, tenant)}
    return {
        "enforced_by_default": limiter.enabled,
        "enforced": limiter.enforced_for(tenant) if tenant is not None else None,
        "vendors": {p.name: {name: limit.describe() for name, limit in p.rate_limits.items()}
                    for p in app[keys.PROVIDERS]},
        "overrides": [{"tenant": scope, **o.describe()} for scope, o in shown.items()],
    }


async def show(request: web.Request) -> web.Response:
    return answer(describe(request.app, request.query.get("tenant") or None))


async def configure(request: web.Request) -> web.Response:
    app = request.app
    body = await read_json(request, default={})
    if not isinstance(body, dict) or set(body) - {"vendor", "limits", "enabled", "tenant"}:
        raise BadRequest('expected {"vendor": "<vendor>", "limits": {"<limit or operation>": N}, "enabled": true}')
    tenant = request.query.get("tenant") or body.get("tenant") or None
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise BadRequest("enabled must be true or false")
    vendor, limits = body.get("vendor"), body.get("limits") or {}
    if limits:
        provider = next((p for p in app[keys.PROVIDERS] if p.name == vendor), None)
        if provider is None:
            raise BadRequest(f"limits need a known vendor; got {vendor!r}")
        if not isinstance(limits, dict):
            raise BadRequest("limits must be an object of limit names and numbers")
        names = set(provider.rate_limits) | {op.name for op in provider.operations()}
        for name, value in limits.items():
            if name not in names:
                raise BadRequest(f"{vendor} has no limit {name!r}; its limits: {', '.join(provider.rate_limits)}"
                                 + (" (or an operation name)" if provider.rate_limits else ""))
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise BadRequest(f"limit {name} must be a whole number >= 0")
        if not provider.rate_limits:
            raise BadRequest(f"{vendor} documents no rate limit, so the sandbox enforces none")
    app[keys.LIMITER].configure(tenant, enabled=enabled, vendor=vendor, limits=limits)
    return answer(describe(app, tenant))


async def clear(request: web.Request) -> web.Response:
    tenant = request.query.get("tenant") or None
    request.app[keys.LIMITER].reset(tenant)
    return answer(describe(request.app, tenant))
