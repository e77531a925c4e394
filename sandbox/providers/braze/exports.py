"""Workspace reads (spec §10): lists and details of campaigns, Canvases and segments from the workspace
fixture (the data series are in ``reports.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sandbox.core.operations import Call, Reply
from sandbox.providers.braze import context, errors, timeparse
from sandbox.providers.braze.context import Context
from sandbox.providers.braze.dashboards import marked
from sandbox.providers.braze.errors import BrazeFail
from sandbox.providers.braze.workspace import API, ARCHIVED, DRAFT, TRANSACTIONAL
from sandbox.records.deliveries import Delivery

PAGE_SIZE = 100
"""``page`` is 0-based, 100 rows per page [V-doc get_campaigns.md] (spec §10)."""
SERIES_CHANNEL = {"apple_push": "ios_push", "android_push": "android_push", "kindle_push": "kindle_push",
                  "web_push": "web_push", "email": "email", "sms": "sms", "webhook": "webhook",
                  "content_card": "content_cards", "whats_app": "whats_app"}
"""Messaging object -> the channel keys of details ``channels`` and data series ``messages``
[V-doc get_campaign_analytics.md]."""


def _page(call: Call, rows: list[Mapping[str, Any]], created: Callable[[Mapping[str, Any]], str]
          ) -> list[Mapping[str, Any]]:
    query = call.query
    since = query.get("last_edit.time[gt]")
    if since is not None:
        bound = timeparse.parse(since)
        if bound is None:
            raise BrazeFail(errors.bad_value(("last_edit.time[gt]",)))
        rows = [r for r in rows if _epoch(r.get("last_edited")) > timeparse.utc_epoch(bound)]
    rows = sorted(rows, key=created, reverse=query.get("sort_direction") == "desc")
    page = int(query.get("page", "0"))
    return rows[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]


def _epoch(value: Any) -> float:
    parsed = timeparse.parse(value)
    return timeparse.utc_epoch(parsed) if parsed is not None else 0.0


def _created(raw: Mapping[str, Any]) -> str:
    return str(raw.get("created_at") or raw.get("last_edited") or "")


def _visible(raws: Iterable[Mapping[str, Any]], call: Call) -> list[Mapping[str, Any]]:
    archived_too = call.query.get("include_archived") == "true"
    return [r for r in raws if archived_too or not _archived(r)]


def _archived(raw: Mapping[str, Any]) -> bool:
    return raw.get("state") == ARCHIVED or raw.get("archived") is True


async def campaigns_list(call: Call) -> Reply:
    ctx = context.of(call)
    rows = _page(call, _visible((c.raw for c in ctx.workspace.campaigns.values()), call), _created)
    return errors.success({"campaigns": [marked(
        {"id": r["id"], "last_edited": r.get("last_edited"), "name": r["name"],
         "is_api_campaign": r["type"] in (API, TRANSACTIONAL), "tags": r.get("tags", [])},
        ctx.workspace.campaigns, r["id"]) for r in rows]}, errors.OK)


async def canvas_list(call: Call) -> Reply:
    """Rows in the recorded key order ``id, name, tags, last_edited`` [V-rec] (spec §1)."""
    ctx = context.of(call)
    rows = _page(call, _visible((c.raw for c in ctx.workspace.canvases.values()), call), _created)
    return errors.success({"canvases": [marked(
        {"id": r["id"], "name": r["name"], "tags": r.get("tags", []), "last_edited": r.get("last_edited")},
        ctx.workspace.canvases, r["id"]) for r in rows]}, errors.OK)


async def segments_list(call: Call) -> Reply:
    ctx = context.of(call)
    rows = _page(call, [s for s in ctx.workspace.segments.values() if not _archived(s)], _created)
    return errors.success({"segments": [marked(
        {"id": r["id"], "name": r["name"], "analytics_tracking_enabled": r.get("analytics_tracking_enabled", False),
         "tags": r.get("tags", [])}, ctx.workspace.segments, r["id"]) for r in rows]}, errors.OK)


def _unknown(ctx: Context, collection: str, item_id: str, text: str) -> BrazeFail:
    """A read of an id this tenant has no record of: Braze's error in both modes (a read does not say what to
    learn), with the hint that would make it known."""
    dashboard = ctx.dashboards.by_name()[collection]
    ctx.call.hint = (f"{dashboard.vendor} has no {collection} {item_id!r}: declare it in --fixtures "
                     f"DIR/{dashboard.fixture_file}, or add it at run time with POST "
                     f"/_sandbox/vendors/{dashboard.vendor}/{collection}; reads never learn an id (without "
                     "--strict, the first send that uses it does)")
    return BrazeFail(text)


def deliveries_of(ctx: Context, campaign_id: str) -> list[Delivery]:
    """What this tenant's campaign (or Canvas) ``campaign_id`` delivered."""
    return ctx.call.services.deliveries.query({"vendor": "braze", "tenant": ctx.tenant, "campaign_id": campaign_id})


def _channels(messages: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return sorted({SERIES_CHANNEL[m["channel"]] for m in messages.values()})


def _messages_out(messages: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Workspace messages as details show them: ``{variation_id: {"channel": <details channel>, ...}}``."""
    return {vid: {"channel": SERIES_CHANNEL[m["channel"]], **{k: v for k, v in m.items() if k != "channel"}}
            for vid, m in messages.items()}


def _common(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {"created_at": raw.get("created_at"), "updated_at": raw.get("last_edited"), "name": raw["name"],
            "description": raw.get("description", ""), "archived": raw.get("state") == ARCHIVED,
            "draft": raw.get("state") == DRAFT, "enabled": raw.get("state", "active") == "active",
            "has_post_launch_draft": False}


async def campaigns_details(call: Call) -> Reply:
    ctx = context.of(call)
    campaign = ctx.workspace.campaigns.get(call.query.get("campaign_id", ""))
    if campaign is None:
        raise _unknown(ctx, "campaigns", call.query.get("campaign_id", ""), errors.CAMPAIGN_ID_INVALID)
    raw = campaign.raw
    times = sorted(d.time for d in deliveries_of(ctx, campaign.id))
    fields = _common(raw)
    fields.update({
        "schedule_type": raw.get("schedule_type", "api_triggered" if campaign.type != API else "api"),
        "channels": _channels(campaign.messages), "first_sent": times[0] if times else None,
        "last_sent": times[-1] if times else None, "tags": raw.get("tags", []), "teams": raw.get("teams", []),
        "messages": _messages_out(campaign.messages),
        "conversion_behaviors": raw.get("conversion_behaviors", [])})
    return errors.success(marked(fields, ctx.workspace.campaigns, campaign.id), errors.OK)


async def canvas_details(call: Call) -> Reply:
    ctx = context.of(call)
    canvas = ctx.workspace.canvases.get(call.query.get("canvas_id", ""))
    if canvas is None:
        raise _unknown(ctx, "canvases", call.query.get("canvas_id", ""), errors.CANVAS_ID_INVALID)
    raw = canvas.raw
    times = sorted(d.time for d in deliveries_of(ctx, canvas.id))
    messages = {vid: m for step in canvas.steps for vid, m in (step.get("messages") or {}).items()}
    first_steps = [canvas.steps[0]["id"]] if canvas.steps else []
    fields = _common(raw)
    fields.update({
        "schedule_type": raw.get("schedule_type", "api_triggered"),
        "first_entry": times[0] if times else None, "last_entry": times[-1] if times else None,
        "channels": _channels(messages),
        "variants": raw.get("variants", [{"name": "Variant 1", "id": f"{canvas.id}-variant-1",
                                          "first_step_ids": first_steps}]),
        "tags": raw.get("tags", []), "teams": raw.get("teams", []),
        "steps": [{"name": s["name"], "id": s["id"], "next_step_ids": s.get("next_step_ids", []),
                   "channels": _channels(s.get("messages") or {}),
                   "messages": _messages_out(s.get("messages") or {})} for s in canvas.steps]})
    return errors.success(marked(fields, ctx.workspace.canvases, canvas.id), errors.OK)


async def segments_details(call: Call) -> Reply:
    ctx = context.of(call)
    segment = ctx.workspace.segments.get(call.query.get("segment_id", ""))
    if segment is None:
        raise _unknown(ctx, "segments", call.query.get("segment_id", ""), errors.SEGMENT_ID_INVALID)
    return errors.success(marked({
        "created_at": segment.get("created_at"), "updated_at": segment.get("last_edited"), "name": segment["name"],
        "description": segment.get("description", ""), "text_description": segment.get("text_description", ""),
        "tags": segment.get("tags", []), "teams": segment.get("teams", [])}, ctx.workspace.segments, segment["id"]),
        errors.OK)
