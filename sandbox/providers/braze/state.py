"""Run-time Braze state, per tenant (= workspace): schedules, send ids, transactional dedupe, profiles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.providers.braze.dispatch import Dispatch
from sandbox.providers.braze.ids import Ids
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
class TenantState:
    aliases: dict[tuple[str, str], str] = field(default_factory=dict)
    """(alias_label, alias_name) -> population identity (see people.py)."""
    schedules: dict[str, Schedule] = field(default_factory=dict)
    send_ids: dict[tuple[str, str], float] = field(default_factory=dict)
    external_send_ids: dict[str, float] = field(default_factory=dict)


class State:
    def __init__(self, seed: int, workspace: Workspace | None = None) -> None:
        self.ids = Ids(seed)
        self.workspace = workspace
        self._tenants: dict[str, TenantState] = {}

    def tenant(self, name: str) -> TenantState:
        state = self._tenants.get(name)
        if state is None:
            state = self._tenants[name] = TenantState()
        return state

    def tenants(self) -> list[tuple[str, TenantState]]:
        return list(self._tenants.items())

    def reset(self, tenant: str | None) -> None:
        if tenant is None:
            self._tenants.clear()
            self.ids.reset()
        else:
            self._tenants.pop(tenant, None)
