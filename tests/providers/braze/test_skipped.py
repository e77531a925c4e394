"""Users Braze sends leave out, with the reason, at ``/_sandbox/deliveries/skipped``: subscription state,
subscription groups, no destination, the Global Control Group, recipients outside the segment, and the
members of a broadcast's segment the channel cannot reach."""

from __future__ import annotations

import pytest
from support.braze import (
    GCG_MEMBER,
    IOS,
    MESSAGE_OBJECTS,
    SEGMENT_ALL,
    SEGMENT_VIP,
    SMS_GROUP,
    TRIGGERED,
    Braze,
)
from support.skipped import population, reasons_by_user, skipped

PUSH_AND_EMAIL = {"apple_push": {"alert": "a"}, "email": MESSAGE_OBJECTS["email"]}


@pytest.mark.parametrize(("state", "wanted", "reason"), [
    ("unsubscribed", "subscribed", "unsubscribed"), ("subscribed", "opted_in", "not_opted_in"),
    ("unsubscribed", "opted_in", "unsubscribed")])
async def test_subscription_state_skips_on_every_channel(bz: Braze, state: str, wanted: str, reason: str) -> None:
    await bz.track(attributes=[{"external_id": "s1", "push_subscribe": state, "email_subscribe": state,
                                "email": "s1@example.com", **IOS}])
    await bz.post("/messages/send", {"external_user_ids": ["s1"], "recipient_subscription_state": wanted,
                                     "messages": PUSH_AND_EMAIL})
    found = await skipped(bz.api, vendor="braze")
    assert sorted((s["user"], s["channel"], s["platform"], s["reason"]) for s in found["skipped"]) == [
        ("s1", "email", None, reason), ("s1", "push", "ios", reason)]
    assert found["counts"] == {reason: 2}


async def test_no_destination_and_subscription_group(bz: Braze) -> None:
    await bz.track(attributes=[{"external_id": "no-phone"}, {"external_id": "user-3", "phone": "+15550003"},
                               {"external_id": "user-1", "phone": "+15550001"}])
    await bz.post("/messages/send", {"external_user_ids": ["no-phone", "user-3", "user-1"],
                                     "messages": {"apple_push": {"alert": "a"}, "sms": MESSAGE_OBJECTS["sms"]}})
    found = await skipped(bz.api, vendor="braze")
    assert sorted((s["user"], s["channel"], s["reason"], s["detail"]) for s in found["skipped"]) == [
        ("no-phone", "push", "no_channel", "no iOS push token"),
        ("no-phone", "sms", "no_channel", "no phone number"),
        ("user-1", "push", "no_channel", "no iOS push token"),
        ("user-3", "push", "no_channel", "no iOS push token"),
        ("user-3", "sms", "unsubscribed", f"not subscribed to subscription group {SMS_GROUP}")]
    assert [d["user"] for d in await bz.deliveries()] == ["user-1"]


async def test_a_user_reached_on_one_platform_is_not_skipped_on_the_channel(bz: Braze) -> None:
    await bz.track(attributes=[{"external_id": "ios-only", **IOS}])
    await bz.post("/messages/send", {"external_user_ids": ["ios-only"], "messages": {
        "apple_push": {"alert": "a"}, "android_push": {"alert": "a", "title": "t"}}})
    assert (await skipped(bz.api))["skipped"] == []
    assert [d["platform"] for d in await bz.deliveries()] == ["ios"]


async def test_global_control_group_of_dashboard_campaigns(bz: Braze) -> None:
    await bz.post("/campaigns/trigger/send", {"campaign_id": TRIGGERED, "recipients": [
        {"external_user_id": GCG_MEMBER}, {"external_user_id": "other"}]})
    found = await skipped(bz.api, reason="control_group")
    assert {s["user"] for s in found["skipped"]} == {GCG_MEMBER}
    assert all(s["campaign_id"] == TRIGGERED and s["known"] is False for s in found["skipped"])


async def test_recipients_outside_the_segment(bz: Braze) -> None:
    await bz.track(attributes=[{"external_id": "vip", "vip": True, **IOS}, {"external_id": "plain", **IOS}])
    await bz.post("/messages/send", {"external_user_ids": ["vip", "plain"], "segment_id": SEGMENT_VIP,
                                     "messages": {"apple_push": {"alert": "a"}}})
    found = await skipped(bz.api)
    assert reasons_by_user(found) == {"plain": "not_in_audience"}
    assert found["skipped"][0]["detail"] == f"not in segment {SEGMENT_VIP} the send is limited to"


async def test_broadcast_skips_the_segment_members_it_cannot_reach(bz: Braze) -> None:
    profiles = await population(bz.api, "test-key")
    status, _, _ = await bz.post("/messages/send", {"broadcast": True, "segment_id": SEGMENT_ALL,
                                                       "messages": {"apple_push": {"alert": "a"}}})
    assert status == 201
    found = await skipped(bz.api, vendor="braze")
    reached = {d["user"] for d in await bz.deliveries()}
    assert len(reached) + sum(found["counts"].values()) == len(profiles)
    assert set(found["counts"]) == {"unsubscribed", "no_channel"}
    assert not reached & set(reasons_by_user(found))
