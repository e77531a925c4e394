"""Running a campaign: resolve its audience, personalise its template per contact, record deliveries.

Shared by every generation: gen-1 ``execute``, v3 "send now"/scheduled and v4 ``active`` campaigns, and the
v4 ``test`` call. Nothing leaves the machine: each recipient becomes a ``/_sandbox/deliveries`` record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ... import keys
from ...clock import iso
from . import errors
from .state import Campaign, NetcoreState, TenantData

VENDOR = "netcore"
CHANNELS = {"apn": "push", "email": "email"}
"""Netcore channel -> the sandbox's neutral delivery channel."""
FREQUENCY_CAP = 1
FREQUENCY_WINDOW = 86400.0
"""[INF] With frequency capping on, a contact gets at most one capped campaign per channel per 24 h of
sandbox clock (Netcore's caps are set in its panel; their values are not in the docs, spec §1)."""
TOKEN = re.compile(r"\[([A-Za-z0-9_. -]+)\]")
"""Merge tags like ``[NAME]`` / ``[FIRSTNAME]`` (spec §3, §4.4)."""


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


def check_audience(data: TenantData, audience: Audience, fields: Mapping[str, str]) -> None:
    """Unknown list/segment ids fail, naming the request field (``fields`` maps lists/segments/... to it)."""
    for attr, table, missing in (("lists", data.lists, errors.LIST_NOT_FOUND),
                                 ("segments", data.segments, errors.SEGMENT_NOT_FOUND),
                                 ("exclude_lists", data.lists, errors.LIST_NOT_FOUND),
                                 ("exclude_segments", data.segments, errors.SEGMENT_NOT_FOUND)):
        for audience_id in getattr(audience, attr):
            if audience_id not in table:
                raise errors.fail(missing, fields.get(attr, attr))


def members(data: TenantData, audience: Audience) -> list[str]:
    chosen: dict[str, None] = dict.fromkeys(data.contacts) if audience.all_users else {}
    for list_id in audience.lists:
        chosen.update(dict.fromkeys(data.lists.get(list_id, ())))
    for segment_id in audience.segments:
        chosen.update(dict.fromkeys(data.segments.get(segment_id, ())))
    excluded = {m for i in audience.exclude_lists for m in data.lists.get(i, ())}
    excluded |= {m for i in audience.exclude_segments for m in data.segments.get(i, ())}
    found = [m for m in chosen if m not in excluded]
    return found[: audience.limit] if audience.limit is not None else found


def template(state: NetcoreState, template_id: Any, channel: str, field_name: str) -> dict[str, Any]:
    found = state.catalog.templates.get(str(template_id)) if template_id not in (None, "") else None
    if found is None:
        raise errors.fail(errors.TEMPLATE_NOT_FOUND, field_name)
    if found["channel"] != channel:
        raise errors.fail(errors.TEMPLATE_CHANNEL_MISMATCH, field_name)
    return found


def personalise(text: str, values: Mapping[str, Any], contact: Mapping[str, Any]) -> str:
    """Replace ``[KEY]`` with the call's personalization value, else the contact's attribute (any case);
    unknown tags are left as they are [INF]."""
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        for source in (values, contact):
            for key in (name, name.upper(), name.lower()):
                if key in source and source[key] is not None:
                    return str(source[key])
        return match.group(0)
    return TOKEN.sub(one, text)


def user_of(contact: Mapping[str, Any], channel: str) -> str | None:
    """The address a delivery goes to: the email for email, else the first primary key present."""
    keys_ = ("EMAIL",) if channel == "email" else ("CUSTOMER_ID", "EMAIL", "MOBILE")
    return next((str(contact[k]) for k in keys_ if contact.get(k) not in (None, "")), None)


def deliver(app: web.Application, tenant: str | None, data: TenantData, campaign: Campaign,
            content: Mapping[str, str], audience: Audience, *, values: Mapping[str, Any] | None = None,
            capping: bool = False, extra: Mapping[str, Any] | None = None) -> int:
    """Record one delivery per reachable, uncapped audience member; returns how many were recorded."""
    now = app[keys.CLOCK].time()
    return record(app, tenant, data, campaign, content,
                  ((ident, data.contacts[ident]) for ident in members(data, audience)),
                  values=values or {}, capping=capping, now=now,
                  extra={"generation": campaign.generation, **audience.describe(), **(extra or {})})


def record(app: web.Application, tenant: str | None, data: TenantData, campaign: Campaign,
           content: Mapping[str, str], recipients: Iterable[tuple[str | None, Mapping[str, Any]]], *,
           values: Mapping[str, Any], capping: bool, now: float, extra: Mapping[str, Any],
           known: bool = True) -> int:
    deliveries = app[keys.DELIVERIES]
    channel = CHANNELS.get(campaign.channel, campaign.channel)
    count = 0
    for ident, contact in recipients:
        user = user_of(contact, campaign.channel)
        if user is None or (capping and capped(data, channel, user, now)):
            continue
        if not extra.get("test"):
            data.sends.setdefault((channel, user), []).append(now)
        deliveries.record(tenant=tenant, vendor=VENDOR, campaign_id=campaign.id, user=user, channel=channel,
                          platform=contact.get("PLATFORM") if channel == "push" else None,
                          content={k: personalise(v, values, contact) for k, v in content.items()},
                          time=iso(now), known=known and ident is not None,
                          extra={"campaign_name": campaign.name, **extra})
        count += 1
    return count


def capped(data: TenantData, channel: str, user: str, now: float) -> bool:
    recent = [t for t in data.sends.get((channel, user), ()) if now - t < FREQUENCY_WINDOW]
    return len(recent) >= FREQUENCY_CAP
