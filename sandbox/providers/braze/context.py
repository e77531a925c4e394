"""What a Braze handler needs from a call: the provider, the tenant's state, the workspace, the clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from ... import keys
from ...operations import Call
from .people import People
from .state import TenantState
from .workspace import Workspace

if TYPE_CHECKING:
    from . import Braze


@dataclass(frozen=True, slots=True)
class Context:
    call: Call
    provider: Braze
    tenant: str
    state: TenantState
    workspace: Workspace
    now: float

    @property
    def body(self) -> dict[str, Any]:
        return self.call.body

    @property
    def people(self) -> People:
        return self.provider.people(self.call.app, self.tenant)


def of(call: Call) -> Context:
    provider = cast("Braze", call.provider)
    tenant = call.tenant or ""
    return Context(call, provider, tenant, provider.tenant_state(tenant), provider.workspace,
                   call.app[keys.CLOCK].time())
