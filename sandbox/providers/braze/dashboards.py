"""What a Braze workspace's dashboard holds, per tenant: the workspace fixture's campaigns, Canvases, segments
and subscription groups, plus run-time additions (``/_sandbox/vendors/braze/<collection>``) and objects learned
from requests (``learn.py``), each collection a core ``Dashboard``.

Handlers read them through ``Dashboards.view(workspace, tenant)``: the ``Workspace`` with its four mappings
replaced by this tenant's views, so every read (lists, details, segments of a broadcast, subscription groups
of an SMS) sees what this tenant sees.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, Generic, TypeVar

from sandbox.core.dashboard import Dashboard
from sandbox.core.dashboard import Dashboards as CoreDashboards
from sandbox.population.audience.tree import validate_tree
from sandbox.providers.braze.workspace import (
    FIXTURE,
    Campaign,
    Canvas,
    Workspace,
    campaign_of,
    canvas_of,
    schema_error,
)

T = TypeVar("T")

CAMPAIGNS, CANVASES, SEGMENTS, SUBSCRIPTION_GROUPS = "campaigns", "canvases", "segments", "subscription_groups"
COLLECTIONS = (CAMPAIGNS, CANVASES, SEGMENTS, SUBSCRIPTION_GROUPS)
"""The collections of ``/_sandbox/vendors/braze/<collection>`` (and of the workspace fixture)."""
ITEM_SCHEMA = {CAMPAIGNS: "workspace_campaign", CANVASES: "workspace_canvas", SEGMENTS: "workspace_segment",
               SUBSCRIPTION_GROUPS: "workspace_subscription_group"}
"""``schemas/braze/_defs.json`` definition of one item of each collection (as in the fixture file)."""


class View(Mapping[str, T], Generic[T]):
    """One collection as one tenant sees it (fixtures, additions for everyone, this tenant's own)."""

    __slots__ = ("dashboard", "tenant")

    def __init__(self, dashboard: Dashboard[T], tenant: str | None) -> None:
        self.dashboard = dashboard
        self.tenant = tenant

    def __getitem__(self, key: str) -> T:
        found = self.dashboard.get(self.tenant, key)
        if found is None:
            raise KeyError(key)
        return found

    def get(self, key: str, default: Any = None) -> Any:
        found = self.dashboard.get(self.tenant, key)
        return default if found is None else found

    def __contains__(self, key: object) -> bool:
        return self.dashboard.get(self.tenant, key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.dashboard.ids(self.tenant))

    def __len__(self) -> int:
        return len(self.dashboard.ids(self.tenant))

    def provisioned(self, key: str) -> bool:
        return self.dashboard.provisioned(self.tenant, key)


class Dashboards(CoreDashboards):
    """The four collections, built from the workspace fixture at startup."""

    def __init__(self, vendor: str, workspace: Workspace) -> None:
        self.campaigns: Dashboard[Campaign] = Dashboard(vendor, CAMPAIGNS, FIXTURE, workspace.campaigns)
        self.canvases: Dashboard[Canvas] = Dashboard(vendor, CANVASES, FIXTURE, workspace.canvases)
        self.segments: Dashboard[Mapping[str, Any]] = Dashboard(vendor, SEGMENTS, FIXTURE, workspace.segments)
        self.subscription_groups: Dashboard[Mapping[str, Any]] = Dashboard(
            vendor, SUBSCRIPTION_GROUPS, FIXTURE, workspace.subscription_groups)

    def by_name(self) -> dict[str, Dashboard[Any]]:
        return {CAMPAIGNS: self.campaigns, CANVASES: self.canvases, SEGMENTS: self.segments,
                SUBSCRIPTION_GROUPS: self.subscription_groups}

    def view(self, workspace: Workspace, tenant: str | None) -> Workspace:
        return replace(workspace, campaigns=View(self.campaigns, tenant), canvases=View(self.canvases, tenant),
                       segments=View(self.segments, tenant),
                       subscription_groups=View(self.subscription_groups, tenant))

    # -- /_sandbox/vendors/braze/<collection> ----------------------------------------------------------
    def list(self, collection: str, tenant: str | None) -> list[dict[str, Any]]:
        return self.listed(collection, tenant, lambda _key, item: dict(raw_of(item)))

    def add(self, collection: str, item: Any, tenant: str | None) -> dict[str, Any]:
        """Validate ``item`` as the fixture file's items are validated; ValueError says what is wrong."""
        problem = schema_error(ITEM_SCHEMA[collection], item)
        if problem is not None:
            raise ValueError(problem)
        if collection == SEGMENTS:
            validate_tree(item.get("members", {"all": []}), "$.members")
        segment = item.get("segment_id") if collection in (CAMPAIGNS, CANVASES) else None
        if segment is not None and self.segments.get(tenant, segment) is None:
            raise ValueError(f"$.segment_id: no segment {segment!r} (add it to 'segments' first)")
        built: Any = (campaign_of(item) if collection == CAMPAIGNS else canvas_of(item) if collection == CANVASES
                      else dict(item))
        self.by_name()[collection].add(tenant, item["id"], built)
        return dict(item)


def marked(row: dict[str, Any], collection: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``row`` with ``"provisioned": true`` when ``collection`` (a tenant's ``View``) learned ``key``."""
    if isinstance(collection, View) and collection.provisioned(key):
        row["provisioned"] = True
    return row


def raw_of(item: Any) -> dict[str, Any]:
    """An item as the fixture file spells it."""
    return dict(item.raw) if isinstance(item, Campaign | Canvas) else dict(item)
