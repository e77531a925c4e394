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
from sandbox.population.audience import Unreached
from sandbox.providers.netcore import errors, panel, people
from sandbox.providers.netcore.audience import CHANNELS, Audience, resolver, tree_of
from sandbox.providers.netcore.state import Campaign, NetcoreState, TenantData
from sandbox.records.deliveries import SKIPPED_PER_RUN, Send, Target

VENDOR = "netcore"
FREQUENCY_CAP = 1
FREQUENCY_WINDOW = 86400.0
"""[INF] With frequency capping on, a contact gets at most one capped campaign per channel per 24 h of
sandbox clock (Netcore's caps are set in its panel; their values are not in the docs, spec §1)."""
CAP_DETAIL = f"frequency capping: at most {FREQUENCY_CAP} capped campaign per channel in {FREQUENCY_WINDOW / 3600:g} h"
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
    unreached = Unreached(SKIPPED_PER_RUN)
    found = state.people.recipients(tree_of(audience), tenant=tenant, channel=channel, limit=audience.limit,
                                    resolve_member=resolver(state, data, tenant), unreached=unreached)
    targets = []
    for target in found:
        profile = state.people.profile_at(target["row"], tenant=tenant)
        targets.append(Recipient(Target(_address(channel, profile or target), target.get("platform"),
                                        target.get("token")), people.attributes_view(profile)))
    send = _send(services, tenant, campaign, {"generation": campaign.generation, **audience.describe(),
                                              **(extra or {})})
    if unreached.counts:
        send.skip_unreached(channel, unreached.counts, unreached.rows,
                            lambda row: Target(_address(channel, state.people.profile_at(row, tenant=tenant))))
    return record(services, tenant, data, campaign, content, targets, values=values or {}, capping=capping,
                  send=send)


def _address(channel: str, profile: Mapping[str, Any]) -> str:
    """The user as a delivery names them: the email address for email, else the contact's customer id."""
    email = profile.get("email") if channel == "email" else None
    return str(email or people.customer_id(profile))


def _send(services: Services, tenant: str | None, campaign: Campaign, extra: Mapping[str, Any]) -> Send:
    return services.deliveries.send(tenant=tenant, vendor=VENDOR, campaign_id=campaign.id,
                                    time=iso(services.clock.time(tenant)),
                                    extra={"campaign_name": campaign.name, **extra})


def record(services: Services, tenant: str | None, data: TenantData, campaign: Campaign,
           content: Mapping[str, str], recipients: Iterable[Recipient], *, values: Mapping[str, Any], capping: bool,
           extra: Mapping[str, Any] | None = None, send: Send | None = None) -> int:
    """Record a delivery per recipient (``send``: the run's recorder, else one made with ``extra``); with
    ``capping``, recipients over the frequency cap are skipped."""
    now = services.clock.time(tenant)
    if send is None:
        send = _send(services, tenant, campaign, extra or {})
    channel = CHANNELS.get(campaign.channel, campaign.channel)
    test = bool(send.extra.get("test"))
    count = 0
    for recipient in recipients:
        user = recipient.target.user
        if capping and capped(data, channel, user, now):
            send.skip(recipient.target, channel, "frequency_capped", CAP_DETAIL)
            continue
        if not test:
            data.sends.setdefault((channel, user), []).append(now)
        send.deliver(recipient.target, channel,
                     {k: personalise(v, values, recipient.attributes) for k, v in content.items()})
        count += 1
    return count


def capped(data: TenantData, channel: str, user: str, now: float) -> bool:
    recent = [t for t in data.sends.get((channel, user), ()) if now - t < FREQUENCY_WINDOW]
    return len(recent) >= FREQUENCY_CAP
