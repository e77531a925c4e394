"""``/_sandbox/faults``: add fault rules, list them with hit counts, remove one or all.

``POST`` a rule (``?tenant=`` or the rule's ``tenant``; neither = every tenant); ``GET`` lists rules
(``?tenant=``: that tenant's and the every-tenant ones); ``DELETE /_sandbox/faults/{id}`` removes one,
``DELETE /_sandbox/faults`` all (``?tenant=``: that tenant's own). Rule fields: ``sandbox.core.faults``.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.control.body import answer, read_json
from sandbox.core import keys
from sandbox.core.errors import BadRequest, NotFound


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_post(prefix + "/faults", add_rule)
    router.add_get(prefix + "/faults", list_rules)
    router.add_delete(prefix + "/faults", clear_rules)
    router.add_get(prefix + "/faults/{id}", get_rule)
    router.add_delete(prefix + "/faults/{id}", delete_rule)


async def add_rule(request: web.Request) -> web.Response:
    app = request.app
    spec = await read_json(request)
    vendors = {p.name: p for p in app[keys.PROVIDERS]}
    try:
        rule = app[keys.FAULTS].add(spec, request.query.get("tenant") or None)
    except ValueError as exc:
        raise BadRequest(str(exc), details={"rule": spec}) from None
    vendor = rule.get("vendor")
    if vendor is not None and vendor not in vendors:
        app[keys.FAULTS].remove(rule.id)
        raise BadRequest(f"unknown vendor {vendor!r}; known: {', '.join(vendors)}")
    operation = rule.get("operation")
    if operation is not None:
        names = {op.name for p in vendors.values() if vendor in (None, p.name) for op in p.operations()}
        if operation not in names:
            app[keys.FAULTS].remove(rule.id)
            raise BadRequest(f"unknown operation {operation!r}" + (f" of {vendor}" if vendor else "")
                             + "; GET /_sandbox/routes lists them")
    return answer(rule.describe(), status=201)


async def list_rules(request: web.Request) -> web.Response:
    rules = [r.describe() for r in request.app[keys.FAULTS].rules(request.query.get("tenant") or None)]
    return answer({"faults": rules, "total": len(rules)})


async def get_rule(request: web.Request) -> web.Response:
    rule = request.app[keys.FAULTS].get(request.match_info["id"])
    if rule is None:
        raise NotFound(f"no fault rule {request.match_info['id']!r}")
    return answer(rule.describe())


async def delete_rule(request: web.Request) -> web.Response:
    rule = request.app[keys.FAULTS].remove(request.match_info["id"])
    if rule is None:
        raise NotFound(f"no fault rule {request.match_info['id']!r}")
    return answer({"deleted": 1, "rule": rule.describe()})


async def clear_rules(request: web.Request) -> web.Response:
    return answer({"deleted": request.app[keys.FAULTS].clear(request.query.get("tenant") or None)})
