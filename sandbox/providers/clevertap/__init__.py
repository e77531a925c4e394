"""CleverTap: the Message Identity API (``/1/send/*.json``), campaigns (``/1/targets/*.json``) and user data
(``/1/upload``, ``/1/profile.json``, ``/1/counts/*.json``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandbox.core.clock import iso
from sandbox.core.errors import SandboxError
from sandbox.core.fixture_files import load_fixture
from sandbox.core.operations import Call, Operation, Reply
from sandbox.core.provider import AudienceQuery, Provider
from sandbox.core.ratelimit import Applied
from sandbox.core.services import Services
from sandbox.providers.clevertap import campaigns, create_checks, engagement, errors, ratelimit, routes, webhooks
from sandbox.providers.clevertap.account import ACCOUNT_FILE, CAMPAIGNS_FILE, Account, load_account, load_campaigns
from sandbox.providers.clevertap.auth import ACCOUNT_HEADER, PASSCODE_HEADER, authenticate
from sandbox.providers.clevertap.dashboard_data import COLLECTIONS, DashboardData, References
from sandbox.providers.clevertap.deliver import ESTIMATE_CHANNEL, deliver_send, segment_resolver
from sandbox.providers.clevertap.people import People
from sandbox.providers.clevertap.state import State


class CleverTap(Provider):
    name = routes.VENDOR
    roots = ("/1/", "/2/")
    identifying_headers = (ACCOUNT_HEADER, PASSCODE_HEADER)
    content_type = errors.CONTENT_TYPE
    account_values = (str, int)
    accounts_example = '{"<account id>": "<passcode>"}'
    rate_limits = ratelimit.LIMITS
    collections = (*COLLECTIONS, "webhooks")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = Account()
        self.dashboard = DashboardData()
        """Channels, provider nicknames, control groups, segments and API campaigns (``dashboard_data``)."""
        self.state = State(self.settings.seed)
        self.people = People()
        self.webhook_endpoints = webhooks.Endpoints()

    def operations(self) -> list[Operation]:
        return routes.operations()

    async def startup(self, services: Services) -> None:
        document, path = load_fixture(self.settings, ACCOUNT_FILE)
        self.account = load_account(path, document)
        document, path = load_fixture(self.settings, CAMPAIGNS_FILE)
        self.dashboard.load(self.account, load_campaigns(path, document))
        self.people.attach(services.audience)
        self.webhook_endpoints.load(self)

    @property
    def strict(self) -> bool:
        """``"strict"`` in account.json decides for CleverTap; absent, ``--strict`` does."""
        return self.settings.strict if self.account.strict is None else self.account.strict

    def references(self, call: Call[CleverTap]) -> References:
        """The learn/strict rule for the dashboard objects ``call`` names."""
        return References(self.dashboard, call)

    def reset(self, tenant: str | None) -> None:
        self.state.reset(tenant)
        self.dashboard.reset(tenant)
        self.webhook_endpoints.reset(tenant)

    def add_data(self, collection: str, item: Any, tenant: str | None) -> Any:
        """One item of ``collection``: a dashboard object (shapes in ``dashboard_data``) or a webhook endpoint
        ``{"name", "url", "method"?, "headers"?}``, for ``tenant`` or every tenant."""
        if collection == "webhooks":
            return self.webhook_endpoints.add(item, tenant)
        return self.dashboard.add(collection, item, tenant)

    def list_data(self, collection: str, tenant: str | None) -> list[Any]:
        if collection == "webhooks":
            return self.webhook_endpoints.listed(tenant)
        return self.dashboard.list(collection, tenant)

    def remove_data(self, collection: str, item_id: str, tenant: str | None) -> bool:
        if collection == "webhooks":
            return self.webhook_endpoints.remove(item_id, tenant)
        return self.dashboard.remove(collection, item_id, tenant)

    async def on_clock(self, tenant: str | None) -> None:
        campaigns.run_due(self, tenant)
        engagement.settle(self, tenant)

    def export_state(self) -> Any:
        return {"tenants": self.state.tenants.export_state(), "ids": self.state.ids.export_state(),
                "dashboard": self.dashboard.export_state(),
                "webhooks": {"everyone": dict(self.webhook_endpoints.everyone),
                             "tenants": self.webhook_endpoints.added.export_state()}}

    def import_state(self, data: Any) -> None:
        self.state.tenants.import_state(data["tenants"])
        self.state.ids.import_state(data["ids"])
        self.dashboard.import_state(data.get("dashboard", {}))
        if "webhooks" in data:
            self.webhook_endpoints.everyone = dict(data["webhooks"]["everyone"])
            self.webhook_endpoints.added.import_state(data["webhooks"]["tenants"])

    def snapshot(self, tenant: str | None) -> dict[str, list[dict[str, Any]]]:
        tenants = [(name, st) for name, st in self.state.tenants.items() if tenant is None or name == tenant]
        return {
            "api_campaigns": [{"tenant": name, "id": c.id, "name": c.name, "target_mode": c.target_mode,
                               "status": c.status, "runs_at": iso(c.when), "created": iso(c.created),
                               "estimates": c.estimates, "report": c.report}
                              for name, st in tenants for c in st.campaigns.values()],
        }

    def audience(self, spec: Any, tenant: str | None) -> AudienceQuery | None:
        """``POST /_sandbox/audience/estimate`` with a CQL ``where`` object, or a create body (``where`` or
        ``segment``, ``target_mode``, ``devices``) for the reach of that campaign."""
        if not isinstance(spec, dict):
            raise ValueError("a CleverTap audience is a CQL where object or a targets/create.json body")
        campaign_like = bool({"where", "segment", "target_mode"} & spec.keys())
        try:
            tree = create_checks.audience(spec if campaign_like else {"where": spec}, self._segment_known(tenant))
        except errors.CleverTapFail as exc:
            raise ValueError(exc.message) from None
        mode = spec.get("target_mode") or "push" if campaign_like else None
        channel = ESTIMATE_CHANNEL.get(mode) if mode else None
        devices = spec.get("devices") if campaign_like else None
        platforms = ([d for d in devices if d in ("android", "ios")] or None) if mode == "push" and devices else None
        return AudienceQuery(tree, channel=channel, platforms=platforms,
                             resolve_member=segment_resolver(self.dashboard, tenant))

    def _segment_known(self, tenant: str | None) -> Callable[[Any], None]:
        """Segments for ``/_sandbox/audience/estimate``: only those this tenant sees (nothing is learned)."""

        def known(segment_id: Any) -> None:
            if self.dashboard.segments.get(tenant, segment_id) is None:
                raise create_checks.fail(errors.SEGMENT_UNKNOWN.format(id=segment_id))

        return known

    def describe(self) -> dict[str, Any]:
        return {"dashboard_campaigns": len(self.dashboard.campaigns.fixtures),
                "segments": len(self.dashboard.segments.fixtures)}

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
    def store_uploads(self, call: Call[CleverTap], records: list[dict[str, Any]]) -> None:
        """Accepted /1/upload records, written into the shared population (undone by a reset)."""
        for record in records:
            self.people.apply(record, call.tenant)

    def deliver_send(self, call: Call[CleverTap], channel: str, addressed: list[tuple[str, str]]) -> int:
        return deliver_send(self.services, self.people, self.account, call.tenant, self.state.tenant(call.tenant),
                            channel, call.body, addressed, call.now)
