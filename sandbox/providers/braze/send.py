"""Sending (spec §6, §8): /messages/send, trigger sends for campaigns and Canvases, transactional email,
/sends/id/create. ``*_dispatch`` validate a body and build what runs; schedules reuse them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.core.operations import Call, Reply
from sandbox.providers.braze import audience, context, errors, learn, messages, targeting
from sandbox.providers.braze.context import Context
from sandbox.providers.braze.dispatch import UNKNOWN_CONTENT, Dispatch
from sandbox.providers.braze.errors import BrazeFail
from sandbox.providers.braze.targeting import Recipient
from sandbox.providers.braze.workspace import (
    API,
    API_TRIGGERED,
    ARCHIVED,
    DRAFT,
    PAUSED,
    TRANSACTIONAL,
    Campaign,
    Canvas,
    Workspace,
)

TRANSACTIONAL_DEDUPE_SECONDS = 86_400
"""``external_send_id`` is a dedupe key kept 24 h [V-doc] §6.4."""
SEND_ID_MAX = 64


def _id(value: Any) -> str | None:
    """Numeric ids are accepted where strings are documented (spec §1 "Leniency seen live")."""
    return None if value is None else str(value)


def _check_audience(body: Mapping[str, Any]) -> None:
    if body.get("audience") is not None:
        audience.to_tree(body["audience"])


def messaging_dispatch(ctx: Context, body: Mapping[str, Any], operation: str, dispatch_id: str) -> Dispatch:
    recipients = targeting.messaging_recipients(body, ctx)
    _check_audience(body)
    objects = messages.check_messages(body, ctx)
    broadcast = body.get("broadcast") is True
    send_id = _id(body.get("send_id")) or (ctx.provider.state.ids.send_id(ctx.tenant) if broadcast else None)
    return Dispatch(ctx.tenant, operation, dispatch_id, objects, recipients, campaign_id=_id(body.get("campaign_id")),
                    send_id=send_id, broadcast=broadcast, segment_id=_id(body.get("segment_id")),
                    audience=body.get("audience"),
                    subscription_state=body.get("recipient_subscription_state", "subscribed"),
                    include_control_group=True,
                    extra={"override_frequency_capping": body.get("override_frequency_capping",
                                                                  body.get("override_messaging_limits", False))})


def triggered_campaign(ctx: Context, campaign_id: Any) -> Campaign:
    campaign = learn.campaign(ctx, campaign_id, API_TRIGGERED)
    if campaign.type != API_TRIGGERED:
        raise BrazeFail(errors.INVALID_CAMPAIGN_ID)
    return campaign


def known_canvas(ctx: Context, canvas_id: Any) -> Canvas:
    return learn.canvas(ctx, canvas_id)


def dashboard_messages(variations: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Dashboard content per channel: the first variation of each channel [INF: no A/B split]. Without any
    (a learned campaign or Canvas), one message of unknown channel and content."""
    out: dict[str, dict[str, Any]] = {}
    for variation_id, message in variations.items():
        content = {k: v for k, v in message.items() if k not in ("channel", "name")}
        out.setdefault(message["channel"], {**content, "message_variation_id": variation_id})
    return out or {UNKNOWN_CONTENT: {"message_variation_id": None}}


def campaign_dispatch(ctx: Context, body: Mapping[str, Any], operation: str, dispatch_id: str) -> Dispatch:
    campaign = triggered_campaign(ctx, body["campaign_id"])
    recipients = targeting.trigger_recipients(body, "trigger_properties")
    _check_audience(body)
    broadcast = body.get("broadcast") is True
    send_id = _id(body.get("send_id")) or (ctx.provider.state.ids.send_id(ctx.tenant) if broadcast else None)
    return Dispatch(ctx.tenant, operation, dispatch_id, dashboard_messages(campaign.messages), recipients,
                    campaign_id=campaign.id, send_id=send_id, broadcast=broadcast, segment_id=campaign.segment_id,
                    audience=body.get("audience"), properties=body.get("trigger_properties") or {},
                    include_control_group=False)


def canvas_dispatch(ctx: Context, body: Mapping[str, Any], operation: str, dispatch_id: str) -> Dispatch:
    canvas = known_canvas(ctx, body["canvas_id"])
    recipients = targeting.trigger_recipients(body, "context")
    _check_audience(body)
    properties = body.get("context") or body.get("canvas_entry_properties") or {}
    return Dispatch(ctx.tenant, operation, dispatch_id, dashboard_messages(canvas.entry_messages()), recipients,
                    canvas_id=canvas.id, broadcast=body.get("broadcast") is True, segment_id=canvas.segment_id,
                    audience=body.get("audience"), properties=properties, include_control_group=False)


def notice_for(workspace: Workspace, dispatch: Dispatch) -> str | None:
    """Paused/archived campaigns and Canvases accept the call, send nothing and say why (spec §6.2, §6.3)."""
    if dispatch.canvas_id is not None:
        canvas = workspace.canvases.get(dispatch.canvas_id)
        state = canvas.state if canvas is not None else None
        return {PAUSED: errors.CANVAS_PAUSED, DRAFT: errors.CANVAS_PAUSED, ARCHIVED: errors.CANVAS_ARCHIVED}.get(state)
    if dispatch.campaign_id is not None and dispatch.operation != "messages_send":
        campaign = workspace.campaigns.get(dispatch.campaign_id)
        state = campaign.state if campaign is not None else None
        return {PAUSED: errors.CAMPAIGN_PAUSED, DRAFT: errors.CAMPAIGN_PAUSED,
                ARCHIVED: errors.CAMPAIGN_ARCHIVED}.get(state)
    return None


def accepted(ctx: Context, dispatch: Dispatch, *, schedule_id: str | None = None) -> Reply:
    """Run (or, for schedules, only answer) and build the success body: notice, ids, then message."""
    found = notice_for(ctx.workspace, dispatch)
    fields: dict[str, Any] = {"notice": found} if found else {}
    fields["dispatch_id"] = dispatch.dispatch_id
    if schedule_id is not None:
        fields["schedule_id"] = schedule_id
    elif dispatch.broadcast and dispatch.send_id is not None:
        fields["send_id"] = dispatch.send_id
    return errors.success(fields)


async def messages_send(call: Call) -> Reply:
    ctx = context.of(call)
    dispatch = messaging_dispatch(ctx, call.body, "messages_send", ctx.provider.state.ids.dispatch_id(ctx.tenant))
    ctx.provider.run(dispatch, ctx.now)
    return accepted(ctx, dispatch)


async def _trigger(call: Call, build: Any, operation: str) -> Reply:
    ctx = context.of(call)
    dispatch = build(ctx, call.body, operation, ctx.provider.state.ids.dispatch_id(ctx.tenant))
    if notice_for(ctx.workspace, dispatch) is None:
        ctx.provider.run(dispatch, ctx.now)
    return accepted(ctx, dispatch)


async def campaigns_trigger_send(call: Call) -> Reply:
    return await _trigger(call, campaign_dispatch, "campaigns_trigger_send")


async def canvas_trigger_send(call: Call) -> Reply:
    return await _trigger(call, canvas_dispatch, "canvas_trigger_send")


async def transactional_send(call: Call) -> Reply:
    ctx = context.of(call)
    body = call.body
    campaign = learn.campaign(ctx, call.params["campaign_id"], TRANSACTIONAL, unknown=errors.CAMPAIGN_MISSING,
                              status=errors.TRANSACTIONAL_STATUS)
    if campaign.type != TRANSACTIONAL:
        raise BrazeFail(errors.NOT_TRANSACTIONAL, errors.TRANSACTIONAL_STATUS)
    if campaign.state in (ARCHIVED, PAUSED):
        text = errors.TRANSACTIONAL_ARCHIVED if campaign.state == ARCHIVED else errors.TRANSACTIONAL_PAUSED
        raise BrazeFail(text, errors.TRANSACTIONAL_STATUS)
    raw = body["recipient"]
    found = targeting.recipient({**raw, "send_to_existing_only": True}, ("recipient",), "trigger_properties",
                                ("external_user_id", "user_alias"))
    recipient = Recipient(found.kind, found.value, {}, raw.get("attributes"),
                          send_to_existing_only=not isinstance(raw.get("attributes"), dict))
    external = body.get("external_send_id")
    if external is not None:
        if not re.match(errors.EXTERNAL_SEND_ID_PATTERN, external):
            raise BrazeFail(errors.bad_value(("external_send_id",)), errors.TRANSACTIONAL_STATUS)
        seen = ctx.state.external_send_ids.get(external)
        if seen is not None and ctx.now - seen < TRANSACTIONAL_DEDUPE_SECONDS:
            raise BrazeFail(errors.EXTERNAL_SEND_ID_QUEUED, errors.TRANSACTIONAL_STATUS)
        ctx.state.external_send_ids[external] = ctx.now
    dispatch = Dispatch(ctx.tenant, "transactional_send", ctx.provider.state.ids.dispatch_id(ctx.tenant),
                        dashboard_messages(campaign.messages), [recipient], campaign_id=campaign.id,
                        properties=body.get("trigger_properties") or {}, subscription_state="all",
                        extra={"external_send_id": external})
    ctx.provider.run(dispatch, ctx.now)
    metadata = {"external_send_id": external} if external is not None else {}
    return errors.ok({"dispatch_id": dispatch.dispatch_id, "status": errors.TRANSACTIONAL_QUEUED,
                      "metadata": metadata}, errors.CREATED)


async def sends_id_create(call: Call) -> Reply:
    ctx = context.of(call)
    campaign = learn.campaign(ctx, call.body["campaign_id"], None)
    if campaign.type not in (API, API_TRIGGERED):
        raise BrazeFail(errors.CAMPAIGN_ID_INVALID)
    send_id = call.body.get("send_id")
    if send_id is None:
        send_id = ctx.provider.state.ids.send_id(ctx.tenant)
    elif not send_id or not send_id.isascii() or len(send_id) > SEND_ID_MAX:
        raise BrazeFail(errors.bad_value(("send_id",)))
    ctx.state.send_ids.setdefault((campaign.id, send_id), ctx.now)
    return errors.success({"send_id": send_id})
