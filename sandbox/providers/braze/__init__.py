"""Braze: messaging, schedules, triggered campaigns and Canvases, user data and exports (spec braze.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import orjson
from aiohttp import web

from sandbox.core import keys
from sandbox.core.clock import iso
from sandbox.core.errors import Forbidden, InvalidBody, NotFound, SandboxError, UnsupportedMediaType
from sandbox.core.operations import Call, Operation, Reply
from sandbox.core.provider import AudienceQuery, Provider
from sandbox.core.ratelimit import USAGE, Applied, Usage
from sandbox.core.services import Services
from sandbox.core.validation import Validators
from sandbox.providers.braze import auth, engagement, errors, routes, schedule, workspace
from sandbox.providers.braze.dashboards import COLLECTIONS, Dashboards
from sandbox.providers.braze.dispatch import Dispatch, run
from sandbox.providers.braze.estimate import estimate_query
from sandbox.providers.braze.people import People
from sandbox.providers.braze.ratelimit import LIMITS, applied
from sandbox.providers.braze.state import State, Tenant
from sandbox.providers.braze.workspace import Workspace
from sandbox.settings import Settings


class Braze(Provider):
    name = routes.VENDOR
    roots = ("/messages/", "/campaigns/", "/canvas/", "/transactional/", "/sends/", "/users/", "/segments/")
    content_type = errors.CONTENT_TYPE
    accounts_example = '{"<API key>": {"workspace": "<name>", "permissions": [...]}}'
    collections = COLLECTIONS
    rate_limits = LIMITS

    def __init__(self, settings: Settings, accounts: Mapping[str, Any] | None) -> None:
        super().__init__(settings, accounts)
        self.keys = auth.parse_accounts(accounts)
        self.state = State(settings.seed)
        self._dashboards: Dashboards | None = None
        self._operations = routes.operations()
        self._queries = {op.name: replace(op, schema=f"{self.name}/{op.name}")
                         for op in self._operations if op.body == "none"}
        self._query_validators = Validators(self._queries.values())
        self._paths = [re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", op.path) + "$") for op in self._operations]

    # -- wiring ---------------------------------------------------------------------------------
    def operations(self) -> list[Operation]:
        return self._operations

    async def startup(self, services: Services) -> None:
        self.state.workspace = workspace.load(self.settings)
        self._dashboards = Dashboards(self.name, self.state.workspace)

    @property
    def workspace(self) -> Workspace:
        """The workspace fixture alone; handlers use ``workspace_for`` (what one tenant sees)."""
        assert self.state.workspace is not None, "the Braze workspace is loaded at startup"
        return self.state.workspace

    @property
    def dashboards(self) -> Dashboards:
        assert self._dashboards is not None, "the Braze dashboards are built at startup"
        return self._dashboards

    def workspace_for(self, tenant: str | None) -> Workspace:
        """The workspace as ``tenant`` sees it: fixtures, run-time additions and what it provisioned."""
        return self.dashboards.view(self.workspace, tenant)

    @property
    def strict(self) -> bool:
        """``--strict``, or ``"strict": true`` in the workspace file."""
        return self.settings.strict or (self.state.workspace is not None and self.state.workspace.strict)

    def list_data(self, collection: str, tenant: str | None) -> list[Any]:
        return self.dashboards.list(collection, tenant)

    def add_data(self, collection: str, item: Any, tenant: str | None) -> Any:
        return self.dashboards.add(collection, item, tenant)

    def remove_data(self, collection: str, item_id: str, tenant: str | None) -> bool:
        return self.dashboards.remove(collection, item_id, tenant)

    def tenant_state(self, tenant: str) -> Tenant:
        return self.state.tenant(tenant)

    def reset(self, tenant: str | None) -> None:
        self.state.reset(tenant)
        if self._dashboards is not None:
            self._dashboards.reset(tenant)

    async def on_clock(self, tenant: str | None) -> None:
        schedule.run_due(self, tenant)
        engagement.settle(self, tenant)

    def export_state(self) -> Any:
        return {"tenants": self.state.tenants.export_state(), "ids": self.state.ids.core.export_state(),
                "dashboards": self.dashboards.export_state()}

    def import_state(self, data: Any) -> None:
        self.state.tenants.import_state(data["tenants"])
        self.state.ids.core.import_state(data["ids"])
        self.dashboards.import_state(data.get("dashboards", {}))

    def describe(self) -> dict[str, Any]:
        ws = self.state.workspace
        if ws is None:
            return {}
        return {"workspace": str(ws.source), "campaigns": len(ws.campaigns), "canvases": len(ws.canvases),
                "segments": len(ws.segments)}

    def people(self, tenant: str) -> People:
        services = self.services
        return People(services.audience, tenant, self.tenant_state(tenant).aliases,
                      lambda: self.state.ids.braze_id(tenant), lambda: iso(services.clock.time(tenant or None)))

    def run(self, dispatch: Dispatch, now: float, **options: Any) -> Any:
        return run(self.services, self.workspace_for(dispatch.tenant), self.people(dispatch.tenant), dispatch, now,
                   **options)

    def snapshot(self, tenant: str | None) -> dict[str, list[dict[str, Any]]]:
        tenants = [(name, st) for name, st in self.state.tenants.items() if tenant is None or name == tenant]
        return {
            "schedules": [{"tenant": name, "schedule_id": s.id, "kind": s.kind, "target": s.target,
                           "due": iso(s.time), "local_time": s.wall if s.local else None,
                           "dispatch_id": s.dispatch_id, "users_sent": len(s.done)}
                          for name, st in tenants for s in st.schedules.values()],
            "send_ids": [{"tenant": name, "send_id": key[-1], "created": iso(t)}
                         for name, st in tenants for key, t in st.send_ids.items()],
        }

    def audience(self, spec: Any, tenant: str | None) -> AudienceQuery | None:
        """``POST /_sandbox/audience/estimate`` with a connected audience and/or ``segment_id``."""
        return estimate_query(spec, self.workspace_for(tenant))

    # -- requests -------------------------------------------------------------------------------
    def tenant_hint(self, request: web.Request) -> str | None:
        key = auth.header_key(request)
        if not key:
            return None
        account = (self.keys or {}).get(key)
        return account.workspace if account is not None else key

    def admit(self, call: Call) -> str | None:
        """Grape checks the content type and parses JSON before the endpoint authenticates [INF]."""
        request = call.request
        if call.operation.body == "json":
            if request.content_type != "application/json":
                raise UnsupportedMediaType(f"content type {request.content_type!r}")
            try:
                orjson.loads(call.raw)
            except orjson.JSONDecodeError as exc:
                raise InvalidBody(str(exc)) from None
        key = auth.header_key(request)
        if key is None and call.operation.body == "json":
            key = auth.body_key(call.raw)
        account = auth.authenticate(key, self.keys)
        auth.authorize(account, routes.PERMISSIONS[call.operation.name])
        call.credential = key
        return account.workspace

    def check(self, call: Call) -> None:
        query_op = self._queries.get(call.operation.name)
        if query_op is not None:
            self._query_validators.check(query_op, dict(call.query))

    def render_error(self, error: SandboxError, request: web.Request) -> Reply:
        if isinstance(error, NotFound) and self._trailing_slash(request.path):
            error = Forbidden("trailing slash")
        return errors.render(error)

    def _trailing_slash(self, path: str) -> bool:
        if not path.endswith("/") or path == "/":
            return False
        path = path.rstrip("/")
        if path.startswith(f"/{self.name}/"):
            path = path[len(self.name) + 1:]
        return any(p.match(path) for p in self._paths)

    def rate_limit(self, call: Call) -> Applied | None:
        return applied(call.operation.name, call.body)

    def headers(self, request: web.Request, call: Call | None) -> Mapping[str, str]:
        out = {errors.REQUEST_ID: self.state.ids.request_id(call.tenant if call is not None else None)}
        if call is None or call.tenant is None or call.credential is None:
            out.update({errors.RATE_LIMIT: "", errors.RATE_REMAINING: "", errors.RATE_RESET: ""})
            return out
        usage: Usage | None = call.extras.get(USAGE)
        if usage is None:  # rejected before the rate limit was counted (validation...): count it now
            usage = request.app[keys.LIMITER].hit(call.tenant, self.name, applied(call.operation.name, call.body,
                                                  enforced=False), call.now)
        assert usage is not None, "Braze's limits are windows: always counted"
        if usage.exceeded and usage.group == errors.RETRY_AFTER_GROUP:
            out[errors.RETRY_AFTER] = str(usage.retry_after)
            return out
        out.update({errors.RATE_LIMIT: str(usage.limit), errors.RATE_REMAINING: str(usage.remaining),
                    errors.RATE_RESET: str(usage.reset)})
        return out
