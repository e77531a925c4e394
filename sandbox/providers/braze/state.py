"""Run-time Braze state, per tenant (= workspace): schedules, send ids, transactional dedupe, profiles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.core.tenants import TenantState
from sandbox.providers.braze.dispatch import Dispatch
from sandbox.providers.braze.ids import BrazeIds
from sandbox.providers.braze.workspace import Workspace


@dataclass(slots=True)
class Schedule:
    """One API schedule: what to send (the create body, with updates applied) and when."""

    id: str
    dispatch_id: str
    kind: str
    """"messages", "campaign" or "canvas": which send it runs."""
    target: str | None
    """campaign_id / canvas_id for trigger schedules."""
    body: dict[str, Any]
    """The create body, with updates applied."""
    dispatch: Dispatch
    time: float
    """Epoch seconds: the UTC time, or for local-time sends the time in UTC+14 (the first zone to reach it)."""
    local: bool
    wall: str
    """The naive local time given (``in_local_time``/``at_optimal_time``)."""
    done: set[str] = field(default_factory=set)
    """Users already sent to (local-time sends run zone by zone)."""


@dataclass(slots=True)
class Tenant:
    """One tenant's (workspace's) Braze state."""

    aliases: dict[tuple[str, str], str] = field(default_factory=dict)
    """(alias_label, alias_name) -> population identity (see people.py)."""
    schedules: dict[str, Schedule] = field(default_factory=dict)
    send_ids: dict[tuple[str, str], float] = field(default_factory=dict)
    external_send_ids: dict[str, float] = field(default_factory=dict)


class State:
    """Every tenant's state and ids (``TenantState`` and ``Ids`` from the core), the workspace fixture."""

    def __init__(self, seed: int, workspace: Workspace | None = None) -> None:
        self.ids = BrazeIds(seed)
        self.workspace = workspace
        self.tenants: TenantState[Tenant] = TenantState(lambda _tenant: Tenant())

    def tenant(self, name: str) -> Tenant:
        return self.tenants[name]

    def reset(self, tenant: str | None) -> None:
        self.tenants.reset(tenant)
        self.ids.reset(tenant)
