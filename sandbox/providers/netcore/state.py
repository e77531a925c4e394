"""Run-time Netcore data per tenant: contacts, list membership, campaigns, frequency-capping history.

A tenant's data starts from the fixtures the first time the tenant is seen: the members of lists and static
segments are written to the shared population as its contacts, the fixture campaigns exist. ``reset`` drops
it (the core resets the population's writes of that tenant). Campaign ids come from counters
per app whose start is derived from the seed, so a run is reproducible.
"""

from __future__ import annotations

import copy
import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from sandbox.population.audience.service import AudienceService
from sandbox.providers.netcore import people
from sandbox.providers.netcore.fixtures import Catalog


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
        self.tenants: dict[str, TenantData] = {}
        self._counters()

    def _counters(self) -> None:
        rng = random.Random(f"netcore:{self.seed}")
        self.next_campaign = 10001 + rng.randrange(0, 1000) * 10
        """gen-1/v3 ids: five-digit ints like the doc's 10001 (spec §1)."""
        fixture_ids = [c["campaign_id"] for c in self.catalog.campaigns]
        self.next_v4 = max([1300, *fixture_ids]) + 1 + rng.randrange(0, 100)
        """v4 ids: small ints like 416, 828, 1231 (spec §9), above the fixture campaigns."""
        self.requests = 0

    def campaign_id(self, generation: str) -> int:
        if generation == "v4":
            self.next_v4 += 1
            return self.next_v4 - 1
        self.next_campaign += 1
        return self.next_campaign - 1

    def request_id(self) -> str:
        """apiv2 ``requestid``: 32 hex characters (spec §6.1), reproducible from the seed."""
        self.requests += 1
        return hashlib.md5(f"{self.seed}:{self.requests}".encode(), usedforsecurity=False).hexdigest()

    def tenant(self, tenant: str | None) -> TenantData:
        key = tenant or ""
        data = self.tenants.get(key)
        if data is None:
            data = self.tenants[key] = self._seeded(tenant)
        return data

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
            if self.people.find(identity, people.IDENTITY_KEYS, tenant=tenant) is None:
                people.upsert(self.people, attributes, tenant)

    def identity(self, value: str, tenant: str | None) -> str | None:
        """The identity of the profile any primary-key value (customer id, email, mobile) names."""
        find = self.people.find
        found = find(value, tenant=tenant) or find(value.lower(), tenant=tenant) or next(
            (p for p in (find(phone, tenant=tenant) for phone in people.phones(value)) if p is not None), None)
        return None if found is None else str(found["identity"])

    def reset(self, tenant: str | None) -> None:
        if tenant is None:
            self.tenants.clear()
            self._counters()
        else:
            self.tenants.pop(tenant, None)


def state_of(provider: object) -> NetcoreState:
    """The Netcore provider's state (handlers receive the provider as ``call.provider``)."""
    state = getattr(provider, "state", None)
    if not isinstance(state, NetcoreState):
        raise RuntimeError("the netcore provider has not started")
    return state
