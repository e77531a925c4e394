"""Run-time Netcore data per tenant: contacts, list membership, campaigns, frequency-capping history.

A tenant's data starts from the panel (``panel.Panel``: fixtures and run-time additions) the first time the
tenant is seen: the members of lists and static segments are written to the population as its contacts, the
panel's v4 campaigns exist. Panel objects added or learned later are brought in when first named
(``audience_known``, ``sync_campaigns``). ``reset`` drops it (the core resets the population's writes of
that tenant). Ids come from the core's per-tenant sequences
(``sandbox.core.ids``) with a start derived from the seed and the tenant, so a run is reproducible whatever
other tenants did.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sandbox.core.ids import Ids
from sandbox.core.operations import Call
from sandbox.core.tenants import TenantState
from sandbox.population.audience.service import AudienceService
from sandbox.providers.netcore import errors, panel, people
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
    panel: bool = False
    """Made in the panel (fixtures, run-time additions, learned), not through the API."""
    provisioned: bool = False
    """Learned from a request (learn mode): shown as ``"provisioned": true``."""


@dataclass(slots=True)
class TenantData:
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Identity -> the attributes this tenant gave the contact (fixtures, apiv2): they are written to the
    shared population, and written again if another tenant's reset removed them (``NetcoreState.heal``)."""
    lists: dict[str, list[str]] = field(default_factory=dict)
    """List id -> member identities."""
    segments: dict[str, list[str]] = field(default_factory=dict)
    """Static segment id -> member identities (rule segments live in the panel)."""
    campaigns: dict[int, Campaign] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    """Panel campaigns this tenant deleted: not brought back from the panel, never learned again."""
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
        self.panel = panel.Panel(catalog)
        self.seed = seed
        self.people = people
        self.tenants: TenantState[TenantData] = TenantState(lambda name: self._seeded(name or None))
        self.ids = Ids(seed, VENDOR)
        self.first_v4 = max([1300, *(c["campaign_id"] for c in self.catalog.campaigns.values())]) + 1
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

    def new_campaign_id(self, data: TenantData, tenant: str | None, generation: str) -> int:
        """The next id of ``generation`` that no campaign of this tenant (a learned one included) has."""
        found = self.campaign_id(tenant, generation)
        while found in data.campaigns or found in data.deleted:
            found = self.campaign_id(tenant, generation)
        return found

    def _seeded(self, tenant: str | None) -> TenantData:
        data = TenantData()
        for kind in ("lists", "segments"):
            for audience_id, item, _provisioned in self.panel[kind].items(tenant):
                self._materialize(data, tenant, kind, audience_id, item)
        self.sync_campaigns(data, tenant)
        return data

    # -- panel objects in a tenant's data ----------------------------------------------------------------
    def audience_known(self, call: Call | None, data: TenantData, tenant: str | None, kind: str, audience_id: str,
                       reject: Any) -> None:
        """List or segment ``audience_id`` exists for this tenant (brought in from the panel, or learned when
        ``call`` is given); else ``reject()`` is raised."""
        table = data.lists if kind == "lists" else data.segments
        if audience_id in table:
            return
        item = panel.resolve(call, self.panel[kind], tenant, audience_id,
                             lambda: panel.learned_audience(kind, audience_id), reject)
        self._materialize(data, tenant, kind, audience_id, item)

    def members(self, data: TenantData, tenant: str | None, kind: str, audience_id: str) -> Any:
        """What ``{"member_of": "<list|segment>:<id>"}`` means for this tenant: a segment's rule or the
        member identities; None when the panel has no such audience."""
        item = self.panel[kind].get(tenant, audience_id)
        if item is not None and "rule" in item:
            return item["rule"]
        table = data.lists if kind == "lists" else data.segments
        if audience_id not in table:
            if item is None:
                return None
            self._materialize(data, tenant, kind, audience_id, item)
        return list(table[audience_id])

    def _materialize(self, data: TenantData, tenant: str | None, kind: str, audience_id: str,
                     item: dict[str, Any]) -> None:
        if "rule" in item:
            return
        table = data.lists if kind == "lists" else data.segments
        table[audience_id] = []
        for member in item.get("members", ()):
            identity = self.contact(data, tenant, member)
            if identity is not None:
                data.add_to(table, audience_id, identity)

    def sync_campaigns(self, data: TenantData, tenant: str | None) -> None:
        """Bring in the panel's v4 campaigns this tenant has not seen (nor deleted)."""
        for key, item, provisioned in self.panel.campaigns.items(tenant):
            campaign_id = int(key)
            if campaign_id not in data.campaigns and campaign_id not in data.deleted:
                self._campaign_of(data, item, provisioned)

    def panel_campaign(self, call: Call, data: TenantData, campaign_id: int, entry: dict[str, Any] | None,
                       field_name: str) -> Campaign:
        """The v4 campaign ``campaign_id`` names: the tenant's, or one made in the panel (learned in learn
        mode). A deleted one, or an id of another generation's campaign, is not found in either mode."""
        found = data.campaigns.get(campaign_id)
        if found is not None and found.generation == "v4":
            return found

        def reject() -> errors.NetcoreFail:
            return errors.fail(errors.CAMPAIGN_NOT_FOUND, field_name)
        if found is not None or campaign_id in data.deleted:
            raise reject()
        item = panel.resolve(call, self.panel.campaigns, call.tenant, campaign_id,
                             lambda: panel.learned_campaign(campaign_id, entry), reject)
        return self._campaign_of(data, item, self.panel.campaigns.provisioned(call.tenant, campaign_id))

    def _campaign_of(self, data: TenantData, item: dict[str, Any], provisioned: bool) -> Campaign:
        details = {k: copy.deepcopy(v) for k, v in item.items() if k != "channel"}
        campaign = Campaign(item["campaign_id"], "v4", item["channel"], item["campaign_name"],
                            item["campaign_state"], details, panel=True, provisioned=provisioned)
        data.campaigns[campaign.id] = campaign
        return campaign

    def forget(self, collection: str, item_id: str, tenant: str | None) -> None:
        """A panel object was added or removed at run time: drop the copies tenants hold, so the next use
        brings in the panel's current version (or finds it gone)."""
        chosen = self.tenants.items() if tenant is None else [(tenant, self.tenants.get(tenant))]
        for _name, data in chosen:
            if data is None:
                continue
            if collection == "lists":
                data.lists.pop(item_id, None)
            elif collection == "segments":
                data.segments.pop(item_id, None)
            elif collection == "campaigns" and item_id.isdigit():
                held = data.campaigns.get(int(item_id))
                if held is not None and held.panel:
                    del data.campaigns[int(item_id)]
                data.deleted.discard(int(item_id))

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
        self.tenants.reset(tenant)
        self.ids.reset(tenant)
        self.panel.reset(tenant)


def state_of(provider: object) -> NetcoreState:
    """The Netcore provider's state (handlers receive the provider as ``call.provider``)."""
    state = getattr(provider, "state", None)
    if not isinstance(state, NetcoreState):
        raise RuntimeError("the netcore provider has not started")
    return state
