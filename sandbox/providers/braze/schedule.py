"""Scheduling (spec §7): API schedules kept per tenant and run on the sandbox clock (``on_clock``).

``time`` is UTC; with ``in_local_time``/``at_optimal_time`` it is a wall time reached zone by zone, each
user receiving it at that time in their ``time_zone`` (default: the workspace's). ``at_optimal_time`` is
treated like ``in_local_time`` [INF: Braze picks a per-user hour]. Update replaces, delete cancels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.core.operations import Call, Reply
from sandbox.providers.braze import context, errors, send, timeparse
from sandbox.providers.braze.context import Context
from sandbox.providers.braze.dispatch import Dispatch, Reached
from sandbox.providers.braze.errors import BrazeFail
from sandbox.providers.braze.state import Schedule

if TYPE_CHECKING:
    from sandbox.providers.braze import Braze

FIRST_ZONE = timedelta(hours=14)
"""UTC+14: the first time zone to reach a wall time."""
LAST_ZONE = timedelta(hours=12)
"""UTC-12: the last one."""
BUILDERS: dict[str, Callable[[Context, Mapping[str, Any], str, str], Dispatch]] = {
    "messages": send.messaging_dispatch, "campaign": send.campaign_dispatch, "canvas": send.canvas_dispatch}
TARGETS = {"messages": None, "campaign": "campaign_id", "canvas": "canvas_id"}


def parse_schedule(ctx: Context, schedule: Mapping[str, Any]) -> tuple[float, bool, str]:
    """(first run epoch, local?, wall time); ``400 Bad Request`` for an unparseable or passed local time."""
    when = timeparse.parse(schedule["time"])
    if when is None:
        raise BrazeFail(errors.BAD_REQUEST)
    local = schedule.get("in_local_time") is True or schedule.get("at_optimal_time") is True
    if not local:
        return timeparse.utc_epoch(when), False, ""
    wall = when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when
    if schedule.get("in_local_time") is True and wall.replace(tzinfo=ctx.workspace.time_zone).timestamp() < ctx.now:
        raise BrazeFail(errors.BAD_REQUEST)
    return wall.replace(tzinfo=UTC).timestamp() - FIRST_ZONE.total_seconds(), True, wall.isoformat()


def _create(call: Call, kind: str) -> Reply:
    ctx = context.of(call)
    ids = ctx.provider.state.ids
    tenant = ctx.tenant
    timing = parse_schedule(ctx, call.body["schedule"])
    dispatch = BUILDERS[kind](ctx, call.body, call.operation.name, ids.dispatch_id(tenant))
    schedule_id = ids.schedule_id(tenant)
    dispatch.schedule_id = schedule_id
    target = TARGETS[kind]
    ctx.state.schedules[schedule_id] = Schedule(
        schedule_id, dispatch.dispatch_id, kind, None if target is None else str(call.body[target]),
        dict(call.body), dispatch, *timing)
    reply = send.accepted(ctx, dispatch, schedule_id=schedule_id)
    run_due(ctx.provider, ctx.tenant)
    return reply


def _find(ctx: Context, kind: str) -> Schedule:
    schedule = ctx.state.schedules.get(str(ctx.body["schedule_id"]))
    target = TARGETS[kind]
    if schedule is None or schedule.kind != kind or (target and schedule.target != str(ctx.body[target])):
        raise BrazeFail(errors.bad_value(("schedule_id",)))
    return schedule


def _update(call: Call, kind: str) -> Reply:
    ctx = context.of(call)
    schedule = _find(ctx, kind)
    body = ctx.body
    if "schedule" not in body and "messages" not in body:
        raise BrazeFail("schedule, messages are missing, at least one parameter must be provided")
    if schedule.local and schedule.done:
        return errors.success()  # the local-time send already started: not applied (spec §7)
    if "messages" in body:
        merged = {**schedule.body, "messages": body["messages"]}
        dispatch = BUILDERS[kind](ctx, merged, schedule.dispatch.operation, schedule.dispatch_id)
        dispatch.schedule_id = schedule.id
        schedule.body, schedule.dispatch = merged, dispatch
    if "schedule" in body:
        schedule.time, schedule.local, schedule.wall = parse_schedule(ctx, body["schedule"])
        schedule.body["schedule"] = body["schedule"]
    run_due(ctx.provider, ctx.tenant)
    return errors.success()


def _delete(call: Call, kind: str) -> Reply:
    ctx = context.of(call)
    schedule = _find(ctx, kind)
    del ctx.state.schedules[schedule.id]
    return errors.success()


async def messages_schedule_create(call: Call) -> Reply:
    return _create(call, "messages")


async def messages_schedule_update(call: Call) -> Reply:
    return _update(call, "messages")


async def messages_schedule_delete(call: Call) -> Reply:
    return _delete(call, "messages")


async def campaigns_trigger_schedule_create(call: Call) -> Reply:
    return _create(call, "campaign")


async def campaigns_trigger_schedule_update(call: Call) -> Reply:
    return _update(call, "campaign")


async def campaigns_trigger_schedule_delete(call: Call) -> Reply:
    return _delete(call, "campaign")


async def canvas_trigger_schedule_create(call: Call) -> Reply:
    return _create(call, "canvas")


async def canvas_trigger_schedule_update(call: Call) -> Reply:
    return _update(call, "canvas")


async def canvas_trigger_schedule_delete(call: Call) -> Reply:
    return _delete(call, "canvas")


def run_due(provider: Braze, tenant: str | None) -> None:
    """Run every schedule of ``tenant`` (every tenant when None) whose time came on that tenant's clock;
    local-time ones user by user as each zone reaches it."""
    for name, state in provider.state.tenants.select(tenant):
        now = provider.services.clock.time(name or None)
        for schedule in sorted(state.schedules.values(), key=lambda s: s.time):
            if schedule.time > now:
                continue
            ctx_notice = send.notice_for(provider.workspace_for(name), schedule.dispatch)
            if ctx_notice is None:
                due = _local_due(provider, schedule, now) if schedule.local else None
                reached = provider.run(schedule.dispatch, now, due=due)
                schedule.done.update(t.key for t in reached)
            finished = not schedule.local or now >= datetime.fromisoformat(schedule.wall).replace(
                tzinfo=UTC).timestamp() + LAST_ZONE.total_seconds()
            if finished:
                state.schedules.pop(schedule.id, None)


def _local_due(provider: Braze, schedule: Schedule, now: float) -> Callable[[Reached], bool]:
    wall = datetime.fromisoformat(schedule.wall)
    default = provider.workspace.time_zone

    def due(target: Reached) -> bool:
        if target.key in schedule.done:
            return False
        return wall.replace(tzinfo=_zone((target.profile or {}).get("time_zone"), default)).timestamp() <= now

    return due


def _zone(name: Any, default: tzinfo) -> tzinfo:
    if not isinstance(name, str):
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


async def messages_scheduled_broadcasts(call: Call) -> Reply:
    """Dashboard-scheduled campaigns and Canvases up to ``end_time`` (treated as midnight UTC), spec §7."""
    ctx = context.of(call)
    end = timeparse.parse(call.query["end_time"])
    if end is None:
        raise BrazeFail(errors.bad_value(("end_time",)))
    limit = datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp()
    rows = []
    for item in ctx.workspace.scheduled_broadcasts:
        when = timeparse.parse(item["next_send_time"])
        if when is not None and ctx.now <= timeparse.utc_epoch(when) <= limit:
            rows.append({"name": item["name"], "id": item["id"], "type": item["type"], "tags": item.get("tags", []),
                         "next_send_time": item["next_send_time"],
                         "schedule_type": item.get("schedule_type", "local_time_zones")})
    rows.sort(key=lambda r: timeparse.utc_epoch(timeparse.parse(r["next_send_time"])))  # type: ignore[arg-type]
    return errors.success({"scheduled_broadcasts": rows}, errors.OK)
