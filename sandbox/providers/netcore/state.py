"""Run-time Netcore data per tenant: contacts, list membership, campaigns, frequency-capping history.

A tenant's data starts from the fixtures the first time the tenant is seen: the members of lists and static
segments are written to the population as its contacts, the fixture campaigns exist. ``reset`` drops
it (the core resets the population's writes of that tenant). Ids come from the core's per-tenant sequences
(``sandbox.core.ids``) with a start derived from the seed and the tenant, so a run is reproducible whatever
other tenants did.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sandbox.core.ids import Ids
from sandbox.core.tenants import TenantState
from sandbox.population.audience.service import AudienceService
from sandbox.providers.netcore import people
from sandbox.providers.netcore.fixtures import Catalog

VENDOR = "netcore"


@dataclass(slots=True)
class Campaign:
    id: int
    generation: str
    """gen1, v3 or v4: each API only sees its own campaigns."""
    channel: str
    name: str
    state: str
    details: dict[str, Any]
    """The campaign as the API that made it describes it (v4 ``get`` answers it)."""
    due: float | None = None
    """Epoch seconds at which a scheduled campaign runs on the sandbox clock."""


@dataclass(slots=True)
class TenantData:
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Identity -> the attributes this tenant gave the contact (fixtures, apiv2): they are written to the
    shared population, and written again if another tenant's reset removed them (``NetcoreState.heal``)."""
    lists: dict[str, list[str]] = field(default_factory=dict)
    """List id -> member identities."""
    segments: dict[str, list[str]] = field(default_factory=dict)
    """Static segment id -> member identities (rule segments live in the catalog)."""
    campaigns: dict[int, Campaign] = field(default_factory=dict)
    sends: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    """(channel, user) -> send times, for frequency capping."""

    def add_to(self, table: dict[str, list[str]], audience_id: str, identity: str) -> None:
        members = table.setdefault(audience_id, [])
        if identity not in members:
            members.append(identity)


class NetcoreState:
    """Every tenant's data plus the id counters of one app."""

    def __init__(self, catalog: Catalog, seed: int, people: AudienceService) -> None:
        self.catalog = catalog
        self.seed = seed
        self.people = people
        self.tenants: TenantState[TenantData] = TenantState(lambda name: self._seeded(name or None))
        self.ids = Ids(seed, VENDOR)
        self.first_v4 = max([1300, *(c["campaign_id"] for c in self.catalog.campaigns)]) + 1
        """v4 ids: small ints like 416, 828, 1231 (spec §9), above the fixture campaigns."""

    def campaign_id(self, tenant: str | None, generation: str) -> int:
        """gen-1/v3 ids: five-digit ints like the doc's 10001 (spec §1); v4: small ints above the fixtures'."""
        if generation == "v4":
            return self.first_v4 + self.ids.start(tenant, "v4", 100) + self.ids.sequence(tenant, "v4") - 1
        return 10001 + self.ids.start(tenant, "campaign", 1000) * 10 + self.ids.sequence(tenant, "campaign") - 1

    def request_id(self, tenant: str | None) -> str:
        """apiv2 ``requestid``: 32 hex characters (spec §6.1), reproducible from the seed and the tenant."""
        return self.ids.hex(tenant, "request", 32)

    def tenant(self, tenant: str | None) -> TenantData:
        return self.tenants[tenant]

    def _seeded(self, tenant: str | None) -> TenantData:
        data = TenantData()
        for table, audiences in ((data.lists, self.catalog.lists), (data.segments, self.catalog.segments)):
            for audience_id, audience in audiences.items():
                if "rule" in audience:
                    continue
                table[audience_id] = []
                for member in audience.get("members", ()):
                    identity = self.contact(data, tenant, member)
                    if identity is not None:
                        data.add_to(table, audience_id, identity)
        for item in self.catalog.campaigns:
            details = {k: copy.deepcopy(v) for k, v in item.items() if k != "channel"}
            data.campaigns[item["campaign_id"]] = Campaign(item["campaign_id"], "v4", item["channel"],
                                                           item["campaign_name"], item["campaign_state"], details)
        return data

    def contact(self, data: TenantData, tenant: str | None, attributes: dict[str, Any]) -> str | None:
        """Write a contact of this tenant to the population; its identity, or None without a primary key."""
        identity = people.upsert(self.people, attributes, tenant)
        if identity is not None:
            data.contacts[identity] = {**data.contacts.get(identity, {}), **copy.deepcopy(attributes)}
        return identity

    def heal(self, data: TenantData, tenant: str | None) -> None:
        """Write back this tenant's contacts that another tenant's reset took out of the population."""
        for identity, attributes in data.contacts.items():
            if self.people.find(identity, people.IDENTITY_KEYS) is None:
                people.upsert(self.people, attributes, tenant)

    def identity(self, value: str) -> str | None:
        """The identity of the profile any primary-key value (customer id, email, mobile) names."""
        found = self.people.find(value) or self.people.find(value.lower()) or next(
            (p for p in map(self.people.find, people.phones(value)) if p is not None), None)
        return None if found is None else str(found["identity"])

    def reset(self, tenant: str | None) -> None:
        self.tenants.reset(tenant)
        self.ids.reset(tenant)


def state_of(provider: object) -> NetcoreState:
    """The Netcore provider's state (handlers receive the provider as ``call.provider``)."""
    state = getattr(provider, "state", None)
    if not isinstance(state, NetcoreState):
        raise RuntimeError("the netcore provider has not started")
    return state
