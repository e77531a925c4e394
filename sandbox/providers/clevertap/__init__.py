"""CleverTap: the Message Identity API (``/1/send/*.json``), campaigns (``/1/targets/*.json``) and user data
(``/1/upload``, ``/1/profile.json``, ``/1/counts/*.json``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ... import keys
from ...errors import SandboxError
from ...operations import Call, Operation, Reply
from ...provider import Provider
from . import campaigns, errors, routes
from .account import ACCOUNT_FILE, CAMPAIGNS_FILE, Account, DashboardCampaign, load_account, load_campaigns
from .auth import ACCOUNT_HEADER, PASSCODE_HEADER, authenticate
from .deliver import deliver_send
from .people import People
from .state import State


class CleverTap(Provider):
    name = routes.VENDOR
    roots = ("/1/", "/2/")
    identifying_headers = (ACCOUNT_HEADER, PASSCODE_HEADER)
    content_type = errors.CONTENT_TYPE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = Account()
        self.dashboard: dict[int, DashboardCampaign] = {}
        self.state = State(self.settings.seed)
        self.people = People(self.settings)

    def operations(self) -> list[Operation]:
        return routes.operations()

    async def startup(self, app: web.Application) -> None:
        self.account = load_account(self.settings.fixture(ACCOUNT_FILE))
        self.dashboard = load_campaigns(self.settings.fixture(CAMPAIGNS_FILE))

    def reset(self, tenant: str | None) -> None:
        self.state.reset(tenant)

    async def on_clock(self, app: web.Application) -> None:
        campaigns.run_due(app, self, app[keys.CLOCK].time())

    def describe(self) -> dict[str, Any]:
        return {"dashboard_campaigns": len(self.dashboard), "segments": len(self.account.segments)}

    # -- requests -------------------------------------------------------------------------------
    def tenant_hint(self, request: web.Request) -> str | None:
        return request.headers.get(ACCOUNT_HEADER, "").strip() or None

    def admit(self, call: Call) -> str | None:
        return authenticate(call.request.headers, self.accounts)

    def render_error(self, error: SandboxError, request: web.Request) -> Reply:
        return errors.render(error, request)

    # -- used by the handlers -------------------------------------------------------------------
    def dashboard_campaign(self, tenant: str | None, campaign_id: int) -> DashboardCampaign | None:
        """A dashboard API campaign: from campaigns.json, or added at run time for this tenant."""
        found = self.state.tenant(tenant).dashboard.get(campaign_id)
        return found if found is not None else self.dashboard.get(campaign_id)

    def store_uploads(self, call: Call, records: list[dict[str, Any]]) -> None:
        """Accepted /1/upload records, kept per tenant."""
        self.state.tenant(call.tenant).uploads.extend(records)

    def deliver_send(self, call: Call, channel: str, addressed: list[tuple[str, str]]) -> int:
        app = call.app
        return deliver_send(app, self.people, self.account, call.tenant, self.state.tenant(call.tenant), channel,
                            call.body, addressed, app[keys.CLOCK].time())
