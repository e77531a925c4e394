"""What a Braze handler needs from a call: the provider, the tenant's state, the workspace as this tenant sees
it (fixtures, run-time additions, learned objects), the clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.core.operations import Call
from sandbox.providers.braze.dashboards import Dashboards
from sandbox.providers.braze.people import People
from sandbox.providers.braze.state import Tenant
from sandbox.providers.braze.workspace import Workspace

if TYPE_CHECKING:
    from sandbox.providers.braze import Braze


@dataclass(frozen=True, slots=True)
class Context:
    call: Call[Braze]
    provider: Braze
    tenant: str
    state: Tenant
    workspace: Workspace
    now: float

    @property
    def body(self) -> dict[str, Any]:
        return self.call.body

    @property
    def dashboards(self) -> Dashboards:
        return self.provider.dashboards

    @property
    def people(self) -> People:
        return self.provider.people(self.tenant)


def of(call: Call[Braze]) -> Context:
    provider = call.provider
    tenant = call.tenant or ""
    return Context(call, provider, tenant, provider.tenant_state(tenant), provider.workspace_for(tenant), call.now)
