"""CleverTap: the Message Identity API (``/1/send/*.json``), campaigns (``/1/targets/*.json``) and user data
(``/1/upload``, ``/1/profile.json``, ``/1/counts/*.json``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.core.clock import iso
from sandbox.core.errors import SandboxError
from sandbox.core.operations import Call, Operation, Reply
from sandbox.core.provider import AudienceQuery, Provider
from sandbox.core.ratelimit import Applied
from sandbox.core.services import Services
from sandbox.providers.clevertap import campaigns, create_checks, engagement, errors, ratelimit, routes, webhooks
from sandbox.providers.clevertap.account import (
    ACCOUNT_FILE,
    CAMPAIGNS_FILE,
    Account,
    DashboardCampaign,
    load_account,
    load_campaigns,
    parse_campaign,
)
from sandbox.providers.clevertap.auth import ACCOUNT_HEADER, PASSCODE_HEADER, authenticate
from sandbox.providers.clevertap.deliver import ESTIMATE_CHANNEL, deliver_send, segment_resolver
from sandbox.providers.clevertap.people import People
from sandbox.providers.clevertap.state import State


class CleverTap(Provider):
    name = routes.VENDOR
    roots = ("/1/", "/2/")
    identifying_headers = (ACCOUNT_HEADER, PASSCODE_HEADER)
    content_type = errors.CONTENT_TYPE
    rate_limits = ratelimit.LIMITS
    collections = ("campaigns", "webhooks")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = Account()
        self.dashboard: dict[int, DashboardCampaign] = {}
        self.added: dict[int, DashboardCampaign] = {}
        """Dashboard campaigns added at run time for every tenant (``POST /_sandbox/vendors/clevertap/campaigns``)."""
        self.state = State(self.settings.seed)
        self.people = People()
        self.webhook_endpoints = webhooks.Endpoints()

    def operations(self) -> list[Operation]:
        return routes.operations()

    async def startup(self, services: Services) -> None:
        self.account = load_account(self.settings.fixture(ACCOUNT_FILE))
        self.dashboard = load_campaigns(self.settings.fixture(CAMPAIGNS_FILE))
        self.people.attach(services.audience)
        self.webhook_endpoints.load(self)

    def reset(self, tenant: str | None) -> None:
        self.state.reset(tenant)
        self.webhook_endpoints.reset(tenant)
        if tenant is None:
            self.added.clear()

    def add_data(self, collection: str, item: Any, tenant: str | None) -> Any:
        """``campaigns``: a dashboard API campaign ``{"id", "name", "channel"}`` (as in campaigns.json);
        ``webhooks``: a webhook endpoint ``{"name", "url", "method"?, "headers"?}``."""
        if collection == "webhooks":
            return self.webhook_endpoints.add(item, tenant)
        campaign = parse_campaign(item)
        (self.state.tenant(tenant).dashboard if tenant else self.added)[campaign.id] = campaign
        return {"id": campaign.id, "name": campaign.name, "channel": campaign.channel}

    def list_data(self, collection: str, tenant: str | None) -> list[Any]:
        if collection == "webhooks":
            return self.webhook_endpoints.listed(tenant)
        found = {**self.dashboard, **self.added, **(self.state.tenant(tenant).dashboard if tenant else {})}
        return [{"id": c.id, "name": c.name, "channel": c.channel} for c in found.values()]

    def remove_data(self, collection: str, item_id: str, tenant: str | None) -> bool:
        if collection == "webhooks":
            return self.webhook_endpoints.remove(item_id, tenant)
        key = int(item_id) if item_id.isdigit() else -1
        source = self.state.tenant(tenant).dashboard if tenant else self.added
        return source.pop(key, None) is not None

    async def on_clock(self, tenant: str | None) -> None:
        campaigns.run_due(self, tenant)
        engagement.settle(self, tenant)

    def export_state(self) -> Any:
        return {"tenants": self.state.tenants.export_state(), "ids": self.state.ids.export_state(),
                "added": dict(self.added)}

    def import_state(self, data: Any) -> None:
        self.state.tenants.import_state(data["tenants"])
        self.state.ids.import_state(data["ids"])
        self.added = dict(data["added"])

    def snapshot(self, tenant: str | None) -> dict[str, list[dict[str, Any]]]:
        tenants = [(name, st) for name, st in self.state.tenants.items() if tenant is None or name == tenant]
        return {
            "api_campaigns": [{"tenant": name, "id": c.id, "name": c.name, "target_mode": c.target_mode,
                               "status": c.status, "runs_at": iso(c.when), "created": iso(c.created),
                               "estimates": c.estimates, "report": c.report}
                              for name, st in tenants for c in st.campaigns.values()],
            "segments": [{"id": s.id, "name": s.name, "where": s.where} for s in self.account.segments.values()],
        }

    def audience(self, spec: Any, tenant: str | None) -> AudienceQuery | None:
        """``POST /_sandbox/audience/estimate`` with a CQL ``where`` object, or a create body (``where`` or
        ``segment``, ``target_mode``, ``devices``) for the reach of that campaign."""
        if not isinstance(spec, dict):
            raise ValueError("a CleverTap audience is a CQL where object or a targets/create.json body")
        campaign_like = bool({"where", "segment", "target_mode"} & spec.keys())
        try:
            tree = create_checks.audience(spec if campaign_like else {"where": spec}, self.account)
        except errors.CleverTapFail as exc:
            raise ValueError(exc.message) from None
        mode = spec.get("target_mode") or "push" if campaign_like else None
        channel = ESTIMATE_CHANNEL.get(mode) if mode else None
        devices = spec.get("devices") if campaign_like else None
        platforms = ([d for d in devices if d in ("android", "ios")] or None) if mode == "push" and devices else None
        return AudienceQuery(tree, channel=channel, platforms=platforms, resolve_member=segment_resolver(self.account))

    def describe(self) -> dict[str, Any]:
        return {"dashboard_campaigns": len(self.dashboard) + len(self.added), "segments": len(self.account.segments)}

    # -- requests -------------------------------------------------------------------------------
    def tenant_hint(self, request: web.Request) -> str | None:
        return request.headers.get(ACCOUNT_HEADER, "").strip() or None

    def admit(self, call: Call) -> str | None:
        return authenticate(call.request.headers, self.accounts)

    def render_error(self, error: SandboxError, request: web.Request) -> Reply:
        return errors.render(error, request)

    def rate_limit(self, call: Call) -> Applied | None:
        return ratelimit.applied(call.operation.name)

    # -- used by the handlers -------------------------------------------------------------------
    def dashboard_campaign(self, tenant: str | None, campaign_id: int) -> DashboardCampaign | None:
        """A dashboard API campaign: from campaigns.json, or added at run time for this tenant."""
        for source in (self.state.tenant(tenant).dashboard, self.added, self.dashboard):
            found = source.get(campaign_id)
            if found is not None:
                return found
        return None

    def store_uploads(self, call: Call[CleverTap], records: list[dict[str, Any]]) -> None:
        """Accepted /1/upload records, written into the shared population (undone by a reset)."""
        for record in records:
            self.people.apply(record, call.tenant)

    def deliver_send(self, call: Call[CleverTap], channel: str, addressed: list[tuple[str, str]]) -> int:
        return deliver_send(self.services, self.people, self.account, call.tenant, self.state.tenant(call.tenant),
                            channel, call.body, addressed, call.now)
