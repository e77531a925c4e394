"""Running a campaign: resolve its audience, personalise its template per contact, record deliveries.

Shared by every generation: gen-1 ``execute``, v3 "send now"/scheduled and v4 ``active`` campaigns, and the
v4 ``test`` call. Nothing leaves the machine: each recipient becomes a ``/_sandbox/deliveries`` record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.core.clock import iso
from sandbox.core.operations import Call
from sandbox.core.services import Services
from sandbox.providers.netcore import errors, panel, people
from sandbox.providers.netcore.audience import CHANNELS, Audience, resolver, tree_of
from sandbox.providers.netcore.state import Campaign, NetcoreState, TenantData
from sandbox.records.deliveries import Target

VENDOR = "netcore"
FREQUENCY_CAP = 1
FREQUENCY_WINDOW = 86400.0
"""[INF] With frequency capping on, a contact gets at most one capped campaign per channel per 24 h of
sandbox clock (Netcore's caps are set in its panel; their values are not in the docs, spec §1)."""
TOKEN = re.compile(r"\[([A-Za-z0-9_. -]+)\]")
"""Merge tags like ``[NAME]`` / ``[FIRSTNAME]`` (spec §3, §4.4)."""


def template(call: Call | None, state: NetcoreState, tenant: str | None, template_id: Any, channel: str,
             field_name: str) -> dict[str, Any]:
    """The panel template ``template_id`` (learned in learn mode with ``channel``, the campaign's); a known
    template of another channel is rejected in both modes. Without a call (a scheduled campaign running) a
    template removed from the panel since is sent as a learned one would be."""
    if template_id in (None, ""):
        raise errors.fail(errors.TEMPLATE_NOT_FOUND, field_name)
    def reject() -> errors.NetcoreFail:
        return errors.fail(errors.TEMPLATE_NOT_FOUND, field_name)
    if call is None and panel.learnable(template_id):
        found = state.panel.templates.get(tenant, template_id) or panel.learned_template(template_id, channel)
    else:
        found = panel.resolve(call, state.panel.templates, tenant, template_id,
                              lambda: panel.learned_template(template_id, channel), reject)
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


@dataclass(frozen=True, slots=True)
class Recipient:
    """One delivery target (the address: identity for push, email for email; the device) and its merge-tag
    values."""

    target: Target
    attributes: Mapping[str, Any]


def deliver(services: Services, state: NetcoreState, tenant: str | None, data: TenantData, campaign: Campaign,
            content: Mapping[str, str], audience: Audience, *, values: Mapping[str, Any] | None = None,
            capping: bool = False, extra: Mapping[str, Any] | None = None) -> int:
    """Record one delivery per reachable, uncapped member of ``audience``; returns how many were recorded.
    Reach is the engine's (push needs an app device, email an address; unsubscribed/invalid are skipped)."""
    state.heal(data, tenant)
    channel = CHANNELS.get(campaign.channel, campaign.channel)
    found = state.people.recipients(tree_of(audience), tenant=tenant, channel=channel, limit=audience.limit,
                                    resolve_member=resolver(state, data, tenant))
    targets = []
    for target in found:
        profile = state.people.profile_at(target["row"], tenant=tenant)
        user = target.get("email") if channel == "email" else people.customer_id(profile or target)
        targets.append(Recipient(Target(str(user), target.get("platform"), target.get("token")),
                                 people.attributes_view(profile)))
    return record(services, tenant, data, campaign, content, targets, values=values or {}, capping=capping,
                  extra={"generation": campaign.generation, **audience.describe(), **(extra or {})})


def record(services: Services, tenant: str | None, data: TenantData, campaign: Campaign,
           content: Mapping[str, str], recipients: Iterable[Recipient], *, values: Mapping[str, Any], capping: bool,
           extra: Mapping[str, Any]) -> int:
    now = services.clock.time(tenant)
    send = services.deliveries.send(tenant=tenant, vendor=VENDOR, campaign_id=campaign.id, time=iso(now),
                                    extra={"campaign_name": campaign.name, **extra})
    channel = CHANNELS.get(campaign.channel, campaign.channel)
    count = 0
    for recipient in recipients:
        user = recipient.target.user
        if capping and capped(data, channel, user, now):
            continue
        if not extra.get("test"):
            data.sends.setdefault((channel, user), []).append(now)
        send.deliver(recipient.target, channel,
                     {k: personalise(v, values, recipient.attributes) for k, v in content.items()})
        count += 1
    return count


def capped(data: TenantData, channel: str, user: str, now: float) -> bool:
    recent = [t for t in data.sends.get((channel, user), ()) if now - t < FREQUENCY_WINDOW]
    return len(recent) >= FREQUENCY_CAP
