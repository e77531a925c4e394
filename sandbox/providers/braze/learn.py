"""Every dashboard reference of a Braze request, resolved by the one learn/strict rule (``Dashboard.resolve``,
docs/braze.md "Account data: learn and strict").

Learn mode provisions what this tenant has no record of, shaped by the request that named it:
- a campaign gets its kind from the endpoint (``/messages/send``: API campaign, ``/campaigns/trigger/*``:
  API-triggered, ``/transactional/...``: transactional) and, for API campaigns, one message variation per
  ``message_variation_id`` the request sends (a learned API campaign keeps learning variations of new
  channels); ``/sends/id/create`` does not tell the kind, so the first send that uses the campaign settles it;
- a Canvas, an API-triggered campaign: active, no target segment, no known content (its sends are recorded
  with the channel ``unknown``, ``dispatch.UNKNOWN_CONTENT``);
- a segment: everyone (``LEARNED_SEGMENT_MEMBERS``); a subscription group: of the channel that named it.
Known objects keep every check (wrong kind, wrong channel, paused, archived), in both modes; so does an id
that is a known message variation id used as a campaign id (seed 004).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sandbox.core.clock import iso
from sandbox.providers.braze import errors
from sandbox.providers.braze.errors import BrazeFail
from sandbox.providers.braze.workspace import (
    ACTIVE,
    API,
    TRANSACTIONAL,
    Campaign,
    Canvas,
    campaign_of,
    canvas_of,
)

if TYPE_CHECKING:
    from sandbox.providers.braze.context import Context

LEARNED_NAME = "{id} (learned)"
"""[INF] name of a learned object (Braze's dashboard would show the name its maker gave)."""
LEARNED_SEGMENT_MEMBERS: Mapping[str, Any] = {"everyone": True}
"""[INF] a learned segment holds every user: the sandbox cannot know its filters."""
LEARNED_VARIATION_NAMESPACE = uuid.UUID("6f1c0b7e-3a52-4a39-9a39-6b7a51d0c0de")
"""Learned message variation ids are uuid5(this, "<campaign id>/<channel>"): the same on every run."""
TRANSACTIONAL_CHANNEL = "email"
"""Transactional campaigns are email only [V-doc] (spec §6.4)."""


def _stamp(item_id: str, now: float) -> dict[str, Any]:
    return {"id": item_id, "name": LEARNED_NAME.format(id=item_id), "state": ACTIVE, "tags": [],
            "created_at": iso(now), "last_edited": iso(now)}


def learned_campaign(campaign_id: str, kind: str | None, variations: Mapping[str, str], now: float) -> Campaign:
    """``kind`` None: not told by the request (``/sends/id/create``), an unsettled API campaign."""
    messages = {variation: {"channel": channel} for variation, channel in variations.items()}
    if kind == TRANSACTIONAL and not messages:
        messages = {_variation(campaign_id, TRANSACTIONAL_CHANNEL): {"channel": TRANSACTIONAL_CHANNEL}}
    raw = {**_stamp(campaign_id, now), "type": kind or API, "messages": messages}
    return campaign_of(raw, settled=kind is not None)


def _variation(campaign_id: str, channel: str) -> str:
    return str(uuid.uuid5(LEARNED_VARIATION_NAMESPACE, f"{campaign_id}/{channel}"))


def campaign(ctx: Context, campaign_id: Any, kind: str | None, *, variations: Mapping[str, str] | None = None,
             unknown: str = errors.CAMPAIGN_ID_INVALID, status: int = errors.BAD_REQUEST_STATUS) -> Campaign:
    """The campaign ``campaign_id`` names (known, or learned as ``kind``); the caller checks its kind.
    ``variations``: ``{message_variation_id: messaging object key}`` of the request (API campaigns)."""
    key = str(campaign_id)
    seen = ctx.workspace.campaigns
    wanted = dict(variations or {})
    if key not in seen:
        owner = next((c.id for c in seen.values() if key in c.messages), None)
        if owner is not None:
            ctx.call.hint = f"{key!r} is a message variation id of campaign {owner!r}, not a campaign id"
            raise BrazeFail(unknown, status)
    found = ctx.dashboards.campaigns.resolve(ctx.call, key, lambda: learned_campaign(key, kind, wanted, ctx.now),
                                             lambda: BrazeFail(unknown, status))
    if seen.provisioned(key):
        found = _grown(ctx, found, kind, wanted)
    return found


def _grown(ctx: Context, found: Campaign, kind: str | None, variations: Mapping[str, str]) -> Campaign:
    """A learned campaign learns more: its kind (when unsettled) and new variations of an API campaign."""
    raw = dict(found.raw)
    settled = found.settled
    if not settled and kind is not None:
        raw["type"], settled = kind, True
        ctx.call.note(f"learned that braze campaign {found.id!r} is of type {kind!r}")
        if kind == TRANSACTIONAL and not found.messages:
            raw["messages"] = learned_campaign(found.id, kind, {}, ctx.now).messages
    if raw["type"] == API:
        new = {v: {"channel": c} for v, c in variations.items() if v not in found.messages}
        if new:
            raw["messages"] = {**found.messages, **new}
            ctx.call.note(f"learned message variation(s) {', '.join(map(repr, new))} of braze campaign "
                          f"{found.id!r}")
    if raw == found.raw and settled == found.settled:
        return found
    return ctx.dashboards.campaigns.add(ctx.tenant, found.id, campaign_of(raw, settled=settled), provisioned=True)


def canvas(ctx: Context, canvas_id: Any) -> Canvas:
    key = str(canvas_id)
    return ctx.dashboards.canvases.resolve(ctx.call, key, lambda: canvas_of({**_stamp(key, ctx.now), "steps": []}),
                                           lambda: BrazeFail(errors.CANVAS_ID_INVALID))


def segment(ctx: Context, segment_id: Any) -> Mapping[str, Any]:
    key = str(segment_id)
    return ctx.dashboards.segments.resolve(
        ctx.call, key, lambda: {**_stamp(key, ctx.now), "analytics_tracking_enabled": False,
                                "members": dict(LEARNED_SEGMENT_MEMBERS)},
        lambda: BrazeFail(errors.SEGMENT_ID_INVALID))


def subscription_group(ctx: Context, group_id: Any, channel: str) -> Mapping[str, Any]:
    """A learned group is of the channel of the messaging object that named it (``sms``, ``whats_app``)."""
    key = str(group_id)
    return ctx.dashboards.subscription_groups.resolve(
        ctx.call, key, lambda: {"id": key, "name": LEARNED_NAME.format(id=key), "channel": channel},
        lambda: BrazeFail(errors.SUBSCRIPTION_GROUP_INVALID))

