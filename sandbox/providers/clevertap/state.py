"""Run-time CleverTap state per tenant (account id): campaigns, pending async answers, frequency history.

Ids are deterministic: a per-tenant base drawn from the sandbox seed and the tenant name, plus a counter,
so the same seed and the same calls give the same ids, and ``reset`` starts the counters again. Campaign
ids fit a signed 32-bit int (clients parse them as Java ``int`` [V-QA]); request ids are longs [V-doc].
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

CAMPAIGN_ID_BASE = 1_100_000_000
"""Above the dashboard's ids (1000000043 in seed 000), below 2**31 - 1 with room for 10**8 campaigns."""
CAMPAIGN_ID_SPAN = 900_000_000
REQUEST_ID_BASE = 10**12


@dataclass(slots=True)
class Campaign:
    id: int
    name: str
    target_mode: str
    body: dict[str, Any]
    """The create request as sent (what ran, for reports and deliveries)."""
    tree: dict[str, Any]
    when: float
    """Epoch seconds it runs at (the create time for ``now``)."""
    created: float
    status: str = "pending"
    """pending (scheduled) -> completed when it runs; stopped by targets/stop.json."""
    devices: tuple[str, ...] = ()
    estimates: dict[str, int] = field(default_factory=dict)
    report: dict[str, int] | None = None
    """Counts from the run (sent, control group, capped...); None until it runs."""


@dataclass(slots=True)
class TenantState:
    campaigns: dict[int, Campaign] = field(default_factory=dict)
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    """req_id -> the answer its follow-up gets (async estimates and counts)."""
    dashboard: dict[int, Any] = field(default_factory=dict)
    """Dashboard campaigns added at run time (on top of campaigns.json)."""
    sent: dict[str, deque[float]] = field(default_factory=dict)
    """identity -> times of earlier deliveries inside the frequency cap's window (at most its message count)."""
    next_campaign: int = 0
    next_request: int = 0


class State:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._tenants: dict[str, TenantState] = {}

    def tenant(self, tenant: str | None) -> TenantState:
        key = tenant or ""
        found = self._tenants.get(key)
        if found is None:
            found = self._tenants[key] = TenantState()
        return found

    def tenants(self) -> list[tuple[str, TenantState]]:
        return list(self._tenants.items())

    def reset(self, tenant: str | None) -> None:
        if tenant is None:
            self._tenants.clear()
        else:
            self._tenants.pop(tenant, None)

    def _base(self, tenant: str | None, salt: str, span: int) -> int:
        digest = hashlib.sha256(f"{self.seed}:{tenant or ''}:{salt}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % span

    def campaign_id(self, tenant: str | None) -> int:
        state = self.tenant(tenant)
        offset = (self._base(tenant, "campaign", CAMPAIGN_ID_SPAN) + state.next_campaign) % CAMPAIGN_ID_SPAN
        state.next_campaign += 1
        return CAMPAIGN_ID_BASE + offset

    def request_id(self, tenant: str | None, answer: dict[str, Any]) -> int:
        state = self.tenant(tenant)
        req_id = REQUEST_ID_BASE + self._base(tenant, "request", 10**11) * 1000 + state.next_request
        state.next_request += 1
        state.pending[req_id] = answer
        return req_id
