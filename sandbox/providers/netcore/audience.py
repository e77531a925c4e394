"""Netcore audiences -> the neutral condition tree (``sandbox/population/audience/tree.py``).

Lists are static member lists (fixture members + contacts uploaded with a ``listid``); segments are rules
over the shared population (``rule`` in ``segments.json``) or static ``members``. Both are
``{"member_of": "list:<id>"}`` / ``{"member_of": "segment:<id>"}`` nodes resolved per tenant. The same tree
drives deliveries and ``POST /_sandbox/audience/estimate``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.core.operations import Call
from sandbox.population.audience import UnknownMember
from sandbox.providers.netcore import errors
from sandbox.providers.netcore.state import NetcoreState, TenantData

CHANNELS = {"apn": "push", "push": "push", "email": "email"}
"""Netcore channel (or the neutral name) -> the neutral channel the engine knows."""


@dataclass(slots=True)
class Audience:
    lists: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    exclude_lists: list[str] = field(default_factory=list)
    exclude_segments: list[str] = field(default_factory=list)
    all_users: bool = False
    limit: int | None = None

    def is_empty(self) -> bool:
        return not (self.all_users or self.lists or self.segments)

    def describe(self) -> dict[str, Any]:
        return {"list_ids": self.lists, "segment_ids": self.segments, "exclude_list_ids": self.exclude_lists,
                "exclude_segment_ids": self.exclude_segments, "all_users": self.all_users}


def ids(values: Any) -> list[str]:
    """Ids as strings: Netcore sends them as ints or digit strings (spec §4.4), one or a list."""
    if values is None:
        return []
    items = values if isinstance(values, list) else [values]
    return [str(v) for v in items if isinstance(v, int | str) and not isinstance(v, bool)]


def check_audience(call: Call | None, state: NetcoreState, data: TenantData, tenant: str | None, audience: Audience,
                   fields: Mapping[str, str]) -> None:
    """Every list/segment id the audience names exists for the tenant (learned in learn mode when ``call``
    is given); otherwise Netcore's error naming the request field (``fields`` maps lists/segments/... to it)."""
    for attr, kind, missing in (("lists", "lists", errors.LIST_NOT_FOUND),
                                ("segments", "segments", errors.SEGMENT_NOT_FOUND),
                                ("exclude_lists", "lists", errors.LIST_NOT_FOUND),
                                ("exclude_segments", "segments", errors.SEGMENT_NOT_FOUND)):
        for audience_id in getattr(audience, attr):
            state.audience_known(call, data, tenant, kind, audience_id,
                                 lambda m=missing, a=attr: errors.fail(m, fields.get(a, a)))


def tree_of(audience: Audience) -> dict[str, Any]:
    include: dict[str, Any] = {"everyone": True} if audience.all_users else {"any": [
        *({"member_of": f"list:{i}"} for i in audience.lists),
        *({"member_of": f"segment:{i}"} for i in audience.segments)]}
    exclude = [*({"member_of": f"list:{i}"} for i in audience.exclude_lists),
               *({"member_of": f"segment:{i}"} for i in audience.exclude_segments)]
    return {"all": [include, {"not": {"any": exclude}}]} if exclude else include


def resolver(state: NetcoreState, data: TenantData, tenant: str | None) -> Callable[[Any], Any]:
    """``member_of`` nodes: a list's members, a segment's rule or members; an audience removed from the panel
    since the campaign was made reaches nobody."""
    def resolve(member: Any) -> Any:
        kind, _, ident = str(member).partition(":")
        if kind in ("list", "segment"):
            found = state.members(data, tenant, f"{kind}s", ident)
            return [] if found is None else found
        raise UnknownMember(f"unknown Netcore audience {member!r}")
    return resolve
