"""Run-time CleverTap state per tenant (account id): campaigns, pending async answers, frequency history.

Ids are deterministic (``sandbox.core.ids``): a per-tenant start drawn from the seed and the tenant, plus
that tenant's sequence, so the same seed and the same calls give the same ids whatever other tenants did,
and ``reset`` starts the tenant's sequences again. Campaign
ids fit a signed 32-bit int (clients parse them as Java ``int`` [V-QA]); request ids are longs [V-doc].
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sandbox.core.ids import Ids
from sandbox.core.tenants import TenantState

VENDOR = "clevertap"
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
class Tenant:
    """One tenant's (account's) CleverTap state."""

    campaigns: dict[int, Campaign] = field(default_factory=dict)
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    """req_id -> the answer its follow-up gets (async estimates and counts)."""
    sent: dict[str, deque[float]] = field(default_factory=dict)
    """identity -> times of earlier deliveries inside the frequency cap's window (at most its message count)."""


class State:
    """Every tenant's state and ids (``TenantState`` and ``Ids`` from the core)."""

    def __init__(self, seed: int) -> None:
        self.tenants: TenantState[Tenant] = TenantState(lambda _tenant: Tenant())
        self.ids = Ids(seed, VENDOR)

    def tenant(self, tenant: str | None) -> Tenant:
        return self.tenants[tenant]

    def reset(self, tenant: str | None) -> None:
        self.tenants.reset(tenant)
        self.ids.reset(tenant)

    def campaign_id(self, tenant: str | None) -> int:
        return self.ids.number(tenant, "campaign", CAMPAIGN_ID_BASE, CAMPAIGN_ID_SPAN)

    def request_id(self, tenant: str | None, answer: dict[str, Any]) -> int:
        req_id = REQUEST_ID_BASE + self.ids.start(tenant, "request", 10**11) * 1000 \
            + self.ids.sequence(tenant, "request") - 1
        self.tenant(tenant).pending[req_id] = answer
        return req_id
