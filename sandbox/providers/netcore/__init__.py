"""Netcore (Smartech / Netcore Cloud): campaign APIs of three generations plus contacts and activities.

``admit`` picks the auth rule of the operation's family (``routes.FAMILIES``), ``render_error`` its envelope.
Account data (templates, lists, segments, panel campaigns, app ids) comes from ``fixtures/netcore/`` (with the
``--fixtures`` overlay merged in) at startup, from ``/_sandbox/vendors/netcore/<collection>`` at run time, and
in learn mode from the requests that name it (``panel.py``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.core.clock import iso
from sandbox.core.errors import SandboxError
from sandbox.core.operations import Call, Operation, Reply
from sandbox.core.provider import AudienceQuery, Provider
from sandbox.core.services import Services
from sandbox.providers.netcore import auth, engagement, errors, estimate, panel, publish, routes, v3, v4, webhooks
from sandbox.providers.netcore.fixtures import check_item, check_rule, load_catalog
from sandbox.providers.netcore.state import NetcoreState

LAUNCHERS = {"v3": v3.launch, "v4": v4.launch, "apiv2": publish.launch}
"""How a scheduled campaign of each generation is sent when the clock reaches it."""


class Netcore(Provider):
    name = routes.VENDOR
    roots = routes.ROOTS
    identifying_headers = (auth.API_KEY_HEADER,)
    account_values = (str, int, type(None))
    accounts_example = '{"<API key>": "<clientid>" or null}'
    collections = panel.COLLECTIONS

    state: NetcoreState | None = None

    def operations(self) -> list[Operation]:
        return routes.operations()

    async def startup(self, services: Services) -> None:
        self.state = NetcoreState(load_catalog(self.settings), self.settings.seed, services.audience)

    def reset(self, tenant: str | None) -> None:
        if self.state is not None:
            self.state.reset(tenant)

    async def on_clock(self, tenant: str | None) -> None:
        """Run the scheduled campaigns of ``tenant`` (every tenant when None) that came due on its clock."""
        if self.state is None:
            return
        services = self.services
        for name, data in self.state.tenants.select(tenant):
            now = services.clock.time(name or None)
            due = sorted((c for c in data.campaigns.values() if c.state == "scheduled" and c.due is not None
                          and c.due <= now), key=lambda c: (c.due, c.id))
            for campaign in due:
                LAUNCHERS[campaign.generation](services, self.state, name or None, data, campaign)
                if campaign.generation == "v4":
                    webhooks.fire(services, name or None, campaign, "v4_campaign_sent", webhooks.SENT_DESCRIPTION)
        engagement.settle(services, tenant)

    def export_state(self) -> Any:
        if self.state is None:
            return None
        return {"tenants": self.state.tenants.export_state(), "ids": self.state.ids.export_state(),
                "panel": self.state.panel.export_state()}

    def import_state(self, data: Any) -> None:
        if self.state is not None and data is not None:
            self.state.tenants.import_state(data["tenants"])
            self.state.ids.import_state(data["ids"])
            self.state.panel.import_state(data.get("panel") or {})

    # -- account data ---------------------------------------------------------------------------
    @property
    def strict(self) -> bool:
        """``--strict``, or ``"strict": true`` in ``netcore/account.json`` (packaged or overlay)."""
        return self.settings.strict or (self.state is not None and self.state.catalog.strict)

    def list_data(self, collection: str, tenant: str | None) -> list[Any]:
        return self._state().panel.listed(collection, tenant, lambda _key, item: dict(item))

    def add_data(self, collection: str, item: Any, tenant: str | None) -> Any:
        state = self._state()
        stored = check_item(collection, item)
        key = str(stored[panel.ID_KEYS[collection]])
        if collection == "segments":
            def known(kind: str, ident: str) -> bool:
                return state.panel[f"{kind}s"].get(tenant, ident) is not None
            check_rule(stored, "$", known)
        state.panel[collection].add(tenant, key, stored)
        state.forget(collection, key, tenant)
        return stored

    def remove_data(self, collection: str, item_id: str, tenant: str | None) -> bool:
        state = self._state()
        removed = state.panel[collection].remove(tenant, item_id)
        if removed:
            state.forget(collection, item_id, tenant)
        return removed

    def _state(self) -> NetcoreState:
        if self.state is None:
            raise RuntimeError("the netcore provider has not started")
        return self.state

    def snapshot(self, tenant: str | None) -> dict[str, list[dict[str, Any]]]:
        if self.state is None:
            return {}
        tenants = [(name, data) for name, data in self.state.tenants.items() if tenant is None or name == tenant]
        return {
            "api_campaigns": [{"tenant": name, "id": c.id, "generation": c.generation, "channel": c.channel,
                               "name": c.name, "state": c.state, "due": iso(c.due) if c.due is not None else None}
                              for name, data in tenants for c in data.campaigns.values()],
            "tenant_lists": [{"tenant": name, "id": k, "members": len(v)} for name, data in tenants
                             for k, v in data.lists.items()],
            "tenant_segments": [{"tenant": name, "id": k, "members": len(v)} for name, data in tenants
                                for k, v in data.segments.items()],
        }

    def audience(self, spec: object, tenant: str | None) -> AudienceQuery | None:
        """``POST /_sandbox/audience/estimate`` with ``{"vendor": "netcore", "audience": <v4 audience_details |
        v3 contact_details | gen-1 {"data_source", "list_id"}>, "tenant": "<API key>"}``."""
        if self.state is None:
            return None
        return estimate.translate(self.state, tenant, spec)

    def describe(self) -> dict[str, object]:
        if self.state is None:
            return {}
        catalog = self.state.catalog
        return {"templates": len(catalog.templates), "lists": len(catalog.lists), "segments": len(catalog.segments),
                "campaigns": len(catalog.campaigns), "app_ids": len(catalog.app_ids)}

    def tenant_hint(self, request: web.Request) -> str | None:
        family = routes.family_of_path(request.path)
        if family == "apiv2":
            return request.query.get("apikey", "").strip() or None
        if family == "v4":
            return request.headers.get(auth.API_KEY_HEADER, "").strip() or None
        if family == "v3":
            return None  # the key is in the body: ``admit`` names the tenant
        return auth.header_key(request.headers) or None

    def admit(self, call: Call) -> str | None:
        family = routes.FAMILIES[call.operation.name]
        headers = call.request.headers
        if family == "v4":
            return auth.check_key(headers.get(auth.API_KEY_HEADER, "").strip(), self.accounts)
        if family == "v3":
            found = auth.v3_credentials(call.raw)
            return None if found is None else auth.check_client(*found, self.accounts)
        if family == "apiv2":
            return auth.check_key(auth.apiv2_key(call.query, call.raw), self.accounts)
        if family == "activity":
            return auth.check_key(auth.header_key(headers), self.accounts, missing="missing")
        return auth.check_key(auth.bearer(headers.get(auth.AUTHORIZATION, "")), self.accounts)

    def render_error(self, error: SandboxError, request: web.Request) -> Reply:
        endpoint = getattr(request.match_info.handler, "endpoint", None)
        operation = getattr(endpoint, "operation", None)
        family = routes.FAMILIES.get(operation.name) if isinstance(operation, Operation) else None
        return errors.render(error, family or routes.family_of_path(request.path))
