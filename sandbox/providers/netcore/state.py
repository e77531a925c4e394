"""Run-time Netcore data per tenant: contacts, list membership, campaigns, frequency-capping history.

A tenant's data starts as a copy of the fixtures (list and segment members are its contacts, the fixture
campaigns exist) the first time the tenant is seen; ``reset`` drops it. Campaign ids come from counters
per app whose start is derived from the seed, so a run is reproducible.
"""

from __future__ import annotations

import copy
import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from .fixtures import Catalog

PRIMARY_KEYS = ("CUSTOMER_ID", "EMAIL", "MOBILE")
"""Netcore's primary keys: customer id, email or mobile (spec §6.1, §6.3 "identity")."""


def normalise(key: str, value: Any) -> str:
    text = str(value).strip()
    return text.lower() if key == "EMAIL" else text


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
    """Contact id (first primary key present) -> attributes."""
    index: dict[str, str] = field(default_factory=dict)
    """Any primary-key value -> contact id."""
    lists: dict[str, list[str]] = field(default_factory=dict)
    segments: dict[str, list[str]] = field(default_factory=dict)
    campaigns: dict[int, Campaign] = field(default_factory=dict)
    sends: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    """(channel, user) -> send times, for frequency capping."""
    events: list[dict[str, Any]] = field(default_factory=list)

    def find(self, attributes: dict[str, Any]) -> str | None:
        for key in PRIMARY_KEYS:
            if attributes.get(key) not in (None, ""):
                found = self.index.get(normalise(key, attributes[key]))
                if found is not None:
                    return found
        return None

    def upsert(self, attributes: dict[str, Any]) -> str | None:
        """Merge ``attributes`` into the contact they name (by any primary key); None if they name none."""
        ident = self.find(attributes)
        if ident is None:
            ident = next((normalise(k, attributes[k]) for k in PRIMARY_KEYS if attributes.get(k) not in (None, "")),
                         None)
            if ident is None:
                return None
            self.contacts[ident] = {}
        self.contacts[ident].update(attributes)
        for key in PRIMARY_KEYS:
            if self.contacts[ident].get(key) not in (None, ""):
                self.index[normalise(key, self.contacts[ident][key])] = ident
        return ident

    def add_to(self, table: dict[str, list[str]], audience_id: str, ident: str) -> None:
        members = table.setdefault(audience_id, [])
        if ident not in members:
            members.append(ident)

    def remove_from_list(self, list_id: str, value: str) -> bool:
        ident = self.index.get(value) or self.index.get(value.lower())
        members = self.lists.get(list_id, [])
        if ident is None or ident not in members:
            return False
        members.remove(ident)
        return True


class NetcoreState:
    """Every tenant's data plus the id counters of one app."""

    def __init__(self, catalog: Catalog, seed: int) -> None:
        self.catalog = catalog
        self.seed = seed
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
            data = self.tenants[key] = self._seeded()
        return data

    def _seeded(self) -> TenantData:
        data = TenantData()
        for table, audiences in ((data.lists, self.catalog.lists), (data.segments, self.catalog.segments)):
            for audience_id, audience in audiences.items():
                table[audience_id] = []
                for member in audience.get("members", ()):
                    ident = data.upsert(copy.deepcopy(member))
                    if ident is not None:
                        data.add_to(table, audience_id, ident)
        for item in self.catalog.campaigns:
            details = {k: copy.deepcopy(v) for k, v in item.items() if k != "channel"}
            data.campaigns[item["campaign_id"]] = Campaign(item["campaign_id"], "v4", item["channel"],
                                                           item["campaign_name"], item["campaign_state"], details)
        return data

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
