"""Schedules (spec §7) on the sandbox clock: create -> advance clock -> deliveries; update replaces, delete
cancels; ``in_local_time`` per user time zone; the documented ``400 Bad Request`` cases."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from support.braze import CANVAS, IOS, SEGMENT_ALL, TRIGGERED, Braze, fail

PUSH = {"apple_push": {"alert": "later"}}


async def clock_now(bz: Braze) -> datetime:
    body = await bz.api.control("GET", "/clock")
    return datetime.fromisoformat(body["now"].replace("Z", "+00:00"))


def at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_schedule_runs_when_the_clock_reaches_it(bz: Braze) -> None:
    when = await clock_now(bz) + timedelta(hours=2)
    status, body, _ = await bz.post("/messages/schedule/create", {
        "external_user_ids": ["u1"], "messages": PUSH, "schedule": {"time": at(when)}})
    assert status == 201 and list(body) == ["dispatch_id", "schedule_id", "message"]
    assert re.fullmatch(r"[0-9a-f]{32}", body["dispatch_id"])
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", body["schedule_id"])
    await bz.advance(3600)
    assert await bz.deliveries() == []
    await bz.advance(3601)
    [delivery] = await bz.deliveries()
    assert (delivery["user"], delivery["extra"]["schedule_id"]) == ("u1", body["schedule_id"])
    assert delivery["extra"]["dispatch_id"] == body["dispatch_id"]
    await bz.advance(7200)
    assert len(await bz.deliveries()) == 1


async def test_update_replaces_the_time_and_messages_and_delete_cancels(bz: Braze) -> None:
    now = await clock_now(bz)
    _, first, _ = await bz.post("/messages/schedule/create", {
        "external_user_ids": ["u1"], "messages": PUSH, "schedule": {"time": at(now + timedelta(hours=1))}})
    _, second, _ = await bz.post("/messages/schedule/create", {
        "external_user_ids": ["u2"], "messages": PUSH, "schedule": {"time": at(now + timedelta(hours=1))}})
    status, body, _ = await bz.post("/messages/schedule/update", {
        "schedule_id": first["schedule_id"], "schedule": {"time": at(now + timedelta(hours=3))},
        "messages": {"apple_push": {"alert": "changed"}}})
    assert (status, body) == (201, {"message": "success"})
    status, body, _ = await bz.post("/messages/schedule/delete", {"schedule_id": second["schedule_id"]})
    assert (status, body) == (201, {"message": "success"})
    await bz.advance(2 * 3600)
    assert await bz.deliveries() == []
    await bz.advance(3600 + 1)
    assert [(d["user"], d["content"]["alert"]) for d in await bz.deliveries()] == [("u1", "changed")]


async def test_trigger_schedules_for_campaigns_and_canvases(bz: Braze) -> None:
    when = at(await clock_now(bz) + timedelta(minutes=30))
    status, campaign, _ = await bz.post("/campaigns/trigger/schedule/create", {
        "campaign_id": TRIGGERED, "recipients": [{"external_user_id": "a", "trigger_properties": {"first_name": "A"}}],
        "schedule": {"time": when}})
    assert status == 201 and list(campaign) == ["dispatch_id", "schedule_id", "message"]
    status, canvas, _ = await bz.post("/canvas/trigger/schedule/create", {
        "canvas_id": CANVAS, "recipients": [{"external_user_id": "b", "canvas_entry_properties": {"plan": "p"}}],
        "schedule": {"time": when}})
    assert status == 201
    status, body, _ = await bz.post("/canvas/trigger/schedule/update", {
        "canvas_id": CANVAS, "schedule_id": canvas["schedule_id"],
        "schedule": {"time": at(await clock_now(bz) + timedelta(hours=5))}})
    assert (status, body) == (201, {"message": "success"})
    await bz.advance(3600)
    assert {(d["user"], d["channel"]) for d in await bz.deliveries()} == {("a", "email"), ("a", "push")}
    status, body, _ = await bz.post("/canvas/trigger/schedule/delete", {"canvas_id": CANVAS,
                                                                        "schedule_id": canvas["schedule_id"]})
    assert (status, body) == (201, {"message": "success"})
    await bz.advance(6 * 3600)
    assert {d["user"] for d in await bz.deliveries()} == {"a"}


async def test_in_local_time_reaches_each_user_at_their_local_time(bz: Braze) -> None:
    await bz.track(attributes=[{"external_id": "tokyo", "time_zone": "Asia/Tokyo", **IOS},
                               {"external_id": "paris", "time_zone": "Europe/Paris", **IOS}])
    now = await clock_now(bz)
    wall = (now + timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0, tzinfo=None)
    status, _, _ = await bz.post("/messages/schedule/create", {
        "external_user_ids": ["tokyo", "paris"], "messages": PUSH,
        "schedule": {"time": wall.isoformat(), "in_local_time": True}})
    assert status == 201
    tokyo_noon = wall.replace(tzinfo=UTC) - timedelta(hours=9)
    await bz.api.control("POST", "/clock", json={"now": at(tokyo_noon + timedelta(minutes=1))})
    assert [d["user"] for d in await bz.deliveries()] == ["tokyo"]
    await bz.api.control("POST", "/clock", json={"now": at(wall.replace(tzinfo=UTC) + timedelta(hours=1))})
    assert sorted(d["user"] for d in await bz.deliveries()) == ["paris", "tokyo"]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("path", "payload", "expected"), [
    ("/messages/schedule/create", {"external_user_ids": ["u"], "messages": PUSH, "schedule": {"time": "soon"}},
     "Bad Request"),
    ("/messages/schedule/create", {"external_user_ids": ["u"], "messages": PUSH,
                                   "schedule": {"time": "2001-01-01T10:00:00", "in_local_time": True}},
     "Bad Request"),
    ("/messages/schedule/create", {"external_user_ids": ["u"], "messages": PUSH}, "schedule is missing"),
    ("/messages/schedule/create", {"external_user_ids": ["u"], "messages": PUSH, "schedule": {}},
     "schedule[time] is missing"),
    ("/messages/schedule/create", {"messages": PUSH, "schedule": {"time": "2030-01-01T00:00:00Z"}}, "No Recipients"),
    ("/campaigns/trigger/schedule/create", {"campaign_id": TRIGGERED, "schedule": {"time": "2030-01-01T00:00:00Z"}},
     "broadcast must be true if recipients are omitted"),
    ("/messages/schedule/update", {"schedule_id": "nope", "schedule": {"time": "2030-01-01T00:00:00Z"}},
     "schedule_id does not have a valid value"),
    ("/messages/schedule/delete", {}, "schedule_id is missing"),
    ("/campaigns/trigger/schedule/delete", {"campaign_id": TRIGGERED, "schedule_id": "nope"},
     "schedule_id does not have a valid value"),
    ("/canvas/trigger/schedule/update", {"canvas_id": CANVAS, "schedule_id": "x"}, "schedule is missing"),
])
async def test_schedule_errors(shared_bz: Braze, path: str, payload: dict, expected: str) -> None:
    status, body, _ = await shared_bz.post(path, payload)
    assert (status, body) == (400, fail(expected))


async def test_update_needs_schedule_or_messages_and_the_right_owner(bz: Braze) -> None:
    _, created, _ = await bz.post("/campaigns/trigger/schedule/create", {
        "campaign_id": TRIGGERED, "broadcast": True, "schedule": {"time": "2099-01-01T00:00:00Z"}})
    status, body, _ = await bz.post("/messages/schedule/update", {"schedule_id": created["schedule_id"]})
    assert (status, body) == (400, fail("schedule_id does not have a valid value"))
    status, body, _ = await bz.post("/campaigns/trigger/schedule/delete", {
        "campaign_id": "9a8b7c6d-0003-4e00-8000-000000000003", "schedule_id": created["schedule_id"]})
    assert (status, body) == (400, fail("schedule_id does not have a valid value"))
    _, created, _ = await bz.post("/messages/schedule/create", {
        "broadcast": True, "segment_id": SEGMENT_ALL, "messages": PUSH, "schedule": {"time": "2099-01-01T00:00:00Z"}})
    status, body, _ = await bz.post("/messages/schedule/update", {"schedule_id": created["schedule_id"]})
    assert (status, body) == (400, fail("schedule, messages are missing, at least one parameter must be provided"))


async def test_reset_drops_schedules(bz: Braze) -> None:
    await bz.post("/messages/schedule/create", {"external_user_ids": ["u1"], "messages": PUSH,
                                                "schedule": {"time": at(await clock_now(bz) + timedelta(hours=1))}})
    await bz.api.control("POST", "/reset")
    await bz.advance(7200)
    assert await bz.deliveries() == []


async def test_scheduled_broadcasts_lists_the_dashboard_schedules_up_to_end_time(bz: Braze) -> None:
    status, body, _ = await bz.get("/messages/scheduled_broadcasts", end_time="2030-01-05T00:00:00Z")
    assert (status, body) == (200, {"scheduled_broadcasts": [
        {"name": "Onboarding journey", "id": CANVAS, "type": "Canvas", "tags": ["onboarding"],
         "next_send_time": "2030-01-03T12:00:00+00:00", "schedule_type": "America/New_York"}], "message": "success"})
    _, body, _ = await bz.get("/messages/scheduled_broadcasts", end_time="2030-02-01T00:00:00Z")
    assert [row["type"] for row in body["scheduled_broadcasts"]] == ["Canvas", "Campaign"]
    status, body, _ = await bz.get("/messages/scheduled_broadcasts")
    assert (status, body) == (400, fail("end_time is missing"))
