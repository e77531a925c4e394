"""Braze analytics from the deliveries and their lifecycle (spec §10): ``/campaigns/data_series``,
``/sends/data_series`` and ``/canvas/data_series``.

Each day of the series counts what happened that day (UTC): sends on the send day, opens, clicks,
bounces... on the day the lifecycle step happened, so a window covering the whole run adds up to the
funnel ``/_sandbox/deliveries`` shows. Stat names per channel follow the documented responses [V-doc
get_campaign_analytics.md, get_canvas_analytics.md]; revenue is always 0 (the sandbox has no purchases).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.core.operations import Call, Reply
from sandbox.providers.braze import context, errors, timeparse
from sandbox.providers.braze.errors import BrazeFail
from sandbox.providers.braze.exports import SERIES_CHANNEL, _unknown, deliveries_of
from sandbox.records.deliveries import Delivery

PUSH_STATS = {"sent": ("sent",), "direct_opens": ("clicked",), "total_opens": ("clicked",),
              "bounces": ("failed",), "body_clicks": ("clicked",)}
STATS: dict[str, dict[str, tuple[str, ...]]] = {
    "ios_push": PUSH_STATS, "android_push": PUSH_STATS, "kindle_push": PUSH_STATS, "web_push": PUSH_STATS,
    "email": {"sent": ("sent",), "opens": ("opened",), "unique_opens": ("opened",), "clicks": ("clicked",),
              "unique_clicks": ("clicked",), "unsubscribes": ("unsubscribed",), "bounces": ("bounced",),
              "delivered": ("delivered",), "reported_spam": ("spam",)},
    "sms": {"sent": ("sent",), "sent_to_carrier": ("sent",), "delivered": ("delivered",), "rejected": (),
            "delivery_failed": ("failed",), "clicks": ("clicked",), "opt_out": ("unsubscribed",), "help": ()},
    "whats_app": {"sent": ("sent",), "delivered": ("delivered",), "read": ("viewed",), "failed": ("failed",)},
    "content_cards": {"sent": ("sent",), "total_impressions": ("viewed",), "unique_impressions": ("viewed",),
                      "total_clicks": ("clicked",), "unique_clicks": ("clicked",), "total_dismissals": (),
                      "unique_dismissals": ()},
    "webhook": {"sent": ("sent",), "errors": ()},
}
"""Stat -> lifecycle statuses it counts; () = always 0 here. Push opens are the lifecycle's clicks (Braze's
"direct opens" are taps on the notification); whats_app/webhook stat names are [INF]."""
CANVAS_MAX_DAYS = 14
"""``length`` must be between 1 and 14 [V-doc get_canvas_analytics.md]."""


def _end(call: Call, now: float, name: str = "ending_at") -> datetime:
    raw = call.query.get(name)
    end = timeparse.parse(raw) if raw is not None else datetime.fromtimestamp(now, UTC)
    if end is None:
        raise BrazeFail(errors.bad_value((name,)))
    return datetime.fromtimestamp(timeparse.utc_epoch(end), UTC)


def days_back(last: datetime, length: int, name: str = "ending_at") -> list[str]:
    try:
        return [(last.date() - timedelta(days=n)).isoformat() for n in range(length - 1, -1, -1)]
    except OverflowError:
        raise BrazeFail(errors.bad_value((name,))) from None


def steps_by_day(call: Call, deliveries: Iterable[Delivery]) -> dict[str, list[tuple[Delivery, str]]]:
    """Day (YYYY-MM-DD) -> (delivery, status) of every lifecycle step the clock has passed."""
    engagement = call.services.engagement
    out: dict[str, list[tuple[Delivery, str]]] = {}
    for delivery in deliveries:
        for status, at in engagement.history(delivery):
            out.setdefault(datetime.fromtimestamp(at, UTC).date().isoformat(), []).append((delivery, status))
    return out


def channel_stats(channel: str, steps: list[tuple[Delivery, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, status in steps:
        counts[status] = counts.get(status, 0) + 1
    return {stat: sum(counts.get(s, 0) for s in statuses) for stat, statuses in STATS[channel].items()}


def _conversions(steps: list[tuple[Delivery, str]]) -> int:
    return sum(1 for _, status in steps if status == "converted")


def _recipients(steps: list[tuple[Delivery, str]]) -> int:
    return len({d.user for d, status in steps if status == "sent"})


def messages_of(steps: list[tuple[Delivery, str]], variations: Mapping[str, Mapping[str, Any]]
                ) -> dict[str, list[dict[str, Any]]]:
    messages: dict[str, list[dict[str, Any]]] = {}
    for vid, message in variations.items():
        channel = SERIES_CHANNEL[message["channel"]]
        mine = [(d, s) for d, s in steps if d.extra.get("message_variation_id") == vid]
        messages.setdefault(channel, []).append(
            {"variation_name": message.get("name", vid), "variation_api_id": vid, **channel_stats(channel, mine),
             "revenue": 0, "unique_recipients": _recipients(mine), "conversions": _conversions(mine),
             "conversions_by_send_time": _conversions(mine)})
    return messages


def series(call: Call, days: list[str], deliveries: list[Delivery], variations: Mapping[str, Mapping[str, Any]]
           ) -> list[dict[str, Any]]:
    by_day = steps_by_day(call, deliveries)
    data = []
    for day in days:
        steps = by_day.get(day, [])
        data.append({"time": day, "messages": messages_of(steps, variations), "conversions": _conversions(steps),
                     "conversions_by_send_time": _conversions(steps), "unique_recipients": _recipients(steps),
                     "revenue": 0.0})
    return data


async def campaigns_data_series(call: Call) -> Reply:
    ctx = context.of(call)
    campaign = ctx.workspace.campaigns.get(call.query.get("campaign_id", ""))
    if campaign is None:
        raise _unknown(ctx, "campaigns", call.query.get("campaign_id", ""), errors.CAMPAIGN_ID_INVALID)
    days = days_back(_end(call, ctx.now), int(call.query["length"]))
    return errors.success({"data": series(call, days, deliveries_of(ctx, campaign.id), campaign.messages)}, errors.OK)


async def sends_data_series(call: Call) -> Reply:
    ctx = context.of(call)
    campaign = ctx.workspace.campaigns.get(call.query.get("campaign_id", ""))
    if campaign is None:
        raise _unknown(ctx, "campaigns", call.query.get("campaign_id", ""), errors.CAMPAIGN_ID_INVALID)
    send_id = call.query["send_id"]
    deliveries = [d for d in deliveries_of(ctx, campaign.id) if d.extra.get("send_id") == send_id]
    days = days_back(_end(call, ctx.now), int(call.query["length"]))
    return errors.success({"data": series(call, days, deliveries, campaign.messages)}, errors.OK)


async def canvas_data_series(call: Call) -> Reply:
    """``{"data": {"name", "stats": [{"time", "total_stats", "variant_stats"?, "step_stats"?}]}}``."""
    ctx = context.of(call)
    canvas = ctx.workspace.canvases.get(call.query.get("canvas_id", ""))
    if canvas is None:
        raise _unknown(ctx, "canvases", call.query.get("canvas_id", ""), errors.CANVAS_ID_INVALID)
    end = _end(call, ctx.now)
    if "length" in call.query:
        length = int(call.query["length"])
    else:
        start = _end(call, ctx.now, "starting_at")
        length = (end.date() - start.date()).days + 1
        if not 1 <= length <= CANVAS_MAX_DAYS:
            raise BrazeFail(errors.bad_value(("starting_at",)))
    by_day = steps_by_day(call, deliveries_of(ctx, canvas.id))
    variants = canvas.raw.get("variants") or [{"name": "Variant 1", "id": f"{canvas.id}-variant-1"}]
    stats = []
    for day in days_back(end, length):
        steps = by_day.get(day, [])
        totals = {"revenue": 0.0, "conversions": _conversions(steps),
                  "conversions_by_entry_time": _conversions(steps), "entries": _recipients(steps)}
        row: dict[str, Any] = {"time": day, "total_stats": totals}
        if call.query.get("include_variant_breakdown") == "true":
            first = variants[0]
            row["variant_stats"] = {first["id"]: {"name": first["name"], **totals}}
        if call.query.get("include_step_breakdown") == "true":
            row["step_stats"] = {
                step["id"]: {"name": step["name"], "revenue": 0.0, "conversions": _conversions(mine),
                             "conversions_by_entry_time": _conversions(mine), "unique_recipients": _recipients(mine),
                             "messages": messages_of(mine, step.get("messages") or {})}
                for step in canvas.steps
                for mine in [[(d, s) for d, s in steps
                              if d.extra.get("message_variation_id") in (step.get("messages") or {})]]}
        stats.append(row)
    return errors.success({"data": {"name": canvas.name, "stats": stats}}, errors.OK)
