"""POST /messages/send: the messaging-object table (spec §12), the targeting matrix (§13), the campaign and
variation checks (§0, §5.2) and what gets delivered."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.braze import (
    API_CAMPAIGN,
    GCG_MEMBER,
    IOS,
    IOS_TOKEN,
    MESSAGE_OBJECTS,
    SEGMENT_ALL,
    SMS_GROUP,
    TRIGGERED,
    VARIATION,
    WHATSAPP_GROUP,
    Braze,
    fail,
)


def send(messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"external_user_ids": ["user-1"], "messages": messages, **extra}


def with_(channel: str, **changes: Any) -> dict[str, Any]:
    obj = {**MESSAGE_OBJECTS[channel], **changes}
    return {channel: {k: v for k, v in obj.items() if v is not DROP}}


DROP = object()
IN_40_DAYS = (datetime.now(UTC) + timedelta(days=40)).isoformat()
IN_10_DAYS = (datetime.now(UTC) + timedelta(days=10)).isoformat()


@pytest.mark.parametrize("channel", list(MESSAGE_OBJECTS))
async def test_every_messaging_object_is_accepted(bz: Braze, channel: str) -> None:
    status, body, _ = await bz.post("/messages/send", send({channel: MESSAGE_OBJECTS[channel]}))
    assert status == 201 and list(body) == ["dispatch_id", "message"] and body["message"] == "success"


# Spec §12, one row per rule: (messages, expected message).
SECTION_12 = [
    # apple_push
    pytest.param(with_("apple_push", alert=DROP), "messages[apple_push][alert] is missing", id="apple-alert"),
    pytest.param(with_("apple_push", extra="x"), "Invalid Extra Push Payload", id="apple-extra-not-object"),
    pytest.param(with_("apple_push", extra={"aps": {}}), "Invalid Extra Push Payload", id="apple-extra-aps"),
    pytest.param(with_("apple_push", alert="a" * 1901), "Apple Push Length Exceeded", id="apple-1912-bytes"),
    pytest.param(with_("apple_push", interruption_level="loud"),
                 "messages[apple_push][interruption_level] does not have a valid value", id="apple-interruption"),
    pytest.param(with_("apple_push", relevance_score=2),
                 "messages[apple_push][relevance_score] does not have a valid value", id="apple-relevance"),
    pytest.param(with_("apple_push", asset_file_type="bmp"),
                 "messages[apple_push][asset_file_type] does not have a valid value", id="apple-asset-type"),
    pytest.param(with_("apple_push", apns_priority=11),
                 "messages[apple_push][apns_priority] does not have a valid value", id="apple-apns-priority"),
    pytest.param(with_("apple_push", buttons=[{}]), "messages[apple_push][buttons][0][action_id] is missing",
                 id="apple-button-action"),
    # android_push
    pytest.param(with_("android_push", title=DROP), "messages[android_push][title] is missing", id="android-title"),
    pytest.param(with_("android_push", alert=DROP), "messages[android_push][alert] is missing", id="android-alert"),
    pytest.param(with_("android_push", extra=[1]), "Invalid Extra Push Payload", id="android-extra"),
    pytest.param(with_("android_push", alert="a" * 3990, extra={"k": "v" * 20}), "Android Push Length Exceeded",
                 id="android-4000-bytes"),
    pytest.param(with_("android_push", send_to_sync=True), "messages[android_push][send_to_sync] does not have a "
                 "valid value", id="android-sync-with-alert"),
    pytest.param(with_("android_push", android_priority="urgent"),
                 "messages[android_push][android_priority] does not have a valid value", id="android-priority"),
    pytest.param(with_("android_push", time_to_live=2_419_201),
                 "messages[android_push][time_to_live] does not have a valid value", id="android-ttl"),
    pytest.param(with_("android_push", buttons=[{}]), "messages[android_push][buttons][0][text] is missing",
                 id="android-button-text"),
    # kindle_push, web_push
    pytest.param(with_("kindle_push", title=DROP), "messages[kindle_push][title] is missing", id="kindle-title"),
    pytest.param(with_("web_push", alert=DROP), "messages[web_push][alert] is missing", id="web-alert"),
    pytest.param(with_("web_push", buttons=[{"text": "t", "action": "JUMP"}]),
                 "messages[web_push][buttons][0][action] does not have a valid value", id="web-button-action"),
    # email
    pytest.param(with_("email", app_id=DROP), "messages[email][app_id] is missing", id="email-app-id"),
    pytest.param(with_("email", body=DROP), "messages[email][body] is missing", id="email-body"),
    pytest.param(with_("email", **{"from": "shop@example.com"}), "messages[email][from] is invalid",
                 id="email-from-format"),
    pytest.param(with_("email", **{"from": DROP}), "messages[email][from] is missing", id="email-from"),
    # sms
    pytest.param(with_("sms", subscription_group_id=DROP), "messages[sms][subscription_group_id] is missing",
                 id="sms-group"),
    pytest.param(with_("sms", body=DROP), "messages[sms][body] is missing", id="sms-body"),
    pytest.param(with_("sms", app_id=DROP), "messages[sms][app_id] is missing", id="sms-app-id"),
    pytest.param(with_("sms", subscription_group_id=WHATSAPP_GROUP), "Invalid subscription group ID",
                 id="sms-wrong-group"),
    # webhook
    pytest.param(with_("webhook", url=DROP), "messages[webhook][url] is missing", id="webhook-url"),
    pytest.param(with_("webhook", request_method="PATCH"),
                 "messages[webhook][request_method] does not have a valid value", id="webhook-method"),
    # content_card
    pytest.param(with_("content_card", type="POSTER"), "messages[content_card][type] does not have a valid value",
                 id="card-type"),
    pytest.param(with_("content_card", description=DROP), "messages[content_card][description] is missing",
                 id="card-description"),
    pytest.param(with_("content_card", time_to_live=DROP), "messages[content_card][time_to_live], "
                 "messages[content_card][expire_at] are missing, exactly one parameter must be provided",
                 id="card-no-expiry"),
    pytest.param(with_("content_card", expire_at=IN_10_DAYS), "messages[content_card][time_to_live], "
                 "messages[content_card][expire_at] are mutually exclusive", id="card-two-expiries"),
    pytest.param(with_("content_card", time_to_live=31 * 86400),
                 "messages[content_card][time_to_live] does not have a valid value", id="card-ttl-30-days"),
    pytest.param(with_("content_card", time_to_live=DROP, expire_at=IN_40_DAYS),
                 "messages[content_card][expire_at] does not have a valid value", id="card-expire-30-days"),
    pytest.param(with_("content_card", type="BANNER"), "messages[content_card][image_url] is missing",
                 id="card-banner-image"),
    # whats_app
    pytest.param(with_("whats_app", message_type="voice"),
                 "messages[whats_app][message_type] does not have a valid value", id="whatsapp-type"),
    pytest.param(with_("whats_app", message={"template_language_code": "en"}),
                 "messages[whats_app][message][template_name] is missing", id="whatsapp-template-name"),
    pytest.param(with_("whats_app", message={"template_name": "t"}),
                 "messages[whats_app][message][template_language_code] is missing", id="whatsapp-language"),
    pytest.param(with_("whats_app", message={"template_name": "t", "template_language_code": "en",
                                             "header_variables": ["a", "b"]}),
                 "messages[whats_app][message][header_variables] does not have a valid value", id="whatsapp-header"),
    pytest.param(with_("whats_app", message={"template_name": "t", "template_language_code": "en",
                                             "button_variables": ["a", "b"]}),
                 "messages[whats_app][message][button_variables] does not have a valid value", id="whatsapp-button"),
    pytest.param(with_("whats_app", message_type="list_response_message", message={"sections": []}),
                 "messages[whats_app][message][sections] is missing", id="whatsapp-list-sections"),
    pytest.param(with_("whats_app", message_type="list_response_message",
                       message={"sections": [{"rows": [{}] * 6}, {"rows": [{}] * 5}]}),
                 "messages[whats_app][message][sections] does not have a valid value", id="whatsapp-list-rows"),
    pytest.param(with_("whats_app", subscription_group_id=SMS_GROUP), "Invalid subscription group ID",
                 id="whatsapp-wrong-group"),
]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("messages", "expected"), SECTION_12)
async def test_messaging_object_rules(shared_bz: Braze, messages: dict, expected: str) -> None:
    status, body, headers = await shared_bz.post("/messages/send", send(messages))
    assert (status, body) == (400, fail(expected))
    assert headers["Cache-Control"] == "no-cache"
    assert await shared_bz.deliveries() == []


async def test_push_size_limits_are_inclusive(bz: Braze) -> None:
    apple = {"alert": "a" * (1912 - len('{"alert":""}'))}
    assert (await bz.post("/messages/send", send({"apple_push": apple})))[0] == 201
    android = {"alert": "a" * 4000, "title": "t"}
    assert (await bz.post("/messages/send", send({"android_push": android})))[0] == 201
    status, body, _ = await bz.post("/messages/send", send({"android_push": {**android, "extra": {"k": 1}}}))
    assert (status, body) == (400, fail("Android Push Length Exceeded"))


async def test_content_available_push_needs_no_alert_and_sync_push_no_title(bz: Braze) -> None:
    for messages in ({"apple_push": {"content-available": True}}, {"android_push": {"send_to_sync": True}},
                     {"email": {**MESSAGE_OBJECTS["email"], "body": None, "email_template_id": "tpl"}}):
        messages = {k: {kk: vv for kk, vv in v.items() if vv is not None} for k, v in messages.items()}
        assert (await bz.post("/messages/send", send(messages)))[0] == 201, messages


# Spec §13 + §5.2 targeting rows: (body, expected message).
AUDIENCE = {"custom_attribute": {"custom_attribute_name": "vip", "comparison": "equals", "value": True}}
PUSH = {"apple_push": {"alert": "hi"}}
SECTION_13 = [
    pytest.param({"messages": PUSH}, "No Recipients", id="no-recipients"),
    pytest.param({"messages": PUSH, "external_user_ids": []}, "No Recipients", id="empty-ids"),
    pytest.param({"messages": PUSH, "segment_id": SEGMENT_ALL}, "broadcast must be true if recipients are omitted",
                 id="segment-without-broadcast"),
    pytest.param({"messages": PUSH, "audience": AUDIENCE}, "broadcast must be true if recipients are omitted",
                 id="audience-without-broadcast"),
    pytest.param({"messages": PUSH, "broadcast": True, "external_user_ids": ["a"], "segment_id": SEGMENT_ALL},
                 "cannot specify recipients when broadcast is true", id="broadcast-with-ids"),
    pytest.param({"messages": PUSH, "external_user_ids": [str(n) for n in range(51)]},
                 "The max number of external_ids and aliases per request was exceeded", id="51-ids"),
    pytest.param({"messages": PUSH, "external_user_ids": [str(n) for n in range(30)],
                  "user_aliases": [{"alias_name": str(n), "alias_label": "l"} for n in range(21)]},
                 "The max number of external_ids and aliases per request was exceeded", id="51-ids-and-aliases"),
    pytest.param({"external_user_ids": ["a"]}, "No message to send", id="no-messages"),
    pytest.param({"external_user_ids": ["a"], "messages": {}}, "No message to send", id="empty-messages"),
    pytest.param({"external_user_ids": ["a"], "messages": {"windows_phone8_push": {}}}, "No message to send",
                 id="only-unknown-messages"),
    pytest.param({"messages": PUSH, "external_user_ids": ["a"], "send_id": "s1"}, "send_id requires campaign_id",
                 id="send-id-without-campaign"),
    pytest.param({"messages": PUSH, "broadcast": True, "audience": {"custom_attribute": {
        "custom_attribute_name": "plan", "comparison": "is_about"}}},
        "audience[custom_attribute][comparison] does not have a valid value", id="audience-comparison"),
    pytest.param({"messages": PUSH, "broadcast": True, "audience": {"AND": []}}, "audience[AND] is invalid",
                 id="audience-empty-and"),
    pytest.param({"messages": PUSH, "external_user_ids": "a"}, "external_user_ids is invalid", id="ids-not-array"),
    pytest.param({"messages": PUSH, "external_user_ids": ["a"], "recipient_subscription_state": "maybe"},
                 "recipient_subscription_state does not have a valid value", id="subscription-state"),
    pytest.param({"messages": PUSH, "user_aliases": [{"alias_name": "a"}]}, "user_aliases[0][alias_label] is missing",
                 id="alias-label"),
]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("payload", "expected"), SECTION_13)
async def test_targeting_rules(shared_bz: Braze, payload: dict, expected: str) -> None:
    status, body, _ = await shared_bz.post("/messages/send", payload)
    assert (status, body) == (400, fail(expected))


# Campaign + message variation (seed 001, spec §0, §5.2).
CAMPAIGN_ROWS = [
    pytest.param({"campaign_id": TRIGGERED, "messages": PUSH}, "Invalid Campaign ID", id="not-an-api-campaign"),
    pytest.param({"campaign_id": API_CAMPAIGN, "messages": PUSH}, "Message Variant Unspecified", id="no-variation"),
    pytest.param({"campaign_id": API_CAMPAIGN, "messages": {"apple_push": {"alert": "a",
                  "message_variation_id": "other"}}}, "Invalid Message Variant", id="foreign-variation"),
    pytest.param({"campaign_id": API_CAMPAIGN, "messages": {"apple_push": {
        "alert": "a", "message_variation_id": VARIATION["android_push"]}}}, "Mismatched Message Type",
        id="variation-of-another-channel"),
    pytest.param({"campaign_id": API_CAMPAIGN, "messages": {
        "apple_push": {"alert": "a", "message_variation_id": VARIATION["apple_push"]},
        "email": MESSAGE_OBJECTS["email"]}}, "Message Variant Unspecified", id="one-object-without-variation"),
]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("payload", "expected"), CAMPAIGN_ROWS)
async def test_campaign_and_variation_checks(shared_bz: Braze, payload: dict, expected: str) -> None:
    status, body, _ = await shared_bz.post("/messages/send", {"external_user_ids": ["user-1"], **payload})
    assert (status, body) == (400, fail(expected))


async def test_api_campaign_send_with_a_variation_per_channel_records_deliveries(bz: Braze) -> None:
    messages = {channel: {**MESSAGE_OBJECTS[channel], "message_variation_id": VARIATION[channel]}
                for channel in ("apple_push", "android_push", "email")}
    status, body, _ = await bz.post("/messages/send", {
        "campaign_id": API_CAMPAIGN, "external_user_ids": [12345, "user-2"], "messages": messages,
        "user_aliases": [{"alias_name": "anon-7", "alias_label": "device"}]})
    assert status == 201
    found = await bz.deliveries(campaign_id=API_CAMPAIGN)
    assert sorted((d["user"], d["channel"], d["platform"]) for d in found) == sorted(
        (user, channel, platform) for user in ("12345", "user-2", "device:anon-7")
        for channel, platform in (("push", "ios"), ("push", "android"), ("email", None)))
    assert {d["extra"]["dispatch_id"] for d in found} == {body["dispatch_id"]}
    assert {d["extra"]["message_variation_id"] for d in found} == {VARIATION[c] for c in messages}
    assert {d["known"] for d in found} == {False}


async def test_numeric_ids_are_accepted(bz: Braze) -> None:
    status, body, _ = await bz.post("/messages/send", {"external_user_ids": [12345], "messages": PUSH})
    assert status == 201 and re.fullmatch(r"[0-9a-f]{32}", body["dispatch_id"])
    assert (await bz.deliveries())[0]["user"] == "12345"


async def test_duplicate_recipients_get_one_message(bz: Braze) -> None:
    await bz.track(attributes=[{"external_id": "dup", "first_name": "D", **IOS}])
    await bz.post("/users/alias/new", {"user_aliases": [{"external_id": "dup", "alias_name": "d", "alias_label": "l"}]})
    await bz.post("/messages/send", {"external_user_ids": ["dup", "dup"], "messages": PUSH,
                                     "user_aliases": [{"alias_name": "d", "alias_label": "l"}]})
    assert [(d["user"], d["device"]) for d in await bz.deliveries()] == [("dup", IOS_TOKEN)]


async def test_api_campaigns_reach_global_control_group_members(bz: Braze) -> None:
    """Seed 001 (EN): API campaigns are transactional, every user is eligible, GCG members included."""
    await bz.post("/messages/send", {"campaign_id": API_CAMPAIGN, "external_user_ids": [GCG_MEMBER],
                                     "messages": {"apple_push": {"alert": "a",
                                                                 "message_variation_id": VARIATION["apple_push"]}}})
    assert [d["user"] for d in await bz.deliveries()] == [GCG_MEMBER]


@pytest.mark.parametrize(("state", "wanted", "delivered"), [
    ("unsubscribed", "subscribed", False), ("subscribed", "subscribed", True), ("opted_in", "opted_in", True),
    ("subscribed", "opted_in", False), ("unsubscribed", "all", True)])
async def test_recipient_subscription_state(bz: Braze, state: str, wanted: str, delivered: bool) -> None:
    await bz.track(attributes=[{"external_id": "s1", "push_subscribe": state, "email_subscribe": state,
                                "email": "s1@example.com", **IOS}])
    status, _, _ = await bz.post("/messages/send", {"external_user_ids": ["s1"], "recipient_subscription_state": wanted,
                                                    "messages": {"apple_push": {"alert": "a"},
                                                                 "email": MESSAGE_OBJECTS["email"]}})
    assert status == 201
    assert len(await bz.deliveries()) == (2 if delivered else 0)


async def test_sms_reaches_only_members_of_the_subscription_group(bz: Braze) -> None:
    await bz.track(attributes=[{"external_id": "user-1", "phone": "+15550001"}, {"external_id": "user-3",
                                                                                "phone": "+15550003"}, {
        "external_id": "user-4", "phone": "+15550004", "subscription_groups": [{"subscription_group_id": SMS_GROUP,
                                                          "subscription_state": "subscribed"}]}])
    await bz.post("/messages/send", {"external_user_ids": ["user-1", "user-3", "user-4"],
                                     "messages": {"sms": MESSAGE_OBJECTS["sms"]}})
    assert sorted(d["user"] for d in await bz.deliveries(channel="sms")) == ["user-1", "user-4"]


async def test_content_is_rendered_with_profile_attributes(bz: Braze) -> None:
    await bz.track(attributes=[{"external_id": "ann", "first_name": "Ann", "plan": "gold", **IOS}])
    await bz.post("/messages/send", {"external_user_ids": ["ann", "bob"], "messages": {"apple_push": {
        "alert": "Hi {{${first_name} | default: 'there'}} on {{custom_attribute.${plan}}}"}}})
    assert {d["user"]: d["content"]["alert"] for d in await bz.deliveries()} == {
        "ann": "Hi Ann on gold", "bob": "Hi there on "}


async def test_broadcast_answers_a_send_id(bz: Braze) -> None:
    status, body, _ = await bz.post("/messages/send", {"broadcast": True, "segment_id": SEGMENT_ALL, "messages": PUSH})
    assert status == 201 and list(body) == ["dispatch_id", "send_id", "message"]
    push = {"apple_push": {"alert": "a", "message_variation_id": VARIATION["apple_push"]}}
    status, body, _ = await bz.post("/messages/send", {"broadcast": True, "segment_id": SEGMENT_ALL, "messages": push,
                                                       "campaign_id": API_CAMPAIGN, "send_id": "my-send"})
    assert (status, body["send_id"]) == (201, "my-send")
